"""`DynamoStore`: the `rules.persistence.Store` protocol on one DynamoDB table, through pynamodb.

Every write is one TransactWriteItems whose conditions encode what the plan was based on; a failed condition is
translated back into the domain's terms (a conflict to retry, a request seen before, a lookup already taken).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from types import MappingProxyType
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from infra import daily_totals, family_storage, item_codec, keys, member_read, settings, table
from infra.paging import decode_cursor, newest_first, page
from infra.transactions import (Transaction, Written, at, connection, expressions, fixed, json_text, number_text,
                                ttl_text, utc_text)
from infra.dynamo_errors import response_code, translating
from infra.profile_store import ProfileStore
from infra.sweep_runs import SweepRunStorage
from infra.models import (
    ActivityItem,
    AllocationMap,
    AttemptItem,
    AuditItem,
    BrandItem,
    ConsentItem,
    EntryItem,
    LookupItem,
    LotItem,
    MarkerGroupItem,
    MarkerItem,
    MemberItem,
    OrderItem,
    ProblemGuardItem,
    ProblemItem,
    ProcessedItem,
    RequestItem,
    ReversalItem,
    SiyuItem,
    SweepMarkItem,
    packed,
)
from rules import entry_codec
from rules.ids import time_key
from rules import erasure as erasure_rules
from rules.audit import AuditRecord
from rules.brands import BrandConfig, RedemptionPolicy, TierLevel
from rules.consent import ConsentRecord, Purpose
from rules.errors import Busy, InvalidInput, MemberNotFound, WriteConflict
from rules.ledger import Allocation, Entry, EntryKind, Lot, PointsState, Posting
from rules.members import LookupKind, MemberProfile, MemberState, Registration, RequestRecord, lookups_for
from rules.persistence import (
    AlreadyReversed,
    Due,
    EventAlreadyProcessed,
    EventProblem,
    Erasure,
    EventRecord,
    LookupTaken,
    Marks,
    MemberChange,
    MemberData,
    OrderAlreadyOpened,
    Page,
    RequestAlreadyRecorded,
    Standing,
    StoredItem,
)

REQUEST_RECORD_DAYS = 30
# EventBridge retries for up to 24 hours and a dead-letter queue keeps events 14 days: a redelivery (or a redrive)
# within 35 days is recognised as a duplicate. Records also outlive the oldest event Siyu accepts
# (SIYU_EVENT_MAX_AGE_DAYS): an event is refused as too old before its record could have expired, so nothing
# applies twice.
PROCESSED_RECORD_DAYS = 35
BRAND_CACHE_SIZE = 1024
_CONFLICT_CODES = {"ConditionalCheckFailed", "TransactionConflict"}


class CoreStore(ProfileStore):
    """The core's half of the store: brands, members, the ledger, events, sweeps, audit. `DynamoStore` below is
    this with the families' `Storage` classes (infra/family_storage.py)."""

    def __init__(self, brand_cache_seconds: float = 60.0, audit_archive: Any = None) -> None:
        # infra/audit_archive.py: where audit records are also kept, beyond any function's reach to overwrite.
        self.audit_archive = audit_archive
        self._brand_cache: dict[str, tuple[float, BrandConfig | None]] = {}
        self._brand_cache_seconds = brand_cache_seconds
        self._lock = threading.Lock()

    @staticmethod
    def _connection() -> Connection:
        return connection()

    # ---- brands -------------------------------------------------------------------------------------------------

    def get_brand(self, brand_id: str, *, fresh: bool = False) -> BrandConfig | None:
        # Cached per container: brand configuration changes rarely and every event and request needs it.
        now = time.monotonic()
        # Read without the lock: one `dict.get` is atomic, and the lock only keeps the writers' bounded eviction
        # below whole (every event reads here; a write is the rare miss).
        hit = self._brand_cache.get(brand_id)
        if hit and hit[0] > now and not fresh:
            return hit[1]
        try:
            item = BrandItem.get(keys.brand_pk(brand_id), keys.CONFIG)
            config = _brand_from_item(item)
        except BrandItem.DoesNotExist:
            config = None
        with self._lock:
            # Bounded: loginWithWechat takes a brand id from anyone, and every unknown one is cached as a miss.
            while len(self._brand_cache) >= BRAND_CACHE_SIZE:
                self._brand_cache.pop(next(iter(self._brand_cache)))
            self._brand_cache[brand_id] = (now + self._brand_cache_seconds, config)
        return config

    def put_brand(self, config: BrandConfig) -> BrandConfig:
        saved = replace(config, version=config.version + 1)
        item = BrandItem(
            keys.brand_pk(config.brand_id), keys.CONFIG,
            brand_id=config.brand_id, name=config.name,
            tiers=[{"code": t.code, "name": t.name, "threshold": t.threshold, "deduction": t.deduction,
                    "benefits": dict(t.benefits)} for t in config.tiers],
            timezone=config.timezone, points_validity_days=config.points_validity_days,
            tier_validity_months=config.tier_validity_months, plugins=dict(config.plugins),
            redemption={"pointsPerYuan": config.redemption.points_per_yuan,
                        "minimumPoints": config.redemption.minimum_points,
                        "maxShareOfOrder": config.redemption.max_share_of_order},
            version=saved.version, updated_at=config.updated_at,
        )
        # Optimistic: a concurrent edit of the same brand makes one of the two saves fail instead of both winning.
        condition = BrandItem.pk.does_not_exist() if config.version == 0 else (BrandItem.version == config.version)
        try:
            item.save(condition=condition)
        except PutError as error:
            if response_code(error) == "ConditionalCheckFailedException":
                raise Busy("the brand's configuration changed meanwhile; nothing was saved, read it again") from None
            raise
        with self._lock:
            self._brand_cache.pop(config.brand_id, None)
        return saved

    def forget_brands(self) -> None:
        with self._lock:
            self._brand_cache.clear()

    # ---- members ------------------------------------------------------------------------------------------------

    def load_member(self, brand_id: str, member_id: str, *, request_key: str | None = None,
                    as_of: datetime | None = None, include_erased: bool = False,
                    page: bool = False, marks: Marks | None = None) -> MemberState | None:
        wanted_request = keys.request_sk(request_key) if request_key else None
        mpk = keys.member_pk(brand_id, member_id)
        # The filter drops what the rules never need (emptied lots stored by earlier versions, other requests'
        # records) from the response; the key condition keeps it to this one partition, for `marks` to the part
        # below `STATE_END` (no request records, no per-order markers) and for the page below `PAGE_END` (no daily
        # totals either): what they pay for does not grow with the member's orders (`_member_conditions`).
        # Strongly consistent: what is read here becomes the conditions of the write (versions, lot remainders),
        # and a stale replica would only make the write fail and the engine read again. The read-only page
        # (`page`) writes nothing, and reads eventually consistent at half the price (README, "Benchmarks").
        # The request is serialised once per shape and the items decoded from the wire (infra/member_read.py).
        below_page = page or marks is not None
        named_request = request_key if wanted_request and not page else None
        raw_items = member_read.query(
            (page, below_page), lambda request, cut_off: _member_conditions(page, below_page, request, cut_off),
            mpk, request_key=named_request, as_of=as_of, consistent_read=not page)
        # Lots and the profile (most of the items) straight from the wire, the kinds read below through their
        # models, and the kinds no member load reads (counters...) not decoded (`_kind_plan`).
        lots: list[Lot] = []
        profile: dict[str, Any] | None = None
        items: list[Any] = []
        readers = family_storage.holdings()  # (read once per load: the plan below and the holdings after the loop)
        plan = _kind_plan(readers)
        lot_of, add_lot, add_item = member_read.lot, lots.append, items.append
        for raw in raw_items:
            stored = raw.get("type")  # the kind as stored: "lot", "member", ...
            how = plan.get(stored.get("S")) if stored else None
            if how is None:  # (a kind the table does not know fails there, as it did)
                add_item(SiyuItem.from_raw_data(raw))
                continue
            way, cls = how
            if way is _AS_LOT:  # (most of the items: first)
                lot = lot_of(raw) if cls is LotItem else None
                add_lot(lot if lot is not None else _lot_from_item(SiyuItem.from_raw_data(raw)))
            elif way is _AS_MODEL:  # (the class is the kind's: `from_raw_data` without reading the kind again)
                add_item(_made(cls, raw))
            elif way is _AS_MARKER:  # (its key and data from the wire, in its place among the items)
                add_item(member_read.marker(raw) or _made(cls, raw))
            elif way is _AS_PROFILE:
                profile = item_codec.attribute_values(cls, raw)
        lpk = keys.ledger_pk(brand_id, member_id)
        if marks is not None and not page:
            if wanted_request:
                try:
                    record = RequestItem.get(mpk, wanted_request, consistent_read=True)
                    if as_of is None or record.ttl is None or record.ttl > as_of:
                        items.append(record)
                except RequestItem.DoesNotExist:
                    pass
            if marks.order is not None and not marks.opens:
                # The order's item (its markers, whoever claimed them), by key: one small read whatever the
                # member's history. An event that opens the order does not read it (`Marks.opens`).
                try:
                    items.append(OrderItem.get(lpk, keys.order_sk(keys.order_ref(marks.order)),
                                               consistent_read=True))
                except OrderItem.DoesNotExist:
                    pass
            if marks.visits:
                # The visits' markers (check-ins, engagement; short-lived), one Query over what they hold.
                items += SiyuItem.query(mpk, SiyuItem.sk.startswith(keys.VISIT_MARKS),
                                        filter_condition=_live(as_of) if as_of is not None else None,
                                        consistent_read=True)
        elif not page:
            # A whole load (a sweep): the orders a marker due for the sweep is about come with their items (a
            # pending commission with its order's refunds and settlement).
            named = sorted({o for o in (keys.due_marker_order(i.sk) for i in items
                                        if isinstance(i, MarkerItem) or i.__class__ is _WireMarker)
                            if o is not None})
            if named:
                items += OrderItem.batch_get([(lpk, keys.order_sk(o)) for o in named], consistent_read=True)
        markers: dict[str, dict] = {}
        consents: list[ConsentRecord] = []
        request: RequestRecord | None = None
        holdings: dict[str, list] = {}
        orders: dict[str, Any] = {}
        daily: dict[str, dict] = {}
        for item in items:
            if item.__class__ is _WireMarker:
                markers[item.key] = item.data
                continue
            reader = readers.get(type(item))
            if reader is not None:
                holdings.setdefault(reader[0], []).append(reader[1](item))
            elif isinstance(item, RequestItem):
                request = _request_from_item(item)
            elif isinstance(item, MarkerItem):
                # (`attribute_values` by Python name: what the descriptors give, without a call per value)
                v = item.attribute_values.get
                markers[v("key")] = v("data") or {}
            elif isinstance(item, MarkerGroupItem):
                for key, (data, forget_after) in item.attribute_values.get("marks").items():
                    if as_of is None or datetime.fromisoformat(forget_after) > as_of:
                        markers[key] = data or {}
            elif isinstance(item, OrderItem):
                _read_order(item, as_of, markers, orders)
            elif isinstance(item, ConsentItem):
                consents.append(_consent_from_item(item))
            elif isinstance(item, daily_totals.DailyTotalsItem):
                daily_totals.absorb(daily, item)
        if profile is None or (profile.get("erased_at") is not None and not include_erased):
            return None
        v = profile.get
        return _new_state((
            _profile_from_values(v),
            _new_points((int(v("balance")), tuple(lots), int(v("debt") or 0))),
            request,
            int(v("version")),
            MappingProxyType(markers),
            tuple(consents),
            MappingProxyType({family: tuple(items) for family, items in holdings.items()}),
            MappingProxyType(dict(v("totals") or {})),
            MappingProxyType(orders),
            MappingProxyType(daily),
        ))

    def load_order(self, state: MemberState, order_id: str, *, as_of: datetime | None = None) -> MemberState:
        p = state.profile
        markers, orders = dict(state.markers), dict(state.orders)
        try:
            _read_order(OrderItem.get(keys.ledger_pk(p.brand_id, p.member_id),
                                      keys.order_sk(keys.order_ref(order_id)), consistent_read=True),
                        as_of, markers, orders)
        except OrderItem.DoesNotExist:
            pass
        return replace(state, markers=MappingProxyType(markers), orders=MappingProxyType(orders))

    def find_member_id(self, brand_id: str, kind: LookupKind, value: str) -> str | None:
        try:
            return LookupItem.get(keys.lookup_pk(brand_id, kind, value), keys.LOOKUP).member_id
        except LookupItem.DoesNotExist:
            return None

    def register(self, registration: Registration) -> MemberProfile:
        p = registration.profile
        member = MemberItem(
            keys.member_pk(p.brand_id, p.member_id), keys.PROFILE,
            brand_id=p.brand_id, member_id=p.member_id, phone_hash=p.phone_hash, phone_masked=p.phone_masked,
            channel=p.channel, referral_code=p.referral_code, referred_by_code=p.referred_by_code,
            openid_hash=p.openid_hash, unionid_hash=p.unionid_hash, registered_at=p.registered_at, tier_code=p.tier_code,
            tier_valid_until=p.tier_valid_until, growth=p.growth, balance=0, version=0, birthday=p.birthday,
            nickname=p.nickname,
        )
        lookups = [(kind, LookupItem(keys.lookup_pk(p.brand_id, kind, value), keys.LOOKUP, member_id=p.member_id))
                   for kind, value in registration.lookups]
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.save(member, condition=MemberItem.pk.does_not_exist())
                for _, item in lookups:
                    tx.save(item, condition=LookupItem.pk.does_not_exist())
        except TransactWriteError as error:
            reasons = error.cancellation_reasons
            for (kind, _), reason in zip(lookups, reasons[1:]):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    raise LookupTaken(kind) from None
            raise
        return p

    def set_nickname(self, brand_id: str, member_id: str, nickname: str | None) -> None:
        member = MemberItem(keys.member_pk(brand_id, member_id), keys.PROFILE)
        action = MemberItem.nickname.set(nickname) if nickname else MemberItem.nickname.remove()
        try:
            member.update(actions=[action], condition=_live_member())
        except UpdateError as error:
            if response_code(error) == "ConditionalCheckFailedException":
                raise MemberNotFound(member_id) from None
            raise

    def record_consent(self, profile: MemberProfile, record: ConsentRecord) -> None:
        mpk = keys.member_pk(profile.brand_id, profile.member_id)
        item = ConsentItem(mpk, keys.consent_sk(record.at, record.record_id), record_id=record.record_id,
                           purpose=record.purpose.value, granted=record.granted, policy_version=record.policy_version,
                           at=record.at, channel=record.channel, actor=record.actor)
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.save(item, condition=ConsentItem.pk.does_not_exist())
                # Consent is recorded only for a member that exists and is not erased, in the same request; and
                # since events read consents (marketing notifications), recording one moves the member's version.
                tx.update(MemberItem(mpk, keys.PROFILE), actions=[MemberItem.version.add(1)],
                          condition=_live_member())
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed":
                raise MemberNotFound(profile.member_id) from None
            raise

    def member_data(self, brand_id: str, member_id: str) -> MemberData:
        items: list[StoredItem] = []
        profile: MemberProfile | None = None
        for partition, pk in (("member", keys.member_pk(brand_id, member_id)),
                              ("history", keys.ledger_pk(brand_id, member_id))):
            for raw in _query_partition(self._connection().client, pk):
                items.append(_stored_item(partition, raw))
                if partition == "member" and raw[table.SK]["S"] == keys.PROFILE:
                    profile = _profile_from_item(MemberItem.from_raw_data(raw))
        found: list[tuple[LookupKind, str]] = []
        if profile is not None and not profile.erased:
            wanted = {keys.lookup_pk(brand_id, kind, value): (kind, value) for kind, value in lookups_for(profile)}
            for lookup in LookupItem.batch_get([(pk, keys.LOOKUP) for pk in wanted]):
                if lookup.member_id == member_id:
                    found.append(wanted[lookup.pk])
        found.sort(key=lambda kv: list(LookupKind).index(kv[0]))
        return MemberData(items=tuple(items), lookups=tuple(found))

    def erase_member(self, erasure: Erasure) -> None:
        mpk = keys.member_pk(erasure.brand_id, erasure.member_id)
        member = MemberItem(mpk, keys.PROFILE)
        actions = [MemberItem.erased_at.set(erasure.at), MemberItem.erased_by.set(erasure.actor),
                   MemberItem.version.add(1), MemberItem.gsi1pk.remove(), MemberItem.gsi1sk.remove()]
        actions += [getattr(MemberItem, name).remove() for name in erasure_rules.PERSONAL_ATTRIBUTES
                    if name in MemberItem.get_attributes()]
        condition = (MemberItem.version == erasure.expected_version) & MemberItem.erased_at.does_not_exist()
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.update(member, actions=actions, condition=condition)
                for kind, value in erasure.lookups:
                    # Freed so the phone or WeChat account can join again as a new member; a lookup that points
                    # to someone else is never touched.
                    tx.delete(LookupItem(keys.lookup_pk(erasure.brand_id, kind, value), keys.LOOKUP),
                              condition=LookupItem.pk.does_not_exist() | (LookupItem.member_id == erasure.member_id))
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if any(r is not None and r.code in _CONFLICT_CODES for r in reasons):
                raise WriteConflict(str(error)) from None
            raise
        self.scrub_member(erasure.brand_id, erasure.member_id)

    def scrub_member(self, brand_id: str, member_id: str) -> int:
        """Remove `PERSONAL_ATTRIBUTES` from every item of the member's partitions that still holds one (item types
        that copy personal data, now or later). Idempotent; returns how many items it changed."""
        client = self._connection().client
        names = {f"#a{i}": name for i, name in enumerate(erasure_rules.PERSONAL_ATTRIBUTES)}
        holding = " OR ".join(f"attribute_exists({alias})" for alias in names)
        text_names: dict[str, str] = {}
        values: dict[str, Any] = {}
        for i, (kind, attributes) in enumerate(erasure_rules.PERSONAL_TEXT.items()):
            values[f":k{i}"] = {"S": kind}
            for j, name in enumerate(attributes):
                text_names[f"#t{i}_{j}"] = name
                holding += f" OR (#type = :k{i} AND attribute_exists(#t{i}_{j}))"
        found: list[tuple[dict, dict[str, str]]] = []
        for pk in (keys.member_pk(brand_id, member_id), keys.ledger_pk(brand_id, member_id)):
            for raw in _query_partition(client, pk, filter_expression=holding,
                                        names={**names, **text_names, "#type": "type"}, values=values):
                kind = raw.get("type", {}).get("S")
                present = {alias: name for alias, name in names.items() if name in raw}
                present |= {alias: name for alias, name in text_names.items()
                            if name in raw and name in erasure_rules.PERSONAL_TEXT.get(kind, ())}
                found.append(({table.PK: raw[table.PK], table.SK: raw[table.SK]}, present))
        # Events about the member kept for staff as problems: their raw event goes (masked, but still theirs).
        for raw in _query_partition(client, keys.problems_pk(brand_id), filter_expression="#m = :m AND "
                                    "attribute_exists(#raw)", names={"#m": "member_id", "#raw": "raw"},
                                    values={":m": {"S": member_id}}):
            found.append(({table.PK: raw[table.PK], table.SK: raw[table.SK]}, {"#raw": "raw"}))
        for forget in family_storage.on_erasure():
            forget(brand_id, member_id)  # lists of the family's that name the member (segments), idempotently
        for finder in family_storage.personal_copies():
            # Copies in other partitions (a family that lists a member elsewhere): removing an attribute
            # that is not there is harmless, so every personal attribute name goes.
            found += [({table.PK: {"S": pk}, table.SK: {"S": sk}}, names) for pk, sk in finder(brand_id, member_id)]
        for key, present in found:
            try:
                client.update_item(
                    TableName=SiyuItem.Meta.table_name, Key=key, UpdateExpression="REMOVE " + ", ".join(present),
                    ConditionExpression=f"attribute_exists({table.PK})", ExpressionAttributeNames=present)
            except client.exceptions.ConditionalCheckFailedException:
                continue  # the copy is gone already
        return len(found)

    def set_tags(self, brand_id: str, member_id: str, tags: tuple[str, ...]) -> None:
        member = MemberItem(keys.member_pk(brand_id, member_id), keys.PROFILE)
        action = MemberItem.tags.set(set(tags)) if tags else MemberItem.tags.remove()
        member.update(actions=[action, MemberItem.version.add(1)], condition=_live_member())

    def set_standing(self, profile: MemberProfile, *, growth: int, tier_code: str,
                     tier_valid_until: datetime | None) -> None:
        member, actions, condition = _member_update(profile, None, Standing(growth, tier_code, tier_valid_until), None)
        member.update(actions=actions, condition=condition)

    # ---- abuse limits -------------------------------------------------------------------------------------------

    def count_attempt(self, brand_id: str, member_id: str, action: str, *, window_start: datetime, limit: int,
                      expires_at: datetime, live_member: bool = False) -> bool:
        # One conditional UpdateItem: concurrent attempts each add 1 only while the count is under the limit, so
        # no two of them can both take the last slot. The first attempt of a window creates the item.
        item = AttemptItem(keys.attempts_pk(brand_id, member_id), keys.attempt_sk(action, window_start))
        actions = [AttemptItem.attempts.add(1), AttemptItem.kind.set(AttemptItem), AttemptItem.action.set(action),
                   AttemptItem.ttl.set(expires_at)]
        condition = AttemptItem.attempts.does_not_exist() | (AttemptItem.attempts < limit)
        if live_member:
            # Nothing is written about a member who is gone (erased, or never was): the member's existence is a
            # condition of the same write, in one transaction.
            try:
                with TransactWrite(connection=self._connection()) as tx:
                    tx.condition_check(MemberItem, keys.member_pk(brand_id, member_id), keys.PROFILE,
                                       condition=_live_member())
                    tx.update(item, actions=actions, condition=condition)
            except TransactWriteError as error:
                member, counter = (list(error.cancellation_reasons or []) + [None, None])[:2]
                if member is not None and member.code == "ConditionalCheckFailed":
                    raise MemberNotFound(member_id) from None
                if counter is not None and counter.code == "ConditionalCheckFailed":
                    return False
                # Anything else (TransactionConflict: two attempts of one member at the same instant, throttling)
                # is passing trouble: StoreUnavailable, which the caller's retry loop runs again and answers `Busy`
                # past its budget.
                raise
            return True
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as error:
            if response_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release_attempt(self, brand_id: str, member_id: str, action: str, *, window_start: datetime) -> None:
        item = AttemptItem(keys.attempts_pk(brand_id, member_id), keys.attempt_sk(action, window_start))
        try:
            item.update(actions=[AttemptItem.attempts.add(-1)], condition=AttemptItem.attempts > 0)
        except UpdateError as error:
            if response_code(error) != "ConditionalCheckFailedException":
                raise

    # ---- ledger -------------------------------------------------------------------------------------------------

    def post(self, profile: MemberProfile, posting: Posting, *, request: RequestRecord | None = None) -> None:
        tx = Transaction()
        if request is not None:
            record = RequestItem(keys.member_pk(profile.brand_id, profile.member_id), keys.request_sk(request.key),
                                 key=request.key, fingerprint=request.fingerprint, result=request.result,
                                 at=request.at, ttl=request.at + timedelta(days=REQUEST_RECORD_DAYS))
            # A record past its TTL is forgotten (reads skip it too): after REQUEST_RECORD_DAYS a key is new again.
            tx.put("request", record, RequestItem.pk.does_not_exist() | (RequestItem.ttl <= request.at),
                   return_old=True)
        posting_writes(tx, profile, posting)
        tx.update("conflict", *_member_update(profile, posting, None, None))
        self._commit(tx, posting)

    def commit_event(self, record: EventRecord, change: MemberChange | None, side: tuple = ()) -> None:
        tx = Transaction()
        shown = () if change is None else record.effects if record.member_effects is None else record.member_effects
        # The effects are stored once: in the member's history item when it holds them all (the order's item or
        # an activity item, found by `time_sk` in the `byTime` index), which the processed record then names (a
        # duplicate delivery reads them back from there), else in the processed record.
        in_history = bool(shown) and tuple(shown) == tuple(record.effects)
        # This event's items are written in their wire form directly (`_processed_item`, ...: issue 15, engine CPU);
        # tests/conftest.py compares every commit with the models this method wrote before (tests/wire_reference.py).
        tx.put("event", _processed_item(record, change.profile.member_id if in_history else None,
                                        None if in_history else list(record.effects)),
               _NEW[ProcessedItem], return_old=True)
        posting = change.posting if change else None
        if change is not None:
            p = change.profile
            mpk = keys.member_pk(p.brand_id, p.member_id)
            lpk = keys.ledger_pk(p.brand_id, p.member_id)
            # Markers about an order go to the order's item (all of them, due ones too, so that reading it is
            # reading the order); those about visits in one item per event; the others one item each.
            orders: dict[str, dict[str, list]] = {}
            visits: dict[str, list] = {}
            visits_until: datetime | None = None
            alone = []  # the markers of an item each, in the order given (each key's order looked up once)
            # An order's markers are mostly kept as long as each other: a UTC time's text is made once (equal UTC
            # times have the same fields).
            forget_texts: dict[datetime, str] = {}
            for marker in change.markers:
                key, forget_after, data, due_at = marker
                order = keys.marker_order(key)
                if order is not None:
                    if forget_after.__class__ is datetime and forget_after.tzinfo is timezone.utc:
                        text = forget_texts.get(forget_after)
                        if text is None:
                            text = forget_texts[forget_after] = forget_after.isoformat()
                    else:
                        text = forget_after.isoformat()
                    orders.setdefault(order, {})[key] = [dict(data) or None, text]
                    if due_at is not None:
                        alone.append(marker)
                elif due_at is None and keys.is_per_order_marker(key):
                    visits[key] = [dict(data) or None, forget_after.isoformat()]
                    visits_until = max(visits_until or forget_after, forget_after)
                else:
                    alone.append(marker)
            if visits:
                tx.put("conflict", MarkerGroupItem(
                    mpk, keys.marker_group_sk(record.at, record.event_id), at=record.at, marks=visits,
                    ttl=visits_until), _NEW[MarkerGroupItem])
            for key, forget_after, data, due_at in alone:
                if key in visits:
                    continue
                # A marker past its TTL that DynamoDB has not deleted yet may be claimed again.
                tx.put("conflict", _marker_item(mpk, p.brand_id, p.member_id, key, record.at, forget_after,
                                                dict(data) or None, due_at, change.due_floor),
                       _NEW[MarkerItem] | (at(MarkerItem.ttl) <= record.at))
            # The event's history (effects and ledger entries) goes with the one order it opens, if it opens one;
            # else into an activity item of its own. Either way it carries `t`: the member's history in time order.
            read = dict(change.orders or {})
            entries = list(posting.entries) if posting is not None else []
            home = None
            if shown and len(orders) == 1:
                only = next(iter(orders))
                home = only if not read.get(only, {}).get("history") else None
            history: dict[str, Any] = {}
            if shown:
                history = {"detail_type": record.detail_type, "packed": list(shown),
                           "t": keys.time_sk(record.at, record.event_id),
                           "entries": entry_codec.encode(entries, record.at, record.event_id, list(shown))
                           if entries else None}
            for order, marks in orders.items():
                history_here = history if order == home else {}
                if order not in read:
                    # Not read (the event opens it) or read as missing: put only if still missing.
                    until = None if history_here else max(datetime.fromisoformat(f) for _, f in marks.values())
                    tx.put("order", _order_item(lpk, order, marks, until, history_here), _NEW[OrderItem])
                    continue
                # Read (strongly consistent) by this event: what it read is a condition through the member's version
                # below (every write of an order's item moves it). Markers forgotten by now are dropped.
                merged = {k: v for k, v in read[order]["marks"].items()
                          if datetime.fromisoformat(v[1]) > record.at}
                merged.update(marks)
                actions = [at(OrderItem.marks).set(merged)]
                if history_here:
                    actions += [at(getattr(OrderItem, name)).set(value) for name, value in history_here.items()
                                if value is not None]
                    actions.append(at(OrderItem.ttl).remove())
                elif not read[order]["history"]:
                    actions.append(at(OrderItem.ttl).set(max(datetime.fromisoformat(v[1]) for v in merged.values())))
                tx.update("conflict", OrderItem(lpk, keys.order_sk(order)), actions, _ORDER_READ)
            if history and home is None:
                tx.put("conflict", _activity_item(lpk, record, history), _NEW[ActivityItem])
            if posting is not None:
                posting_writes(tx, p, posting, change.due_floor, entries=not history)
            daily_totals.add(tx, mpk, change.daily)
            if posting is not None or change.standing is not None or change.totals is not None:
                # The totals as the event leaves them, on the version it read: nothing concurrent is lost.
                written = _member_written(p, posting, change.standing, change.expected_version, change.due_floor,
                                          change.totals)
                if written is not None:
                    tx.update("conflict", written, None, None)
                else:
                    tx.update("conflict", *_member_totals_update(p, posting, change.standing,
                                                                 change.expected_version, change.due_floor,
                                                                 change.totals))
            else:
                # Markers, side writes decided on the member (commissions, claw-backs) or nothing at all: what this
                # event read of the member is still the condition of its write, and what it wrote (a refund
                # remembered before its order) changes what the member's next events read, so the version moves.
                # An erased member's version still serialises the family that runs after erasure (referrals).
                tx.update("conflict", MemberItem(mpk, keys.PROFILE), [_VERSION_UP],
                          _MEMBER_EXISTS & (at(MemberItem.version) == change.expected_version))
        if side:
            writers = family_storage.writers()
            for write in side:
                writers[type(write)](tx, write, record)
        self._commit(tx, posting)

    def _commit(self, tx: "Transaction", posting: Posting | None) -> None:
        try:
            tx.commit(self._connection())
        except TransactWriteError as error:
            reasons = error.cancellation_reasons
            if response_code(error) != "TransactionCanceledException" or not reasons:
                raise
            for role, reason in zip(tx.roles, reasons):
                if reason is None or reason.code != "ConditionalCheckFailed":
                    continue
                if role == "request" and reason.raw_item:
                    raise RequestAlreadyRecorded(_request_from_item(RequestItem.from_raw_data(reason.raw_item))) from None
                if role == "event" and reason.raw_item:
                    raise EventAlreadyProcessed(_event_from_item(ProcessedItem.from_raw_data(reason.raw_item))) from None
                if role == "reversal":
                    raise AlreadyReversed(posting.reverses if posting else "") from None
                if role == "order":
                    raise OrderAlreadyOpened(str(error)) from None
            if any(r is not None and r.code in _CONFLICT_CODES for r in reasons):
                raise WriteConflict(str(error)) from None
            raise

    def activity(self, brand_id: str, member_id: str, *, first: int, after: str | None) -> Page[EventRecord]:
        # The member's history in time order (the `byTime` index), newest first: the order items and activity
        # items (what an event did); entries posted without an event are the ledger's only.
        lpk = keys.ledger_pk(brand_id, member_id)
        before = _time_cursor(after)
        results = SiyuItem.by_time.query(lpk, SiyuItem.t < before if before else None, scan_index_forward=False,
                                         page_size=first + 1)
        shown = itertools.islice((i for i in results if isinstance(i, (ActivityItem, OrderItem))), first + 1)
        return page(shown, first, lambda i: i.t, lambda i: EventRecord(
            event_id=i.event_id, brand_id=brand_id, detail_type=i.detail_type, at=i.at, effects=tuple(i.what_happened),
            follow_ups=()))

    def get_event(self, brand_id: str, event_id: str) -> EventRecord | None:
        try:
            return _event_from_item(ProcessedItem.get(keys.event_pk(brand_id, event_id), keys.PROCESSED))
        except ProcessedItem.DoesNotExist:
            return None

    def record_problem(self, problem: EventProblem) -> bool:
        sk = keys.problem_sk(problem.received_at, problem.event_id)
        tx = Transaction()
        # The guard's key comes from the event, not from when it arrived: the second delivery finds it taken.
        tx.put("problem", ProblemGuardItem(
            keys.problem_guard_pk(problem.brand_id), keys.problem_guard_sk(problem.event_id, problem.fingerprint),
            event_id=problem.event_id, problem_sk=sk), ProblemGuardItem.pk.does_not_exist())
        tx.put("conflict", ProblemItem(
            keys.problems_pk(problem.brand_id), sk,
            event_id=problem.event_id, brand_id=problem.brand_id, detail_type=problem.detail_type,
            status=problem.status, reason=problem.reason, field=problem.field, plugin=problem.plugin,
            received_at=problem.received_at, raw=problem.raw, member_id=_member_named(problem.raw),
        ), ProblemItem.pk.does_not_exist())
        try:
            tx.commit(self._connection())
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            raise
        return True

    def problems(self, brand_id: str | None, *, first: int, after: str | None) -> Page[EventProblem]:
        return newest_first(ProblemItem, keys.problems_pk(brand_id), first, after, lambda i: EventProblem(
            event_id=i.event_id, brand_id=i.brand_id, detail_type=i.detail_type, status=i.status, reason=i.reason,
            received_at=i.received_at, raw=i.raw or "", field=i.field, plugin=i.plugin))

    def due(self, since: datetime, until: datetime) -> list[Due]:
        return [due for page in self.due_pages(since, until, page_size=1000) for due in page]

    def due_pages(self, since: datetime, until: datetime, *, page_size: int):
        since, until = since.astimezone(timezone.utc), until.astimezone(timezone.utc)
        day = since.date()
        while day <= until.date():
            midday = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
            for shard in range(keys.DUE_SHARDS):
                pk = keys.due_pk_for_shard(midday, shard)
                condition = SiyuItem.gsi1sk.between(keys.due_bound(since), keys.due_bound(until))
                start = None
                while True:
                    results = SiyuItem.by_due.query(pk, condition, limit=page_size, page_size=page_size,
                                                    last_evaluated_key=start)
                    page = []
                    for item in results:
                        what, brand_id, member_id = keys.parse_due_sk(item.gsi1sk)
                        page.append(Due(what=what, brand_id=brand_id, member_id=member_id,
                                        at=keys.parse_time_key(item.gsi1sk.split("#", 1)[0])))
                    if page:
                        yield page
                    start = results.last_evaluated_key
                    if not start:
                        break
            day += timedelta(days=1)

    def sweep_watermarks(self, sweep: str) -> dict[str, datetime]:
        return {item.brand_id: item.swept_until
                for item in SweepMarkItem.query(keys.sweep_marks_pk(sweep), consistent_read=True)}

    def advance_watermark(self, sweep: str, brand_id: str, *, read: datetime | None, to: datetime) -> bool:
        item = SweepMarkItem(keys.sweep_marks_pk(sweep), brand_id, brand_id=brand_id, swept_until=to)
        # On the value this run read: two overlapping runs never move a watermark back, nor past work they skipped.
        condition = (SweepMarkItem.pk.does_not_exist() if read is None
                     else SweepMarkItem.swept_until == read)
        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---- audit ----------------------------------------------------------------------------------------------------

    def record_audit(self, record: AuditRecord) -> None:
        if self.audit_archive is not None:
            self.audit_archive.put(record)  # first: a record that is not archived is not written at all
        AuditItem(
            keys.audit_pk(record.brand_id), keys.audit_sk(record.at, record.audit_id), audit_id=record.audit_id,
            brand_id=record.brand_id, staff_id=record.staff_id, mutation=record.mutation,
            arguments=dict(record.arguments), at=record.at, outcome=record.outcome, detail=record.detail,
        ).save(condition=AuditItem.pk.does_not_exist())  # append-only: an audit record is never overwritten

    def audit_log(self, brand_id: str, *, first: int, after: str | None) -> Page[AuditRecord]:
        return newest_first(AuditItem, keys.audit_pk(brand_id), first, after, lambda i: AuditRecord(
            audit_id=i.audit_id, brand_id=i.brand_id, staff_id=i.staff_id, mutation=i.mutation,
            arguments=i.arguments, at=i.at, outcome=i.outcome, detail=i.detail))

    def get_entry(self, brand_id: str, member_id: str, entry_id: str) -> Entry | None:
        # Entry ids start with their time (`rules.ids.entry_id`): the history items of that instant hold it. An
        # imported opening balance's (`import-<member>-<n>`) does not: it is an entry item of its own, by its id.
        stamp = entry_id.split("-", 1)[0]
        if not stamp[:1].isdigit():
            try:
                return _entry_from_item(EntryItem.get(keys.ledger_pk(brand_id, member_id), keys.entry_sk(entry_id),
                                                      consistent_read=True))
            except EntryItem.DoesNotExist:
                return None
        for item in SiyuItem.by_time.query(keys.ledger_pk(brand_id, member_id), SiyuItem.t.startswith(stamp + "#"),
                                           consistent_read=True):
            for entry in _entries_of(item):
                if entry.entry_id == entry_id:
                    return entry
        return None

    def history(self, brand_id: str, member_id: str, *, first: int, after: str | None) -> Page[Entry]:
        before = _entry_position(decode_cursor(after)) if after else None
        shown = itertools.islice(_newest_entries(keys.ledger_pk(brand_id, member_id), before, first + 1), first + 1)
        return page(shown, first, lambda e: f"{time_key(e.at)} {e.entry_id}", lambda e: e)

    def entries(self, brand_id: str, member_id: str) -> list[Entry]:
        found = [e for i in SiyuItem.by_time.query(keys.ledger_pk(brand_id, member_id)) for e in _entries_of(i)]
        return sorted(found, key=lambda e: e.entry_id)


