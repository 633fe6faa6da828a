"""Coupons in the table: each coupon in its member's partition, per-member counts and the brand's stock counters.

A claim is one TransactWriteItems whose conditions are the business rules that must hold under concurrency: the
stock counter below the template's stock (no oversell), the member's count of the template below its limit, the
member existing. Rule-issued coupons and uses ride in the event's own transaction (the family's `WRITERS`).
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta, timezone

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from infra import keys
from infra.dynamo_errors import response_code
from infra.transactions import Transaction, connection
from infra.models import MemberItem, SiyuItem
from plugins.coupons.effects import TemplatesPaused
from plugins.coupons.model import Coupon, CouponIssued, CouponUsed, Reason, Template
from plugins.coupons.model import CouponNotEligible
from rules.errors import MemberNotFound, WriteConflict


class CouponItem(SiyuItem, discriminator="coupon"):
    coupon_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    coupon_kind = UnicodeAttribute()
    threshold_fen = NumberAttribute(default=0)
    amount_fen = NumberAttribute(default=0)
    discount_percent = NumberAttribute(default=0)
    gift = UnicodeAttribute(null=True)
    issued_at = UTCDateTimeAttribute()
    valid_from = UTCDateTimeAttribute()
    valid_until = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    reason = UnicodeAttribute()
    status = UnicodeAttribute(default="available")
    used_at = UTCDateTimeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)


class CouponCountItem(SiyuItem, discriminator="coupon_count"):
    """How many coupons of one template a member was given: the per-member limit's atomic condition."""

    count = NumberAttribute(default=0)


class CouponStockItem(SiyuItem, discriminator="coupon_stock"):
    """How many coupons of one template one shard of its stock has given out: the atomic condition of that shard's
    part of the stock (`Template.shard_stock`). Sort key: the prefix, the template, `#<shard>`."""

    issued = NumberAttribute(default=0)


# How long a coupon stays in its member's partition once it can no longer be used: after its use, or after the end
# of its validity (an available coupon's item carries the latter from the start; a use brings it forward). Past it
# the item leaves (DynamoDB's TTL, reads skip it at once); the member's activity and ledger keep the history, and the
# per-member count (`CouponCountItem`) stays, so a per-member limit holds for good.
COUPON_RETENTION_ENV = "SIYU_COUPON_RETENTION_DAYS"
DEFAULT_COUPON_RETENTION_DAYS = 365


def retention() -> timedelta:
    days = os.environ.get(COUPON_RETENTION_ENV, "").strip()
    return timedelta(days=int(days) if days.isdigit() else DEFAULT_COUPON_RETENTION_DAYS)


def _coupon_item(brand_id: str, member_id: str, c: Coupon) -> CouponItem:
    return CouponItem(
        keys.member_pk(brand_id, member_id), keys.COUPON_PREFIX + c.coupon_id, coupon_id=c.coupon_id,
        template_id=c.template_id, name=c.name, coupon_kind=c.kind, threshold_fen=c.threshold_fen,
        amount_fen=c.amount_fen, discount_percent=c.discount_percent, gift=c.gift, issued_at=c.issued_at,
        valid_from=c.valid_from, valid_until=c.valid_until, source=c.source, reason=c.reason, status=c.status,
        used_at=c.used_at, order_id=c.order_id, ttl=_leaves_at(c.used_at or c.valid_until),
    )


def _leaves_at(at: datetime) -> datetime:
    try:
        return at + retention()
    except OverflowError:  # valid until near year 9999: kept as long as can be
        return datetime.max.replace(tzinfo=timezone.utc) - timedelta(days=1)


_COUPON_FIELDS = tuple(f.name for f in dataclasses.fields(Coupon))
# `Coupon` is a frozen dataclass: its `__init__` sets each of its 16 fields through `object.__setattr__`, which cost
# more than reading them. The same instance is its fields in its `__dict__`, in their order: made so only while
# `Coupon` does nothing else on construction (no `__post_init__`, no slots, the fields as read here).
_FILL_COUPONS = (not hasattr(Coupon, "__post_init__") and "__slots__" not in vars(Coupon) and _COUPON_FIELDS == (
    "coupon_id", "template_id", "name", "kind", "issued_at", "valid_from", "valid_until", "source", "reason",
    "threshold_fen", "amount_fen", "discount_percent", "gift", "status", "used_at", "order_id"))
_new = object.__new__


