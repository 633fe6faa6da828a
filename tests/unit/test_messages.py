"""Every sentence a member or a front end can be shown exists in Chinese and English (rules/messages.py), and a
request's Accept-Language picks the language."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from api import hardening
from rules import errors, messages
from rules.messages import EN, ZH, catalogue, language_of, parameters, render

# The core's sentences and the families' (`Family.messages`).
MESSAGES = catalogue()

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("rules", "api", "infra", "plugins", "events") for p in (ROOT / d).rglob("*.py")]
CJK = re.compile(r"[\u4e00-\u9fff]")

# Where one language deliberately leaves a parameter out (graphql-core's English detail is not repeated in
# Chinese; the English plugin sentence already names the plugin).
ONE_SIDED = {"graphql.FORBIDDEN": {"detail"}, "graphql.NOT_FOUND": set(), "invalid.plugin_unavailable": {"plugin"},
             "invalid.untranslated": {"field"}}


def _all_error_classes() -> set[type]:
    for package in ("rules", "api", "infra", "plugins"):
        for module in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            importlib.import_module(module.name)
    found, todo = set(), [errors.SiyuError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def _literals(pattern: str) -> set[str]:
    return {m for path in SOURCES for m in re.findall(pattern, path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_is_in_chinese_and_english_with_the_same_parameters(key):
    entry = MESSAGES[key]
    assert set(entry) == {ZH, EN}, f"{key}: both languages"
    assert CJK.search(entry[ZH]), f"{key}: the Chinese text is not Chinese"
    assert entry[EN].strip() and not CJK.search(entry[EN]), f"{key}: the English text"
    difference = parameters(entry[ZH]) ^ parameters(entry[EN])
    assert difference <= ONE_SIDED.get(key, set()), f"{key}: parameters differ: {difference}"


def test_every_business_error_class_has_its_code_in_the_catalogue():
    classes = _all_error_classes()
    assert len(classes) > 15  # the walk found the errors of rules/, alerts and profile included
    missing = sorted(c.__name__ for c in classes if c.code not in MESSAGES)
    assert not missing, f"business errors without a message: {missing}"


def test_every_message_key_raised_anywhere_is_in_the_catalogue():
    # (coupon.issued, referral.code_entered: event types, not messages; reason codes are upper case)
    used = _literals(r'["\'](?:(?:invalid|graphql|entry|effect|http)\.[A-Za-z_0-9]+|(?:coupon|referral|reversal)\.[A-Z_]+)["\']')
    used = {u.strip("\"'") for u in used}
    assert len(used) > 40
    assert not sorted(used - set(MESSAGES)), "keys used without a message"


def test_no_input_check_raises_a_sentence_instead_of_a_catalogue_key():
    sentences = _literals(r'InvalidInput\([^,()]+, f?"(?!invalid\.)([^"]*)"')
    sentences |= _literals(r'graphql_error\(f?"(?!(?:graphql|invalid)\.)([^"]*)"')
    assert not sentences, f"move these into rules/messages.py: {sorted(sentences)}"
    # and at run time such a sentence still reaches the member, never an error of its own
    refused = errors.InvalidInput("name", "too long")
    assert refused.render(EN) == "too long" and refused.render(ZH) == "输入有误（name）：too long"


def test_every_coupon_refusal_reason_has_a_sentence():
    reasons = _literals(r'Reason\("([A-Z_]+)"')
    assert {"TAGS", "LIMIT_REACHED", "TIER", "PAUSED"} <= reasons
    assert not sorted(r for r in reasons if f"coupon.{r}" not in MESSAGES)


def test_every_refusal_reason_raised_is_a_value_of_its_schema_enum():
    from plugins.coupons.graphql import CouponRefusal
    from plugins.referral.graphql import ReferralRefusal

    assert _literals(r'Reason\("([A-Z_]+)"') == {r.value for r in CouponRefusal}
    assert _literals(r'_refused\("([A-Z_]+)"') | {"NOT_ENABLED"} == {r.value for r in ReferralRefusal}
    assert all(f"coupon.{r.value}" in MESSAGES for r in CouponRefusal)
    assert all(f"referral.{r.value}" in MESSAGES for r in ReferralRefusal)


def test_every_referral_refusal_and_ledger_reversal_reason_has_a_sentence():
    referral = _literals(r'_refused\("([A-Z_]+)"') | {"NOT_ENABLED"}
    assert not sorted(r for r in referral if f"referral.{r}" not in MESSAGES)
    reversal = _literals(r'EntryNotReversible\([^,]+, "([A-Z_]+)"')
    assert reversal == {"FINAL", "SPENT", "ALREADY_REVERSED"}
    assert all(f"reversal.{r}" in MESSAGES for r in reversal)


def test_every_graphql_error_code_has_a_sentence():
    codes = {hardening.UNAUTHENTICATED, hardening.FORBIDDEN, hardening.BAD_USER_INPUT, hardening.LIMIT_EXCEEDED,
             hardening.NOT_FOUND, hardening.INTERNAL}
    assert not sorted(c for c in codes if f"graphql.{c}" not in MESSAGES)


def test_a_refusal_reads_in_chinese_by_default_and_in_english_on_request_with_its_parameters():
    refused = errors.InsufficientPoints(500, 120)
    assert refused.render(ZH) == "积分不足：需要 500 积分，可用 120 积分"
    assert refused.render(EN) == refused.message == "500 points requested, 120 available"
    assert refused.code == "INSUFFICIENT_POINTS"
    assert render("coupon.LIMIT_REACHED", ZH, {"limit": 1}) == "每位会员限领 1 张"
    assert render("coupon.LIMIT_REACHED", EN, {"limit": 1}) == "at most 1 per member"


@pytest.mark.parametrize("header, language", [
    (None, ZH), ("", ZH), ("zh-CN,zh;q=0.9", ZH), ("en", EN), ("en-US", EN), ("EN-gb", EN),
    ("en-US,en;q=0.9,zh-CN;q=0.8", EN), ("zh-CN;q=0.5,en;q=0.9", EN), ("fr-FR,en;q=0.5", EN),
    ("fr-FR,de;q=0.5", ZH), ("en;q=0", ZH), ("*", ZH), ("en;q=abc,zh", ZH), ("zh-TW", ZH),
])
def test_the_language_follows_accept_language_with_its_q_values(header, language):
    assert language_of(header) == language


def test_every_kind_of_effect_and_ledger_entry_has_a_summary():
    from api.enums import PointsEntryType
    from api.explanation_types import EffectKind

    assert not [k.name for k in EffectKind if f"effect.{k.name}" not in MESSAGES]
    assert not [k.name for k in PointsEntryType if f"entry.{k.name}" not in MESSAGES]


def test_every_ledger_entry_kind_is_a_graphql_entry_type_with_a_summary():
    from api.enums import PointsEntryType
    from rules.ledger import EntryKind

    assert {k.value for k in EntryKind} == {t.value for t in PointsEntryType}
    assert all(f"entry.{k.name}" in MESSAGES for k in EntryKind)


def test_every_rule_a_built_in_names_has_a_name_people_read_and_every_note_a_sentence():
    """A rule's name shows in the member centre and the console's "why" column: each literal rule of the built-in
    families has its `rule.<name>` sentence, and each note names a sentence the catalogue has."""
    plugin_sources = [p for p in (ROOT / "plugins").rglob("plugin.py")]
    rules = {m for p in plugin_sources for m in re.findall(r'rule="([a-z0-9-]+)"', p.read_text(encoding="utf-8"))}
    assert len(rules) > 30
    assert not sorted(r for r in rules if f"rule.{r}" not in MESSAGES), "rules without a name"
    notes = {m for p in plugin_sources for m in re.findall(r'sentence="([a-z_.]+)"', p.read_text(encoding="utf-8"))}
    assert notes and not sorted(n for n in notes if n not in MESSAGES), "notes without a sentence"
    untranslated = [f"{p.name}:{node.lineno}" for p in plugin_sources for node in ast.walk(ast.parse(p.read_text()))
                    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Note"
                    and "sentence" not in {k.arg for k in node.keywords}]
    assert not untranslated, f"notes with no sentence: {untranslated}"
