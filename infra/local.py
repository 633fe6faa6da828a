"""The local stack behind `make dev`: embedded DynamoDB, the table, the demo brand, GraphQL with GraphiQL.

    python -m infra.local [--host 127.0.0.1] [--port 8000] [--dynamodb-port 0] [--data-dir .siyu] [--reset]

Everything it starts runs in this one process, so Ctrl-C stops all of it. The data is saved under `--data-dir`
(`.siyu/`, gitignored) and loaded on the next start; `--reset` (`make dev RESET=1`) starts clean. The member centre
(web/member, built by `make web`) is served at /m/, GraphiQL (built from npm packages, no CDN) at /graphql.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path

import boto3


ROOT = Path(__file__).resolve().parents[1]


def _web_routes(web_dir: Path) -> tuple[list, str | None]:
    """Static routes for the built front ends, and the offline GraphiQL page (None when not built)."""
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    routes: list = []
    member, graphiql = web_dir / "member", web_dir / "graphiql"
    if (member / "index.html").exists():
        routes.append(Route("/m", lambda request: RedirectResponse("/m/")))
        routes.append(Mount("/m", StaticFiles(directory=member, html=True)))
    console = web_dir / "console"
    if (console / "index.html").exists():
        routes.append(Route("/console", lambda request: RedirectResponse("/console/")))
        routes.append(Mount("/console", StaticFiles(directory=console, html=True)))
    page = None
    if (graphiql / "index.html").exists():
        routes.append(Mount("/graphiql", StaticFiles(directory=graphiql)))
        page = (graphiql / "index.html").read_text(encoding="utf-8")
    return routes, page


def _lan_address() -> str | None:
    """This machine's address on the LAN (for a phone), found without sending anything."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
    except OSError:
        return None


def _local_environment(dynamodb_endpoint: str) -> None:
    os.environ.setdefault("SIYU_STAGE", "local")
    os.environ.setdefault("TABLE_NAME", "siyu-local")
    os.environ.setdefault("EVENT_BUS_NAME", "local")
    # moto accepts any credentials; real ones must never be needed (or used) locally.
    os.environ["AWS_ACCESS_KEY_ID"] = "local"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint
    # The `siyu` CLI loads the partner plugins this stack loads (infra/stack_allow_list.py).
    from infra import stack_allow_list

    stack_allow_list.record_local(dynamodb_endpoint)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--dynamodb-port", type=int, default=8001,
                        help="where the embedded DynamoDB listens (the `siyu` command looks there); 0 picks a free port")
    parser.add_argument("--no-demo", action="store_true", help="skip loading the demo brand")
    parser.add_argument("--data-dir", default=str(ROOT / ".siyu"),
                        help="where the local DynamoDB's data is saved between runs ('' keeps it in memory only)")
    parser.add_argument("--reset", action="store_true", help="start with no saved data (the demo is loaded afresh)")
    parser.add_argument("--web-dir", default=str(ROOT / "build" / "web"),
                        help="the built front ends (`make web`): member/ is served at /m/, graphiql/ is GraphiQL")
    args = parser.parse_args(argv)

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    data_file = Path(args.data_dir) / "dynamodb.pickle" if args.data_dir else None
    if data_file is not None and args.reset and data_file.exists():
        data_file.unlink()
        print(f"siyu: reset: removed {data_file}", flush=True)
    dynamodb = EmbeddedDynamoDB(port=args.dynamodb_port, data_file=data_file).start()
    if data_file is not None:
        state = f"loaded {dynamodb.loaded_items} items from" if dynamodb.loaded_items else "saving to"
        print(f"siyu: local data {state} {data_file} (`make dev RESET=1` starts clean)", flush=True)
    try:
        _local_environment(dynamodb.endpoint)
        return _serve(args, dynamodb.endpoint)
    except KeyboardInterrupt:
        # uvicorn re-raises the Ctrl-C it handled once it has shut down; that is a clean stop here.
        return 0
    finally:
        dynamodb.stop()
        print("siyu: local stack stopped", flush=True)


