"""GraphQL types for crisis alerts (staff only): the alert, its history, the list, and the workflow's results."""


from datetime import datetime
from enum import Enum
from typing import Annotated, Optional, Union

import strawberry

from strawberry.types import Info

from api.descriptions import AFTER, CURSOR, EDGES, FIRST, NODE, PAGE, RESULT
from api.permissions import IsStaff
from api.request import BAD_USER_INPUT, Context, graphql_error
from api.resolving import plausible_id
from api.results import BusinessError, Busy, PageInfo, business_error, check_page_size
from api.retry import typed
from rules import errors
from plugins.crisis import model as domain
from rules.errors import SiyuError


@strawberry.enum(description="Blue, yellow, red: each level is a step up in who must decide.")
class AlertLevel(Enum):
    BLUE = "blue"
    YELLOW = "yellow"
    RED = "red"


@strawberry.enum
class AlertStatus(Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@strawberry.enum
class AlertStatusFilter(Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ALL = "all"


@strawberry.enum(description="What a feedback count measures.")
class AlertMeasure(Enum):
    NEGATIVE_COUNT = "negativeCount"
    NEGATIVE_SHARE = "negativeShare"
    NEGATIVE_SPIKE = "negativeSpike"
    VOLUME_DROP = "volumeDrop"


@strawberry.enum(description="Where an alert's feedback was counted.")
class AlertScope(Enum):
    CHANNEL = "channel"
    TOPIC = "topic"
    BRAND = "brand"


@strawberry.enum(description="A step in an alert's life.")
class AlertAction(Enum):
    OPENED = "opened"
    RAISED = "raised"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@strawberry.type(description="One step in an alert's life.")
class AlertChange:
    at: datetime
    action: str = strawberry.field(description="opened, raised, escalated, acknowledged or resolved.",
                                   deprecation_reason="Use kind (an enum); removed in the next release.")
    kind: AlertAction = strawberry.field(description="What happened.")
    level: AlertLevel
    value: Optional[float] = strawberry.field(description="The reading that opened or raised it.")
    threshold: Optional[float] = strawberry.field(description="What the reading exceeded.")
    by: Optional[str] = strawberry.field(description="The event that caused it, or the staff member.")


@strawberry.type(description="A crisis alert: a metric of one scope (a channel, a topic, the brand) went past a level.")
class Alert:
    id: strawberry.ID
    metric: str = strawberry.field(description="The threshold's name in the crisis plugin, e.g. negative-posts.")
    measure: str = strawberry.field(description="negativeCount, negativeShare, negativeSpike or volumeDrop.",
                                    deprecation_reason="Use measureKind (an enum); removed in the next release.")
    measure_kind: AlertMeasure = strawberry.field(description="What the metric measures.")
    scope: str = strawberry.field(description='Where it was counted: "channel:douyin", "topic:quality", "brand".',
                                  deprecation_reason="Use scopeKind with channel or topic; removed in the next "
                                                     "release.")
    scope_kind: AlertScope = strawberry.field(description="Where it was counted: a channel, a topic, the brand.")
    channel: Optional[str]
    topic: Optional[str]
    level: AlertLevel
    status: AlertStatus
    value: float = strawberry.field(description="The reading at which it reached its current level.")
    current_value: float = strawberry.field(
        description="The metric's latest reading as feedback goes on being counted (while the alert is unresolved).")
    threshold: float = strawberry.field(description="What the reading exceeded for this level.")
    opened_at: datetime
    raised_at: datetime = strawberry.field(
        description="When Siyu raised it to its current level: the latest feedback time its scope had counted, so a "
                    "late event never opens an alert already overdue.")
    respond_by: datetime = strawberry.field(
        description="Acknowledge by then, or it is escalated: the level's response time after raisedAt.")
    overdue: bool = strawberry.field(description="Open (unacknowledged) past its response deadline.")
    escalated_at: Optional[datetime]
    escalations: int
    acknowledged_at: Optional[datetime]
    acknowledged_by: Optional[str]
    resolved_at: Optional[datetime]
    resolved_by: Optional[str]
    paused_coupon_templates: list[str] = strawberry.field(
        description="Coupon templates this red alert pauses until it is resolved.")
    history: list[AlertChange]

    @classmethod
    def of(cls, alert: domain.Alert, now: datetime) -> "Alert":
        kind, value = domain.scope_parts(alert.scope)
        return cls(
            id=strawberry.ID(alert.alert_id), metric=alert.metric, measure=alert.measure,
            measure_kind=AlertMeasure(alert.measure), scope=alert.scope, scope_kind=AlertScope(kind),
            channel=value if kind == "channel" else None, topic=value if kind == "topic" else None,
            level=AlertLevel(alert.level), status=AlertStatus(alert.status), value=alert.value,
            current_value=alert.value if alert.current_value is None else alert.current_value,
            threshold=alert.threshold, opened_at=alert.opened_at, raised_at=alert.raised_at,
            respond_by=alert.respond_by, overdue=alert.overdue(now), escalated_at=alert.escalated_at,
            escalations=alert.escalations, acknowledged_at=alert.acknowledged_at,
            acknowledged_by=alert.acknowledged_by, resolved_at=alert.resolved_at, resolved_by=alert.resolved_by,
            paused_coupon_templates=list(alert.pause_coupon_templates) if alert.unresolved else [],
            history=[AlertChange(at=c.at, action=c.action, kind=AlertAction(c.action), level=AlertLevel(c.level),
                                 value=c.value,
                                 threshold=c.threshold, by=c.by) for c in alert.history],
        )


@strawberry.type(description="One alert in a page, with the cursor that continues after it.")
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type(description="A page of alerts, newest first.")
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo


@strawberry.type
class AlertAcknowledged:
    alert: Alert


@strawberry.type
class AlertResolved:
    alert: Alert


@strawberry.type
class AlertNotFound(BusinessError):
    alert_id: strawberry.ID


@strawberry.type
class AlertAlreadyResolved(BusinessError):
    alert_id: strawberry.ID
    resolved_at: datetime


def alert_error(error: SiyuError) -> BusinessError:
    common = {"code": error.code, "_failure": error}
    match error:
        case domain.AlertNotFound():
            return AlertNotFound(**common, alert_id=strawberry.ID(error.alert_id))
        case domain.AlertAlreadyResolved():
            return AlertAlreadyResolved(**common, alert_id=strawberry.ID(error.alert_id),
                                        resolved_at=error.resolved_at)
    return business_error(error)


AcknowledgeAlertResult = Annotated[Union[AlertAcknowledged, AlertNotFound, AlertAlreadyResolved, Busy],
                                   strawberry.union("AcknowledgeAlertResult")]
ResolveAlertResult = Annotated[Union[AlertResolved, AlertNotFound, AlertAlreadyResolved, Busy],
                               strawberry.union("ResolveAlertResult")]


# ---- the family's part of the schema (merged by api/schema.py) -----------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsStaff], description="The brand's crisis alerts, newest first.")
    def alerts(self, info: Info, status: AlertStatusFilter = AlertStatusFilter.ALL, first: int = 20,
               after: Optional[str] = None) -> AlertConnection:
        check_page_size(first)
        context: Context = info.context
        wanted = None if status is AlertStatusFilter.ALL else status.value
        try:
            page = context.store.alerts(context.principal.brand_id, wanted, first=first, after=after)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        edges = [AlertEdge(cursor=c, node=Alert.of(a, context.now)) for a, c in zip(page.items, page.cursors)]
        return AlertConnection(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page,
                                                               end_cursor=page.end_cursor))


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Take ownership of an alert of the staff's brand: it is no longer escalated.")
    def acknowledge_alert(self, info: Info, id: strawberry.ID) -> AcknowledgeAlertResult:
        context: Context = info.context
        p = context.principal
        return _alert_change(lambda: AlertAcknowledged(alert=Alert.of(domain.acknowledge(
            context.store, p.brand_id, _alert_id(id), by=p.actor, now=context.now), context.now)))

    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Close an alert of the staff's brand; a later bad reading opens a new one.")
    def resolve_alert(self, info: Info, id: strawberry.ID) -> ResolveAlertResult:
        context: Context = info.context
        p = context.principal
        return _alert_change(lambda: AlertResolved(alert=Alert.of(domain.resolve(
            context.store, p.brand_id, _alert_id(id), by=p.actor, now=context.now), context.now)))


def _alert_id(value: strawberry.ID) -> str:
    """Alert ids are looked up in the staff's own brand only: another brand's id is simply not found there."""
    if not plausible_id(str(value)) or "#" in str(value):
        raise domain.AlertNotFound(str(value)[:128])
    return str(value)


def _alert_change(run):
    return typed(run, None, alert_error)


# Descriptions of this family's types and fields (api/descriptions.py applies them with the core's).
DESCRIPTIONS: dict[str, str] = {
    "Query.alerts(status)": "Which alerts: open ones (not resolved) or all.",
    "Query.alerts(first)": FIRST,
    "Query.alerts(after)": AFTER,
    "Mutation.acknowledgeAlert(id)": "The alert.",
    "Mutation.resolveAlert(id)": "The alert.",
    "AlertConnection.edges": EDGES,
    "AlertConnection.pageInfo": PAGE,
    "AlertEdge.cursor": CURSOR,
    "AlertEdge.node": NODE,
    "Alert.id": "The alert's id.",
    "Alert.channel": "The channel counted, when the scope is a channel (e.g. douyin).",
    "Alert.topic": "The topic counted, when the scope is a topic (e.g. quality).",
    "Alert.level": "How serious it is now.",
    "Alert.status": "Open, acknowledged or resolved.",
    "Alert.openedAt": "When it was raised.",
    "Alert.escalatedAt": "When it was last escalated (null: never).",
    "Alert.escalations": "How often it was escalated.",
    "Alert.acknowledgedAt": "When someone took it on (null: nobody yet).",
    "Alert.acknowledgedBy": "Who took it on.",
    "Alert.resolvedAt": "When it was resolved (null: not yet).",
    "Alert.resolvedBy": "Who resolved it.",
    "Alert.history": "Each step of its life, oldest first.",
    "AlertStatus": "Where an alert stands: open, acknowledged or resolved.",
    "AlertChange.at": "When the step happened.",
    "AlertChange.level": "The level after the step.",
    "AlertStatusFilter": "Which alerts to list.",
    "AcknowledgeAlertResult": RESULT,
    "AlertAcknowledged": "Someone owns the alert now: it stops escalating.",
    "AlertAcknowledged.alert": "The alert, acknowledged.",
    "AlertNotFound": "The brand has no alert with this id.",
    "AlertNotFound.alertId": "The alert asked for.",
    "AlertAlreadyResolved": "The alert was already resolved: nothing changed.",
    "AlertAlreadyResolved.alertId": "The alert.",
    "AlertAlreadyResolved.resolvedAt": "When it was resolved.",
    "ResolveAlertResult": RESULT,
    "AlertResolved": "The alert is resolved.",
    "AlertResolved.alert": "The alert, resolved.",
}
