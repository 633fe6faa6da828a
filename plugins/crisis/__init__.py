"""Crisis: feedback counted per brand, channel and topic; alerts raised on thresholds, with response deadlines
escalated by an hourly sweep; coupon templates paused while a red alert is open."""

from plugins.crisis import model
from rules.events import ID_FIELD
from plugins.crisis.messages import MESSAGES
from rules.family import EventType, Family, Sweep

FAMILY = Family(
    name="crisis",
    plugins=("plugins.crisis.plugin",),
    hookspecs="plugins.crisis.hooks",
    events={"feedback.received": EventType("siyu_feedback_received", {
        "required": ["brandId", "feedbackId", "channel", "kind"],
        "properties": {
            "brandId": ID_FIELD, "feedbackId": ID_FIELD, "memberId": ID_FIELD,
            "channel": {"type": "string", "minLength": 1, "maxLength": 32},
            "kind": {"type": "string", "enum": ["complaint", "review", "refund_reason", "chat"]},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "sentiment": {"type": "number", "minimum": -1, "maximum": 1},
            "topic": {"type": "string", "maxLength": 64},
            "text": {"type": "string", "maxLength": 4000},
        },
    })},
    follow_ups=frozenset({"alert.raised", "alert.escalated"}),
    loaders={"alerts": model.load_alerts},
    planners={model.CountFeedback: model.plan_count, model.RaiseAlert: model.plan_raise,
              model.ShowReading: model.plan_reading, model.EscalateAlert: model.plan_escalation},
    effects=(model.CountFeedback, model.RaiseAlert, model.ShowReading, model.EscalateAlert),
    sweeps=(Sweep(model.ALERT_SWEEP, resource="alert-sweep", hook="siyu_alerts_due",
                  targets=model.brands_with_alerts_due),),
    messages=MESSAGES,
    storage="plugins.crisis.storage",
    graphql="plugins.crisis.graphql",
    kpis="plugins.crisis.kpis",
)
