"""Consent (PIPL arts. 13-15): what a member agreed to, purpose by purpose, as an append-only history.

Every grant or withdrawal is a new immutable record (purpose, granted yes/no, the policy version shown, when, the
channel it came through, who recorded it). Nothing is ever overwritten: the member's current choice for a purpose is
derived from the newest record, and no record at all means no consent (opt-in, never opt-out).

The records live in the member's own partition, so the single Query that loads a member loads its consents too:
the engine can refuse a marketing notification without another read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Iterable, Mapping

from rules import ids
from rules.errors import InvalidInput, MemberNotFound
from rules.members import CHANNELS

NOTIFICATION_REQUESTED = "notification.requested"
MAX_POLICY_VERSION = 32


class Purpose(str, Enum):
    """Why personal information is processed; each needs its own consent."""

    MARKETING_MESSAGES = "marketing_messages"  # notifications, reminders and offers sent to the member
    BEHAVIOUR_ANALYTICS = "behaviour_analytics"  # behaviour data used for tags, segments and recommendations


@dataclass(frozen=True)
class ConsentRecord:
    record_id: str
    purpose: Purpose
    granted: bool
    policy_version: str
    at: datetime
    channel: str
    actor: str  # member:<id> or staff:<id>: who recorded the choice


def newest(records: Iterable[ConsentRecord]) -> dict[Purpose, ConsentRecord]:
    """The record in force for each purpose that has one: the latest by time (ties broken by record id)."""
    current: dict[Purpose, ConsentRecord] = {}
    for record in records:
        held = current.get(record.purpose)
        if held is None or (record.at, record.record_id) > (held.at, held.record_id):
            current[record.purpose] = record
    return current


def granted(records: Iterable[ConsentRecord]) -> Mapping[str, bool]:
    """Purpose value -> whether consent is in force now (only purposes with a record appear)."""
    return {purpose.value: record.granted for purpose, record in newest(records).items()}


def history(records: Iterable[ConsentRecord], purpose: Purpose) -> list[ConsentRecord]:
    """Every record for one purpose, newest first."""
    return sorted((r for r in records if r.purpose is purpose), key=lambda r: (r.at, r.record_id), reverse=True)


def plan_record(*, purpose: Purpose | str, granted: bool, policy_version: str, channel: str, now: datetime,
                actor: str) -> ConsentRecord:
    try:
        purpose = Purpose(purpose)
    except ValueError:
        raise InvalidInput("purpose", "invalid.purpose", choices=", ".join(p.value for p in Purpose)) from None
    if not isinstance(granted, bool):
        raise InvalidInput("granted", "invalid.granted")
    version = (policy_version or "").strip()
    if not version or len(version) > MAX_POLICY_VERSION or not version.isprintable():
        raise InvalidInput("policyVersion", "invalid.policy_version", max=MAX_POLICY_VERSION)
    if channel not in CHANNELS:
        raise InvalidInput("channel", "invalid.channel", choices=", ".join(CHANNELS))
    return ConsentRecord(record_id=ids.entry_id(now), purpose=purpose, granted=granted, policy_version=version,
                         at=now, channel=channel, actor=actor)


def notification_refusal(records: Iterable[ConsentRecord] | None, member_id: str | None,
                         detail: Mapping) -> str | None:
    """Why a `notification.requested` must not go out, or None when the member consented to marketing messages.

    `records` are the consents of the event's member (None: the event has no member). The engine calls this for
    every such follow-up, whichever plugin asked for it.
    """
    if records is None or member_id is None:
        return "notification suppressed: no member whose consent could be checked"
    named = detail.get("memberId", member_id)
    if named != member_id:
        return "notification suppressed: it names another member than the event's"
    record = newest(records).get(Purpose.MARKETING_MESSAGES)
    if record is None:
        return "notification suppressed: no marketing consent"
    if not record.granted:
        return "notification suppressed: marketing consent withdrawn"
    return None


def set_consent(store, brand_id: str, member_id: str, *, purpose: Purpose | str, granted: bool,
                policy_version: str, now: datetime, actor: str,
                channel: str | None = None) -> tuple[ConsentRecord, ...]:
    """Record a member's grant or withdrawal (the channel defaults to the one the member joined through); returns
    the member's consent records, the new one last."""
    state = store.load_member(brand_id, member_id, as_of=now)
    if state is None:
        raise MemberNotFound(member_id)
    record = plan_record(purpose=purpose, granted=granted, policy_version=policy_version,
                         channel=channel or state.profile.channel, now=now, actor=actor)
    store.record_consent(state.profile, record)
    return (*state.consents, record)
