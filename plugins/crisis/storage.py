"""The DynamoDB side of `plugins.crisis.model`: the items (key layout in `infra/keys.py`), the writers that add the crisis
side writes to an event's transaction, and `Storage`, the alert methods the store gains.

An unresolved alert is kept twice, written together: as the alert (`BRAND#b`, `ALERT#<id>`, kept for good) and as
its live copy under the key `OPEN#<metric>#<scope>` (`BRAND#b#CRISIS`). The live copy is what enforces one alert
per metric and scope (put only if absent, changed only while it names the same alert), what the rules and the
coupon check read with one Query, and what carries the response deadline in the due index. Resolving deletes it.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from infra import family_storage, keys
from infra.dynamo_errors import response_code
from infra.paging import decode_cursor, page
from infra.models import SiyuItem
from plugins.crisis.model import (
    ACKNOWLEDGED,
    OPEN,
    RESOLVED,
    Alert,
    AlertChange,
    AlertDue,
    COUNTER_SHARDS,
    CountWrite,
    EscalateAlertWrite,
    OpenAlertWrite,
    RaiseAlertWrite,
    ReadingWrite,
    ScopeCounts,
)
from plugins.coupons.effects import TemplatesPaused
from rules.errors import WriteConflict
from rules.persistence import Page

# ---- items ------------------------------------------------------------------------------------------------------


class AlertChangeMap(MapAttribute):
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    level = UnicodeAttribute()
    value = NumberAttribute(null=True)
    threshold = NumberAttribute(null=True)
    by = UnicodeAttribute(null=True)


class AlertItem(SiyuItem, discriminator="alert"):
    alert_id = UnicodeAttribute()
    brand_id = UnicodeAttribute()
    metric = UnicodeAttribute()
    measure = UnicodeAttribute()
    scope = UnicodeAttribute()
    level = UnicodeAttribute()
    status = UnicodeAttribute()
    value = NumberAttribute()
    threshold = NumberAttribute()
    opened_at = UTCDateTimeAttribute()
    raised_at = UTCDateTimeAttribute()
    respond_by = UTCDateTimeAttribute()
    current_value = NumberAttribute(null=True)  # the metric's latest reading while counting goes on
    escalated_for = UTCDateTimeAttribute(null=True)
    escalated_at = UTCDateTimeAttribute(null=True)
    escalations = NumberAttribute(default=0)
    acknowledged_at = UTCDateTimeAttribute(null=True)
    acknowledged_by = UnicodeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    pause_coupon_templates = ListAttribute(of=UnicodeAttribute, null=True)
    history = ListAttribute(of=AlertChangeMap, default=list)


class OpenAlertItem(AlertItem, discriminator="open_alert"):
    """The unresolved alert's live copy, under its metric and scope."""


class FeedbackCountItem(SiyuItem, discriminator="feedback_count"):
    """One shard of one scope's feedback in one hour (`infra/keys.py`: the hour's key, then `#<shard>`)."""

    scope = UnicodeAttribute()
    hour = UTCDateTimeAttribute()
    negative = NumberAttribute(default=0)
    total = NumberAttribute(default=0)
    latest_at = UTCDateTimeAttribute(null=True)  # the latest event time this shard counted


class FeedbackScopeItem(SiyuItem, discriminator="feedback_scope"):
    """The scope's version item of earlier releases (every counting event conditioned on it); no longer written.
    Left to its TTL; its latest event time is still read until then."""

    scope = UnicodeAttribute()
    version = NumberAttribute(default=0)
    latest_at = UTCDateTimeAttribute(null=True)


# ---- writers: the crisis side writes in an event's transaction --------------------------------------------------


def _write_count(tx: Any, write: CountWrite, record: Any) -> None:
    # ADDs to the event's own shard: no condition on anything another event of the scope writes, so concurrent
    # events neither wait for each other nor lose a count (the processed record makes it once per event).
    item = FeedbackCountItem(keys.feedback_pk(write.brand_id, write.scope), keys.feedback_shard_sk(write.hour,
                                                                                                    write.shard))
    actions = [
        FeedbackCountItem.kind.set(FeedbackCountItem), FeedbackCountItem.scope.set(write.scope),
        FeedbackCountItem.hour.set(write.hour), FeedbackCountItem.negative.add(write.negative),
        FeedbackCountItem.total.add(1), FeedbackCountItem.ttl.set(write.bucket_until),
    ]
    condition = None
    if write.latest_at is not None:
        actions.append(FeedbackCountItem.latest_at.set(write.latest_at))
        # Never lower it: a later event of this shard counted since the read makes this a conflict, re-read.
        condition = FeedbackCountItem.latest_at.does_not_exist() | (FeedbackCountItem.latest_at <= write.latest_at)
    tx.update("conflict", item, actions, condition)


