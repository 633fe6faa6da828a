"""The local stack behind `make dev`: embedded DynamoDB, the table, the demo brand, GraphQL with GraphiQL.

    python -m infra.local [--host 127.0.0.1] [--port 8000] [--dynamodb-port 0]

Everything it starts runs in this one process, so Ctrl-C stops all of it.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

import boto3


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--dynamodb-port", type=int, default=8001,
                        help="where the embedded DynamoDB listens (the `siyu` command looks there); 0 picks a free port")
    parser.add_argument("--no-demo", action="store_true", help="skip loading the demo brand")
    args = parser.parse_args(argv)

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    dynamodb = EmbeddedDynamoDB(port=args.dynamodb_port).start()
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
    from infra.store import utcnow

    config = settings.reload()
    table.create_table(boto3.client("dynamodb", endpoint_url=endpoint, region_name=config.region), config.table_name)

    from api.app import app, store

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

    url = f"http://{args.host}:{args.port}/graphql"
    print(f"siyu: DynamoDB (embedded moto) at {endpoint}, table {config.table_name}", flush=True)
    print("siyu: events: `siyu events put order.json` publishes one; the daily sweep fires at brand-local "
          "midnight (16:00 UTC), or now with `siyu sweep --date YYYY-MM-DD`", flush=True)
    for role, token in tokens.items():
        print(f"siyu: {role} token: {token}", flush=True)
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
    try:
        server.run()
    finally:
        scheduler.stop()
    return 0 if server.started else 1


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
            rule = "siyu-local-daily-sweep" if next_hour.hour == self.DAILY_UTC_HOUR else None
            for name in filter(None, [rule, "siyu-local-alert-sweep"]):
                self._fire(name, next_hour)

    @staticmethod
    def _fire(rule: str, at) -> None:
        import uuid

        from events.handler import handler

        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                 "account": "local", "time": at.isoformat().replace("+00:00", "Z"), "region": "local",
                 "resources": [f"arn:aws:events:local:000000000000:rule/{rule}"], "detail": {}}
        try:
            summary = handler(event, None)
            print(f"siyu: {rule} at {at:%Y-%m-%d %H:%M}Z: {summary['status']}, "
                  f"{len(summary['effects'])} effects", flush=True)
        except Exception as error:  # noqa: BLE001 - a failed sweep must not stop the local stack
            print(f"siyu: {rule} failed: {type(error).__name__}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
