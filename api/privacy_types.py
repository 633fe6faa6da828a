"""GraphQL types for privacy (PIPL): consent, profile changes, data export, erasure, and the staff audit log."""


from datetime import datetime
from typing import Annotated, Optional, Union

import strawberry

from api.enums import AuditOutcome
from strawberry.scalars import JSON

from api.consent_types import ConsentPurpose, ConsentState
from api.profile_types import BirthdayChangeTooSoon
from api.types import Busy, InvalidInput, Member, MemberNotFound, PageInfo, RateLimited
from rules.audit import AuditRecord, call_id


@strawberry.input
class SetConsentInput:
    purpose: ConsentPurpose
    granted: bool = strawberry.field(description="true grants, false withdraws.")
    policy_version: str = strawberry.field(description="The version of the privacy policy the member was shown.")
    channel: Optional[str] = strawberry.field(
        default=None, description="miniprogram, h5, wecom or store; default: the channel the member joined through.")


@strawberry.type(description="The new record is in the history and is now the member's choice for its purpose.")
class ConsentRecorded:
    consent: ConsentState


SetConsentResult = Annotated[Union[ConsentRecorded, InvalidInput, MemberNotFound, RateLimited, Busy],
                             strawberry.union("SetConsentResult")]


@strawberry.input
class UpdateProfileInput:
    nickname: Optional[str] = strawberry.field(default=None,
                                               description="At most 32 characters; blank removes it.")
    birthday: Optional[str] = strawberry.field(
        default=None, description='Month and day only, "--03-01"; can change once a year (null: unchanged).')


@strawberry.type
class ProfileUpdated:
    member: Member


UpdateProfileResult = Annotated[Union[ProfileUpdated, InvalidInput, MemberNotFound, RateLimited,
                                      BirthdayChangeTooSoon, Busy],
                                strawberry.union("UpdateProfileResult")]


@strawberry.type(description="The member's personal data is erased and the lookups to it are freed; the anonymised "
                             "ledger (entries, lots, balance) stays for accounting.")
class AccountErased:
    member_id: strawberry.ID
    erased_at: datetime
    freed_lookups: list[str] = strawberry.field(description="phone, openid, unionid, referralCode: free to join "
                                                            "again as a new member.")
    already_erased: bool = strawberry.field(description="True when the member had been erased before.")


EraseResult = Annotated[Union[AccountErased, MemberNotFound, Busy], strawberry.union("EraseResult")]


@strawberry.type(description="How many items of one type an export holds.")
class ItemCount:
    item_type: str = strawberry.field(description="The stored item's type: profile, lot, entry, consent, ...")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="Everything Siyu holds on the member, as JSON, with a few counts.")
class DataExport:
    member_id: strawberry.ID
    exported_at: datetime
    counts: list[ItemCount] = strawberry.field(description="Stored items by type (profile, lot, entry, consent, ...).")
    item_counts: JSON = strawberry.field(description="Stored items by type (profile, lot, entry, consent, ...).",
                                         deprecation_reason="Use counts (typed); removed in the next release.")
    data: JSON = strawberry.field(description="The full export: profile, consents, lookups and every stored item.")


@strawberry.type(name="AuditRecord",
                 description="One staff mutation: who, what (arguments with personal data masked), when, outcome.")
class AuditRecordView:
    id: strawberry.ID
    call_id: strawberry.ID = strawberry.field(description="Shared by a call's `started` record and its outcome.")
    at: datetime
    staff_id: str
    mutation: str
    arguments: JSON
    result: AuditOutcome = strawberry.field(description="How the call ended (STARTED is written before it runs).")
    outcome: str = strawberry.field(description="started (written before the mutation ran: no change without it), "
                                                "then ok, refused (a typed business failure) or error.",
                                    deprecation_reason="Use result (an enum); removed in the next release.")
    detail: Optional[str] = strawberry.field(description="The result type, the refusal's code or the error's code.")

    @classmethod
    def of(cls, record: AuditRecord) -> "AuditRecordView":
        return cls(id=strawberry.ID(record.audit_id), call_id=strawberry.ID(call_id(record)), at=record.at, staff_id=record.staff_id,
                   mutation=record.mutation, arguments=dict(record.arguments), outcome=record.outcome,
                   result=AuditOutcome(record.outcome),
                   detail=record.detail)


@strawberry.type(name="AuditRecordEdge", description="One audit record in a page, with the cursor that continues "
                                                   "after it.")
class AuditEdge:
    cursor: str
    node: AuditRecordView


@strawberry.type(name="AuditRecordConnection", description="A page of audit records, newest first.")
class AuditLog:
    edges: list[AuditEdge]
    page_info: PageInfo
