"""The engine: an event in, the enabled plugins asked in order, their effects written at once, follow-ups out.

    parse -> load the member (its state, and the markers of the event's own order: two small Queries whatever the
             member's history) -> plugins, in order, each seeing what the ones before it decided
          -> one TransactWriteItems with the event's processed record (which must not exist yet)
          -> follow-up events, with ids derived from the causing event

`simulate` runs the same evaluation and writes nothing. Every effect carries the plugin, its version, the rule
and the inputs that decided it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import random
import time
from dataclasses import dataclass, field as dc_field, fields, replace
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

from rules import consent, daily_totals, effects as fx
from rules import ids, ledger, plain
from rules.brands import BrandConfig
from rules.context import Decided, MemberView, RuleContext, member_view
from rules.errors import Busy, PluginFailed, SiyuError, StoreUnavailable, WriteConflict
from rules.events import BusinessEvent, Ignored, Rejected, SweepEvent, fingerprint, hook_for, parse
from rules.family import families
from rules.ledger import PointsState, Posting
from rules import fanout, sweeps
from rules.time_sanity import TimeLimits
from rules.members import MemberState
from rules.plugin_manager import PluginRegistry
from rules.sources import source_problem
from rules.persistence import (EventAlreadyProcessed, EventProblem, EventRecord, Marks, MemberChange, OrderAlreadyOpened,
                               Standing, Store)

logger = logging.getLogger("siyu.engine")

MAX_ATTEMPTS = 20
MAX_BACKOFF_SECONDS = 0.2
# Errors that only bad input can cause (a year-9999 time overflowing, text that cannot be encoded, nesting too
# deep): the event ends `failed` and is kept, instead of going round Lambda's retries to the dead-letter queue.
# Infrastructure errors (throttling, timeouts) are none of these and still raise, so Lambda retries them.
INPUT_ERRORS = (ArithmeticError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)

# The follow-ups any plugin may emit; each family adds its own (`Family.follow_ups`), and a plugin may always emit
# `<its name>.*`.
CORE_FOLLOW_UPS = frozenset({consent.NOTIFICATION_REQUESTED})


def follow_up_types() -> frozenset[str]:
    """Every follow-up detail type the built-in families and the core put on the bus (serverless.yml lists them)."""
    return CORE_FOLLOW_UPS | families().follow_ups


@dataclass(frozen=True)
class Decision:
    plugin: str
    version: str
    effect: fx.Effect
    # Why the engine did not carry this effect out (a notification without marketing consent); kept in the
    # event's recorded effects so staff can see what was asked and why it did not happen.
    suppressed: str | None = None

    def explanation(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "version": self.version, "rule": self.effect.rule,
                "inputs": fx.described_inputs(self.effect)}

    def describe(self) -> dict[str, Any]:
        body = fx.describe(self.effect, {"plugin": self.plugin, "version": self.version})
        if self.suppressed:
            body["suppressed"] = self.suppressed
        return body


# `Decision(plugin, version, effect, None)` and `Decided(plugin, version, effect)` without their frozen dataclasses'
# per-field `object.__setattr__`: one of each per effect of every event (rules/plain.py).
_DECISION = plain.maker(Decision)
_DECIDED = plain.maker(Decided)
# Likewise the event's record and member change (once per event), each side write's plan and each follow-up.
_RECORD = plain.maker(EventRecord)
_CHANGE = plain.maker(MemberChange)
_STANDING = plain.maker(Standing)  # the member's new standing (nearly every order moves its growth)
_MARKS = plain.maker(Marks)  # which of an order's markers the member's load reads


@dataclass(frozen=True)
class FollowUp:
    id: str
    detail_type: str
    time: datetime
    detail: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "detail-type": self.detail_type, "time": self.time.isoformat(),
                "detail": dict(self.detail)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FollowUp":
        from rules.clock import parse_time

        return cls(data["id"], data["detail-type"], parse_time(data["time"]), data["detail"])


@dataclass(frozen=True)
class Evaluation:
    decisions: tuple[Decision, ...]
    change: MemberChange | None
    follow_ups: tuple[FollowUp, ...]
    side: tuple[Any, ...] = ()  # writes beyond the member (the families' planners), in the same transaction


@dataclass(frozen=True)
class Plan:
    """What a side-write planner may read: the event, the brand, the member as loaded, the loaded extras."""

    event_id: str
    now: datetime
    brand: BrandConfig
    member: MemberState | None
    extras: Mapping[str, Any]
    plugin: str
    index: int


_EVALUATION = plain.maker(Evaluation)
_PLAN = plain.maker(Plan)
_FOLLOW_UP = plain.maker(FollowUp)


@dataclass
class Summary:
    """What happened to one event (CONTRACT.md, `events/handler.py`)."""

    event_id: str
    status: str  # applied, duplicate, rejected, ignored, failed
    detail_type: str = ""
    effects: list[dict[str, Any]] = dc_field(default_factory=list)
    reason: str | None = None
    field: str | None = None
    plugin: str | None = None
    follow_ups: list[str] = dc_field(default_factory=list)
    members: int | None = None  # sweeps: how many members had something due
    # Internal: a write-off took as many lots as one posting holds, so more may remain (not in the summary).
    capped: bool = False
    brands: int | None = None  # the alert sweep: how many brands had an alert past its deadline
    # Sweeps: which sweep ran, the watermark it reached (everything due up to it is handled), whether more
    # remains for the next run (the run's budget ran out), and how many days it covered.
    sweep: str | None = None
    swept_until: str | None = None
    more: bool | None = None
    days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        plugins: dict[str, int] = {}
        for effect in self.effects:
            plugins[effect["plugin"]] = plugins.get(effect["plugin"], 0) + 1
        body: dict[str, Any] = {"eventId": self.event_id, "status": self.status, "detailType": self.detail_type,
                                "effects": self.effects, "plugins": plugins, "followUps": self.follow_ups}
        for name, key in (("reason", "reason"), ("field", "field"), ("plugin", "plugin"), ("members", "members"),
                          ("brands", "brands"), ("sweep", "sweep"), ("swept_until", "sweptUntil"),
                          ("more", "more"), ("days", "days")):
            if getattr(self, name) is not None:
                body[key] = getattr(self, name)
        return body


class EventBus:
    """Where follow-up events go (implemented in `infra/eventbus.py`)."""

    def publish(self, events: Sequence[FollowUp]) -> None:  # pragma: no cover - protocol
        raise NotImplementedError


class Engine:
    def __init__(self, store: Store, plugins: PluginRegistry, bus: EventBus | None = None,
                 clock: Callable[[], datetime] | None = None, limits: TimeLimits | None = None,
                 sweep_budget: int = sweeps.MEMBERS_PER_RUN, *, require_brand_source: bool = False,
                 sweep_queue: fanout.SweepQueue | None = None) -> None:
        self.store = store
        self.plugins = plugins
        self.bus = bus
        # Events from the bus must come from their own brand's source (rules/sources.py); off for local tools.
        self.require_brand_source = require_brand_source
        self.families = families()
        # The receiving clock: for judging an envelope's time (rules/time_sanity.py) and stamping when a problem
        # was received. Rules always use the event's own time.
        self._clock = clock
        self.limits = limits or TimeLimits.from_environment()
        self.sweep_budget = sweep_budget
        # Where the daily sweep's batches go: SQS in AWS (infra/sweep_queue.py), drained in process otherwise.
        self.sweep_queue = sweep_queue if sweep_queue is not None else fanout.InProcessQueue()

    # ---- entry points ---------------------------------------------------------------------------------------

    def handle(self, raw: Any) -> Summary:
        """One envelope, whatever it holds: it ends applied, duplicate, ignored, rejected or failed."""
        try:
            return self._handle(raw)
        except PluginFailed as failure:  # a sweep target's plugin: recorded per target already
            return Summary(_envelope_id(raw), "failed", "", reason=failure.reason, plugin=failure.plugin)
        except INPUT_ERRORS as error:
            return self._fail_unexpected(raw, error)

    def _handle(self, raw: Any) -> Summary:
        parsed = parse(raw)
        if isinstance(parsed, Ignored):
            return Summary(parsed.event_id, "ignored", parsed.detail_type, reason=parsed.reason)
        if isinstance(parsed, Rejected):
            return self._reject(parsed)
        event = parsed.event
        received = self._received(None)
        if isinstance(event, SweepEvent):
            if event.time - received > self.limits.max_skew:
                # A sweep dated tomorrow would write off lots that are valid today.
                return self._reject(Rejected(
                    event.event_id, "Scheduled Event", f"a scheduled sweep dated {event.time.isoformat()} is ahead "
                    f"of the receiving clock by more than {self.limits.max_skew}; it was not run", "time", None,
                    _raw_text(raw), fingerprint("Scheduled Event", _raw_text(raw))))
            return self.sweep(event)
        if self.require_brand_source and (problem := source_problem(event)):
            return self._reject(Rejected(event.event_id, event.detail_type, problem, "source", event.brand_id,
                                         _raw_text(raw), fingerprint(event.detail_type, event.detail)))
        refusal = self.limits.refusal(event.time, received)
        if refusal is not None:
            return self._reject(Rejected(event.event_id, event.detail_type, refusal, "time", event.brand_id,
                                         _raw_text(raw), fingerprint(event.detail_type, event.detail)))
        return self.process(event, raw)

    def _fail_unexpected(self, raw: Any, error: BaseException) -> Summary:
        """An error only this input causes: kept (once) as `failed` with its reason, never raised to Lambda."""
        logger.warning("event %s failed: %s", _envelope_id(raw)[:64], type(error).__name__)
        text = _raw_text(raw)
        envelope = raw if isinstance(raw, dict) else {}
        detail = envelope.get("detail") if isinstance(envelope.get("detail"), dict) else {}
        brand_id = detail.get("brandId") if isinstance(detail.get("brandId"), str) else None
        detail_type = envelope.get("detail-type") if isinstance(envelope.get("detail-type"), str) else ""
        event_id = _envelope_id(raw) or "unidentified-" + hashlib.sha256(text.encode(errors="backslashreplace")).hexdigest()[:16]
        reason = f"{type(error).__name__}: {_short(error)}"
        try:
            known = brand_id if brand_id and self.store.get_brand(brand_id) else None
        except INPUT_ERRORS:
            known = None
        self.store.record_problem(EventProblem(
            event_id=_storable(event_id), brand_id=known, detail_type=_storable(detail_type) or "unknown",
            status="failed", reason=_storable(reason)[:1000], received_at=self._received(None),
            raw=_clip(_storable(text)), fingerprint=fingerprint(_storable(detail_type), detail)))
        return Summary(_storable(event_id), "failed", _storable(detail_type), reason=_storable(reason))

    def process(self, event: BusinessEvent, raw: Any = None) -> Summary:
        try:
            brand = self.store.get_brand(event.brand_id)
        except WriteConflict as trouble:  # StoreUnavailable: DynamoDB did not answer; the event can come again
            raise Busy(f"event {event.event_id}: the brand could not be read just now") from trouble
        if brand is None:
            return self._reject(Rejected(event.event_id, event.detail_type, f"unknown brand {event.brand_id!r}",
                                         "detail.brandId", None, _raw_text(raw)))
        try:
            return self._apply(event, brand, hook_for(event.detail_type), event.member_id, raw)
        except PluginFailed as failure:
            logger.warning("event %s failed in plugin %s", event.event_id, failure.plugin)
            self.store.record_problem(EventProblem(
                event_id=event.event_id, brand_id=brand.brand_id, detail_type=event.detail_type, status="failed",
                reason=failure.reason[:1000], received_at=self._received(event.time), raw=_clip(_raw_text(raw)),
                plugin=failure.plugin, fingerprint=fingerprint(event.detail_type, event.detail),
            ))
            return Summary(event.event_id, "failed", event.detail_type, reason=failure.reason,
                           plugin=failure.plugin)

    def simulate(self, raw: Any) -> Summary:
        """The dry run: what `handle` would do with this event against the stored state, writing nothing."""
        try:
            return self._simulate(raw)
        except INPUT_ERRORS as error:  # as in `handle`: bad input is an answer, not an error
            return Summary(_envelope_id(raw), "failed", "", reason=f"{type(error).__name__}: {_short(error)}")

    def _simulate(self, raw: Any) -> Summary:
        parsed = parse(raw)
        if isinstance(parsed, Ignored):
            return Summary(parsed.event_id, "ignored", parsed.detail_type, reason=parsed.reason)
        if isinstance(parsed, Rejected):
            return Summary(parsed.event_id, "rejected", parsed.detail_type, reason=parsed.reason,
                           field=parsed.field)
        event = parsed.event
        if isinstance(event, SweepEvent):
            return Summary(event.event_id, "ignored", "Scheduled Event", reason="sweeps are not simulated")
        brand = self.store.get_brand(event.brand_id)
        if brand is None:
            return Summary(event.event_id, "rejected", event.detail_type, reason="unknown brand",
                           field="detail.brandId")
        state = self._load_member(brand, event, event.member_id) if event.member_id else None
        if event.member_id and (state is None or state.profile.erased):
            return Summary(event.event_id, "rejected", event.detail_type,
                           reason="erased member" if state else "unknown member", field="detail.memberId")
        try:
            extras = self.load_extras(brand, event, state)
            evaluation = self.evaluate(event.event_id, event.time, brand, state, hook_for(event.detail_type),
                                       {"event": event}, extras)
        except PluginFailed as failure:
            return Summary(event.event_id, "failed", event.detail_type, reason=failure.reason,
                           plugin=failure.plugin)
        already = self.store.get_event(brand.brand_id, event.event_id)  # another brand's ids are not ours to confirm
        seen = already is not None
        return Summary(event.event_id, "duplicate" if seen else "simulated", event.detail_type,
                       effects=[d.describe() for d in evaluation.decisions],
                       follow_ups=[f.id for f in evaluation.follow_ups])

    def sweep(self, sweep: SweepEvent, progress: Callable[[int, int], None] | None = None) -> Summary:
        """A scheduled sweep, at the sweep's time. `daily`: every member with something due gets `siyu_member_due`,
        for every day since the brand's watermark (`_daily`). A family's own sweep (`Family.sweeps`,
        e.g. the crisis family's hourly `alert-deadlines`) calls its hook for each of its targets."""
        if sweep.sweep == sweeps.DAILY:
            return self._daily(sweep, progress)
        own = self.families.sweeps.get(sweep.sweep)
        if own is None:
            return Summary(sweep.event_id, "applied", "Scheduled Event", members=0, sweep=sweep.sweep)
        targets = list(own.targets(self.store, sweep.time))
        summary = self._sweep_each(sweep, own.hook, targets, progress)
        setattr(summary, own.counts, len(targets))
        summary.sweep = own.name
        return summary

    def _daily(self, sweep: SweepEvent, progress: Callable[[int, int], None] | None) -> Summary:
        """The coordinator. Every day since the oldest watermark behind, in order, each at the instant its daily
        sweep would have run: the day's due work is listed shard by shard, handed to workers in batches through
        the sweep queue (rules/fanout.py), and the watermark of every brand the listing covers moves to the day
        only once every batch of it is done. Reminders ahead only for today's day: a missed day's is not sent late.

        With the in-process queue this run drains the batches itself, day after day, and stops at the end of a day
        once it has applied `sweep_budget` members (`more`). With SQS it returns once a day's batches are out
        (`more`): the worker that finishes the day's last batch queues `coordinate`, which calls this again."""
        queue = self.sweep_queue
        tally = _Tally(progress)
        if queue.in_process:
            self._drain(tally)  # what a run that stopped on an error left behind
        marks = self.store.sweep_watermarks(sweeps.DAILY)
        reached: datetime | None = None
        days = handed = 0
        more = False
        again = True  # the first day, and each day after one whose batches were out, looks once more (`_listing`)
        for step in sweeps.plan(marks, sweep.time):
            behind = frozenset(b for b, mark in marks.items() if mark < step.until)
            run = _retrying(self.store.sweep_run, sweeps.DAILY, step.until)
            reuse = (run is not None and behind <= run.covers
                     and (run.complete or not queue.abandoned(run, sweep.time)))
            members = None
            if reuse and run.complete and queue.in_process:
                # In process the listing is cheap, and a brand put in the store without a watermark (the demo, a
                # test's) is known only by it: a finished day is looked at again for brands it did not cover.
                members = self._listing(step, marks, reminders=step.until == sweep.time, again=again)
                reuse = not members
            if not reuse:
                if members is None:
                    members = self._listing(step, marks, reminders=step.until == sweep.time, again=again)
                covers = behind | {brand_id for brand_id, _ in members}
                if not members:
                    for brand_id in sorted(covers):
                        self._advance(marks, brand_id, step.until)
                    days += 1
                    reached = step.until
                    again = False  # no batches were out: the watermark moved the moment the day was listed
                    continue
                if queue.in_process and tally.members and tally.members + len(members) > self.sweep_budget:
                    more = True
                    break
                run = self._open(sweep, step.until, run, covers, members)
                handed += len(members)
            if queue.in_process and run is not None and not run.complete:
                self._drain(tally)
                run = _retrying(self.store.sweep_run, sweeps.DAILY, step.until)
            if run is None or not run.complete or not behind <= run.covers:
                more = True  # its batches are with the workers; the last one calls the coordinator back
                break
            for brand_id in sorted(run.covers):
                if brand_id not in marks or marks[brand_id] < step.until:
                    self._advance(marks, brand_id, step.until)
            days += 1
            reached = step.until
            again = True
        return Summary(sweep.event_id, "applied", "Scheduled Event", effects=tally.effects,
                       follow_ups=tally.follow_ups,
                       reason=f"{tally.failures} members failed" if tally.failures else None,
                       members=tally.members if queue.in_process else handed, sweep=sweeps.DAILY,
                       swept_until=reached.isoformat() if reached else None, more=more, days=days)

    def _open(self, sweep: SweepEvent, until: datetime, previous: sweeps.SweepRun | None, covers: frozenset[str],
              members: Sequence[tuple[str, str]]) -> sweeps.SweepRun | None:
        """List the day as a new attempt and hand its batches out; the run as it then stands (another
        coordinator's, if it listed the day first)."""
        run = sweeps.SweepRun(until=until, attempt=sweeps.next_attempt(previous), opened_at=sweep.time,
                              covers=covers)
        opened = _retrying(self.store.open_sweep_run, sweeps.DAILY, run,
                           replacing=previous.attempt if previous else None)
        if not opened:
            current = _retrying(self.store.sweep_run, sweeps.DAILY, until)
            # A write that succeeded but answered with a timeout reads back as ours.
            if current is None or (current.attempt, current.opened_at) != (run.attempt, run.opened_at):
                return current
        chunks = sweeps.batches(members)
        self.sweep_queue.send([fanout.batch_message(sweep.sweep, sweep.event_id, sweep.time, until, run.attempt,
                                                    number, chunk) for number, chunk in enumerate(chunks, start=1)])
        return _retrying(self.store.close_sweep_listing, sweeps.DAILY, until, run.attempt, len(chunks))

    def _drain(self, tally: "_Tally") -> None:
        """Work through the in-process queue as SQS workers would; a batch that met an infrastructure error stays
        queued and the error is raised (as Lambda would retry), after the other batches ran."""
        queue = self.sweep_queue
        failed: list[dict[str, Any]] = []
        error: Exception | None = None
        while (message := queue.take()) is not None:
            if message.get("kind") != fanout.BATCH:
                continue  # `coordinate`: this run is the coordinator
            try:
                self.sweep_batch(message, tally)
            except Exception as trouble:  # noqa: BLE001 - re-raised below, once the others ran
                failed.append(message)
                error = error or trouble
        if error is not None:
            queue.put_back(failed)
            raise error

    def sweep_message(self, message: Mapping[str, Any]) -> Summary:
        """One message of the sweep queue (the SQS worker): a batch, or a call back to the coordinator."""
        if message.get("kind") == fanout.BATCH:
            return self.sweep_batch(message)
        own = self.families.fanned_out(message.get("sweep", ""))
        if own is not None and own.coordinate is not None:
            own.coordinate(self, message)  # a family's fanned-out job (the segments backfill) lists more
            return Summary(message.get("eventId", ""), "applied", "Scheduled Event", members=0, sweep=message["sweep"])
        at = datetime.fromisoformat(message["runAt"])
        return self._daily(SweepEvent(event_id=message["eventId"], sweep=message["sweep"], time=at), None)

    def sweep_batch(self, message: Mapping[str, Any], tally: "_Tally | None" = None) -> Summary:
        """A worker's batch: each member's due work at the day's instant (idempotent: ids derive from it and the
        member), then the batch is counted done. An infrastructure error raises after the other members ran,
        uncounted, so the queue delivers the batch again; a plugin's or an input's failure is kept for staff."""
        tally = tally or _Tally(None)
        until = datetime.fromisoformat(message["until"])
        day = SweepEvent(event_id=message["eventId"], sweep=message["sweep"], time=until)
        own = self.families.fanned_out(day.sweep)
        hook = own.hook if own is not None else "siyu_member_due"
        retry: Exception | None = None
        for brand_id, member_id in message["members"]:
            tally.tick()
            try:
                summary = self.sweep_member(day, brand_id, member_id, hook=hook)
            except (PluginFailed, *INPUT_ERRORS) as failure:
                # Kept for staff, once per member and day; retrying would fail the same way.
                tally.failures += 1
                reason = (failure.reason if isinstance(failure, PluginFailed)
                          else f"{type(failure).__name__}: {_short(failure)}")
                _retrying(self.store.record_problem, EventProblem(
                    event_id=sweeps.target_id(day.sweep, until, member_id), brand_id=brand_id,
                    detail_type="Scheduled Event", status="failed", reason=reason[:1000],
                    received_at=self._received(until), raw="", plugin=getattr(failure, "plugin", None)))
                continue
            except Exception as error:  # noqa: BLE001 - a throttled member must not stop the rest
                logger.warning("sweep %s: %s of %s failed (%s); the batch will be retried", day.event_id,
                               member_id, brand_id, type(error).__name__)
                retry = retry or error
                continue
            if summary is not None:
                tally.effects += summary.effects
                tally.follow_ups += summary.follow_ups
        if retry is not None:
            raise retry
        run = _retrying(self.store.finish_sweep_batch, day.sweep, until, message["attempt"], int(message["number"]))
        if run is not None and run.complete and not self.sweep_queue.in_process and own is None:
            self.sweep_queue.send([fanout.coordinate_message(day.sweep, day.event_id,
                                                             datetime.fromisoformat(message["runAt"]))])
        return Summary(day.event_id, "applied", "Scheduled Event", effects=tally.effects,
                       follow_ups=tally.follow_ups, members=len(message["members"]), sweep=day.sweep,
                       reason=f"{tally.failures} members failed" if tally.failures else None)

    def _advance(self, marks: dict[str, datetime], brand_id: str, to: datetime) -> None:
        """Move the brand's watermark on the value read; if another run moved it meanwhile, keep what it wrote."""
        if _retrying(self.store.advance_watermark, sweeps.DAILY, brand_id, read=marks.get(brand_id), to=to):
            marks[brand_id] = to
            return
        fresh = _retrying(self.store.sweep_watermarks, sweeps.DAILY).get(brand_id)
        if fresh is not None:
            marks[brand_id] = fresh

    def _listing(self, step: sweeps.Step, marks: Mapping[str, datetime], *, reminders: bool,
                 again: bool = True) -> list[tuple[str, str]]:
        """Who has something due on the day for a brand the day is still ahead for, each once, by shard."""
        offsets = self.reminder_offsets(marks) if reminders else {}
        members: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        # Once more, the one instant a late entry is dated at when its event read the watermark the day before
        # moved (`_due_floor`: just after it): an event that committed while that day's batches were out, after
        # its listing, is found now instead of never.
        before = step.since - sweeps.DAY
        late = (self.store.due_pages(before, before + sweeps.AFTER_WATERMARK, page_size=sweeps.PAGE_SIZE)
                if again else ())
        for chunk in itertools.chain(self.due_work(step, offsets=offsets),
                                     ([(d.brand_id, d.member_id) for d in page] for page in late)):
            for pair in chunk:
                mark = marks.get(pair[0])
                if pair in seen or (mark is not None and mark >= step.until):
                    continue
                seen.add(pair)
                members.append(pair)
        return members

    def reminder_offsets(self, brand_ids: Iterable[str]) -> dict[str, frozenset[int]]:
        """Each brand's configured days ahead (`PluginInfo.due_offsets`): only those are queried."""
        offsets = {}
        for brand_id in brand_ids:
            brand = self.store.get_brand(brand_id)
            if brand is not None:
                offsets[brand_id] = self.plugins.brand_due_offsets(brand.plugins)
        return offsets

    def due_work(self, step: sweeps.Step, *,
                 offsets: Mapping[str, frozenset[int]] | None = None) -> Iterable[list[tuple[str, str]]]:
        """Who has something due in the step's (since, until], in bounded chunks of (brand, member); with
        `offsets` (brand -> days ahead), also whoever has something due exactly that many days after it, for the
        brands that chose that day: each day ahead no brand chose is never queried."""
        for page in self.store.due_pages(step.since, step.until, page_size=sweeps.PAGE_SIZE):
            yield [(d.brand_id, d.member_id) for d in page]
        for offset in sorted(set().union(*offsets.values()) if offsets else ()):
            day = (step.until + timedelta(days=offset)).replace(hour=0, minute=0, second=0, microsecond=0)
            for page in self.store.due_pages(day, day + timedelta(days=1) - timedelta(microseconds=1),
                                             page_size=sweeps.PAGE_SIZE):
                yield [(d.brand_id, d.member_id) for d in page if offset in offsets.get(d.brand_id, ())]

    def sweep_member(self, sweep: SweepEvent, brand_id: str, member_id: str,
                     hook: str = "siyu_member_due") -> Summary | None:
        """One member's due work at the sweep's time, idempotently: its event ids derive from the sweep's time and
        the member, so running it again answers duplicate (or finds nothing due). A member with more expired lots
        than one posting holds gets as many postings, each its own event, as needed. None: the brand is gone."""
        brand = self.store.get_brand(brand_id)
        if brand is None:
            return None
        effects: list[dict[str, Any]] = []
        follow_ups: list[str] = []
        for part in range(1, sweeps.MAX_PARTS + 1):
            event_id = sweeps.target_id(sweep.sweep, sweep.time, member_id, part)
            summary = self._apply(replace(sweep, event_id=event_id), brand, hook, member_id, None,
                                  event_id=event_id)
            effects += summary.effects
            follow_ups += summary.follow_ups
            # A redelivery does not know whether its write-off was full: it looks once more, as the first run did.
            full = summary.capped or (summary.status == "duplicate" and any(
                e.get("effect") == fx.ExpirePoints.__name__ for e in summary.effects))
            if not full:
                break
        return Summary(sweeps.target_id(sweep.sweep, sweep.time, member_id), "applied", "Scheduled Event",
                       effects=effects, follow_ups=follow_ups)

    def _sweep_each(self, sweep: SweepEvent, hook: str, targets: Sequence[tuple[str, str | None]],
                    progress: Callable[[int, int], None] | None) -> Summary:
        """The hook for each (brand, member or None), each under its own event id derived from the sweep's."""
        applied: list[dict[str, Any]] = []
        follow_ups: list[str] = []
        failures = 0
        retry: Exception | None = None
        for done, (brand_id, member_id) in enumerate(targets, start=1):
            if progress is not None:
                progress(done, len(targets))
            brand = self.store.get_brand(brand_id)
            if brand is None:
                continue
            target_event_id = f"{sweep.event_id}:{member_id or brand_id}"
            try:
                summary = self._apply(sweep, brand, hook, member_id, None, event_id=target_event_id)
            except PluginFailed as failure:
                failures += 1
                self.store.record_problem(EventProblem(
                    event_id=target_event_id, brand_id=brand_id, detail_type="Scheduled Event", status="failed",
                    reason=failure.reason[:1000], received_at=sweep.time, raw="", plugin=failure.plugin))
                continue
            except Exception as error:  # noqa: BLE001 - a throttled member must not stop the sweep for the rest
                logger.warning("sweep %s: %s failed (%s); the sweep will be retried",
                               sweep.event_id, target_event_id, type(error).__name__)
                retry = retry or error
                continue
            applied += summary.effects
            follow_ups += summary.follow_ups
        if retry is not None:
            # Lambda retries the sweep; members (and brands) already done answer as duplicates.
            raise retry
        return Summary(sweep.event_id, "applied", "Scheduled Event", effects=applied, follow_ups=follow_ups,
                       reason=f"{failures} {'members' if hook == 'siyu_member_due' else 'brands'} failed"
                       if failures else None)

    # ---- evaluation -------------------------------------------------------------------------------------------

    def _apply(self, event: BusinessEvent | SweepEvent, brand: BrandConfig, hook: str, member_id: str | None,
               raw: Any, *, event_id: str | None = None) -> Summary:
        event_id = event_id or event.event_id
        # An event that opens an order plans as if the order were new, without reading it; if the order has its
        # item already, the write is refused (`OrderAlreadyOpened`) and the event reads it and plans again.
        optimistic, prior = True, None
        for attempt in range(MAX_ATTEMPTS):
            try:
                reuse, prior = prior, None
                return self._attempt(event, brand, hook, member_id, raw, event_id, optimistic, reuse)
            except OrderAlreadyOpened as opened:
                if optimistic:
                    # The member as read stays the plan's base (the order's item moves the member's version, which
                    # the write is conditioned on): only the order's item is read now.
                    optimistic, prior = False, getattr(opened, "state", None)
                    continue
                time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.004 * 2**attempt)))
            except WriteConflict:
                # Another writer moved what the plan read (a member's version, a lot, a count), or DynamoDB did not
                # answer this time (StoreUnavailable: TransactionConflict, throttling, a timeout). Back off
                # (exponentially, with full jitter, so the losers do not collide again in step), then read again.
                time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.004 * 2**attempt)))
        raise Busy(f"event {event_id}: what it is based on kept changing or DynamoDB kept refusing; nothing was "
                   f"written and it can be delivered again")

    def _attempt(self, event: BusinessEvent | SweepEvent, brand: BrandConfig, hook: str, member_id: str | None,
                 raw: Any, event_id: str, optimistic: bool = False, prior: MemberState | None = None) -> Summary:
        """One read-plan-write round; `WriteConflict` when the write's conditions no longer hold. `prior`: the
        member as the previous round read them, planned as if their order were new (`Marks.opens`)."""
        detail_type = getattr(event, "detail_type", "Scheduled Event")
        kwargs = {"event": event} if isinstance(event, BusinessEvent) else {"sweep": event}
        if prior is not None and isinstance(event, BusinessEvent):
            state = self.store.load_order(prior, event.detail.get("orderId"), as_of=event.time)
        else:
            state = self._load_member(brand, event, member_id, optimistic) if member_id else None
        if member_id and state is None:
            return self._reject(Rejected(event_id, detail_type, f"unknown member {member_id!r}",
                                         "detail.memberId", brand.brand_id, _raw_text(raw)))
        only = None
        if state is not None and state.profile.erased:
            only = [n for n in brand.plugins if n in self.plugins.infos and self.plugins.infos[n].after_erasure]
            if isinstance(event, SweepEvent) and not only:
                # Lots of an erased member stay in the ledger (and the due index) untouched: nothing is due.
                return Summary(event_id, "ignored", detail_type, reason="erased member")
        if state is not None and state.profile.erased and not isinstance(event, SweepEvent):
            return self._reject(Rejected(event_id, detail_type,
                                         f"member {member_id!r} was erased at their request",
                                         "detail.memberId", brand.brand_id, _raw_text(raw)))
        extras = self.load_extras(brand, event, state)
        evaluation = self.evaluate(event_id, event.time, brand, state, hook, kwargs, extras, only=only)
        if isinstance(event, SweepEvent) and not evaluation.decisions and (
                evaluation.change is None or evaluation.change.posting is None):
            return Summary(event_id, "applied", detail_type)
        print_ = fingerprint(detail_type, event.detail) if isinstance(event, BusinessEvent) else None
        decisions = evaluation.decisions
        texts = [d.describe() for d in decisions]  # once: the record and the activity share each text
        # Lists, not generators, into the tuples: no generator frame to resume per item (once per event).
        follow_ups = tuple([f.as_dict() for f in evaluation.follow_ups])
        members = tuple([text for d, text in zip(decisions, texts) if not isinstance(d.effect, fx.BrandEffect)])
        # EventRecord(event_id=, brand_id=, detail_type=, at=, effects=, follow_ups=, member_effects=, fingerprint=,
        # member_id=, amount_fen=): every field, in order (rules/plain.py).
        record = _RECORD(event_id, brand.brand_id, detail_type, event.time, tuple(texts), follow_ups, members,
                         print_, member_id, _amount_of(event))
        try:
            self.store.commit_event(record, self._due_floor(brand.brand_id, evaluation.change), evaluation.side)
        except OrderAlreadyOpened as opened:
            opened.state = state
            raise
        except EventAlreadyProcessed as seen:
            if print_ is not None and seen.record.fingerprint not in (None, print_):
                # The id was used before for another event: neither is lost (the first stays applied, this
                # one is kept for staff), and neither is taken for the other.
                return self._reject(Rejected(
                    event_id, detail_type, "ID_REUSED: this event id was applied before with other content; "
                    "the brand system must give each event its own id", "id", brand.brand_id, _raw_text(raw),
                    print_))
            # Published again because the first delivery may have died between commit and publish;
            # the ids are the same, so consumers see each follow-up once.
            self._publish([FollowUp.from_dict(f) for f in seen.record.follow_ups])
            return Summary(event_id, "duplicate", detail_type, effects=list(seen.record.effects),
                           follow_ups=[f["id"] for f in seen.record.follow_ups])
        self._publish(evaluation.follow_ups)
        posting = evaluation.change.posting if evaluation.change else None
        capped = posting is not None and any(
            entry.kind is ledger.EntryKind.EXPIRE and len(entry.allocations) >= ledger.MAX_LOTS_PER_POSTING
            for entry in posting.entries)
        return Summary(event_id, "applied", detail_type, effects=list(record.effects),
                       follow_ups=[f.id for f in evaluation.follow_ups], capped=capped)

    def _load_member(self, brand: BrandConfig, event: BusinessEvent | SweepEvent, member_id: str,
                     optimistic: bool = False) -> MemberState | None:
        """The member as the event's plugins need them, for a price that does not grow with the member's history:
        an event about an order reads that order's per-order markers (its award, its refunds, whoever claimed
        them), any other business event the visits' (check-ins, engagement); sums over the member's other orders
        are running totals (`AddToTotal`, `AddToDailyTotal`) loaded with the state. A sweep reads every marker.
        `optimistic`: an event that opens an order reads none of its markers (its write is conditioned on the
        order having no item yet)."""
        return self.store.load_member(brand.brand_id, member_id, as_of=event.time, include_erased=True,
                                      marks=_marks_for(event, optimistic))

    def _due_floor(self, brand_id: str, change: MemberChange | None) -> MemberChange | None:
        """The change, with its due-index entries dated no earlier than just after the brand's sweep watermark.

        An event may be up to SIYU_EVENT_MAX_AGE_DAYS old, so the lot it creates (or a lot a reversed redemption
        restores) can fall due before the watermark: the sweep lists only what falls due after it, so no sweep
        would ever write that lot off and the stored balance would keep it (spendable leaves it out). Dated just
        after the watermark instead, the next sweep lists it and writes it off at once, announcing
        `points.expired` once, like any lot. We date the entry rather than have every sweep re-list the days
        before its watermark: that would cost reads every day for a rare case, with a lookback as long as the
        maximum age. The watermark is read only when something falls due by the receiving clock (an ordinary lot,
        due months ahead, costs nothing). Not a condition of the write: a sweep that has already listed the day
        after the watermark when this event commits, and then moves the watermark on, does not see the entry that
        day; the next day's listing queries this one instant again (`_listing`), so it is written off a day late
        (spendable left it out all along) instead of never.
        """
        if change is None:
            return None
        dates = change.due_dates()
        if not dates or min(dates) > self._received(None):
            return change
        mark = self.store.sweep_watermarks(sweeps.DAILY).get(brand_id)
        if mark is None or min(dates) > mark:
            return change
        return replace(change, due_floor=mark + sweeps.AFTER_WATERMARK)

    def load_extras(self, brand: BrandConfig, event: BusinessEvent | SweepEvent,
                    state: MemberState | None) -> dict[str, Any]:
        """What the rule families (`Family.loaders`) load beyond the member, for this event."""
        extras: dict[str, Any] = {}
        for name, loader in self.families.loaders.items():
            value = loader(self.store, brand, event, state)
            if value is not None:
                extras[name] = value
        return extras

    def evaluate(self, event_id: str, now: datetime, brand: BrandConfig, state: MemberState | None, hook: str,
                 kwargs: Mapping[str, Any], extras: Mapping[str, Any] | None = None,
                 only: Sequence[str] | None = None) -> Evaluation:
        """What the brand's plugins (or `only` these of them) decide, and what that writes; nothing is written."""
        view = (member_view(state.profile, state.points, state.markers, state.holdings, consent.granted(state.consents),
                            state.totals, state.daily) if state else None)
        extras = MappingProxyType(dict(extras or {}))
        decisions: list[Decision] = []
        names = list(brand.plugins.keys() if only is None else only)
        for name in names:
            if name not in self.plugins.infos:
                # Applying the event without a rule the brand chose would be wrong silently and for good.
                raise PluginFailed(name, self.plugins.unavailable(name))
        decided: list[Decided] = []  # what `context.decided` shows each plugin: `decisions` so far, as Decided
        for info in self.plugins.ordered(names):
            try:
                call = self.plugins.hook_caller(info.name, hook)
            except Exception as error:  # noqa: BLE001 - as when the call itself failed (it was made in the guard)
                raise PluginFailed(info.name, error) from error
            if call is None:  # no implementation, no tracing: it would answer [] unseen
                continue
            # What RuleContext(..., params={}, decided=...).for_plugin(params) makes, built once.
            context = _context(brand, MappingProxyType(dict(brand.plugins[info.name])), now, view, extras,
                               tuple(decided))
            try:
                results = call(context=context, **kwargs)
                produced = [effect for result in results if result is not None for effect in result]
                # Checked and projected inside the guard too: a malformed effect fails the event by name.
                for effect in produced:
                    _check(info.name, effect, brand, now, view)
                    decisions.append(_DECISION(info.name, info.version, effect, None))
                    decided.append(_DECIDED(info.name, info.version, effect))
                    view = _project(view, effect, now, brand)
            except PluginFailed:
                raise
            except Exception as error:  # noqa: BLE001 - any plugin failure fails this event, naming the plugin
                raise PluginFailed(info.name, error) from error
        decisions = [_gate(decision, state) for decision in decisions]
        change = self._member_change(event_id, now, brand, state, decisions, view, sweeping=hook == "siyu_member_due")
        side = tuple(self._side_writes(event_id, now, brand, state, decisions, extras))
        _check_size(change, decisions, side)
        follow_ups = tuple(self._follow_ups(event_id, brand, state, decisions, now))
        return _EVALUATION(tuple(decisions), change, follow_ups, side)

    @staticmethod
    def _side_writes(event_id: str, now: datetime, brand: BrandConfig, state: MemberState | None,
                     decisions: list[Decision], extras: Mapping[str, Any]) -> Iterable[Any]:
        planners = families().planners
        known = _planner_memory(planners)
        for index, decision in enumerate(decisions):
            kind = type(decision.effect)
            planner = known[kind] if kind in known else _planner(planners, kind)
            if planner is None:
                continue
            plan = _PLAN(event_id, now, brand, state, extras, decision.plugin, index)
            try:
                yield from planner(decision.effect, plan)
            except (SiyuError, ValueError) as refused:
                message = refused.message if isinstance(refused, SiyuError) else str(refused)
                raise PluginFailed(decision.plugin, message) from None

    def _member_change(self, event_id: str, now: datetime, brand: BrandConfig, state: MemberState | None,
                       decisions: list[Decision], after: MemberView | None, *,
                       sweeping: bool = False) -> MemberChange | None:
        if state is None:
            return None
        points = state.points
        postings: list[Posting] = []
        markers: list[tuple[str, datetime, Mapping[str, Any], datetime | None]] = []
        unapplied = None  # the last posting, applied to `points` only once a later effect that posts reads them
        for index, decision in enumerate(decisions):
            if unapplied is not None and isinstance(decision.effect, _POSTS):
                points, unapplied = ledger.applied(points, unapplied), None
            try:
                posting = self._posting(decision, index, event_id, now, points, markers)
            except SiyuError as refused:  # e.g. more lots than one write can hold
                raise PluginFailed(decision.plugin, refused.message) from None
            if posting is not None:
                postings.append(posting)
                unapplied = posting
        standing = None
        profile = state.profile
        if after is not None and (after.growth, after.tier_code, after.tier_valid_until, after.paid_until) != (
                profile.growth, profile.tier_code, profile.tier_valid_until, profile.paid_until):
            standing = _STANDING(after.growth, after.tier_code, after.tier_valid_until, after.paid_until)
        totals = None
        if after is not None and dict(after.totals) != dict(state.totals):
            totals = {name: value for name, value in after.totals.items() if value}
        # Daily totals are added to, never set whole (their items are not the profile): the event's additions.
        daily = daily_totals.merged(
            daily_totals.delta(d.effect.total, d.effect.day, d.effect.amount, d.effect.keep_months, brand.timezone)
            for d in decisions if isinstance(d.effect, fx.AddToDailyTotal))
        posting = ledger.combine(postings) if postings else None
        if posting is not None or sweeping:
            # Which lots the due index lists after this change (`ledger.listing`); a sweep's visit also keeps the
            # reminders' chain going when its plugins decide nothing (a listing-only posting).
            posting = self._lots_listed(now, brand, state.points, posting or Posting(entries=()), sweeping)
            if not posting.entries and not posting.listed:
                posting = None
        # MemberChange(profile=, expected_version=, posting=, standing=, markers=, totals=, daily=, due_floor=None,
        # orders=): every field, in order (rules/plain.py).
        return _CHANGE(profile, state.version, posting, standing, tuple(markers), totals, daily, None, state.orders)

    def _lots_listed(self, now: datetime, brand: BrandConfig, points: PointsState, posting: Posting,
                     sweeping: bool) -> Posting:
        """The posting with the lots it lists in the due index. A sweep that looks `offset` days ahead has, at
        `now`, looked at the UTC day of `now + offset` (`due_work`); the next run looks at the day after, which is
        where the reminders' chain must have listed a lot; an event lists from the day itself (a run of that
        day may be yet to come)."""
        starts = []
        for offset in self.plugins.brand_due_offsets(brand.plugins):
            ahead = (now + timedelta(days=offset)).astimezone(timezone.utc)
            day = datetime(ahead.year, ahead.month, ahead.day, tzinfo=timezone.utc)
            starts.append(day + sweeps.DAY if sweeping else day)
        return ledger.listing(points, posting, reminders_from=sorted(starts))

    @staticmethod
    def _posting(decision: Decision, index: int, event_id: str, now: datetime, points: PointsState,
                 markers: list) -> Posting | None:
        """The ledger posting one decision makes (None for effects that are not points); markers are collected."""
        effect = decision.effect
        if not isinstance(effect, _POSTS):
            if isinstance(effect, fx.Once):
                markers.append((effect.key, now + timedelta(days=effect.keep_days), effect.data, effect.due_at))
            return None
        # Named only for the effects that post: most of an event's effects write no ledger entry.
        actor = f"plugin:{decision.plugin}@{decision.version}"
        entry_id = ids.entry_id(now, f"{event_id}:{decision.plugin}:{index}")
        if isinstance(effect, fx.AwardPoints):
            return ledger.earn(points, points=effect.points, now=now, expires_at=effect.expires_at,
                               entry_id=entry_id, reason=effect.reason, actor=actor, event_id=event_id,
                               explanation=decision.explanation(), source=effect.source)
        if isinstance(effect, fx.TakeBackPoints):
            return ledger.take_back(points, points=effect.points, now=now, entry_id=entry_id, reason=effect.reason,
                                    actor=actor, event_id=event_id, explanation=decision.explanation(),
                                    source=effect.source)
        if isinstance(effect, fx.ExpirePoints):
            posting = ledger.expire(points, now=now, entry_id=entry_id, actor=actor)
            if posting is None:
                return None
            entry = replace(posting.entries[0], event_id=event_id, explanation=decision.explanation())
            return replace(posting, entries=(entry,))
        return None

    def _follow_ups(self, event_id: str, brand: BrandConfig, state: MemberState | None,
                    decisions: list[Decision], now: datetime) -> Iterable[FollowUp]:
        for index, decision in enumerate(decisions):
            effect = decision.effect
            announced = (effect.announce(event_id=event_id, plugin=decision.plugin, index=index,
                                         member_id=state.profile.member_id)
                         if isinstance(effect, fx.FamilyEffect) and state is not None else None)
            if announced is not None:
                # Effects that announce themselves (a rule's coupon: coupon.issued), whichever plugin returned them.
                detail_type, detail = announced
                follow_id = hashlib.sha256(f"{event_id}|{decision.plugin}|{detail_type}|{index}".encode()).hexdigest()[:32]
                yield _FOLLOW_UP(follow_id, detail_type, now,
                                 {**detail, "id": follow_id, "brandId": brand.brand_id, "causedBy": event_id})
                continue
            if not isinstance(effect, fx.Emit) or decision.suppressed:
                continue
            follow_id = hashlib.sha256(f"{event_id}|{decision.plugin}|{effect.detail_type}|{index}".encode()).hexdigest()[:32]
            detail = {**effect.detail, "id": follow_id, "brandId": brand.brand_id, "causedBy": event_id}
            if state is not None and not isinstance(effect, fx.BrandEffect):
                detail.setdefault("memberId", state.profile.member_id)
            yield _FOLLOW_UP(follow_id, effect.detail_type, now, detail)

    def _publish(self, follow_ups: Sequence[FollowUp]) -> None:
        if follow_ups and self.bus is not None:
            self.bus.publish(follow_ups)

    def _reject(self, rejected: Rejected) -> Summary:
        received = self._received(None)
        raw = _storable(rejected.raw)
        self.store.record_problem(EventProblem(
            event_id=rejected.event_id or "unidentified-" + hashlib.sha256(raw.encode()).hexdigest()[:16],
            brand_id=rejected.brand_id if rejected.brand_id and self.store.get_brand(rejected.brand_id) else None,
            detail_type=rejected.detail_type or "unknown", status="rejected", reason=rejected.reason,
            received_at=received, raw=_clip(raw), field=rejected.field, fingerprint=rejected.fingerprint,
        ))
        return Summary(rejected.event_id, "rejected", rejected.detail_type, reason=rejected.reason,
                       field=rejected.field)

    def _received(self, fallback: datetime | None) -> datetime:
        if self._clock is not None:
            return self._clock()
        return fallback or datetime.now(timezone.utc)


