"""Consent per purpose: an append-only history through GraphQL, the current choice derived from the newest record."""

from datetime import datetime, timezone

from infra.db import count_requests
from tests.helpers import call_graphql, error_codes, register, token

NOW = datetime.now(timezone.utc)
SET = """mutation($purpose: ConsentPurpose!, $granted: Boolean!, $version: String!, $channel: String) {
  setConsent(input: {purpose: $purpose, granted: $granted, policyVersion: $version, channel: $channel}) {
    __typename
    ... on ConsentRecorded { consent { purpose granted policyVersion channel history { granted policyVersion } } }
    ... on InvalidInput { field }
  } }"""
CONSENTS = "{ purpose granted policyVersion at channel history { granted policyVersion channel recordedBy at } }"


def set_consent(member_token, purpose, granted, version="2026-01", channel=None):
    _, body = call_graphql(SET, {"purpose": purpose, "granted": granted, "version": version, "channel": channel},
                           member_token)
    return body["data"]["setConsent"]


def test_a_member_who_never_answered_has_consented_to_nothing(store, brand_id):
    member = register(store, brand_id, NOW)
    _, body = call_graphql("{ me { consents " + CONSENTS + " } }", token=token("member", member, brand_id))
    consents = body["data"]["me"]["consents"]
    assert [c["purpose"] for c in consents] == ["MARKETING_MESSAGES", "BEHAVIOUR_ANALYTICS"]
    assert all(c["granted"] is False and c["history"] == [] and c["policyVersion"] is None for c in consents)


def test_each_grant_and_withdrawal_is_a_new_record_and_the_newest_decides(store, brand_id):
    member = register(store, brand_id, NOW, channel="h5")
    member_token = token("member", member, brand_id)
    granted = set_consent(member_token, "MARKETING_MESSAGES", True, "2026-01")
    assert granted["__typename"] == "ConsentRecorded"
    assert granted["consent"]["granted"] is True and granted["consent"]["channel"] == "h5"  # the joining channel
    withdrawn = set_consent(member_token, "MARKETING_MESSAGES", False, "2026-02", channel="wecom")
    assert withdrawn["consent"]["granted"] is False
    assert withdrawn["consent"]["history"] == [{"granted": False, "policyVersion": "2026-02"},
                                               {"granted": True, "policyVersion": "2026-01"}]
    set_consent(member_token, "BEHAVIOUR_ANALYTICS", True, "2026-02")

    _, body = call_graphql("{ me { consents " + CONSENTS + " } }", token=member_token)
    marketing, analytics = body["data"]["me"]["consents"]
    assert (marketing["granted"], marketing["policyVersion"], marketing["channel"]) == (False, "2026-02", "wecom")
    assert [r["granted"] for r in marketing["history"]] == [False, True]
    assert marketing["history"][0]["recordedBy"] == f"member:{member}"
    assert (analytics["granted"], len(analytics["history"])) == (True, 1)
    # Nothing was overwritten: three records are stored, one per answer.
    stored = store.load_member(brand_id, member).consents
    assert sorted((r.purpose.value, r.granted, r.policy_version) for r in stored) == [
        ("behaviour_analytics", True, "2026-02"), ("marketing_messages", False, "2026-02"),
        ("marketing_messages", True, "2026-01")]


def test_staff_read_a_members_consents_and_other_brands_staff_do_not(store, brand_id):
    member = register(store, brand_id, NOW)
    set_consent(token("member", member, brand_id), "MARKETING_MESSAGES", True)
    query = "query($id: ID!) { member(id: $id) { consents { purpose granted } } }"
    _, ours = call_graphql(query, {"id": member}, token("staff", "s1", brand_id))
    assert ours["data"]["member"]["consents"][0] == {"purpose": "MARKETING_MESSAGES", "granted": True}
    _, theirs = call_graphql(query, {"id": member}, token("staff", "s1", brand_id + "x"))
    assert theirs["data"]["member"] is None


def test_a_policy_version_is_required_and_the_purpose_must_be_known(store, brand_id):
    member_token = token("member", register(store, brand_id, NOW), brand_id)
    assert set_consent(member_token, "MARKETING_MESSAGES", True, version="  ") == {
        "__typename": "InvalidInput", "field": "policyVersion"}
    assert set_consent(member_token, "MARKETING_MESSAGES", True, channel="fax")["field"] == "channel"
    _, body = call_graphql(SET, {"purpose": "SELLING_DATA", "granted": True, "version": "1"}, member_token)
    assert body["data"] is None and body["errors"]


def test_only_the_member_sets_their_consent(store, brand_id):
    member = register(store, brand_id, NOW)
    _, body = call_graphql(SET, {"purpose": "MARKETING_MESSAGES", "granted": True, "version": "1"},
                           token("staff", "s1", brand_id))
    assert error_codes(body) == ["FORBIDDEN"]
    assert store.load_member(brand_id, member).consents == ()


def test_consents_come_with_the_member_in_its_single_query(store, brand_id):
    member = register(store, brand_id, NOW)
    member_token = token("member", member, brand_id)
    for granted in (True, False, True):
        set_consent(member_token, "MARKETING_MESSAGES", granted)
    query = "{ me { points { balance } tier { code } consents { granted history { at } } } }"
    call_graphql(query, token=member_token)  # warms the per-container brand cache
    with count_requests() as requests:
        _, body = call_graphql(query, token=member_token)
    assert body["data"]["me"]["consents"][0]["granted"] is True
    assert len(body["data"]["me"]["consents"][0]["history"]) == 3
    assert dict(requests.by_operation) == {"Query": 1}
