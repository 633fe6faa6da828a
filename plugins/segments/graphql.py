"""GraphQL for segments: a member's lifecycle and segments, the brand's segments with counts, and a segment's
members paged through the per-segment index (staff; `me` shows a member their own only where the brand allows)."""


from datetime import datetime
from enum import Enum
from typing import Annotated, Optional, Union

import strawberry
from strawberry.types import Info

from api.descriptions import AFTER, CURSOR, EDGES, FIRST, NODE, PAGE
from api.permissions import IsStaff
from api.request import BAD_USER_INPUT, Context, graphql_error, language
from api.resolving import rules_engine
from api.results import PageInfo, check_page_size
from plugins.segments import backfill
from plugins.segments.effects import PLUGIN, state_of
from plugins.segments.model import ALL_CODES
from rules import errors, messages
from rules.members import MemberState


@strawberry.enum(description="Where a member is in their lifecycle (the segments plugin's thresholds).")
class LifecycleStage(Enum):
    PROSPECT = "PROSPECT"
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    SLEEPING = "SLEEPING"
    DORMANT = "DORMANT"
    LOST = "LOST"


@strawberry.type(description="A member's lifecycle stage and since when.")
class Lifecycle:
    stage: LifecycleStage
    since: datetime


@strawberry.type(description="A segment a member is in.")
class MemberSegment:
    code: str
    name: str
    since: datetime


@strawberry.type(description="One of the brand's segments and how many members are in it.")
class Segment:
    code: str
    name: str
    count: int


@strawberry.type(description="A member in a segment.")
class SegmentMember:
    member_id: strawberry.ID
    since: datetime


@strawberry.type(description="One member of a segment, with the cursor that continues after it.")
class SegmentMemberEdge:
    cursor: str
    node: SegmentMember


@strawberry.type(description="A page of a segment's members, in member id order.")
class SegmentMemberConnection:
    edges: list[SegmentMemberEdge]
    page_info: PageInfo


@strawberry.type(description="The brand's latest segments backfill: every existing member judged from their history "
                              "when the family was turned on (startSegmentsBackfill).")
class SegmentsBackfill:
    started_at: datetime = strawberry.field(description="When it started: every member is judged as of then.")
    started_by: str = strawberry.field(description="The staff member who started it.")
    members_listed: int = strawberry.field(description="Members handed to the workers so far.")
    batches_listed: int = strawberry.field(description="Batches (of up to 100 members) handed out so far.")
    batches_done: int = strawberry.field(description="Batches the workers finished.")
    listing_done: bool = strawberry.field(description="Whether every member of the brand has been listed.")
    complete: bool = strawberry.field(description="Listed and every batch done: each member has their segments.")

    @classmethod
    def of(cls, progress: backfill.Progress) -> "SegmentsBackfill":
        job = progress.job
        return cls(started_at=job.at, started_by=job.started_by, members_listed=job.listed,
                   batches_listed=job.batches, batches_done=progress.batches_done, listing_done=job.listing_done,
                   complete=progress.complete)


@strawberry.type(description="The brand does not run the segments family: turn it on (configureBrand) first.")
class SegmentsNotEnabled:
    brand_id: strawberry.ID = strawberry.field(description="The staff's brand.")


StartSegmentsBackfillResult = Annotated[Union[SegmentsBackfill, SegmentsNotEnabled],
                                        strawberry.union("StartSegmentsBackfillResult",
                                                         description="The backfill started (or carried on), or why "
                                                                     "it cannot run.")]


def _shown(info: Info, state: MemberState, brand) -> bool:
    """Staff see every member's segments; a member sees their own only where the brand allows it."""
    principal = getattr(info.context, "principal", None)
    if principal is not None and principal.role == "staff":
        return True
    params = (brand.plugins.get(PLUGIN) or {}) if brand is not None else {}
    return bool(params.get("membersSeeSegments", False))


def _name(code: str, info: Info) -> str:
    return messages.render(f"segment.{code}", language(info))


# ---- the family's part of the schema (merged by api/schema.py) -----------------------------------------------------


