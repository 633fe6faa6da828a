"""The member's copy of their personal data (PIPL art. 45): everything Siyu holds on them, in one JSON document.

A typed summary comes first (profile, tier and points, consents, the lookups that lead to the member), then every
item of the member's two partitions exactly as stored, whatever its type: item types added later (coupons,
commissions...) appear without a change here. Only the keyed hash of the phone number is withheld, and said so:
it is not the number, cannot be turned back into it, and serves only to find the account at sign-in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.brands import BrandConfig
from rules.consent import Purpose, history, newest
from rules.members import MemberState
from rules.persistence import MemberData

FORMAT = "siyu-member-export/1"
WITHHELD_PHONE_HASH = ("withheld: a keyed hash (HMAC) of your phone number, kept only to find your account when you "
                       "sign in; it cannot be turned back into the number")
# Attributes shown in another form than stored, by name, in any item.
WITHHELD = {"phone_hash": WITHHELD_PHONE_HASH}

NOTES = (
    "Siyu never stores your phone number itself: only its masked form (phoneMasked) and a keyed hash used to find "
    "your account at sign-in (withheld here, see profile.phoneHash).",
    "items lists every record held in your member partitions (profile, points lots, consent history, markers, "
    "request records and any other kind) and in your history partition (points ledger entries, activity).",
    "lookups are the index records that lead to your account from your phone hash, WeChat openid/unionid and "
    "referral code.",
    "Events about you sent by the brand's systems are also kept for up to 35 days, to recognise repeated deliveries; "
    "they hold the effects listed under activity.",
    "If you delete your account, your personal data and lookups are erased; points entries, lots and balances stay, "
    "without anything that identifies you, for the brand's accounting.",
)


def export(state: MemberState, data: MemberData, brand: BrandConfig, *, now: datetime) -> dict[str, Any]:
    profile = state.profile
    tier = brand.tier(profile.tier_code)
    current = newest(state.consents)
    by_type: dict[str, int] = {}
    for item in data.items:
        by_type[item.type] = by_type.get(item.type, 0) + 1
    return {
        "format": FORMAT,
        "exportedAt": now.isoformat(),
        "brandId": brand.brand_id,
        "memberId": profile.member_id,
        "notes": list(NOTES),
        "profile": {
            "phoneMasked": profile.phone_masked,
            "phoneHash": WITHHELD_PHONE_HASH,
            # WeChat ids are kept only as keyed hashes, like the phone: say whether one is linked.
            "wechatOpenid": "linked (kept only as a keyed hash)" if profile.openid_hash else None,
            "wechatUnionid": "linked (kept only as a keyed hash)" if profile.unionid_hash else None,
            "nickname": profile.nickname,
            "birthday": profile.birthday,
            "channel": profile.channel,
            "registeredAt": profile.registered_at.isoformat(),
            "referralCode": profile.referral_code,
            "referredByCode": profile.referred_by_code,
            "tier": {"code": tier.code, "name": tier.name,
                     "validUntil": profile.tier_valid_until.isoformat() if profile.tier_valid_until else None},
            "growth": profile.growth,
            "paidMemberUntil": profile.paid_until.isoformat() if profile.paid_until else None,
            "points": {"balance": state.points.balance, "spendable": state.points.spendable(now),
                       "debt": state.points.debt},
        },
        "consents": {
            purpose.value: {
                "granted": bool(current[purpose].granted) if purpose in current else False,
                "history": [{"granted": r.granted, "policyVersion": r.policy_version, "at": r.at.isoformat(),
                             "channel": r.channel, "recordedBy": r.actor} for r in history(state.consents, purpose)],
            }
            for purpose in Purpose
        },
        "lookups": [{"kind": kind.value, "value": WITHHELD_PHONE_HASH if kind.value == "phone" else value}
                    for kind, value in data.lookups],
        "itemCounts": dict(sorted(by_type.items())),
        "items": [{"partition": item.partition, "type": item.type, "key": item.key,
                   "attributes": {name: WITHHELD.get(name, value) for name, value in item.attributes.items()}}
                  for item in data.items],
    }