MAX_TRANSACTION_ITEMS = 100


def _planner_memory(planners: Mapping[type, Callable[..., Any]]) -> dict[type, Any]:
    """{effect type: planner or None} remembered for this planners table (a new or resized table: a new memory)."""
    memory = _PLANNERS
    if memory[0] is not planners or memory[1] != len(planners):
        memory[:] = [planners, len(planners), {}]
    return memory[2]


def _planner(planners: Mapping[type, Callable[..., Any]], kind: type) -> Callable[..., Any] | None:
    """`next((planners[k] for k in kind.__mro__ if k in planners), None)`: the planner of the nearest class in the
    effect type's MRO that has one, remembered per effect type for this planners table (every effect of every event
    asked it; issue 15, engine CPU). The answer depends only on the type and the table: a table made afresh (other
    families in use) or changed in size starts a new memory. tests/unit/test_plain_makers.py compares both."""
    known = _planner_memory(planners)
    found = known.get(kind, _UNKNOWN)
    if found is _UNKNOWN:
        found = known[kind] = next((planners[k] for k in kind.__mro__ if k in planners), None)
    return found


_PLANNERS: list[Any] = [None, 0, {}]  # [the planners table, its size, {effect type: planner or None}]


def _gate(decision: Decision, state: MemberState | None) -> Decision:
    """Marketing notifications go only to members whose newest marketing consent grants them (PIPL).

    Enforced here, on every plugin's effects after they are all in, so no rule, built-in or partner, can send one
    without consent; the suppressed request stays in the event's record with the reason."""
    effect = decision.effect
    if not isinstance(effect, fx.Emit) or effect.detail_type != consent.NOTIFICATION_REQUESTED:
        return decision
    refusal = consent.notification_refusal(state.consents if state else None,
                                           state.profile.member_id if state else None, effect.detail)
    return replace(decision, suppressed=refusal) if refusal else decision


