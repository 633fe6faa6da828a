"""Bearer JWTs: who is calling (a member or a staff user) and for which brand.

Claims (CONTRACT.md): `sub` (member id or staff id), `brand`, `role` (`member` or `staff`), `exp`, plus `iss`.
HS256 with a shared secret here; the verification is the only place a token is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Mapping

Role = Literal["member", "staff"]
ROLES = ("member", "staff")
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str
    brand_id: str

    @property
    def actor(self) -> str:
        """How ledger entries and audit records name this caller."""
        return f"{self.role}:{self.subject}"


class AuthError(Exception):
    """The token is missing, malformed, forged, expired, from another issuer, or lacks a claim."""


def issue_token(principal: Principal, *, secret: str, issuer: str, now: datetime, ttl: timedelta) -> str:
    claims = {
        "sub": principal.subject,
        "brand": principal.brand_id,
        "role": principal.role,
        "iss": issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if not secret:
        raise RuntimeError("this process holds no JWT secret (the events function is deployed without one)")
    import jwt  # here, not with the module: PyJWT brings in cryptography, which no request without a token needs

    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenTooLong(ValueError):
    """A token asked to live longer than its role allows (settings: MAX_TOKEN_LIFETIME, shortened by settings)."""


def check_lifetime(role: str, ttl: timedelta, lifetimes: Mapping[str, timedelta]) -> None:
    if ttl > lifetimes[role]:
        raise TokenTooLong(f"{role} tokens live at most {lifetimes[role]}")


def verify_token(token: str, *, secret: str, issuer: str, lifetimes: Mapping[str, timedelta] | None = None,
                 now: datetime | None = None) -> Principal:
    """The caller a token names. With `lifetimes`, a token whose life (iat to exp) or remaining life (now to exp)
    is longer than its role's maximum is refused: a stolen long-lived token stops working by itself."""
    if not secret:
        raise AuthError("NoSecret")  # an empty key would accept tokens signed with an empty key
    import jwt  # here, not with the module: PyJWT brings in cryptography, which no request without a token needs

    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=issuer,
            options={"require": ["sub", "brand", "role", "exp", "iss", "iat"]},
        )
    except jwt.PyJWTError as error:
        raise AuthError(type(error).__name__) from None
    role, subject, brand = claims.get("role"), claims.get("sub"), claims.get("brand")
    if role not in ROLES or not isinstance(subject, str) or not subject or not isinstance(brand, str) or not brand:
        raise AuthError("InvalidClaims")
    if lifetimes is not None:
        longest = lifetimes[role].total_seconds()
        exp, iat = claims["exp"], claims["iat"]
        remaining = exp - (now.timestamp() if now else iat)
        if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)) or exp - iat > longest \
                or remaining > longest:
            raise AuthError("LifetimeTooLong")
    return Principal(role=role, subject=subject, brand_id=brand)


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("NotBearer")
    return value.strip()
