"""Writing one imported member (rules/importing.py) in one DynamoDB transaction.

The transaction creates the import key (brand + external id), the profile (with tier, growth and the opening
balance), its lookups, and the opening lots and entries; each is conditioned on not existing. So a row either lands
whole or not at all, a row imported before is refused by its import key (and reported as skipped, writing nothing),
and a phone that already belongs to a member of the brand refuses the row.
"""

from __future__ import annotations

from enum import Enum

from pynamodb.exceptions import TransactWriteError

from infra import keys
from infra.models import LookupItem, MemberItem
from infra.dynamo_store import DynamoStore, posting_writes
from infra.transactions import Transaction, connection
from rules.importing import PlannedMember
from rules.members import LookupKind


class Outcome(str, Enum):
    IMPORTED = "imported"
    SKIPPED = "skipped"  # imported before (the same brand and external id)
    PHONE_TAKEN = "phone_taken"
    CODE_TAKEN = "code_taken"  # the derived referral code collides with another member's: draw the next one


def import_pk(brand_id: str, external_id: str) -> str:
    return f"BRAND#{brand_id}#IMPORT#{external_id}"


def imported_member(brand_id: str, external_id: str) -> str | None:
    try:
        return LookupItem.get(import_pk(brand_id, external_id), keys.LOOKUP).member_id
    except LookupItem.DoesNotExist:
        return None


def write_member(store: DynamoStore, planned: PlannedMember) -> Outcome:
    p = planned.registration.profile
    tx = Transaction()
    tx.put("import", LookupItem(import_pk(p.brand_id, planned.external_id), keys.LOOKUP, member_id=p.member_id),
           LookupItem.pk.does_not_exist())
    member = MemberItem(
        keys.member_pk(p.brand_id, p.member_id), keys.PROFILE,
        brand_id=p.brand_id, member_id=p.member_id, phone_hash=p.phone_hash, phone_masked=p.phone_masked,
        channel=p.channel, referral_code=p.referral_code, registered_at=p.registered_at, tier_code=p.tier_code,
        tier_valid_until=p.tier_valid_until, growth=p.growth, balance=planned.points, version=0,
        birthday=p.birthday, nickname=p.nickname,
    )
    if p.tier_valid_until is not None:
        # The daily sweep finds the member when the imported tier's validity ends, as for a tier earned here.
        member.gsi1pk = keys.due_pk(p.tier_valid_until, p.member_id)
        member.gsi1sk = keys.due_sk(p.tier_valid_until, "TIER", p.brand_id, p.member_id)
    tx.put("member", member, MemberItem.pk.does_not_exist())
    for kind, value in planned.registration.lookups:
        tx.put(kind.value, LookupItem(keys.lookup_pk(p.brand_id, kind, value), keys.LOOKUP, member_id=p.member_id),
               LookupItem.pk.does_not_exist())
    posting_writes(tx, p, planned.posting)
    try:
        tx.commit(connection())
    except TransactWriteError as error:
        reasons = error.cancellation_reasons or []
        failed = {role for role, reason in zip(tx.roles, reasons)
                  if reason is not None and reason.code == "ConditionalCheckFailed"}
        if "import" in failed or "member" in failed:
            return Outcome.SKIPPED
        if LookupKind.PHONE.value in failed:
            return Outcome.PHONE_TAKEN
        if LookupKind.REFERRAL_CODE.value in failed:
            return Outcome.CODE_TAKEN
        raise
    return Outcome.IMPORTED
