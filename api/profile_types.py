"""GraphQL for a member's own phone and birthday: `bindPhone` (WeChat's getPhoneNumber code) and the birthday
refusal of `updateProfile`. A mixin of `Mutation` (api/schema.py), kept apart so the schema module stays small."""


from datetime import datetime
from typing import Annotated, Union

import strawberry
from strawberry.types import Info

from api.request import Context
from api.permissions import IsMember
from api.results import (
    AlreadyRegistered,
    BrandNotConfigured,
    BusinessError,
    Busy,
    InvalidInput,
    MemberNotFound,
    RateLimited,
    business_error,
)
from api.retry import typed
from rules import errors, limits
from rules.profile import BirthdayChangeTooSoon as BirthdayTooSoonError
from rules.profile import bind_phone


@strawberry.type(description="The member set a birthday less than a year ago: it can change once a year.")
class BirthdayChangeTooSoon(BusinessError):
    next_change_at: datetime = strawberry.field(description="From when the birthday can be changed again.")


@strawberry.type(description="The phone number WeChat vouched for is now the member's (shown masked).")
class PhoneBound:
    phone_masked: str = strawberry.field(description="138****8000: the number itself is never stored.")


BindPhoneResult = Annotated[
    Union[PhoneBound, AlreadyRegistered, InvalidInput, MemberNotFound, BrandNotConfigured, Busy, RateLimited],
    strawberry.union("BindPhoneResult", description="AlreadyRegistered (field phone): another member of the brand "
                                                     "has this number."),
]


def profile_error(failure: errors.SiyuError):
    if isinstance(failure, BirthdayTooSoonError):
        return BirthdayChangeTooSoon(code=failure.code, _failure=failure,
                                     next_change_at=failure.next_change_at)
    return business_error(failure)


@strawberry.type
class ProfileMutations:
    @strawberry.mutation(permission_classes=[IsMember],
                         description="Bind the phone number of the mini-program's getPhoneNumber button: `code` is "
                                     "the button's e.detail.code, exchanged with WeChat (the number is WeChat-"
                                     "verified). Replaces a number the member bound before.")
    def bind_phone(self, info: Info, code: str) -> BindPhoneResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(limits.BIND_PHONE)
            if context.store.get_brand(p.brand_id) is None:
                raise errors.BrandNotConfigured(p.brand_id)
            number = context.wechat.phone_number(p.brand_id, code)
            masked = bind_phone(context.store, p.brand_id, p.subject, number, phone_key=context.settings.phone_hash_key)
            context.members.pop((p.brand_id, p.subject), None)
            return PhoneBound(phone_masked=masked)

        return typed(run, context)
