"""GraphQL object types: thin views over the domain objects that `rules/` returns."""


from datetime import datetime
from typing import Annotated, Any, Optional, Union

import strawberry

from strawberry.scalars import JSON
from strawberry.types import Info

from api.consent_types import ConsentState, consent_states
from api.request import BAD_USER_INPUT, Context, graphql_error, language
from api.enums import Channel, PointsEntryType
from api.explanation_types import Effect, Explanation, entry_sentence
# Re-exported for the core's resolvers, which build results from both modules.
from api.results import (AlreadyRegistered, BrandNotConfigured, Busy, EntryNotFound,  # noqa: F401
                         EntryNotReversible, IdempotencyKeyReused, InsufficientPoints, InvalidInput, InvalidLoginCode,
                         MemberNotFound, PageInfo, PointsDebtOutstanding, PointsPaymentTooLarge, RateLimited,
                         TooManyLots, check_page_size)
from rules import errors
from rules.brands import BrandConfig, TierLevel
from rules.ledger import Entry, Lot, PointsState
from rules.members import MemberState

MAX_DAYS = 3660


@strawberry.type(description="A rung of the brand's tier ladder.")
class Tier:
    code: str
    name: str
    threshold: int = strawberry.field(description="Growth value at which a member reaches this tier.")
    valid_until: Optional[datetime] = strawberry.field(
        default=None, description="When the member's hold on this tier ends and it is judged again: 00:00 "
                                  "brand-local on the day the tier's validity in calendar months runs out (reached "
                                  "2026-02-01, 6 months: 2026-08-01) (null: no end set).")
    benefits: Optional[JSON] = strawberry.field(default=None, description="What the tier gives, as brand data.")


@strawberry.type
class NextTier:
    code: str
    name: str
    growth_needed: int = strawberry.field(description="Growth still needed to reach this tier.")


@strawberry.type(description="Points added by one earning, with their own expiry.")
class PointsLot:
    id: strawberry.ID
    earned: int
    remaining: int
    earned_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, lot: Lot) -> "PointsLot":
        return cls(id=strawberry.ID(lot.lot_id), earned=lot.earned, remaining=lot.remaining,
                   earned_at=lot.earned_at, expires_at=lot.expires_at)


@strawberry.type(description="One immutable ledger entry: what changed, and why.")
class PointsEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id (reverse it by this id).")
    at: datetime = strawberry.field(description="When the change happened.")
    entry_type: PointsEntryType = strawberry.field(description="What the entry did.")
    points: int = strawberry.field(description="Signed change to the balance.")
    reason: Optional[str] = strawberry.field(description="The reason given with it (a staff adjustment's note).")
    reverses: Optional[strawberry.ID] = strawberry.field(description="The entry this one reverses, if any.")
    why: Optional[Explanation] = strawberry.field(
        description="The plugin, its version, the rule and the inputs that decided this entry (null: no rule did).")
    kind: str = strawberry.field(description="earn, redeem, adjust, reverse, expire, take_back or repay.",
                                 deprecation_reason="Use entryType (an enum); removed in the next release.")
    explanation: Optional[JSON] = strawberry.field(
        description="The plugin, its version, the rule and the inputs that decided this entry.",
        deprecation_reason="Use why (a typed Explanation) or summary; removed in the next release.")
    _sentence: strawberry.Private[Any]

    @strawberry.field(description="One line saying why the points changed, in the request's language.")
    def summary(self, info: Info) -> str:
        return self._sentence.render(language(info))

    @classmethod
    def of(cls, entry: Entry) -> "PointsEntry":
        why = Explanation.of(entry.explanation, kind=entry.kind.value, points=entry.points, reason=entry.reason) \
            if entry.explanation else None
        return cls(id=strawberry.ID(entry.entry_id), at=entry.at, kind=entry.kind.value,
                   entry_type=PointsEntryType(entry.kind.value), points=entry.points,
                   reason=entry.reason, reverses=strawberry.ID(entry.reverses) if entry.reverses else None,
                   explanation=dict(entry.explanation) if entry.explanation else None, why=why,
                   _sentence=why._sentence if why else entry_sentence(entry.kind.value, entry.points, entry.reason))


@strawberry.type(description="One ledger entry in a page, with the cursor that continues after it.")
class PointsEntryEdge:
    cursor: str
    node: PointsEntry


@strawberry.type(name="PointsEntryConnection", description="A page of ledger entries, newest first.")
class PointsHistory:
    edges: list[PointsEntryEdge]
    page_info: PageInfo


@strawberry.type(description="What one event did to the member, with the plugin, rule and inputs behind each effect.")
class Activity:
    event_id: strawberry.ID = strawberry.field(description="The event's id.")
    detail_type: str = strawberry.field(description="The event's type, e.g. order.paid or member.checked_in.")
    at: datetime = strawberry.field(description="When the event happened.")
    decisions: list[Effect] = strawberry.field(description="What the rules decided, each with its why.")
    effects: JSON = strawberry.field(description="The engine's own record of the effects.",
                                     deprecation_reason="Use decisions (typed); removed in the next release.")


