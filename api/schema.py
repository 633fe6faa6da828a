"""The GraphQL schema (CONTRACT.md, "GraphQL operations"). Resolvers authenticate, call `rules/`, shape the answer."""


import logging
from typing import Annotated, Optional, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.tools import merge_types
from strawberry.types import Info

from api.audit_trail import audit_staff_mutations
from api.brand_types import (
    Brand,
    BrandConfigured,
    ConfigureBrandInput,
    ConfigureBrandResult,
    EventProblemEdge,
    EventProblems,
    EventProblemView,
    Plugin,
    Simulation,
)
from api.auth import Principal, issue_token
from api.console_types import ConsoleMutations, ConsoleQueries, simulate_with
from api.request import BAD_USER_INPUT, FORBIDDEN, NOT_FOUND, Context, graphql_error
from api.consent_types import consent_states
from api.descriptions import describe
from api.enums import EventOutcome
from api.explanation_types import Effect
from api.hardening import EXTENSIONS, is_internal
from api.permissions import IsMember, IsStaff
from api.profile_types import ProfileMutations, profile_error
from api.resolving import configured_brand, engine_event, plausible_id
from api.retry import typed as _typed
from api.privacy_types import (
    AccountErased,
    AuditEdge,
    AuditLog,
    AuditRecordView,
    ConsentRecorded,
    DataExport,
    EraseResult,
    ItemCount,
    ProfileUpdated,
    SetConsentInput,
    SetConsentResult,
    UpdateProfileInput,
    UpdateProfileResult,
)
from api.types import (
    AdjustPointsResult,
    CheckedIn,
    CheckInResult,
    LoggedIn,
    LoginResult,
    PageInfo,
    PayWithPointsResult,
    PointsPaid,
    Member,
    PointsChanged,
    RedeemPointsResult,
    RegisterMemberResult,
    MemberTagsSet,
    RegisterMemberSuccess,
    ReversePointsResult,
    SetMemberTagsResult,
    check_page_size,
)
from rules import consent, erasure, errors, free_text, limits, points
from rules.brand_settings import configure_brand
from rules.brands import TierLevel
from rules.export import export
from rules.login import member_for_wechat
from rules.family import families
from rules.plugin_manager import registry
from rules.points import PointsResult
from rules.profile import set_birthday, update_profile
from rules.registration import register_member

T = TypeVar("T")
logger = logging.getLogger("siyu.api")


def _member(context: Context, brand_id: str, member_id: str, *, page: bool = False) -> Member | None:
    state = context.member_state(brand_id, member_id, page=page)
    brand = context.store.get_brand(brand_id)
    if state is None or brand is None:
        return None
    return Member(_state=state, _brand=brand, _now=context.now)


def _changed(result: PointsResult) -> PointsChanged:
    return PointsChanged(entry_id=strawberry.ID(result.entry_id), points=result.points, balance=result.balance,
                         replayed=result.replayed)


@strawberry.input
class RegisterMemberInput:
    phone: str = strawberry.field(description="Mainland mobile number; +86 and separators are accepted.")
    channel: str = strawberry.field(description="miniprogram, h5, wecom or store.")
    openid: Optional[str] = None
    unionid: Optional[str] = None
    referral_code: Optional[str] = None
    birthday: Optional[str] = strawberry.field(default=None, description='Month and day only: "--03-01".')
    nickname: Optional[str] = strawberry.field(default=None, description="At most 32 characters.")


@strawberry.input
class RedeemPointsInput:
    points: int
    idempotency_key: str = strawberry.field(description="Repeat a request with the same key to get its first result.")
    reason: Optional[str] = None


@strawberry.input
class PayWithPointsInput:
    order_id: str
    order_amount_fen: int
    points: int
    idempotency_key: str


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID
    points: int = strawberry.field(description="Positive adds a lot, negative spends earliest expiry first.")
    reason: str = strawberry.field(description="Mandatory: why staff changed this member's points.")
    idempotency_key: str


@strawberry.input
class ReversePointsEntryInput:
    member_id: strawberry.ID
    entry_id: strawberry.ID
    idempotency_key: str
    reason: Optional[str] = None


