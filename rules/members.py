"""Members: registration and the profile the rest of Siyu reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Mapping

from rules import identity, ids, phone
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
    phone_hash: str | None  # None: a member created by WeChat login, who has not given a phone number
    phone_masked: str | None
    channel: str
    referral_code: str
    registered_at: datetime
    tier_code: str
    tier_valid_until: datetime | None = None
    growth: int = 0
    openid_hash: str | None = None  # keyed hashes (rules/identity.py), never the ids themselves
    unionid_hash: str | None = None
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
    # What the rule families (`Family.storage` HOLDINGS) keep in the member's partition, by family: "coupons", ...
    holdings: Mapping[str, tuple] = field(default_factory=dict)
    # The member's running totals (`rules.effects.AddToTotal`), on the profile.
    totals: Mapping[str, int] = field(default_factory=dict)
    # What the store read of the items of the orders it loaded (opaque to the rules): handed back with the change.
    orders: Mapping[str, Any] = field(default_factory=dict)
    # The member's daily totals (`rules.effects.AddToDailyTotal`): name -> {brand-local day: amount}, for the months
    # still kept (rules/daily_totals.py).
    daily: Mapping[str, Mapping[date, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Registration:
    profile: MemberProfile
    lookups: tuple[tuple[LookupKind, str], ...]


def plan_registration(
    brand: BrandConfig | None,
    *,
    brand_id: str,
    phone_number: str | None,
    channel: str,
    now: datetime,
    phone_key: str,
    openid: str | None = None,
    unionid: str | None = None,
    referral_code: str | None = None,
    birthday: str | None = None,
    nickname: str | None = None,
) -> Registration:
    """A new member: found later by phone, openid or unionid (at least one of them), all kept as keyed hashes."""
    if brand is None:
        raise BrandNotConfigured(brand_id)
    normalised = phone.normalise(phone_number) if phone_number is not None else None
    if channel not in CHANNELS:
        raise InvalidInput("channel", "invalid.channel", choices=", ".join(CHANNELS))
    for name, value in (("openid", openid), ("unionid", unionid)):
        if value is not None:
            identity.check(name, value)
    if normalised is None and openid is None and unionid is None:
        raise InvalidInput("phone", "invalid.identity_required")
    if referral_code is not None and not (0 < len(referral_code) <= 32 and referral_code.isalnum()):
        raise InvalidInput("referralCode", "invalid.referral_code")
    if birthday is not None and not valid_birthday(birthday):
        raise InvalidInput("birthday", "invalid.birthday")
    nickname = valid_nickname(nickname)
    profile = MemberProfile(
        brand_id=brand_id,
        member_id=ids.new_member_id(),
        phone_hash=phone.phone_hash(normalised, phone_key) if normalised else None,
        phone_masked=phone.mask(normalised) if normalised else None,
        channel=channel,
        referral_code=ids.new_referral_code(),
        registered_at=now,
        tier_code=brand.entry_tier.code,
        growth=0,
        openid_hash=lookup_value(LookupKind.OPENID, openid, phone_key) if openid else None,
        unionid_hash=lookup_value(LookupKind.UNIONID, unionid, phone_key) if unionid else None,
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
        raise InvalidInput("nickname", "invalid.nickname", max=MAX_NICKNAME)
    return value


def valid_birthday(value: str) -> bool:
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


def lookup_value(kind: LookupKind, raw: str, key: str) -> str:
    """What a lookup of this kind is keyed by: the keyed hash for a phone or WeChat id, the code itself otherwise.

    `raw` is the number or id as given; a phone number is normalised first, so +86 and separators find it too."""
    if kind is LookupKind.PHONE:
        return phone.phone_hash(phone.normalise(raw), key)
    if kind in (LookupKind.OPENID, LookupKind.UNIONID):
        return identity.identity_hash(kind.value, raw, key)
    return raw


def lookups_for(profile: MemberProfile) -> tuple[tuple[LookupKind, str], ...]:
    found = [(LookupKind.REFERRAL_CODE, profile.referral_code)]
    if profile.phone_hash:
        found.insert(0, (LookupKind.PHONE, profile.phone_hash))
    if profile.openid_hash:
        found.append((LookupKind.OPENID, profile.openid_hash))
    if profile.unionid_hash:
        found.append((LookupKind.UNIONID, profile.unionid_hash))
    return tuple(found)


def with_new_referral_code(registration: Registration) -> Registration:
    """A fresh code after a (rare) collision with another member's."""
    profile = replace(registration.profile, referral_code=ids.new_referral_code())
    return Registration(profile=profile, lookups=lookups_for(profile))


def already_registered(kind: LookupKind) -> AlreadyRegistered:
    return AlreadyRegistered(kind.value)