def _read_order(item: OrderItem, as_of: datetime | None, markers: dict, orders: dict) -> None:
    """An order's item into a member's loaded markers (those not forgotten by `as_of`) and into what the store
    read of the member's orders (`MemberState.orders`: its markers as stored, whether it holds the history)."""
    v = item.attribute_values.get  # (what the descriptors give, by Python name)
    marks = v("marks") or {}
    orders[v("sk")[len(keys.ORDER_PREFIX):]] = {"marks": marks, "history": v("t") is not None}
    for key, (data, forget_after) in marks.items():
        if as_of is None or datetime.fromisoformat(forget_after) > as_of:
            markers[key] = data or {}


def _entries_of(item: Any) -> tuple[Entry, ...]:
    """The ledger entries a history item holds: an entry posted without an event is one; an event's history item
    holds its posting's (packed)."""
    if isinstance(item, EntryItem):
        return (_entry_from_item(item),)
    if isinstance(item, (ActivityItem, OrderItem)) and item.entries:
        return entry_codec.decode(item.entries, item.at, item.event_id, item.what_happened)
    return ()


def _entry_position(cursor: str) -> tuple[str, str]:
    """Where a history cursor points: (the entry's time key, its id). Cursors are "<time key> <entry id>"; one that
    is only an entry id (as they were) is read by the time its id starts with."""
    stamp, _, entry_id = cursor.partition(" ")
    if not entry_id:
        stamp, entry_id = cursor.split("-", 1)[0], cursor
    if not stamp[:1].isdigit():
        raise InvalidInput("after", "invalid.cursor")
    return stamp, entry_id