@strawberry.type(description="One event in a page, with the cursor that continues after it.")
class ActivityEdge:
    cursor: str
    node: Activity


@strawberry.type(name="ActivityConnection", description="A page of what events did to the member, newest "
                                                      "first.")
class ActivityHistory:
    edges: list[ActivityEdge]
    page_info: PageInfo


@strawberry.type(description="A member's points. `balance` is what can be spent now: expired lots never count.")
class Points:
    _state: strawberry.Private[PointsState]
    _brand_id: strawberry.Private[str]
    _member_id: strawberry.Private[str]
    _now: strawberry.Private[datetime]

    @strawberry.field(description="Points the member can spend now.")
    def balance(self) -> int:
        return self._state.spendable(self._now)

    @strawberry.field(description="Points owed because refunds took back points already spent. New earnings "
                                  "repay it first; nothing can be redeemed until it is 0.")
    def debt(self) -> int:
        return self._state.debt

    @strawberry.field(description="Lots that can still be spent, earliest expiry first (the order they are spent).")
    def lots(self) -> list[PointsLot]:
        return [PointsLot.of(lot) for lot in self._state.spendable_lots(self._now)]

    @strawberry.field(description="Spendable points whose expiry falls within the next `days` days.")
    def expiring_within(self, days: int) -> int:
        if not 0 <= days <= MAX_DAYS:
            raise graphql_error("invalid.days", BAD_USER_INPUT, max=MAX_DAYS)
        return self._state.expiring_within(self._now, days)

    @strawberry.field(description="Ledger entries, newest first.")
    def history(self, info: Info, first: int = 20, after: Optional[str] = None) -> PointsHistory:
        check_page_size(first)
        context: Context = info.context
        try:
            page = context.store.history(self._brand_id, self._member_id, first=first, after=after)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        edges = [PointsEntryEdge(cursor=c, node=PointsEntry.of(e)) for e, c in zip(page.items, page.cursors)]
        return PointsHistory(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page,
                                                             end_cursor=page.end_cursor))


def _tier(level: TierLevel, valid_until: datetime | None = None) -> Tier:
    return Tier(code=level.code, name=level.name, threshold=level.threshold, valid_until=valid_until,
                benefits=dict(level.benefits))


@strawberry.type
class MemberCore:
    """The core's fields of `Member`; the families add theirs (`MemberFields` of their GraphQL half)."""

    _state: strawberry.Private[MemberState]
    _brand: strawberry.Private[BrandConfig]
    _now: strawberry.Private[datetime]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self._state.profile.member_id)

    @strawberry.field(description="The phone number, masked: 138****8000. The number itself is never stored. "
                                  "Null for a member who signed in with WeChat and has not given a number.")
    def phone_masked(self) -> Optional[str]:
        return self._state.profile.phone_masked

    @strawberry.field(description="Where the member joined.")
    def joined_via(self) -> Channel:
        return Channel(self._state.profile.channel)

    @strawberry.field(description="miniprogram, h5, wecom or store.",
                      deprecation_reason="Use joinedVia (an enum); removed in the next release.")
    def channel(self) -> str:
        return self._state.profile.channel

    @strawberry.field(description="The display name the member chose (personal data: exported and erased).")
    def nickname(self) -> Optional[str]:
        return self._state.profile.nickname

    @strawberry.field(description='Month and day only: "--03-01".')
    def birthday(self) -> Optional[str]:
        return self._state.profile.birthday

    @strawberry.field(description="The member's consent per purpose (loaded with the member: no extra read), each "
                                  "with its full history.")
    def consents(self) -> list[ConsentState]:
        return consent_states(self._state.consents)

    @strawberry.field(description="The code this member shares to invite friends.")
    def referral_code(self) -> str:
        return self._state.profile.referral_code

    @strawberry.field
    def registered_at(self) -> datetime:
        return self._state.profile.registered_at

    @strawberry.field(description="Growth value: what tiers are graded on, kept apart from spendable points.")
    def growth(self) -> int:
        return self._state.profile.growth

    @strawberry.field(description="Until when the member's paid membership runs (null: not a paid member).")
    def paid_member_until(self) -> Optional[datetime]:
        return self._state.profile.paid_until

    @strawberry.field
    def tier(self) -> Tier:
        profile = self._state.profile
        return _tier(self._brand.tier(profile.tier_code), profile.tier_valid_until)

    @strawberry.field(description="The next rung up and the growth still needed; null at the top.")
    def next_tier(self) -> Optional[NextTier]:
        nxt = self._brand.next_tier(self._state.profile.tier_code)
        if nxt is None:
            return None
        return NextTier(code=nxt.code, name=nxt.name, growth_needed=max(0, nxt.threshold - self._state.profile.growth))

    @strawberry.field(description="What events did to this member and why (growth, tiers, points...), newest first.")
    def activity(self, info: Info, first: int = 20, after: Optional[str] = None) -> ActivityHistory:
        check_page_size(first)
        context: Context = info.context
        p = self._state.profile
        try:
            page = context.store.activity(p.brand_id, p.member_id, first=first, after=after)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        edges = [ActivityEdge(cursor=c, node=Activity(event_id=strawberry.ID(r.event_id), detail_type=r.detail_type,
                                                      at=r.at, effects=list(r.effects),
                                                      decisions=[Effect.of(e) for e in r.effects]))
                 for r, c in zip(page.items, page.cursors)]
        return ActivityHistory(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page,
                                                               end_cursor=page.end_cursor))

    @strawberry.field(description="Groups the brand put this member in (coupon eligibility reads them).")
    def tags(self) -> list[str]:
        return list(self._state.profile.tags)



