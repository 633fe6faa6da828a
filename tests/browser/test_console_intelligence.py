"""The console's member intelligence pages in a real browser: the lifecycle funnel, the value layers and RFM grid,
a segment's members, and the KPI charts, for a brand whose history is known (tests/browser/intelligence_seed.py:
two prospects, one new member, three active, two sleeping, each through the engine as delivered). What the pages
show is checked against the seed and against what the API answers. Screenshots: build/screenshots/console-2*.png."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, _offline, screenshot
from tests.browser.test_staff_console import DEMO_PHONE, api, open_member_by_phone, siyu, staff_token

STAGE_COUNTS = {"PROSPECT": 2, "NEW": 1, "ACTIVE": 3, "SLEEPING": 2, "DORMANT": 0, "LOST": 0}
RFM_COUNTS = {"RFM_IMPORTANT_VALUE": 2, "RFM_GENERAL_VALUE": 1, "RFM_GENERAL_DEVELOP": 1, "RFM_IMPORTANT_RETAIN": 1,
              "RFM_GENERAL_RETAIN": 1, "RFM_IMPORTANT_KEEP": 0, "RFM_IMPORTANT_DEVELOP": 0, "RFM_GENERAL_KEEP": 0}
VALUE_COUNTS = {"VALUE_HIGH": 1, "VALUE_MEDIUM": 1, "VALUE_LOW": 4}
SEGMENTS = "{ segments { code name count } }"
INSIGHTS = """query($from: Date!, $to: Date!) { insights(from: $from, to: $to) {
  date newMembers orders gmvFen netGmvFen firstOrders repurchasedWithin30Days repurchasedWithin90Days
  pointsIssued pointsRedeemed pointsExpired } }"""
DESKTOP = {"width": 1440, "height": 900}
NARROW = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def seeded(stack):
    brand = f"insight{uuid.uuid4().hex[:8]}"
    done = siyu(stack, "-m", "tests.browser.intelligence_seed", brand, python=True)
    assert done.returncode == 0, done.stdout + done.stderr
    seeded = json.loads(done.stdout.strip().splitlines()[-1])
    seeded["token"] = staff_token(stack, brand, "growth-lead")
    return seeded


def open_console(browser, stack, token: str, viewport: dict = DESKTOP):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.route("**/*", _offline)
    context.add_init_script(f"localStorage.setItem('siyu.console.token', {token!r});")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.fixture
def desk(browser, stack, seeded):
    context, page = open_console(browser, stack, seeded["token"])
    yield page
    context.close()


def counts(stack, seeded) -> dict[str, int]:
    return {s["code"]: s["count"] for s in api(stack, SEGMENTS, seeded["token"])["data"]["segments"]}


def listed_members(page) -> list[str]:
    rows = page.locator("[data-test=segment-members] [data-test=segment-member]")
    expect(rows.first).to_be_visible()
    return rows.all_inner_texts()


def test_the_funnel_shows_each_stages_members_and_a_stage_lists_exactly_them(desk, stack, seeded):
    shown_by_api = counts(stack, seeded)
    assert {stage: shown_by_api[f"STAGE_{stage}"] for stage in STAGE_COUNTS} == STAGE_COUNTS
    desk.goto(f"{stack.base}/console/#/lifecycle")
    for stage, expected in STAGE_COUNTS.items():
        expect(desk.locator(f"[data-test=stage-{stage}] [data-test=stage-count]")).to_have_text(str(expected))
    expect(desk.locator("[data-test=stage-ACTIVE] [data-test=stage-name]")).to_have_text("活跃")
    expect(desk.locator("[data-test=stage-total]")).to_have_text("8")
    screenshot(desk, "console-20-lifecycle-funnel")

    desk.locator("[data-test=stage-SLEEPING]").click()
    expect(desk.locator("[data-test=segment-title]")).to_contain_text("沉睡")
    sleeping = sorted([seeded["members"]["sleeping-big"], seeded["members"]["sleeping-small"]])
    assert listed_members(desk) == sleeping  # the segment's index is in member id order
    expect(desk.locator("[data-test=segment-members] [data-test=segment-stage]")).to_have_text(["沉睡", "沉睡"])
    screenshot(desk, "console-21-segment-members")

    # A row opens the member, whose page shows the stage and the segments the member is in.
    desk.locator("[data-test=segment-member]", has_text=seeded["members"]["sleeping-big"]).click()
    expect(desk.locator("[data-test=stage]")).to_have_text("沉睡")
    expect(desk.locator("[data-test=member-segment]")).to_have_text(["重要挽留客户", "低价值"])


def test_the_rfm_grid_counts_each_group_and_a_cell_lists_exactly_its_members(desk, stack, seeded):
    shown_by_api = counts(stack, seeded)
    assert {code: shown_by_api[code] for code in RFM_COUNTS} == RFM_COUNTS
    assert {code: shown_by_api[code] for code in VALUE_COUNTS} == VALUE_COUNTS
    desk.goto(f"{stack.base}/console/#/value")
    for code, expected in {**RFM_COUNTS, **VALUE_COUNTS}.items():
        expect(desk.locator(f"[data-test=segment-{code}] [data-test=segment-count]")).to_have_text(str(expected))
    expect(desk.locator("[data-test=segment-RFM_IMPORTANT_VALUE] [data-test=segment-name]")).to_have_text("重要价值客户")
    screenshot(desk, "console-22-value-layers-rfm")

    desk.locator("[data-test=segment-RFM_IMPORTANT_VALUE]").click()
    expect(desk.locator("[data-test=segment-total]")).to_have_text("共 2 位会员")
    important = sorted([seeded["members"]["active-high"], seeded["members"]["active-medium"]])
    assert listed_members(desk) == important
    desk.locator("[data-test=segment-member]", has_text=seeded["members"]["active-high"]).click()
    expect(desk.locator("[data-test=stage]")).to_have_text("活跃")
    expect(desk.locator("[data-test=member-segment]")).to_have_text(["重要价值客户", "高价值"])
    screenshot(desk, "console-23-member-stage-segments")


def settled_insights(stack, seeded, start: str, end: str) -> list[dict]:
    """The brand's days once the stream has counted the whole seed (it is read off the event path, each second)."""
    deadline = time.monotonic() + 60
    while True:
        days = api(stack, INSIGHTS, seeded["token"], {"from": start, "to": end})["data"]["insights"]
        if sum(d["orders"] for d in days) == 9 and sum(d["newMembers"] for d in days) == 8 or \
                time.monotonic() > deadline:
            return days
        time.sleep(1)