def _check_size(change: MemberChange | None, decisions: list[Decision], side: Sequence[Any] = ()) -> None:
    """One event is one TransactWriteItems: refuse, by plugin, what cannot fit in one."""
    items = 1 + sum(getattr(write, "items", 1) for write in side)  # the processed record, the side writes
    if change is not None:
        posting = change.posting
        items += 2  # the activity record, the member
        if posting is not None:
            items += len(posting.entries) + len(posting.new_lots) + len(posting.lot_updates)
            items += len(posting.listed or ())  # an existing lot listed by an update of its own, at most
        items += len(change.markers) + len({(d.total, d.month) for d in change.daily})
    if items > MAX_TRANSACTION_ITEMS:
        heaviest = max({d.plugin for d in decisions}, key=lambda p: sum(d.plugin == p for d in decisions))
        raise PluginFailed(heaviest, f"the event's effects need {items} writes; one transaction holds "
                                     f"{MAX_TRANSACTION_ITEMS}")


_POSTS = (fx.AwardPoints, fx.TakeBackPoints, fx.ExpirePoints)  # the effects that post to the ledger (`_posting`)


class _FirstOf:
    """Which of `classes` an effect is an instance of, the first in their order (None: none), remembered by the
    effect's type: what the chain of `isinstance` tests `_check` and `_project` once ran for every effect of every
    plugin (issue 15, engine CPU). Whether an object is an instance of a class depends on its type only, unless it
    claims another `__class__`: such an object is asked the long way, every time (tests/unit/
    test_engine_fast_paths.py)."""

    def __init__(self, *classes: type) -> None:
        self.classes = classes
        self.known: dict[type, type | None] = {}

    def __call__(self, effect: Any) -> type | None:
        kind = type(effect)
        found = self.known.get(kind, _UNKNOWN)
        if found is _UNKNOWN or effect.__class__ is not kind:
            found = next((c for c in self.classes if isinstance(effect, c)), None)
            if effect.__class__ is kind:
                self.known[kind] = found
        return found


