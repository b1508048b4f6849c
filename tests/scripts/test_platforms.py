"""scripts/platforms.py: which wheel fits which target, the whole check on saved PyPI documents, and
the real check against PyPI on the installed venv."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from packaging.tags import Tag

from scripts import platforms

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "platforms.py"

CT2_ARM = "ctranslate2-4.6.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
CT2_X86 = "ctranslate2-4.6.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
MWW_X86 = "pymicro_wakeword-2.5.0-py3-none-manylinux_2_35_x86_64.whl"
MWW_ARM = "pymicro_wakeword-2.5.0-py3-none-manylinux_2_35_aarch64.whl"
NUMPY_ARM = "numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl"
MUSL_ARM = "webrtcvad_wheels-2.0.14.post1-cp311-cp311-musllinux_1_2_aarch64.whl"
PURE = "sounddevice-0.5.6-py3-none-any.whl"
AIOHTTP_ARM = "aiohttp-3.14.5-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
AIOHTTP_PURE = "aiohttp-3.14.5-py3-none-any.whl"
PREBUILT = "NONE (sdist ships prebuilt binaries)"


@pytest.mark.parametrize(
    ("files", "machine", "native", "expected"),
    [
        ([CT2_ARM], "aarch64", False, "wheel (manylinux_2_17)"),
        ([CT2_ARM], "x86_64", False, "NONE"),
        ([CT2_ARM, CT2_X86], "x86_64", False, "wheel (manylinux_2_17)"),
        # py3-none but x86-64 only: no aarch64 path; with an sdist that can only bundle such binaries, neither
        ([MWW_X86], "x86_64", False, "wheel (manylinux_2_35)"),
        ([MWW_X86], "aarch64", False, "NONE"),
        ([MWW_X86, "pymicro_wakeword-2.5.0.tar.gz"], "aarch64", False, PREBUILT),
        ([MWW_X86, MWW_ARM, "pymicro_wakeword-2.5.0.tar.gz"], "aarch64", False, "wheel (manylinux_2_35)"),
        # a wheel with two glibc tags needs the older one
        ([NUMPY_ARM], "aarch64", False, "wheel (manylinux_2_27)"),
        ([NUMPY_ARM], "x86_64", False, "NONE"),
        # Debian is glibc: a musllinux wheel never fits, the sdist compiles
        ([MUSL_ARM], "aarch64", False, "NONE"),
        ([MUSL_ARM, "webrtcvad_wheels-2.0.14.post1.tar.gz"], "aarch64", False, "sdist (builds native code)"),
        # newer than Debian 12's glibc 2.36, another CPython, PyPy, a piwheels-style tag: none fits
        (["x-1.0-cp311-cp311-manylinux_2_39_aarch64.whl"], "aarch64", False, "NONE"),
        (["x-1.0-cp312-cp312-manylinux_2_17_aarch64.whl"], "aarch64", False, "NONE"),
        (["x-1.0-pp311-pypy311_pp73-manylinux_2_17_aarch64.whl"], "aarch64", False, "NONE"),
        (["x-1.0-cp311-cp311-linux_aarch64.whl"], "aarch64", False, "NONE"),
        # abi3 from an older CPython, legacy manylinux1 on x86-64
        (["x-1.0-cp39-abi3-manylinux_2_28_aarch64.whl"], "aarch64", False, "wheel (manylinux_2_28)"),
        (["x-1.0-cp311-cp311-manylinux1_x86_64.whl"], "x86_64", False, "wheel (manylinux_2_5)"),
        ([PURE, "sounddevice-0.5.6.tar.gz"], "aarch64", False, "wheel (pure)"),
        # pip takes the compiled wheel before the pure fallback
        ([AIOHTTP_PURE, AIOHTTP_ARM], "aarch64", False, "wheel (manylinux_2_17)"),
        ([AIOHTTP_PURE, AIOHTTP_ARM], "x86_64", False, "wheel (pure)"),
        (["sdnotify-0.3.2.tar.gz"], "aarch64", False, "sdist (pure python)"),
        (["llama_cpp_python-0.3.36.tar.gz"], "aarch64", True, "sdist (builds native code)"),
        (["x-1.0-cp312-cp312-manylinux_2_17_aarch64.whl", "x-1.0.tar.gz"], "aarch64", False,
         "sdist (builds native code)"),
        ([], "aarch64", False, "NONE"),
        (["not a wheel.whl"], "x86_64", False, "NONE"),
    ],
)
def test_how_it_installs(files: list[str], machine: str, native: bool, expected: str) -> None:
    assert platforms.how_it_installs(files, machine, native) == expected


def test_target_tags_are_glibc_236_cpython_311() -> None:
    arm = set(platforms.target_tags("aarch64"))
    assert Tag("cp311", "cp311", "manylinux_2_36_aarch64") in arm
    assert Tag("cp311", "cp311", "manylinux_2_37_aarch64") not in arm
    assert Tag("cp311", "cp311", "musllinux_1_2_aarch64") not in arm
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") not in arm
    assert Tag("py3", "none", "any") in arm
    assert platforms.target_tags("x86_64")[0] == Tag("cp311", "cp311", "manylinux_2_36_x86_64")


def test_release_files_from_either_document() -> None:
    project = {"releases": {"1.0": [{"filename": "a-1.0.tar.gz"}]}, "urls": [{"filename": "a-2.0.tar.gz"}]}
    assert platforms.release_files(project, "1.0") == ["a-1.0.tar.gz"]
    assert platforms.release_files(project, "3.0") is None
    assert platforms.release_files({"urls": [{"filename": "a-2.0.tar.gz"}]}, "2.0") == ["a-2.0.tar.gz"]


# A fake installed project: its dist-infos on PYTHONPATH, its PyPI documents in a directory.
FAKE = {
    "fakeapp": ("1.0", [
        "purelib==1.0",
        "nativelib==2.0",
        "wakelib==2.5.0",
        "llama-cpp-python==0.0.1",
        'x86only==1.0 ; platform_machine == "x86_64"',
        'armonly==1.0 ; platform_machine == "aarch64"',  # not installed here, pinned: checked
        'armloose>=1 ; platform_machine == "aarch64"',  # not installed here, no pin: no version to check
        'winonly==1.0 ; sys_platform == "win32"',
        'testdep==1.0 ; extra == "test"',
    ]),
    "goodapp": ("1.0", ["purelib==1.0", 'x86only==1.0 ; platform_machine != "aarch64"']),
    "purelib": ("1.0", ["transitive[fast]==0.1"]),
    "transitive": ("0.1", ['speedups==1.0 ; extra == "fast"', 'slowdeps==1.0 ; extra == "slow"']),
    "speedups": ("1.0", []),
    "nativelib": ("2.0", []),
    "wakelib": ("2.5.0", []),
    "llama-cpp-python": ("0.0.1", []),
    "x86only": ("1.0", []),
    "winonly": ("1.0", []),
    "testdep": ("1.0", []),
    "slowdeps": ("1.0", []),
}
DOCS = {  # file name -> document, in both forms PyPI serves: a release's and a project's
    "purelib-1.0.json": {"urls": [{"filename": "purelib-1.0-py3-none-any.whl"}]},
    "transitive.json": {"releases": {"0.1": [{"filename": "transitive-0.1.tar.gz"}], "0.2": []}},
    "speedups-1.0.json": {"urls": [{"filename": "speedups-1.0-cp311-abi3-manylinux_2_17_aarch64.whl"},
                                   {"filename": "speedups-1.0-cp311-abi3-manylinux_2_17_x86_64.whl"}]},
    "nativelib.json": {"releases": {"2.0": [{"filename": CT2_ARM}, {"filename": CT2_X86}], "3.0": []}},
    "wakelib-2.5.0.json": {"urls": [{"filename": MWW_X86}, {"filename": "wakelib-2.5.0.tar.gz"}]},
    "x86only-1.0.json": {"urls": [{"filename": CT2_X86}]},
    "armonly-1.0.json": {"urls": [{"filename": CT2_ARM}]},
    "testdep-1.0.json": {"urls": [{"filename": "testdep-1.0-py3-none-any.whl"}]},
}


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("platforms")
    site, docs = root / "site", root / "docs"
    for name, (version, requires) in FAKE.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        lines += [f"Requires-Dist: {req}" for req in requires] + ["Provides-Extra: test"]
        (info / "METADATA").write_text("\n".join(lines) + "\n")
    docs.mkdir()
    for filename, doc in DOCS.items():
        (docs / filename).write_text(json.dumps(doc))
    return site, docs


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=REPO)


def rows(markdown: str) -> dict[str, list[str]]:
    """package -> [version, x86-64, aarch64] from the script's table."""
    cells = [line.strip("|").split("|") for line in markdown.splitlines() if line.startswith("| ")]
    return {c[0].strip(): [x.strip() for x in c[1:]] for c in cells[1:]}


