"""A tiny rule family that lives only here, to prove that a new family is one folder plus one line.

A coffee brand's stamp card: every `stamp.collected` event gives the member stamps. It brings its own event and
hook, an effect, an item type in the member's partition and a GraphQL field, and edits no file outside this
folder: the "one line" is its entry in the families list (tests/unit/test_new_family.py runs the stack with
`SIYU_FAMILIES` = the built-in families and this one).
"""

from rules.events import ID_FIELD
from rules.family import EventType, Family
from tests.families.stamps import model

FAMILY = Family(
    name="stamps",
    plugins=("tests.families.stamps.plugin",),
    hookspecs="tests.families.stamps.hooks",
    events={"stamp.collected": EventType("siyu_stamp_collected", {
        "required": ["brandId", "memberId", "stamps"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD,
                       "stamps": {"type": "integer", "minimum": 1, "maximum": 10}},
    })},
    follow_ups=frozenset({"stamp.card_full"}),
    planners={model.CollectStamps: model.plan_collect},
    effects=(model.CollectStamps,),
    storage="tests.families.stamps.storage",
    graphql="tests.families.stamps.graphql",
)