_UNKNOWN = object()
_CHECKED = _FirstOf(fx.AwardPoints, fx.TakeBackPoints, fx.AddGrowth, fx.AddToTotal, fx.AddToDailyTotal,
                    fx.SetPaidMembership, fx.SetTier, fx.Once, fx.Emit)
_PROJECTED = _FirstOf(fx.FamilyEffect, fx.AwardPoints, fx.ExpirePoints, fx.AddGrowth, fx.AddToTotal,
                      fx.AddToDailyTotal, fx.SetTier, fx.SetPaidMembership, fx.TakeBackPoints, fx.Once)
_MEMBER_EFFECTS = (fx.AwardPoints, fx.TakeBackPoints, fx.ExpirePoints, fx.AddGrowth, fx.SetTier, fx.Once, fx.AddToTotal,
                   fx.AddToDailyTotal, fx.SetPaidMembership)


def _check(plugin: str, effect: Any, brand: BrandConfig, now: datetime, view: MemberView | None) -> None:
    """Effects are validated before anything is written: a plugin cannot corrupt the ledger by mistake."""
    if not isinstance(effect, fx.Effect):
        raise PluginFailed(plugin, f"returned {type(effect).__name__}, not an effect")
    if not effect.rule:
        raise PluginFailed(plugin, f"{effect.kind} names no rule")
    family_effect = isinstance(effect, fx.FamilyEffect)
    if view is None and (isinstance(effect, _MEMBER_EFFECTS) or (family_effect and effect.needs_member)):
        raise PluginFailed(plugin, f"{effect.kind} needs a member, and this event has none")
    if family_effect and effect.owner is not None and plugin != effect.owner:
        # Money-like effects on other members (commissions, an inviter's coupon) belong to the family that
        # decides them: a partner plugin cannot pay anyone by returning one.
        raise PluginFailed(plugin, f"{effect.kind} is reserved to the {effect.owner!r} plugin")
    if family_effect:
        try:
            effect.check(brand=brand, now=now, member=view)
        except ValueError as refused:
            raise PluginFailed(plugin, f"{effect.kind}: {refused}") from None
    kind = _CHECKED.known.get(type(effect), _UNKNOWN)  # `_CHECKED(effect)`, without the call once it is known
    if kind is _UNKNOWN or effect.__class__ is not type(effect):
        kind = _CHECKED(effect)
    if kind is fx.AwardPoints:
        if isinstance(effect.points, bool) or not isinstance(effect.points, int) or effect.points <= 0:
            raise PluginFailed(plugin, "AwardPoints.points must be a positive integer")
        if not isinstance(effect.expires_at, datetime) or effect.expires_at.tzinfo is None:
            raise PluginFailed(plugin, "AwardPoints.expires_at must be a datetime with a timezone")
        if effect.expires_at <= now:
            raise PluginFailed(plugin, "AwardPoints.expires_at must be after the event's time")
        _check_source(plugin, effect)
    elif kind is fx.TakeBackPoints:
        if isinstance(effect.points, bool) or not isinstance(effect.points, int) or effect.points <= 0:
            raise PluginFailed(plugin, "TakeBackPoints.points must be a positive integer")
        _check_source(plugin, effect)
    elif kind is fx.AddGrowth:
        if isinstance(effect.growth, bool) or not isinstance(effect.growth, int):
            raise PluginFailed(plugin, "AddGrowth.growth must be an integer")
    elif kind is fx.AddToTotal:
        if isinstance(effect.amount, bool) or not isinstance(effect.amount, int):
            raise PluginFailed(plugin, "AddToTotal.amount must be an integer")
        if not isinstance(effect.total, str) or not effect.total.startswith(f"{plugin}:") or len(effect.total) > 100:
            raise PluginFailed(plugin, f"AddToTotal.total must start with '{plugin}:' and be at most 100 characters")
    elif kind is fx.AddToDailyTotal:
        _check_daily(plugin, effect, brand, now)
    elif kind is fx.SetPaidMembership:
        if not isinstance(effect.until, datetime) or effect.until.tzinfo is None:
            raise PluginFailed(plugin, "SetPaidMembership.until must be a datetime with a timezone")
    elif kind is fx.SetTier:
        if effect.code not in {t.code for t in brand.tiers}:
            raise PluginFailed(plugin, f"SetTier names {effect.code!r}, which is not on the brand's ladder")
    elif kind is fx.Once:
        if not isinstance(effect.key, str) or not isinstance(effect.keep_days, int) or effect.keep_days < 1:
            raise PluginFailed(plugin, "Once needs a string key and a positive whole number of keep_days")
        if effect.due_at is not None and (not isinstance(effect.due_at, datetime) or effect.due_at.tzinfo is None
                                          or effect.due_at > now + timedelta(days=effect.keep_days)):
            raise PluginFailed(plugin, "Once.due_at must be a datetime with a timezone, within keep_days")
        if not _flat_json(effect.data):
            try:
                json.dumps(dict(effect.data))
            except (TypeError, ValueError):
                raise PluginFailed(plugin, "Once.data must be JSON: strings, numbers, lists and objects") from None
        if not effect.key.startswith(f"{plugin}:") or len(effect.key) > 200:
            raise PluginFailed(plugin, f"Once.key must start with '{plugin}:' and be at most 200 characters")
        if view is not None and view.has(effect.key):
            raise PluginFailed(plugin, f"Once.key {effect.key!r} was already claimed; check context.member.has()")
    elif kind is fx.Emit:
        if effect.detail_type not in follow_up_types() and not effect.detail_type.startswith(f"{plugin}."):
            raise PluginFailed(plugin, f"may emit the follow-ups in docs/plugins.md or '{plugin}.*', not "
                                       f"{effect.detail_type!r}")


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _flat_json(data: Any) -> bool:
    """Whether `json.dumps(dict(data))` surely succeeds without trying it: a dict (or read-only view of one) of
    text keys and plain scalar values, as most markers' data is. False only means "try it" (`_check`)."""
    if type(data) is not dict and type(data) is not MappingProxyType:
        return False
    for key, value in data.items():
        if type(key) is not str or type(value) not in _JSON_SCALARS:
            return False
    return True