@strawberry.type
class CoreQuery(ConsoleQueries):
    @strawberry.field(permission_classes=[IsMember], description="The calling member.")
    def me(self, info: Info) -> Member:
        context: Context = info.context
        p = context.principal
        member = _member(context, p.brand_id, p.subject, page=True)
        if member is None:
            raise graphql_error("graphql.NOT_FOUND", NOT_FOUND)
        return member

    @strawberry.field(permission_classes=[IsStaff], description="A member of the staff's brand; null if none.")
    def member(self, info: Info, id: strawberry.ID) -> Optional[Member]:
        context: Context = info.context
        if not plausible_id(str(id)):
            return None
        return _member(context, context.principal.brand_id, str(id), page=True)

    @strawberry.field(permission_classes=[IsStaff], description="The staff's brand configuration.")
    def brand(self, info: Info) -> Optional[Brand]:
        context: Context = info.context
        config = context.store.get_brand(context.principal.brand_id)
        return Brand.of(config) if config else None

    @strawberry.field(permission_classes=[IsStaff], description="Installed rule plugins, and which this brand enabled.")
    def plugins(self, info: Info) -> list[Plugin]:
        context: Context = info.context
        config = context.store.get_brand(context.principal.brand_id)
        installed = registry()
        listed = [Plugin.of(info, config) for info in installed.ordered(installed.infos)]
        # Those that could not load, and those the brand enabled that this deployment no longer has: staff must
        # see why, next to the ones that work.
        missing = sorted((set(installed.problems) | set(config.plugins if config else ())) - set(installed.infos))
        return listed + [Plugin.unavailable(name, installed.unavailable(name), config) for name in missing]

    @strawberry.field(permission_classes=[IsStaff],
                      description="Events of this brand that were rejected or failed, newest first.")
    def event_problems(self, info: Info, first: int = 20, after: Optional[str] = None) -> EventProblems:
        check_page_size(first)
        context: Context = info.context
        try:
            page = context.store.problems(context.principal.brand_id, first=first, after=after)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        edges = [EventProblemEdge(cursor=c, node=EventProblemView.of(p)) for p, c in zip(page.items, page.cursors)]
        return EventProblems(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page,
                                                             end_cursor=page.end_cursor))

    @strawberry.field(permission_classes=[IsMember],
                      description="Everything Siyu holds on the calling member (PIPL right of access), as JSON.")
    def export_my_data(self, info: Info) -> DataExport:
        context: Context = info.context
        p = context.principal
        state = context.member_state(p.brand_id, p.subject)
        brand = context.store.get_brand(p.brand_id)
        if state is None or brand is None:
            raise graphql_error("graphql.NOT_FOUND", NOT_FOUND)
        data = export(state, context.store.member_data(p.brand_id, p.subject), brand, now=context.now)
        return DataExport(member_id=strawberry.ID(p.subject), exported_at=context.now,
                          item_counts=data["itemCounts"], data=data,
                          counts=[ItemCount(item_type=k, count=v) for k, v in sorted(data["itemCounts"].items())])

    @strawberry.field(permission_classes=[IsStaff],
                      description="What staff of this brand changed through the API, newest first. Read-only: "
                                  "no operation changes or deletes an audit record.")
    def audit_log(self, info: Info, first: int = 20, after: Optional[str] = None) -> AuditLog:
        check_page_size(first)
        context: Context = info.context
        try:
            page = context.store.audit_log(context.principal.brand_id, first=first, after=after)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        edges = [AuditEdge(cursor=c, node=AuditRecordView.of(r)) for r, c in zip(page.items, page.cursors)]
        return AuditLog(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor))