def _newest_entries(lpk: str, before: tuple[str, str] | None, page_size: int):
    """The member's entries newest first (by time, then id: as the ledger's history always listed them), entries
    before `before` only. History items of one instant are read together and their entries sorted, since every
    entry of an item shares the item's time (`t` starts with it). An imported entry's id does not start with its
    time, so the position is the time and the id together."""
    condition = SiyuItem.t < before[0] + "$" if before else None  # "$" sorts right after "#"
    pending: list[Entry] = []
    stamp = None
    for item in SiyuItem.by_time.query(lpk, condition, scan_index_forward=False, page_size=page_size):
        item_stamp = item.t.split("#", 1)[0]
        if item_stamp != stamp:
            yield from sorted((e for e in pending if before is None or (stamp, e.entry_id) < before),
                              key=lambda e: e.entry_id, reverse=True)
            pending, stamp = [], item_stamp
        pending += _entries_of(item)
    yield from sorted((e for e in pending if before is None or (stamp, e.entry_id) < before),
                      key=lambda e: e.entry_id, reverse=True)


def _time_cursor(after: str | None) -> str | None:
    if not after:
        return None
    position = decode_cursor(after)
    if not position[:1].isdigit():
        raise InvalidInput("after", "invalid.cursor")
    return position


def _translate_public_methods(cls: type) -> None:
    """Every public store method answers passing DynamoDB trouble (throttling, timeouts, TransactionConflict) as
    `StoreUnavailable`, which every retry loop reads again and retries, and answers `Busy` past its budget."""
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if name.startswith("_") or isinstance(value, (staticmethod, classmethod, property)) or not callable(value):
                continue
            setattr(cls, name, translating(getattr(klass, name)))