def _check_daily(plugin: str, effect: fx.AddToDailyTotal, brand: BrandConfig, now: datetime) -> None:
    if isinstance(effect.amount, bool) or not isinstance(effect.amount, int):
        raise PluginFailed(plugin, "AddToDailyTotal.amount must be an integer")
    if not isinstance(effect.total, str) or not effect.total.startswith(f"{plugin}:") or len(effect.total) > 100:
        raise PluginFailed(plugin, f"AddToDailyTotal.total must start with '{plugin}:' and be at most 100 characters")
    keep = effect.keep_months
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= daily_totals.MAX_KEEP_MONTHS:
        raise PluginFailed(plugin, f"AddToDailyTotal.keep_months must be 1 to {daily_totals.MAX_KEEP_MONTHS}")
    if not isinstance(effect.day, date) or isinstance(effect.day, datetime):
        raise PluginFailed(plugin, "AddToDailyTotal.day must be a date (the brand-local day: context.local_date())")
    if not daily_totals.still_kept(effect.day, keep, now, brand.timezone):
        # Its month is forgotten (or about to be): an addition would bring back a total no rule reads any more.
        raise PluginFailed(plugin, f"AddToDailyTotal.day {effect.day} is no longer kept ({keep} months after its month)")


def _check_source(plugin: str, effect: fx.Effect) -> None:
    source = effect.source
    if source is not None and (not isinstance(source, str) or not source.startswith(f"{plugin}:")
                               or len(source) > 200):
        raise PluginFailed(plugin, f"{effect.kind}.source must start with '{plugin}:' and be at most 200 characters")


