"""What the staff console (web/console/) needs beyond the member API: finding a member, the import, resending a
failed event, and the dry run against a proposed configuration.

Finding by phone goes through the phone lookup (the keyed hash of the full number): staff type a whole number and
get that one member, with the number masked as everywhere else; nothing lists or returns numbers. Every mutation
here is staff-only, so the schema's audit wrapper records it like any other staff mutation (api/audit.py).
"""


import json
from enum import Enum
from typing import Annotated, Optional, Union

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.brand_types import ConfigureBrandInput
from api.explanation_types import Effect
from api.request import BAD_USER_INPUT, Context, graphql_error
from api.permissions import IsStaff
from api.results import business_error
from api.types import Busy, InvalidInput, Member
from rules import errors, importing
from rules.brands import TierLevel
from rules.members import LookupKind, lookup_value

MAX_IMPORT_CHARS = 2_000_000  # an upload from the console; bigger files go through `siyu import members`
MAX_BATCH_ROWS = 500


def _member(context: Context, member_id: str | None) -> Member | None:
    brand = context.store.get_brand(context.principal.brand_id)
    state = context.member_state(context.principal.brand_id, member_id) if member_id else None
    if state is None or brand is None:
        return None
    return Member(_state=state, _brand=brand, _now=context.now)


@strawberry.enum(description="What importing a row would do.")
class ImportRowStatus(Enum):
    READY = "ready"
    SKIPPED = "skipped"  # imported before (same brand and external id): unchanged
    REJECTED = "rejected"


@strawberry.type(description="Why a row of an import file cannot be imported as it is.")
class ImportProblem:
    field: str = strawberry.field(description="The column at fault.")
    code: str = strawberry.field(description="A stable code: bad_value, missing, phone_taken, ...")
    message: str = strawberry.field(description="What is wrong, for the operator.")

    @classmethod
    def of(cls, problem: dict) -> "ImportProblem":
        return cls(field=str(problem.get("field", "")), code=str(problem.get("code", "")),
                   message=str(problem.get("message", "")))


@strawberry.type(description="One row of an import file as it would import.")
class ImportRow:
    row: int = strawberry.field(description="The row's number in the file (1: the first data row).")
    external_id: Optional[str] = strawberry.field(description="The member's id in the old system.")
    status: ImportRowStatus = strawberry.field(description="Ready, skipped (imported before) or rejected.")
    problems: list[ImportProblem] = strawberry.field(description="Every problem of the row (none when ready).")
    phone_masked: Optional[str] = strawberry.field(description="The row's phone number, masked.")
    points: int = strawberry.field(description="The points the row's lots hold.")
    tier: Optional[str] = strawberry.field(description="The tier the member would be on.")

    @classmethod
    def of(cls, row: dict) -> "ImportRow":
        return cls(row=int(row["row"]), external_id=row.get("externalId"), status=ImportRowStatus(row["status"]),
                   problems=[ImportProblem.of(p) for p in row.get("problems") or ()],
                   phone_masked=row.get("phoneMasked"), points=int(row.get("points") or 0), tier=row.get("tier"))


@strawberry.type(description="A row an import refused, with every reason.")
class ImportRejection:
    row: int = strawberry.field(description="The row's number in the file.")
    external_id: Optional[str] = strawberry.field(description="The member's id in the old system.")
    problems: list[ImportProblem] = strawberry.field(description="Every reason.")

    @classmethod
    def of(cls, rejected: dict) -> "ImportRejection":
        return cls(row=int(rejected["row"]), external_id=rejected.get("externalId"),
                   problems=[ImportProblem.of(p) for p in rejected.get("problems") or ()])


@strawberry.type(description="The first rows of an import file as they would import, each with its problems.")
class ImportPreview:
    total_rows: int
    rows: JSON = strawberry.field(description="row, externalId, status (ready, skipped: imported before, rejected), "
                                              "problems [{field, code, message}], phoneMasked, points, tier.",
                                  deprecation_reason="Use previewRows (typed); removed in the next release.")
    preview_rows: list[ImportRow] = strawberry.field(description="The first rows, each as it would import.")


