"""`make dev`'s entry point, started for real in a subprocess and asked over HTTP who the demo member is."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_stack(*args: str) -> subprocess.Popen:
    """`python -m infra.local` with `args`; a test gives it a data directory of its own (never the clone's .siyu)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("TABLE_NAME",)}
    return subprocess.Popen([sys.executable, "-m", "infra.local", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def until_ready(process: subprocess.Popen, timeout: float = 60) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "siyu: ready" in line:
            break
    else:
        process.kill()
    return "".join(lines)


@pytest.fixture
def local_stack(tmp_path):
    port, dynamodb_port = free_port(), free_port()
    process = start_stack("--port", str(port), "--dynamodb-port", str(dynamodb_port),
                          "--data-dir", str(tmp_path / "siyu-data"))
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "siyu: ready" in line:
            break
    else:
        process.kill()
    yield port, "".join(lines), process, f"http://127.0.0.1:{dynamodb_port}"
    if process.poll() is None:
        process.kill()
        process.wait(10)


def post(port: int, query: str, token: str | None = None) -> dict:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.stack
def test_make_dev_serves_the_demo_member_from_dynamodb_and_stops_on_ctrl_c(local_stack):
    port, output, process, _ = local_stack
    assert "siyu: ready" in output, output
    member_token = re.search(r"^siyu: member token: (\S+)$", output, re.M).group(1)
    staff_token = re.search(r"^siyu: staff token: (\S+)$", output, re.M).group(1)

    body = post(port, "{ me { points { balance } tier { code } } }", member_token)
    assert body == {"data": {"me": {"points": {"balance": 2300}, "tier": {"code": "JIN"}}}}

    me = post(port, "{ me { id } }", member_token)["data"]["me"]["id"]
    staff_view = post(port, f'{{ member(id: "{me}") {{ phoneMasked tier {{ name }} }} }}', staff_token)
    assert staff_view == {"data": {"member": {"phoneMasked": "138****8000", "tier": {"name": "金卡"}}}}

    # The local WeChat client signs anyone in: the printed example works as printed.
    example = re.search(r"any code signs in: (mutation .*)$", output, re.M).group(1)
    signed_in = post(port, example)["data"]["loginWithWechat"]
    assert post(port, "{ me { phoneMasked tier { name } } }", signed_in["token"]) == \
        {"data": {"me": {"phoneMasked": None, "tier": {"name": "普卡"}}}}

    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                                       headers={"accept": "text/html"}), timeout=10) as page:
        assert "graphiql" in page.read().decode().lower()

    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "local stack stopped" in rest


@pytest.mark.stack
def test_an_order_published_with_siyu_events_put_flows_through_the_engine_into_me(local_stack, tmp_path):
    port, output, process, dynamodb_url = local_stack
    member_token = re.search(r"^siyu: member token: (\S+)$", output, re.M).group(1)
    me = post(port, "{ me { id points { balance } growth tier { code } } }", member_token)["data"]["me"]
    assert (me["points"]["balance"], me["growth"], me["tier"]["code"]) == (2300, 2300, "JIN")

    order = {"detail-type": "order.paid", "source": "siyu.shop",
             "detail": {"brandId": "baiguoyuan", "memberId": me["id"], "orderId": "demo-order-1",
                        "amountFen": 280000, "channel": "miniprogram"}}
    (tmp_path / "order.json").write_text(json.dumps(order))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    siyu = [sys.executable, "-m", "infra.cli", "--dynamodb-url", dynamodb_url]
    dry = subprocess.run([*siyu, "simulate", str(tmp_path / "order.json")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    simulated = json.loads(dry.stdout)
    # points: the award and its once-per-order marker; tiers: growth, marker, the upgrade and its tier.changed, the
    # 钻卡 gift pack and its marker; segments: the member's judgement (still ACTIVE: the demo orders made them so)
    # and the sweep's call back when it would change. Not a first order, so coupons mark nothing.
    assert simulated["status"] == "simulated" and simulated["plugins"] == {"points": 2, "tiers": 6, "segments": 2}
    unchanged = post(port, "{ me { points { balance } tier { code } } }", member_token)["data"]["me"]
    assert unchanged == {"points": {"balance": 2300}, "tier": {"code": "JIN"}}
    published = subprocess.run([*siyu, "events", "put", str(tmp_path / "order.json")], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=60)
    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["status"] == "applied"

    after = post(port, "{ me { points { balance } growth tier { code } nextTier { code } coupons { name } } }",
                 member_token)
    coupons = sorted(coupon["name"] for coupon in after["data"]["me"].pop("coupons"))
    assert after == {"data": {"me": {"points": {"balance": 5100}, "growth": 5100, "tier": {"code": "ZUAN"},
                                     "nextTier": None}}}
    # The 钻卡 gift pack joins the 银卡 and 金卡 packs the demo member's own orders earned on the way.
    assert coupons == ["金卡升级礼包", "钻卡升级礼包", "银卡升级礼包"]


@pytest.mark.stack
def test_siyu_sweep_runs_the_daily_sweep_for_a_chosen_date_with_a_progress_bar(local_stack):
    port, output, process, dynamodb_url = local_stack
    member_token = re.search(r"^siyu: member token: (\S+)$", output, re.M).group(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    # The demo member's oldest lot (1,200 points, earned 150 days ago) expires in 215 days; the sweep for the day
    # after writes it off, as the scheduled one would then (a date ahead of the clock: --allow-future). The day is
    # the brand's (Asia/Shanghai): from 16:00 UTC on, its calendar is a day ahead of UTC's.
    later = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=216)).date().isoformat()
    swept = subprocess.run([sys.executable, "-m", "infra.cli", "--dynamodb-url", dynamodb_url, "sweep", "--date",
                            later, "--allow-future", "--progress"], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
    assert swept.returncode == 0, swept.stderr
    summary = json.loads(swept.stdout)
    assert summary["status"] == "applied" and summary["members"] >= 1 and summary["effectCount"] > 0
    assert "members" in swept.stderr and "#" in swept.stderr  # the progress bar
    after = post(port, "{ me { points { balance lots { remaining } } } }", member_token)
    assert after == {"data": {"me": {"points": {"balance": 1100, "lots": [{"remaining": 800}, {"remaining": 300}]}}}}