def _write_open(tx: Any, write: OpenAlertWrite, record: Any) -> None:
    alert = write.alert
    live = _item(OpenAlertItem, keys.crisis_pk(alert.brand_id), keys.open_alert_sk(alert.metric, alert.scope), alert)
    live.gsi1pk, live.gsi1sk = keys.ALERTS_DUE_PK, keys.alert_due_sk(alert.respond_by, alert.brand_id, alert.alert_id)
    tx.put("conflict", live, OpenAlertItem.pk.does_not_exist())
    tx.put("conflict", _item(AlertItem, keys.brand_pk(alert.brand_id), keys.alert_sk(alert.alert_id), alert),
           AlertItem.pk.does_not_exist())


def _write_raise(tx: Any, write: RaiseAlertWrite, record: Any) -> None:
    actions = [
        AlertItem.level.set(write.level), AlertItem.status.set(OPEN), AlertItem.value.set(write.value),
        AlertItem.current_value.set(write.value), AlertItem.threshold.set(write.threshold), AlertItem.raised_at.set(write.change.at),
        AlertItem.respond_by.set(write.respond_by), _append(write.change),
    ]
    if write.pause_coupon_templates:
        actions.append(AlertItem.pause_coupon_templates.set(list(write.pause_coupon_templates)))
    due = [AlertItem.gsi1pk.set(keys.ALERTS_DUE_PK),
           AlertItem.gsi1sk.set(keys.alert_due_sk(write.respond_by, write.brand_id, write.alert_id))]
    tx.update("conflict", OpenAlertItem(keys.crisis_pk(write.brand_id), keys.open_alert_sk(write.metric, write.scope)),
              actions + due, (OpenAlertItem.alert_id == write.alert_id) & (OpenAlertItem.level == write.from_level))
    tx.update("conflict", AlertItem(keys.brand_pk(write.brand_id), keys.alert_sk(write.alert_id)), actions,
              AlertItem.pk.exists() & (AlertItem.status != RESOLVED))


def _write_reading(tx: Any, write: ReadingWrite, record: Any) -> None:
    # A reading as counted so far (another event may show a newer one): these only need the alert to be the
    # unresolved one that was read.
    actions = [AlertItem.current_value.set(write.value)]
    tx.update("conflict", OpenAlertItem(keys.crisis_pk(write.brand_id), keys.open_alert_sk(write.metric, write.scope)),
              actions, OpenAlertItem.alert_id == write.alert_id)
    tx.update("conflict", AlertItem(keys.brand_pk(write.brand_id), keys.alert_sk(write.alert_id)), actions,
              AlertItem.pk.exists() & (AlertItem.status != RESOLVED))


def _write_escalation(tx: Any, write: EscalateAlertWrite, record: Any) -> None:
    actions = [AlertItem.escalated_for.set(write.respond_by), AlertItem.escalated_at.set(write.change.at),
               AlertItem.escalations.add(1), _append(write.change)]
    live = OpenAlertItem(keys.crisis_pk(write.brand_id), keys.open_alert_sk(write.metric, write.scope))
    tx.update("conflict", live, actions + [AlertItem.gsi1pk.remove(), AlertItem.gsi1sk.remove()],
              (OpenAlertItem.alert_id == write.alert_id) & (OpenAlertItem.status == OPEN)
              & (OpenAlertItem.respond_by == write.respond_by))
    tx.update("conflict", AlertItem(keys.brand_pk(write.brand_id), keys.alert_sk(write.alert_id)), actions,
              AlertItem.pk.exists() & (AlertItem.status == OPEN))


def _append(change: AlertChange) -> Any:
    return AlertItem.history.set(AlertItem.history.append([_change_map(change)]))


# ---- reads and staff changes (DynamoStore inherits these) -------------------------------------------------------


