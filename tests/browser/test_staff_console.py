"""The staff console in a real browser (Chromium, desktop-sized, offline): what the care desk and the brand's
operators do with it. Screenshots go to build/screenshots/console-*.png."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, _offline, screenshot

DEMO_PHONE = "13800138000"


@pytest.fixture
def desk(browser, stack):
    """A desktop page signed in with the staff token `make dev` prints; every API answer it receives is kept."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.route("**/*", _offline)
    context.add_init_script(f"localStorage.setItem('siyu.console.token', {stack.exported('STAFF_TOKEN')!r});")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.answers = []
    page.on("response", lambda r: page.answers.append(r) if r.url.endswith("/graphql") else None)
    yield page
    context.close()


def field(page, name: str):
    """The text box of an Element Plus input, whether the data-test landed on the box itself or on its wrapper."""
    return page.locator(f"input[data-test={name}], textarea[data-test={name}], [data-test={name}] input, "
                        f"[data-test={name}] textarea").first


def confirm(page) -> None:
    page.locator(".el-message-box__btns .el-button--primary").click()


def api(stack, query: str, token: str) -> dict:
    request = urllib.request.Request(f"{stack.base}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def put_event(stack, event: dict, tmp_path) -> dict:
    """`siyu events put` against the stack's own DynamoDB: the event runs through the engine as delivered."""
    endpoint, table = re.search(r"DynamoDB \(embedded moto\) at (\S+), table (\S+)", stack.output).groups()
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"TABLE_NAME": table}
    done = subprocess.run([sys.executable, "-m", "infra.cli", "--dynamodb-url", endpoint, "events", "put", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def open_member_by_phone(page, stack, number: str) -> None:
    page.goto(f"{stack.base}/console/#/members")
    field(page, "search-value").fill(number)
    page.locator("[data-test=search]").click()
    expect(page.locator("[data-test=member-card]")).to_be_visible()


def test_staff_sign_in_with_the_token_make_dev_prints(browser, stack):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.route("**/*", _offline)
    page = context.new_page()
    page.goto(f"{stack.base}/console/")
    expect(page.get_by_text("员工登录")).to_be_visible()
    field(page, "token").fill(stack.exported("MEMBER_TOKEN"))
    page.locator("[data-test=sign-in]").click()
    expect(page.get_by_text("此令牌没有后台权限")).to_be_visible()  # a member's token is not a staff token
    field(page, "token").fill(stack.exported("STAFF_TOKEN"))
    screenshot(page, "console-01-sign-in")
    page.locator("[data-test=sign-in]").click()
    expect(field(page, "search-value")).to_be_visible()
    context.close()


def test_the_care_desk_finds_a_member_by_phone_and_reads_why_an_entry_happened(desk, stack):
    checked_in = api(stack, "mutation { checkIn { __typename } }", stack.exported("MEMBER_TOKEN"))
    assert "errors" not in checked_in
    open_member_by_phone(desk, stack, DEMO_PHONE)
    expect(desk.locator("[data-test=phone]")).to_have_text("138****8000")
    expect(desk.locator("[data-test=tier]")).to_have_text("金卡")
    row = desk.locator("[data-test=ledger] .el-table__row", has_text="points").first
    expect(row.locator("[data-test=why]")).to_contain_text("points")
    row.locator(".el-table__expand-icon").click()
    inputs = desk.locator("[data-test=inputs]").first
    expect(inputs).to_contain_text("插件 points")
    expect(inputs).to_contain_text("规则")
    screenshot(desk, "console-02-member-why")
    # Neither the page nor any API answer it received holds the number itself.
    assert DEMO_PHONE not in desk.content()
    assert desk.answers and all(DEMO_PHONE not in r.text() for r in desk.answers)


def test_staff_adjust_points_with_a_reason_and_a_confirmation_and_the_audit_log_shows_it(desk, stack):
    open_member_by_phone(desk, stack, DEMO_PHONE)
    balance = desk.locator("[data-test=balance]")
    before = int(balance.inner_text())
    desk.locator("[data-test=adjust]").click()
    field(desk, "adjust-points").fill("50")
    field(desk, "adjust-reason").fill("门店补录小票 #A1024")
    desk.locator("[data-test=adjust-submit]").click()
    expect(desk.locator(".el-message-box")).to_contain_text("增加 50 积分")
    desk.wait_for_timeout(500)  # the box's fade-in, for a legible screenshot (not a condition of the test)
    screenshot(desk, "console-03-adjust-confirm")
    confirm(desk)
    expect(balance).to_have_text(str(before + 50))
    desk.locator("[data-test=nav-audit]").click()
    expect(desk.locator("[data-test=audit] .el-table__row").first).to_contain_text("adjustPoints")
    expect(desk.locator("[data-test=audit] .el-table__row").first).to_contain_text('"points":50')
    # The reason is free text and audit records outlive erasure: it stays on the ledger entry, not in the audit.
    expect(desk.locator("[data-test=audit] .el-table__row").first).not_to_contain_text("门店补录小票")
    screenshot(desk, "console-04-audit")


