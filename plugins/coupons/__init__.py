"""Coupons: the brand's templates, claims within stock and limits, coupons rules give, and their use on orders."""

from datetime import timedelta

from plugins.coupons import model
from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES
from plugins.coupons.effects import IssueCoupon, UseCoupon
from plugins.coupons.messages import MESSAGES
from rules.family import Family
from rules.limits import AttemptLimit

FAMILY = Family(
    name="coupons",
    plugins=("plugins.coupons.plugin",),
    follow_ups=frozenset({"coupon.issued"}),
    loaders={"coupon_templates": model.load_templates},
    planners={IssueCoupon: model.plan_issue, UseCoupon: model.plan_use},
    effects=(IssueCoupon, UseCoupon),
    partner_effects=(IssueCoupon, UseCoupon),
    shared_holdings={"coupons": model.Coupon},
    storage="plugins.coupons.storage",
    graphql="plugins.coupons.graphql",
    kpis="plugins.coupons.kpis",
    messages=MESSAGES,
    limits={model.CLAIM_COUPON: AttemptLimit(20, timedelta(hours=1))},
    demo_params={"coupons": {"templates": BAIGUOYUAN_TEMPLATES, "onRegistration": ["bgy-entry-50-10"]}},
)
