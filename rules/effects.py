"""Effects: what a rule plugin asks for. Plugins return them; only the engine writes.

Every effect names the `rule` that produced it and the `inputs` that decided it; the engine adds the plugin's name
and version, and stores that explanation with the ledger entry or the event record, so "why did I get 12 points?"
always has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True, kw_only=True)
class Effect:
    rule: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, kw_only=True)
class AwardPoints(Effect):
    """Add `points` to the member as a new lot that expires at `expires_at`. `source` names what earned them
    (e.g. "points:order:o1"), so that a `TakeBackPoints` of the same source takes this lot's points first."""

    points: int
    expires_at: datetime
    reason: str
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class TakeBackPoints(Effect):
    """Take `points` back (a refund): from the lots of `source` first (the refunded order's own points, as its
    `AwardPoints` named them), then, for what was already spent of them, from the other lots, earliest expiry
    first. What the member no longer has becomes debt: later earnings repay it first, and redemption waits until
    it is repaid."""

    points: int
    reason: str
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpirePoints(Effect):
    """Write off whatever remains on the member's lots that are past their expiry at the event's time."""


@dataclass(frozen=True, kw_only=True)
class AddGrowth(Effect):
    """Change the member's growth value (tiers are graded on it). Negative for deductions; never below zero."""

    growth: int


@dataclass(frozen=True, kw_only=True)
class SetTier(Effect):
    """Put the member on tier `code`, held until `valid_until` (None: no end)."""

    code: str
    valid_until: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SetPaidMembership(Effect):
    """The member's paid membership runs until `until`."""

    until: datetime


@dataclass(frozen=True, kw_only=True)
class Once(Effect):
    """Remember that something happened for this member, so a rule fires only once.

    Keys start with the plugin's own name (`points:checkin:2026-03-01`), so plugins never claim each other's.

    The marker is written with the other effects and must not exist yet: two events racing to claim the same key
    cannot both succeed. A rule checks `context.member.has(key)` before claiming it. Markers are forgotten after
    `keep_days`.
    """

    key: str
    keep_days: int = 400
    data: Mapping[str, Any] = field(default_factory=dict)  # what later events need to know (JSON-ready)
    # When the daily sweep should bring this member back to the rules (`siyu_member_due`), e.g. a commission's
    # refund window ending; None: never.
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class AddToTotal(Effect):
    """Add `amount` (a whole number; negative takes off) to the member's running total `total`, which later events
    read as `context.member.total(total)`. For sums over the member's whole history (what an invitee's orders
    earned in commissions, spend per month): an event about an order reads only that order's markers, never the
    other orders' (README, "Benchmarks"), so a rule keeps such a sum as it goes instead of adding markers up.
    Kept on the member's profile, written with the event's other effects on the member's version (never lost to a
    concurrent event). Names start with the plugin's own name (`referral:commission:l1`)."""

    total: str
    amount: int


@dataclass(frozen=True, kw_only=True)
class AddToDailyTotal(Effect):
    """Add `amount` (a whole number; negative takes off) to the member's daily total `total` for the brand-local
    calendar day `day`, which later events read as `context.member.daily_totals(total)` ({day: amount}). For sums
    over a window that ends on a day (`tiers`' rolling twelve months: an order of 15 March counts until the start of
    15 March a year on), which a running total (`AddToTotal`) cannot say. Each day is kept through the end of its
    month and `keep_months` calendar months more (at most 24), then forgotten; the days of those months are loaded
    with the member's state (rules/daily_totals.py: one small item per total and month, so what an event reads is
    bounded whatever the member's history). Concurrent events never lose an addition. Names start with the plugin's
    own name (`tiers:growth`); keep one `keep_months` per name."""

    total: str
    day: date
    amount: int
    keep_months: int = 12


@dataclass(frozen=True, kw_only=True)
class Emit(Effect):
    """Publish a follow-up event after the commit (tier.changed, notification.requested, ...).

    Its id is derived from the causing event, the plugin and `detail_type`, so a redelivery never duplicates it.

    `notification.requested` (detail: `kind` and what the message needs) goes out only for the event's own member,
    and only if their newest marketing-messages consent grants it; otherwise the engine keeps the request in the
    event's record, marked `suppressed` with the reason (rules/consent.py).
    """

    detail_type: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class FamilyEffect(Effect):
    """An effect a rule family declares (rules/family.py). These methods are the engine's whole protocol with it:

    - `check(brand=, now=, member=)`: raise ValueError to refuse the effect (the event fails, naming the plugin);
    - `project(member, now)`: the member as the next plugin should see it after this effect;
    - `announce(event_id=, plugin=, index=, member_id=)`: a follow-up of its own (detail-type, detail) or None.

    `needs_member`: the effect is about the event's member, so an event without one cannot carry it. `owner`: the
    one plugin allowed to return it (money-like effects on other members: an inviter's commission), None for any.
    What an effect writes is its family's planner (`Family.planners`), keyed by its type.
    """

    needs_member: ClassVar[bool] = False
    owner: ClassVar[str | None] = None

    def check(self, *, brand: Any, now: datetime, member: Any) -> None:
        return None

    def project(self, member: Any, now: datetime) -> Any:
        return member

    def announce(self, *, event_id: str, plugin: str, index: int, member_id: str) -> tuple[str, dict] | None:
        return None


@dataclass(frozen=True, kw_only=True)
class Note(Effect):
    """Write nothing; record why a rule did not act (a coupon already used, a referral refused), so the event's
    explanation answers "why not?" as well as "why?".

    `message` is for logs and staff (any language); `sentence` names a catalogue key (rules/messages.py, or the
    family's `messages`) whose text, filled in from `inputs`, is what members and staff read in their language.
    Without one, or with a key the catalogue does not have, `message` is shown."""

    message: str
    sentence: str | None = None


@dataclass(frozen=True, kw_only=True)
class BrandEffect(FamilyEffect):
    """An effect on the brand rather than on the member the event is about (a family's brand-wide counters). It
    stays out of that member's activity, which the member can read."""


@dataclass(frozen=True, kw_only=True)
class BrandEmit(Emit, BrandEffect):
    """A follow-up about the brand (`alert.raised`): no `memberId` is added, and the member never sees it."""


def describe(effect: Effect, head: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-ready view of an effect, for summaries, explanations and dry runs. With `head`, that dict, the view
    written into it after its own keys: what `{**head, **describe(effect)}` makes, without the second dict (the
    engine's `Decision.describe`, every effect of every event; issue 15)."""
    inputs = effect.inputs
    if type(inputs) is dict:  # `_jsonable(inputs)` for the usual plain dict, without the call (issue 15)
        inputs = {str(k): v if type(v) in _PLAIN else _jsonable(v) for k, v in inputs.items()}
    else:
        inputs = _jsonable(inputs)
    if head is None:
        body: dict[str, Any] = {"effect": effect.kind, "rule": effect.rule, "inputs": inputs}
    else:
        body = head
        body["effect"], body["rule"], body["inputs"] = effect.kind, effect.rule, inputs
    for name, value in vars(effect).items():
        if name != "rule" and name != "inputs":
            body[name] = value if type(value) in _PLAIN else _jsonable(value)
    return body


def described_inputs(effect: Effect) -> Any:
    """`describe(effect)["inputs"]`, without describing the rest (a ledger entry's explanation keeps only these)."""
    return _jsonable(effect.inputs)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values, answered before the (costlier) abstract-class checks below
        return value
    if type(value) is dict:
        return {str(k): v if type(v) in _PLAIN else _jsonable(v) for k, v in value.items()}
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value
