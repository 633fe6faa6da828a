"""Changing a brand's configuration: parameters are validated when saved, never when an event arrives."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rules.brands import BrandConfig, TierLevel
from rules.errors import BrandNotConfigured, InvalidInput
from rules.plugin_manager import PluginRegistry
from rules.persistence import Store
from rules.sweeps import DAILY, FIRST_SWEEP_LOOKBACK


def configure_brand(
    store: Store,
    plugins: PluginRegistry,
    brand_id: str,
    *,
    now: datetime,
    name: str | None = None,
    timezone: str | None = None,
    tiers: Iterable[TierLevel] | None = None,
    plugin_settings: Iterable[tuple[str, bool, Mapping[str, Any] | None]] = (),
) -> BrandConfig:
    new = store.get_brand(brand_id, fresh=True) is None
    updated = proposed_brand(store, plugins, brand_id, now=now, name=name, timezone=timezone, tiers=tiers,
                             plugin_settings=plugin_settings)
    saved = store.put_brand(updated)
    # The brand's sweep watermark starts when it is configured: nothing of a new brand can fall due earlier (a
    # late event's lot is listed after the watermark, Engine._due_floor), so its first sweep handles everything
    # due since then however long ago, instead of the few days a brand never swept would otherwise get. A brand
    # that was in the store before (put there without one, or by an older version) may hold lots already due:
    # its watermark starts the first sweep's lookback earlier, as a brand without one always had. One that has a
    # watermark keeps it (the write is conditioned on there being none). The sweep knows brands by their
    # watermarks: it asks those brands which reminder days ahead they chose (Engine.reminder_offsets).
    store.advance_watermark(DAILY, brand_id, read=None, to=now if new else now - FIRST_SWEEP_LOOKBACK)
    return saved


def proposed_brand(
    store: Store,
    plugins: PluginRegistry,
    brand_id: str,
    *,
    now: datetime,
    name: str | None = None,
    timezone: str | None = None,
    tiers: Iterable[TierLevel] | None = None,
    plugin_settings: Iterable[tuple[str, bool, Mapping[str, Any] | None]] = (),
) -> BrandConfig:
    """The configuration a change would give, validated as saving it would, but not saved (the console's dry run
    simulates events against it)."""
    current = store.get_brand(brand_id, fresh=True)
    if current is None:
        if not name or tiers is None:
            raise BrandNotConfigured(brand_id)
        current = BrandConfig(brand_id, name, tuple(tiers))
    changes: dict[str, Any] = {"updated_at": now}
    if name is not None:
        if not name.strip() or len(name) > 64:
            raise InvalidInput("name", "invalid.brand_name")
        changes["name"] = name.strip()
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("timezone", "invalid.timezone", timezone=repr(timezone)) from None
        changes["timezone"] = timezone
    if tiers is not None:
        changes["tiers"] = tuple(tiers)
    enabled = dict(current.plugins)
    for index, (plugin_name, on, params) in enumerate(plugin_settings):
        if not on:
            # Always possible, so a brand whose plugin this deployment lost can turn it off and work again.
            enabled.pop(plugin_name, None)
            continue
        if plugin_name not in plugins.infos:
            raise InvalidInput(f"plugins[{index}].name", "invalid.plugin_unavailable", plugin=plugin_name,
                                   detail=plugins.unavailable(plugin_name))
        if on:
            enabled[plugin_name] = plugins.validate_params(plugin_name, params)
        else:
            enabled.pop(plugin_name, None)
    changes["plugins"] = enabled
    return replace(current, **changes)  # BrandConfig validates its ladder on construction
