"""Builders for what Lambda receives (API Gateway HTTP API payload 2.0), tokens, and members."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from api.auth import Principal, issue_token
from infra.settings import settings
from rules import points
from rules.registration import register_member

# Secrets a hardened stage accepts (32 random bytes, base64url): tests that run as prod or dev use these.
STAGE_JWT_SECRET = "6PTp6orT3WW1nluP9qJT_tmwiKshE7twEWTO4K2CW7w"
STAGE_PHONE_KEY = "smpH_nxiCMTUewkTdXzZL8WLWz4l_jbOGfi0fBxBi3A"
STAGE_SECRETS = {"JWT_SECRET": STAGE_JWT_SECRET, "PHONE_HASH_KEY": STAGE_PHONE_KEY}

_phones = itertools.count(13_000_000_000 + uuid.uuid4().int % 900_000_000)


def new_phone() -> str:
    """A fresh, valid mainland mobile number for each call."""
    return str(next(_phones))


def token(role: str, subject: str, brand_id: str, *, ttl: timedelta = timedelta(hours=1),
          secret: str | None = None, issuer: str | None = None, now: datetime | None = None) -> str:
    config = settings()
    return issue_token(Principal(role, subject, brand_id), secret=secret or config.jwt_secret,
                       issuer=issuer or config.jwt_issuer, now=now or datetime.now(timezone.utc), ttl=ttl)


def register(store, brand_id: str, now: datetime, **kwargs) -> str:
    profile = register_member(store, brand_id=brand_id, phone_number=kwargs.pop("phone", None) or new_phone(),
                              channel=kwargs.pop("channel", "miniprogram"), now=now,
                              phone_key=settings().phone_hash_key, **kwargs)
    return profile.member_id


def earn(store, brand_id: str, member_id: str, amount: int, now: datetime, days: int = 365, key: str | None = None):
    return points.earn(store, brand_id, member_id, points=amount, now=now, expires_at=now + timedelta(days=days),
                       idempotency_key=key or uuid.uuid4().hex)


def http_api_event(query: str, variables: dict | None = None, token: str | None = None, *,
                   base64_body: bool = False, language: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for POST /graphql, as Lambda receives it. `language`:
    the Accept-Language header (none: the API answers in Chinese)."""
    body = json.dumps({"query": query, "variables": variables or {}})
    headers = {"content-type": "application/json", "host": "api.example.com", "user-agent": "siyu-tests"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if language:
        headers["accept-language"] = language
    return {
        "version": "2.0",
        "routeKey": "POST /graphql",
        "rawPath": "/graphql",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api1234567",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": "POST", "path": "/graphql", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "siyu-tests"},
            "requestId": uuid.uuid4().hex,
            "routeKey": "POST /graphql",
            "stage": "$default",
            "time": "01/Mar/2026:02:00:00 +0000",
            "timeEpoch": 1772330400000,
        },
        "body": base64.b64encode(body.encode()).decode() if base64_body else body,
        "isBase64Encoded": base64_body,
    }


@dataclass
class LambdaContext:
    function_name: str = "siyu-test-graphql"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:siyu-test-graphql"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def call_graphql(query: str, variables: dict | None = None, token: str | None = None, *,
                 language: str | None = None) -> tuple[int, dict]:
    """Invoke the Lambda handler exactly as API Gateway would, and decode its answer."""
    from api.handler import handler

    response = handler(http_api_event(query, variables, token, language=language), LambdaContext())
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return response["statusCode"], json.loads(body)


def error_codes(payload: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in payload.get("errors") or []]


def business_event(detail_type: str, detail: dict, *, event_id: str | None = None, time: datetime | None = None,
                   source: str = "siyu.shop") -> dict[str, Any]:
    """An EventBridge event as the events Lambda receives it."""
    when = time or datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
    return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": detail_type, "source": source,
            "account": "123456789012", "time": when.isoformat().replace("+00:00", "Z"), "region": "us-east-1",
            "resources": [], "detail": detail}


def scheduled_event(time: datetime, rule: str = "siyu-test-daily-sweep", event_id: str | None = None) -> dict:
    return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": time.isoformat().replace("+00:00", "Z"),
            "region": "us-east-1", "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
            "detail": {}}


def order_paid(brand_id: str, member_id: str, amount_fen: int, order_id: str | None = None, **extra) -> dict:
    return {"brandId": brand_id, "memberId": member_id, "orderId": order_id or uuid.uuid4().hex[:12],
            "amountFen": amount_fen, "channel": "miniprogram", **extra}


@contextmanager
def mock_aws_beside_the_embedded_server() -> Iterator[None]:
    """moto's `mock_aws` for a test of another AWS service (SQS, Lambda). `mock_aws` resets every moto backend of
    the process when it starts and when it ends, the embedded DynamoDB server's too: the suite's shared table
    would be gone for every test after it on the same worker. Its tables are put back when the mock ends."""
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    kept = {(account, region): dict(backend.tables) for account, regions in list(dynamodb_backends.items())
            for region, backend in list(regions.items()) if backend.tables}
    try:
        with mock_aws():
            yield
    finally:
        for (account, region), tables in kept.items():
            dynamodb_backends[account][region].tables.update(tables)