DynamoStore = type("DynamoStore", (*family_storage.mixins(), SweepRunStorage, CoreStore), {
    "__doc__": "The store: the core's half and every family's `Storage`, on one DynamoDB table.",
    "__module__": __name__})
_translate_public_methods(DynamoStore)




def _listed_at(due_at: datetime, floor: datetime | None) -> datetime:
    """Where the due index lists an entry: when it falls due, or the change's floor if that is later (an entry
    that fell due before the brand's sweep watermark is listed just after it, so the next sweep handles it)."""
    return due_at if floor is None or due_at >= floor else floor


def posting_writes(tx: Transaction, profile: MemberProfile, posting: Posting,
                    due_floor: datetime | None = None, *, entries: bool = True) -> None:
    """The posting's lots and, unless a history item of the event holds them (`entries=False`), its entries: one
    item per entry, listed in the member's history (`t`)."""
    brand_id, member_id = profile.brand_id, profile.member_id
    mpk = keys.member_pk(brand_id, member_id)
    lpk = keys.ledger_pk(brand_id, member_id)
    for lot in posting.new_lots:
        # Only the lots the posting lists go in the due index (`ledger.listing`: the earliest holding lot, ...):
        # an order for a member who holds an earlier lot writes no index entry.
        listed = _listed_at(lot.expires_at, due_floor) if posting.lists(lot.lot_id) else None
        tx.put("conflict", _lot_item(mpk, brand_id, member_id, lot, listed), _NEW[LotItem])
    written = {lot.lot_id for lot in posting.new_lots} | {update.lot_id for update in posting.lot_updates}
    for lot in posting.listed or ():
        if lot.lot_id in written:
            continue
        # A lot this posting does not otherwise write becomes listed (the next one after a lot it emptied, or the
        # one a reminder looks for next), on the remainder it was planned from: a concurrent redemption that
        # empties (deletes) it meanwhile makes this write fail and be planned again, never recreate it.
        listed = _listed_at(lot.expires_at, due_floor)
        tx.update("conflict", LotItem(mpk, keys.lot_sk(lot.expires_at, lot.lot_id)),
                  [at(LotItem.gsi1pk).set(keys.due_pk(listed, member_id)),
                   at(LotItem.gsi1sk).set(keys.due_sk(listed, "LOT", brand_id, member_id, lot.lot_id))],
                  at(LotItem.remaining) == lot.remaining)
    for entry in posting.entries if entries else ():
        tx.put("conflict", _entry_item(lpk, entry), _NEW[EntryItem])
    if posting.reverses is not None:
        tx.put("reversal", ReversalItem(lpk, keys.reversal_sk(posting.reverses), entry_id=posting.reverses,
                                        reversed_by=posting.entries[0].entry_id), _NEW[ReversalItem])
    for update in posting.lot_updates:
        lot = LotItem(mpk, keys.lot_sk(update.expires_at, update.lot_id))
        listed = _listed_at(update.expires_at, due_floor)
        due = [at(LotItem.gsi1pk).set(keys.due_pk(listed, member_id)),
               at(LotItem.gsi1sk).set(keys.due_sk(listed, "LOT", brand_id, member_id, update.lot_id))
               ] if posting.lists(update.lot_id) else []
        # A lot not in the loaded state (None), or loaded empty, was emptied earlier and so deleted (or, stored
        # by an earlier version, kept at 0): a refill brings it back with what the entry names.
        restored = [LotItem.kind.set(LotItem), LotItem.brand_id.set(LotItem.brand_id | brand_id),
                    LotItem.member_id.set(LotItem.member_id | member_id),
                    LotItem.lot_id.set(LotItem.lot_id | update.lot_id),
                    LotItem.earned.set(LotItem.earned | (update.earned or max(update.after_or_delta, 0))),
                    LotItem.earned_at.set(LotItem.earned_at | (update.earned_at or update.expires_at)),
                    LotItem.expires_at.set(LotItem.expires_at | update.expires_at), *due]
        if update.is_exact and update.after_or_delta == 0:
            # An emptied lot leaves the member's state partition (and the due index): every read of the member
            # would pay for it, and the ledger keeps its history (each entry's allocations name the lot).
            tx.delete("conflict", lot, at(LotItem.remaining) == update.before)
        elif update.is_exact and update.before == 0:
            tx.update("conflict", lot, [at(LotItem.remaining).set(update.after_or_delta), *restored],
                      _NEW[LotItem] | (at(LotItem.remaining) == 0))
        elif update.is_exact:
            # Listed when it becomes the earliest the posting leaves (`ledger.listing`), else the remainder only.
            tx.update("conflict", lot, [at(LotItem.remaining).set(update.after_or_delta),
                                        *(due if posting.listed is not None else [])],
                      at(LotItem.remaining) == update.before)
        else:
            # Refills only raise a remainder, so concurrent ones may both add.
            tx.update("conflict", lot, [at(LotItem.remaining).add(update.after_or_delta), *restored], None)


