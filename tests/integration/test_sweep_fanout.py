"""The daily sweep fans out: a coordinator lists the day by shard and hands batches to workers through a queue;
the watermark moves only once every batch is done; per-member cost does not grow with the number of due members;
only the reminder day each brand chose is queried."""

from __future__ import annotations

from datetime import timedelta

from bench.sweep_scale import DAY, RecordingQueue, measure, seed
from infra import db
from rules import fanout
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from rules.events import SweepEvent
from rules.sweeps import DAILY


def brand_with_due_members(store, plugins, brand_id: str, members: int, *, remind: int = 0) -> list[str]:
    store.put_brand(BrandConfig(brand_id, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand_id, now=DAY - timedelta(days=1, hours=1), plugin_settings=[
        ("points_expiry", True, {"remindDaysBefore": remind})])
    return seed(brand_id, members, DAY - timedelta(hours=1))


def test_the_watermark_moves_only_when_every_batch_of_the_day_is_done(fresh_table, store, plugins):
    members = brand_with_due_members(store, plugins, "fan", 250)
    queue = RecordingQueue()
    engine = Engine(store, plugins, None, sweep_queue=queue)
    engine.sweep(SweepEvent("s0", DAILY, DAY - timedelta(days=1)))

    summary = engine.sweep(SweepEvent("s1", DAILY, DAY))
    batches = [m for m in queue.messages if m["kind"] == fanout.BATCH]
    assert summary.more is True and summary.members == 250 and len(batches) == 3  # 100, 100 and 50
    queue.messages.clear()

    # Two batches done (one of them delivered twice, as SQS may): the day is not done, the watermark stays.
    engine.sweep_message(batches[0])
    engine.sweep_message(batches[1])
    engine.sweep_message(batches[1])
    assert store.sweep_watermarks(DAILY)["fan"] == DAY - timedelta(days=1)
    assert queue.messages == []
    # A coordinator run meanwhile (tomorrow's schedule, a retry) waits for the day instead of listing it again.
    again = engine.sweep(SweepEvent("s1-again", DAILY, DAY))
    assert again.more is True and queue.messages == []

    # The last batch calls the coordinator back, which moves the watermark.
    engine.sweep_message(batches[2])
    assert [m["kind"] for m in queue.messages] == [fanout.COORDINATE]
    done = engine.sweep_message(queue.messages.pop())
    assert done.more is False and done.swept_until == DAY.isoformat()
    assert store.sweep_watermarks(DAILY)["fan"] == DAY
    assert all(store.load_member("fan", m).points.balance == 0 for m in members)


def test_a_sweep_that_runs_out_of_budget_is_continued_at_once_not_tomorrow(fresh_table, store, plugins):
    # Three days due in a row, on the queue: each day's last batch calls the coordinator, which lists the next.
    brand_with_due_members(store, plugins, "chain", 0)
    for k in range(3):
        seed("chain", 5, DAY + timedelta(days=k, hours=-1))
    queue = RecordingQueue()
    engine = Engine(store, plugins, None, sweep_queue=queue)
    first = engine.sweep(SweepEvent("late", DAILY, DAY + timedelta(days=2)))
    assert first.more is True
    rounds = 0
    while queue.messages:
        engine.sweep_message(queue.messages.pop(0))
        rounds += 1
    assert store.sweep_watermarks(DAILY)["chain"] == DAY + timedelta(days=2)
    assert rounds == 3 + 3  # a batch a day, and a call back after each


def test_requests_per_due_member_do_not_grow_with_the_number_of_due_members(fresh_table, store, plugins):
    small = measure(store, plugins, 20)
    large = measure(store, plugins, 200)
    assert small.expired == 20 and large.expired == 200
    # A worker's requests are the member's own (load, one transaction) plus two per batch (count it done, read the
    # run back): the same per member at either size, and the whole per member never more at the larger size.
    def own(m):
        return (m.worker_requests - 2 * m.batches) / m.members

    assert own(large) == own(small) == 2
    assert large.worker_per_member <= small.worker_per_member
    # The coordinator reads the due index a page at a time: its share per member only shrinks as the day grows.
    assert large.coordinator_per_member <= small.coordinator_per_member


def test_only_the_reminder_day_a_brand_chose_is_queried_and_its_members_alone_are_loaded(
        fresh_table, store, plugins, monkeypatch):
    # Reminders 14 days ahead: members whose points expire in 30 days are none of today's business.
    brand_with_due_members(store, plugins, "remind14", 0, remind=14)
    seed("remind14", 3, DAY + timedelta(days=30, hours=-1))
    seed("remind14", 2, DAY + timedelta(days=14, hours=-1))
    engine = Engine(store, plugins, None)
    engine.sweep(SweepEvent("r0", DAILY, DAY - timedelta(days=1)))
    listed = []
    original = store.due_pages

    def due_pages(since, until, *, page_size):
        listed.append(since)
        return original(since, until, page_size=page_size)

    monkeypatch.setattr(store, "due_pages", due_pages)
    summary = engine.sweep(SweepEvent("r1", DAILY, DAY))

    ahead = sorted((since.date() - DAY.date()).days for since in listed if since > DAY)
    assert ahead == [14]  # not 1, 3, 7, 14 and 30
    assert summary.members == 2
    assert sum(1 for f in summary.effects if f.get("rule") == "remind-before-expiry") >= 2


def test_a_late_lot_dated_while_its_day_was_being_swept_is_written_off_the_next_day(fresh_table, store, plugins):
    brand_with_due_members(store, plugins, "straggle", 3)
    queue = RecordingQueue()
    engine = Engine(store, plugins, None, sweep_queue=queue)
    engine.sweep(SweepEvent("d0", DAILY, DAY - timedelta(days=1)))
    mark = store.sweep_watermarks(DAILY)["straggle"]
    engine.sweep(SweepEvent("d1", DAILY, DAY))  # the day is listed; its batches are out

    # Meanwhile a 20-day-old order's lot, already expired, is listed just after the watermark the event read
    # (Engine._due_floor): inside the day already listed.
    (late,) = seed("straggle", 1, mark + timedelta(microseconds=1))
    while queue.messages:
        engine.sweep_message(queue.messages.pop(0))
    assert store.sweep_watermarks(DAILY)["straggle"] == DAY
    assert store.load_member("straggle", late).points.balance == 10  # missed by that day

    engine.sweep(SweepEvent("d2", DAILY, DAY + timedelta(days=1)))
    while queue.messages:
        engine.sweep_message(queue.messages.pop(0))
    assert store.load_member("straggle", late).points.balance == 0  # the next day looked at that instant again