@strawberry.type
class MemberFields:
    _state: strawberry.Private[MemberState]

    @strawberry.field(description="The member's lifecycle stage (null: not judged yet, or not shown to members).")
    def lifecycle(self, info: Info) -> Optional[Lifecycle]:
        held = state_of(self._state)
        if held is None or not _shown(info, self._state, getattr(self, "_brand", None)):
            return None
        return Lifecycle(stage=LifecycleStage(held.stage), since=held.stage_since)

    @strawberry.field(description="The segments the member is in: stage, value layer, RFM group, personas.")
    def segments(self, info: Info) -> list[MemberSegment]:
        held = state_of(self._state)
        if held is None or not _shown(info, self._state, getattr(self, "_brand", None)):
            return []
        return [MemberSegment(code=code, name=_name(code, info), since=since)
                for code, since in sorted(held.segments.items())]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsStaff], description="Every segment of the brand, with its members' count.")
    def segments(self, info: Info) -> list[Segment]:
        context: Context = info.context
        counts = context.store.segment_counts(context.principal.brand_id)
        return [Segment(code=code, name=_name(code, info), count=max(0, counts.get(code, 0))) for code in ALL_CODES]

    @strawberry.field(permission_classes=[IsStaff], description="The members of one segment, a page at a time.")
    def segment_members(self, info: Info, code: str, first: int = 20,
                        after: Optional[str] = None) -> SegmentMemberConnection:
        check_page_size(first)
        context: Context = info.context
        if code not in ALL_CODES:  # no such segment has no members (the codes are listed by `segments`)
            return SegmentMemberConnection(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None))
        try:
            page = context.store.segment_members(context.principal.brand_id, code, first=first, after=after)
        except errors.InvalidInput as error:
            raise graphql_error(error, BAD_USER_INPUT) from None
        edges = [SegmentMemberEdge(cursor=cursor, node=SegmentMember(member_id=strawberry.ID(m), since=since))
                 for (m, since), cursor in zip(page.items, page.cursors)]
        return SegmentMemberConnection(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page,
                                                                       end_cursor=page.end_cursor))


    @strawberry.field(permission_classes=[IsStaff], description="The brand's latest segments backfill and how far "
                                                                "it got; null if none was started.")
    def segments_backfill(self, info: Info) -> Optional[SegmentsBackfill]:
        context: Context = info.context
        found = backfill.progress(context.store, context.principal.brand_id)
        return SegmentsBackfill.of(found) if found is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsStaff],
                         description="Judge every existing member of the staff's brand from their order history (run "
                                     "once after turning the segments family on; running it again changes nothing "
                                     "for members already right). Fanned out to the sweep workers; follow it with "
                                     "`segmentsBackfill`.")
    def start_segments_backfill(self, info: Info) -> StartSegmentsBackfillResult:
        context: Context = info.context
        brand = context.store.get_brand(context.principal.brand_id)
        if brand is None or PLUGIN not in brand.plugins:
            return SegmentsNotEnabled(brand_id=strawberry.ID(context.principal.brand_id))
        return SegmentsBackfill.of(backfill.start(rules_engine(), brand.brand_id, now=context.now,
                                                  actor=context.principal.actor))


DESCRIPTIONS: dict[str, str] = {
    "Query.segmentMembers(code)": "The segment's code, e.g. STAGE_DORMANT, VALUE_HIGH, RFM_IMPORTANT_VALUE (`segments` "
                                  "lists them); a code that is no segment has no members.",
    "Query.segmentMembers(first)": FIRST,
    "Query.segmentMembers(after)": AFTER,
    "SegmentMemberConnection.edges": EDGES,
    "SegmentMemberConnection.pageInfo": PAGE,
    "SegmentMemberEdge.cursor": CURSOR,
    "SegmentMemberEdge.node": NODE,
    "SegmentMember.memberId": "The member.",
    "SegmentMember.since": "When they entered the segment.",
    "Lifecycle.stage": "The stage.",
    "Lifecycle.since": "When the member reached it.",
    "MemberSegment.code": "The segment's stable code.",
    "MemberSegment.name": "Its name, in the request's language.",
    "MemberSegment.since": "When the member entered it.",
    "Segment.code": "The segment's stable code.",
    "Segment.name": "Its name, in the request's language.",
    "Segment.count": "How many members are in it now.",
}