class Storage:
    def feedback_counts(self, brand_id: str, scope: str, *, hours: int) -> ScopeCounts:
        # Newest first, up to every shard of the latest `hours` hours that have counts, whatever hours they are.
        latest_at = None
        buckets: dict[datetime, tuple[int, int]] = {}
        # Consistent: a reading decides whether this event raises the alert (the raise's own condition guards
        # against another event raising it meanwhile, not against a stale count).
        limit = hours * COUNTER_SHARDS + 1
        for item in SiyuItem.query(keys.feedback_pk(brand_id, scope), scan_index_forward=False, limit=limit,
                                   page_size=limit, consistent_read=True):
            if isinstance(item, FeedbackCountItem):
                negative, total = buckets.get(item.hour, (0, 0))
                buckets[item.hour] = (negative + int(item.negative), total + int(item.total))
            elif not isinstance(item, FeedbackScopeItem):
                continue
            if item.latest_at is not None and (latest_at is None or item.latest_at > latest_at):
                latest_at = item.latest_at
        if len(buckets) > hours:  # the oldest hour may have been cut short by the limit
            buckets.pop(min(buckets))
        return ScopeCounts(scope, MappingProxyType(buckets), latest_at)

    def open_alerts(self, brand_id: str) -> tuple[Alert, ...]:
        return tuple(_alert(item) for item in OpenAlertItem.query(
            keys.crisis_pk(brand_id), OpenAlertItem.sk.startswith(keys.OPEN_ALERT_PREFIX), consistent_read=True))

    def alerts_due(self, until: datetime) -> list[AlertDue]:
        due = []
        for item in SiyuItem.by_due.query(keys.ALERTS_DUE_PK, SiyuItem.gsi1sk <= keys.due_bound(until)):
            at, brand_id, alert_id = keys.parse_alert_due_sk(item.gsi1sk)
            due.append(AlertDue(brand_id, alert_id, at))
        return due

    def get_alert(self, brand_id: str, alert_id: str) -> Alert | None:
        try:
            # Consistent: staff act on an alert they just saw, and its level becomes the write's condition.
            return _alert(AlertItem.get(keys.brand_pk(brand_id), keys.alert_sk(alert_id), consistent_read=True))
        except AlertItem.DoesNotExist:
            return None

    def alerts(self, brand_id: str, status: str | None, *, first: int, after: str | None) -> Page[Alert]:

        before = decode_cursor(after, keys.ALERT_PREFIX) if after else None  # an alert's sort key
        if status in (OPEN, ACKNOWLEDGED):
            # Unresolved alerts are few (one per metric and scope at most): read their live copies, not history.
            found = sorted((a for a in self.open_alerts(brand_id) if a.status == status
                            and (before is None or keys.alert_sk(a.alert_id) < before)),
                           key=lambda a: a.alert_id, reverse=True)
            return page(found[:first + 1], first, lambda a: keys.alert_sk(a.alert_id), lambda a: a)
        pk = keys.brand_pk(brand_id)
        query = AlertItem.query(pk, AlertItem.sk.startswith(keys.ALERT_PREFIX), scan_index_forward=False,
                                filter_condition=(AlertItem.status == status) if status else None,
                                limit=first + 1, page_size=first + 1,
                                last_evaluated_key={"pk": {"S": pk}, "sk": {"S": before}} if before else None)
        return page(query, first, lambda item: item.sk, _alert)

    def acknowledge_alert(self, alert: Alert, *, by: str, at: datetime) -> None:
        actions = [AlertItem.status.set(ACKNOWLEDGED), AlertItem.acknowledged_at.set(at),
                   AlertItem.acknowledged_by.set(by), _append(AlertChange(at, "acknowledged", alert.level, by=by))]
        as_read = (AlertItem.status == alert.status) & (AlertItem.level == alert.level)
        with _changing():
            with TransactWrite(connection=SiyuItem._get_connection().connection) as tx:
                tx.update(AlertItem(keys.brand_pk(alert.brand_id), keys.alert_sk(alert.alert_id)), actions,
                          condition=as_read)
                # Acknowledged alerts leave the due index: they are never escalated.
                tx.update(_live(alert), actions + [AlertItem.gsi1pk.remove(), AlertItem.gsi1sk.remove()],
                          condition=as_read & (OpenAlertItem.alert_id == alert.alert_id))

    def resolve_alert(self, alert: Alert, *, by: str, at: datetime) -> None:
        actions = [AlertItem.status.set(RESOLVED), AlertItem.resolved_at.set(at), AlertItem.resolved_by.set(by),
                   _append(AlertChange(at, "resolved", alert.level, by=by))]
        with _changing():
            with TransactWrite(connection=SiyuItem._get_connection().connection) as tx:
                tx.update(AlertItem(keys.brand_pk(alert.brand_id), keys.alert_sk(alert.alert_id)), actions,
                          condition=(AlertItem.status == alert.status) & (AlertItem.level == alert.level))
                tx.delete(_live(alert), condition=(OpenAlertItem.alert_id == alert.alert_id)
                          & (OpenAlertItem.level == alert.level))
                if alert.pause_coupon_templates:
                    resume = TemplatesPaused(alert.brand_id, alert.pause_coupon_templates, by=alert.alert_id,
                                             resume=True)
                    family_storage.writers()[TemplatesPaused](_Updates(tx), resume, None)

    def paused_coupon_templates(self, brand_id: str) -> frozenset[str]:
        paused: set[str] = set()
        for item in OpenAlertItem.query(keys.crisis_pk(brand_id), OpenAlertItem.sk.startswith(keys.OPEN_ALERT_PREFIX),
                                        filter_condition=OpenAlertItem.level == "red"):
            paused.update(item.pause_coupon_templates or ())
        return frozenset(paused)


