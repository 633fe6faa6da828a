"""What the benches share: an embedded DynamoDB with Siyu's table and the models bound to it, and the bench brand.

Each bench sets its own environment (stage, table name, event age) before calling these, as its docstring says.
"""

from __future__ import annotations

import os
from typing import Any


def embedded_table() -> tuple[Any, Any]:
    """Start an embedded DynamoDB, create the table and point the models at it: (server, settings)."""
    import boto3

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    server = EmbeddedDynamoDB().start()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
    from infra import db, settings, table

    config = settings.reload()
    table.create_table(boto3.client("dynamodb", endpoint_url=server.endpoint), config.table_name)
    db.bind(config)
    return server, config


def put_bench_brand(store: Any, plugins: Any, brand_id: str = "bench") -> None:
    """百果园's ladder with the built-ins every order bench runs (points, tiers, expiry, coupons, referral, crisis)."""
    from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig

    params = {"coupons": {"templates": BAIGUOYUAN_TEMPLATES}}
    enabled = {n: plugins.validate_params(n, params.get(n, {}))
               for n in ("points", "tiers", "points_expiry", "coupons", "referral", "crisis")}
    store.put_brand(BrandConfig(brand_id, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
