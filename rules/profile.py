"""What a member may change about themselves: the nickname at will, the phone number through WeChat's own check
(`bindPhone`), and the birthday at most once a year (the birthday month earns a coupon and multiplied points, so
a member who could move it every month would collect them every month)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rules import phone
from rules.errors import AlreadyRegistered, MemberNotFound, SiyuError
from rules.members import LookupKind, valid_birthday, valid_nickname

# "Once a year": a year after the last setting, counted in days so that a leap day never locks a member out.
BIRTHDAY_CHANGE_INTERVAL = timedelta(days=365)


class BirthdayChangeTooSoon(SiyuError):
    """The member set a birthday less than a year ago; nothing was changed."""

    code = "BIRTHDAY_CHANGE_TOO_SOON"

    def __init__(self, next_change_at: datetime) -> None:
        super().__init__(next_change_on=f"{next_change_at:%Y-%m-%d}")
        self.next_change_at = next_change_at


@dataclass(frozen=True)
class PhoneBinding:
    """A member's new phone, as stored: the keyed hash (the lookup) and the masked form (for display)."""

    brand_id: str
    member_id: str
    phone_hash: str
    phone_masked: str
    previous_hash: str | None  # the lookup this replaces, freed in the same write


def update_profile(store, brand_id: str, member_id: str, *, nickname: str | None) -> None:
    """Set the nickname (a blank one removes it); `MemberNotFound` if the member is gone or erased."""
    store.set_nickname(brand_id, member_id, valid_nickname(nickname))


def set_birthday(store, brand_id: str, member_id: str, birthday: str, *, now: datetime) -> None:
    """Set the birthday ("--MM-DD"), at most once per `BIRTHDAY_CHANGE_INTERVAL`; the same birthday again is a
    no-op. A birthday given at registration counts as set on the registration day."""
    from rules.errors import InvalidInput

    if not valid_birthday(birthday):
        raise InvalidInput("birthday", "invalid.birthday")
    state = store.load_member(brand_id, member_id)
    if state is None:
        raise MemberNotFound(member_id)
    if state.profile.birthday == birthday:
        return
    # The store writes only if no other setting landed within the interval (the condition, not this read, decides).
    store.set_birthday(brand_id, member_id, birthday, now=now, not_since=now - BIRTHDAY_CHANGE_INTERVAL)


def plan_phone_binding(profile, raw_phone: str, *, phone_key: str) -> PhoneBinding | None:
    """The write that binds `raw_phone` to the member, or None when it is already theirs."""
    normalised = phone.normalise(raw_phone)
    hashed = phone.phone_hash(normalised, phone_key)
    if profile.phone_hash == hashed:
        return None
    return PhoneBinding(profile.brand_id, profile.member_id, hashed, phone.mask(normalised), profile.phone_hash)


def bind_phone(store, brand_id: str, member_id: str, raw_phone: str, *, phone_key: str) -> str:
    """Bind a phone number WeChat vouched for; returns the masked number. Another member's number is refused with
    `AlreadyRegistered("phone")`: one number, one member per brand, as at registration."""
    state = store.load_member(brand_id, member_id)
    if state is None:
        raise MemberNotFound(member_id)
    binding = plan_phone_binding(state.profile, raw_phone, phone_key=phone_key)
    if binding is None:
        return state.profile.phone_masked
    store.bind_phone(binding)
    return binding.phone_masked


def phone_taken() -> AlreadyRegistered:
    return AlreadyRegistered(LookupKind.PHONE.value)