# ---- items written in their wire form (`infra.transactions.Written`) ------------------------------------------------
#
# Each makes what the model of its class (`infra.models`) serialises to when given the same values: its attributes'
# wire values in pynamodb's order (the class's attributes by name, keys first), a null one left out. A value a
# required attribute lacks goes through the model instead, which refuses it as pynamodb does. Held to the models by
# tests/conftest.py (every commit of the suite) and tests/unit/test_transactions_wire.py.

def _processed_item(record: EventRecord, member_id: str | None, effects: list | None) -> Any:
    at_, brand_id, event_id, detail_type = record.at, record.brand_id, record.event_id, record.detail_type
    expiry = processed_record_expiry(at_)
    if at_ is None or brand_id is None or event_id is None or detail_type is None:
        return ProcessedItem(keys.event_pk(brand_id, event_id), keys.PROCESSED, event_id=event_id, brand_id=brand_id,
                             detail_type=detail_type, at=at_, effects=effects, member_id=member_id,
                             follow_ups=list(record.follow_ups), fingerprint=record.fingerprint, ttl=expiry,
                             subject_id=record.member_id, amount_fen=record.amount_fen)
    item = {"pk": {"S": keys.event_pk(brand_id, event_id)}, "sk": {"S": keys.PROCESSED}}
    if record.amount_fen is not None:
        item["amount_fen"] = {"N": number_text(record.amount_fen)}
    item["at"] = {"S": utc_text(at_)}
    item["brand_id"] = {"S": brand_id}
    item["detail_type"] = {"S": detail_type}
    if effects is not None:
        item["effects"] = {"S": json_text(effects)}
    item["event_id"] = {"S": event_id}
    if record.fingerprint is not None:
        item["fingerprint"] = {"S": record.fingerprint}
    item["follow_ups"] = {"S": json_text(list(record.follow_ups))}
    item["type"] = {"S": "processed"}
    if member_id is not None:
        item["member_id"] = {"S": member_id}
    if record.member_id is not None:
        item["subject_id"] = {"S": record.member_id}
    ttl = ttl_text(expiry)
    if ttl is not None:
        item["ttl"] = {"N": ttl}
    return Written(ProcessedItem, item)


