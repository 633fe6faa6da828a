"""What the staff console asks of the API: find a member by phone (masked, never the number), dry runs of a change,
resending a failed event, importing from an upload."""

import json
from datetime import datetime, timezone

from infra import runtime
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.helpers import business_event, call_graphql, error_codes, new_phone, order_paid, register, token

NOW = datetime.now(timezone.utc)
FIND = """query($phone: String, $code: String, $id: ID) { findMember(phone: $phone, referralCode: $code, id: $id) {
  id phoneMasked referralCode } }"""


def test_the_care_desk_finds_a_member_by_full_phone_and_sees_it_masked(store, brand_id):
    number = new_phone()
    member = register(store, brand_id, NOW, phone=number)
    staff = token("staff", "desk", brand_id)
    _, body = call_graphql(FIND, {"phone": f"+86 {number[:3]} {number[3:7]} {number[7:]}"}, staff)
    found = body["data"]["findMember"]
    assert found["id"] == member and found["phoneMasked"] == f"{number[:3]}****{number[-4:]}"
    assert number not in json.dumps(body)
    _, by_code = call_graphql(FIND, {"code": found["referralCode"].lower()}, staff)
    _, by_id = call_graphql(FIND, {"id": member}, staff)
    assert by_code["data"]["findMember"]["id"] == by_id["data"]["findMember"]["id"] == member


def test_a_partial_number_finds_nothing_and_another_brands_staff_find_nothing(store, brand_id):
    number = new_phone()
    register(store, brand_id, NOW, phone=number)
    _, partial = call_graphql(FIND, {"phone": number[:7]}, token("staff", "desk", brand_id))
    assert error_codes(partial) == ["BAD_USER_INPUT"]
    _, elsewhere = call_graphql(FIND, {"phone": number}, token("staff", "desk", brand_id + "x"))
    assert elsewhere["data"]["findMember"] is None


SIMULATE = """mutation($event: JSON!, $proposed: ConfigureBrandInput) { simulateEvent(event: $event, proposed: $proposed) {
  status effects reason field } }"""


def test_a_dry_run_shows_the_effects_with_and_without_a_proposed_parameter(store, rules_brand):
    member = register(store, rules_brand, NOW)
    event = business_event("order.paid", order_paid(rules_brand, member, 10000), time=NOW)
    staff = token("staff", "ops", rules_brand)
    _, now_body = call_graphql(SIMULATE, {"event": event}, staff)
    _, proposed_body = call_graphql(SIMULATE, {"event": event, "proposed": {
        "plugins": [{"name": "points", "params": {"pointsPerYuan": 3}}]}}, staff)

    def awarded(body):
        return [e["points"] for e in body["data"]["simulateEvent"]["effects"] if e["effect"] == "AwardPoints"]

    assert awarded(now_body) == [100] and awarded(proposed_body) == [300]
    assert store.get_brand(rules_brand, fresh=True).plugins["points"]["pointsPerYuan"] == 1  # nothing saved


def test_a_bad_proposed_parameter_names_its_field(store, rules_brand):
    member = register(store, rules_brand, NOW)
    event = business_event("order.paid", order_paid(rules_brand, member, 10000), time=NOW)
    _, body = call_graphql(SIMULATE, {"event": event, "proposed": {
        "plugins": [{"name": "points", "params": {"pointsPerYuan": -1}}]}}, token("staff", "ops", rules_brand))
    result = body["data"]["simulateEvent"]
    assert (result["status"], result["field"]) == ("invalid", "plugins.points.params.pointsPerYuan")


RESEND = """mutation($id: String!) { resendEvent(eventId: $id) { __typename
  ... on EventResent { status reason } ... on InvalidInput { field message } } }"""


