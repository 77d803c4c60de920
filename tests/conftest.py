"""Shared fixtures: synthetic wheels (no network), pinned tool venvs (setup), CLI runner."""

from __future__ import annotations

import json
import os
import shutil
import signal
import textwrap
import time
from pathlib import Path

import pytest

from harness.backends import engine, images
from harness.backends.base import BackendError
from harness.backends.images import tool_requirements
from harness.backends.local import LocalBackend
from harness.cli.main import main
from harness.packages.synth import SynthPackage, build_wheel
from harness.settings.pythons import find_python

# alpha needs beta; gamma carries .so payloads like a compiled package. About 1.3 MiB in all.
PACKAGES = (
    SynthPackage("alpha", files=40, file_size=8192, dependencies=("beta>=1",)),
    SynthPackage("beta", files=60, file_size=4096),
    SynthPackage("gamma", files=20, file_size=32768, binary=True),
)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    for package in PACKAGES:
        build_wheel(package, folder)
    return folder


@pytest.fixture(scope="session")
def python311() -> str:
    return find_python("3.11")[0]


@pytest.fixture(scope="session")
def tool_venvs(python311, tmp_path_factory) -> None:
    """Setup, not test: install the pinned tools (the only step that may use the network)."""
    backend = LocalBackend(tmp_path_factory.mktemp("work"), tmp_path_factory.mktemp("logs"))
    for name, requirements in tool_requirements().items():
        backend.tool_venv(name, requirements, python311)


@pytest.fixture
def isolated_work(tmp_path, monkeypatch) -> Path:
    """Run trees under the test's tmp folder; tool venvs stay in the shared envbench home."""
    work = tmp_path / "work"
    monkeypatch.setenv("ENVBENCH_WORK", str(work))
    return work


def wait_for_first_step(out: Path, tool: str, layout: str = "same-volume", timeout: float = 180) -> None:
    """Wait until a run writing to OUT has recorded its first step of TOOL (or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads((out / "run.json").read_text())["tools"][tool]["layouts"][layout]["steps"]:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"no step of {tool} recorded in {out / 'run.json'} after {timeout} s")


def sigint_as_a_terminal_sends_it() -> None:
    """preexec_fn for a child the test interrupts: SIGINT handled by default, as in a terminal.

    A shell that starts a command in the background (`pytest &`, some CI runners) ignores SIGINT
    for it, the child inherits that and Python then never raises KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# Where a connection fails and why: exit 3 and "ErrorType errno" when it fails, exit 0 when it connects.
CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
except OSError as exc:
    print(type(exc).__name__, exc.errno)
    sys.exit(3)
