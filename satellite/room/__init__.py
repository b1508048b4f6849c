"""The room: turn-taking between the people in it and the box.

Audio in → echo canceller → VAD front end (``frontend``, ``segmenter``) → the wake
gate → the room's state (``machine``: listening, awake, hearing, thinking,
speaking, ringing, following up) → one turn at a time (``turn_runner``) → the
speaker (``playback``, ``timer_bell``). ``listener`` is the I/O shell around the
state machine; ``daemon/`` only starts and stops it.
"""
