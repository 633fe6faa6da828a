"""Referral: binding an invitee to their inviter, and commissions on invitees' orders (accrued, settled after the
refund window, clawed back on refunds)."""

from datetime import timedelta

from plugins.referral import model
from rules.events import ID_FIELD
from plugins.referral.messages import MESSAGES
from rules.family import EventType, Family
from rules.limits import AttemptLimit

FAMILY = Family(
    name="referral",
    plugins=("plugins.referral.plugin",),
    hookspecs="plugins.referral.hooks",
    events={"referral.code_entered": EventType("siyu_referral_code_entered", {
        "required": ["brandId", "memberId", "referralCode"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD,
                       "referralCode": {"type": "string", "minLength": 1, "maxLength": 32}},
    })},
    follow_ups=frozenset({"commission.settled"}),
    loaders={"referral": model.load_referral},
    planners={model.BindReferral: model.plan_bind, model.AccrueCommission: model.plan_accrue,
              model.SettleCommission: model.plan_settle, model.ClawBackCommission: model.plan_claw_back},
    effects=(model.BindReferral, model.AccrueCommission, model.SettleCommission, model.ClawBackCommission,
             model.InviterCoupon),
    messages=MESSAGES,
    limits={model.BIND_REFERRAL_CODE: AttemptLimit(10, timedelta(hours=1))},
    storage="plugins.referral.storage",
    graphql="plugins.referral.graphql",
    kpis="plugins.referral.kpis",
)
