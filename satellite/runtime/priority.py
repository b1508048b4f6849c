"""The engines' threads yield the CPU to the room's audio loop.

On a 2-core box the language model, Piper and Whisper can fill both cores while a reply plays;
the event loop that reads the microphone, cancels the echo and runs the wake word model then
falls behind its microphone (its reads 0.3-0.5 s late in the room's runs), and the wake word
said over the reply was missed. The engines' threads (the scheduler's workers, and the thread
that loads the models, whose own pools - onnxruntime's, CTranslate2's, llama.cpp's - are
created from it and inherit its niceness on Linux) run ``ENGINE_NICENESS`` above the process:
they lose nothing when the loop is idle, and wait for it when it is not.

Lowering a thread's own priority needs no privilege. Where threads have no niceness of their
own (not Linux) nothing changes.
"""

from __future__ import annotations

import logging
import os
import threading

_LOGGER = logging.getLogger(__name__)

ENGINE_NICENESS = 5
MAX_NICE = 19


def lower_thread_priority(by: int = ENGINE_NICENESS) -> int | None:
    """Make the calling thread ``by`` nicer than the process (its main thread), once: a thread
    already that nice stays as it is. Its niceness, or None where a thread's niceness is not
    its own or cannot be read."""
    if not hasattr(os, "setpriority") or not os.path.isdir("/proc/self/task"):
        return None  # (only Linux gives each thread a niceness of its own)
    thread_id = threading.get_native_id()
    try:
        nice = min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, os.getpid()) + by)
        if os.getpriority(os.PRIO_PROCESS, thread_id) >= nice:
            return os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, nice)
    except OSError as error:
        _LOGGER.debug("thread priority not lowered: %s", error)
        return None
    return nice


__all__ = ["ENGINE_NICENESS", "lower_thread_priority"]
