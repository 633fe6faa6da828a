"""What a plugin says about itself (`siyu_plugin_info`): its name, version, parameters and how it is run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    params_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    order: int = 100
    description: str = ""
    # Days ahead the daily sweep should also look at, for plugins that act before a date (expiry reminders): the
    # members with something due exactly that many days from now get `siyu_member_due` too.
    due_offsets_days: tuple[int, ...] = ()
    # Which of those a brand's parameters for the plugin choose (a brand reminding 14 days ahead needs only the day
    # 14 days ahead queried); None: all of them.
    due_offsets: Callable[[Mapping[str, Any]], Iterable[int]] | None = None
    # What JSON Schema cannot say (ids unique, references that must resolve): params -> [(field, problem)].
    check: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    # Whether the daily sweep still calls `siyu_member_due` for a member erased at their request: for plugins
    # that owe something to other members (an inviter's pending commission), never for the member's own ledger.
    after_erasure: bool = False
