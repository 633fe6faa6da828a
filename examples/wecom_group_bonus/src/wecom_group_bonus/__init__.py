"""WeCom group-join bonus: 10 points the first time a member joins one of the brand's WeCom groups.

百果园 found that members who join a store's community group spend 7x more a month (DOMAIN.md 7.3), so brands
reward the first join. Brand systems send `member.engaged` with `action: group_join` and the group as `refId`.

Parameters:
- `points` (10): the bonus.
- `groups` ([]): only these group ids count; empty means any of the brand's groups.
"""

from rules.sdk import AwardPoints, Once, PluginInfo, hookimpl

NAME = "wecom_group_bonus"
VERSION = "1.0.0"

PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "points": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
        "groups": {"type": "array", "items": {"type": "string"}, "default": []},
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, description="Bonus points for the first WeCom group join.")


@hookimpl
def siyu_member_engaged(event, context):
    if event.get("action") != "group_join":
        return None
    group = event.get("refId")
    allowed = context.params["groups"]
    if allowed and group not in allowed:
        return None
    key = f"{NAME}:first-join"
    if context.member.has(key):
        return None  # only the first join of any group earns the bonus
    inputs = {"group": group, "points": context.params["points"]}
    return [
        Once(key=key, rule="first-group-join", inputs=inputs, keep_days=36500),  # "the first time", ever
        AwardPoints(points=context.params["points"], expires_at=context.expiry_for_new_points(),
                    reason=f"joined WeCom group {group}", rule="first-group-join", inputs=inputs),
    ]
