"""Publishers bound to brands: a brand's systems publish with the source `siyu.brand.<brandId>` or
`siyu.brand.<brandId>.<system>`, and the IAM role each brand publishes with may only put events with those sources
(serverless.yml, `BrandPublisherRole`: an `events:source` condition). EventBridge checks the role; this checks
that the event is about the brand its source names, so brand A's POS cannot send an `order.paid` for brand B's
member.

On in every stage but `local` (`SIYU_REQUIRE_BRAND_SOURCE`), where local tools and tests keep their own sources.
"""

from __future__ import annotations

import re

from rules.events import BusinessEvent

PREFIX = "siyu.brand."
# A system's name has no dot, so what follows the brand id is never mistaken for part of it.
_SYSTEM = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def source_problem(event: BusinessEvent) -> str | None:
    """Why the event's source may not publish it, or None if it may."""
    source, brand = event.source, event.brand_id
    if not source.startswith(PREFIX):
        return f"business events come from a siyu.brand.<brandId> source, not {source!r}"
    if "." in brand:
        # `siyu.brand.a.b` could be brand "a.b" or brand "a"'s system "b": no role can be bound to such a brand.
        return f"brand {brand!r} has a dot in its id, so no publisher can be bound to it"
    rest = source[len(PREFIX):]
    if rest == brand:
        return None
    if rest.startswith(brand + ".") and _SYSTEM.match(rest[len(brand) + 1:]):
        return None
    return f"source {source!r} may not publish events of brand {brand!r}"
