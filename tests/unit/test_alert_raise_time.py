"""An alert's response window counts from when Siyu raised it: the latest event time its scope has counted, never
the (earlier) time of a late event, and never before an earlier raise of the same alert (issue 13)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import plugins.crisis.plugin as crisis
from plugins.crisis.model import ShowReading
from rules.testing import PluginCase
from tests.unit.test_crisis_plugin import DOUYIN, HOUR, NOW, POSTS_ONLY, alert, counts, post, raised, view


def test_a_late_post_that_turns_the_alert_red_is_raised_at_the_scopes_latest_counted_time():
    # 50 counted, the latest of them 90 minutes after this post's own time.
    latest = NOW + timedelta(minutes=90)
    scope = replace(counts(h0=(50, 50)), latest_at=latest)
    yellow = alert("yellow", respond_by=NOW + timedelta(hours=47))
    (red,) = raised(post(PluginCase(crisis, params=POSTS_ONLY), view(yellow, douyin=scope)))
    assert (red.level, red.at, red.respond_by) == ("red", latest, latest + timedelta(hours=4))


def test_a_raise_is_never_dated_before_the_alerts_previous_raise():
    later = NOW + timedelta(hours=1)
    extras = view(replace(alert("yellow", respond_by=later + timedelta(hours=48)), raised_at=later),
                  douyin=counts(h0=(50, 50)))
    (red,) = raised(post(PluginCase(crisis, params=POSTS_ONLY), extras))
    assert (red.at, red.respond_by) == (later, later + timedelta(hours=4))


def test_an_event_on_time_raises_at_its_own_time():
    (blue,) = raised(post(PluginCase(crisis, params=POSTS_ONLY), view(douyin=counts(h0=(10, 10)))))
    assert (blue.level, blue.at, blue.respond_by) == ("blue", NOW, NOW + timedelta(hours=72))
    assert HOUR <= blue.at


def test_a_reading_that_raises_nothing_still_shows_on_the_open_alert_as_its_current_value():
    result = post(PluginCase(crisis, params=POSTS_ONLY), view(alert("yellow"), douyin=counts(h0=(30, 30))))
    assert raised(result) == []
    (shown,) = [e for e in result.effects if isinstance(e, ShowReading)]
    assert (shown.alert_id, shown.metric, shown.scope, shown.value) == ("a1", "negative-posts", DOUYIN, 31)


def test_no_reading_is_shown_when_there_is_no_alert_or_the_value_did_not_move():
    nothing = post(PluginCase(crisis, params=POSTS_ONLY), view(douyin=counts(h0=(3, 3))))
    assert [e for e in nothing.effects if isinstance(e, ShowReading)] == []
    same = post(PluginCase(crisis, params=POSTS_ONLY), view(alert("yellow", current_value=31),
                                                             douyin=counts(h0=(30, 30))))
    assert [e for e in same.effects if isinstance(e, ShowReading)] == []
