"""The daily sweep's fanned-out days (rules/fanout.py): one run item per day and listing attempt, one marker per
finished batch.

| item            | pk                                   | sk               |
| run of a day    | SWEEPRUN#<sweep>                     | <until time key> | attempt, covers, total, done; TTL 60 days
| batch finished  | SWEEPRUN#<sweep>#<until>#<attempt>   | <batch number>   | TTL 60 days

A batch is counted by one transaction that writes its marker (only if absent) and adds one to the run's `done` (only
if the run is still that attempt's): a batch SQS delivers twice is counted once, and a batch of an abandoned listing
never completes the listing that replaced it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute, \
    UTCDateTimeAttribute
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from infra import table
from infra.dynamo_errors import response_code
from infra.models import SiyuItem
from infra.transactions import connection
from rules.ids import time_key
from rules.sweeps import SweepRun

# Long after any redelivery (SQS keeps a message 4 days at most) and any re-listing of the day.
KEEP = timedelta(days=60)


class SweepRunItem(SiyuItem, discriminator="sweeprun"):
    attempt = UnicodeAttribute()
    until = UTCDateTimeAttribute()
    opened_at = UTCDateTimeAttribute()
    covers = UnicodeSetAttribute(null=True)  # DynamoDB has no empty set: None is none
    total = NumberAttribute(null=True)
    done = NumberAttribute(default=0)
    ttl = TTLAttribute(null=True, attr_name=table.TTL_ATTRIBUTE)


class SweepBatchItem(SiyuItem, discriminator="sweepbatch"):
    ttl = TTLAttribute(null=True, attr_name=table.TTL_ATTRIBUTE)


def run_pk(sweep: str) -> str:
    return f"SWEEPRUN#{sweep}"


def batch_pk(sweep: str, until: datetime, attempt: str) -> str:
    return f"SWEEPRUN#{sweep}#{time_key(until)}#{attempt}"


def _run(item: SweepRunItem) -> SweepRun:
    return SweepRun(until=item.until, attempt=item.attempt, opened_at=item.opened_at,
                    covers=frozenset(item.covers or ()), total=None if item.total is None else int(item.total),
                    done=int(item.done or 0))


class SweepRunStorage:
    """The store's half for fanned-out sweep days (the `Store` protocol's sweep-run methods)."""

    def sweep_run(self, sweep: str, until: datetime) -> SweepRun | None:
        try:
            return _run(SweepRunItem.get(run_pk(sweep), time_key(until), consistent_read=True))
        except SweepRunItem.DoesNotExist:
            return None

    def open_sweep_run(self, sweep: str, run: SweepRun, *, replacing: str | None) -> bool:
        item = SweepRunItem(run_pk(sweep), time_key(run.until), attempt=run.attempt, until=run.until,
                            opened_at=run.opened_at, covers=set(run.covers) or None, done=0,
                            ttl=run.opened_at + KEEP)
        condition = (SweepRunItem.pk.does_not_exist() if replacing is None
                     else SweepRunItem.attempt == replacing)
        try:
            item.save(condition=condition)
        except PutError as error:
            if response_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def close_sweep_listing(self, sweep: str, until: datetime, attempt: str, total: int) -> SweepRun | None:
        item = SweepRunItem(run_pk(sweep), time_key(until))
        try:
            item.update(actions=[SweepRunItem.total.set(total)], condition=SweepRunItem.attempt == attempt)
        except UpdateError as error:
            if response_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return _run(item)

    def finish_sweep_batch(self, sweep: str, until: datetime, attempt: str, number: int) -> SweepRun | None:
        run = SweepRunItem(run_pk(sweep), time_key(until))
        marker = SweepBatchItem(batch_pk(sweep, until, attempt), str(number))
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(marker, condition=SweepBatchItem.pk.does_not_exist())
                tx.update(run, actions=[SweepRunItem.done.add(1)], condition=SweepRunItem.attempt == attempt)
        except TransactWriteError as error:
            if not any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                raise
            # Counted already (its marker exists), or the day was re-listed since: the run as it stands says which.
        current = self.sweep_run(sweep, until)
        return current if current is not None and current.attempt == attempt else None
