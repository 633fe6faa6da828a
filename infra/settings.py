"""Settings from the environment (names and defaults in CONTRACT.md and README "Security"), read once per process."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Mapping

from rules.limits import AttemptLimit, default_limits

DEV_JWT_SECRET = "siyu-local-dev-secret-change-me-0123456789"
DEV_PHONE_KEY = "siyu-local-phone-hash-key"
WECHAT_API_URL = "https://api.weixin.qq.com"
WECHAT_CLIENTS = ("local", "wechat")
# The longest a token may live, per role; settings may shorten these, never lengthen them.
MAX_TOKEN_LIFETIME = {"member": timedelta(hours=24), "staff": timedelta(hours=12)}
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class Budget:
    """What validating one GraphQL document may cost (api/validation_budget.py)."""

    fields: int  # field selections in the whole document
    same_key: int  # field selections answering under one response key
    selections: int  # fields, fragment spreads and inline fragments


# Validation cost budgets (README "Security"): fields, selections sharing one response key, all selections.
DEFAULT_BUDGET = Budget(fields=120, same_key=6, selections=120)
ANONYMOUS_BUDGET = Budget(fields=60, same_key=5, selections=60)


@dataclass(frozen=True)
class WechatApp:
    """One brand's mini-program: the credentials jscode2session needs."""

    app_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    region: str
    dynamodb_endpoint: str | None
    event_bus_name: str
    jwt_secret: str = field(repr=False)
    # The bucket that keeps every audit record beyond overwriting (infra/audit_archive.py); None: the table only.
    audit_bucket: str | None = None
    jwt_issuer: str = "siyu-local"
    phone_hash_key: str = field(default=DEV_PHONE_KEY, repr=False)
    brand_cache_seconds: float = 60.0
    # GraphQL hardening: what one request may ask for.
    graphql_max_depth: int = 8
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    # The validation cost budget (api/validation_budget.py): with a token, and the strictest, without one.
    graphql_budget: Budget = DEFAULT_BUDGET
    graphql_anonymous_budget: Budget = ANONYMOUS_BUDGET
    # Login: how long a member token from loginWithWechat lives, and who exchanges the mini-program code.
    member_token_ttl: timedelta = timedelta(hours=2)
    # The longest any token may live, per role (at most MAX_TOKEN_LIFETIME): checked when minting and verifying.
    token_max_lifetime: Mapping[str, timedelta] = field(default_factory=lambda: dict(MAX_TOKEN_LIFETIME))
    wechat_client: str = "local"
    wechat_apps: Mapping[str, WechatApp] = field(default_factory=dict, repr=False)
    wechat_api_url: str = WECHAT_API_URL
    wechat_timeout_seconds: float = 5.0
    # Abuse limits: attempts per member, action and window.
    attempt_limits: Mapping[str, AttemptLimit] = field(default_factory=default_limits)
    # Events on the bus must come from `siyu.brand.<their brandId>[.<system>]` (rules/sources.py).
    require_brand_source: bool = False
    # Browser origins allowed to call the API (api/cors.py): `SIYU_CORS_ORIGINS`, comma-separated, `:*` for any
    # port; locally any localhost origin, elsewhere none unless set (serverless.yml: the brand's domains).
    cors_origins: tuple[str, ...] = ()
    # Time sanity (rules/time_sanity.py): how far ahead of the receiving clock, and how old, an event may be.
    event_max_skew_minutes: int = 15
    event_max_age_days: int = 30
    # Member import (infra/importer.py): members written per second at most, so a huge file leaves the table's
    # capacity to the brand's live traffic. `SIYU_IMPORT_RATE`; 0 means unlimited (tests, a fresh brand).
    import_items_per_second: float = 50.0
    # The daily sweep's SQS queue (serverless.yml SweepQueue); None: batches run in process (rules/fanout.py).
    sweep_queue_url: str | None = None

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    @property
    def is_hardened(self) -> bool:
        """Every stage but `local` is hardened: a stage name that is new, misspelt or serverless' default `dev`
        gets production's rules, never the development conveniences."""
        return self.stage != "local"

    @property
    def is_prod(self) -> bool:  # the older name: "prod" was once the only hardened stage
        return self.is_hardened

    def token_lifetime(self, role: str) -> timedelta:
        """How long a token of `role` may live at most (minting and verifying both hold to it)."""
        return self.token_max_lifetime[role]


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)
    if value < 1:
        raise RuntimeError(f"{name} must be a positive integer")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise RuntimeError(f"{name} must be on or off (1/0, true/false)")
    return raw in ("1", "true", "yes", "on")