def test_a_failed_event_is_resent_once_its_cause_is_fixed_and_a_second_resend_changes_nothing(store, rules_brand):
    brand = store.get_brand(rules_brand, fresh=True)
    broken = rules_brand + "f"
    # The brand enabled a plugin this deployment does not have: its events fail, naming it.
    store.put_brand(BrandConfig(broken, "坏配置", BAIGUOYUAN_LADDER, plugins={**brand.plugins, "gone_plugin": {}}))
    member = register(store, broken, NOW)
    event = business_event("order.paid", order_paid(broken, member, 20000), time=NOW, source=f"siyu.brand.{broken}")
    assert runtime.engine().handle(event).status == "failed"
    staff = token("staff", "ops", broken)

    store.put_brand(BrandConfig(broken, "坏配置", BAIGUOYUAN_LADDER, plugins=dict(brand.plugins),
                                version=store.get_brand(broken, fresh=True).version))
    runtime.store().forget_brands()
    problems = "{ eventProblems(first: 5) { edges { node { eventId state appliedSince } } } }"
    _, before = call_graphql(problems, token=staff)
    assert [n["node"] for n in before["data"]["eventProblems"]["edges"]] == [
        {"eventId": event["id"], "state": "FAILED", "appliedSince": False}]
    _, first = call_graphql(RESEND, {"id": event["id"]}, staff)
    assert first["data"]["resendEvent"] == {"__typename": "EventResent", "status": "applied", "reason": None}
    _, again = call_graphql(RESEND, {"id": event["id"]}, staff)
    assert again["data"]["resendEvent"]["status"] == "duplicate"
    assert store.load_member(broken, member).points.balance == 200
    # The failure stays in the record (what happened, and why), and the list says the event has landed since.
    _, after = call_graphql(problems, token=staff)
    assert [n["node"] for n in after["data"]["eventProblems"]["edges"]] == [
        {"eventId": event["id"], "state": "FAILED", "appliedSince": True}]
    _, unknown = call_graphql(RESEND, {"id": "no-such-event"}, staff)
    assert unknown["data"]["resendEvent"]["field"] == "eventId"


IMPORT = """mutation($file: String!, $name: String!, $start: Int, $max: Int) {
  importMembers(file: $file, fileName: $name, startRow: $start, maxRows: $max) { __typename
  ... on ImportBatch { rows imported skipped points rejected nextRow
                       rejectedRows { row externalId problems { field code message } } } } }"""
PREVIEW = """query($file: String!, $name: String!) { importPreview(file: $file, fileName: $name) { totalRows rows
  previewRows { row externalId status problems { field code } phoneMasked points tier } } }"""


def test_an_upload_is_previewed_with_its_bad_row_then_imported_in_batches(store, brand_id):
    phones = [new_phone() for _ in range(3)]
    file = ("external_id,phone,tier,lots\n"
            f"C1,{phones[0]},YIN,100@2030-01-01\n"
            f"C2,{phones[1]},不存在,\n"
            f"C3,{phones[2]},,50@2030-01-01\n")
    staff = token("staff", "ops", brand_id)
    _, preview = call_graphql(PREVIEW, {"file": file, "name": "old.csv"}, staff)
    rows = preview["data"]["importPreview"]["rows"]
    assert preview["data"]["importPreview"]["totalRows"] == 3
    assert [r["status"] for r in rows] == ["ready", "rejected", "ready"]
    assert rows[1]["problems"][0]["field"] == "tier" and rows[0]["phoneMasked"].count("*") == 4
    typed = preview["data"]["importPreview"]["previewRows"]
    assert [(r["row"], r["externalId"], r["status"], r["points"], r["tier"]) for r in typed] == [
        (1, "C1", "READY", 100, "YIN"), (2, "C2", "REJECTED", 0, None), (3, "C3", "READY", 50, "PU")]
    assert typed[1]["problems"] == [{"field": "tier", "code": rows[1]["problems"][0]["code"]}]
    assert not any(p in json.dumps(preview) for p in phones)
    _, first = call_graphql(IMPORT, {"file": file, "name": "old.csv", "max": 2}, staff)
    batch = first["data"]["importMembers"]
    assert (batch["rows"], batch["imported"], batch["nextRow"]) == (2, 1, 3)
    assert batch["rejected"][0]["problems"][0]["code"] == "UNKNOWN_TIER"
    assert [(r["row"], r["externalId"], [p["code"] for p in r["problems"]]) for r in batch["rejectedRows"]] == [
        (2, "C2", ["UNKNOWN_TIER"])]
    _, second = call_graphql(IMPORT, {"file": file, "name": "old.csv", "start": 3, "max": 2}, staff)
    assert (second["data"]["importMembers"]["imported"], second["data"]["importMembers"]["nextRow"]) == (1, None)
    _, again = call_graphql(IMPORT, {"file": file, "name": "old.csv"}, staff)
    assert (again["data"]["importMembers"]["imported"], again["data"]["importMembers"]["skipped"]) == (0, 2)


def test_an_imported_files_rows_stay_out_of_the_audit_log_which_outlives_erasure(store, brand_id):
    phone = new_phone()
    file = f"external_id,phone,nickname,lots\nA1,{phone},阿花,100@2030-01-01\n"
    _, done = call_graphql(IMPORT, {"file": file, "name": "crm.csv"}, token("staff", "ops", brand_id))
    assert done["data"]["importMembers"]["imported"] == 1
    kept = json.dumps([r.arguments for r in store.audit_log(brand_id, first=20, after=None).items
                       if r.mutation == "importMembers"], ensure_ascii=False)
    assert "crm.csv" in kept
    assert phone[-4:] not in kept and "阿花" not in kept