def _with(view: MemberView, **changes: Any) -> MemberView:
    """`dataclasses.replace(view, **changes)` for a `MemberView`, without its walk over the sixteen fields.

    `_project` makes a new view after every effect of every plugin (issue 15, engine CPU). MemberView is a plain
    frozen dataclass (no __post_init__, no init=False field, no slots), so replace() ends with the same instance
    dictionary as this copy does; anything else (a subclass, an instance holding more than its fields, a name that
    is not a field) takes replace() itself.
    tests/unit/test_engine_fast_paths.py compares the two."""
    if type(view) is not MemberView or len(view.__dict__) != len(_VIEW_FIELDS) or not changes.keys() <= _VIEW_FIELDS:
        return replace(view, **changes)
    new = object.__new__(MemberView)
    new.__dict__.update(view.__dict__)
    new.__dict__.update(changes)
    return new


_VIEW_FIELDS = frozenset(f.name for f in fields(MemberView))


def _context(brand: BrandConfig, params: Mapping[str, Any], now: datetime, member: MemberView | None,
             extras: Mapping[str, Any], decided: tuple[Decided, ...]) -> RuleContext:
    """`RuleContext(brand, params, now, member, extras, decided)`, without the frozen dataclass's six
    `object.__setattr__` calls: once per plugin per event (issue 15, engine CPU). RuleContext is a plain frozen
    dataclass of exactly these fields in this order (no __post_init__, no slots), so its `__init__` leaves the same
    instance dictionary this does; were that to change, the class's own `__init__` is used.
    tests/unit/test_engine_projection.py compares the two."""
    if not _PLAIN_CONTEXT:
        return RuleContext(brand, params, now, member, extras, decided)
    context = object.__new__(RuleContext)
    context.__dict__.update(brand=brand, params=params, now=now, member=member, extras=extras, decided=decided)
    return context


