import uuid, json, zlib
from datetime import timedelta
from infra import db, keys, table, settings
from bench.capacity import item_size, value_size
from tests.integration.test_capacity_units import T, order_paid

def test_dump(engine, store, rules_brand):
    from tests.helpers import register
    member = register(store, rules_brand, T)
    engine.handle({"version": "0", "id": f"now-{uuid.uuid4()}", "detail-type": "order.paid",
                   "source": "siyu.shop", "time": (T + timedelta(hours=1)).isoformat(),
                   "detail": order_paid(rules_brand, member, 25900)})
    c = db.client()
    for pk in (keys.ledger_pk(rules_brand, member),):
        for it in c.query(TableName=settings.settings().table_name, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": pk}})["Items"]:
            print(it["sk"], item_size(it), {k: len(k) + value_size(v) for k, v in it.items()})
            if "fx" in it: print(json.dumps(json.loads(zlib.decompress(it["fx"]["B"])), ensure_ascii=False)[:3000])
            if "en" in it: print(json.loads(zlib.decompress(it["en"]["B"])))
            if "m" in it: print(it["m"])
