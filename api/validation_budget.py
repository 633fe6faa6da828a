"""A cost budget for a GraphQL document, checked after parsing and before graphql-core's validation rules run.

Validation is where an unauthenticated request can burn CPU: OverlappingFieldsCanBeMerged compares every pair of
fields that answer under the same response key, so `{ me{id} me{id} ... }` (495 times, well inside the token
limit) took seconds before any permission check. The budget counts three things in the parsed document, with every
fragment counted where it is spread, as often as it is spread:

- `fields`: field selections;
- `same_key`: the field selections answering under one response-key path (`me.points.balance`: an alias, else the
  field's name, at each level): the fields that rule compares with each other, so this bounds its pairs;
- `selections`: every selection (fields, fragment spreads, inline fragments).

A document over any of them is refused with LIMIT_EXCEEDED before validation starts. Callers without a valid
token get the strictest budget (all they may call is `loginWithWechat`); the limits are settings (README,
"Security"), and `bench/validation_cost.py` measures the worst document a budget admits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from infra.settings import Budget

LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


@dataclass(frozen=True)
class Cost:
    fields: int
    same_key: int
    selections: int
    key: str | None = None  # the response key used most often

    def over(self, budget: Budget) -> str | None:
        """What the document has too much of, in words a client can act on; None when within the budget."""
        if self.selections > budget.selections:
            return f"the document has {self.selections} selections; at most {budget.selections} are allowed"
        if self.fields > budget.fields:
            return f"the document selects {self.fields} fields; at most {budget.fields} are allowed"
        if self.same_key > budget.same_key:
            return (f"the document selects '{self.key}' {self.same_key} times; at most {budget.same_key} "
                    "selections may share a response key")
        return None


def cost(document: DocumentNode, limit: int = 100_000) -> Cost:
    """Counts the document's selections as validation sees them: every fragment spread expanded where it is
    spread, fields keyed by their response-key path from the operation (fields with the same path are the ones
    OverlappingFieldsCanBeMerged compares). Without recursion, and it stops once `limit` selections are counted
    (a fragment spread in a cycle, or a document that expands past any budget, ends there)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    keys: Counter[tuple[str, ...]] = Counter()
    selections = 0
    stack = [(d.selection_set, ()) for d in document.definitions
             if isinstance(d, OperationDefinitionNode) and d.selection_set]
    while stack and selections <= limit:
        selection_set, path = stack.pop()
        for node in selection_set.selections:
            selections += 1
            if isinstance(node, FieldNode):
                key = path + ((node.alias or node.name).value,)
                keys[key] += 1
                if node.selection_set is not None:
                    stack.append((node.selection_set, key))
            elif isinstance(node, InlineFragmentNode):
                stack.append((node.selection_set, path))
            elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
                stack.append((fragments[node.name.value].selection_set, path))
    key, most = keys.most_common(1)[0] if keys else ((), 0)
    return Cost(fields=sum(keys.values()), same_key=most, selections=selections, key=".".join(key) or None)


def _introspection_only(document: DocumentNode) -> bool:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        isinstance(node, FieldNode) and node.name.value in ("__schema", "__type")
        for operation in operations for node in operation.selection_set.selections)


class ValidationBudget(SchemaExtension):
    """Refuses a document over its caller's budget before validation (strawberry skips validation when the
    request already has errors)."""

    def __init__(self, *, authenticated: Budget, anonymous: Budget, introspection: bool = False) -> None:
        self.authenticated = authenticated
        self.anonymous = anonymous
        # On the local stage only: GraphiQL's and schemathesis' introspection query is larger than any budget.
        # (Elsewhere introspection is refused anyway.)
        self.introspection = introspection

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and self.introspection and _introspection_only(document):
            yield
            return
        if document is not None and context.pre_execution_errors is None:
            request = context.context
            signed_in = getattr(request, "principal", None) is not None
            budget = self.authenticated if signed_in else self.anonymous
            problem = cost(document, limit=budget.selections).over(budget)
            if problem:
                context.pre_execution_errors = [GraphQLError(problem, extensions={"code": LIMIT_EXCEEDED})]
        yield
