"""Referrals and commissions in the table (see `plugins/referral/model.py` for the model).

Inviter partition (`BRAND#b#MEMBER#inviter`): `REFERRED#<invitee>` per invitee, `REFERRALCOUNT` (the count that
ladders read, updated only from the count it was read at), `COMMISSION#<invitee>#<order>#<level>` records,
`COMMISSIONBALANCE`, `REFERRALSALES#<month>`. Inviter ledger partition: `COMMENTRY#<entry id>` entries.
"Already referred" fingerprints (`BRAND#b#REFERRED#<sha256>`): keyed digests of the invitee's phone hash and WeChat
ids, kept when an account is erased so the same person cannot be referred twice; they identify no one by themselves.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from infra import keys
from infra.models import LookupItem, MarkerItem, MemberItem, SiyuItem
from rules.members import LookupKind
from plugins.referral.model import (
    BOUND,
    Commission,
    CommissionBalance,
    CommissionEntry,
    InviterStanding,
    ReferralBound,
    ReferralFacts,
    Referred,
)

COMMISSION_PREFIX = "COMMISSION#"
REFERRED_PREFIX = "REFERRED#"
ENTRY_PREFIX = "COMMENTRY#"
BALANCE = "COMMISSIONBALANCE"
COUNT = "REFERRALCOUNT"


class ReferredItem(SiyuItem, discriminator="referred"):
    invitee_id = UnicodeAttribute()
    bound_at = UTCDateTimeAttribute()


class ReferralCountItem(SiyuItem, discriminator="referral_count"):
    count = NumberAttribute(default=0)


class ReferralSalesItem(SiyuItem, discriminator="referral_sales"):
    sales_fen = NumberAttribute(default=0)


class ReferredMarkItem(SiyuItem, discriminator="referred_mark"):
    """This person (a fingerprint of their phone or WeChat id) was referred once in this brand."""


class CommissionItem(SiyuItem, discriminator="commission"):
    invitee_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    level = NumberAttribute()
    accrued_fen = NumberAttribute(default=0)
    clawed_fen = NumberAttribute(default=0)
    settled_fen = NumberAttribute(default=0)
    status = UnicodeAttribute(default="pending")
    accrued_at = UTCDateTimeAttribute()
    settles_at = UTCDateTimeAttribute()


class CommissionBalanceItem(SiyuItem, discriminator="commission_balance"):
    pending_fen = NumberAttribute(default=0)
    settled_fen = NumberAttribute(default=0)


class CommissionEntryItem(SiyuItem, discriminator="commission_entry"):
    entry_id = UnicodeAttribute()
    entry_kind = UnicodeAttribute()
    fen = NumberAttribute()
    bucket = UnicodeAttribute()
    invitee_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    level = NumberAttribute()
    at = UTCDateTimeAttribute()
    event_id = UnicodeAttribute()


def _fingerprint(brand_id: str, value: str) -> str:
    return keys.brand_pk(brand_id) + "#REFERRED#" + hashlib.sha256(f"referred|{brand_id}|{value}".encode()).hexdigest()


def _commission_sk(invitee_id: str, order_id: str, level: int) -> str:
    return f"{COMMISSION_PREFIX}{invitee_id}#{order_id}#{level}"


# ---- reading -----------------------------------------------------------------------------------------------------


def _referred(item: ReferredItem) -> Referred:
    return Referred(item.invitee_id, item.bound_at)


def _commission(item: CommissionItem) -> Commission:
    return Commission(item.invitee_id, item.order_id, int(item.level), int(item.accrued_fen), int(item.clawed_fen),
                      int(item.settled_fen), item.status, item.accrued_at, item.settles_at)


def _balance(item: CommissionBalanceItem) -> CommissionBalance:
    return CommissionBalance(int(item.pending_fen), int(item.settled_fen))


def facts(brand_id: str, code: str, invitee) -> ReferralFacts:
    """Who owns `code`, and what a binding to them must respect: 1 GetItem and 1 BatchGetItem."""
    try:
        referrer_id = LookupItem.get(keys.lookup_pk(brand_id, LookupKind.REFERRAL_CODE, code), keys.LOOKUP).member_id
    except LookupItem.DoesNotExist:
        return ReferralFacts(code=code, referrer_id=None)
    mpk = keys.member_pk(brand_id, referrer_id)
    phone = [invitee.phone_hash] if invitee.phone_hash else []
    wechat = [v for v in (invitee.openid_hash, invitee.unionid_hash) if v]
    wanted = [(mpk, keys.PROFILE), (mpk, keys.marker_sk(BOUND)), (mpk, COUNT)]
    wanted += [(_fingerprint(brand_id, v), keys.LOOKUP) for v in phone + wechat]
    # Consistent: the referrer's count becomes the binding's write condition.
    found = {(i.pk, i.sk): i for i in SiyuItem.batch_get(wanted, consistent_read=True)}
    profile = found.get((mpk, keys.PROFILE))
    if not isinstance(profile, MemberItem):
        return ReferralFacts(code=code, referrer_id=None)
    bound = found.get((mpk, keys.marker_sk(BOUND)))
    data = (bound.data or {}) if isinstance(bound, MarkerItem) else {}
    count = found.get((mpk, COUNT))

    def referred(values):
        return any((_fingerprint(brand_id, v), keys.LOOKUP) in found for v in values)

    return ReferralFacts(
        code=code, referrer_id=referrer_id, referrer_inviter=data.get("referrer"), referrer_upline=data.get("upline"),
        referrer_identities=frozenset(v for v in (profile.openid_hash, profile.unionid_hash) if v),
        referrer_invites=int(count.count) if isinstance(count, ReferralCountItem) else 0,
        phone_already_referred=referred(phone), identity_already_referred=referred(wechat),
    )


def standing(brand_id: str, inviter_id: str, month: str) -> InviterStanding:
    mpk = keys.member_pk(brand_id, inviter_id)
    found = {i.sk: i for i in SiyuItem.batch_get([(mpk, keys.PROFILE), (mpk, f"REFERRALSALES#{month}")],
                                                 consistent_read=True)}
    profile = found.get(keys.PROFILE)
    sales = found.get(f"REFERRALSALES#{month}")
    return InviterStanding(inviter_id, frozenset(getattr(profile, "tags", None) or ()), month,
                           int(sales.sales_fen) if isinstance(sales, ReferralSalesItem) else 0,
                           int(profile.version) if isinstance(profile, MemberItem) else None)


def entries(brand_id: str, inviter_id: str) -> list[CommissionEntryItem]:
    lpk = keys.ledger_pk(brand_id, inviter_id)
    return list(CommissionEntryItem.query(lpk, CommissionEntryItem.sk.startswith(ENTRY_PREFIX)))


# ---- writing -----------------------------------------------------------------------------------------------------


def _write_bound(tx, write: ReferralBound, record) -> None:
    mpk = keys.member_pk(write.brand_id, write.referrer_id)
    tx.put("conflict", ReferredItem(mpk, REFERRED_PREFIX + write.invitee_id, invitee_id=write.invitee_id,
                                    bound_at=write.at),
           ReferredItem.pk.does_not_exist())
    count = ReferralCountItem.count
    # Ladders were decided on the count as read: two invitees binding at once cannot both be "the third".
    tx.update("conflict", ReferralCountItem(mpk, COUNT), [count.add(1), ReferralCountItem.kind.set(ReferralCountItem)],
              count.does_not_exist() if write.invites_before == 0 else count == write.invites_before)
    for value in filter(None, (write.invitee_phone_hash, *write.invitee_identities)):
        tx.put("conflict", ReferredMarkItem(_fingerprint(write.brand_id, value), keys.LOOKUP),
               ReferredMarkItem.pk.does_not_exist())


def _write_commission(tx, write: CommissionEntry, record) -> None:
    mpk = keys.member_pk(write.brand_id, write.inviter_id)
    sk = _commission_sk(write.invitee_id, write.order_id, write.level)
    tx.put("conflict", CommissionEntryItem(
        keys.ledger_pk(write.brand_id, write.inviter_id), ENTRY_PREFIX + write.entry_id, entry_id=write.entry_id,
        entry_kind=write.kind, fen=write.fen, bucket=write.bucket, invitee_id=write.invitee_id,
        order_id=write.order_id, level=write.level, at=write.at, event_id=write.event_id,
    ), CommissionEntryItem.pk.does_not_exist())
    balance = CommissionBalanceItem(mpk, BALANCE)
    if write.kind == "accrue":
        tx.put("conflict", CommissionItem(mpk, sk, invitee_id=write.invitee_id, order_id=write.order_id,
                                          level=write.level, accrued_fen=write.fen, accrued_at=write.at,
                                          settles_at=write.settles_at), CommissionItem.pk.does_not_exist())
        tx.add(balance, pending_fen=write.fen)
        if write.inviter_version is not None:
            # The rate was read from the inviter's tags (KOL or not): tagged meanwhile, the order is decided again.
            tx.check("conflict", MemberItem, mpk, keys.PROFILE, MemberItem.version == write.inviter_version)
        if write.month is not None:
            sales = ReferralSalesItem.sales_fen
            tx.update("conflict", ReferralSalesItem(mpk, f"REFERRALSALES#{write.month}"),
                      [sales.add(write.order_fen), ReferralSalesItem.kind.set(ReferralSalesItem)],
                      sales.does_not_exist() if not write.month_sales_before
                      else sales == write.month_sales_before)
    elif write.kind == "settle":
        # Pending -> settled once, from the claw-backs the amount was computed on: a refund that landed meanwhile
        # (or a second settlement) fails this write and the sweep plans again on what is left.
        tx.update("conflict", CommissionItem(mpk, sk), [CommissionItem.status.set("settled"),
                                                         CommissionItem.settled_fen.add(write.fen)],
                  (CommissionItem.status == "pending") & _clawed_as_read(write))
        tx.add(balance, pending_fen=-write.fen, settled_fen=write.fen)
    else:
        # A claw-back takes from the bucket the record was read in (pending, or settled for a late refund inside
        # the window), and from the claw-backs it was computed on.
        tx.update("conflict", CommissionItem(mpk, sk), [CommissionItem.clawed_fen.add(write.fen)],
                  (CommissionItem.status == write.bucket) & _clawed_as_read(write))
        tx.add(balance, **{f"{write.bucket}_fen": -write.fen})


def _clawed_as_read(write: CommissionEntry):
    if write.clawed_before is None:
        return CommissionItem.pk.exists()
    if write.clawed_before == 0:
        return CommissionItem.clawed_fen.does_not_exist() | (CommissionItem.clawed_fen == 0)
    return CommissionItem.clawed_fen == write.clawed_before


class Storage:
    """What the store gains from the referral family (infra/family_storage.py)."""

    def referral_facts(self, brand_id: str, code: str, invitee: Any) -> ReferralFacts:
        """Who owns a referral code and what binding to them must respect."""
        return facts(brand_id, code, invitee)

    def inviter_standing(self, brand_id: str, inviter_id: str, month: str) -> InviterStanding:
        """An inviter's tags and their invitees' sales in a month."""
        return standing(brand_id, inviter_id, month)

    def commission_entries(self, brand_id: str, inviter_id: str) -> list[dict]:
        """Every entry of the inviter's commission ledger, oldest first."""
        return [{"kind": e.entry_kind, "fen": int(e.fen), "bucket": e.bucket, "orderId": e.order_id,
                 "inviteeId": e.invitee_id, "level": int(e.level), "at": e.at, "eventId": e.event_id}
                for e in entries(brand_id, inviter_id)]


WRITERS = {ReferralBound: _write_bound, CommissionEntry: _write_commission}
HOLDINGS = {ReferredItem: ("referrals", _referred), CommissionItem: ("commissions", _commission),
            CommissionBalanceItem: ("commission_balance", _balance)}