def chart_series(page, chart: str) -> dict[str, list]:
    """What the drawn ECharts instance holds, series by name."""
    option = page.locator(f"[data-test=chart-{chart}]").evaluate(
        "el => el.__chart.getOption().series.map(s => [s.name, s.data])")
    return dict(option)


def drawn_pixels(page, chart: str) -> int:
    return page.locator(f"[data-test=chart-{chart}] canvas").first.evaluate(
        """canvas => { const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                       let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n }""")


def test_the_kpi_charts_show_the_brands_days_for_the_range_picked(desk, stack, seeded):
    today = seeded["today"]
    desk.goto(f"{stack.base}/console/#/kpis")
    # The default range is the last 30 days: the orders of days 10 and 5 back (3 and 1).
    expect(desk.locator("[data-test=kpi-orders] [data-test=kpi-value]")).to_have_text("4")

    desk.locator("[data-test=kpi-range] input").first.click()
    desk.locator(".el-picker-panel__shortcut", has_text="最近 90 天").click()
    start = desk.locator("[data-test=kpi-range] input").first.input_value()
    assert desk.locator("[data-test=kpi-range] input").nth(1).input_value() == today
    days = settled_insights(stack, seeded, start, today)
    assert [d["date"] for d in days][0] == start and days[-1]["date"] == today
    # What the seed implies: 8 members joined, 9 orders came to 7,918 yuan, and of the 6 members' first orders 3
    # were repeated within 90 days (40 days later) and none within 30.
    figure = lambda key: desk.locator(f"[data-test=kpi-{key}] [data-test=kpi-value]")  # noqa: E731
    expect(figure("orders")).to_have_text("9")
    expect(figure("newMembers")).to_have_text("8")
    expect(figure("gmv")).to_have_text("¥7,918.00")
    expect(figure("repurchase")).to_have_text("0.0% / 50.0%")
    # And what the API answers for the same days, figure by figure and day by day in the charts.
    issued, redeemed, expired = (sum(d[k] for d in days) for k in ("pointsIssued", "pointsRedeemed", "pointsExpired"))
    assert issued > 0
    expect(figure("points")).to_have_text(f"{issued:,} / {redeemed:,} / {expired:,}")
    expect(figure("netGmv")).to_have_text(f"¥{sum(d['netGmvFen'] for d in days) / 100:,.2f}")
    members = chart_series(desk, "members")
    assert members["订单数"] == [d["orders"] for d in days]
    assert members["新增会员"] == [d["newMembers"] for d in days]
    gmv = chart_series(desk, "gmv")
    assert gmv["GMV"] == [d["gmvFen"] / 100 for d in days]
    assert chart_series(desk, "points")["发放"] == [d["pointsIssued"] for d in days]
    for chart in ("members", "gmv", "repurchase", "points", "coupons", "referrals"):
        assert drawn_pixels(desk, chart) > 1_000, chart  # the canvas is drawn, not blank
    # The same figures as a table under the charts (for screen readers and copying).
    busiest = max(days, key=lambda d: d["gmvFen"])
    row = desk.locator("[data-test=kpi-table] .el-table__body-wrapper .el-table__row", has_text=busiest["date"])
    expect(row).to_contain_text(f"¥{busiest['gmvFen'] / 100:,.2f}")
    screenshot(desk, "console-24-kpis")


