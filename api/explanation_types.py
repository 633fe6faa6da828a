"""Typed views of what the rules decided: `Effect` (an event's effects) and `Explanation` (the "why" of a ledger
entry), each with a one-line summary in the request's language, instead of the engine's own JSON."""


import json
from enum import Enum
from typing import Any, Mapping, Optional

import strawberry
from strawberry.types import Info

from api.request import language
from rules.messages import Sentence, known


@strawberry.enum(description="What kind of thing a rule decided.")
class EffectKind(Enum):
    AWARD_POINTS = "AwardPoints"
    TAKE_BACK_POINTS = "TakeBackPoints"
    EXPIRE_POINTS = "ExpirePoints"
    ADD_GROWTH = "AddGrowth"
    SET_TIER = "SetTier"
    SET_PAID_MEMBERSHIP = "SetPaidMembership"
    ONCE = "Once"
    EMIT = "Emit"
    BRAND_EMIT = "BrandEmit"
    ISSUE_COUPON = "IssueCoupon"
    USE_COUPON = "UseCoupon"
    NOTE = "Note"
    OTHER = "Other"


@strawberry.type(description="One input a rule decided on.")
class RuleInput:
    name: str = strawberry.field(description="The input's name, as the rule calls it.")
    value: str = strawberry.field(description="Its value: the text itself, or JSON for numbers, lists and objects.")


def rule_inputs(inputs: Mapping[str, Any] | None) -> list[RuleInput]:
    return [RuleInput(name=str(k), value=v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str))
            for k, v in (inputs or {}).items()]


@strawberry.type(description="What the brand's rules decided for an event: the kind of effect, the plugin and rule "
                             "behind it, its inputs, and a sentence to show.")
class Effect:
    kind: EffectKind = strawberry.field(description="What was decided.")
    plugin: Optional[str] = strawberry.field(description="The rule plugin that decided it.")
    rule: str = strawberry.field(description="The plugin's rule, by name.")
    points: Optional[int] = strawberry.field(description="Points awarded or taken back (null: no points).")
    growth: Optional[int] = strawberry.field(description="Growth added (null: no growth).")
    tier_code: Optional[str] = strawberry.field(description="The tier set (SET_TIER).")
    coupon_template_id: Optional[strawberry.ID] = strawberry.field(description="The coupon issued (ISSUE_COUPON).")
    suppressed: Optional[str] = strawberry.field(
        description="Why the engine did not carry it out (a notification without consent); null: carried out.")
    inputs: list[RuleInput] = strawberry.field(description="What the rule decided on.")
    _sentence: strawberry.Private[Sentence]

    @strawberry.field(description="One line saying what happened, in the request's language.")
    def summary(self, info: Info) -> str:
        return self._sentence.render(language(info))

    @classmethod
    def of(cls, described: Mapping[str, Any]) -> "Effect":
        """From an engine summary's effect (rules/engine.py Decision.describe)."""
        name = str(described.get("effect") or "")
        kind = next((k for k in EffectKind if k.value == name), EffectKind.OTHER)
        points = described.get("points") if isinstance(described.get("points"), int) else None
        growth = described.get("growth") if isinstance(described.get("growth"), int) else None
        tier = described.get("code") if name == "SetTier" else None
        template = described.get("template_id") if name == "IssueCoupon" else None
        inputs = described.get("inputs") if isinstance(described.get("inputs"), Mapping) else {}
        message: Any = described.get("message") or ""
        if isinstance(described.get("sentence"), str) and known(described["sentence"]):
            message = Sentence(described["sentence"], dict(inputs))
        params = {"rule": rule_label(described.get("rule")), "points": points, "growth": growth, "tier": tier,
                  "template": template, "message": message, "detail_type": described.get("detail_type") or ""}
        return cls(kind=kind, plugin=described.get("plugin"), rule=str(described.get("rule") or ""), points=points,
                   growth=growth, tier_code=tier, coupon_template_id=strawberry.ID(template) if template else None,
                   suppressed=described.get("suppressed"), inputs=rule_inputs(described.get("inputs")),
                   _sentence=Sentence(f"effect.{kind.name}", params))


@strawberry.type(description="Why a ledger entry happened: the plugin and rule that decided it, on which inputs.")
class Explanation:
    plugin: Optional[str] = strawberry.field(description="The rule plugin (null: a staff or member action).")
    version: Optional[str] = strawberry.field(description="The plugin's version when it decided.")
    rule: Optional[str] = strawberry.field(description="The plugin's rule, by name.")
    inputs: list[RuleInput] = strawberry.field(description="What the rule decided on.")
    owed: Optional[int] = strawberry.field(description="Points of this entry that went to repay refund debt.")
    _sentence: strawberry.Private[Sentence]

    @strawberry.field(description="One line saying why, in the request's language.")
    def summary(self, info: Info) -> str:
        return self._sentence.render(language(info))

    @classmethod
    def of(cls, explanation: Mapping[str, Any], *, kind: str, points: int, reason: str | None) -> "Explanation":
        owed = explanation.get("owed")
        rule = explanation.get("rule")
        if rule:
            sentence = Sentence("entry.rule", {"rule": rule_label(rule), "plugin": explanation.get("plugin") or "",
                                               "points": points})
        else:
            sentence = entry_sentence(kind, points, reason)
        return cls(plugin=explanation.get("plugin"), version=explanation.get("version"), rule=rule,
                   inputs=rule_inputs(explanation.get("inputs")), owed=owed if isinstance(owed, int) else None,
                   _sentence=sentence)


def rule_label(rule: Any) -> Any:
    """A rule's name as people read it: its sentence `rule.<name>` from the catalogue (the families bring theirs),
    else the name itself (a brand's own threshold, a partner's rule)."""
    name = str(rule or "")
    return Sentence(f"rule.{name}") if name and known(f"rule.{name}") else name


def entry_sentence(kind: str, points: int, reason: str | None) -> Sentence:
    """A ledger entry's one line when no rule explains it (a redemption, a staff adjustment)."""
    return Sentence(f"entry.{kind.upper()}", {"points": abs(points), "reason": reason or ""})
