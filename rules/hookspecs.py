"""The hooks a Siyu rule plugin can implement: the core's here, and those a rule family adds in its own `hooks`
module (`Family.hookspecs`: `siyu_referral_code_entered`, `siyu_feedback_received`, `siyu_alerts_due`).

A plugin is a module (or object) with functions marked `@hookimpl` whose names match the specs below. It is
registered under the name its `siyu_plugin_info` returns, and a brand turns it on with `configureBrand`, giving it
parameters that must validate against its JSON Schema. For every event of that brand the engine calls the matching
hook of each enabled plugin, one plugin at a time in evaluation order, with:

- `event`: the validated event (`rules.events.BusinessEvent`); read `event.detail` for its fields;
- `context`: a read-only `rules.context.RuleContext`: the brand, this plugin's parameters, the member as they stand
  after the plugins that ran before this one (`context.member`, with their coupons in `context.member.coupons`
  and their tags in `context.member.tags`; `context.member.consented("behaviour_analytics")` says whether the
  member consented to a purpose), `context.now` (the event's time; never read the wall clock), and
  `context.extras`: what the rule families loaded beyond the member (their `loaders`; built-ins only),
  and `context.decided`: what the plugins before this one decided for the same event.

Effects a plugin may return (`rules.effects`): `AwardPoints`, `TakeBackPoints`, `ExpirePoints`, `AddGrowth`,
`SetTier`, `SetPaidMembership`, `Once` (remember a key, optionally with `due_at` to be called back by the daily
sweep), `Emit` (a follow-up event; a `notification.requested` goes out only if the event's member consented to
marketing messages, else it is recorded as suppressed), the effects the rule families declare (`IssueCoupon` and `UseCoupon` of the coupons family), and `Note` (no
write: says why a rule did not act, so "why not?" has an answer too). Effects on the brand rather than the member
(`BrandEffect`, e.g. the crisis family's counters and alerts, and `BrandEmit` for their follow-ups) never show in the member's own activity.

A hook returns an iterable of effects (`rules.effects`) or None. It must be pure: no I/O, no clock, no mutation of
its arguments. If it raises, the event fails with the plugin's name and nothing of it is written.

A minimal plugin::

    from rules.sdk import AwardPoints, PluginInfo, hookimpl

    @hookimpl
    def siyu_plugin_info():
        return PluginInfo(name="review_bonus", version="1.0.0",
                          params_schema={"type": "object", "properties": {"points": {"type": "integer", "default": 5}}})

    @hookimpl
    def siyu_member_engaged(event, context):
        if event.get("action") == "review":
            yield AwardPoints(points=context.params["points"], expires_at=context.expiry_for_new_points(),
                              reason="review", rule="review_bonus", inputs={"action": "review"})

Publish it with an entry point in the `siyu.rules` group (see `examples/wecom_group_bonus`). The whole contract, for
partners: docs/plugins.md (a test keeps it complete).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional

import pluggy

if TYPE_CHECKING:
    from rules.context import RuleContext
    from rules.effects import Effect
    from rules.events import BusinessEvent, SweepEvent
    from rules.plugin_manager import PluginInfo

Effects = Optional[Iterable["Effect"]]

hookspec = pluggy.HookspecMarker("siyu")
hookimpl = pluggy.HookimplMarker("siyu")


# ---------------------------------------------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def siyu_plugin_info() -> "PluginInfo":
    """Describe the plugin: return a `rules.plugin_manager.PluginInfo`.

    Called once, when the plugin is registered. `name` is how brands enable it, `version` goes into every
    explanation the plugin's effects produce, `params_schema` is the JSON Schema that a brand's parameters must
    satisfy (defaults in the schema's top-level `properties` are filled in before your hooks see them), and
    `order` places the plugin in the evaluation sequence (lower runs first; built-ins use 10-60, partners default
    to 100, so they see what the built-ins decided for the same event).
    """


# ---------------------------------------------------------------------------------------------------------------
# Business events (docs/plugins.md, "Events"). Each returns an iterable of effects, or None.
# ---------------------------------------------------------------------------------------------------------------


@hookspec
def siyu_member_registered(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A member joined the brand (`memberId`, `channel`, optional `referralCode`).

    Typical effects: a welcome `AwardPoints`, a referral binding, a new-member `IssueCoupon`.
    """


@hookspec
def siyu_order_paid(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A member paid an order: `orderId`, `amountFen` (integer fen), optional `items` (each with `sku`,
    `category`, `quantity`, `amountFen`), `channel`, optional `couponIds`.

    The same order may be announced twice (a brand system retrying with a new event id): guard per order with
    `context.member.has(f"{your_plugin_name}:order:{orderId}")` and claim that key with a `Once` effect (a key must
    start with the plugin's own name). What the built-ins decided for the order is in `context.decided`.
    The member's markers about other orders are not loaded for this event (docs/plugins.md): keep sums over the
    member's orders as running totals (`AddToTotal`, `context.member.total(name)`), or, for a window that ends on a
    brand-local day, as daily totals (`AddToDailyTotal`, `context.member.daily_totals(name)`: the last months' days,
    loaded with the member whatever their history).
    """


@hookspec
def siyu_order_refunded(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """An order was refunded, fully or in part: `orderId`, `amountFen` refunded (integer fen), optional `refundId`.

    The `points` plugin takes back its own points; a partner's bonus is taken back only if the partner does so."""


@hookspec
def siyu_member_checked_in(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A member checked in. Brands reward this once per brand-local day: use `context.local_date()`."""


@hookspec
def siyu_member_engaged(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A member did something worth noting: `action` (`review`, `share`, `group_join`, `survey`, ...), `refId`."""


@hookspec
def siyu_membership_paid(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A member bought or renewed a paid membership (百果园 心享, 元气森林 会员卡): `plan`, `validUntil` (ISO time with
    zone), optional `amountFen`. Typical effect: `SetPaidMembership`."""


@hookspec
def siyu_order_delivered_late(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """The logistics system says an order arrived late (or is overdue): `orderId`, optional `promisedAt`,
    `deliveredAt`. Typical effect: a compensation `IssueCoupon`, once per order."""


# ---------------------------------------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------------------------------------


@hookspec
def siyu_member_due(sweep: "SweepEvent", context: "RuleContext") -> Effects:
    """The daily sweep reached a member who has something due (a lot expiring, a tier validity ending, ...).

    `sweep` is a `rules.events.SweepEvent`; `context.now` is its time. Return effects such as `ExpirePoints`.
    Called once per member per sweep, however many times the sweep event is delivered.
    """