@strawberry.type(description="One batch of an import: rows startRow.. up to maxRows.")
class ImportBatch:
    rows: int
    imported: int
    skipped: int = strawberry.field(description="Rows imported before (same brand and external id): unchanged.")
    points: int
    rejected: JSON = strawberry.field(description="[{row, externalId, problems: [{field, code, message}]}]",
                                      deprecation_reason="Use rejectedRows (typed); removed in the next release.")
    rejected_rows: list[ImportRejection] = strawberry.field(description="The rows this batch refused, with why.")
    next_row: Optional[int] = strawberry.field(description="Where the next batch starts; null when the file is done.")


@strawberry.type(description="A failed event put through the engine again, as the bus delivers it.")
class EventResent:
    event_id: strawberry.ID = strawberry.field(description="The resent event's id (the bus's, unchanged).")
    status: str = strawberry.field(description="applied, duplicate (it had landed after all), failed, rejected...")
    reason: Optional[str] = strawberry.field(default=None, description="Why it failed or was rejected again.")
    decisions: list[Effect] = strawberry.field(default_factory=list,
                                               description="What the rules decided this time, each with its why.")


ImportMembersResult = Annotated[Union[ImportBatch, InvalidInput, Busy], strawberry.union("ImportMembersResult")]
ResendEventResult = Annotated[Union[EventResent, InvalidInput, Busy], strawberry.union("ResendEventResult")]


def _rows(file: str, file_name: str):
    if len(file) > MAX_IMPORT_CHARS:
        raise errors.InvalidInput("file", "invalid.import_too_large")
    fmt = importing.detect_format(file_name, file[:64])
    return importing.read_rows(importing.text_lines(file), fmt)


def _tiers(input: ConfigureBrandInput) -> tuple[TierLevel, ...] | None:
    if input.tiers is None:
        return None
    for index, t in enumerate(input.tiers):
        if t.benefits is not None and not isinstance(t.benefits, dict):
            raise errors.InvalidInput(f"tiers[{index}].benefits", "invalid.benefits_object")
    return tuple(TierLevel(t.code, t.name, t.threshold, t.deduction, t.benefits or {}) for t in input.tiers)


class _ProposedStore:
    """The store as it is, except that the brand reads as proposed: what a dry run of a change runs against."""

    def __init__(self, store, brand) -> None:
        self._store = store
        self._brand = brand

    def get_brand(self, brand_id: str, *, fresh: bool = False):
        return self._brand if brand_id == self._brand.brand_id else self._store.get_brand(brand_id, fresh=fresh)

    def __getattr__(self, name: str):
        return getattr(self._store, name)


@strawberry.type
class ConsoleQueries:
    @strawberry.field(permission_classes=[IsStaff],
                      description="One member of the staff's brand by full phone number, referral code or id (give "
                                  "one). The phone is matched through its keyed hash; the answer shows it masked.")
    def find_member(self, info: Info, phone: Optional[str] = None, referral_code: Optional[str] = None,
                    id: Optional[strawberry.ID] = None) -> Optional[Member]:
        context: Context = info.context
        brand_id = context.principal.brand_id
        given = [v for v in (phone, referral_code, id) if v]
        if not given:
            return None
        if len(given) > 1:
            raise graphql_error("invalid.find_one_of", BAD_USER_INPUT)
        if id:
            text = str(id)
            return _member(context, text) if 0 < len(text) <= 128 and text.isprintable() else None
        if phone:
            try:
                value = lookup_value(LookupKind.PHONE, phone, context.settings.phone_hash_key)
            except errors.InvalidInput:
                raise graphql_error("invalid.full_phone", BAD_USER_INPUT) from None
            return _member(context, context.store.find_member_id(brand_id, LookupKind.PHONE, value))
        code = referral_code.strip().upper()
        if not 0 < len(code) <= 32 or not code.isalnum():
            return None
        return _member(context, context.store.find_member_id(brand_id, LookupKind.REFERRAL_CODE, code))

    @strawberry.field(permission_classes=[IsStaff],
                      description="Check an import file before importing: the first rows with their problems.")
    def import_preview(self, info: Info, file: str, file_name: str, first: int = 20) -> ImportPreview:
        from infra import importer

        context: Context = info.context
        brand = context.store.get_brand(context.principal.brand_id)
        if brand is None:
            raise graphql_error(errors.BrandNotConfigured(context.principal.brand_id), BAD_USER_INPUT)
        try:
            total, rows = importer.preview(context.store, brand, _rows(file, file_name), source=file_name[:128],
                                           now=context.now, phone_key=context.settings.phone_hash_key,
                                           first=max(1, min(first, 100)))
        except errors.InvalidInput as bad:
            raise graphql_error(bad, BAD_USER_INPUT) from None
        return ImportPreview(total_rows=total, rows=rows, preview_rows=[ImportRow.of(r) for r in rows])


