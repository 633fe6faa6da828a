"""Bringing members over from another loyalty system: `siyu import members FILE` and the importer behind it.

The big runs import generated members with lots and tiers: 1,000 by default, 10,000 with SIYU_IMPORT_10K=1 (over
half an hour on the embedded store on a loaded machine here, so not part of the default run; README "Import members").
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest

from infra import importer
from infra.db import count_requests
from infra.import_store import imported_member
from rules import importing, phone, points
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.ledger import EntryKind
from rules.members import LookupKind
from rules.registration import register_member

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-phone-key"
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
BIG = 10_000 if os.environ.get("SIYU_IMPORT_10K") == "1" else 1_000
# How long one CLI run of the big file may take before the test gives up on it: generous, and in proportion to the
# file (a loaded two-core machine imported ~5 members a second); never a condition on speed, only a guard on a hang.
RUN_TIMEOUT = max(900, BIG // 2)


def run_text(store, brand_id, text, *, source="old-system.csv", fmt="csv", **kwargs):
    brand = store.get_brand(brand_id, fresh=True)
    return importer.run(store, brand, importing.read_rows(importing.text_lines(text), fmt), source=source, now=NOW,
                        phone_key=KEY, **kwargs)


def reasons(report):
    return {r.row: sorted(p.code for p in r.problems) for r in report.rejected}


def test_a_member_from_the_old_system_arrives_with_tier_growth_and_dated_lots(store, brand_id):
    text = ("external_id,phone,nickname,birthday,tier,tier_valid_until,growth,lots\n"
            "YZ-1,13800138000,小王,1990-03-08,银卡,2026-08-31,650,300@2026-06-30;200@2027-02-28\n")
    report = run_text(store, brand_id, text)
    assert (report.imported, report.points, report.rejected) == (1, 500, [])
    member_id = imported_member(brand_id, "YZ-1")
    state = store.load_member(brand_id, member_id)
    profile = state.profile
    assert (profile.tier_code, profile.growth, profile.nickname, profile.birthday) == ("YIN", 650, "小王", "--03-08")
    assert profile.phone_masked == "138****8000"
    # Held through 31 August, Beijing time: over at its midnight.
    assert profile.tier_valid_until == datetime(2026, 8, 31, 16, 0, tzinfo=timezone.utc)
    assert sorted((lot.remaining, lot.expires_at) for lot in state.points.lots) == [
        (200, datetime(2027, 2, 28, 16, 0, tzinfo=timezone.utc)), (300, datetime(2026, 6, 30, 16, 0, tzinfo=timezone.utc))]
    assert state.points.spendable(NOW) == 500
    entries = store.entries(brand_id, member_id)
    assert {e.kind for e in entries} == {EntryKind.IMPORT}
    assert {(e.explanation["inputs"]["file"], e.explanation["inputs"]["row"]) for e in entries} == {
        ("old-system.csv", 1)}
    assert store.find_member_id(brand_id, LookupKind.PHONE, phone.phone_hash("13800138000", KEY)) == member_id
    totals = points.reconcile(store, brand_id, member_id)
    assert totals["balance"] == totals["entries"] == totals["lots"] == 500


def test_importing_the_same_rows_again_only_reads(store, brand_id):
    text = "external_id,phone,lots\nS1,13600000001,10@2027-01-01\nS2,13600000002,\n"
    assert run_text(store, brand_id, text).imported == 2
    with count_requests() as requests:
        again = run_text(store, brand_id, text)
    assert (again.imported, again.skipped) == (0, 2)
    assert "TransactWriteItems" not in requests.by_operation and "PutItem" not in requests.by_operation


def test_each_bad_row_is_reported_with_its_reason_and_the_good_rows_still_import(store, brand_id):
    register_member(store, brand_id=brand_id, phone_number="13900000009", channel="h5", now=NOW, phone_key=KEY)
    text = ("external_id,phone,tier,growth,lots\n"
            "A1,12345,,,\n"                                  # bad phone
            "A2,13900000009,,,\n"                            # already a member of the brand
            "A3,13900000003,,,-5@2027-01-01\n"               # negative points
            "A4,13900000004,,,100@2026-02-01\n"              # expired before the import
            "A5,13900000005,黑金卡,,\n"                       # no such tier
            "A6,13900000006,JIN,-1,\n"                       # negative growth
            "A7,13900000007,JIN,2500,80@2026-12-31\n")       # fine
    report = run_text(store, brand_id, text)
    assert reasons(report) == {1: ["BAD_PHONE"], 2: ["PHONE_TAKEN"], 3: ["NEGATIVE_POINTS"], 4: ["EXPIRY_IN_PAST"],
                               5: ["UNKNOWN_TIER"], 6: ["NEGATIVE_POINTS"]}
    assert (report.imported, report.points) == (1, 80)
    for rejected in ("A1", "A3", "A4", "A5", "A6"):
        assert imported_member(brand_id, rejected) is None


def test_jsonl_rows_name_their_lots_as_objects(store, brand_id):
    text = json.dumps({"externalId": "J1", "phone": "+86 139 0000 1111", "tier": "ZUAN", "growth": 6000,
                       "lots": [{"points": 1000, "expiresOn": "2026-12-31"}]}) + "\nnot json\n"
    report = run_text(store, brand_id, text, source="export.jsonl", fmt="jsonl")
    assert report.imported == 1 and reasons(report) == {2: ["BAD_VALUE"]}
    assert store.load_member(brand_id, imported_member(brand_id, "J1")).points.balance == 1000


def test_the_rate_limit_spaces_the_writes(store, brand_id):
    clock = {"t": 0.0}
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock["t"] += seconds

    text = "external_id,phone\n" + "".join(f"R{i},1370000000{i}\n" for i in range(5))
    report = run_text(store, brand_id, text, rate=importer.RateLimit(10, clock=lambda: clock["t"], sleep=sleep))
    assert report.imported == 5
    assert slept == pytest.approx([0.1] * 4)


# ---- the big runs: generated members with lots and tiers ---------------------------------------------------------


def generate(path: Path, count: int, seed: int = 20) -> dict[str, int]:
    """A file of `count` members (some with no points, some with several lots); returns each one's points."""
    rng = random.Random(seed)
    tiers = [t.code for t in BAIGUOYUAN_LADDER]
    expected = {}
    with path.open("w", encoding="utf-8") as f:
        f.write("external_id,phone,nickname,tier,tier_valid_until,growth,lots\n")
        for i in range(count):
            lots = [(rng.randint(1, 5000), date(2026, 4, 1) + timedelta(days=rng.randint(0, 700)))
                    for _ in range(rng.randint(0, 4))]
            tier = rng.choice(tiers)
            until = "" if tier == "PU" else (date(2026, 6, 1) + timedelta(days=rng.randint(0, 200))).isoformat()
            f.write(f"OLD{i:06d},13{i:09d},会员{i},{tier},{until},{rng.randint(0, 9000)},"
                    f"{';'.join(f'{p}@{d.isoformat()}' for p, d in lots)}\n")
            expected[f"OLD{i:06d}"] = sum(p for p, _ in lots)
    return expected