@strawberry.type
class CoreMutation(ProfileMutations, ConsoleMutations):
    @strawberry.mutation(description="Sign in from the brand's mini-program with a wx.login() code; no token needed. "
                                     "Registers the member on first sight and returns a short-lived member token.")
    def login_with_wechat(self, info: Info, brand_id: str, code: str) -> LoginResult:
        context: Context = info.context

        def run():
            if not plausible_id(brand_id):
                raise errors.InvalidInput("brandId", "invalid.brand_id")
            if context.store.get_brand(brand_id) is None:
                raise errors.BrandNotConfigured(brand_id)
            context.login_attempt(brand_id)  # before WeChat is asked or anyone is registered
            identity = context.wechat.exchange(brand_id, code)
            signed_in = member_for_wechat(context.store, brand_id=brand_id, openid=identity.openid,
                                          unionid=identity.unionid, now=context.now,
                                          key=context.settings.phone_hash_key)
            ttl = context.settings.member_token_ttl
            token = issue_token(Principal("member", signed_in.member_id, brand_id),
                                secret=context.settings.jwt_secret, issuer=context.settings.jwt_issuer,
                                now=context.now, ttl=ttl)
            member = _member(context, brand_id, signed_in.member_id)
            if member is None:  # registered a moment ago, and the (eventually consistent) read does not see it yet
                raise errors.Busy("the member was just registered; sign in again in a moment")
            return LoggedIn(token=token, expires_at=context.now.replace(microsecond=0) + ttl,
                            created=signed_in.created, member=member)

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsStaff], description="Register a member in the staff's brand.")
    def register_member(self, info: Info, input: RegisterMemberInput) -> RegisterMemberResult:
        context: Context = info.context
        brand_id = context.principal.brand_id

        def run():
            profile = register_member(
                context.store, brand_id=brand_id, phone_number=input.phone, channel=input.channel,
                now=context.now, phone_key=context.settings.phone_hash_key, openid=input.openid,
                unionid=input.unionid, referral_code=input.referral_code, birthday=input.birthday,
                nickname=input.nickname,
            )
            # The brand's rules hear of the new member at once (welcome coupons, the referral binding); a brand
            # system announcing the same registration later changes nothing, the rules guard themselves.
            detail = {"brandId": brand_id, "memberId": profile.member_id, "channel": profile.channel}
            if input.referral_code:
                detail["referralCode"] = input.referral_code[:32]
            engine_event(context, f"registered-{brand_id}-{profile.member_id}", "member.registered", detail)
            return RegisterMemberSuccess(member=_member(context, brand_id, profile.member_id))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsMember], description="Spend points, earliest expiry first.")
    def redeem_points(self, info: Info, input: RedeemPointsInput) -> RedeemPointsResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(limits.REDEEM_POINTS)
            return _changed(points.redeem(
                context.store, p.brand_id, p.subject, points=input.points, now=context.now,
                idempotency_key=input.idempotency_key, reason=input.reason, actor=p.actor))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsMember],
                         description="Daily check-in through the brand's rules; twice a day changes nothing the second time.")
    def check_in(self, info: Info) -> CheckInResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(limits.CHECK_IN)
            # The event id is per member and minute: a double tap is one event; the rules decide once-per-day.
            summary = engine_event(context, f"checkin-{p.brand_id}-{p.subject}-{context.now:%Y%m%d%H%M}",
                                    "member.checked_in", {"brandId": p.brand_id, "memberId": p.subject})
            if summary.status == "rejected":
                raise errors.MemberNotFound(p.subject)
            earned = sum(e.get("points", 0) for e in summary.effects if e.get("effect") == "AwardPoints")
            state = context.store.load_member(p.brand_id, p.subject, as_of=context.now)
            return CheckedIn(points_earned=earned if summary.status == "applied" else 0,
                             balance=state.points.spendable(context.now), effects=summary.effects,
                             decisions=[Effect.of(e) for e in summary.effects])

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsMember],
                         description="Use points as money on an order, under the brand's redemption policy.")
    def pay_with_points(self, info: Info, input: PayWithPointsInput) -> PayWithPointsResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(limits.PAY_WITH_POINTS)
            brand = configured_brand(context)
            paid = points.pay_with_points(
                context.store, brand, p.subject, points=input.points, order_id=input.order_id[:128],
                order_amount_fen=input.order_amount_fen, now=context.now, idempotency_key=input.idempotency_key,
                actor=p.actor)
            r = paid.result
            return PointsPaid(entry_id=strawberry.ID(r.entry_id), points=r.points, discount_fen=paid.discount_fen,
                              balance=r.balance, replayed=r.replayed)

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsStaff], description="Staff correction of a member's points.")
    def adjust_points(self, info: Info, input: AdjustPointsInput) -> AdjustPointsResult:
        context: Context = info.context
        p = context.principal

        def run():
            if not plausible_id(str(input.member_id)):
                raise errors.MemberNotFound(str(input.member_id)[:128])
            return _changed(points.adjust(
                context.store, p.brand_id, str(input.member_id), points=input.points, reason=input.reason,
                now=context.now, idempotency_key=input.idempotency_key, actor=p.actor))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsStaff], description="Undo one ledger entry with a reversing entry.")
    def reverse_points_entry(self, info: Info, input: ReversePointsEntryInput) -> ReversePointsResult:
        context: Context = info.context
        p = context.principal

        def run():
            if not plausible_id(str(input.member_id)) or \
                    context.store.load_member(p.brand_id, str(input.member_id)) is None:
                raise errors.MemberNotFound(str(input.member_id)[:128])
            if not plausible_id(str(input.entry_id)):
                raise errors.EntryNotFound(str(input.entry_id)[:128])
            return _changed(points.reverse(
                context.store, p.brand_id, str(input.member_id), entry_id=str(input.entry_id), now=context.now,
                idempotency_key=input.idempotency_key, reason=input.reason, actor=p.actor))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsMember],
                         description="Grant or withdraw consent for one purpose; each call adds a record to the history.")
    def set_consent(self, info: Info, input: SetConsentInput) -> SetConsentResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(limits.SET_CONSENT)
            records = consent.set_consent(
                context.store, p.brand_id, p.subject, purpose=input.purpose.value, granted=input.granted,
                policy_version=input.policy_version, channel=input.channel, now=context.now, actor=p.actor)
            context.members.pop((p.brand_id, p.subject), None)
            return ConsentRecorded(consent=next(c for c in consent_states(records)
                                                if c.purpose.value == records[-1].purpose.value))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsMember], description="Change the calling member's own profile.")
    def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfileResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(limits.UPDATE_PROFILE)
            if input.nickname is not None or input.birthday is None:
                update_profile(context.store, p.brand_id, p.subject, nickname=input.nickname)
            if input.birthday is not None:
                set_birthday(context.store, p.brand_id, p.subject, input.birthday, now=context.now)
            context.members.pop((p.brand_id, p.subject), None)
            member = _member(context, p.brand_id, p.subject)
            if member is None:
                raise errors.MemberNotFound(p.subject)
            return ProfileUpdated(member=member)

        return _typed(run, context, profile_error)

    @strawberry.mutation(permission_classes=[IsMember],
                         description="Erase the calling member's personal data (PIPL right to deletion). The phone "
                                     "and WeChat account are freed to join again; the anonymised points ledger stays.")
    def delete_my_account(self, info: Info) -> EraseResult:
        context: Context = info.context
        p = context.principal
        return _typed(lambda: _erased(erasure.erase(context.store, p.brand_id, p.subject, now=context.now,
                                                    actor=p.actor)), context)

    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Erase a member of the staff's brand on the member's request (e.g. made at the "
                                     "care desk); the same as the member's own deleteMyAccount.")
    def erase_member(self, info: Info, id: strawberry.ID,
                     reason: Annotated[Optional[str], strawberry.argument(description=(
                         "Why (the request's channel and number): kept in the audit log with the call."))
                     ] = strawberry.UNSET) -> EraseResult:
        context: Context = info.context
        p = context.principal

        def run():
            if not plausible_id(str(id)):
                raise errors.MemberNotFound(str(id)[:128])
            return _erased(erasure.erase(context.store, p.brand_id, str(id), now=context.now, actor=p.actor))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Replace a member's tags (groups that coupon eligibility can require).")
    def set_member_tags(self, info: Info, member_id: strawberry.ID, tags: list[str],
                        reason: Annotated[Optional[str], strawberry.argument(
                            description="Why: kept in the audit log with the call.")] = strawberry.UNSET
                        ) -> SetMemberTagsResult:
        context: Context = info.context
        p = context.principal

        def run():
            # Tags are free text staff type: masked like any (rules/free_text.py), and erased with the member.
            cleaned = tuple(sorted({free_text.scrub(t.strip()) for t in tags if t.strip()}))
            if len(cleaned) > 50 or any(len(t) > 32 for t in cleaned):
                raise errors.InvalidInput("tags", "invalid.tags")
            if not plausible_id(str(member_id)) or context.store.load_member(p.brand_id, str(member_id)) is None:
                raise errors.MemberNotFound(str(member_id)[:128])
            context.store.set_tags(p.brand_id, str(member_id), cleaned)
            return MemberTagsSet(member=_member(context, p.brand_id, str(member_id)))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Enable plugins with parameters, set the ladder; bad parameters name the field.")
    def configure_brand(self, info: Info, input: ConfigureBrandInput) -> ConfigureBrandResult:
        context: Context = info.context

        def run():
            tiers = None
            if input.tiers is not None:
                for index, t in enumerate(input.tiers):
                    if t.benefits is not None and not isinstance(t.benefits, dict):
                        raise errors.InvalidInput(f"tiers[{index}].benefits", "invalid.json_object")
                tiers = tuple(TierLevel(t.code, t.name, t.threshold, t.deduction, t.benefits or {})
                              for t in input.tiers)
            settings_ = [(p.name, p.enabled, p.params) for p in (input.plugins or [])]
            for index, (_, _, params) in enumerate(settings_):
                if params is not None and not isinstance(params, dict):
                    raise errors.InvalidInput(f"plugins[{index}].params", "invalid.json_object")
            saved = configure_brand(context.store, registry(), context.principal.brand_id, now=context.now,
                                    name=input.name, timezone=input.timezone, tiers=tiers, plugin_settings=settings_)
            return BrandConfigured(brand=Brand.of(saved))

        return _typed(run, context)

    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Dry run: what the engine would do with this EventBridge event; writes nothing. "
                                     "With `proposed`, against the brand's configuration as that change would make "
                                     "it (a bad parameter comes back as status invalid, naming its field).")
    def simulate_event(self, info: Info, event: JSON,
                       proposed: Optional[ConfigureBrandInput] = strawberry.UNSET) -> Simulation:
        context: Context = info.context
        if not isinstance(event, dict):
            raise graphql_error("invalid.event_object", BAD_USER_INPUT)
        detail = event.get("detail")
        brand_id = detail.get("brandId") if isinstance(detail, dict) else None
        if brand_id is not None and brand_id != context.principal.brand_id:
            raise graphql_error("graphql.OTHER_BRAND", FORBIDDEN)
        try:
            summary = simulate_with(context, event, proposed)
        except errors.InvalidInput as bad:
            return Simulation(event_id=strawberry.ID(str(event.get("id", ""))), status="invalid",
                              state=EventOutcome.INVALID, effects=[], decisions=[], follow_ups=[],
                              reason=bad.render(context.language), field=bad.field)
        except errors.SiyuError as failure:
            raise graphql_error(failure, BAD_USER_INPUT) from None
        return Simulation(event_id=strawberry.ID(summary.event_id), status=summary.status,
                          state=EventOutcome(summary.status), effects=summary.effects,
                          decisions=[Effect.of(e) for e in summary.effects],
                          follow_ups=summary.follow_ups, reason=summary.reason, field=summary.field,
                          plugin=summary.plugin)