def test_a_plugin_parameter_is_changed_after_a_dry_run_shows_both_sides(desk, stack):
    member_id = re.search(r"signs in 138\*\*\*\*8000, id (\S+?)\)", stack.output).group(1)
    desk.goto(f"{stack.base}/console/#/rules")
    desk.locator("[data-test=plugin-select]").click()
    desk.locator(".el-select-dropdown__item", has_text=re.compile(r"^points（已启用）")).click()
    save = desk.locator("[data-test=save]")
    expect(save).to_be_disabled()
    # A bad value is named on its field, from the API's own validation.
    multipliers = desk.locator("[data-test=param-tierMultipliers] textarea")
    multipliers.fill('{"JIN": -1}')
    field(desk, "dry-run-member").fill(member_id)
    desk.locator("[data-test=dry-run-go]").click()
    expect(desk.locator("[data-test=param-tierMultipliers] .el-form-item__error")).to_be_visible()
    multipliers.fill("{}")
    rate = desk.locator("[data-test=param-pointsPerYuan] input")
    rate.fill("2")
    rate.press("Tab")
    desk.locator("[data-test=dry-run-go]").click()
    before = desk.locator("[data-test=dry-run-before]")
    after = desk.locator("[data-test=dry-run-after]")
    expect(before.locator(".el-table__row", has_text="AwardPoints")).to_contain_text("100")
    expect(after.locator(".el-table__row", has_text="AwardPoints")).to_contain_text("200")
    screenshot(desk, "console-05-dry-run")
    expect(save).to_be_enabled()
    save.click()
    expect(desk.locator(".el-message-box")).to_contain_text("pointsPerYuan：1 → 2")
    confirm(desk)
    expect(desk.locator(".el-message--success")).to_contain_text("已保存")
    plugins = api(stack, "{ plugins { name params } }", stack.exported("STAFF_TOKEN"))["data"]["plugins"]
    assert next(p for p in plugins if p["name"] == "points")["params"]["pointsPerYuan"] == 2


def test_an_open_alert_shows_its_countdown_and_is_acknowledged(desk, stack, tmp_path):
    summary = put_event(stack, {"detail-type": "feedback.received", "detail": {
        "brandId": "baiguoyuan", "feedbackId": "console-f1", "channel": "dianping", "kind": "complaint",
        "topic": "service"}}, tmp_path)
    assert summary["status"] == "applied", summary
    desk.goto(f"{stack.base}/console/#/alerts")
    row = desk.locator("[data-test=alerts] .el-table__row", has_text="service-dispute").first
    expect(row.locator("[data-test=level]")).to_have_text("黄色")
    expect(row.locator("[data-test=countdown]")).to_contain_text(re.compile(r"剩余 1 小时 \d\d 分"))
    screenshot(desk, "console-06-alerts")
    row.locator("[data-test=acknowledge]").click()
    confirm(desk)
    expect(desk.locator(".el-message--success")).to_contain_text("已认领")
    desk.locator(".el-radio-button", has_text="已认领").click()
    expect(desk.locator("[data-test=alerts] .el-table__row", has_text="service-dispute").first
           .locator("[data-test=alert-status]")).to_have_text("已认领")


def test_a_small_file_with_one_bad_row_is_previewed_then_imported(desk, stack, tmp_path):
    upload = tmp_path / "youzan-export.csv"
    upload.write_text("external_id,phone,nickname,tier,tier_valid_until,growth,lots\n"
                      "YZ-001,13700001001,老顾客,银卡,2099-12-31,800,300@2099-06-30;120@2099-12-31\n"
                      "YZ-002,1370000,手机号错了,,,,\n"
                      "YZ-003,13700001003,,JIN,,2500,1000@2099-12-31\n", encoding="utf-8")
    desk.goto(f"{stack.base}/console/#/import")
    desk.locator("[data-test=upload] input[type=file]").set_input_files(str(upload))
    statuses = desk.locator("[data-test=preview] [data-test=row-status]")
    expect(statuses).to_have_text(["可导入", "有错误", "可导入"])
    expect(desk.locator("[data-test=row-problems]").nth(1)).to_contain_text("手机号无效")
    screenshot(desk, "console-07-import-preview")
    desk.locator("[data-test=start-import]").click()
    confirm(desk)
    expect(desk.locator("[data-test=import-summary]")).to_contain_text("导入 2 位会员（1420 积分）")
    expect(desk.locator("[data-test=rejected] .el-table__row")).to_have_count(1)
    screenshot(desk, "console-08-import-done")
    open_member_by_phone(desk, stack, "13700001001")
    expect(desk.locator("[data-test=balance]")).to_have_text("420")
    expect(desk.locator("[data-test=tier]")).to_have_text("银卡")
