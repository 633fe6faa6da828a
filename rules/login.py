"""Signing in from the mini-program: the member behind a WeChat identity, created on first sight.

The identity comes from `infra.wechat` (the code exchange); this module only decides which member it is. A member
is found by openid first (this brand's mini-program), then by unionid (the same person in another app of the
brand); if neither is known, a member is registered with no phone number, found by these ids from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rules.errors import AlreadyRegistered, Busy
from rules.members import LookupKind, lookup_value
from rules.registration import register_member
from rules.persistence import Store


@dataclass(frozen=True)
class SignedIn:
    member_id: str
    created: bool


def member_for_wechat(store: Store, *, brand_id: str, openid: str, unionid: str | None, now: datetime,
                      key: str) -> SignedIn:
    found = _find(store, brand_id, openid, unionid, key)
    if found:
        return SignedIn(found, created=False)
    try:
        profile = register_member(store, brand_id=brand_id, phone_number=None, channel="miniprogram", now=now,
                                  phone_key=key, openid=openid, unionid=unionid)
    except AlreadyRegistered:
        # Two first logins of the same person raced (a double tap): the other one registered the member.
        found = _find(store, brand_id, openid, unionid, key)
        if found is None:
            # Lookups are read eventually consistent: the winner's may not be visible yet. Ask for a retry.
            raise Busy("this WeChat account is being registered by another request; try again") from None
        return SignedIn(found, created=False)
    return SignedIn(profile.member_id, created=True)


def _find(store: Store, brand_id: str, openid: str, unionid: str | None, key: str) -> str | None:
    found = store.find_member_id(brand_id, LookupKind.OPENID, lookup_value(LookupKind.OPENID, openid, key))
    if found is None and unionid:
        found = store.find_member_id(brand_id, LookupKind.UNIONID, lookup_value(LookupKind.UNIONID, unionid, key))
    return found
