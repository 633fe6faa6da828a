"""`make dev` keeps its data across restarts (saved under the data directory), `RESET=1` starts clean, and the
demo members keep their ids, so a token printed yesterday still finds its member."""

from __future__ import annotations

import re
import signal

import pytest

from tests.integration.test_local_stack import free_port, post, start_stack, until_ready

LOGIN = 'mutation { loginWithWechat(brandId: "baiguoyuan", code: "persistent-pat") { ... on LoggedIn { created ' \
        'token member { id } } } }'


def run_once(data_dir, *extra: str, then) -> tuple[str, object]:
    port = free_port()
    process = start_stack("--port", str(port), "--dynamodb-port", "0", "--data-dir", str(data_dir), *extra)
    try:
        output = until_ready(process)
        assert "siyu: ready" in output, output
        result = then(port, output)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: the stack saves on the way out
        process.communicate(timeout=30)
    assert process.returncode == 0
    return output, result


def member_token(output: str) -> str:
    return re.search(r"^export MEMBER_TOKEN=(\S+)$", output, re.M).group(1)


@pytest.mark.stack
def test_a_member_signed_up_before_a_restart_is_still_there_after_it_and_reset_starts_clean(tmp_path):
    def sign_up(port, output):
        first = post(port, LOGIN)["data"]["loginWithWechat"]
        assert first["created"] is True
        spent = post(port, 'mutation { redeemPoints(input: {points: 300, idempotencyKey: "before-restart"}) '
                           '{ ... on PointsChanged { balance } } }', member_token(output))
        assert spent["data"]["redeemPoints"]["balance"] == 2000
        return first

    first_output, first = run_once(tmp_path, then=sign_up)
    assert (tmp_path / "dynamodb.pickle").exists()

    def come_back(port, output):
        assert "loaded" in output
        again = post(port, LOGIN)["data"]["loginWithWechat"]
        # Yesterday's tokens still work: the member is there, under the same id.
        me = post(port, "{ me { id } }", first["token"])["data"]["me"]
        demo = post(port, "{ me { id points { balance } } }", member_token(first_output))["data"]["me"]
        return again, me, demo

    _, (again, me, demo) = run_once(tmp_path, then=come_back)
    assert again["created"] is False and again["member"]["id"] == first["member"]["id"] == me["id"]
    assert demo["points"]["balance"] == 2000

    def fresh(port, output):
        return (post(port, LOGIN)["data"]["loginWithWechat"],
                post(port, "{ me { id points { balance } } }", member_token(output))["data"]["me"])

    reset_output, (newcomer, demo_after_reset) = run_once(tmp_path, "--reset", then=fresh)
    assert "reset" in reset_output
    assert newcomer["created"] is True and newcomer["member"]["id"] != first["member"]["id"]
    # The demo members are loaded afresh, under the same ids as before.
    assert demo_after_reset == {"id": demo["id"], "points": {"balance": 2300}}