def brand_items(dynamodb, table_name: str, *brand_ids: str) -> dict[tuple[str, str], dict] | list[dict]:
    """Every item of the brand as stored, keyed by (pk, sk), from one Scan of the test's own table; given several
    brands, one such dict per brand, still from one Scan (each page of a Scan of the embedded store walks the whole
    table: at 10,000 members a Scan takes minutes)."""
    wanted = {f"BRAND#{b}#": {} for b in brand_ids}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        for item in page["Items"]:
            pk = item["pk"]["S"]
            parts = pk.split("#", 2)  # BRAND, the brand, the rest (the brand's own configuration has no rest)
            held = wanted.get(f"BRAND#{parts[1]}#") if len(parts) == 3 and parts[0] == "BRAND" else None
            if held is not None:
                held[(pk, item["sk"]["S"])] = item
    found = list(wanted.values())
    return found[0] if len(found) == 1 else found


def members_by_external_id(items: dict[tuple[str, str], dict]) -> dict[str, dict]:
    """What each imported member holds, read from the raw items: balance, tier, growth, validity, lots and entries
    (ids aside, so two brands' imports of one file compare)."""
    by_member: dict[str, dict] = {}
    external: dict[str, str] = {}

    def member(pk):
        return by_member.setdefault(pk.split("#")[3], {"lots": [], "entries": []})

    for (pk, sk), item in items.items():
        if "#IMPORT#" in pk:
            external[item["member_id"]["S"]] = pk.split("#IMPORT#", 1)[1]
        elif sk == "PROFILE":
            member(pk).update(balance=int(item["balance"]["N"]), tier=item["tier_code"]["S"],
                              growth=int(item["growth"]["N"]), until=item.get("tier_valid_until", {}).get("S"))
        elif sk.startswith("LOT#"):
            member(pk)["lots"].append((int(item["earned"]["N"]), int(item["remaining"]["N"]), sk.split("#")[1]))
        elif sk.startswith("ENTRY#"):
            member(pk)["entries"].append((item["entry_kind"]["S"], int(item["points"]["N"])))
    return {external[m]: {k: sorted(v) if isinstance(v, list) else v for k, v in held.items()}
            for m, held in by_member.items() if m in external}


def measured(label: str, started: float, members: int) -> None:
    """The import's throughput, printed for the README (run with -s); never a condition of the test."""
    seconds = time.monotonic() - started
    print(f"\n[import] {label}: {members} members in {seconds:.1f} s = {members / seconds:.1f} members/s", flush=True)


