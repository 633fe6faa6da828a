"""Consent derivation and audit masking, as pure rules."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from rules import audit, consent

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def record(granted, days_ago, purpose="marketing_messages", record_id="r"):
    return consent.ConsentRecord(record_id=record_id, purpose=consent.Purpose(purpose), granted=granted,
                                 policy_version="v1", at=T - timedelta(days=days_ago), channel="h5", actor="member:m")


def test_the_newest_record_decides_whatever_order_the_records_come_in():
    records = [record(False, 1), record(True, 10), record(True, 5, "behaviour_analytics")]
    assert consent.granted(records) == {"marketing_messages": False, "behaviour_analytics": True}
    assert consent.granted(reversed(records)) == consent.granted(records)
    assert [r.granted for r in consent.history(records, consent.Purpose.MARKETING_MESSAGES)] == [False, True]


def test_two_records_at_the_same_instant_are_ordered_by_their_id():
    same = [record(True, 0, record_id="b"), record(False, 0, record_id="a")]
    assert consent.granted(same)["marketing_messages"] is True


def test_a_notification_needs_the_events_member_and_their_marketing_consent():
    assert consent.notification_refusal([record(True, 1)], "m1", {}) is None
    assert consent.notification_refusal([], "m1", {}) == "notification suppressed: no marketing consent"
    assert consent.notification_refusal([record(True, 9), record(False, 1)], "m1", {}).endswith("withdrawn")
    assert consent.notification_refusal([record(True, 1, "behaviour_analytics")], "m1", {}).endswith(
        "no marketing consent")
    assert "another member" in consent.notification_refusal([record(True, 1)], "m1", {"memberId": "m2"})
    assert "no member" in consent.notification_refusal(None, None, {})


@dataclass
class RegisterInput:
    phone: str
    openid: str | None
    nickname: str | None
    channel: str


def test_audit_arguments_keep_the_request_but_not_the_person():
    arguments = {"input": RegisterInput("+86 139 1234 5678", "oWxAbCdEf", "王小明", "h5"),
                 "topic": "call 13800138000", "note": "王小明 asked", "count": 3}
    # Audit records outlive erasure: identifiers and free text (a note may name anyone) are left out; numbers in
    # the rest are masked.
    assert audit.masked(arguments) == {
        "input": {"phone": audit.OMITTED, "openid": audit.OMITTED, "nickname": audit.OMITTED, "channel": "h5"},
        "topic": "call 138****8000", "note": audit.OMITTED, "count": 3}


def test_oversized_audit_arguments_are_cut_with_a_note():
    arguments = audit.new_record(brand_id="b", staff_id="s", mutation="simulateEvent", at=T, outcome=audit.OK,
                                 detail=None, arguments={"event": {"blob": "x" * 40_000}}).arguments
    assert arguments["_cut"] == "40023 bytes of arguments" and len(arguments["preview"]) == 2000
