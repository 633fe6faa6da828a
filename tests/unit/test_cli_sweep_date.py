"""`siyu sweep --date` is held to the engine's rule: a sweep dated ahead of the clock is refused, unless the
operator says it is a replay (`--allow-future`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from infra import cli


def test_a_sweep_for_next_month_is_refused_without_allow_future(monkeypatch, capsys):
    monkeypatch.setenv("SIYU_EVENT_MAX_SKEW_MINUTES", "15")
    ran = []
    monkeypatch.setattr("infra.runtime.engine", lambda: ran.append(True))
    later = (datetime.now(timezone.utc) + timedelta(days=30)).date().isoformat()
    args = cli.build_parser().parse_args(["sweep", "--date", later])
    assert cli.cmd_sweep(args) == 2
    assert ran == []  # nothing ran: no engine was even built
    assert "--allow-future" in capsys.readouterr().err


def test_allow_future_lets_a_replay_run_the_future_day(monkeypatch):
    monkeypatch.setenv("SIYU_EVENT_MAX_SKEW_MINUTES", "15")
    swept = []

    class Engine:
        def sweep(self, sweep, progress=None):
            swept.append(sweep.time)
            from rules.engine import Summary
            return Summary(sweep.event_id, "applied", "Scheduled Event", members=0)

    monkeypatch.setattr("infra.runtime.engine", lambda: Engine())
    later = (datetime.now(timezone.utc) + timedelta(days=30)).date()
    args = cli.build_parser().parse_args(["sweep", "--date", later.isoformat(), "--allow-future"])
    assert cli.cmd_sweep(args) == 0
    assert len(swept) == 1 and swept[0] > datetime.now(timezone.utc)


def test_a_past_date_needs_no_flag(monkeypatch):
    monkeypatch.setenv("SIYU_EVENT_MAX_SKEW_MINUTES", "15")
    swept = []

    class Engine:
        def sweep(self, sweep, progress=None):
            swept.append(sweep.time)
            from rules.engine import Summary
            return Summary(sweep.event_id, "applied", "Scheduled Event", members=0)

    monkeypatch.setattr("infra.runtime.engine", lambda: Engine())
    args = cli.build_parser().parse_args(["sweep", "--date", "2026-03-01"])
    assert cli.cmd_sweep(args) == 0 and len(swept) == 1