def cli(endpoint, table_name, *args) -> subprocess.Popen:
    env = os.environ | {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "TABLE_NAME": table_name, "PHONE_HASH_KEY": KEY,
                        "SIYU_IMPORT_RATE": "0", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "infra.cli", "--dynamodb-url", endpoint, "import", "members",
                             *args, "--now", NOW.isoformat(), "--progress"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "members.csv"
    return path, generate(path, BIG)


def test_a_big_import_matches_the_file_and_a_second_import_writes_nothing(fresh_table, store, big_file, dynamodb,
                                                                          dynamodb_endpoint):
    path, expected = big_file
    brand_id = f"imp{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand_id, "导入品牌", BAIGUOYUAN_LADDER))
    table_name = os.environ["TABLE_NAME"]
    started = time.monotonic()
    done = cli(dynamodb_endpoint, table_name, str(path), "--brand", brand_id)
    out, err = done.communicate(timeout=RUN_TIMEOUT)
    assert done.returncode == 0, err
    measured("first import", started, BIG)
    summary = json.loads(out)
    assert (summary["imported"], summary["rejectedCount"], summary["points"]) == (BIG, 0, sum(expected.values()))
    assert f"{BIG}/{BIG} rows" in err  # the progress bar reached the end
    before = brand_items(dynamodb, table_name, brand_id)
    members = members_by_external_id(before)
    assert {e: m["balance"] for e, m in members.items()} == expected
    for held in members.values():
        assert held["balance"] == sum(remaining for _, remaining, _ in held["lots"]) == \
            sum(points for _, points in held["entries"])
    started = time.monotonic()
    again = cli(dynamodb_endpoint, table_name, str(path), "--brand", brand_id)
    out, err = again.communicate(timeout=RUN_TIMEOUT)
    assert again.returncode == 0, err
    measured("the same file again (reads only)", started, BIG)
    assert (json.loads(out)["imported"], json.loads(out)["skipped"]) == (0, BIG)
    assert brand_items(dynamodb, table_name, brand_id) == before


def test_an_import_killed_halfway_then_rerun_ends_as_one_clean_run(fresh_table, store, big_file, dynamodb,
                                                                   dynamodb_endpoint):
    path, expected = big_file
    table_name = os.environ["TABLE_NAME"]
    clean, crashed = f"cln{uuid.uuid4().hex[:8]}", f"crs{uuid.uuid4().hex[:8]}"
    for brand_id in (clean, crashed):
        store.put_brand(BrandConfig(brand_id, "导入品牌", BAIGUOYUAN_LADDER))
    clean_run = cli(dynamodb_endpoint, table_name, str(path), "--brand", clean)
    _, err = clean_run.communicate(timeout=RUN_TIMEOUT)  # read as it runs: a full stderr pipe would stall the CLI
    assert clean_run.returncode == 0, err

    killed = cli(dynamodb_endpoint, table_name, str(path), "--brand", crashed)
    deadline = time.monotonic() + RUN_TIMEOUT
    while imported_member(crashed, f"OLD{BIG // 2:06d}") is None:  # about half the file has landed
        assert killed.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    landed = len(members_by_external_id(brand_items(dynamodb, table_name, crashed)))
    assert BIG // 2 <= landed < BIG

    started = time.monotonic()
    rerun = cli(dynamodb_endpoint, table_name, str(path), "--brand", crashed)
    out, err = rerun.communicate(timeout=RUN_TIMEOUT)
    assert rerun.returncode == 0, err
    measured(f"rerun after the kill ({landed} had landed)", started, BIG - landed)
    assert json.loads(out)["imported"] == BIG - landed
    after_crash, after_clean = brand_items(dynamodb, table_name, crashed, clean)
    assert members_by_external_id(after_crash) == members_by_external_id(after_clean)

    # Nothing more and nothing less than the clean run wrote: as many items, of the same kinds.
    def shape(items):
        return sorted((pk.split("#")[2], sk.split("#")[0]) for pk, sk in items)

    assert shape(after_crash) == shape(after_clean)


def test_an_imported_opening_balance_pages_in_the_history_and_staff_can_reverse_it(store, brand_id):
    text = ("external_id,phone,lots\n"
            "YZ-9,13800139000,300@2027-06-30;200@2027-02-28\n")
    assert run_text(store, brand_id, text).imported == 1
    member_id = imported_member(brand_id, "YZ-9")
    points.earn(store, brand_id, member_id, points=50, now=NOW + timedelta(days=1),
                expires_at=NOW + timedelta(days=366), idempotency_key="after-import")
    # One entry a page, newest first: the later earning, then the two imported lots (ids that do not start with
    # their time), and the cursor after each leads on.
    seen, after = [], None
    while True:
        history = store.history(brand_id, member_id, first=1, after=after)
        seen += [e.points for e in history.items]
        if not history.has_next_page:
            break
        after = history.end_cursor
    assert seen[0] == 50 and sorted(seen[1:]) == [200, 300]
    # Staff take back one imported lot: its entry is found by its id.
    imported = next(e for e in store.entries(brand_id, member_id) if e.kind is EntryKind.IMPORT and e.points == 200)
    assert store.get_entry(brand_id, member_id, imported.entry_id) == imported
    points.reverse(store, brand_id, member_id, entry_id=imported.entry_id, now=NOW + timedelta(days=2),
                   idempotency_key="undo-import", reason="导入有误")
    assert store.load_member(brand_id, member_id).points.balance == 350
    totals = points.reconcile(store, brand_id, member_id)
    assert totals["balance"] == totals["entries"] == totals["lots"] == 350