def test_the_intelligence_pages_fit_a_narrow_screen(browser, stack, seeded):
    context, page = open_console(browser, stack, seeded["token"], NARROW)
    try:
        for path, ready, name in (("lifecycle", "[data-test=stage-ACTIVE] [data-test=stage-count]", "lifecycle"),
                                  ("value", "[data-test=segment-VALUE_HIGH] [data-test=segment-count]", "value"),
                                  ("segments/STAGE_ACTIVE", "[data-test=segment-stage]", "segment"),
                                  ("kpis", "[data-test=chart-members] canvas", "kpis")):
            page.goto(f"{stack.base}/console/#/{path}")
            expect(page.locator(ready).first).to_be_visible()
            if name == "segment":
                expect(page.locator(ready)).to_have_count(STAGE_COUNTS["ACTIVE"])  # every row's card filled in
            # Nothing wider than the screen but the tables that scroll on their own.
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"], path
            # What the phone shows first (a full page this narrow is too long to read as one picture).
            page.screenshot(path=str(SCREENSHOTS / f"console-25-narrow-{name}.png"), animations="disabled")
        page.locator("[data-test=chart-gmv]").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "console-26-narrow-kpi-chart.png"), animations="disabled")
    finally:
        context.close()


def test_the_member_page_says_why_in_the_rules_chinese_name_not_its_slug(browser, stack):
    api(stack, "mutation { checkIn { __typename } }", stack.exported("MEMBER_TOKEN"))  # once a day: may be refused
    context, page = open_console(browser, stack, stack.exported("STAFF_TOKEN"))
    try:
        open_member_by_phone(page, stack, DEMO_PHONE)
        why = page.locator("[data-test=ledger] .el-table__row", has_text="签到积分").first.locator("[data-test=why]")
        expect(why).to_contain_text("规则「签到积分」（points）")
        expect(page.locator("[data-test=ledger]")).not_to_contain_text("check-in-points")
        # The reason the engine wrote ("daily check-in", "order <id>") reads in Chinese too.
        reason = page.locator("[data-test=ledger] .el-table__row", has_text="签到积分").first.locator(
            "[data-test=entry-reason]")
        expect(reason).to_have_text("每日签到")
        expect(page.locator("[data-test=ledger]")).not_to_contain_text("daily check-in")
        screenshot(page, "console-27a-ledger-reasons")
        # The member's activity says what each event did in the same words.
        page.locator(".el-tabs__item", has_text="动态").click()
        expect(page.locator("[data-test=decision]", has_text="签到积分").first).to_contain_text("积分")
        expect(page.locator("[data-test=decision]").first).to_be_visible()
        screenshot(page, "console-27-why-in-chinese")
    finally:
        context.close()


def test_echarts_is_downloaded_only_when_the_kpi_page_opens(browser, stack, seeded):
    context, page = open_console(browser, stack, seeded["token"])
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    try:
        page.goto(f"{stack.base}/console/#/lifecycle")
        expect(page.locator("[data-test=stage-ACTIVE] [data-test=stage-count]")).to_have_text("3")
        page.locator("[data-test=nav-value]").click()
        expect(page.locator("[data-test=segment-VALUE_HIGH] [data-test=segment-count]")).to_have_text("1")
        assert scripts and not any("echarts" in url for url in scripts), scripts
        page.locator("[data-test=nav-kpis]").click()
        expect(page.locator("[data-test=chart-members] canvas")).to_have_count(1)
        assert sum("echarts" in url for url in scripts) == 1, scripts
    finally:
        context.close()


def test_staff_start_the_backfill_from_the_funnel_and_members_already_judged_stay_as_they_were(desk, stack, seeded):
    desk.goto(f"{stack.base}/console/#/lifecycle")
    expect(desk.locator("[data-test=backfill-state]")).to_contain_text("尚未回填")
    desk.locator("[data-test=backfill-start]").click()
    desk.get_by_role("button", name="开始回填").click()
    # Every member of the brand is listed and judged from their history as of now; all eight were judged already.
    expect(desk.locator("[data-test=backfill-state]")).to_contain_text("已完成：8 位会员", timeout=60_000)
    expect(desk.locator("[data-test=backfill-state]")).to_contain_text("growth-lead")
    for stage, expected in STAGE_COUNTS.items():
        expect(desk.locator(f"[data-test=stage-{stage}] [data-test=stage-count]")).to_have_text(str(expected))
    assert {code: n for code, n in counts(stack, seeded).items() if code.startswith("STAGE_")} == {
        f"STAGE_{stage}": n for stage, n in STAGE_COUNTS.items()}
    screenshot(desk, "console-28-backfill-done")
