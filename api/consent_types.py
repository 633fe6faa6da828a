"""GraphQL views of a member's consents: the current choice per purpose, derived from an append-only history."""


from datetime import datetime
from enum import Enum
from typing import Iterable, Optional

import strawberry

from api.enums import Channel

from rules import consent
from rules.consent import ConsentRecord

# The purposes as the schema shows them, generated from the domain's enum so the two cannot drift.
ConsentPurpose = strawberry.enum(
    Enum("ConsentPurpose", {p.name: p.value for p in consent.Purpose}),  # type: ignore[misc]
    description="Why personal information is processed; each purpose needs its own consent.",
)


@strawberry.type(name="ConsentRecord", description="One grant or withdrawal, as recorded: never changed afterwards.")
class ConsentRecordView:
    granted: bool
    policy_version: str = strawberry.field(description="The version of the privacy policy the member was shown.")
    at: datetime
    via: Channel = strawberry.field(description="Where the member gave or withdrew consent.")
    channel: str = strawberry.field(description="miniprogram, h5, wecom or store.",
                                    deprecation_reason="Use via (an enum); removed in the next release.")
    recorded_by: str = strawberry.field(description="member:<id> or staff:<id>.")

    @classmethod
    def of(cls, record: ConsentRecord) -> "ConsentRecordView":
        return cls(granted=record.granted, policy_version=record.policy_version, at=record.at,
                   channel=record.channel, via=Channel(record.channel), recorded_by=record.actor)


@strawberry.type(description="The member's current choice for one purpose: the newest record. Never asked: not "
                             "granted.")
class ConsentState:
    purpose: ConsentPurpose
    granted: bool
    policy_version: Optional[str]
    at: Optional[datetime]
    via: Optional[Channel] = strawberry.field(description="Where the newest choice was made (null: never asked).")
    channel: Optional[str] = strawberry.field(description="miniprogram, h5, wecom or store.",
                                              deprecation_reason="Use via (an enum); removed in the next release.")
    history: list[ConsentRecordView] = strawberry.field(description="Every record for this purpose, newest first.")


def consent_states(records: Iterable[ConsentRecord]) -> list[ConsentState]:
    """One state per purpose, in the enum's order."""
    records = tuple(records)
    current = consent.newest(records)
    states = []
    for purpose in consent.Purpose:
        record = current.get(purpose)
        states.append(ConsentState(
            purpose=ConsentPurpose[purpose.name], granted=bool(record and record.granted),
            policy_version=record.policy_version if record else None, at=record.at if record else None,
            channel=record.channel if record else None, via=Channel(record.channel) if record else None,
            history=[ConsentRecordView.of(r) for r in consent.history(records, purpose)]))
    return states
