"""Where follow-up events go: EventBridge in the cloud, the same Lambda handler in-process locally."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Sequence

from rules.engine import EventBus, FollowUp, follow_up_types

SOURCE = "siyu.engine"
# The functions' roles may put only rules.engine.follow_up_types(), from SOURCE, on the bus (serverless.yml,
# custom.followUpPublishing; a test keeps the two equal). A plugin's own `<plugin>.x` follow-ups stay in the
# event's record and are not published: the role would refuse the whole batch.
BATCH = 10  # PutEvents takes at most 10 entries per call
ATTEMPTS = 4

logger = logging.getLogger("siyu.eventbus")


def envelope(event: FollowUp) -> dict[str, Any]:
    """The EventBridge envelope a follow-up arrives in (the in-process bus builds the same shape)."""
    return {"version": "0", "id": event.id, "source": SOURCE, "detail-type": event.detail_type,
            "time": event.time.isoformat().replace("+00:00", "Z"), "account": "local", "region": "local",
            "resources": [], "detail": dict(event.detail)}


class EventBridgeBus(EventBus):
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> Any:
        # Made on the first publish: most events publish nothing, and a botocore client costs a cold start
        # tens of milliseconds (its service model is loaded from disk).
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return self._client

    def publish(self, events: Sequence[FollowUp]) -> None:
        unknown = [e for e in events if e.detail_type not in follow_up_types()]
        if unknown:
            # IAM would refuse the whole batch: the others still go out, these are named for the operator.
            logger.warning("not published (not a follow-up type the role may put): %s",
                           ", ".join(sorted({e.detail_type for e in unknown})))
            events = [e for e in events if e.detail_type in follow_up_types()]
        for start in range(0, len(events), BATCH):
            self._put([self._entry(e) for e in events[start:start + BATCH]])

    def _entry(self, event: FollowUp) -> dict[str, Any]:
        return {"Source": SOURCE, "DetailType": event.detail_type, "Time": event.time,
                "Detail": json.dumps(dict(event.detail), ensure_ascii=False), "EventBusName": self.bus_name}

    def _put(self, entries: list[dict[str, Any]]) -> None:
        pending = entries
        for attempt in range(ATTEMPTS):
            response = self.client.put_events(Entries=pending)
            if not response.get("FailedEntryCount"):
                return
            # Entries come back in request order; only the failed ones are sent again.
            pending = [entry for entry, result in zip(pending, response["Entries"]) if result.get("ErrorCode")]
            logger.warning("put_events: %d of the batch failed", len(pending))
            if attempt + 1 < ATTEMPTS:
                time.sleep(0.1 * 2**attempt)
        raise RuntimeError(f"EventBridge refused {len(pending)} follow-up events after {ATTEMPTS} attempts")


class InProcessBus(EventBus):
    """Locally, a follow-up goes straight to the events handler that Lambda would run, in this process."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any] | None = None) -> None:
        self.handler = handler
        self.published: list[FollowUp] = []

    def publish(self, events: Sequence[FollowUp]) -> None:
        for event in events:
            self.published.append(event)
            if self.handler is not None:
                self.handler(envelope(event), None)
