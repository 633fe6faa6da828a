"""The floor: each business change done with raw boto3 and the fewest, smallest items any design needs.

A member's state is one small partition (a profile holding balance, growth, tier and version; one item per lot that
still holds points); history is one ledger entry per change, keyed by what caused it, so its "does not exist yet"
condition is the idempotency check and no separate marker is needed. Every change reads the state once (strongly
consistent: the read decides the write) and writes one transaction conditioned on the version it read. The page
reads the same partition eventually consistent. Attribute names are one or two letters.

It runs on the same table, under its own partition prefix, metered like the engine (bench/cost.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from infra import table
from rules.ids import time_key


@dataclass
class FloorMember:
    pk: str
    lots: list[str] = field(default_factory=list)
    version: int = 0


class Floor:
    def __init__(self, client, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def member(self, *, live_lots: int, expiring: datetime | None = None) -> FloorMember:
        m = FloorMember(f"FLOOR#{uuid.uuid4().hex[:12]}")
        self.client.put_item(TableName=self.table, Item={
            table.PK: {"S": m.pk}, table.SK: {"S": "P"}, "b": {"N": str(300 * live_lots)}, "g": {"N": "0"},
            "tc": {"S": "PU"}, "v": {"N": "0"}})  # tier code ("t" is the history index's key)
        for k in range(live_lots):
            at = expiring or datetime(2027, 3, 1) + timedelta(days=k)
            sk = f"L#{time_key(at)}#{k}"
            item = {table.PK: {"S": m.pk}, table.SK: {"S": sk}, "r": {"N": "300"}, "e": {"N": "300"}}
            if expiring is not None:
                item[table.DUE_PK] = {"S": f"FLOORDUE#{at:%Y-%m-%d}"}
                item[table.DUE_SK] = {"S": f"{time_key(at)}#{m.pk}"}
            self.client.put_item(TableName=self.table, Item=item)
            m.lots.append(sk)
        return m

    def _state(self, m: FloorMember, consistent: bool = True) -> None:
        self.client.query(TableName=self.table, KeyConditionExpression="#p = :p",
                          ExpressionAttributeNames={"#p": table.PK}, ExpressionAttributeValues={":p": {"S": m.pk}},
                          ConsistentRead=consistent)

    def _profile(self, m: FloorMember, points: int, growth: int = 0, extra: str = "") -> dict:
        m.version += 1
        return {"Update": {
            "TableName": self.table, "Key": {table.PK: {"S": m.pk}, table.SK: {"S": "P"}},
            "UpdateExpression": "SET v = :n" + extra + " ADD b :b, g :g",
            "ConditionExpression": "v = :v",
            "ExpressionAttributeValues": {":n": {"N": str(m.version)}, ":v": {"N": str(m.version - 1)},
                                          ":b": {"N": str(points)}, ":g": {"N": str(growth)}}}}

    def _entry(self, m: FloorMember, cause: str, kind: str, points: int, lot: str) -> dict:
        return {"Put": {
            "TableName": self.table,
            "Item": {table.PK: {"S": m.pk + "#L"}, table.SK: {"S": cause}, "k": {"S": kind},
                     "p": {"N": str(points)}, "a": {"S": lot}},
            "ConditionExpression": "attribute_not_exists(#p)", "ExpressionAttributeNames": {"#p": table.PK}}}

    def _new_lot(self, m: FloorMember, points: int, now: datetime) -> dict:
        expires = now + timedelta(days=365)
        sk = f"L#{time_key(expires)}#{uuid.uuid4().hex[:6]}"
        m.lots.append(sk)
        return {"Put": {"TableName": self.table, "Item": {
            table.PK: {"S": m.pk}, table.SK: {"S": sk}, "r": {"N": str(points)}, "e": {"N": str(points)},
            table.DUE_PK: {"S": f"FLOORDUE#{expires:%Y-%m-%d}"}, table.DUE_SK: {"S": f"{time_key(expires)}#{m.pk}"}}}}

    def _take(self, m: FloorMember, points: int) -> dict:
        return {"Update": {"TableName": self.table, "Key": {table.PK: {"S": m.pk}, table.SK: {"S": m.lots[0]}},
                           "UpdateExpression": "ADD r :t", "ConditionExpression": "r >= :p",
                           "ExpressionAttributeValues": {":t": {"N": str(-points)}, ":p": {"N": str(points)}}}}

    def member_page(self, m: FloorMember) -> None:
        self._state(m, consistent=False)

    def order_paid(self, m: FloorMember, now: datetime) -> None:
        self._state(m)
        self.client.transact_write_items(TransactItems=[
            self._profile(m, 259, 259), self._new_lot(m, 259, now),
            self._entry(m, f"E#{uuid.uuid4().hex[:16]}", "earn", 259, m.lots[-1])])

    def refund(self, m: FloorMember, now: datetime) -> None:
        self._state(m)
        self.client.transact_write_items(TransactItems=[
            self._profile(m, -50, -50), self._take(m, 50),
            self._entry(m, f"E#{uuid.uuid4().hex[:16]}", "refund", -50, m.lots[0])])

    def check_in(self, m: FloorMember, now: datetime) -> None:
        # The profile holds the last check-in day; its condition is the once-a-day rule.
        self._state(m)
        profile = self._profile(m, 5, 0, ", d = :d")
        profile["Update"]["ExpressionAttributeValues"][":d"] = {"S": f"{now:%Y-%m-%d}"}
        self.client.transact_write_items(TransactItems=[
            profile, self._new_lot(m, 5, now), self._entry(m, f"E#{uuid.uuid4().hex[:16]}", "earn", 5, m.lots[-1])])

    def redeem(self, m: FloorMember, now: datetime) -> None:
        self._state(m)
        self.client.transact_write_items(TransactItems=[
            self._profile(m, -100), self._take(m, 100),
            self._entry(m, f"R#{uuid.uuid4().hex[:16]}", "redeem", -100, m.lots[0])])

    def sweep(self, members: list[FloorMember], now: datetime) -> None:
        """One due-index Query for the day, then per member its state and one transaction: the lot deleted, the
        balance lowered, the expiry entry written."""
        day = f"FLOORDUE#{now:%Y-%m-%d}"
        pages, start = [], None
        while True:
            kwargs = {"ExclusiveStartKey": start} if start else {}
            page = self.client.query(TableName=self.table, IndexName=table.DUE_INDEX,
                                     KeyConditionExpression="#p = :p AND #s <= :s",
                                     ExpressionAttributeNames={"#p": table.DUE_PK, "#s": table.DUE_SK},
                                     ExpressionAttributeValues={":p": {"S": day}, ":s": {"S": f"{time_key(now)}~"}},
                                     **kwargs)
            pages.append(page)
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        for m in members:
            self._state(m)
            m.version += 1
            self.client.transact_write_items(TransactItems=[
                {"Update": {"TableName": self.table, "Key": {table.PK: {"S": m.pk}, table.SK: {"S": "P"}},
                            "UpdateExpression": "SET v = :n ADD b :b", "ConditionExpression": "v = :v",
                            "ExpressionAttributeValues": {":n": {"N": str(m.version)},
                                                          ":v": {"N": str(m.version - 1)}, ":b": {"N": "-300"}}}},
                {"Delete": {"TableName": self.table, "Key": {table.PK: {"S": m.pk}, table.SK: {"S": m.lots[0]}},
                            "ConditionExpression": "r = :r", "ExpressionAttributeValues": {":r": {"N": "300"}}}},
                self._entry(m, f"X#{now:%Y%m%d}", "expire", -300, m.lots[0])])