def _erased(done: erasure.Erased) -> AccountErased:
    return AccountErased(member_id=strawberry.ID(done.member_id), erased_at=done.erased_at,
                         freed_lookups=list(done.freed), already_erased=done.already)


class SiyuSchema(strawberry.Schema):
    def __init__(self, *args, **kwargs) -> None:
        mutation = kwargs.get("mutation")
        if mutation is not None:
            # Before the schema is built from the types: every staff mutation, present or future, is audited.
            audit_staff_mutations(mutation)
        super().__init__(*args, **kwargs)
        describe(self._schema, {key: text for module in families().modules("graphql")
                                for key, text in getattr(module, "DESCRIPTIONS", {}).items()})

    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        # Refusals (bad token, wrong role, bad input) are answers, not incidents: log only what gets masked.
        for error in errors:
            if is_internal(error):
                logger.error("unexpected error in %s", error.path, exc_info=error.original_error)


def _merged(name: str, core: type) -> type:
    """The core's root type with every family's (`Query`, `Mutation` of their GraphQL halves), merged with
    strawberry's `merge_types`: the core's fields first, then each family's in family order."""
    parts = [getattr(module, name) for module in families().modules("graphql") if hasattr(module, name)]
    return merge_types(name, (core, *parts))


Query = _merged("Query", CoreQuery)
Mutation = _merged("Mutation", CoreMutation)

schema = SiyuSchema(
    query=Query,
    mutation=Mutation,
    extensions=EXTENSIONS,
)
