"""Settings from the environment (names and defaults in CONTRACT.md), read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEV_JWT_SECRET = "siyu-local-dev-secret-change-me-0123456789"
DEV_PHONE_KEY = "siyu-local-phone-hash-key"


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    region: str
    dynamodb_endpoint: str | None
    event_bus_name: str
    jwt_secret: str
    jwt_issuer: str
    phone_hash_key: str
    brand_cache_seconds: float

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"


def _load() -> Settings:
    env = os.environ
    stage = env.get("SIYU_STAGE", "local")
    secret = env.get("JWT_SECRET")
    phone_key = env.get("PHONE_HASH_KEY")
    if stage != "local" and (not secret or not phone_key):
        # A deployed stage must never fall back to the published development secrets.
        raise RuntimeError("JWT_SECRET and PHONE_HASH_KEY must be set outside the local stage")
    return Settings(
        stage=stage,
        table_name=env.get("TABLE_NAME", "siyu-local"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        event_bus_name=env.get("EVENT_BUS_NAME", "local"),
        jwt_secret=secret or DEV_JWT_SECRET,
        jwt_issuer=env.get("JWT_ISSUER", "siyu-local"),
        phone_hash_key=phone_key or DEV_PHONE_KEY,
        brand_cache_seconds=float(env.get("SIYU_BRAND_CACHE_SECONDS", "60")),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return _load()


def reload() -> Settings:
    """Re-read the environment (tests and the local stack change it before binding the store)."""
    settings.cache_clear()
    return settings()