_PLAIN_CONTEXT = ([f.name for f in fields(RuleContext)] == ["brand", "params", "now", "member", "extras", "decided"]
                  and not hasattr(RuleContext, "__post_init__") and not hasattr(RuleContext, "__slots__"))


def _project(view: MemberView | None, effect: fx.Effect, now: datetime, brand: BrandConfig) -> MemberView | None:
    """The member as the next plugin should see it, after this effect."""
    if view is None:
        return None
    kind = _PROJECTED.known.get(type(effect), _UNKNOWN)  # `_PROJECTED(effect)`, as in `_check`
    if kind is _UNKNOWN or effect.__class__ is not type(effect):
        kind = _PROJECTED(effect)
    if kind is fx.FamilyEffect:
        return effect.project(view, now)
    if kind is fx.AwardPoints:
        return _with(view, points=_earned(view.points, effect, now))
    if kind is fx.ExpirePoints:
        lots = tuple(lot if not lot.expired(now) else replace(lot, remaining=0) for lot in view.points.lots)
        expired = sum(lot.remaining for lot in view.points.lots if lot.expired(now))
        return _with(view, points=PointsState(view.points.balance - expired, lots))
    if kind is fx.AddGrowth:
        return _with(view, growth=max(0, view.growth + effect.growth))
    if kind is fx.AddToTotal:
        return _with(view, totals=MappingProxyType({**view.totals, effect.total: view.total(effect.total)
                                                      + effect.amount}))
    if kind is fx.AddToDailyTotal:
        added = daily_totals.applied(view.daily, [daily_totals.delta(effect.total, effect.day, effect.amount,
                                                                     effect.keep_months, brand.timezone)])
        return _with(view, daily=MappingProxyType({k: MappingProxyType(v) for k, v in added.items()}))
    if kind is fx.SetTier:
        return _with(view, tier_code=effect.code, tier_valid_until=effect.valid_until)
    if kind is fx.SetPaidMembership:
        return _with(view, paid_until=effect.until)
    if kind is fx.TakeBackPoints:
        taken = ledger.take_back(view.points, points=effect.points, now=now, entry_id="projection",
                                 source=effect.source)
        return _with(view, points=ledger.applied(view.points, taken))
    if kind is fx.Once:
        return _with(view, markers={**view.markers, effect.key: dict(effect.data)})
    return view