def _wechat_apps(raw: str | None) -> dict[str, WechatApp]:
    """`WECHAT_APPS`: {"<brandId>": {"appId": "wx...", "secret": "..."}}, one mini-program per brand."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
        return {brand: WechatApp(app["appId"], app["secret"]) for brand, app in data.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        # Never echo the value: it holds the apps' secrets.
        raise RuntimeError('WECHAT_APPS must be JSON: {"<brandId>": {"appId": ..., "secret": ...}}') from None


def _attempt_limits(raw: str | None) -> dict[str, AttemptLimit]:
    """`SIYU_ATTEMPT_LIMITS`: {"<action>": {"attempts": 20, "windowSeconds": 3600}} over the defaults."""
    limits = default_limits()
    if not raw:
        return limits
    try:
        for action, limit in json.loads(raw).items():
            attempts, seconds = int(limit["attempts"]), int(limit["windowSeconds"])
            if attempts < 1 or seconds < 1:
                raise ValueError(action)
            limits[action] = AttemptLimit(attempts, timedelta(seconds=seconds))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RuntimeError('SIYU_ATTEMPT_LIMITS must be JSON: {"<action>": {"attempts": N, "windowSeconds": S}}, '
                           "both positive") from None
    return limits


def weak_secret(value: str) -> str | None:
    """Why `value` cannot sign tokens or key hashes outside local, or None when it can.

    Nothing can prove randomness; this refuses what is certainly not random: short values, the published
    development defaults, a short pattern repeated, a value made of few distinct characters. Any 32 random bytes
    written out (`openssl rand -base64 32`, `openssl rand -hex 32`) pass."""
    if value in (DEV_JWT_SECRET, DEV_PHONE_KEY):
        return "is the published development default"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    if value in (value + value)[1:-1]:
        return "is a short pattern repeated"
    distinct = len(set(value))
    if distinct < 12 or max(value.count(c) for c in set(value)) > len(value) // 4:
        return "has too few distinct characters to be random"
    return None


def _lifetime(env: Mapping[str, str], name: str, unit: timedelta, longest: timedelta, default: timedelta,
              ) -> timedelta:
    raw = env.get(name)
    value = default if raw is None or raw == "" else _positive_int(env, name, 1) * unit
    if value > longest:
        raise RuntimeError(f"{name}: at most {longest} (token lifetimes may be shortened, not lengthened)")
    return value


def _budget(env: Mapping[str, str], prefix: str, default: Budget) -> Budget:
    return Budget(fields=_positive_int(env, f"{prefix}MAX_FIELDS", default.fields),
                  same_key=_positive_int(env, f"{prefix}MAX_SAME_KEY", default.same_key),
                  selections=_positive_int(env, f"{prefix}MAX_SELECTIONS", default.selections))


def _load() -> Settings:
    env = os.environ
    stage = env.get("SIYU_STAGE", "local")
    secret = env.get("JWT_SECRET")
    phone_key = env.get("PHONE_HASH_KEY")
    # The events and insights functions sign nothing and hash no phone: they are deployed without either secret
    # (serverless.yml, SIYU_FUNCTION=events or insights), so nothing running there can read them.
    needs_secrets = env.get("SIYU_FUNCTION") not in ("events", "insights")
    hardened = stage != "local"
    if hardened and needs_secrets and (not secret or not phone_key):
        # A deployed stage must never fall back to the published development secrets.
        raise RuntimeError("JWT_SECRET and PHONE_HASH_KEY must be set outside the local stage")
    if hardened and needs_secrets:
        for name, value in (("JWT_SECRET", secret), ("PHONE_HASH_KEY", phone_key)):
            problem = weak_secret(value)
            if problem:  # never echo the value itself
                raise RuntimeError(f"{name} {problem}: outside the local stage use at least {MIN_SECRET_BYTES} "
                                   "random bytes (openssl rand -base64 32)")
    wechat_client = env.get("SIYU_WECHAT_CLIENT") or ("local" if stage == "local" else "wechat")
    if wechat_client not in WECHAT_CLIENTS:
        raise RuntimeError(f"SIYU_WECHAT_CLIENT must be one of {', '.join(WECHAT_CLIENTS)}")
    if hardened and wechat_client == "local":
        # The local client trusts any code: deployed it would let anyone sign in as anyone it invents.
        raise RuntimeError("the local WeChat client is for the local stage only")
    budget = _budget(env, "SIYU_GRAPHQL_", DEFAULT_BUDGET)
    asked = _budget(env, "SIYU_GRAPHQL_ANONYMOUS_", ANONYMOUS_BUDGET)
    # Callers without a token never get a looser budget than those with one, whatever the settings say.
    anonymous = Budget(min(asked.fields, budget.fields), min(asked.same_key, budget.same_key),
                       min(asked.selections, budget.selections))
    lifetimes = {role: _lifetime(env, f"SIYU_{role.upper()}_TOKEN_MAX_HOURS", timedelta(hours=1), longest, longest)
                 for role, longest in MAX_TOKEN_LIFETIME.items()}
    return Settings(
        stage=stage,
        table_name=env.get("TABLE_NAME", "siyu-local"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        event_bus_name=env.get("EVENT_BUS_NAME", "local"),
        sweep_queue_url=env.get("SIYU_SWEEP_QUEUE_URL") or None,
        audit_bucket=env.get("AUDIT_BUCKET") or None,
        jwt_secret=secret or (DEV_JWT_SECRET if stage == "local" else ""),
        jwt_issuer=env.get("JWT_ISSUER", "siyu-local"),
        phone_hash_key=phone_key or (DEV_PHONE_KEY if stage == "local" else ""),
        brand_cache_seconds=float(env.get("SIYU_BRAND_CACHE_SECONDS", "60")),
        graphql_max_depth=_positive_int(env, "SIYU_GRAPHQL_MAX_DEPTH", 8),
        graphql_max_aliases=_positive_int(env, "SIYU_GRAPHQL_MAX_ALIASES", 15),
        graphql_max_tokens=_positive_int(env, "SIYU_GRAPHQL_MAX_TOKENS", 2000),
        graphql_budget=budget,
        # Never looser than the signed-in budget, whatever the settings say.
        graphql_anonymous_budget=anonymous,
        member_token_ttl=_lifetime(env, "SIYU_MEMBER_TOKEN_MINUTES", timedelta(minutes=1), lifetimes["member"],
                                   min(timedelta(hours=2), lifetimes["member"])),
        token_max_lifetime=lifetimes,
        wechat_client=wechat_client,
        wechat_apps=_wechat_apps(env.get("WECHAT_APPS")),
        wechat_api_url=env.get("WECHAT_API_URL") or WECHAT_API_URL,
        wechat_timeout_seconds=float(env.get("WECHAT_TIMEOUT_SECONDS", "5")),
        attempt_limits=_attempt_limits(env.get("SIYU_ATTEMPT_LIMITS")),
        require_brand_source=_flag(env, "SIYU_REQUIRE_BRAND_SOURCE", default=stage != "local"),
        cors_origins=_cors_origins(env.get("SIYU_CORS_ORIGINS"), stage=stage),
        event_max_skew_minutes=_positive_int(env, "SIYU_EVENT_MAX_SKEW_MINUTES", 15),
        event_max_age_days=_positive_int(env, "SIYU_EVENT_MAX_AGE_DAYS", 30),
        import_items_per_second=max(0.0, float(env.get("SIYU_IMPORT_RATE", "50"))),
    )


LOCAL_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "https://localhost:*", "https://127.0.0.1:*")


def _cors_origins(raw: str | None, *, stage: str) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return LOCAL_ORIGINS if stage == "local" else ()
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


@lru_cache(maxsize=1)
def settings() -> Settings:
    return _load()


def reload() -> Settings:
    """Re-read the environment (tests and the local stack change it before binding the store)."""
    settings.cache_clear()
    return settings()