def _serve(args: argparse.Namespace, endpoint: str) -> int:
    import uvicorn

    from api.auth import Principal, issue_token
    from infra import demo, settings, table
    from infra.dynamo_store import utcnow

    config = settings.reload()
    table.create_table(boto3.client("dynamodb", endpoint_url=endpoint, region_name=config.region), config.table_name)

    from api.app import build_app, store

    now = utcnow()
    tokens: dict[str, str] = {}
    if not args.no_demo:
        members = demo.load(store(), now=now, phone_key=config.phone_hash_key)
        first_masked, first_id = next(iter(members.items()))
        sign = lambda p: issue_token(p, secret=config.jwt_secret, issuer=config.jwt_issuer, now=now,  # noqa: E731
                                     ttl=config.token_lifetime(p.role))  # the longest the API accepts
        tokens["member"] = sign(Principal("member", first_id, demo.DEMO_BRAND))
        tokens["staff"] = sign(Principal("staff", "demo-staff", demo.DEMO_BRAND))
        print(f"siyu: demo brand {demo.DEMO_BRAND} loaded with {len(members)} members "
              f"(the member token below signs in {first_masked}, id {first_id})", flush=True)

    routes, graphiql_page = _web_routes(Path(args.web_dir))
    if graphiql_page is not None:
        # GraphiQL's first tab runs `me` as the demo member: the page gets the token the terminal shows.
        import json

        page_config = json.dumps({"memberToken": tokens.get("member"), "staffToken": tokens.get("staff")})
        graphiql_page = graphiql_page.replace("<!--siyu-config-->", f"<script>window.__SIYU__ = {page_config}</script>")
    else:
        # Never the CDN page strawberry ships: it is blank offline or where unpkg.com is blocked.
        graphiql_page = ("<!doctype html><meta charset=utf-8><title>Siyu GraphiQL</title><p>GraphiQL is not built "
                         "here: run <code>make web</code> (<code>make dev</code> does) and restart. POST /graphql "
                         "works meanwhile.</p>")
    app = build_app(config, graphiql_page=graphiql_page, routes=routes)

    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{shown_host}:{args.port}/graphql"
    print(f"siyu: DynamoDB (embedded moto) at {endpoint}, table {config.table_name}", flush=True)
    print("siyu: events: `siyu events put order.json` publishes one; the daily sweep fires at brand-local "
          "midnight (16:00 UTC), or now with `siyu sweep --date YYYY-MM-DD`", flush=True)
    for role, token in tokens.items():
        print(f"siyu: {role} token: {token}", flush=True)
    for role, token in tokens.items():
        # Copy these into a shell: the README's examples use $MEMBER_TOKEN and $STAFF_TOKEN.
        print(f"export {role.upper()}_TOKEN={token}", flush=True)
    if routes:
        print(f"siyu: member centre (H5) at http://{shown_host}:{args.port}/m/", flush=True)
        if (Path(args.web_dir) / "console" / "index.html").exists():
            print(f"siyu: staff console at http://{shown_host}:{args.port}/console/ (sign in with the staff token "
                  "above)", flush=True)
    else:
        print("siyu: the member centre and offline GraphiQL are not built: run `make web` (make dev does)",
              flush=True)
    if args.host in ("0.0.0.0", "::"):
        lan = _lan_address()
        if lan:
            print(f"siyu: on a phone on this LAN: http://{lan}:{args.port}/m/", flush=True)
    if config.wechat_client == "local":
        print("siyu: WeChat login is simulated locally, any code signs in: mutation { loginWithWechat(brandId: "
              f'"{demo.DEMO_BRAND}", code: "alice") {{ ... on LoggedIn {{ token }} }} }}', flush=True)
    if tokens:
        print("siyu: try it:\n"
              f"  curl -s {url} -H 'content-type: application/json' -H 'authorization: Bearer {tokens['member']}' \\\n"
              "    -d '{\"query\": \"{ me { phoneMasked points { balance } tier { code name } } }\"}'", flush=True)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                # Only now is the port accepting connections: scripts and tests wait for this line.
                print(f"siyu: ready: GraphQL and GraphiQL at {url} (Ctrl-C stops everything)", flush=True)

    server = Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))
    scheduler = Scheduler()
    scheduler.start()
    poller = StreamPoller(endpoint, config.table_name, config.region)
    poller.start()
    try:
        server.run()
    finally:
        poller.stop()
        scheduler.stop()
    return 0 if server.started else 1


class StreamPoller:
    """The stream's event source mapping, locally: the embedded table's change stream read through the DynamoDB
    Streams API every second and handed to the same aggregator as in AWS (infra/stream.py), so `insights` answers
    with what was just applied."""

    INTERVAL_SECONDS = 1.0

    def __init__(self, endpoint: str, table_name: str, region: str) -> None:
        import threading

        self._streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
        self._table_name = table_name
        self._positions: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="siyu-stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def poll_once(self) -> int:
        """Hand what the stream holds beyond what was read to the aggregator; how many records were read."""
        from infra import runtime, stream

        return stream.poll(self._streams, self._table_name, self._positions, runtime.store())

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL_SECONDS):
            try:
                self.poll_once()
            except Exception as error:  # noqa: BLE001 - a failed poll is tried again; it must not stop the stack
                print(f"siyu: reading the table's stream failed: {type(error).__name__}", flush=True)


class Scheduler:
    """EventBridge's schedules, locally: the same scheduled events, delivered to the same handler."""

    DAILY_UTC_HOUR = 16  # brand-local midnight in Asia/Shanghai, as in serverless.yml

    def __init__(self) -> None:
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="siyu-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from datetime import datetime, timezone

        while not self._stop.is_set():
            now = datetime.now(timezone.utc)
            next_hour = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
            if self._stop.wait((next_hour - now).total_seconds()):
                return
            from rules.family import families

            rule = "siyu-local-daily-sweep" if next_hour.hour == self.DAILY_UTC_HOUR else None
            # The families' own sweeps (the crisis family's alert deadlines) run hourly, as in serverless.yml.
            hourly = [f"siyu-local-{sweep.resource}" for sweep in families().sweeps.values()]
            for name in filter(None, [rule, *hourly]):
                self._fire(name, next_hour)

    @staticmethod
    def _fire(rule: str, at) -> None:
        import uuid

        from infra.runtime import deliver

        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "local", "time": at.isoformat().replace("+00:00", "Z"), "region": "local",
                 "resources": [f"arn:aws:events:local:000000000000:rule/{rule}"], "detail": {}}
        try:
            summary = deliver(event)
            print(f"siyu: {rule} at {at:%Y-%m-%d %H:%M}Z: {summary['status']}, "
                  f"{len(summary['effects'])} effects", flush=True)
        except Exception as error:  # noqa: BLE001 - a failed sweep must not stop the local stack
            print(f"siyu: {rule} failed: {type(error).__name__}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