def _coupon(item: CouponItem) -> Coupon:
    # Every member load reads the member's coupons: `attribute_values` by Python name is what each attribute's
    # descriptor returns, without a descriptor call per value (issue 15, engine CPU).
    v = item.attribute_values.get
    values = (v("coupon_id"), v("template_id"), v("name"), v("coupon_kind"), v("issued_at"), v("valid_from"),
              v("valid_until"), v("source"), v("reason"), int(v("threshold_fen")), int(v("amount_fen")),
              int(v("discount_percent")), v("gift"), v("status"), v("used_at"), v("order_id"))
    if not _FILL_COUPONS:
        return Coupon(*values)
    made = _new(Coupon)
    made.__dict__.update(zip(_COUPON_FIELDS, values))
    return made


def _typed(model: type):
    """Counters are created by their first ADD: the update must also say what kind of item it is."""
    return model.kind.set(model)


def _count(brand_id: str, member_id: str, template_id: str) -> CouponCountItem:
    return CouponCountItem(keys.member_pk(brand_id, member_id), keys.COUPON_COUNT_PREFIX + template_id)


def _stock(brand_id: str, template_id: str, shard: int) -> CouponStockItem:
    return CouponStockItem(keys.brand_pk(brand_id), f"{keys.COUPON_STOCK_PREFIX}{template_id}#{shard}")


def _stock_of(sk: str) -> tuple[str, int | None]:
    """(template, shard) of a stock item's sort key; shard None for the single counter of earlier releases."""
    rest = sk[len(keys.COUPON_STOCK_PREFIX):]
    template_id, hash_, shard = rest.rpartition("#")
    if hash_ and shard.isdigit():
        return template_id, int(shard)
    return rest, None


def _write_issued(tx, write: CouponIssued, record) -> None:
    # A rule's coupon is a promise already made: no stock or limit condition, but it counts toward both.
    tx.put("conflict", _coupon_item(write.brand_id, write.member_id, write.coupon), CouponItem.pk.does_not_exist())
    tx.add(_count(write.brand_id, write.member_id, write.coupon.template_id), count=1)
    tx.add(_stock(write.brand_id, write.coupon.template_id, write.stock_shard), issued=1)


def _write_used(tx, write: CouponUsed, record) -> None:
    item = CouponItem(keys.member_pk(write.brand_id, write.member_id), keys.COUPON_PREFIX + write.coupon_id)
    # Used exactly once: a coupon another order took meanwhile fails this write, and the event is re-evaluated.
    tx.update("conflict", item, [CouponItem.status.set("used"), CouponItem.used_at.set(write.at),
                                 CouponItem.order_id.set(write.order_id), CouponItem.ttl.set(_leaves_at(write.at))],
              (CouponItem.status == "available") & (CouponItem.valid_until > write.at))


def brand_state(brand_id: str) -> tuple[dict[str, int], frozenset[str]]:
    """Coupons given out per template, and the templates paused: one Query (stock and pause items share the
    brand partition and the `COUPON` prefix)."""
    issued, paused = _brand_coupons(brand_id)
    return {template_id: sum(shards.values()) for template_id, shards in issued.items()}, paused


def _brand_coupons(brand_id: str) -> tuple[dict[str, dict[int | None, int]], frozenset[str]]:
    issued: dict[str, dict[int | None, int]] = {}
    paused: set[str] = set()
    for item in SiyuItem.query(keys.brand_pk(brand_id), SiyuItem.sk.startswith("COUPON")):
        if isinstance(item, CouponStockItem):
            template_id, shard = _stock_of(item.sk)
            issued.setdefault(template_id, {})[shard] = int(item.issued)
        elif isinstance(item, CouponPauseItem) and item.held_by:
            paused.add(item.template_id)
    return issued, frozenset(paused)


def claim(brand_id: str, member_id: str, template: Template, coupon: Coupon,
          expected_version: int | None = None) -> Coupon:
    """Write a claimed coupon if the stock, the member's limit and the member still allow it.

    The claim tries one shard of the stock, picked from the coupon's id; if that shard's part is given out it reads
    the others (one Query) and tries those with room left, and is refused as out of stock only when none has. The
    parts add up to the stock and each shard's condition holds its part, so concurrent claims cannot oversell."""
    first = template.stock_shard_for(coupon.coupon_id)
    tried: set[int] = set()
    shard: int | None = first
    while shard is not None:
        tried.add(shard)
        try:
            return _claim_on(brand_id, member_id, template, coupon, expected_version, shard)
        except _ShardOut:
            shard = _shard_with_room(brand_id, template, tried)
    raise CouponNotEligible(template.id, [Reason("OUT_OF_STOCK")])


class _ShardOut(Exception):
    """This shard's part of the stock is given out (and nothing else refused the claim)."""