def test_offline_a_package_with_no_aarch64_path_fails(fake: tuple[Path, Path], tmp_path: Path) -> None:
    site, docs = fake
    out = tmp_path / "table.md"
    done = run("--root", "fakeapp", "--offline-json", str(docs), "--markdown", str(out),
               env={"PYTHONPATH": str(site)})
    assert done.returncode == 1, done.stderr
    table = rows(done.stdout)
    assert out.read_text() == done.stdout
    assert table == {
        "llama-cpp-python": ["0.0.1", "source build", "source build"],
        "nativelib": ["2.0", "wheel (manylinux_2_17)", "wheel (manylinux_2_17)"],
        "purelib": ["1.0", "wheel (pure)", "wheel (pure)"],
        "speedups": ["1.0", "wheel (manylinux_2_17)", "wheel (manylinux_2_17)"],
        "transitive": ["0.1", "sdist (pure python)", "sdist (pure python)"],
        "wakelib": ["2.5.0", "wheel (manylinux_2_35)", PREBUILT],
        "x86only": ["1.0", "wheel (manylinux_2_17)", "not installed on aarch64 (marker)"],
        "armonly": ["1.0", "not installed on x86-64 (marker)", "wheel (manylinux_2_17)"],
        "armloose": ["?", "not installed on x86-64 (marker)", "NONE (not installed here, version unknown)"],
    }
    failures = [line for line in done.stderr.splitlines() if line.startswith("platforms: no install path")]
    assert failures == [
        "platforms: no install path: armloose ? on aarch64: NONE (not installed here, version unknown)",
        f"platforms: no install path: wakelib 2.5.0 on aarch64: {PREBUILT}",
    ]
    assert "platforms: armonly is not installed here: its own requirements were not checked" in done.stderr


