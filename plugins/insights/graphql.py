"""GraphQL for the brand KPIs (staff only): `insights(from:, to:)`, the daily series of the staff's brand."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from api.permissions import IsStaff
from api.request import BAD_USER_INPUT, Context, graphql_error
from plugins.insights import model
from rules import errors

# Distributions are running totals: the day counters are read from the brand's first day.
_FIRST_DAY = date(2000, 1, 1)


@strawberry.type(description="How many members hold one value of a distribution at the end of the day.")
class InsightsBucket:
    value: str = strawberry.field(description="The value: a tier code, or a lifecycle stage (PROSPECT, NEW, "
                                                     "ACTIVE, SLEEPING, DORMANT, LOST).")
    members: int = strawberry.field(description="Members holding it at the end of the day.")


@strawberry.type(description="A distribution of the brand's members at the end of the day.")
class InsightsDistribution:
    name: str = strawberry.field(description='What is distributed: "tiers" (members by tier), "stages" '
                                             '(members by lifecycle stage, where the brand runs the segments '
                                             'family; dated by when the member reached the stage).')
    buckets: list[InsightsBucket] = strawberry.field(description="Each value held by at least one member.")


@strawberry.type(description="The brand's figures for one brand-local calendar day (DOMAIN.md 8.1).")
class InsightsDay:
    date: date = strawberry.field(description="The day, in the brand's time zone.")
    new_members: int = strawberry.field(description="Members who registered that day.")
    active_members: int = strawberry.field(description="Members with at least one paid order that day.")
    orders: int = strawberry.field(description="Paid orders.")
    gmv_fen: int = strawberry.field(description="What the paid orders came to, in fen.")
    refunds: int = strawberry.field(description="Refunds.")
    refund_fen: int = strawberry.field(description="What was refunded that day, in fen.")
    net_gmv_fen: int = strawberry.field(description="GMV less that day's refunds, in fen.")
    aov_fen: Optional[int] = strawberry.field(description="Average order value (GMV / orders, rounded down), in "
                                                          "fen; null without orders.")
    first_orders: int = strawberry.field(description="Members whose first order was that day (the cohort).")
    repurchased_within_30_days: int = strawberry.field(description="Of them, members whose second order came "
                                                                   "within 30 days of the first.")
    repurchased_within_90_days: int = strawberry.field(description="Of them, members whose second order came "
                                                                   "within 90 days of the first.")
    repurchase_rate_30: Optional[float] = strawberry.field(description="repurchasedWithin30Days / firstOrders; null "
                                                                       "without first orders.")
    repurchase_rate_90: Optional[float] = strawberry.field(description="repurchasedWithin90Days / firstOrders.")
    points_issued: int = strawberry.field(description="Points earned by members that day.")
    points_redeemed: int = strawberry.field(description="Points members spent that day.")
    points_expired: int = strawberry.field(description="Points that lapsed that day.")
    points_redemption_rate: Optional[float] = strawberry.field(description="pointsRedeemed / pointsIssued; null "
                                                                           "when none were issued.")
    coupons_claimed: int = strawberry.field(description="Coupons members claimed or were given.")
    coupons_used: int = strawberry.field(description="Coupons used on orders.")
    coupon_redemption_rate: Optional[float] = strawberry.field(description="couponsUsed / couponsClaimed; null "
                                                                           "when none were claimed.")
    referral_conversions: int = strawberry.field(description="Invitees bound to their inviter.")
    alerts: int = strawberry.field(description="Crisis alerts raised.")
    distributions: list[InsightsDistribution] = strawberry.field(
        description="Members by tier and by lifecycle stage (and by any other distribution a family "
                    "counts) at the end of the day.")

    @classmethod
    def of(cls, day: model.Day) -> "InsightsDay":
        g = day.get
        return cls(
            date=day.day, new_members=g(model.NEW_MEMBERS), active_members=g(model.ACTIVE_MEMBERS),
            orders=g(model.ORDERS), gmv_fen=g(model.GMV_FEN), refunds=g(model.REFUNDS),
            refund_fen=g(model.REFUND_FEN), net_gmv_fen=g(model.GMV_FEN) - g(model.REFUND_FEN),
            aov_fen=g(model.GMV_FEN) // g(model.ORDERS) if g(model.ORDERS) else None,
            first_orders=g(model.FIRST_ORDERS), repurchased_within_30_days=g(model.REPURCHASED_30),
            repurchased_within_90_days=g(model.REPURCHASED_90),
            repurchase_rate_30=model.ratio(g(model.REPURCHASED_30), g(model.FIRST_ORDERS)),
            repurchase_rate_90=model.ratio(g(model.REPURCHASED_90), g(model.FIRST_ORDERS)),
            points_issued=g(model.POINTS_ISSUED), points_redeemed=g(model.POINTS_REDEEMED),
            points_expired=g(model.POINTS_EXPIRED),
            points_redemption_rate=model.ratio(g(model.POINTS_REDEEMED), g(model.POINTS_ISSUED)),
            coupons_claimed=g(model.COUPONS_CLAIMED), coupons_used=g(model.COUPONS_USED),
            coupon_redemption_rate=model.ratio(g(model.COUPONS_USED), g(model.COUPONS_CLAIMED)),
            referral_conversions=g(model.REFERRAL_CONVERSIONS), alerts=g(model.ALERTS),
            distributions=[InsightsDistribution(name=name, buckets=[InsightsBucket(value=v, members=n)
                                                                    for v, n in sorted(values.items())])
                           for name, values in sorted(day.distributions.items())],
        )


def series(store, brand_id: str, start: date, end: date) -> list[model.Day]:
    """The brand's days from `start` to `end` (inclusive), as counted so far."""
    if start > end or (end - start).days + 1 > model.MAX_DAYS:
        raise errors.InvalidInput("from", "invalid.insights_range", max_days=model.MAX_DAYS)
    return model.series(store.kpi_days(brand_id, _FIRST_DAY, end), start, end)


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsStaff],
                      description="The staff's brand's KPIs, one entry per brand-local day from `from` to `to`. "
                                  "Counted off the event path from the table's change stream: a change shows here "
                                  "within seconds of being applied.")
    def insights(self, info: Info,
                 from_: Annotated[date, strawberry.argument(name="from", description="The first day (brand-local).")],
                 to: Annotated[date, strawberry.argument(description="The last day, included; at most a year after "
                                                                     "`from`.")]) -> list[InsightsDay]:
        context: Context = info.context
        try:
            days = series(context.store, context.principal.brand_id, from_, to)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        return [InsightsDay.of(day) for day in days]


DESCRIPTIONS: dict[str, str] = {}
