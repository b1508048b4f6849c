"""CPU facts from /proc/cpuinfo as x86-64 and aarch64 kernels write it."""

from __future__ import annotations

from satellite.engines.cpu import parse_cpuinfo, read_cpu_facts

XEON_AMX = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni amx_bf16 amx_tile amx_int8

processor\t: 1
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse4_2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni amx_bf16 amx_tile amx_int8
"""
EPYC = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse4_2 avx avx2 fma f16c
"""
PI5 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU part\t: 0xd0b
"""


def test_an_intel_cpu_with_amx() -> None:
    cpu = parse_cpuinfo(XEON_AMX, "x86_64", 2)
    assert cpu.model == "Intel(R) Xeon(R) Processor" and cpu.amx
    assert cpu.simd[-4:] == ["avx512_vnni", "amx_tile", "amx_int8", "amx_bf16"]
    assert "fpu" not in cpu.simd  # only what decides the kernels is shown
    assert cpu.describe().startswith("Intel(R) Xeon(R) Processor, x86_64, 2 cores, sse4_2 avx avx2")


def test_an_amd_cpu_without_amx_or_avx512() -> None:
    cpu = parse_cpuinfo(EPYC, "x86_64", 2)
    assert not cpu.amx and cpu.simd == ["sse4_2", "avx", "avx2", "fma", "f16c"]


def test_a_raspberry_pi_5() -> None:
    cpu = parse_cpuinfo(PI5, "aarch64", 4)
    assert cpu.model == "ARM part 0xd0b" and not cpu.amx
    assert cpu.simd == ["asimd", "asimddp", "asimdhp"]


def test_another_cpu_has_another_fingerprint() -> None:
    xeon, epyc = parse_cpuinfo(XEON_AMX, "x86_64", 2), parse_cpuinfo(EPYC, "x86_64", 2)
    assert xeon.fingerprint() != epyc.fingerprint()
    assert xeon.fingerprint() == parse_cpuinfo(XEON_AMX, "x86_64", 8).fingerprint()  # not the cores


def test_this_machine_is_read() -> None:
    cpu = read_cpu_facts()
    assert cpu.cores >= 1 and cpu.machine and cpu.flags  # Linux: the kernel lists the features
