"""What a member may change about themselves: today, the nickname (the birthday is set once, at registration,
because the birthday multiplier makes changing it worth points)."""

from __future__ import annotations

from rules.members import valid_nickname


def update_profile(store, brand_id: str, member_id: str, *, nickname: str | None) -> None:
    """Set the nickname (a blank one removes it); `MemberNotFound` if the member is gone or erased."""
    store.set_nickname(brand_id, member_id, valid_nickname(nickname))
