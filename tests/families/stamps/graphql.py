"""The stamp card on `Member`."""

from __future__ import annotations

import strawberry

from rules.members import MemberState


@strawberry.type
class MemberFields:
    _state: strawberry.Private[MemberState]

    @strawberry.field(description="Stamps on the member's card.")
    def stamps(self) -> int:
        return sum(self._state.holdings.get("stamps", ()))