def _order_item(lpk: str, order: str, marks: dict, until: datetime | None, history: dict) -> Any:
    """An order's item put by the event that opens it: its markers, and the event's history if it holds it (else the
    markers' TTL)."""
    item = {"pk": {"S": lpk}, "sk": {"S": keys.order_sk(order)}}
    if history:
        if history["detail_type"] is not None:
            item["d"] = {"S": history["detail_type"]}
        if history["entries"] is not None:
            item["en"] = {"B": packed(history["entries"])}
    item["type"] = {"S": "order"}
    item["m"] = {"B": packed(marks)}
    if history:
        if history["packed"] is not None:
            item["fx"] = {"B": packed(history["packed"])}
        if history["t"] is not None:
            item["t"] = {"S": history["t"]}
    else:
        ttl = ttl_text(until)
        if ttl is not None:
            item["ttl"] = {"N": ttl}
    return Written(OrderItem, item)


def _activity_item(lpk: str, record: EventRecord, history: dict) -> Any:
    """An event's history in an item of its own (`history`: what `commit_event` gives an order's item)."""
    at_, event_id, detail_type = record.at, record.event_id, history["detail_type"]
    if at_ is None or event_id is None or detail_type is None:
        return ActivityItem(lpk, keys.activity_sk(at_, event_id), **history, event_id=event_id, at=at_)
    item = {"pk": {"S": lpk}, "sk": {"S": keys.activity_sk(at_, event_id)}, "at": {"S": utc_text(at_)},
            "detail_type": {"S": detail_type}}
    if history["entries"] is not None:
        item["en"] = {"B": packed(history["entries"])}
    item["event_id"] = {"S": event_id}
    item["type"] = {"S": "activity"}
    if history["packed"] is not None:
        item["fx"] = {"B": packed(history["packed"])}
    if history["t"] is not None:
        item["t"] = {"S": history["t"]}
    return Written(ActivityItem, item)


def _marker_item(mpk: str, brand_id: str, member_id: str, key: str, at_: datetime, forget_after: Any,
                 data: dict | None, due_at: datetime | None, due_floor: datetime | None) -> Any:
    """A marker in an item of its own, listed in the due index when it falls due (`due_at`; None: not listed).
    What the model made before, checked in the order it checked it (its key, then its TTL as the model's `ttl`
    normalised it on construction, then where it is listed)."""
    sk = keys.marker_sk(key)
    if mpk is None or key is None or at_ is None:  # a marker the model refuses (no key...): refused as it was
        marker = MarkerItem(mpk, sk, key=key, at=at_, ttl=forget_after, data=data)
        if due_at is not None:
            listed = _listed_at(due_at, due_floor)
            marker.gsi1pk = keys.due_pk(listed, member_id)
            marker.gsi1sk = keys.due_sk(listed, "MARK", brand_id, member_id, key)
        return marker
    ttl = ttl_text(forget_after)
    due = None
    if due_at is not None:
        listed = _listed_at(due_at, due_floor)
        due = (keys.due_pk(listed, member_id), keys.due_sk(listed, "MARK", brand_id, member_id, key))
    item = {"pk": {"S": mpk}, "sk": {"S": sk}, "at": {"S": utc_text(at_)}}  # the model's attributes' order
    if data is not None:
        item["data"] = {"S": json_text(data)}
    if due is not None:
        item["gsi1pk"], item["gsi1sk"] = {"S": due[0]}, {"S": due[1]}
    item["key"] = {"S": key}
    item["type"] = {"S": "marker"}
    if ttl is not None:
        item["ttl"] = {"N": ttl}
    return Written(MarkerItem, item)


def _lot_item(mpk: str, brand_id: str, member_id: str, lot: Lot, listed: datetime | None) -> Any:
    """A new lot, listed in the due index at `listed` (None: not listed)."""
    if (brand_id is None or member_id is None or lot.lot_id is None or lot.earned is None or lot.remaining is None
            or lot.earned_at is None or lot.expires_at is None):
        return LotItem(mpk, keys.lot_sk(lot.expires_at, lot.lot_id), brand_id=brand_id, member_id=member_id,
                       lot_id=lot.lot_id, earned=lot.earned, remaining=lot.remaining, earned_at=lot.earned_at,
                       expires_at=lot.expires_at, source=lot.source,
                       gsi1pk=keys.due_pk(listed, member_id) if listed else None,
                       gsi1sk=keys.due_sk(listed, "LOT", brand_id, member_id, lot.lot_id) if listed else None)
    item = {"pk": {"S": mpk}, "sk": {"S": keys.lot_sk(lot.expires_at, lot.lot_id)}, "brand_id": {"S": brand_id},
            "earned": {"N": number_text(lot.earned)}, "earned_at": {"S": utc_text(lot.earned_at)},
            "expires_at": {"S": utc_text(lot.expires_at)}}
    if listed:
        item["gsi1pk"] = {"S": keys.due_pk(listed, member_id)}
        item["gsi1sk"] = {"S": keys.due_sk(listed, "LOT", brand_id, member_id, lot.lot_id)}
    item["type"] = {"S": "lot"}
    item["lot_id"] = {"S": lot.lot_id}
    item["member_id"] = {"S": member_id}
    item["remaining"] = {"N": number_text(lot.remaining)}
    if lot.source is not None:
        item["source"] = {"S": lot.source}
    return Written(LotItem, item)


def _member_update(profile: MemberProfile, posting: Posting | None, standing: Standing | None,
                   expected_version: int | None, due_floor: datetime | None = None) -> tuple[MemberItem, list, Any]:
    member = MemberItem(keys.member_pk(profile.brand_id, profile.member_id), keys.PROFILE)
    actions = [_VERSION_UP]
    # An erased member's ledger is frozen: nothing lands on it after the erasure, whatever was planned before.
    condition = _live_member()
    points = posting.points if posting is not None else 0  # a sum over the entries: taken once
    if points:
        actions.append(_BALANCE.add(points))
        if points < 0:  # `posting.debit`
            condition &= _BALANCE >= -points
    if posting is not None and posting.debt_delta:
        actions.append(_DEBT.add(posting.debt_delta))
        # Planned from a debt of `debt_before`: two writers must not both repay (or both owe) the same points.
        if posting.debt_before:
            condition &= _DEBT == posting.debt_before
        else:
            condition &= _NO_DEBT
    if posting is not None and any(e.kind is EntryKind.REDEEM for e in posting.entries):
        # A redemption planned before a refund landed must not go through while points are owed.
        condition &= _OWES_NOTHING
    if standing is not None:
        actions += [_GROWTH.set(standing.growth), _TIER_CODE.set(standing.tier_code)]
        until = standing.tier_valid_until
        if until is not None:
            # The profile falls due when its tier's validity ends: the daily sweep finds it in the due index.
            listed = _listed_at(until, due_floor)
            actions += [_TIER_VALID_UNTIL.set(until),
                        _MEMBER_DUE_PK.set(keys.due_pk(listed, profile.member_id)),
                        _MEMBER_DUE_SK.set(keys.due_sk(listed, "TIER", profile.brand_id, profile.member_id))]
        else:
            actions += _NOT_DUE
        if standing.paid_until is not None:
            actions.append(_PAID_UNTIL.set(standing.paid_until))
    if expected_version is not None:
        condition &= _MEMBER_VERSION == expected_version
    return member, actions, condition


def _member_totals_update(profile: MemberProfile, posting: Posting | None, standing: Standing | None,
                          expected_version: int | None, due_floor: datetime | None,
                          totals: Any) -> tuple[MemberItem, list, Any]:
    """`_member_update`, and the member's running totals (None: unchanged) set whole or removed."""
    member, actions, condition = _member_update(profile, posting, standing, expected_version, due_floor)
    if totals is not None:
        actions.append(at(MemberItem.totals).set(dict(totals)) if totals else at(MemberItem.totals).remove())
    return member, actions, condition


# The text and names of a profile update (`_member_totals_update`) per shape, and the placeholders of its values in
# pynamodb's order. The shape (which conditions and actions the update has) is a few flags; an event's update comes
# in a handful of them. A shape is kept once pynamodb's own serialisation of the update's objects gave exactly the
# values `_member_written` collects, in that order, each of them distinct (so that each names one place).
_member_shapes: dict[tuple, tuple[str, str, dict[str, str], tuple[str, ...]]] = {}