def test_offline_extra_and_a_passing_project(fake: tuple[Path, Path]) -> None:
    site, docs = fake
    done = run("--root", "fakeapp", "--extra", "test", "--offline-json", str(docs),
               env={"PYTHONPATH": str(site)})
    assert rows(done.stdout)["testdep"] == ["1.0", "wheel (pure)", "wheel (pure)"]
    assert done.returncode == 1
    done = run("--root", "goodapp", "--offline-json", str(docs), env={"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
    assert set(rows(done.stdout)) == {"purelib", "transitive", "speedups", "x86only"}
    assert done.stderr == ""


def test_a_release_missing_from_the_documents_has_no_path(fake: tuple[Path, Path], tmp_path: Path) -> None:
    site, docs = fake
    done = run("--root", "goodapp", "--offline-json", str(tmp_path), env={"PYTHONPATH": str(site)})
    assert done.returncode == 1
    assert rows(done.stdout)["purelib"] == ["1.0", "NONE (not on PyPI)", "NONE (not on PyPI)"]


def test_unreachable_pypi_is_one_clear_line(fake: tuple[Path, Path]) -> None:
    with socket.socket() as closed:  # a port nobody listens on, as the HTTPS proxy
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    site, _ = fake
    proxy = f"http://127.0.0.1:{port}"
    done = run("--root", "goodapp", env={"PYTHONPATH": str(site), "https_proxy": proxy, "HTTPS_PROXY": proxy,
                                         "no_proxy": "", "NO_PROXY": ""})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("platforms: cannot reach PyPI (https://pypi.org/pypi/")
    assert len(done.stderr.splitlines()) == 1


def test_a_silent_server_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as server:  # accepts, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
        monkeypatch.setattr(platforms, "TIMEOUT_S", 0.5)
        with pytest.raises(platforms.Unreachable, match="timed out"):
            platforms._get_json(f"http://127.0.0.1:{server.getsockname()[1]}/pypi/x/json")
        for conn in accepted:
            conn.close()


def test_the_installed_venv_against_pypi(tmp_path: Path) -> None:
    """The real check, over the network: every runtime dependency installs on both targets."""
    out = tmp_path / "platforms.md"
    done = run("--markdown", str(out), timeout=300)
    assert done.returncode == 0, done.stderr
    table = rows(out.read_text())
    assert table["llama-cpp-python"][1:] == ["source build", "source build"]
    for name in ("numpy", "ctranslate2", "onnxruntime", "piper-tts", "webrtcvad-wheels"):
        assert all(how.startswith("wheel (manylinux_2_") for how in table[name][1:]), (name, table[name])
    assert "pytest" not in table  # the test extra is not a runtime dependency


def test_a_project_that_is_not_installed_is_one_clear_line() -> None:
    done = run("--root", "no-such-project-here")
    assert done.returncode == 2
    assert done.stderr.startswith("platforms: no-such-project-here is not installed in ")
