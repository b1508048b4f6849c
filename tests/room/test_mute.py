"""The privacy mute's switch: who mutes, who may unmute."""

from __future__ import annotations

from satellite.room.mute import PrivacyMute
from satellite.runtime.metrics import Metrics


def test_home_assistant_reconnecting_never_lifts_a_mute_asked_for_out_loud() -> None:
    metrics = Metrics()
    mute = PrivacyMute(metrics, clock=lambda: 100.0)
    changes: list[bool] = []
    mute.watch(changes.append)
    assert mute.mute("voice")
    assert mute.status() == {"muted": True, "by": ["voice"], "since_s": 100.0}
    assert metrics.muted._value.get() == 1.0
    assert not mute.mute("home assistant")  # already off: no second chime
    assert not mute.unmute("home assistant")  # HA's run-satellite lifts its own mute only
    assert mute.muted and mute.by == {"voice"}
    assert mute.unmute()  # the switch lifts every mute
    assert not mute.muted and metrics.muted._value.get() == 0.0
    assert changes == [True, False]


def test_home_assistants_own_mute_is_lifted_by_home_assistant() -> None:
    mute = PrivacyMute(Metrics())
    mute.mute("home assistant")
    assert mute.unmute("home assistant") and not mute.muted
    assert not mute.unmute()  # nothing to lift
