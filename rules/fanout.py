"""How the daily sweep's work travels from the coordinator to workers: messages on a queue.

Two kinds of message, plain JSON so SQS can carry them (infra/sweep_queue.py) and the in-process queue below holds
the very same dicts:
- `batch`: up to `sweeps.BATCH_SIZE` (brand, member) pairs of one day's listing attempt; a worker applies each
  member's due work at the day's instant (`Engine.sweep_batch`) and counts the batch done (`Store.finish_sweep_batch`).
- `coordinate`: call the coordinator again (`Engine.sweep_message`): sent by the worker that finishes a day's last
  batch, so the next day (or the watermark's move) follows at once instead of at tomorrow's schedule.

The in-process queue is the local stack's, the CLI's and the tests': the engine that filled it drains it itself, in
order, through the same `sweep_batch` the SQS worker calls.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any, Iterable, Protocol, Sequence

from rules.sweeps import SweepRun

BATCH = "batch"
COORDINATE = "coordinate"
# A queued listing not finished after this long (measured in sweep time) lost batches for good (a batch that
# ended in the dead-letter queue and was never redriven): the next coordinator lists the day again.
RELIST_AFTER = timedelta(hours=20)


class SweepQueue(Protocol):
    in_process: bool  # True: the engine drains it itself; False: workers elsewhere (SQS) take the messages

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Queue the messages (at least once each)."""

    def abandoned(self, run: SweepRun, now: datetime) -> bool:
        """Whether the run's unfinished batches can no longer arrive, so the day must be listed again."""


class InProcessQueue:
    """A FIFO in memory: what was sent and not yet taken. Lost with the process, so a run it does not hold the
    batches of is abandoned (a CLI run that stopped on an error is listed again by the next one)."""

    in_process = True

    def __init__(self) -> None:
        self._messages: deque[dict[str, Any]] = deque()

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        self._messages.extend(messages)

    def take(self) -> dict[str, Any] | None:
        return self._messages.popleft() if self._messages else None

    def put_back(self, messages: Iterable[dict[str, Any]]) -> None:
        self._messages.extendleft(reversed(list(messages)))

    def __len__(self) -> int:
        return len(self._messages)

    def abandoned(self, run: SweepRun, now: datetime) -> bool:
        return not any(m.get("kind") == BATCH and m.get("until") == run.until.isoformat()
                       and m.get("attempt") == run.attempt for m in self._messages)


def batch_message(sweep: str, event_id: str, run_at: datetime, until: datetime, attempt: str, number: int,
                  members: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"kind": BATCH, "sweep": sweep, "eventId": event_id, "runAt": run_at.isoformat(),
            "until": until.isoformat(), "attempt": attempt, "number": number,
            "members": [[brand_id, member_id] for brand_id, member_id in members]}


def coordinate_message(sweep: str, event_id: str, run_at: datetime) -> dict[str, Any]:
    return {"kind": COORDINATE, "sweep": sweep, "eventId": event_id, "runAt": run_at.isoformat()}