class _Updates:
    """Lets a family's writer (written for the engine's transaction) add its updates to this one."""

    def __init__(self, tx: TransactWrite) -> None:
        self._tx = tx

    def update(self, role: str, item: SiyuItem, actions: list, condition: Any) -> None:
        self._tx.update(item, actions=actions, condition=condition)


class _changing:
    """A staff change whose condition failed is a conflict: the caller reads the alert again."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> bool:
        if isinstance(error, TransactWriteError) and response_code(error) == "TransactionCanceledException":
            raise WriteConflict(str(error)) from None
        return False


# ---- item <-> domain --------------------------------------------------------------------------------------------


def _live(alert: Alert) -> OpenAlertItem:
    return OpenAlertItem(keys.crisis_pk(alert.brand_id), keys.open_alert_sk(alert.metric, alert.scope))


def _item(model: type, pk: str, sk: str, alert: Alert) -> AlertItem:
    return model(
        pk, sk, alert_id=alert.alert_id, brand_id=alert.brand_id, metric=alert.metric, measure=alert.measure,
        scope=alert.scope, level=alert.level, status=alert.status, value=alert.value, threshold=alert.threshold,
        opened_at=alert.opened_at, raised_at=alert.raised_at, respond_by=alert.respond_by,
        current_value=alert.current_value,
        escalated_for=alert.escalated_for, escalated_at=alert.escalated_at, escalations=alert.escalations,
        acknowledged_at=alert.acknowledged_at, acknowledged_by=alert.acknowledged_by,
        resolved_at=alert.resolved_at, resolved_by=alert.resolved_by,
        pause_coupon_templates=list(alert.pause_coupon_templates) or None,
        history=[_change_map(c) for c in alert.history],
    )


def _change_map(change: AlertChange) -> AlertChangeMap:
    return AlertChangeMap(at=change.at, action=change.action, level=change.level, value=change.value,
                          threshold=change.threshold, by=change.by)


def _alert(item: AlertItem) -> Alert:
    return Alert(
        alert_id=item.alert_id, brand_id=item.brand_id, metric=item.metric, measure=item.measure, scope=item.scope,
        level=item.level, status=item.status, value=float(item.value), threshold=float(item.threshold),
        opened_at=item.opened_at, raised_at=item.raised_at, respond_by=item.respond_by,
        current_value=None if item.current_value is None else float(item.current_value),
        escalated_for=item.escalated_for, escalated_at=item.escalated_at, escalations=int(item.escalations or 0),
        acknowledged_at=item.acknowledged_at, acknowledged_by=item.acknowledged_by, resolved_at=item.resolved_at,
        resolved_by=item.resolved_by, pause_coupon_templates=tuple(item.pause_coupon_templates or ()),
        history=tuple(AlertChange(c.at, c.action, c.level, None if c.value is None else float(c.value),
                                  None if c.threshold is None else float(c.threshold), c.by)
                      for c in item.history or ()),
    )


WRITERS = {CountWrite: _write_count, OpenAlertWrite: _write_open, RaiseAlertWrite: _write_raise,
           ReadingWrite: _write_reading, EscalateAlertWrite: _write_escalation}