def _shard_with_room(brand_id: str, template: Template, tried: set[int]) -> int | None:
    issued = _brand_coupons(brand_id)[0].get(template.id, {})
    for shard in range(template.stock_shards):
        if shard not in tried and issued.get(shard, 0) < template.shard_stock(shard):
            return shard
    return None


def _claim_on(brand_id: str, member_id: str, template: Template, coupon: Coupon, expected_version: int | None,
              shard: int) -> Coupon:
    tx = Transaction()
    member = MemberItem.pk.exists()
    if expected_version is not None:
        # Eligibility (tier, tags, registration) was judged on the member as read at this version: a member who
        # changed meanwhile is judged again (a conflict), and one who is gone is found gone by that new read.
        member &= MemberItem.version == expected_version
    tx.check("member", MemberItem, keys.member_pk(brand_id, member_id), keys.PROFILE, member)
    # Paused is checked by the write too, not by a read first: one request fewer, and never stale.
    tx.check("paused", CouponPauseItem, keys.brand_pk(brand_id), keys.COUPON_PAUSE_PREFIX + template.id,
             CouponPauseItem.held_by.does_not_exist())
    # The coupon's id comes from the request's key: a retried request finds its coupon already there.
    tx.put("coupon", _coupon_item(brand_id, member_id, coupon), CouponItem.pk.does_not_exist(), return_old=True)
    count = CouponCountItem.count
    tx.update("limit", _count(brand_id, member_id, template.id), [count.add(1), _typed(CouponCountItem)],
              count.does_not_exist() | (count < template.per_member_limit))
    issued = CouponStockItem.issued
    part = template.shard_stock(shard)
    tx.update("stock", _stock(brand_id, template.id, shard), [issued.add(1), _typed(CouponStockItem)],
              None if part is None else issued.does_not_exist() | (issued < part))
    try:
        tx.commit(connection())
    except TransactWriteError as error:
        reasons_by_role = {role: reason for role, reason in zip(tx.roles, error.cancellation_reasons or ())
                           if reason is not None and reason.code == "ConditionalCheckFailed"}
        failed = set(reasons_by_role)
        if "coupon" in failed and reasons_by_role["coupon"].raw_item:
            return _coupon(CouponItem.from_raw_data(reasons_by_role["coupon"].raw_item))
        if "member" in failed:
            if expected_version is not None:
                raise WriteConflict("the member changed since eligibility was judged") from None
            raise MemberNotFound(member_id) from None
        if failed == {"stock"}:
            raise _ShardOut() from None
        reasons = []
        if "paused" in failed:
            reasons.append(Reason("PAUSED"))
        if "stock" in failed and _shard_with_room(brand_id, template, {shard}) is None:
            reasons.append(Reason("OUT_OF_STOCK"))
        if "limit" in failed:
            reasons.append(Reason("LIMIT_REACHED", {"limit": template.per_member_limit}))
        if reasons:
            raise CouponNotEligible(template.id, reasons) from None
        if response_code(error) == "TransactionCanceledException":
            raise WriteConflict(str(error)) from None
        raise
    return coupon


class CouponPauseItem(SiyuItem, discriminator="coupon_pause"):
    """A template that may not be claimed while anything in `held_by` (alert ids, operators) holds it."""

    template_id = UnicodeAttribute()
    held_by = UnicodeSetAttribute(null=True)


def _write_paused(tx, write: TemplatesPaused, record) -> None:
    for template_id in write.template_ids:
        item = CouponPauseItem(keys.brand_pk(write.brand_id), keys.COUPON_PAUSE_PREFIX + template_id)
        if write.resume:
            tx.update("conflict", item, [CouponPauseItem.held_by.delete({write.by})], None)
        else:
            # Two alerts turning red in one event hold the same template: one update, both holders.
            tx.add(item, held_by={write.by}, also_set={"template_id": template_id})


class Storage:
    """What the store gains from the coupons family (infra/family_storage.py)."""

    def coupon_state(self, brand_id: str) -> tuple[dict[str, int], frozenset[str]]:
        """How many coupons of each template the brand has given out, and which templates may not be claimed now
        (a red crisis alert holds them, for instance)."""
        return brand_state(brand_id)

    def claim_coupon(self, brand_id: str, member_id: str, template: Template, coupon: Coupon,
                     expected_version: int | None = None) -> Coupon:
        """Write a claimed coupon; raises `CouponNotEligible` (out of stock, limit reached) or `MemberNotFound`,
        and `WriteConflict` when the member changed since `expected_version` (eligibility was judged on it)."""
        return claim(brand_id, member_id, template, coupon, expected_version)


WRITERS = {CouponIssued: _write_issued, CouponUsed: _write_used, TemplatesPaused: _write_paused}
HOLDINGS = {CouponItem: ("coupons", _coupon)}
