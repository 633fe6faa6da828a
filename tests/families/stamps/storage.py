"""The stamp card in the table: one counter item in the member's partition."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from infra import keys
from infra.models import SiyuItem
from tests.families.stamps.model import StampsAdded


class StampCardItem(SiyuItem, discriminator="stamp_card"):
    stamps = NumberAttribute(default=0)


def _write(tx, write: StampsAdded, record) -> None:
    tx.add(StampCardItem(keys.member_pk(write.brand_id, write.member_id), "STAMPCARD"), stamps=write.stamps)


class Storage:
    def stamp_card(self, brand_id: str, member_id: str) -> int:
        try:
            return int(StampCardItem.get(keys.member_pk(brand_id, member_id), "STAMPCARD").stamps)
        except StampCardItem.DoesNotExist:
            return 0


WRITERS = {StampsAdded: _write}
HOLDINGS = {StampCardItem: ("stamps", lambda item: int(item.stamps))}
