"""The staff console in a real browser (Chromium, desktop-sized, offline): what the care desk and the brand's
operators do with it. Screenshots go to build/screenshots/console-*.png."""

from __future__ import annotations

import json
import os
import random
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
    context, page = console(browser, stack, stack.exported("STAFF_TOKEN"))
    page.answers = []
    page.on("response", lambda r: page.answers.append(r) if r.url.endswith("/graphql") else None)
    yield page
    context.close()


def field(page, name: str):
    """The text box of an Element Plus input, whether the data-test landed on the box itself or on its wrapper."""
    return page.locator(f"input[data-test={name}], textarea[data-test={name}], [data-test={name}] input, "
                        f"[data-test={name}] textarea").first


def box(page):
    """The message box on top (the one before it may still be fading out)."""
    return page.locator(".el-message-box").last


def confirm(page) -> None:
    box(page).locator(".el-message-box__btns .el-button--primary").click()


def api(stack, query: str, token: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"{stack.base}/graphql",
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def siyu(stack, *args: str, python: bool = False) -> subprocess.CompletedProcess:
    """The operator's command line (`siyu ...`), or with `python` a Python script, against the stack's own DynamoDB
    (set up as `siyu` sets itself up for the local stack)."""
    endpoint, table = re.search(r"DynamoDB \(embedded moto\) at (\S+), table (\S+)", stack.output).groups()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "TABLE_NAME": table, "SIYU_STAGE": "local", "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}
    command = list(args) if python else ["-m", "infra.cli", "--dynamodb-url", endpoint, *args]
    return subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def put_event(stack, event: dict, tmp_path, *, expect_ok: bool = True) -> dict:
    """`siyu events put` against the stack's own DynamoDB: the event runs through the engine as delivered."""
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    done = siyu(stack, "events", "put", str(path))
    assert (done.returncode == 0) == expect_ok, done.stdout + done.stderr
    return json.loads(done.stdout)


def staff_token(stack, brand_id: str, staff: str) -> str:
    done = siyu(stack, "token", "staff", "--brand", brand_id, "--staff", staff)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def new_number() -> str:
    return f"1390{random.randrange(10**7):07d}"


IMPORT = """mutation($file: String!, $name: String!) { importMembers(file: $file, fileName: $name) {
  __typename ... on ImportBatch { imported rejected } } }"""
FIND = """query($phone: String, $id: ID) { findMember(phone: $phone, id: $id) {
  id nickname phoneMasked tags points { balance } } }"""


def new_member(stack, token: str, *, nickname: str, birthday: str = "", lots: str = "") -> tuple[str, str]:
    """A member brought over from an old system (the console's own import path): (member id, phone number)."""
    number = new_number()
    file = f"external_id,phone,nickname,birthday,lots\nold-{number},{number},{nickname},{birthday},{lots}\n"
    imported = api(stack, IMPORT, token, {"file": file, "name": "care-desk.csv"})["data"]["importMembers"]
    assert imported["imported"] == 1, imported
    return api(stack, FIND, token, {"phone": number})["data"]["findMember"]["id"], number


def console(browser, stack, token: str):
    """A desktop page of the console signed in with `token` (another brand's staff, say)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.route("**/*", _offline)
    context.add_init_script(f"localStorage.setItem('siyu.console.token', {token!r});")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def prompt(page, text: str) -> None:
    """Answer an Element Plus prompt box (the reason a staff action asks for) and go on."""
    box(page).locator(".el-message-box__input input").fill(text)
    confirm(page)


def latest_audit(page):
    """The newest record of the audit log page (ids in it are redacted: they are personal data's keys)."""
    return page.locator("[data-test=audit] .el-table__row").first


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


def test_staff_reverse_a_ledger_entry_with_a_reason_and_the_entry_cannot_be_reversed_twice(desk, stack, tmp_path):
    staff = stack.exported("STAFF_TOKEN")
    member_id, number = new_member(stack, staff, nickname="冲正测试")
    order = put_event(stack, {"detail-type": "order.paid", "detail": {
        "brandId": "baiguoyuan", "memberId": member_id, "orderId": f"pos-{number}", "amountFen": 8800,
        "channel": "pos"}}, tmp_path)
    assert order["status"] == "applied", order
    # What the order earned depends on the brand's rate (another test changes it): read it, then take it back.
    earned_points = api(stack, FIND, staff, {"id": member_id})["data"]["findMember"]["points"]["balance"]
    assert earned_points > 0
    open_member_by_phone(desk, stack, number)
    balance = desk.locator("[data-test=balance]")
    expect(balance).to_have_text(str(earned_points))
    earned = desk.locator("[data-test=ledger] .el-table__row", has_text="获得").first
    earned.locator("[data-test=reverse]").click()
    expect(box(desk)).to_contain_text(f"冲正这笔 {earned_points} 积分的记录")
    prompt(desk, "顾客整单退货 #R-2031")
    expect(box(desk)).to_contain_text(f"将新增一笔 -{earned_points} 积分的冲正记录")
    screenshot(desk, "console-09-reverse-confirm")
    confirm(desk)
    expect(desk.locator(".el-message--success", has_text="已冲正")).to_be_visible()
    expect(balance).to_have_text("0")
    reversal = desk.locator("[data-test=ledger] .el-table__row", has_text="冲正").first
    expect(reversal).to_contain_text(f"-{earned_points}")
    expect(reversal).to_contain_text("顾客整单退货 #R-2031")
    # The original is marked reversed: the page no longer offers to reverse it again.
    expect(desk.locator("[data-test=ledger] .el-table__row", has_text="获得").first
           .locator("[data-test=reversed]")).to_have_text("已冲正")
    screenshot(desk, "console-10-reversed")
    assert api(stack, FIND, staff, {"id": member_id})["data"]["findMember"]["points"]["balance"] == 0
    desk.locator("[data-test=nav-audit]").click()
    expect(latest_audit(desk)).to_contain_text("reversePointsEntry")
    expect(latest_audit(desk)).to_contain_text("成功")
    expect(latest_audit(desk)).not_to_contain_text("R-2031")


def test_staff_set_a_members_tags_with_a_reason(desk, stack):
    staff = stack.exported("STAFF_TOKEN")
    member_id, number = new_member(stack, staff, nickname="标签测试")
    open_member_by_phone(desk, stack, number)
    expect(desk.locator("[data-test=member-card]")).to_contain_text("标签无")
    desk.locator("[data-test=tags]").click()
    tags = desk.locator("[data-test=tags-select]")
    for tag in ("高价值", "社群团长"):
        tags.click()
        desk.keyboard.type(tag)
        desk.keyboard.press("Enter")
    field(desk, "tags-reason").fill("门店店长申请 #S-88")
    desk.locator("[data-test=tags-submit]").click()
    expect(box(desk)).to_contain_text("标签改为：高价值、社群团长；原因：门店店长申请 #S-88")
    confirm(desk)
    expect(desk.locator(".el-message--success", has_text="标签已更新")).to_be_visible()
    expect(desk.locator("[data-test=member-tag]")).to_have_text(sorted(["高价值", "社群团长"]))  # kept sorted
    screenshot(desk, "console-11-tags")
    assert api(stack, FIND, staff, {"id": member_id})["data"]["findMember"]["tags"] == sorted(["高价值", "社群团长"])
    desk.locator("[data-test=nav-audit]").click()
    expect(latest_audit(desk)).to_contain_text("setMemberTags")
    expect(latest_audit(desk)).to_contain_text("成功")


def test_staff_erase_a_member_on_request_and_the_personal_data_is_gone(desk, stack):
    staff = stack.exported("STAFF_TOKEN")
    member_id, number = new_member(stack, staff, nickname="要求删除的会员", birthday="1991-07-15",
                                   lots="500@2099-12-31")
    open_member_by_phone(desk, stack, number)
    expect(desk.locator("[data-test=member-card]")).to_contain_text("要求删除的会员")
    desk.locator("[data-test=erase]").click()
    expect(box(desk)).to_contain_text("会员本人要求删除个人信息")
    prompt(desk, "客服热线来电申请 #PIPL-0412")
    expect(box(desk)).to_contain_text("无法恢复")
    screenshot(desk, "console-12-erase-confirm")
    confirm(desk)
    expect(desk.locator(".el-message--success", has_text="已删除会员个人信息")).to_be_visible()
    gone = desk.locator("[data-test=erased]")
    expect(gone).to_contain_text("会员个人信息已删除")
    expect(gone).to_contain_text(member_id)
    expect(desk.locator("[data-test=member-card]")).to_have_count(0)
    assert "要求删除的会员" not in desk.content() and f"{number[:3]}****{number[-4:]}" not in desk.content()
    screenshot(desk, "console-13-erased")
    # The number is free again: neither the console's search nor the API finds the member by it.
    desk.goto(f"{stack.base}/console/#/members")
    field(desk, "search-value").fill(number)
    desk.locator("[data-test=search]").click()
    expect(desk.get_by_text("没有找到这位会员")).to_be_visible()
    assert api(stack, FIND, staff, {"phone": number})["data"]["findMember"] is None
    assert api(stack, FIND, staff, {"id": member_id})["data"]["findMember"] is None
    desk.locator("[data-test=nav-audit]").click()
    erased = latest_audit(desk)
    expect(erased).to_contain_text("eraseMember")
    expect(erased).to_contain_text("成功")
    expect(erased).not_to_contain_text("PIPL-0412")  # the reason is free text, and audit records outlive erasure


BROKEN = "console-broken"


def test_a_failed_event_is_resent_after_its_cause_is_fixed_and_applies_once(browser, stack, tmp_path):
    # A brand that enabled a plugin this deployment does not have: its events fail, naming the plugin. (configureBrand
    # refuses such a plugin, so the brand is written as an older deployment would have left it.)
    configured = siyu(stack, "-c", "from infra import runtime\n"
                                 "from rules.brands import BrandConfig\n"
                                 "store = runtime.store()\n"
                                 "demo = store.get_brand('baiguoyuan', fresh=True)\n"
                                 f"store.put_brand(BrandConfig({BROKEN!r}, '配置有误的品牌', demo.tiers, "
                                 "plugins={**demo.plugins, 'points': {**demo.plugins['points'], "
                                 "'pointsPerYuan': 1}, 'gone_plugin': {}}))\n", python=True)
    assert configured.returncode == 0, configured.stderr
    staff = staff_token(stack, BROKEN, "ops-lead")
    member_id, _ = new_member(stack, staff, nickname="重发测试")
    failed = put_event(stack, {"detail-type": "order.paid", "detail": {
        "brandId": BROKEN, "memberId": member_id, "orderId": "pos-resend-1", "amountFen": 12000,
        "channel": "pos"}}, tmp_path, expect_ok=False)
    assert failed["status"] == "failed" and "gone_plugin" in json.dumps(failed, ensure_ascii=False), failed

    context, page = console(browser, stack, staff)
    try:
        page.goto(f"{stack.base}/console/#/alerts")
        problem = page.locator("[data-test=problems] .el-table__row", has_text=failed["eventId"])
        expect(problem.locator("[data-test=problem-status]")).to_have_text("失败")
        expect(problem).to_contain_text("gone_plugin")
        screenshot(page, "console-14-failed-event")

        # The cause, fixed the console's way: the unavailable plugin is switched off after a dry run.
        page.locator("[data-test=nav-rules]").click()
        page.locator("[data-test=plugin-select]").click()
        page.locator(".el-select-dropdown__item", has_text="gone_plugin").click()
        page.locator("[data-test=plugin-enabled]").click()
        field(page, "dry-run-member").fill(member_id)
        amount = field(page, "dry-run-amount")
        amount.fill("120")  # the failed order's amount, in yuan
        amount.press("Tab")
        page.locator("[data-test=dry-run-go]").click()
        expect(page.locator("[data-test=dry-run-before] [data-test=dry-run-status]")).to_contain_text("失败")
        expect(page.locator("[data-test=dry-run-after] [data-test=dry-run-status]")).to_have_text("试算成功")
        expect(page.locator("[data-test=dry-run-after] .el-table__row", has_text="AwardPoints")).to_contain_text("120")
        screenshot(page, "console-15-fix-dry-run")
        # The same, on the real event itself: the failed order, picked from the brand's recent events.
        page.locator("[data-test=dry-run-type]").click()
        page.locator(".el-select-dropdown__item", has_text="最近的真实事件").click()
        expect(page.locator("[data-test=dry-run-recent]")).to_contain_text(failed["eventId"])
        page.locator("[data-test=dry-run-go]").click()
        expect(page.locator("[data-test=dry-run-before] [data-test=dry-run-status]")).to_contain_text("失败")
        expect(page.locator("[data-test=dry-run-after] [data-test=dry-run-status]")).to_have_text("试算成功")
        expect(page.locator("[data-test=dry-run-after] .el-table__row", has_text="AwardPoints")).to_contain_text("120")
        screenshot(page, "console-15b-dry-run-recent-event")
        page.locator("[data-test=save]").click()
        expect(box(page)).to_contain_text("启用：是 → 否")
        confirm(page)
        expect(page.locator(".el-message--success", has_text="已保存")).to_be_visible()

        page.locator("[data-test=nav-alerts]").click()
        problem = page.locator("[data-test=problems] .el-table__row", has_text=failed["eventId"])
        problem.locator("[data-test=resend]").click()
        expect(box(page)).to_contain_text("已处理过的事件不会重复生效")
        confirm(page)
        expect(page.locator(".el-message--success", has_text="已重新处理")).to_be_visible()
        expect(problem.locator("[data-test=resent]")).to_have_text("已重发，已生效")
        screenshot(page, "console-16-resent")
        # Resending again (a second click, a colleague's, a redelivery meanwhile) applies nothing more.
        problem.locator("[data-test=resend]").click()
        confirm(page)
        expect(page.locator(".el-message--success", has_text="该事件已处理过，未重复生效")).to_be_visible()
        expect(problem.locator("[data-test=resent]")).to_have_text("已重发，此前已生效")
        assert api(stack, FIND, staff, {"id": member_id})["data"]["findMember"]["points"]["balance"] == 120
        page.goto(f"{stack.base}/console/#/members/{member_id}")
        expect(page.locator("[data-test=balance]")).to_have_text("120")
        expect(page.locator("[data-test=ledger] .el-table__row", has_text="获得")).to_have_count(1)

        page.locator("[data-test=nav-audit]").click()
        # This brand's every staff action, once each, newest first: the two resends, the fix and its two dry runs
        # (each now and as proposed: a sample order, then the real failed event), the member brought over.
        expect(page.locator("[data-test=audit] .el-table__row td:nth-child(3)")).to_have_text(
            ["resendEvent", "resendEvent", "configureBrand"] + ["simulateEvent"] * 4 + ["importMembers"])
        expect(latest_audit(page)).to_contain_text("成功")
        screenshot(page, "console-17-audit-resend")
    finally:
        context.close()
