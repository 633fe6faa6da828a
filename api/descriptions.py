"""Descriptions for the types, fields and arguments whose code does not carry one, applied to the built schema
(api/schema.py) so that every one of them is documented in schema.graphql, GraphiQL and generated client types.
A description written in the code (`strawberry.field(description=...)`) wins; `tests/test_schema_descriptions.py`
fails on anything left without one.

Keys: "Type", "Type.field" or "Type.field(argument)", as GraphQL names them.
"""

from __future__ import annotations

from typing import Mapping

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

FIRST = "How many to return (1-100)."
AFTER = "The `endCursor` of the previous page (null: from the start)."
EDGES = "The items of this page, each with its cursor."
PAGE = "Where this page ends and whether there is more."
CURSOR = "Pass it as `after` to continue after this item."
NODE = "The item."
KEY = "Chosen by the caller, unique per operation: a retry with the same key changes nothing twice."
RESULT = "The outcome, or the business refusal: ask for `__typename` and `... on BusinessError { code message }`."

DESCRIPTIONS: dict[str, str] = {
    # ---- roots ---------------------------------------------------------------------------------------------------
    "Query": "What can be read: the member's own data with a member token, the brand's with a staff token.",
    "Mutation": "What can be changed; business refusals are typed results, never errors.",
    "Query.member(id)": "The member's id.",
    "Query.eventProblems(first)": FIRST,
    "Query.eventProblems(after)": AFTER,
    "Query.auditLog(first)": FIRST,
    "Query.auditLog(after)": AFTER,
    "Query.findMember(phone)": "The member's full mainland mobile number (any separators, +86 accepted); matched "
                               "through its keyed hash, never listed.",
    "Query.findMember(referralCode)": "The member's own referral code (any case).",
    "Query.findMember(id)": "The member's id.",
    "Query.importPreview(file)": "The file's text: CSV with a header row, or JSONL (README \"Import members\").",
    "Query.importPreview(fileName)": "The file's name: its extension picks the format, and it names the source of "
                                     "the imported entries.",
    "Query.importPreview(first)": "How many rows to show (1-100).",
    "ImportPreview.totalRows": "How many rows the file holds.",
    "Mutation.importMembers(file)": "The file's text: CSV with a header row, or JSONL (README \"Import members\").",
    "Mutation.importMembers(fileName)": "The file's name: its extension picks the format, and it names the source of "
                                       "the imported entries.",
    "Mutation.importMembers(startRow)": "The first row of this batch (1 = the first data row); the previous batch's "
                                        "nextRow.",
    "Mutation.importMembers(maxRows)": "How many rows this batch takes (1-500; 100 when left out).",
    "Mutation.resendEvent(eventId)": "The id of a failed event of the staff's brand (eventProblems).",
    "Mutation.simulateEvent(proposed)": "A configuration change to try the event against, as configureBrand would "
                                        "save it; left out: the brand as stored.",
    "ImportMembersResult": "One batch of an import, or why it could not run.",
    "ImportBatch.rows": "Rows read in this batch.",
    "ImportBatch.imported": "Members written in this batch.",
    "ImportBatch.points": "Points opened on the lots of the members written in this batch.",
    "ResendEventResult": "What the engine did with the resent event, or why it could not be resent.",
    "Mutation.bindPhone(code)": "`e.detail.code` of the mini-program's getPhoneNumber button.",
    "Mutation.loginWithWechat(brandId)": "The brand whose mini-program the member uses.",
    "Mutation.loginWithWechat(code)": "The code from `wx.login()` (valid once, for 5 minutes).",
    "Mutation.registerMember(input)": "Who to register.",
    "Mutation.redeemPoints(input)": "How many points, and why.",
    "Mutation.payWithPoints(input)": "The order and the points to pay with.",
    "Mutation.adjustPoints(input)": "The member, the signed change and the reason.",
    "Mutation.reversePointsEntry(input)": "The entry to reverse.",
    "Mutation.setConsent(input)": "The purpose, the choice and the policy version shown.",
    "Mutation.updateProfile(input)": "What to change; fields left out stay as they are.",
    "Mutation.eraseMember(id)": "The member to erase.",
    "Mutation.setMemberTags(memberId)": "The member to tag.",
    "Mutation.setMemberTags(tags)": "The member's new tags (replacing the old ones): at most 50, 32 characters each.",
    "Mutation.configureBrand(input)": "What to change in the brand's configuration.",
    "Mutation.simulateEvent(event)": "An EventBridge event (detail-type, detail...) of the staff's own brand.",

    # ---- members, tiers, points ----------------------------------------------------------------------------------
    "Member.id": "The member's id within the brand (stable; used in tokens and events).",
    "Member.registeredAt": "When the member joined.",
    "Member.tier": "The member's tier now.",
    "Member.points": "Points: balance, lots with their expiry, and history.",
    "Member.activity(first)": FIRST,
    "Member.activity(after)": AFTER,
    "Tier.code": "The tier's stable code, e.g. gold.",
    "Tier.name": "The tier's name to show, e.g. 金卡.",
    "NextTier": "The next rung up the ladder, and how far away it is.",
    "NextTier.code": "The tier's stable code.",
    "NextTier.name": "The tier's name to show.",
    "PageInfo": "Where a page ends, for asking the next one.",
    "PageInfo.hasNextPage": "True when more items follow.",
    "PageInfo.endCursor": "Pass it as `after` for the next page (null: empty page).",
    "ActivityConnection.edges": EDGES,
    "ActivityConnection.pageInfo": PAGE,
    "ActivityEdge.cursor": CURSOR,
    "ActivityEdge.node": NODE,
    "Points.expiringWithin(days)": "The window in days from now (0-3660).",
    "Points.history(first)": FIRST,
    "Points.history(after)": AFTER,
    "PointsLot.id": "The lot's id.",
    "PointsLot.earned": "Points the lot started with.",
    "PointsLot.remaining": "Points of the lot not yet spent.",
    "PointsLot.earnedAt": "When the points were earned.",
    "PointsLot.expiresAt": "When what remains of the lot expires.",
    "PointsEntryConnection.edges": EDGES,
    "PointsEntryConnection.pageInfo": PAGE,
    "PointsEntryEdge.cursor": CURSOR,
    "PointsEntryEdge.node": NODE,

    # ---- consents, privacy, audit --------------------------------------------------------------------------------
    "ConsentState.purpose": "What the consent is for.",
    "ConsentState.granted": "The member's current choice (never asked: false).",
    "ConsentState.policyVersion": "The privacy policy version shown with the newest choice.",
    "ConsentState.at": "When the newest choice was made (null: never asked).",
    "ConsentRecord.granted": "True: granted; false: withdrawn.",
    "ConsentRecord.at": "When it was recorded.",
    "DataExport.memberId": "The member exported.",
    "DataExport.exportedAt": "When the export was made.",
    "AuditRecordConnection.edges": EDGES,
    "AuditRecordConnection.pageInfo": PAGE,
    "AuditRecordEdge.cursor": CURSOR,
    "AuditRecordEdge.node": NODE,
    "AuditRecord.id": "The record's id (`<callId>` for the started record, `<callId>.<outcome>` for the outcome).",
    "AuditRecord.at": "When the call was made.",
    "AuditRecord.staffId": "The staff member who called.",
    "AuditRecord.mutation": "The mutation called.",
    "AuditRecord.arguments": "Its arguments, with personal data masked (free-form: each mutation has its own).",

    # ---- brand, plugins, events (staff); the families' own are in their GraphQL halves -------------------------
    "Brand": "A brand's configuration: its tier ladder and rule plugins.",
    "Brand.id": "The brand's id.",
    "Brand.name": "The brand's name.",
    "Brand.timezone": "The brand's IANA time zone: months and days are counted in it.",
    "Brand.tiers": "The tier ladder, from the entry tier up.",
    "Brand.enabledPlugins": "The names of the rule plugins this brand runs.",
    "Brand.version": "Changes with every configuration change.",
    "EnabledPlugin.name": "The plugin's name.",
    "EnabledPlugin.available": "False when the plugin is not installed or not allowed on this deployment.",
    "EnabledPlugin.problem": "Why it is not available (null: it is).",
    "Plugin.name": "The plugin's name.",
    "Plugin.version": "The installed version.",
    "Plugin.description": "What the plugin does.",
    "Plugin.enabled": "True when the calling staff's brand runs it.",
    "EventProblemConnection.edges": EDGES,
    "EventProblemConnection.pageInfo": PAGE,
    "EventProblemEdge.cursor": CURSOR,
    "EventProblemEdge.node": NODE,
    "EventProblemView.eventId": "The event's id.",
    "EventProblemView.detailType": "The event's detail-type.",
    "EventProblemView.reason": "What was wrong (for staff, in English).",
    "EventProblemView.field": "The event field at fault (rejected events).",
    "EventProblemView.plugin": "The plugin that failed (failed events).",
    "EventProblemView.receivedAt": "When the event arrived.",
    "EventProblemView.raw": "The event as received, with personal fields masked or left out.",
    "ConfigureBrandResult": RESULT,
    "BrandConfigured": "The brand's configuration changed.",
    "BrandConfigured.brand": "The configuration now.",
    "ConfigureBrandInput.name": "The brand's new name (1-64 characters).",
    "ConfigureBrandInput.timezone": "The brand's IANA time zone, e.g. Asia/Shanghai.",
    "ConfigureBrandInput.tiers": "The whole new tier ladder, entry tier first (threshold 0).",
    "ConfigureBrandInput.plugins": "Only the plugins whose settings change.",
    "TierInput": "One rung of a tier ladder.",
    "TierInput.code": "The tier's stable code.",
    "TierInput.name": "The tier's name to show.",
    "TierInput.threshold": "Growth at which a member reaches it (rising strictly up the ladder).",
    "TierInput.deduction": "Growth taken away when the tier's validity ends without an upgrade.",
    "TierInput.benefits": "What the tier gives, as brand data (a JSON object).",
    "PluginSettingInput": "Whether the brand runs a plugin, and with which parameters.",
    "PluginSettingInput.name": "The plugin's name.",
    "PluginSettingInput.enabled": "True to run it.",
    "PluginSettingInput.params": "Its parameters (a JSON object, checked against the plugin's schema).",
    "Simulation.followUps": "The detail-types of the events it would send.",
    "Simulation.reason": "Why it was rejected or failed.",
    "Simulation.field": "The event field at fault (rejected).",
    "Simulation.plugin": "The plugin that failed (failed).",

    # ---- business results ----------------------------------------------------------------------------------------
    "AlreadyRegistered": "Another member of the brand already has this phone number or WeChat identity.",
    "InvalidInput": "An input was refused: `field` names it, `message` says why.",
    "MemberNotFound": "No such member in this brand (or erased).",
    "MemberNotFound.memberId": "The member asked for.",
    "BrandNotConfigured": "The brand has no configuration yet.",
    "BrandNotConfigured.brandId": "The brand.",
    "Busy": "Too many concurrent changes: nothing was written; try again in a moment.",
    "RateLimited.action": "The action limited, e.g. redeemPoints.",
    "LoginResult": RESULT,
    "LoggedIn.expiresAt": "When the token stops working.",
    "LoggedIn.member": "The member signed in.",
    "RegisterMemberResult": RESULT,
    "RegisterMemberInput": "Who to register: a phone number or a WeChat identity, and where they joined.",
    "RegisterMemberInput.openid": "The member's openid in the brand's mini-program.",
    "RegisterMemberInput.unionid": "The member's unionid across the brand's WeChat apps.",
    "RegisterMemberInput.referralCode": "The inviter's referral code, if any.",
    "RedeemPointsResult": RESULT,
    "PointsChanged.entryId": "The ledger entry written.",
    "PointsChanged.points": "The signed change.",
    "InsufficientPoints": "The member has fewer spendable points than asked for.",
    "InsufficientPoints.requested": "Points asked for.",
    "InsufficientPoints.available": "Spendable points now.",
    "PointsDebtOutstanding": "Refunds took back points already spent: nothing can be redeemed until that is repaid.",
    "PointsDebtOutstanding.debt": "Points owed.",
    "IdempotencyKeyReused": "The idempotency key was used for a different request.",
    "IdempotencyKeyReused.key": "The key.",
    "TooManyLots": "The change would touch more points lots than one atomic write holds: use smaller amounts.",
    "TooManyLots.lots": "Lots it would touch.",
    "TooManyLots.limit": "Lots one change may touch.",
    "RedeemPointsInput": "Points the member spends on a reward.",
    "RedeemPointsInput.points": "How many points (positive).",
    "RedeemPointsInput.reason": "What they are spent on.",
    "CheckInResult": RESULT,
    "PayWithPointsResult": RESULT,
    "PointsPaid.entryId": "The ledger entry written.",
    "PointsPaid.points": "Points spent.",
    "PointsPaid.balance": "Spendable points after paying.",
    "PointsPaid.replayed": "True when this repeats an earlier request with the same key.",
    "PointsPaymentTooLarge": "Points may pay only part of an order.",
    "PointsPaymentTooLarge.maxPoints": "The most points this order takes.",
    "PointsPaymentTooLarge.maxFen": "What those points are worth, in fen.",
    "PayWithPointsInput": "Points used as money on an order.",
    "PayWithPointsInput.orderId": "The order.",
    "PayWithPointsInput.orderAmountFen": "The order's amount, in fen.",
    "PayWithPointsInput.points": "Points to pay with (a whole number of fen's worth).",
    "PayWithPointsInput.idempotencyKey": KEY,
    "AdjustPointsResult": RESULT,
    "AdjustPointsInput": "A staff correction of a member's points.",
    "AdjustPointsInput.memberId": "The member.",
    "AdjustPointsInput.idempotencyKey": KEY,
    "ReversePointsResult": RESULT,
    "EntryNotFound": "The member has no ledger entry with this id.",
    "EntryNotFound.entryId": "The entry asked for.",
    "EntryNotReversible": "The entry cannot be reversed.",
    "EntryNotReversible.entryId": "The entry.",
    "EntryNotReversible.reason": "Why, in the request's language.",
    "ReversePointsEntryInput": "A ledger entry to undo with an opposite entry.",
    "ReversePointsEntryInput.memberId": "The member.",
    "ReversePointsEntryInput.entryId": "The entry.",
    "ReversePointsEntryInput.idempotencyKey": KEY,
    "ReversePointsEntryInput.reason": "Why it is reversed.",
    "SetConsentResult": RESULT,
    "ConsentRecorded.consent": "The member's consent for this purpose now.",
    "SetConsentInput": "A member's choice for one purpose.",
    "SetConsentInput.purpose": "What the consent is for.",
    "UpdateProfileResult": RESULT,
    "ProfileUpdated": "The profile changed.",
    "ProfileUpdated.member": "The member now.",
    "UpdateProfileInput": "What the member changes; fields left out stay as they are.",
    "EraseResult": RESULT,
    "AccountErased.memberId": "The member erased.",
    "AccountErased.erasedAt": "When.",
    "SetMemberTagsResult": RESULT,
}


def describe(schema: GraphQLSchema, more: Mapping[str, str] | None = None) -> None:
    """Fill in what the code left undescribed (the code's own description wins); `more`: the families' own
    (`DESCRIPTIONS` of their GraphQL halves)."""
    DESCRIPTIONS = {**globals()["DESCRIPTIONS"], **(more or {})}  # noqa: N806 - the module's table, widened
    for name, kind in schema.type_map.items():
        if name.startswith("__"):
            continue
        if not kind.description and name in DESCRIPTIONS:
            kind.description = DESCRIPTIONS[name]
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in kind.fields.items():
                key = f"{name}.{field_name}"
                if not field.description and key in DESCRIPTIONS:
                    field.description = DESCRIPTIONS[key]
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description and f"{key}({arg_name})" in DESCRIPTIONS:
                        arg.description = DESCRIPTIONS[f"{key}({arg_name})"]


__all__ = ["AFTER", "CURSOR", "DESCRIPTIONS", "EDGES", "FIRST", "KEY", "NODE", "PAGE", "RESULT", "describe"]