@strawberry.type
class ConsoleMutations:
    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Import members from a CSV or JSONL file (README \"Import members\"), in batches "
                                     "of rows: call again from nextRow until it is null. Idempotent per external id.")
    def import_members(self, info: Info, file: str, file_name: str, start_row: Optional[int] = strawberry.UNSET,
                       max_rows: Optional[int] = strawberry.UNSET) -> ImportMembersResult:
        from infra import importer

        context: Context = info.context

        def run():
            batch = max_rows if isinstance(max_rows, int) else 100
            if not 1 <= batch <= MAX_BATCH_ROWS:
                raise errors.InvalidInput("maxRows", "invalid.between", low=1, high=MAX_BATCH_ROWS)
            brand = context.store.get_brand(context.principal.brand_id, fresh=True)
            if brand is None:
                raise errors.BrandNotConfigured(context.principal.brand_id)
            report = importer.run(context.store, brand, _rows(file, file_name), source=file_name[:128],
                                  now=context.now, phone_key=context.settings.phone_hash_key,
                                  rate=importer.RateLimit(context.settings.import_items_per_second),
                                  start_row=max(1, start_row if isinstance(start_row, int) else 1), max_rows=batch)
            data = report.as_dict()
            return ImportBatch(rows=report.rows, imported=report.imported, skipped=report.skipped,
                               points=report.points, rejected=data["rejected"],
                               rejected_rows=[ImportRejection.of(r) for r in data["rejected"]], next_row=report.next_row)

        try:
            return run()
        except errors.SiyuError as failure:
            return business_error(failure)

    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Put a failed event of the staff's brand through the engine again (once its "
                                     "cause is fixed): the same path the bus uses, so an event that landed meanwhile "
                                     "is a duplicate and changes nothing.")
    def resend_event(self, info: Info, event_id: str) -> ResendEventResult:
        from infra.runtime import engine

        context: Context = info.context
        brand_id = context.principal.brand_id

        def run():
            problem = _failed_problem(context, brand_id, event_id[:256])
            try:
                raw = json.loads(problem.raw)
            except ValueError:
                raise errors.InvalidInput("eventId", "invalid.resend_incomplete") from None
            detail = raw.get("detail") if isinstance(raw, dict) else None
            if not isinstance(detail, dict) or detail.get("brandId") != brand_id:
                raise errors.InvalidInput("eventId", "invalid.resend_other_brand")
            summary = engine().handle(raw)
            return EventResent(event_id=strawberry.ID(summary.event_id), status=summary.status,
                               reason=summary.reason, decisions=[Effect.of(e) for e in summary.effects])

        try:
            return run()
        except errors.SiyuError as failure:
            return business_error(failure)


def _failed_problem(context: Context, brand_id: str, event_id: str):
    after = None
    for _ in range(50):  # the problems list is newest first; a resend is for recent failures
        page = context.store.problems(brand_id, first=100, after=after)
        for problem in page.items:
            if problem.event_id == event_id:
                if problem.status != "failed":
                    raise errors.InvalidInput("eventId", "invalid.resend_not_failed")
                return problem
        if not page.has_next_page:
            break
        after = page.end_cursor
    raise errors.InvalidInput("eventId", "invalid.resend_unknown")


def simulate_with(context: Context, event: dict, proposed: ConfigureBrandInput | None):
    """`simulateEvent`'s engine: the stored configuration, or the proposed one (validated as saving would)."""
    from infra.runtime import engine
    from rules.brand_settings import proposed_brand
    from rules.engine import Engine
    from rules.plugin_manager import registry

    if not proposed:  # None or left out (UNSET)
        return engine().simulate(event)
    settings_ = [(p.name, p.enabled, p.params) for p in (proposed.plugins or [])]
    for index, (_, _, params) in enumerate(settings_):
        if params is not None and not isinstance(params, dict):
            raise errors.InvalidInput(f"plugins[{index}].params", "invalid.params_object")
    brand = proposed_brand(context.store, registry(), context.principal.brand_id, now=context.now,
                           name=proposed.name, timezone=proposed.timezone, tiers=_tiers(proposed),
                           plugin_settings=settings_)
    return Engine(_ProposedStore(context.store, brand), registry()).simulate(event)
