"""Every example in the README works as written against a started local stack: the shell examples copied
verbatim into a shell, and each GraphQL example sent as the demo member (or staff, for staff fields).

The examples are the README's ```sh blocks, run in order with bash (`set -e`) in one temporary directory, with
what a reader has after `make dev`: MEMBER_TOKEN and STAFF_TOKEN exported (the lines it prints) and `.venv` at
hand. The only change is the port: the stack here listens on free ports, so `127.0.0.1:8000` becomes its port and
the `siyu` command is pointed at its DynamoDB (AWS_ENDPOINT_URL_DYNAMODB, which `siyu` honours). A block that cannot
run here says why in an HTML comment right above it (`<!-- not run by tests/integration/test_readme_examples.py:
... -->`); there are few, and each names its reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest

from tests.integration.test_local_stack import ROOT, free_port, start_stack, until_ready

README = ROOT / "README.md"
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```sh\n(?P<code>.*?)\n```", re.S)
NOT_RUN = "<!-- not run by tests/integration/test_readme_examples.py:"


def shell_examples() -> list[tuple[int, str, str]]:
    """(line, code, the line above) for every ```sh block."""
    text = README.read_text(encoding="utf-8")
    return [(text[:m.start("code")].count("\n"), m.group("code"), m.group("before")) for m in BLOCK.finditer(text)]


def test_the_readme_has_shell_examples_and_says_why_of_each_one_not_run():
    examples = shell_examples()
    skipped = [before for _, _, before in examples if before.startswith(NOT_RUN)]
    assert len(examples) - len(skipped) >= 4
    assert all(before.rstrip().endswith("-->") and len(before) > len(NOT_RUN) + 10 for before in skipped)
    assert len(skipped) <= 5  # make dev/test, two deployed-stack commands, the deployed bus, the long fuzz run


@pytest.fixture
def readme_stack(tmp_path):
    port, dynamodb_port = free_port(), free_port()
    # Bound to every interface, as `make dev HOST=0.0.0.0` for a phone on the LAN: still reached on 127.0.0.1.
    process = start_stack("--host", "0.0.0.0", "--port", str(port), "--dynamodb-port", str(dynamodb_port),
                          "--data-dir", str(tmp_path / "siyu-data"))
    output = until_ready(process)
    assert "siyu: ready" in output, output
    assert f"http://127.0.0.1:{port}/graphql" in output
    yield port, dynamodb_port, output
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)


@pytest.mark.stack
def test_every_shell_example_in_the_readme_runs_as_written(readme_stack, tmp_path):
    port, dynamodb_port, output = readme_stack
    exports = dict(re.findall(r"^export (MEMBER_TOKEN|STAFF_TOKEN)=(\S+)$", output, re.M))
    assert set(exports) == {"MEMBER_TOKEN", "STAFF_TOKEN"}
    workdir = tmp_path / "reader"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TABLE_NAME"}
    env.update(exports, AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{dynamodb_port}")

    ran = 0
    for line, code, before in shell_examples():
        if before.startswith(NOT_RUN):
            continue
        script = code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(["bash", "-e", "-c", script], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=120)
        where = f"README.md line {line}:\n{code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert done.returncode == 0, where
        assert '"errors"' not in done.stdout and "Traceback" not in done.stderr, where
        if "Access-Control-Request-Method" in code:
            allowed = "localhost:5173" in code
            status = done.stdout.splitlines()[0]
            headers = done.stdout.lower()
            if allowed:
                assert " 204" in status and "access-control-allow-origin: http://localhost:5173" in headers, where
                assert "access-control-allow-headers: authorization, content-type" in headers, where
            else:
                assert " 403" in status and "access-control-" not in headers, where
        elif code.startswith("curl"):
            assert "data" in json.loads(done.stdout), where
        ran += 1
    assert ran >= 4

    # The GraphQL examples, each operation of each ```graphql block, as the demo member (staff for staff fields).
    text = README.read_text(encoding="utf-8")
    operations = [op for block in re.findall(r"```graphql\n(.*?)\n```", text, re.S) for op in block.split("\n\n")]
    assert len(operations) >= 6
    for operation in operations:
        body = _post(port, operation, exports["MEMBER_TOKEN"])
        if any(e.get("extensions", {}).get("code") == "FORBIDDEN" for e in body.get("errors", [])):
            body = _post(port, operation, exports["STAFF_TOKEN"])
        assert "errors" not in body, (operation, body)
        results = list(body["data"].values())
        # A typed refusal is a documented answer, but not what these examples show.
        assert not any(isinstance(r, dict) and r.get("__typename") in ("InvalidInput", "InvalidLoginCode",
                                                                        "BrandNotConfigured") for r in results), body


def _post(port: int, query: str, token: str) -> dict:
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
                                     method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())
