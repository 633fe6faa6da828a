"""Erasure (PIPL art. 47): a member's personal data is deleted on request; the anonymised ledger stays.

What goes: the phone's keyed hash and masked form, openid, unionid, nickname, birthday, the member's own referral
code and the code that referred them, and every lookup that leads to the member (phone, openid, unionid, referral
code), so the same phone or WeChat account can join again as a new member. The profile is marked erased: events
and requests for it are refused from then on, and nothing more is written to its ledger.

Free text about the member goes too: staff's tags and the reasons of ledger entries. Events about the member that
were kept as problems for staff (`eventProblems`) lose their raw event (kept masked until then).

What stays, for accounting: the member id (a random token that identifies no one once the lookups are gone), the
ledger entries (without their reasons), the lots, the balance, growth and tier, the activity records and the consent history (the proof of
what was agreed, and when). Brand totals are exactly what they were.

Any item type, today's or a later one, that copies personal data into a member's partitions must store it under
one of `PERSONAL_ATTRIBUTES`: erasure removes those attributes from every item of both partitions. A copy kept in
someone else's partition (an invitee's masked phone on the inviter's list of referrals) is found by a finder the
family declares in its storage module's `PERSONAL_COPIES`, and stripped the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rules.errors import Busy, MemberNotFound, WriteConflict
from rules.members import lookups_for
from rules.persistence import Erasure, Store

PERSONAL_ATTRIBUTES = (
    "phone_hash", "phone_masked", "openid", "unionid", "openid_hash", "unionid_hash", "nickname", "birthday",
    "referral_code", "referred_by_code",
    # Staff's tags on the profile: free text, masked when written (rules/free_text.py), but a name in it cannot be
    # recognised, so erasure removes them too.
    "tags",
)
# Free text that only some item types hold personal: a ledger entry's reason (staff type it; a coupon's reason is
# the rule's own words and stays).
PERSONAL_TEXT = {"entry": ("reason",)}
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Erased:
    member_id: str
    erased_at: datetime
    freed: tuple[str, ...]  # the kinds of lookup deleted (phone, openid, unionid, referralCode)
    already: bool = False  # the member had been erased before this request


def erase(store: Store, brand_id: str, member_id: str, *, now: datetime, actor: str) -> Erased:
    """Erase one member of one brand (asked by the member, or by staff on the member's behalf). Idempotent."""
    for _ in range(MAX_ATTEMPTS):
        state = store.load_member(brand_id, member_id, include_erased=True)
        if state is None:
            raise MemberNotFound(member_id)
        profile = state.profile
        if profile.erased:
            # A repeat, or a first attempt that stopped after its transaction: finish the item sweep, write nothing
            # else.
            store.scrub_member(brand_id, member_id)
            return Erased(member_id, profile.erased_at, (), already=True)
        lookups = lookups_for(profile)
        try:
            store.erase_member(Erasure(brand_id=brand_id, member_id=member_id, expected_version=state.version,
                                       at=now, actor=actor, lookups=lookups))
        except WriteConflict:
            continue  # an event landed meanwhile: read again (its effects stay in the ledger) and erase
        return Erased(member_id, now, tuple(kind.value for kind, _ in lookups))
    raise Busy("the member kept changing; nothing was erased, try again")
