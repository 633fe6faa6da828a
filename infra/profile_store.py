"""The member's own profile changes that need more than one attribute set: the phone binding (profile and lookup
together) and the once-a-year birthday. Mixed into `DynamoStore`."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from infra import keys
from infra.models import LookupItem, MemberItem
from rules.errors import Busy, MemberNotFound
from rules.members import LookupKind
from rules.profile import BIRTHDAY_CHANGE_INTERVAL, BirthdayChangeTooSoon, PhoneBinding, phone_taken


def _live_member():
    return MemberItem.pk.exists() & MemberItem.erased_at.does_not_exist()


class ProfileStore:
    def bind_phone(self, binding: PhoneBinding) -> None:
        """Point the phone's lookup at the member and store its hash and mask on the profile, in one transaction:
        the lookup only if no one holds it, the profile only if it still has the phone the plan replaced, the old
        lookup freed only if it is still the member's."""
        b = binding
        mpk = keys.member_pk(b.brand_id, b.member_id)
        same_phone = (MemberItem.phone_hash == b.previous_hash) if b.previous_hash \
            else MemberItem.phone_hash.does_not_exist()
        lookup = LookupItem(keys.lookup_pk(b.brand_id, LookupKind.PHONE, b.phone_hash), keys.LOOKUP,
                            member_id=b.member_id)
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.update(MemberItem(mpk, keys.PROFILE),
                          actions=[MemberItem.phone_hash.set(b.phone_hash), MemberItem.phone_masked.set(b.phone_masked)],
                          condition=_live_member() & same_phone)
                tx.save(lookup, condition=LookupItem.pk.does_not_exist())
                if b.previous_hash:
                    tx.delete(LookupItem(keys.lookup_pk(b.brand_id, LookupKind.PHONE, b.previous_hash), keys.LOOKUP),
                              condition=LookupItem.member_id == b.member_id)
        except TransactWriteError as error:
            # pynamodb sends deletes, then puts, then updates: the reasons come back in that order.
            roles = (["old lookup"] if b.previous_hash else []) + ["lookup", "profile"]
            failed = {role for role, r in zip(roles, error.cancellation_reasons or [])
                      if r is not None and r.code == "ConditionalCheckFailed"}
            if "lookup" in failed:
                raise phone_taken() from None
            if failed:
                # Erased, or the phone changed under this request: re-reading tells which.
                if self.load_member(b.brand_id, b.member_id) is None:
                    raise MemberNotFound(b.member_id) from None
                raise Busy("the profile changed meanwhile; try again") from None
            raise

    def set_birthday(self, brand_id: str, member_id: str, birthday: str, *, now: datetime,
                     not_since: datetime) -> None:
        """Set the birthday unless it was set (or given at registration) after `not_since`."""
        member = MemberItem(keys.member_pk(brand_id, member_id), keys.PROFILE)
        never_set = MemberItem.birthday_set_at.does_not_exist() & (
            MemberItem.birthday.does_not_exist() | (MemberItem.registered_at <= not_since))
        try:
            member.update(actions=[MemberItem.birthday.set(birthday), MemberItem.birthday_set_at.set(now)],
                          condition=_live_member() & (never_set | (MemberItem.birthday_set_at <= not_since)))
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            try:
                current = MemberItem.get(keys.member_pk(brand_id, member_id), keys.PROFILE, consistent_read=True)
            except MemberItem.DoesNotExist:
                raise MemberNotFound(member_id) from None
            if current.erased_at is not None:
                raise MemberNotFound(member_id) from None
            last = current.birthday_set_at or current.registered_at
            raise BirthdayChangeTooSoon(last + BIRTHDAY_CHANGE_INTERVAL) from None
