"""llama-cpp-python's OpenAI-compatible server with llama.cpp's extra buffers decided as the box's
own LLM decides them: off where llama.cpp reports AMX, whose path segfaults on the first decode
(ggml-org/llama.cpp#20824), so the server does not die on such a CPU either.

    python -m satellite.engines.llama_server --model MODEL.gguf --port 8080 ...

takes every argument of ``python -m llama_cpp.server``; ``SATELLITE__LLM__EXTRA_BUFFERS``
(auto | enabled | disabled) forces the choice.
"""

from __future__ import annotations

import logging
import os
import runpy
import sys

from satellite.engines.llm import llama_system_info, set_default_extra_buffers, use_extra_buffers


def main() -> None:
    setting = os.environ.get("SATELLITE__LLM__EXTRA_BUFFERS", "auto")
    enabled = use_extra_buffers(setting, llama_system_info())
    set_default_extra_buffers(enabled)
    logging.basicConfig(level=logging.INFO)
    logging.getLogger(__name__).info("llama.cpp extra buffers (weight repacking) %s",
                                     "on" if enabled else "off")
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