def _member_written(profile: MemberProfile, posting: Posting | None, standing: Standing | None,
                    expected_version: int | None, due_floor: datetime | None, totals: Any) -> Written | None:
    """The profile's update of `_member_totals_update` in its wire form, its text from its shape (issue 15: built
    and walked as pynamodb objects on every event before). None: the update is sent as those objects (a value not
    of the plain types below, or a shape not known yet, which this call then learns)."""
    points, redeem, debt_delta, debt_before = 0, False, 0, 0
    if posting is not None:  # `posting.points` and whether an entry redeems, in one pass
        for entry in posting.entries:
            points += entry.points
            if entry.kind is EntryKind.REDEEM:
                redeem = True
        debt_delta, debt_before = posting.debt_delta, posting.debt_before
    if points.__class__ is not int or debt_delta.__class__ is not int or debt_before.__class__ is not int or not (
            expected_version is None or expected_version.__class__ is int):
        return None
    # Condition values first, then the SET values in their order, then the ADD values: pynamodb's numbering.
    values = []
    if points < 0:
        values.append({"N": int.__repr__(-points)})
    if debt_delta:
        values.append({"N": int.__repr__(debt_before)} if debt_before else {"N": "0"})
    if redeem:
        values.append({"N": "0"})
    if expected_version is not None:
        values.append({"N": int.__repr__(expected_version)})
    until = paid_until = None
    if standing is not None:
        growth, tier_code, until, paid_until = (standing.growth, standing.tier_code, standing.tier_valid_until,
                                                standing.paid_until)
        if growth.__class__ is not int or tier_code.__class__ is not str or not (
                until is None or until.__class__ is datetime) or not (
                paid_until is None or paid_until.__class__ is datetime):
            return None
        values += ({"N": int.__repr__(growth)}, {"S": tier_code})
        if until is not None:
            listed = _listed_at(until, due_floor)
            values += ({"S": utc_text(until)}, {"S": keys.due_pk(listed, profile.member_id)},
                       {"S": keys.due_sk(listed, "TIER", profile.brand_id, profile.member_id)})
        if paid_until is not None:
            values.append({"S": utc_text(paid_until)})
    if totals:
        values.append({"S": json.dumps(dict(totals))})
    values.append({"N": "1"})
    if points:
        values.append({"N": int.__repr__(points)})
    if debt_delta:
        values.append({"N": int.__repr__(debt_delta)})
    shape = (points > 0, points < 0, bool(debt_delta), bool(debt_before) if debt_delta else None, redeem,
             standing is not None, until is not None, paid_until is not None, expected_version is not None,
             None if totals is None else bool(totals))
    known = _member_shapes.get(shape)
    if known is None:
        _member, actions, condition = _member_totals_update(profile, posting, standing, expected_version, due_floor,
                                                            totals)
        condition_text, update_text, names, serialised = expressions(condition, actions)
        found = list(serialised.values())
        if found == values and len({tuple(v.items())[0] for v in values}) == len(values):
            _member_shapes[shape] = (condition_text, update_text, names, tuple(serialised))
        return None
    condition_text, update_text, names, placeholders = known
    return Written(MemberItem, {
        "Key": {"pk": {"S": keys.member_pk(profile.brand_id, profile.member_id)}, "sk": {"S": keys.PROFILE}},
        "ConditionExpression": condition_text, "UpdateExpression": update_text,
        "ExpressionAttributeNames": dict(names), "ExpressionAttributeValues": dict(zip(placeholders, values))})


def _event_from_item(item: ProcessedItem) -> EventRecord:
    effects = item.effects
    if effects is None and item.member_id:
        # Stored once, in the member's activity (see `commit_event`): read only for a duplicate or a look-up.
        found = list(SiyuItem.by_time.query(keys.ledger_pk(item.brand_id, item.member_id),
                                            SiyuItem.t == keys.time_sk(item.at, item.event_id), consistent_read=True))
        # None found: the member's history was erased since.
        effects = found[0].what_happened if found and hasattr(found[0], "what_happened") else None
    return EventRecord(event_id=item.event_id, brand_id=item.brand_id, detail_type=item.detail_type, at=item.at,
                       effects=tuple(effects or ()), follow_ups=tuple(item.follow_ups or ()),
                       fingerprint=item.fingerprint)


def processed_record_expiry(at: datetime) -> datetime:
    """When a processed record may go: after every redelivery EventBridge or a redrive can make, and after the
    event is too old to be accepted at all (SIYU_EVENT_MAX_AGE_DAYS), counted from its own time or from now."""
    keep = max(PROCESSED_RECORD_DAYS, settings.settings().event_max_age_days + 1)
    start = max(at, utcnow())
    kept = _KEPT_FOR.get(keep)
    if kept is None:  # a few values ever (the settings'): each made once
        kept = _KEPT_FOR[keep] = timedelta(days=keep)
    try:
        return start + kept
    except OverflowError:  # an event near year 9999 (only if the settings let it through): kept as long as can be
        return datetime.max.replace(tzinfo=timezone.utc) - timedelta(days=1)


_KEPT_FOR: dict[int, timedelta] = {}


# ---- item <-> domain ----------------------------------------------------------------------------------------------










def _brand_from_item(item: BrandItem) -> BrandConfig:
    return BrandConfig(
        brand_id=item.brand_id, name=item.name,
        tiers=tuple(TierLevel(t["code"], t["name"], int(t["threshold"]), int(t.get("deduction", 0)),
                              t.get("benefits") or {}) for t in item.tiers),
        timezone=item.timezone, points_validity_days=int(item.points_validity_days),
        tier_validity_months=int(item.tier_validity_months), plugins=item.plugins or {},
        redemption=RedemptionPolicy(int(item.redemption["pointsPerYuan"]), int(item.redemption["minimumPoints"]),
                                    float(item.redemption["maxShareOfOrder"])) if item.redemption
        else RedemptionPolicy(),
        version=int(item.version), updated_at=item.updated_at,
    )


_member_filters: list[Any] = []


def _filters() -> list[Any]:
    """A member Query's fixed filter parts (other requests' records, emptied lots; the page's and the state's whole
    filter when no request is named), made once and kept serialised per placeholder state (item_codec.remembered):
    they were rebuilt and serialised operand by operand on every load."""
    if not _member_filters:
        not_other_requests = (~SiyuItem.sk.startswith(keys.REQUEST_PREFIX)
                              & ~SiyuItem.sk.startswith(keys.LEGACY_REQUEST_PREFIX))
        holding_lots = ~SiyuItem.sk.startswith(keys.LOT_PREFIX) | (LotItem.remaining > 0)
        page = holding_lots & ~SiyuItem.sk.startswith(keys.LEGACY_REQUEST_PREFIX)
        _member_filters.extend(item_codec.remembered(c) for c in
                               (not_other_requests, holding_lots, page, not_other_requests & holding_lots))
    return _member_filters


def _member_conditions(page: bool, below_page: bool, request_key: str | None,
                       as_of: datetime | None) -> tuple[Any, Any]:
    """A member Query's range condition and filter: the page's (`page`) or the state's, keeping the named
    request's record (`request_key`: as written now and by earlier versions) and dropping markers and records past
    their TTL at `as_of`. The fixed parts are built once and serialised once per shape (`_filters`)."""
    not_other_requests, holding_lots, page_filter, state_filter = _filters()
    if request_key:
        not_other_requests = (not_other_requests | (SiyuItem.sk == keys.request_sk(request_key))
                              | (SiyuItem.sk == keys.legacy_request_sk(request_key)))
    # The page's range still holds request records of the earlier layout (`REQ#`), until their TTL.
    condition = page_filter if page else not_other_requests & holding_lots if request_key else state_filter
    if as_of is not None:
        condition &= _live(as_of)
    return (SiyuItem.sk < (keys.PAGE_END if page else keys.STATE_END) if below_page else None), condition


def _live(as_of: datetime) -> Any:
    """Items without a TTL, or whose TTL is after `as_of`: markers and request records past their TTL are gone as
    far as the rules are concerned, whether or not DynamoDB has deleted them yet (it takes up to a couple of days)."""
    return SiyuItem.ttl.does_not_exist() | (SiyuItem.ttl > as_of)


_AS_LOT, _AS_PROFILE, _AS_MODEL, _AS_MARKER = "lot", "profile", "model", "marker"
_UNREAD = "unread"
_made = item_codec.made
_WireMarker = member_read.WireMarker
# The kinds `load_member` reads as model objects (besides the families' holdings).
_READ_AS_MODELS = (RequestItem, MarkerItem, MarkerGroupItem, OrderItem, ConsentItem, daily_totals.DailyTotalsItem)
_kind_plans: list[tuple[Any, int, dict[str, tuple[str, type]]]] = []


