"""The box as Home Assistant's Assist satellite over Wyoming (beside the provider in ``satellite.wyoming``).

Home Assistant connects to ``assist_satellite.uri`` and runs the satellite; after
the wake word the box asks HA's pipeline (``RemoteRun``) and plays its answer
(``AnswerPlayer``); HA's announcements and timers reach the room the same way.
``SatelliteLink`` is the one connection's state; ``AssistSatelliteServer`` the door.
"""

from satellite.assist.link import SatelliteLink
from satellite.assist.run import RemoteRun, RunOutcome

__all__ = ["RemoteRun", "RunOutcome", "SatelliteLink"]
