"""What the CPU is, as the native engines see it: model, architecture, SIMD features, cores.

Read once from ``/proc/cpuinfo`` (the kernel's view, the same on x86-64 and aarch64), parsed by a
pure function so tests can feed any machine's text. The fingerprint keys the engine probes'
verdicts: another CPU (a moved disk, a VM migrated to another host) is probed again.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from dataclasses import dataclass
from pathlib import Path

# The features that decide which kernels llama.cpp, CTranslate2 and onnxruntime run, in the
# order a person reads them (older to newer); the fingerprint uses every flag.
NOTABLE = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl",
    "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16",  # x86-64
    "asimd", "asimddp", "asimdhp", "i8mm", "bf16", "sve", "sve2",  # aarch64
)


@dataclass(frozen=True)
class CpuFacts:
    model: str
    machine: str  # x86_64 | aarch64 | ...
    flags: frozenset[str]
    cores: int

    @property
    def simd(self) -> list[str]:
        return [flag for flag in NOTABLE if flag in self.flags]

    @property
    def amx(self) -> bool:
        return "amx_int8" in self.flags or "amx_bf16" in self.flags

    def fingerprint(self) -> str:
        text = "|".join([self.model, self.machine, " ".join(sorted(self.flags))])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        """One line: "Intel(R) Xeon(R) Processor, x86_64, 2 cores, sse4_2 avx avx2 ... amx_int8"."""
        return f"{self.model}, {self.machine}, {self.cores} cores, {' '.join(self.simd) or 'no SIMD flags'}"

    def as_dict(self) -> dict[str, object]:
        return {"model": self.model, "machine": self.machine, "cores": self.cores, "simd": self.simd,
                "fingerprint": self.fingerprint()}


def parse_cpuinfo(text: str, machine: str, cores: int) -> CpuFacts:
    """The first processor's model and flags (x86: ``model name``/``flags``; aarch64:
    ``Features``, and ``CPU part`` where the kernel gives no model name)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key not in fields:
            fields[key] = value.strip()
    flags = frozenset((fields.get("flags") or fields.get("Features") or "").split())
    model = (fields.get("model name") or fields.get("Model")
             or (f"ARM part {fields['CPU part']}" if "CPU part" in fields else "") or machine)
    return CpuFacts(model, machine, flags, cores)


@functools.cache
def read_cpu_facts() -> CpuFacts:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:  # not Linux: the engines still run; the fingerprint is the machine alone
        text = ""
    return parse_cpuinfo(text, platform.machine(), os.cpu_count() or 1)
