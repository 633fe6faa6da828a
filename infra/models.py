"""pynamodb models for every item kind in the single table.

All kinds derive from `SiyuItem`, whose discriminator attribute lets one Query over a member's partition come back
as typed objects (profile, lots, request records) in a single request.
"""

from __future__ import annotations

import json
import json.encoder
import zlib
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    UnicodeSetAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model

from infra import item_codec, table
from rules.entry_codec import deflate


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def packed(value: Any) -> bytes:
    """A `PackedJSONAttribute`'s wire value (`B`) of `value`: for writers that build an item directly."""
    # `_COMPACT.encode(value)` is `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` without making an
    # encoder per call; a list or a dict (all that is packed) goes straight to the C encoder `encode` ends in.
    if _c_encoder is not None and (value.__class__ is list or value.__class__ is dict):
        return deflate("".join(_c_encoder({}, _COMPACT.default, _ENCODE_TEXT, None, ":", ",", False, False,
                                          True)(value, 0)).encode())
    return deflate(_COMPACT.encode(value).encode())


# What `_COMPACT.encode` of a list or a dict comes to (issue 15: three blobs per event, each through the Python of
# `JSONEncoder.encode` and `iterencode` to reach it): `c_make_encoder(markers, default, encoder, indent,
# key_separator, item_separator, sort_keys, skipkeys, allow_nan)` of a fresh markers dict (`check_circular`), the
# encoder's text function for `ensure_ascii=False`, called at level 0 (`_one_shot`). tests/unit/test_entry_codec.py
# holds it to `_COMPACT.encode`.
_c_encoder = json.encoder.c_make_encoder
_ENCODE_TEXT = json.encoder.encode_basestring