def _earned(points: PointsState, effect: fx.AwardPoints, now: datetime) -> PointsState:
    """`ledger.applied(points, ledger.earn(points, ..., entry_id="pending-<lots>"))` for a checked award: the points
    after it, without the entry, allocation and posting the projection throws away (issue 15, engine CPU). `_check`
    has refused what `earn` would refuse; a state whose lots repeat an id, or hold one named like the pending lot,
    or that is not a plain PointsState, takes the long way (`applied` keeps one lot per id).
    tests/unit/test_engine_projection.py compares the two."""
    lot_id = f"pending-{len(points.lots)}"
    if type(points) is PointsState and type(points.lots) is tuple:
        ids = {lot.lot_id for lot in points.lots}
        if len(ids) == len(points.lots) and lot_id not in ids:
            repaid = min(effect.points, points.debt)
            # Lot(lot_id=, earned=, remaining=, earned_at=, expires_at=, source=) and PointsState(...), every field
            # given in order (rules/plain.py).
            lot = _NEW_LOT(lot_id, effect.points, effect.points - repaid, now, effect.expires_at, effect.source, False)
            return _POINTS_STATE(points.balance + effect.points - repaid, points.lots + (lot,), points.debt - repaid)
    earned = ledger.earn(points, points=effect.points, now=now, expires_at=effect.expires_at, entry_id=lot_id,
                         source=effect.source)
    return ledger.applied(points, earned)


_NEW_LOT = plain.maker(ledger.Lot)
_POINTS_STATE = plain.maker(PointsState)

MAX_KEPT_BYTES = 350_000  # a DynamoDB item holds 400 KB; EventBridge never delivers more than 256 KB


def _clip(text: str) -> str:
    """The raw event as received, masked (personal fields left out, phone numbers masked: staff read these and
    they outlive the event; rules/free_text.py), cut and marked only if it could not fit in the record."""
    from rules.free_text import masked_raw

    data = masked_raw(text).encode()
    if len(data) <= MAX_KEPT_BYTES:
        return data.decode()
    return data[:MAX_KEPT_BYTES].decode(errors="ignore") + f"... [cut: {len(data)} bytes received]"


def _raw_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return _storable(raw)
    try:
        return _storable(json.dumps(raw, ensure_ascii=False, default=str))
    except (TypeError, ValueError, RecursionError):
        try:
            return _storable(repr(raw))
        except RecursionError:
            return f"<{type(raw).__name__} nested too deep to keep>"


def _storable(text: str) -> str:
    """Text UTF-8 can hold (a lone surrogate becomes an escape), so keeping it cannot fail."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _envelope_id(raw: Any) -> str:
    value = raw.get("id") if isinstance(raw, dict) else None
    return _storable(value)[:128] if isinstance(value, str) else ""


def _short(error: BaseException) -> str:
    try:
        return _storable(str(error))[:300]
    except Exception:  # noqa: BLE001 - a message that cannot be printed still names its type
        return ""


class _Tally:
    """What a sweep run did, added up across the batches it drained (and its progress bar's count)."""

    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
        self.progress = progress
        self.effects: list[dict[str, Any]] = []
        self.follow_ups: list[str] = []
        self.members = 0
        self.failures = 0

    def tick(self) -> None:
        self.members += 1
        if self.progress is not None:
            self.progress(self.members, self.members + 1)


def _retrying(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A sweep's own bookkeeping (its run, its batches, the watermark): every such write is idempotent or
    conditioned on what it read, so DynamoDB's passing trouble (StoreUnavailable) is simply tried again."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return call(*args, **kwargs)
        except StoreUnavailable:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.004 * 2**attempt)))


# Event types that open an order: their first attempt does not read the order's item (`Marks.opens`).
OPENS_AN_ORDER = frozenset({"order.paid"})


def _marks_for(event: BusinessEvent | SweepEvent, optimistic: bool = False) -> Marks | None:
    """Which per-order markers an event's member load reads (`Store.load_member`); None: a whole load."""
    if not isinstance(event, BusinessEvent):
        return None
    order = event.detail.get("orderId")
    if isinstance(order, str) and order:
        # Marks(order=, visits=False, opens=): every field, in order (rules/plain.py).
        return _MARKS(order, False, optimistic and event.detail_type in OPENS_AN_ORDER)
    return Marks(visits=True)


def _amount_of(event: Any) -> int | None:
    """The amount an event carries (`amountFen`, an integer by its schema), kept on its processed record."""
    amount = event.detail.get("amountFen") if isinstance(event, BusinessEvent) else None
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else None
