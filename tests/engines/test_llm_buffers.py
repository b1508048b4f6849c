"""llama.cpp's extra buffers (AMX repack) stay off where llama.cpp reports AMX, and the LLM
answers on the real default model on this machine, whatever its CPU."""

from __future__ import annotations

import dataclasses

import pytest

from satellite.config import Config
from satellite.engines.llm import ChatMessage, LlamaCppLlm, llama_system_info, use_extra_buffers

XEON_AMX = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | "
            "BMI2 = 1 | AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | "
            "AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |")
EPYC = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
        "LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |")
PI5 = "CPU : NEON = 1 | ARM_FMA = 1 | FP16_VA = 1 | DOTPROD = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |"


@pytest.mark.parametrize(("setting", "system_info", "expected"), [
    ("auto", XEON_AMX, False),  # the AMX path segfaults (ggml-org/llama.cpp#20824)
    ("auto", XEON_AMX.replace("AMX_INT8", "AMX_BF16"), False),
    ("auto", XEON_AMX.replace("AMX_INT8 = 1", "AMX_INT8 = 0"), True),
    ("auto", EPYC, True),
    ("auto", PI5, True),  # the ARM repack kernels
    ("enabled", XEON_AMX, True),  # the user's word wins; the probe still catches a crash
    ("disabled", EPYC, False),
])
def test_extra_buffers_follow_what_llama_cpp_reports(setting: str, system_info: str,
                                                     expected: bool) -> None:
    assert use_extra_buffers(setting, system_info) is expected


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["auto", "disabled"])
def test_the_default_model_answers_on_this_machine(base_config: Config, setting: str) -> None:
    """In this process, not a probe child: a crash here fails the whole run, as it would the box."""
    llm = LlamaCppLlm(dataclasses.replace(base_config.llm, extra_buffers=setting))
    info = llama_system_info()
    assert llm.extra_buffers is (setting == "auto" and "AMX_INT8 = 1" not in info
                                 and "AMX_BF16 = 1" not in info)
    chat = [ChatMessage("system", base_config.llm.system_prompt),
            ChatMessage("user", "What is the capital of France?")]
    reply = "".join(llm.stream(chat, max_tokens=16))
    assert "paris" in reply.lower()