class PackedJSONAttribute(BinaryAttribute):
    """JSON, compact and deflated: a write unit is 1 KB, and an event's effects (names and explanations that
    repeat) shrink to about a third. Reads give back the JSON value, so exports show it as it was."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(legacy_encoding=False, **kwargs)

    def serialize(self, value: Any) -> bytes:
        return packed(value)

    def deserialize(self, value: bytes) -> Any:
        return json.loads(zlib.decompress(value))


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = table.DUE_INDEX
        projection = IncludeProjection(["type"])  # infra/table.py: the keys and the item's kind

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name=table.DUE_PK)
    gsi1sk = UnicodeAttribute(range_key=True, attr_name=table.DUE_SK)


class TimeIndex(LocalSecondaryIndex):
    class Meta:
        index_name = table.TIME_INDEX
        projection = AllProjection()  # infra/table.py: a member's history in time order

    pk = UnicodeAttribute(hash_key=True, attr_name=table.PK)
    t = UnicodeAttribute(range_key=True, attr_name=table.TIME_SK)


class SiyuItem(Model):
    class Meta:
        # Bound at start-up from settings by `infra.db.bind`.
        table_name = "siyu-local"
        region = "us-east-1"
        host = None

    pk = UnicodeAttribute(hash_key=True, attr_name=table.PK)
    sk = UnicodeAttribute(range_key=True, attr_name=table.SK)
    kind = DiscriminatorAttribute(attr_name="type")
    ttl = TTLAttribute(null=True, attr_name=table.TTL_ATTRIBUTE)
    # Set only on items that fall due on a day (see infra/table.py): the due index stays sparse.
    gsi1pk = UnicodeAttribute(null=True, attr_name=table.DUE_PK)
    gsi1sk = UnicodeAttribute(null=True, attr_name=table.DUE_SK)
    by_due = DueIndex()
    # Set only on history items (infra/table.py, `TIME_INDEX`): `<time key>#<event or request id>`.
    t = UnicodeAttribute(null=True, attr_name=table.TIME_SK)
    by_time = TimeIndex()

    def __init__(self, hash_key: Any = None, range_key: Any = None, _user_instantiated: bool = True,
                 **attributes: Any) -> None:
        # Every item the store writes is made here: the same object as pynamodb's `Model.__init__`, from a plan
        # per class instead of a descriptor lookup per value (infra/item_codec.py, issue 15).
        if _user_instantiated:
            item_codec.init(self, hash_key, range_key, attributes)
        else:
            super().__init__(hash_key, range_key, _user_instantiated=False, **attributes)

    @classmethod
    def from_raw_data(cls, data: dict[str, Any]) -> Any:
        # Every item read (queries, gets) is built here: the same object, less CPU (infra/item_codec.py).
        return item_codec.from_raw_data(cls, data)

    @classmethod
    def query(cls, hash_key: Any, range_key_condition: Any = None, filter_condition: Any = None,
              consistent_read: bool = False, index_name: str | None = None, scan_index_forward: bool | None = None,
              limit: int | None = None, last_evaluated_key: Any = None, attributes_to_get: Any = None,
              page_size: int | None = None, rate_limit: float | None = None) -> Any:
        # pynamodb's query, whose filter on the item kinds (for this base class an IN of every kind) is built once,
        # not on every Query (infra/item_codec.py): the same request.
        return item_codec.query(cls, hash_key, range_key_condition, filter_condition, consistent_read, index_name,
                                scan_index_forward, limit, last_evaluated_key, attributes_to_get, page_size,
                                rate_limit)


class BrandItem(SiyuItem, discriminator="brand"):
    brand_id = UnicodeAttribute()
    name = UnicodeAttribute()
    tiers = JSONAttribute()
    timezone = UnicodeAttribute()
    points_validity_days = NumberAttribute()
    tier_validity_months = NumberAttribute()
    plugins = JSONAttribute(default=dict)
    redemption = JSONAttribute(null=True)
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)


class MemberItem(SiyuItem, discriminator="member"):
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    # Personal data: null for a member created by WeChat login without a phone, and once erased (rules/erasure.py).
    phone_hash = UnicodeAttribute(null=True)
    phone_masked = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()
    referral_code = UnicodeAttribute(null=True)
    referred_by_code = UnicodeAttribute(null=True)
    # Keyed hashes (rules/identity.py): the WeChat ids themselves are never stored.
    openid_hash = UnicodeAttribute(null=True)
    unionid_hash = UnicodeAttribute(null=True)
    registered_at = UTCDateTimeAttribute()
    tier_code = UnicodeAttribute()
    tier_valid_until = UTCDateTimeAttribute(null=True)
    paid_until = UTCDateTimeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)
    birthday_set_at = UTCDateTimeAttribute(null=True)  # by the member (updateProfile): once a year
    tags = UnicodeSetAttribute(null=True)  # the brand's groups for this member (coupon eligibility, ...)
    nickname = UnicodeAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)
    erased_by = UnicodeAttribute(null=True)
    growth = NumberAttribute(default=0)
    balance = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    version = NumberAttribute(default=0)
    # Running totals the rules keep (rules.effects.AddToTotal), {name: whole number}: set whole on the version read.
    totals = JSONAttribute(null=True, attr_name="tot")


class LotItem(SiyuItem, discriminator="lot"):
    brand_id = UnicodeAttribute()
    member_id = UnicodeAttribute()
    lot_id = UnicodeAttribute()
    earned = NumberAttribute()
    remaining = NumberAttribute()
    earned_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    source = UnicodeAttribute(null=True)  # what earned it ("points:order:o1"): a refund of it takes from here first


class AllocationMap(MapAttribute):
    lot = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    points = NumberAttribute()


class EntryItem(SiyuItem, discriminator="entry"):
    entry_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    entry_kind = UnicodeAttribute()
    points = NumberAttribute()
    allocations = ListAttribute(of=AllocationMap)
    reason = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    reverses = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)
    explanation = JSONAttribute(null=True)


class PackedEntries(PackedJSONAttribute):
    """A history item's ledger entries, compact: what the item already says (its time, its event) is not
    repeated, and names are one letter (`infra.dynamo_store._pack_entries`)."""


class ReversalItem(SiyuItem, discriminator="reversal"):
    entry_id = UnicodeAttribute()
    reversed_by = UnicodeAttribute()


class RequestItem(SiyuItem, discriminator="request"):
    key = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    result = JSONAttribute()
    at = UTCDateTimeAttribute()


class LookupItem(SiyuItem, discriminator="lookup"):
    member_id = UnicodeAttribute()


class MarkerItem(SiyuItem, discriminator="marker"):
    """A `Once` marker in the member's partition: this rule already fired for this key."""

    key = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    data = JSONAttribute(null=True)


class MarkerGroupItem(SiyuItem, discriminator="marks"):
    """An event's markers about single orders (`keys.is_per_order_marker`), in one item: a transactional write
    costs 2 units per KB however small the item, and two or three small markers fit one KB. Claimed under the
    member's version like every marker (the write is conditioned on the version the event read).
    `marks`: {key: [data or null, forget after (ISO 8601)]}; the item's TTL is the latest of them."""

    at = UTCDateTimeAttribute()
    marks = JSONAttribute()


class ConsentItem(SiyuItem, discriminator="consent"):
    """One grant or withdrawal of consent for one purpose: written once, never changed (rules/consent.py)."""

    record_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    granted = BooleanAttribute()
    policy_version = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    channel = UnicodeAttribute()
    actor = UnicodeAttribute()


