"""The H5 member centre in a real browser (Chromium, phone-sized, offline): what a member does with it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, signed_in_as


def toast(page):
    return page.locator(".van-toast__text").last


def test_a_new_member_signs_in_with_wechat_and_sees_their_card(page, stack):
    page.goto(f"{stack.base}/m/")
    expect(page.get_by_text("微信登录")).to_be_visible()
    screenshot(page, "01-login")
    page.locator("[data-test=code] input").fill("browser-newcomer")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=tier]")).to_have_text("普卡")
    expect(page.locator("[data-test=next-tier]")).to_contain_text("升级为银卡")
    expect(page.locator("[data-test=balance]")).to_have_text("0")
    screenshot(page, "02-new-member-card")


def test_the_demo_member_sees_tier_growth_progress_and_validity(page, stack):
    signed_in_as(page, stack, stack.exported("MEMBER_TOKEN"), "/card")
    expect(page.locator("[data-test=tier]")).to_have_text("金卡")
    expect(page.locator("[data-test=growth]")).to_have_text("2300")
    expect(page.locator("[data-test=next-tier]")).to_have_text("再获得 2700 成长值升级为钻卡")
    expect(page.locator("[data-test=card]")).to_contain_text("有效期至")
    screenshot(page, "03-card")


def test_a_member_checks_in_once_a_day_and_earns_points(page, stack):
    page.goto(f"{stack.base}/m/#/login")
    page.locator("[data-test=code] input").fill("browser-checkin")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=balance]")).to_have_text("0")
    page.locator("[data-test=check-in]").click()
    expect(toast(page)).to_contain_text("签到成功")
    earned = int(re.search(r"获得 (\d+) 积分", toast(page).inner_text()).group(1))
    expect(page.locator("[data-test=balance]")).to_have_text(str(earned))
    screenshot(page, "04-checked-in")
    page.wait_for_timeout(2200)  # the toast fades; a second tap the same day earns nothing
    page.locator("[data-test=check-in]").click()
    expect(toast(page)).to_contain_text("今天已经签到过了")
    expect(page.locator("[data-test=balance]")).to_have_text(str(earned))


def test_a_member_claims_a_coupon_and_finds_it_in_their_coupons(page, stack):
    page.goto(f"{stack.base}/m/#/login")
    page.locator("[data-test=code] input").fill("browser-coupons")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=tier]")).to_be_visible()
    page.get_by_role("link", name="优惠券").or_(page.locator(".van-tabbar-item", has_text="优惠券")).first.click()
    offer = page.locator("[data-test=offer-bgy-100-20]")
    expect(offer).to_contain_text("满100减20")
    offer.locator("[data-test=claim]").click()
    expect(toast(page)).to_contain_text("已领取「满100减20」")
    screenshot(page, "05-coupon-offers")
    page.get_by_role("tab", name=re.compile("我的券")).click()
    expect(page.locator("[data-test=my-coupon]", has_text="满100减20")).to_be_visible()
    expect(page.locator("[data-test=my-coupon]", has_text="满100减20")).to_contain_text("会员领取")  # not English
    screenshot(page, "06-my-coupons")


def test_a_coupon_the_member_may_not_claim_says_why(page, stack):
    signed_in_as(page, stack, stack.exported("MEMBER_TOKEN"), "/coupons")
    offer = page.locator("[data-test=offer-bgy-community-10]")
    expect(offer.locator("[data-test=reasons]")).not_to_be_empty()
    expect(offer.locator("[data-test=claim]")).to_be_disabled()
    reasons = offer.locator("[data-test=reasons] li").all_inner_texts()
    # The API's own sentence, in Chinese (the page asks for zh-CN): this one is for a group the member is not in.
    assert "不适用于您所在的会员群组" in [r.strip() for r in reasons]
    screenshot(page, "05b-coupon-reasons")


def test_a_member_redeems_points_and_sees_the_entry_with_its_reason(page, stack):
    signed_in_as(page, stack, stack.exported("MEMBER_TOKEN"), "/points")
    balance = page.locator("[data-test=points-balance]")
    expect(balance).not_to_have_text("")
    before = int(balance.inner_text())
    expect(page.locator("[data-test=lots] .van-cell").first).to_contain_text("到期")
    page.locator("[data-test=redeem-amount] input").fill("100")
    page.locator("[data-test=redeem]").click()
    expect(toast(page)).to_contain_text("已兑换 100 积分")
    expect(balance).to_have_text(str(before - 100))
    expect(page.locator("[data-test=history] .van-cell").first).to_contain_text("会员中心兑换")
    # The reasons the engine wrote for the demo member's orders read in Chinese, never the rules' English names.
    expect(page.locator("[data-test=history]")).to_contain_text("每消费 1 元得积分")
    expect(page.locator("[data-test=history]")).not_to_contain_text("points per yuan")
    expect(page.locator("[data-test=history]")).not_to_contain_text("daily check-in")
    screenshot(page, "07-points")


def test_redeeming_more_than_the_balance_shows_the_apis_message(page, stack):
    signed_in_as(page, stack, stack.exported("MEMBER_TOKEN"), "/points")
    expect(page.locator("[data-test=points-balance]")).not_to_have_text("")
    page.locator("[data-test=redeem-amount] input").fill("9999999")
    page.locator("[data-test=redeem]").click()
    expect(toast(page)).to_contain_text("积分不足：需要 9999999 积分")


def test_a_wechat_member_binds_a_phone_and_sets_a_birthday(page, stack):
    page.goto(f"{stack.base}/m/#/login")
    page.locator("[data-test=code] input").fill("browser-phone")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=tier]")).to_be_visible()
    page.goto(f"{stack.base}/m/#/profile")
    expect(page.locator("[data-test=phone]")).to_contain_text("未绑定")
    page.locator("[data-test=phone-code] input").fill("browser-phone-code")
    page.locator("[data-test=bind-phone]").click()
    expect(page.locator("[data-test=phone]")).to_contain_text(re.compile(r"199\*\*\*\*\d{4}"))
    page.locator("[data-test=birthday]").click()
    page.get_by_role("button", name="确认").click()
    expect(page.locator("[data-test=birthday]")).to_contain_text("1 月 1 日")
    expect(page.locator(".van-popup--bottom")).to_be_hidden()
    expect(page.locator(".van-toast")).to_be_hidden()
    screenshot(page, "08-profile")


def test_a_member_grants_a_consent_and_sees_it_in_the_purposes_history(page, stack):
    page.goto(f"{stack.base}/m/#/login")
    page.locator("[data-test=code] input").fill("browser-consent")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=tier]")).to_be_visible()
    page.goto(f"{stack.base}/m/#/privacy")
    marketing = page.locator("[data-test=consent-MARKETING_MESSAGES]")
    marketing.locator(".van-switch").click()
    expect(toast(page)).to_contain_text("已授权")
    expect(marketing.locator(".van-switch")).to_have_class(re.compile("van-switch--on"))
    marketing.locator(".van-collapse-item__title").click()
    expect(marketing).to_contain_text("授权 · 政策 2026-01 · H5 网页")


def test_busy_is_retried_quietly_and_a_long_rate_limit_says_when_to_come_back(page, stack):
    page.goto(f"{stack.base}/m/#/login")
    page.locator("[data-test=code] input").fill("browser-busy")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=balance]")).to_have_text("0")
    answers = [{"__typename": "Busy", "code": "BUSY", "message": "too many writers"}]

    def contended(route):
        # The API's own answer to contention, once: the page must try again by itself and then succeed.
        if answers and "CheckIn" in (route.request.post_data or ""):
            route.fulfill(json={"data": {"checkIn": answers.pop()}})
        else:
            route.continue_()

    page.route("**/graphql", contended)
    page.locator("[data-test=check-in]").click()
    expect(toast(page)).to_contain_text("签到成功")
    assert answers == []
    page.unroute("**/graphql")

    limited = {"__typename": "RateLimited", "code": "RATE_LIMITED", "message": "too many checkIn attempts",
               "action": "checkIn", "retryAfterSeconds": 3000}
    page.route("**/graphql", lambda route: route.fulfill(json={"data": {"checkIn": limited}})
               if "CheckIn" in (route.request.post_data or "") else route.continue_())
    page.wait_for_timeout(2200)
    page.locator("[data-test=check-in]").click()
    expect(toast(page)).to_contain_text("操作太频繁，请 50 分钟后再试")


def test_a_member_exports_their_data_and_sees_consents(page, stack):
    signed_in_as(page, stack, stack.exported("MEMBER_TOKEN"), "/privacy")
    expect(page.locator("[data-test=consent-MARKETING_MESSAGES]")).to_contain_text("营销消息")
    page.locator("[data-test=export]").click()
    expect(page.locator("[data-test=export-count]").first).to_be_visible()
    expect(page.locator("[data-test=export-count]", has_text="会员资料")).to_contain_text("1 条")
    screenshot(page, "09-privacy-export")


def test_a_member_deletes_the_account_after_confirming(page, stack):
    page.goto(f"{stack.base}/m/#/login")
    page.locator("[data-test=code] input").fill("browser-leaver")
    page.locator("[data-test=login]").click()
    expect(page.locator("[data-test=tier]")).to_be_visible()
    page.goto(f"{stack.base}/m/#/privacy")
    page.locator("[data-test=delete-account]").click()
    expect(page.locator(".van-dialog")).to_contain_text("确定注销吗")
    screenshot(page, "10-delete-confirm")
    page.get_by_role("button", name="确认注销").click()
    expect(page.get_by_text("微信登录")).to_be_visible()
