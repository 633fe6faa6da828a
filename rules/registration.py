"""Registering a member: validate, then create the profile and its unique lookups in one transaction."""

from __future__ import annotations

from datetime import datetime

from rules.members import LookupKind, MemberProfile, already_registered, plan_registration, with_new_referral_code
from rules.persistence import LookupTaken, Store

_REFERRAL_CODE_ATTEMPTS = 5


def register_member(
    store: Store,
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
) -> MemberProfile:
    registration = plan_registration(
        store.get_brand(brand_id), brand_id=brand_id, phone_number=phone_number, channel=channel, now=now,
        phone_key=phone_key, openid=openid, unionid=unionid, referral_code=referral_code, birthday=birthday,
        nickname=nickname,
    )
    for _ in range(_REFERRAL_CODE_ATTEMPTS):
        try:
            return store.register(registration)
        except LookupTaken as taken:
            if taken.kind is not LookupKind.REFERRAL_CODE:
                raise already_registered(taken.kind) from None
            # 31^8 codes make a collision rare; draw another rather than fail the member's sign-up.
            registration = with_new_referral_code(registration)
    raise RuntimeError("could not draw an unused referral code")
