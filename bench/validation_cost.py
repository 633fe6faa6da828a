"""Validation CPU of the costliest GraphQL documents the validation budget admits, against `{ __typename }`.

graphql-core's validation rules (OverlappingFieldsCanBeMerged above all) run before any permission check, so the
budget (api/validation_budget.py, README "Security") is what bounds the CPU an unauthenticated request can burn.
For each budget (without a token, the strictest; with one), documents built to be expensive within it are parsed
and validated with the rules the API runs, several times, and the median CPU time is compared with the same for
`{ __typename }` measured in the same run (parsing, bounded by the token limit, is not counted). Documents over the
budget are shown too: what the budget refuses costs only the count. No pass or fail; the README quotes the figures.

    .venv/bin/python bench/validation_cost.py
    .venv/bin/python bench/validation_cost.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SIYU_STAGE", "local")

from graphql import parse, specified_rules  # noqa: E402
from strawberry.schema.schema import validate_document  # noqa: E402

from api.hardening import AliasLimit, DepthLimit  # noqa: E402
from api.schema import schema  # noqa: E402
from api.validation_budget import cost  # noqa: E402
from infra.settings import Budget, settings  # noqa: E402

BASELINE = "{ __typename }"
MEMBER_SCALARS = ["id", "phoneMasked", "channel", "nickname", "birthday", "referralCode", "registeredAt", "growth",
                  "paidMemberUntil", "tags", "referredBy"]
MEMBER_OBJECTS = ["tier { code name }", "nextTier { code }", "points { balance }", "commissions { __typename }",
                  "consents { purpose }", "coupons { id }", "referrals { __typename }",
                  "activity { edges { node { eventId } } }"]


def _fields(n: int) -> str:
    """n distinct field selections of a Member (objects with their sub-fields count as several)."""
    parts, used = [], 0
    for candidate in MEMBER_SCALARS + MEMBER_OBJECTS:
        size = candidate.count("{") + 1
        if used + size > n:
            continue
        parts.append(candidate)
        used += size
    return " ".join(parts)


def _largest(budget: Budget, shape: Callable[[int], str], most: int) -> str:
    """`shape(n)` for the largest n up to `most` that the budget admits (shape(1) when none is)."""
    for n in range(most, 0, -1):
        text = shape(n)
        if cost(parse(text), limit=budget.selections).over(budget) is None:
            return text
    return shape(1)


def documents(budget: Budget) -> Iterator[tuple[str, str]]:
    """Documents built to cost the most within `budget`, then a few just over it."""
    k, f = budget.same_key, min(budget.fields, budget.selections)
    # The same key as often as allowed, each copy as wide as the rest of the budget lets it be: every pair of
    # copies is compared, and their sub-selections with it.
    yield f"'me' x{k}, as wide as admitted", _largest(
        budget, lambda n: "{ " + " ".join(f"me {{ {_fields(n)} }}" for _ in range(k)) + " }", f)
    # The same through one fragment spread in every copy (fragment pairs are compared too).
    yield f"'me' x{k} through a fragment", _largest(
        budget, lambda n: "{ " + " ".join("me { ...M }" for _ in range(k)) + " } fragment M on Member { "
        + _fields(n) + " }", f)
    # The same key repeated inside one object's selections, each copy nested.
    yield f"'points' x{k} inside one 'me'", _largest(
        budget, lambda n: "{ me { " + " ".join("points { balance lots { remaining expiresAt } }"
                                               for _ in range(n)) + " } }", k)
    # Inline fragments wrapping each copy: selections, not fields, are what they spend.
    yield "'me' in inline fragments", _largest(
        budget, lambda n: "{ " + " ".join("... on Query { me { id } }" for _ in range(n)) + " }", f)
    # As many different fields as allowed (different keys: no pairs to compare).
    yield "every Member field, once", _largest(budget, lambda n: "{ me { " + _fields(n) + " } }", f)
    # Over the budget: refused after counting, before any rule runs.
    yield "over: 'me{id}' x495 (the issue's)", "{ " + "me{id} " * 495 + "}"
    yield f"over: 'me' x{k + 1}", "{ " + " ".join("me { id }" for _ in range(k + 1)) + " }"


def rules() -> tuple:
    config = settings()
    extra = [*DepthLimit(config.graphql_max_depth).validation_rules,
             *AliasLimit(config.graphql_max_aliases).validation_rules]
    return (*specified_rules, *extra)


def validation_cpu(text: str, budget: Budget, runs: int) -> tuple[float, bool]:
    """Median CPU seconds to check a parsed `text` as the API does: the budget, then (if admitted) the validation
    rules. Parsing is not counted: the token limit bounds it, whatever the document."""
    all_rules = rules()
    admitted = cost(parse(text), limit=budget.selections).over(budget) is None
    samples = []
    for _ in range(runs):
        document = parse(text)
        start = time.process_time()
        if cost(document, limit=budget.selections).over(budget) is None:
            validate_document(schema._schema, document, all_rules)
        samples.append(time.process_time() - start)
    return statistics.median(samples), admitted


def report(name: str, budget: Budget, runs: int, measure: Callable[[str, Budget, int], tuple[float, bool]]) -> float:
    base, _ = measure(BASELINE, budget, runs * 5)
    print(f"\n{name}: {budget}")
    print(f"  {'document':46} {'admitted':>8} {'CPU ms':>8} {'x typename':>10}")
    print(f"  {BASELINE:46} {'yes':>8} {base * 1000:8.2f} {1:10.1f}")
    worst = 0.0
    for label, text in documents(budget):
        cpu, admitted = measure(text, budget, runs)
        if admitted:
            worst = max(worst, cpu)
        print(f"  {label:46} {'yes' if admitted else 'no':>8} {cpu * 1000:8.2f} {cpu / base:10.1f}")
    print(f"  worst admitted: {worst * 1000:.2f} ms, {worst / base:.1f}x {BASELINE}")
    return worst / base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    config = settings()
    report("without a token (the strictest budget)", config.graphql_anonymous_budget, args.runs, validation_cpu)
    report("with a token", config.graphql_budget, args.runs, validation_cpu)


if __name__ == "__main__":
    main()
