"""The stage distribution (DOMAIN.md 8.1): a member counts in their lifecycle stage from their first judgement, and
moves from one stage's count to another's when their segment state item says their stage changed.

Dated by the stage's own `since` (the instant the member reached it, in the brand's story), not by when the table
changed: a sweep that catches up late still moves the member on the day the stage changed. A state item that goes
(the member was erased) takes the member out of their stage's count when it went."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from rules.kpis import Count, brand_of

STAGES = "stages"


def _stage(image: Mapping[str, Any] | None) -> tuple[str, datetime] | None:
    if not image or image.get("state") is None:
        return None
    state = image["state"]
    if isinstance(state, str):
        state = json.loads(state)
    return state["stage"], datetime.fromisoformat(state["stageSince"])


def segment_state(old, new, at):
    before, after = _stage(old), _stage(new)
    if (before and before[0]) == (after and after[0]):
        return
    brand = brand_of(new or old)
    if brand is None:
        return
    when = after[1] if after is not None else at
    if before is not None:
        yield Count(brand, when, before[0], -1, of=STAGES)
    if after is not None:
        yield Count(brand, when, after[0], 1, of=STAGES)


CONTRIBUTIONS = {"segment_state": segment_state}
