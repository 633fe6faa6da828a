"""`siyu`: the operator's command line.

    siyu token member --brand baiguoyuan --member m_123     a member token (local development secret)
    siyu token staff --brand baiguoyuan                      a staff token
    siyu events put order.json                               publish an event: it runs through the engine
    siyu simulate order.json                                 the dry run: effects and explanations, nothing written
    siyu sweep --date 2027-03-01                             run the daily sweep for a brand-local date
    siyu sweep --date 2027-03-01 --allow-future              ... even one ahead of the clock (replays, demos)
    siyu events problems --brand baiguoyuan                  rejected and failed events, newest first
    siyu import members members.csv --brand baiguoyuan       bring members over from another system (README)

Without `--cloud`, commands talk to the local stack's embedded DynamoDB (`make dev`, port 8001 by default);
with it, to the table in `TABLE_NAME` using the usual AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence
from zoneinfo import ZoneInfo

LOCAL_DYNAMODB = "http://127.0.0.1:8001"


def _environment(args: argparse.Namespace) -> None:
    if getattr(args, "cloud", False):
        _stack_plugins(args)
        return
    os.environ.setdefault("SIYU_STAGE", "local")
    os.environ.setdefault("TABLE_NAME", "siyu-local")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = args.dynamodb_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB",
                                                                               LOCAL_DYNAMODB)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("EVENT_BUS_NAME", "local")
    _stack_plugins(args)


def _stack_plugins(args: argparse.Namespace) -> None:
    """Load the partner plugins the stack loads, run as the stack runs them (a set SIYU_PARTNER_PLUGINS wins)."""
    if "SIYU_PARTNER_PLUGINS" in os.environ or args.command == "token":
        return
    from infra import stack_allow_list

    if getattr(args, "cloud", False):
        stage = os.environ.get("SIYU_STAGE", "dev")
        try:
            carried = stack_allow_list.deployed(stage)
        except Exception as error:  # noqa: BLE001 - no such stack, no permission: say so, load no partner plugin
            print(f"siyu: could not read the allow-list of siyu-{stage}-events ({type(error).__name__}); "
                  "set SIYU_PARTNER_PLUGINS to the stack's", file=sys.stderr)
            carried = {}
    else:
        carried = stack_allow_list.local(os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    os.environ.update(carried)


def _read_event(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    event = json.loads(text)
    # A hand-written file may leave out what EventBridge adds; fill it in so it reads like a delivery.
    if isinstance(event, dict) and "detail" in event:
        event.setdefault("id", str(uuid.uuid4()))
        event.setdefault("time", datetime.now(timezone.utc).isoformat())
        detail = event["detail"] if isinstance(event["detail"], dict) else {}
        # A brand's own source, so the event passes the publisher check a deployed stage applies.
        event.setdefault("source", f"siyu.brand.{detail['brandId']}.cli" if isinstance(detail.get("brandId"), str)
                         else "siyu.cli")
    return event


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_token(args: argparse.Namespace) -> int:
    from api.auth import Principal, issue_token
    from infra.settings import settings

    # Checked before reading the settings: outside local they refuse to load without secrets, and a token signed
    # with the published development secret must never be minted for a deployed stage.
    if os.environ.get("SIYU_STAGE", "local") != "local" and not os.environ.get("JWT_SECRET"):
        print("siyu: outside the local stage, set JWT_SECRET to sign tokens", file=sys.stderr)
        return 2
    try:
        config = settings()
    except RuntimeError as problem:
        print(f"siyu: {problem}", file=sys.stderr)
        return 2
    subject = args.member if args.role == "member" else args.staff
    if not subject:
        print("siyu: a member token needs --member", file=sys.stderr)
        return 2
    ttl = timedelta(hours=args.hours) if args.hours is not None else config.token_lifetime(args.role)
    if ttl <= timedelta(0) or ttl > config.token_lifetime(args.role):
        # The API refuses such a token anyway; minting one would only hand out something that does not work.
        print(f"siyu: a {args.role} token lives at most {config.token_lifetime(args.role)} on this stage",
              file=sys.stderr)
        return 2
    token = issue_token(Principal(args.role, subject, args.brand), secret=config.jwt_secret,
                        issuer=config.jwt_issuer, now=datetime.now(timezone.utc), ttl=ttl)
    print(token)
    return 0


def cmd_events_put(args: argparse.Namespace) -> int:
    from infra.runtime import deliver

    summary = deliver(_read_event(args.file))
    _print(summary)
    return 0 if summary["status"] in ("applied", "duplicate", "ignored") else 1


def cmd_simulate(args: argparse.Namespace) -> int:
    from infra import runtime

    summary = runtime.engine().simulate(_read_event(args.file)).as_dict()
    _print(summary)
    return 0 if summary["status"] in ("simulated", "duplicate", "ignored") else 1


def cmd_sweep(args: argparse.Namespace) -> int:
    from infra import runtime
    from rules.events import SweepEvent

    from rules.time_sanity import SKEW_SETTING, TimeLimits

    day = date.fromisoformat(args.date)
    midnight = datetime.combine(day, time(0), ZoneInfo(args.timezone)).astimezone(timezone.utc)
    skew = TimeLimits.from_environment().max_skew
    if midnight - datetime.now(timezone.utc) > skew and not args.allow_future:
        # The engine refuses a scheduled envelope dated ahead of its clock (it would write off points that are
        # valid today); the operator's command is held to the same rule unless they say it is a replay.
        print(f"siyu: the sweep for {day} runs at {midnight.isoformat()}, ahead of the clock by more than "
              f"{skew} ({SKEW_SETTING}); it would write off points that are still valid today. Pass "
              "--allow-future to run it anyway (replays, demos)", file=sys.stderr)
        return 2
    sweep = SweepEvent(event_id=f"cli-sweep-{args.sweep}-{day.isoformat()}", sweep=args.sweep, time=midnight)

    from rules.family import families

    own = families().sweeps.get(args.sweep)
    if args.sweep != "daily" and own is None:
        print(f"unknown sweep {args.sweep!r}: daily or one of {sorted(families().sweeps)}", file=sys.stderr)
        return 2
    unit = "members" if own is None else own.counts

    def progress(done: int, total: int) -> None:
        if total >= 20 and sys.stderr.isatty() or args.progress:
            width = 30
            filled = width * done // max(total, 1)
            print(f"\rsweep {day}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}",
                  end="" if done < total else "\n", file=sys.stderr, flush=True)

    summary = runtime.engine().sweep(sweep, progress=progress).as_dict()
    _print({k: v for k, v in summary.items() if k != "effects"} | {"effectCount": len(summary["effects"])})
    return 0


def cmd_problems(args: argparse.Namespace) -> int:
    from infra import runtime

    page = runtime.store().problems(args.brand, first=args.first, after=None)
    _print([{"eventId": p.event_id, "status": p.status, "detailType": p.detail_type, "reason": p.reason,
             "field": p.field, "plugin": p.plugin, "receivedAt": p.received_at} for p in page.items])
    return 0


def cmd_import_members(args: argparse.Namespace) -> int:
    from infra import importer, runtime
    from infra.settings import settings
    from rules import importing

    path = Path(args.file)
    # The import's "now" is decided here, at the edge, once: every row is checked against the same instant.
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(timezone.utc)
    if now.tzinfo is None:
        print("siyu: --now needs a time zone, e.g. 2026-03-01T10:00:00+08:00", file=sys.stderr)
        return 2
    store = runtime.store()
    brand = store.get_brand(args.brand, fresh=True)
    if brand is None:
        print(f"siyu: brand {args.brand!r} is not configured", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8-sig", newline="") as f:
        total = sum(1 for line in f if line.strip())
        f.seek(0)
        fmt = args.format or importing.detect_format(path.name, f.read(64))
        f.seek(0)
        if fmt == "csv":
            total -= 1  # the header
        rate = importer.RateLimit(settings().import_items_per_second if args.rate is None else args.rate)
        show = args.progress or sys.stderr.isatty()

        def progress(report: "importer.ImportReport") -> None:
            if show and (report.rows % 50 == 0 or report.rows == total):
                width = 30
                filled = width * report.rows // max(total, 1)
                print(f"\rimport {path.name}: [{'#' * filled}{'.' * (width - filled)}] {report.rows}/{total} rows, "
                      f"{report.imported} imported, {report.skipped} already there, {len(report.rejected)} rejected",
                      end="" if report.rows < total else "\n", file=sys.stderr, flush=True)

        report = importer.run(store, brand, importing.read_rows(f, fmt), source=path.name, now=now,
                              phone_key=settings().phone_hash_key, rate=rate, progress=progress)
    result = report.as_dict()
    if args.report:
        Path(args.report).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    _print({k: v for k, v in result.items() if k != "rejected"} | {"rejectedCount": len(report.rejected)}
           | ({"rejected": result["rejected"][:20]} if not args.report else {}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="siyu", description="Siyu operator commands.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--cloud", action="store_true", help="use TABLE_NAME and AWS credentials, not the local stack")
    parser.add_argument("--dynamodb-url", help=f"the local DynamoDB endpoint (default {LOCAL_DYNAMODB})")
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="sign a member or staff token")
    token.add_argument("role", choices=["member", "staff"])
    token.add_argument("--brand", required=True)
    token.add_argument("--member")
    token.add_argument("--staff", default="cli-staff")
    token.add_argument("--hours", type=int, default=None,
                       help="lifetime (default and maximum: member 24, staff 12, or shorter if the stage says so)")
    token.set_defaults(run=cmd_token)

    events = commands.add_parser("events", help="publish events, list problems")
    event_commands = events.add_subparsers(dest="events_command", required=True)
    put = event_commands.add_parser("put", help="publish an EventBridge event from a JSON file (- for stdin)")
    put.add_argument("file")
    put.set_defaults(run=cmd_events_put)
    problems = event_commands.add_parser("problems", help="rejected and failed events of a brand")
    problems.add_argument("--brand")
    problems.add_argument("--first", type=int, default=20)
    problems.set_defaults(run=cmd_problems)

    simulate = commands.add_parser("simulate", help="dry-run an event against the stored state")
    simulate.add_argument("file")
    simulate.set_defaults(run=cmd_simulate)

    sweep = commands.add_parser("sweep", help="run a scheduled sweep for a brand-local date")
    sweep.add_argument("--date", required=True, help="YYYY-MM-DD")
    sweep.add_argument("--sweep", default="daily", help="daily, or a family's own sweep (alert-deadlines)")
    sweep.add_argument("--timezone", default="Asia/Shanghai")
    sweep.add_argument("--progress", action="store_true", help="always show the progress bar")
    sweep.add_argument("--allow-future", action="store_true",
                       help="run a sweep dated ahead of the clock (replays and demos only: it writes off points "
                            "that are valid today)")
    sweep.set_defaults(run=cmd_sweep)

    imports = commands.add_parser("import", help="bring members over from another loyalty system")
    import_commands = imports.add_subparsers(dest="import_command", required=True)
    members = import_commands.add_parser("members", help="import members from a CSV or JSONL file (README)")
    members.add_argument("file")
    members.add_argument("--brand", required=True)
    members.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file name or content")
    members.add_argument("--now", help="the instant expiries are checked against (ISO 8601; default: now)")
    members.add_argument("--rate", type=float, help="members per second at most (default: SIYU_IMPORT_RATE, 50)")
    members.add_argument("--report", help="write the full report (every rejected row) to this JSON file")
    members.add_argument("--progress", action="store_true", help="always show the progress bar")
    members.set_defaults(run=cmd_import_members)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _environment(args)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