"""
# ENETUNREACH, EHOSTUNREACH (no route: network "none"), or no answer (an internal network drops what
# leaves it); never a refusal or an error of the script itself
UNREACHABLE = {"OSError 101", "OSError 113", "TimeoutError None"}


def no_route_out(backend, sandbox) -> None:
    """Nothing outside answers from SANDBOX's container, for the network's reason: a name does not
    resolve and an address has no route (a script that fails for any other cause is no proof)."""
    by_name = backend._exec(sandbox, [sandbox.python, "-c", CONNECT, "pypi.org", "443"])
    by_address = backend._exec(sandbox, [sandbox.python, "-c", CONNECT, "151.101.0.223", "443"])  # a PyPI address
    assert by_name[0] == 3 and by_name[1].decode().split()[0] == "gaierror", by_name
    assert by_address[0] == 3 and by_address[1].decode().strip() in UNREACHABLE, by_address


def nix_here() -> bool:
    """Whether the machine has nix for the nix tool's local runs (Debian's nix-bin); CI requires it."""
    if shutil.which("nix-build"):
        return True
    if os.environ.get("HARNESS_REQUIRE_NIX"):
        pytest.fail("HARNESS_REQUIRE_NIX is set and no nix-build is installed (apt-get install nix-bin)")
    return False


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def cli(capsys):
    """Run envbench in-process: returns (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        status = main([os.fspath(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture(scope="session")
def docker_client():
    try:
        return engine.connect()
    except BackendError as exc:
        if os.environ.get("HARNESS_REQUIRE_DOCKER"):
            pytest.fail(f"HARNESS_REQUIRE_DOCKER is set: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def tools_image(docker_client) -> str:
    """Setup: the base and tools images, built when missing (debootstrap needs Debian's mirror)."""
    return images.ensure(docker_client, print)["tools"]


@pytest.fixture(scope="session")
def tools_images(docker_client) -> dict[str, str]:
    """Setup: the tools images of Python 3.11 and 3.13 (bookworm, trixie), built when missing,
    before any test turns the host's pip offline."""
    return images.ensure(docker_client, print, ("3.11", "3.13"))["tools_by_python"]


@pytest.fixture(scope="session")
def local_runs(tmp_path_factory, wheelhouse, tool_venvs) -> dict[str, Path]:
    """Real runs on the local backend of one synthetic scenario (both layouts, so the
    split-volume units are unavailable there): pip-venv and uv in one
    invocation ("both"), each alone, and the two merged. "scenario" and "work" (ENVBENCH_WORK)
    serve other runs of it that must compare to the block: paths are written into envs, so
    their trees go in the same folder."""
    from harness.cli.main import main

    from .test_run_local import scenario_text

    base = tmp_path_factory.mktemp("merge")
    # Both layouts, as a user's scenario has them: the local backend records split-volume unavailable.
    scenario = write(base / "synth.yaml", scenario_text(wheelhouse, extra="layouts: [same-volume, split-volume]"))
    os.environ["ENVBENCH_WORK"] = str(base / "work")
    runs = {"scenario": scenario, "work": base / "work"}
    try:
        for name, tools in (("both", "pip-venv,uv"), ("pip", "pip-venv"), ("uv", "uv")):
            runs[name] = base / name
            assert main(["run", str(scenario), "--backend", "local", "--tools", tools, "--out", str(runs[name])]) == 0
    finally:
        del os.environ["ENVBENCH_WORK"]
    runs["merged"] = base / "merged"
    assert main(["merge", str(runs["pip"]), str(runs["uv"]), "--out", str(runs["merged"])]) == 0
    return runs


def make_private_index(folder, monkeypatch) -> None:
    """The scenario's `private` index, served from a folder, and no conda binary or channel of the user's."""
    build_wheel(SynthPackage("inhouse", version="2.1", files=2), folder)
    build_wheel(SynthPackage("inhouse", version="1.0", files=2), folder)
    monkeypatch.setenv("ENVBENCH_INDEX_PRIVATE", str(folder))
    for name in ("ENVBENCH_MICROMAMBA", "ENVBENCH_PIXI", "ENVBENCH_CONDA_CHANNEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def private_index(tmp_path, monkeypatch):
    make_private_index(tmp_path / "private", monkeypatch)


@pytest.fixture
def folder_as_pypi(tmp_path, monkeypatch) -> Path:
    """Synthetic wheels served as PyPI (ENVBENCH_INDEX_PYPI names a folder); the host's pip settings
    left out, so nothing else can be found."""
    pypi = tmp_path / "pypi"
    for package in (
        SynthPackage("web-app", dependencies=("helper>=1", 'fast-json; extra == "speed"')),
        SynthPackage("helper", version="1.0"),
        SynthPackage("helper", version="2.0"),
        SynthPackage("fast-json"),
        SynthPackage("win-only"),
        SynthPackage("tooling"),
    ):
        build_wheel(package, pypi)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("ENVBENCH_INDEX_PYPI", str(pypi))
    return pypi


@pytest.fixture
def served_pypi(folder_as_pypi, python311, tool_venvs, monkeypatch):
    """folder_as_pypi served over HTTP by the mirror's own index server (pypiserver, on a free
    local port), for tools that need an index URL (Poetry); ENVBENCH_INDEX_PYPI names the URL."""
    import socket
    import subprocess
    import urllib.request

    from harness.backends.images import SERVER_REQUIREMENTS
    from harness.packages import mirror
    from harness.settings.home import pinned_venv

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bin_dir = pinned_venv("pypiserver", SERVER_REQUIREMENTS, python311)
    server = subprocess.Popen(mirror.server_argv(str(bin_dir), str(folder_as_pypi), port, "127.0.0.1"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/simple"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the index server did not answer at {url}")
        monkeypatch.setenv("ENVBENCH_INDEX_PYPI", url)
        yield url
    finally:
        server.terminate()
        server.wait(10)
