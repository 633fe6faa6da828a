"""Members: registration and the profile the rest of Siyu reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Mapping

from rules import ids, phone
from rules.brands import BrandConfig
from rules.errors import AlreadyRegistered, BrandNotConfigured, InvalidInput
from rules.ledger import PointsState

if TYPE_CHECKING:
    from rules.consent import ConsentRecord

CHANNELS = ("miniprogram", "h5", "wecom", "store")


class LookupKind(str, Enum):
    """Ways to find a member within a brand; each value is unique per brand."""

    PHONE = "phone"
    OPENID = "openid"
    UNIONID = "unionid"
    REFERRAL_CODE = "referralCode"


@dataclass(frozen=True)
class MemberProfile:
    brand_id: str
    member_id: str
    phone_hash: str
    phone_masked: str
    channel: str
    referral_code: str
    registered_at: datetime
    tier_code: str
    tier_valid_until: datetime | None = None
    growth: int = 0
    openid: str | None = None
    unionid: str | None = None
    referred_by_code: str | None = None
    paid_until: datetime | None = None  # a paid membership (百果园 心享, 元气森林 会员卡) runs until then
    birthday: str | None = None  # "--MM-DD": month and day only, the least a birthday rule needs
    nickname: str | None = None
    # Set when the member's personal data was erased (PIPL art. 47): only the anonymised ledger is left.
    erased_at: datetime | None = None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None
    tags: tuple[str, ...] = ()  # groups staff put the member in (coupon eligibility reads them)


@dataclass(frozen=True)
class RequestRecord:
    """What a request with an idempotency key did the first time: returned as-is when the key comes back."""

    key: str
    fingerprint: str
    result: dict
    at: datetime


@dataclass(frozen=True)
class MemberState:
    """One member as loaded by a single Query: profile, points and (if asked for) one request record."""

    profile: MemberProfile
    points: PointsState
    request: RequestRecord | None = None
    version: int = 0
    # `Once` markers the rules claimed for this member, each with the data the rule stored with it.
    markers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Every consent record of the member (rules.consent), in no particular order: the newest per purpose rules.
    consents: tuple["ConsentRecord", ...] = ()
    # What the rule families (rules.extensions) keep in the member's partition, by family: "coupons", ...
    holdings: Mapping[str, tuple] = field(default_factory=dict)


@dataclass(frozen=True)
class Registration:
    profile: MemberProfile
    lookups: tuple[tuple[LookupKind, str], ...]


def plan_registration(
    brand: BrandConfig | None,
    *,
    brand_id: str,
    phone_number: str,
    channel: str,
    now: datetime,
    phone_key: str,
    openid: str | None = None,
    unionid: str | None = None,
    referral_code: str | None = None,
    birthday: str | None = None,
    nickname: str | None = None,
) -> Registration:
    if brand is None:
        raise BrandNotConfigured(brand_id)
    normalised = phone.normalise(phone_number)
    if channel not in CHANNELS:
        raise InvalidInput("channel", f"must be one of {', '.join(CHANNELS)}")
    for name, value in (("openid", openid), ("unionid", unionid)):
        if value is not None and not (0 < len(value) <= 128 and value.isprintable() and " " not in value):
            raise InvalidInput(name, f"{name} must be 1-128 printable characters without spaces")
    if referral_code is not None and not (0 < len(referral_code) <= 32 and referral_code.isalnum()):
        raise InvalidInput("referralCode", "a referral code is letters and digits")
    if birthday is not None and not _valid_birthday(birthday):
        raise InvalidInput("birthday", 'a birthday is a month and day, written "--MM-DD" (e.g. "--03-01")')
    nickname = valid_nickname(nickname)
    hashed = phone.phone_hash(normalised, phone_key)
    profile = MemberProfile(
        brand_id=brand_id,
        member_id=ids.new_member_id(),
        phone_hash=hashed,
        phone_masked=phone.mask(normalised),
        channel=channel,
        referral_code=ids.new_referral_code(),
        registered_at=now,
        tier_code=brand.entry_tier.code,
        growth=0,
        openid=openid,
        unionid=unionid,
        referred_by_code=referral_code.upper() if referral_code else None,
        birthday=birthday,
        nickname=nickname,
    )
    return Registration(profile=profile, lookups=lookups_for(profile))


MAX_NICKNAME = 32


def valid_nickname(value: str | None) -> str | None:
    """A display name, trimmed; None (or blank) means none. Personal data: exported and erased with the rest."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_NICKNAME or not value.isprintable():
        raise InvalidInput("nickname", f"a nickname is at most {MAX_NICKNAME} printable characters")
    return value


def _valid_birthday(value: str) -> bool:
    import re
    from datetime import date

    match = re.fullmatch(r"--(\d{2})-(\d{2})", value)
    if not match:
        return False
    try:
        date(2024, int(match.group(1)), int(match.group(2)))  # a leap year: 29 February is a birthday too
    except ValueError:
        return False
    return True


def lookups_for(profile: MemberProfile) -> tuple[tuple[LookupKind, str], ...]:
    found = [(LookupKind.PHONE, profile.phone_hash), (LookupKind.REFERRAL_CODE, profile.referral_code)]
    if profile.openid:
        found.append((LookupKind.OPENID, profile.openid))
    if profile.unionid:
        found.append((LookupKind.UNIONID, profile.unionid))
    return tuple(found)


def with_new_referral_code(registration: Registration) -> Registration:
    """A fresh code after a (rare) collision with another member's."""
    profile = replace(registration.profile, referral_code=ids.new_referral_code())
    return Registration(profile=profile, lookups=lookups_for(profile))


def already_registered(kind: LookupKind) -> AlreadyRegistered:
    return AlreadyRegistered(kind.value)