def _kind_plan(readers: dict[type, Any]) -> dict[str, tuple[str, type]]:
    """Per stored kind, what a member load does with an item of it, as its loop over model objects did: a family's
    holding, a request, marker, order, consent or daily totals is made its model object; a lot, the profile or a
    marker is read from the wire (`_AS_LOT`, `_AS_PROFILE`, `_AS_MARKER`); any other kind (counters, which no member load reads) was made
    an object and then ignored, and is now left undecoded. Made again when a family registers kinds.
    `readers`: the families' holdings (`family_storage.holdings()`)."""
    classes = item_codec.discriminator_of(SiyuItem)._class_map
    if _kind_plans and _kind_plans[0][0] is readers and _kind_plans[0][1] == len(classes):
        return _kind_plans[0][2]
    plan: dict[str, tuple[str, type]] = {}
    for cls, kind in list(classes.items()):
        if cls is MarkerItem and cls not in readers:
            plan[kind] = (_AS_MARKER, cls)
        elif cls in readers or issubclass(cls, _READ_AS_MODELS):
            plan[kind] = (_AS_MODEL, cls)
        elif issubclass(cls, MemberItem):
            plan[kind] = (_AS_PROFILE, cls)
        elif issubclass(cls, LotItem):
            plan[kind] = (_AS_LOT, cls)
        else:
            plan[kind] = (_UNREAD, cls)
    _kind_plans[:] = [(readers, len(classes), plan)]
    return plan


def _lot_from_item(item: LotItem) -> Lot:
    # The values as the attributes' descriptors give them (`attribute_values` by Python name), without a
    # descriptor call per value.
    v = item.attribute_values.get
    return Lot(v("lot_id"), int(v("earned")), int(v("remaining")), v("earned_at"), v("expires_at"), v("source"),
               v("gsi1pk") is not None)


def _profile_from_item(item: MemberItem) -> MemberProfile:
    # `attribute_values` by Python name is what each attribute's descriptor returns, without its per-call checks.
    return _profile_from_values(item.attribute_values.get)


# Every event loads its member: the frozen dataclasses it reads into are made by filling their fields
# (`item_codec.filler`: as their `__init__` would, without a call per field), in their fields' order.
_new_profile = item_codec.filler(MemberProfile, (
    "brand_id", "member_id", "phone_hash", "phone_masked", "channel", "referral_code", "registered_at", "tier_code",
    "tier_valid_until", "growth", "openid_hash", "unionid_hash", "referred_by_code", "paid_until", "birthday",
    "nickname", "erased_at", "tags"))
_new_points = item_codec.filler(PointsState, ("balance", "lots", "debt"))
_new_state = item_codec.filler(MemberState, ("profile", "points", "request", "version", "markers", "consents",
                                             "holdings", "totals", "orders", "daily"))


def _profile_from_values(v: Any) -> MemberProfile:
    return _new_profile((
        v("brand_id"), v("member_id"), v("phone_hash"), v("phone_masked"), v("channel"), v("referral_code") or "",
        v("registered_at"), v("tier_code"), v("tier_valid_until"), int(v("growth")), v("openid_hash"),
        v("unionid_hash"), v("referred_by_code"), v("paid_until"), v("birthday"), v("nickname"), v("erased_at"),
        tuple(sorted(v("tags") or ()))))


def _live_member():
    return _LIVE_MEMBER


# Conditions and actions without values, made once (they are not changed by use: `&` makes a new condition); the
# conditions' shapes taken once too (`infra.transactions.fixed`).
_LIVE_MEMBER = fixed(MemberItem.pk.exists() & MemberItem.erased_at.does_not_exist())
_NO_DEBT = fixed(MemberItem.debt.does_not_exist() | (MemberItem.debt == 0))
_OWES_NOTHING = fixed(MemberItem.debt.does_not_exist() | (MemberItem.debt <= 0))
_VERSION_UP = MemberItem.version.add(1)
_NOT_DUE = (MemberItem.tier_valid_until.remove(), MemberItem.gsi1pk.remove(), MemberItem.gsi1sk.remove())
_NEW = {cls: fixed(cls.pk.does_not_exist()) for cls in (ProcessedItem, MarkerGroupItem, OrderItem, ActivityItem,
                                                        LotItem, EntryItem, ReversalItem, MarkerItem)}
_ORDER_READ = fixed(OrderItem.pk.exists())
_MEMBER_EXISTS = fixed(MemberItem.pk.exists())
# The paths `_member_update` writes on every event: looked up once (`at` gives the same path each time).
_BALANCE, _DEBT, _GROWTH, _TIER_CODE = (at(MemberItem.balance), at(MemberItem.debt), at(MemberItem.growth),
                                        at(MemberItem.tier_code))
_TIER_VALID_UNTIL, _MEMBER_DUE_PK, _MEMBER_DUE_SK = (at(MemberItem.tier_valid_until), at(MemberItem.gsi1pk),
                                                     at(MemberItem.gsi1sk))
_PAID_UNTIL, _MEMBER_VERSION = at(MemberItem.paid_until), at(MemberItem.version)


def _consent_from_item(item: ConsentItem) -> ConsentRecord:
    return ConsentRecord(record_id=item.record_id, purpose=Purpose(item.purpose), granted=bool(item.granted),
                         policy_version=item.policy_version, at=item.at, channel=item.channel, actor=item.actor)


def _member_named(raw: str) -> str | None:
    """The member an event kept as a problem is about (`detail.memberId`), so erasure finds the problem."""
    try:
        detail = json.loads(raw).get("detail")
        member_id = detail.get("memberId") if isinstance(detail, dict) else None
    except (ValueError, AttributeError, RecursionError):
        return None
    return member_id if isinstance(member_id, str) and 0 < len(member_id) <= 128 else None


def _query_partition(client: Any, pk: str, *, filter_expression: str | None = None,
                     names: dict[str, str] | None = None, values: dict[str, Any] | None = None):
    """Every raw item of one partition (a Query, paged): exports and erasure read items of any type this way."""
    params: dict[str, Any] = {"TableName": SiyuItem.Meta.table_name, "KeyConditionExpression": "#pk = :pk",
                              "ExpressionAttributeNames": {"#pk": table.PK, **(names or {})},
                              "ExpressionAttributeValues": {":pk": {"S": pk}, **(values or {})}}
    if filter_expression:
        params["FilterExpression"] = filter_expression
    for response in client.get_paginator("query").paginate(**params):
        yield from response.get("Items", [])


_KEY_ATTRIBUTES = {table.PK, table.SK, "type", table.DUE_PK, table.DUE_SK, table.TIME_SK}


def _stored_item(partition: str, raw: dict[str, Any]) -> StoredItem:
    """An item as plain JSON-ready values: decoded by its model where the type is known (dates, JSON, maps), and
    attribute by attribute from DynamoDB's own types for anything a model does not declare."""
    from boto3.dynamodb.types import TypeDeserializer

    attributes: dict[str, Any] = {}
    declared: set[str] = set()
    try:
        item = SiyuItem.from_raw_data(raw)
    except ValueError:
        item = None
    if item is not None:
        for name, attribute in type(item).get_attributes().items():
            declared.add(attribute.attr_name)
            if attribute.attr_name in _KEY_ATTRIBUTES:
                continue
            value = getattr(item, name)
            if value is not None:
                attributes[name] = _plain(value)
    if isinstance(item, (ActivityItem, OrderItem)) and item.entries:
        # The ledger entries a history item holds, whole (as an entry item shows them), not in their packed form.
        attributes["entries"] = [_plain({"entry_id": e.entry_id, "at": e.at, "kind": e.kind.value,
                                         "points": e.points, "allocations": [
                                             {"lot": a.lot_id, "expires_at": a.expires_at, "points": a.points}
                                             for a in e.allocations],
                                         "reason": e.reason, "actor": e.actor, "reverses": e.reverses,
                                         "event_id": e.event_id, "explanation": e.explanation})
                                 for e in _entries_of(item)]
    if isinstance(item, OrderItem) and item.t:
        attributes.update(event_id=item.event_id, at=_plain(item.at))
    deserializer = TypeDeserializer()
    for name, value in raw.items():
        if name not in declared and name not in _KEY_ATTRIBUTES:
            attributes[name] = _plain(deserializer.deserialize(value))
    kind = raw.get("type", {}).get("S", "unknown")
    return StoredItem(partition=partition, type=kind, key=raw[table.SK]["S"], attributes=attributes)


def _plain(value: Any) -> Any:
    from decimal import Decimal

    from pynamodb.attributes import MapAttribute

    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, MapAttribute):
        return _plain(value.as_dict())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _request_from_item(item: RequestItem) -> RequestRecord:
    return RequestRecord(key=item.key, fingerprint=item.fingerprint, result=item.result, at=item.at)


def _entry_item(lpk: str, entry: Entry) -> EntryItem:
    return EntryItem(
        lpk, keys.entry_sk(entry.entry_id), entry_id=entry.entry_id, at=entry.at, entry_kind=entry.kind.value,
        points=entry.points,
        allocations=[AllocationMap(lot=a.lot_id, expires_at=a.expires_at, points=a.points) for a in entry.allocations],
        reason=entry.reason, actor=entry.actor, reverses=entry.reverses, event_id=entry.event_id,
        explanation=dict(entry.explanation) if entry.explanation else None,
        t=keys.time_sk(entry.at, entry.entry_id),
    )


def _entry_from_item(item: EntryItem) -> Entry:
    return Entry(
        entry_id=item.entry_id, at=item.at, kind=EntryKind(item.entry_kind), points=int(item.points),
        allocations=tuple(Allocation(a.lot, a.expires_at, int(a.points)) for a in item.allocations),
        reason=item.reason, actor=item.actor, reverses=item.reverses, event_id=item.event_id,
        explanation=item.explanation,
    )


def utcnow() -> datetime:
    """The wall clock, for adapters only: domain code receives "now" as an argument."""
    return datetime.now(timezone.utc)
