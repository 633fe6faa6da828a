"""The `Store` protocol: everything `rules/` needs from persistence, and nothing about DynamoDB.

`infra.store.DynamoStore` implements it on one DynamoDB table. Writes are all-or-nothing: each method that writes
either lands every item it was given or raises and lands none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, Sequence, TypeVar

from rules.brands import BrandConfig
from rules.ledger import Entry, Posting
from rules.members import LookupKind, MemberProfile, MemberState, Registration, RequestRecord

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    cursors: Sequence[str]
    end_cursor: str | None
    has_next_page: bool


class RequestAlreadyRecorded(Exception):
    """The idempotency key was recorded by an earlier request; carries what that request returned."""

    def __init__(self, record: RequestRecord) -> None:
        super().__init__(record.key)
        self.record = record


class LookupTaken(Exception):
    """A registration lost a uniqueness race on one of its lookups (phone, openid, unionid, referral code)."""

    def __init__(self, kind: LookupKind) -> None:
        super().__init__(kind.value)
        self.kind = kind


class AlreadyReversed(Exception):
    def __init__(self, entry_id: str) -> None:
        super().__init__(entry_id)
        self.entry_id = entry_id


class Store(Protocol):
    # Brands
    def get_brand(self, brand_id: str) -> BrandConfig | None:
        """The brand's configuration (implementations may cache it for a short while)."""

    def put_brand(self, config: BrandConfig) -> BrandConfig:
        """Save a brand's configuration, bumping its version."""

    # Members
    def load_member(self, brand_id: str, member_id: str, *, request_key: str | None = None) -> MemberState | None:
        """Profile, balance and lots holding points (plus the request record for `request_key`), in one read."""

    def find_member_id(self, brand_id: str, kind: LookupKind, value: str) -> str | None:
        ...

    def register(self, registration: Registration) -> MemberProfile:
        """Create the member and its lookups together; raises `LookupTaken` naming the first one already taken."""

    def set_standing(self, profile: MemberProfile, *, growth: int, tier_code: str,
                     tier_valid_until: datetime | None) -> None:
        """Set a member's growth value and tier (the tier rules decide; this only records)."""

    # Ledger
    def post(
        self,
        profile: MemberProfile,
        posting: Posting,
        *,
        request: RequestRecord | None = None,
    ) -> None:
        """Write a posting atomically.

        Raises `WriteConflict` when a lot or the balance moved since the plan was made, `RequestAlreadyRecorded`
        when `request.key` was used before, and `AlreadyReversed` when `posting.reverses` was reversed before.
        """

    def get_entry(self, brand_id: str, member_id: str, entry_id: str) -> Entry | None:
        ...

    def history(self, brand_id: str, member_id: str, *, first: int, after: str | None) -> Page[Entry]:
        """Ledger entries, newest first, with an opaque cursor."""

    def entries(self, brand_id: str, member_id: str) -> list[Entry]:
        """Every ledger entry of the member, oldest first (reconciliation and exports)."""
