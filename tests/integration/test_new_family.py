"""A new rule family is one folder plus one line.

`tests/families/stamps/` is a whole family (an event with its hook, an effect, an item type in the member's
partition, a GraphQL field, a follow-up) that edits no file outside its folder. Run with the built-in families and
it (`SIYU_FAMILIES`: the one line), the same engine, store and schema take its event exactly once, write its item
in the event's one transaction and answer its field; without that line nothing of it exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import plugins
from rules.events import Ignored, parse
from tests.helpers import business_event

ROOT = Path(__file__).resolve().parents[2]
FAMILY = ROOT / "tests" / "families" / "stamps"

SCRIPT = textwrap.dedent("""
    import json, uuid
    from datetime import datetime, timezone

    from infra import db, settings
    db.bind(settings.settings())
    from infra.runtime import deliver, store
    from rules.brand_settings import configure_brand
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.plugin_manager import registry
    from strawberry.printer import print_schema
    from api.schema import schema
    from tests.helpers import business_event, call_graphql, register, token

    now = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
    brand = "cafe" + uuid.uuid4().hex[:8]
    store().put_brand(BrandConfig(brand, "街角咖啡", BAIGUOYUAN_LADDER))
    configure_brand(store(), registry(), brand, now=now, plugin_settings=[("stamps", True, {})])
    member = register(store(), brand, now)
    visit = lambda n, i: business_event("stamp.collected", {"brandId": brand, "memberId": member, "stamps": n},
                                        event_id=f"visit-{brand}-{i}", time=now)
    first, second, again = deliver(visit(6, 1)), deliver(visit(5, 2)), deliver(visit(5, 2))
    bad = deliver(visit(11, 3))
    _, body = call_graphql("{ me { stamps } }", token=token("member", member, brand))
    print(json.dumps({"statuses": [first["status"], second["status"], again["status"], bad["status"]],
                      "effects": [e["effect"] for e in second["effects"]], "followUps": len(second["followUps"]),
                      "card": store().stamp_card(brand, member), "me": body["data"]["me"],
                      "member": store().load_member(brand, member).holdings.get("stamps"),
                      "schema": "stamps: Int!" in print_schema(schema)}))
""")


def run_with_the_family_listed() -> dict:
    listed = ",".join((*plugins.FAMILIES, "tests.families.stamps"))  # the one line
    env = {**os.environ, "SIYU_FAMILIES": listed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_family_in_its_own_folder_takes_its_event_once_writes_its_item_and_answers_its_field(dynamodb_endpoint):
    seen = run_with_the_family_listed()
    # 6 stamps, then 5 more (the card is full: announced), the second delivered twice, then a malformed one.
    assert seen["statuses"] == ["applied", "applied", "duplicate", "rejected"]
    assert seen["effects"] == ["CollectStamps", "Emit"] and seen["followUps"] == 1
    assert seen["card"] == 11 and seen["member"] == [11] and seen["me"] == {"stamps": 11}
    assert seen["schema"]


def test_without_its_line_the_family_does_not_exist():
    assert "tests.families.stamps" not in plugins.FAMILIES
    assert isinstance(parse(business_event("stamp.collected", {"brandId": "b", "memberId": "m", "stamps": 1})),
                      Ignored)
    schema = (ROOT / "schema.graphql").read_text()
    assert "stamps" not in schema


def test_the_family_touches_nothing_outside_its_folder():
    """Everything the family is lives in its folder; nothing outside names it but the line that lists it."""
    own = {p.relative_to(ROOT).as_posix() for p in FAMILY.rglob("*.py")}
    assert {"tests/families/stamps/__init__.py", "tests/families/stamps/storage.py",
            "tests/families/stamps/graphql.py"} <= own
    for layer in ("rules", "plugins", "infra", "api", "events"):
        for path in (ROOT / layer).rglob("*.py"):
            text = path.read_text()
            assert "families.stamps" not in text and "stamp." not in text and "StampCard" not in text, path