class AuditItem(SiyuItem, discriminator="audit"):
    """One staff mutation, as it was called and how it ended: written once, never changed or deleted."""

    audit_id = UnicodeAttribute()
    brand_id = UnicodeAttribute()
    staff_id = UnicodeAttribute()
    mutation = UnicodeAttribute()
    arguments = JSONAttribute()
    at = UTCDateTimeAttribute()
    outcome = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)


class ProcessedItem(SiyuItem, discriminator="processed"):
    """Written in the same transaction as an event's effects: its existence means the event was applied."""

    event_id = UnicodeAttribute()
    brand_id = UnicodeAttribute()
    detail_type = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    # Null when the member's activity item holds them (`member_id`): the effects are stored once.
    effects = JSONAttribute(null=True)
    follow_ups = JSONAttribute()
    member_id = UnicodeAttribute(null=True)
    # What the event said (rules.events.fingerprint): the same id with other content is not a duplicate.
    fingerprint = UnicodeAttribute(null=True)
    # Whom the event was about and what it was worth: read off the change stream by the brand's KPIs, so that
    # counting them never costs the event's path a request (plugins/insights/).
    subject_id = UnicodeAttribute(null=True)
    amount_fen = NumberAttribute(null=True)


class ActivityItem(SiyuItem, discriminator="activity"):
    """In the member's history partition, kept for good: what one event did to the member, and why."""

    event_id = UnicodeAttribute()
    detail_type = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    # Written packed (`fx`); `effects` is how items written before that hold them, still read.
    packed = PackedJSONAttribute(null=True, attr_name="fx")
    effects = JSONAttribute(null=True)
    # The event's ledger entries (one item for what the event did, issue 15), packed.
    entries = PackedEntries(null=True, attr_name="en")

    @property
    def what_happened(self) -> list:
        return (self.packed if self.packed is not None else self.effects) or []


class OrderItem(SiyuItem, discriminator="order"):
    """One per order, in the member's history partition at `O#<order ref>` (keys.order_sk): every plugin's markers
    about that order, merged across the order's events (`marks`: {key: [data or null, forget after (ISO 8601)]}; a
    marker past its forget-after is ignored on read), and the history of the event that opened it (normally
    order.paid): its effects, its ledger entries and `t`, which lists it in the member's history (the `byTime`
    index). An order event that is not the first about the order keeps its own history in an `ActivityItem`.
    `order.paid` puts it without reading it (`attribute_not_exists`); any other write to it is planned from a
    strongly consistent read and conditioned, like every marker, on the member's version."""

    marks = PackedJSONAttribute(null=True, attr_name="m")
    detail_type = UnicodeAttribute(null=True, attr_name="d")
    packed = PackedJSONAttribute(null=True, attr_name="fx")
    entries = PackedEntries(null=True, attr_name="en")

    # The event's time and id are the item's place in the history (`t`): not stored twice.
    @property
    def at(self) -> Any:
        from datetime import datetime, timezone

        return datetime.strptime(self.t.split("#", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc) \
            if self.t else None

    @property
    def event_id(self) -> str | None:
        return self.t.split("#", 1)[1] if self.t else None

    @property
    def what_happened(self) -> list:
        return self.packed or []


class AttemptItem(SiyuItem, discriminator="attempt"):
    """Attempts of one action by one member in one window (rules/limits.py); expires by itself after the window."""

    action = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)


class ProblemItem(SiyuItem, discriminator="problem"):
    """An event that was rejected (invalid) or failed (a plugin raised): kept with its reason, never dropped."""

    event_id = UnicodeAttribute()
    brand_id = UnicodeAttribute(null=True)
    detail_type = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute()
    field = UnicodeAttribute(null=True)
    plugin = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    raw = UnicodeAttribute(null=True)  # masked (rules/free_text.py); removed when the member it names is erased
    member_id = UnicodeAttribute(null=True)


class ProblemGuardItem(SiyuItem, discriminator="problemguard"):
    """Written with a problem, on a key derived from the event (id and content): its existence means that
    problem is kept, so delivering the same bad event again keeps nothing new."""

    event_id = UnicodeAttribute()
    problem_sk = UnicodeAttribute()


class SweepMarkItem(SiyuItem, discriminator="sweepmark"):
    """A brand's watermark of a sweep: everything due up to `swept_until` has been handled."""

    brand_id = UnicodeAttribute()
    swept_until = UTCDateTimeAttribute()