@strawberry.type
class MemberPoints:
    _state: strawberry.Private[MemberState]
    _now: strawberry.Private[datetime]

    @strawberry.field
    def points(self) -> Points:
        p = self._state.profile
        return Points(_state=self._state.points, _brand_id=p.brand_id, _member_id=p.member_id, _now=self._now)


def _member_type() -> type:
    """`Member`: the core's fields, then each family's `MemberFields` in family order, then the points."""
    from rules.family import families

    parts = [module.MemberFields for module in families().modules("graphql") if hasattr(module, "MemberFields")]
    # strawberry lists the last base's fields first, then the others' in order: the core's, the families' (first
    # family first), the points.
    return strawberry.type(type("Member", (*parts, MemberPoints, MemberCore), {"__module__": __name__}),
                           description="A member of one brand.")


Member = _member_type()


# ---- typed business results ----------------------------------------------------------------------------------------


@strawberry.type(description="Points used as money on an order.")
class PointsPaid:
    entry_id: strawberry.ID
    points: int
    discount_fen: int = strawberry.field(description="What the points paid, in fen.")
    balance: int
    replayed: bool


@strawberry.type(description="A daily check-in: what it earned (0 when the member already checked in today).")
class CheckedIn:
    points_earned: int = strawberry.field(description="Points this check-in earned (0: already checked in today).")
    balance: int = strawberry.field(description="Spendable points right after the check-in.")
    decisions: list[Effect] = strawberry.field(description="What the rules decided, each with its why.")
    effects: JSON = strawberry.field(description="What the rules decided, with plugin, rule and inputs.",
                                     deprecation_reason="Use decisions (typed); removed in the next release.")


@strawberry.type(description="A member signed in: a short-lived bearer token for that member.")
class LoggedIn:
    token: str = strawberry.field(description="Bearer token (JWT, role member); send it as `Authorization: Bearer`.")
    expires_at: datetime
    created: bool = strawberry.field(description="True when this login registered the member.")
    member: Member


@strawberry.type(description="The member was registered.")
class RegisterMemberSuccess:
    member: Member = strawberry.field(description="The new member.")


@strawberry.type(description="The member's tags were replaced.")
class MemberTagsSet:
    member: Member = strawberry.field(description="The member, with the new tags.")


@strawberry.type(description="A points change that landed (or, with `replayed`, had landed for this idempotency key).")
class PointsChanged:
    entry_id: strawberry.ID
    points: int
    balance: int = strawberry.field(description="Spendable points right after the change.")
    replayed: bool = strawberry.field(description="True when this repeats an earlier request with the same key.")


RegisterMemberResult = Annotated[
    Union[RegisterMemberSuccess, InvalidInput, AlreadyRegistered, BrandNotConfigured, Busy],
    strawberry.union("RegisterMemberResult"),
]
SetMemberTagsResult = Annotated[
    Union[MemberTagsSet, InvalidInput, MemberNotFound, Busy],
    strawberry.union("SetMemberTagsResult"),
]
RedeemPointsResult = Annotated[
    Union[PointsChanged, InsufficientPoints, PointsDebtOutstanding, InvalidInput, IdempotencyKeyReused,
          MemberNotFound, TooManyLots, Busy, RateLimited],
    strawberry.union("RedeemPointsResult"),
]
AdjustPointsResult = Annotated[
    Union[PointsChanged, InsufficientPoints, PointsDebtOutstanding, InvalidInput, IdempotencyKeyReused,
          MemberNotFound, TooManyLots, Busy],
    strawberry.union("AdjustPointsResult"),
]
ReversePointsResult = Annotated[
    Union[PointsChanged, EntryNotFound, EntryNotReversible, InvalidInput, IdempotencyKeyReused, MemberNotFound,
          TooManyLots, Busy],
    strawberry.union("ReversePointsResult"),
]
PayWithPointsResult = Annotated[
    Union[PointsPaid, PointsPaymentTooLarge, InsufficientPoints, PointsDebtOutstanding, InvalidInput,
          IdempotencyKeyReused, MemberNotFound, BrandNotConfigured, TooManyLots, Busy, RateLimited],
    strawberry.union("PayWithPointsResult"),
]
CheckInResult = Annotated[Union[CheckedIn, MemberNotFound, Busy, RateLimited], strawberry.union("CheckInResult")]
LoginResult = Annotated[Union[LoggedIn, InvalidLoginCode, BrandNotConfigured, InvalidInput, Busy, RateLimited],
                        strawberry.union("LoginResult")]
