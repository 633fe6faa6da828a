"""What resolvers of the core and of the families share: putting an API-made event through the engine, the
staff's configured brand, and a cheap plausibility check on ids before any read."""

from __future__ import annotations

from api.request import INTERNAL, Context, graphql_error
from rules import errors


def plausible_id(value: str) -> bool:
    """Ids Siyu issues are short and printable; anything else cannot name a member or an entry."""
    return 0 < len(value) <= 128 and value.isprintable()


def engine_event(context: Context, event_id: str, detail_type: str, detail: dict):
    """Put an event through the brand's rules now (the API's own events: check-ins, registrations, codes)."""
    from infra.runtime import engine
    from rules.events import BusinessEvent

    event = BusinessEvent(event_id=event_id, detail_type=detail_type, source="siyu.api", time=context.now,
                          brand_id=detail["brandId"], detail=detail)
    summary = engine().process(event)
    if summary.status == "failed":
        # A plugin failed: its reason (an exception's text) is for staff, in eventProblems, not for members.
        raise graphql_error("graphql.PROCESSING_FAILED", INTERNAL)
    return summary


def rules_engine():
    """The engine this process runs, for staff actions that start engine work (a family's fanned-out job)."""
    from infra.runtime import engine

    return engine()


def configured_brand(context: Context):
    brand = context.store.get_brand(context.principal.brand_id)
    if brand is None:
        raise errors.BrandNotConfigured(context.principal.brand_id)
    return brand
