"""Local backend: every tool in its own folder tree on this machine, no container.

Each tool gets its own HOME, XDG and cache folders (the sandbox) and a clean environment, so
no tool reads or writes the user's real caches or configuration; each tool that is not part
of Python runs from its own venv at a pinned version, named by a hash of its inputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from pathlib import Path

from harness.backends.base import BACKGROUND_NICE, PASSED_THROUGH, SYSTEM_PATH, BackendError, StepResult, ToolUnavailable
from harness.backends.images import SERVER_REQUIREMENTS
from harness.backends.web import PYPISERVER_FEATURES
from harness.packages import mirror
from harness.packages.conda_channel import host_interpreter
from harness.sandbox import FOLDER as SANDBOX
from harness.sandbox import cell, tree
from harness.sandbox import scan as scanner
from harness.settings.home import PinnedVenvError, envbench_home, host_ca_bundle, pinned_venv
from harness.settings.network import NetworkSpec
from harness.settings.pythons import NoPython, find_python
from harness.tools.base import Sandbox, Step, ToolAdapter

PROBE = SANDBOX / "probe.py"


def _wait_until_served(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BackendError(f"the mirror server exited ({server.returncode}): {log.read_text()[-300:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise BackendError(f"the mirror server at {url} did not answer in {timeout:.0f} s")



def missing_system_packages(packages: tuple[str, ...]) -> list[str]:
    """Those of Debian's PACKAGES this machine has not installed: the local backend builds sdists
    with the host's own programs and headers, and installs nothing on it."""
    missing = []
    for name in packages:
        try:
            done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        except FileNotFoundError:  # not a Debian system: nothing can be checked, so nothing is assumed
            return list(packages)
        if done.returncode != 0 or "install ok installed" not in done.stdout:
            missing.append(name)
    return missing


class LocalBackend:
    name = "local"
    # The tool's cache and its projects share one file system: the same-volume layout only.
    layouts = ("same-volume",)

    def __init__(self, work_dir: Path, logs_dir: Path, tools_dir: Path | None = None):
        # Absolute: steps run with the sandbox as their working directory.
        self.work_dir = Path(work_dir).resolve()
        self.logs_dir = Path(logs_dir).resolve()
        self.tools_dir = Path(tools_dir) if tools_dir else envbench_home() / "tools"
        self.ca_bundle = host_ca_bundle()
        self.servers: list[subprocess.Popen] = []

    def describe(self) -> dict:
        return {
            "name": self.name,
            "layouts": list(self.layouts),
            "work_dir": str(self.work_dir),
            "work_fs": scanner.mount_fs_type(str(self.work_dir.parent if not self.work_dir.exists() else self.work_dir)),
        }

    def free_space(self) -> tuple[str, int] | None:
        """Free bytes on the file system the sandboxes are made on."""
        folder = self.work_dir
        while not folder.exists():
            folder = folder.parent
        return str(folder), shutil.disk_usage(folder).free

    def python(self, version: str) -> str:
        try:
            return find_python(version)[0]
        except NoPython as exc:
            raise BackendError(str(exc)) from None

    def for_python(self, sandbox: Sandbox, version: str) -> Sandbox:
        """SANDBOX for projects on another Python: the same trees, that Python's interpreter."""
        return dataclasses.replace(sandbox, python=self.python(version), python_version=version)

    def read(self, sandbox: Sandbox, path: str) -> bytes | None:
        """A file of the sandbox (a lock file), None when there is none."""
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    def interpreter(self, version: str):
        """The files of this machine's python VERSION (what the local backend's envs run)."""
        return host_interpreter(self.python(version))

    def serve_channel(self, folder: Path) -> str:
        """A conda channel folder as tools here read it."""
        return Path(folder).resolve().as_uri()

    def wheelhouse(self, path: str | None) -> str | None:
        """Where a host folder of wheels is seen by the tools (here: where it is)."""
        return path

    # -- tools ----------------------------------------------------------------------------
    def tool_venv(self, name: str, requirements: tuple[str, ...], python: str) -> str:
        """bin folder of a pinned venv (a tool's, the mirror server's), made once per inputs."""
        if not requirements:
            return ""
        try:
            return str(pinned_venv(name, requirements, python, self.tools_dir))
        except PinnedVenvError as exc:
            raise ToolUnavailable(str(exc)) from None

    def sandbox(self, adapter: ToolAdapter, python: str, layout: str, place: str | None = None) -> Sandbox:
        """The tool's trees under the work folder, or under PLACE (a private file system)."""
        if layout not in self.layouts:
            raise ToolUnavailable(f"the local backend has one file system: the {layout} layout needs the docker backend")
        missing = missing_system_packages(adapter.debian_packages)
        if missing:
            raise ToolUnavailable(f"{adapter.name} needs Debian's {', '.join(missing)}, not installed here "
                                  f"(apt-get install {' '.join(missing)}; the docker backend's image has it)")
        binary = adapter.external_binary(dict(os.environ))
        if binary:
            tool_bin = self._external(adapter, binary)
        else:
            tool_bin = self.tool_venv(adapter.venv_name(), adapter.requirements, python) if adapter.requirements else ""
        return Sandbox(
            key=f"{adapter.name}/{layout}",
            root=str((Path(place) if place else self.work_dir) / adapter.name),
            python=python,
            tool_bin=tool_bin,
            ca_bundle=self.ca_bundle,
            scripts=str(SANDBOX),
        )

    def _external(self, adapter: ToolAdapter, binary: str) -> str:
        """A bin folder where the adapter's executable name leads to a binary the user named."""
        if not os.access(binary, os.X_OK):
            raise ToolUnavailable(f"{binary} (given for {adapter.name}) is not an executable file")
        folder = self.work_dir.parent / ".external" / adapter.name
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / adapter.executable
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path(binary).resolve())
        return str(folder)

    def reset(self, sandbox: Sandbox) -> None:
        """An empty cache, HOME and projects folder: the cold state."""
        self.remove(sandbox)
        for folder in (sandbox.cache, sandbox.home, sandbox.tmp, sandbox.projects):
            Path(folder).mkdir(parents=True, exist_ok=True)

    def prepare(self, sandbox: Sandbox, plan: dict) -> None:
        """Apply a tree plan (harness/sandbox/tree.py): the same code the containers run."""
        tree.apply(plan)

    def remove_trees(self, sandbox: Sandbox, paths: list[str], budget_s: float | None = None) -> bool:
        """Remove PATHS, whole whatever BUDGET_S says (a thread cannot be stopped midway; the
        docker backend slices): True, they are gone. With a budget it is a background removal,
        beside proofs: its thread drops to the lowest CPU priority first, as the docker backend's
        slices do (the thread is the filler's: it runs removals only, and ends with its window)."""
        if budget_s is not None and sys.platform.startswith("linux"):  # Linux takes a thread id where a pid goes
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        tree.apply({"remove": paths})
        return True

    def stop_background(self) -> None:
        """Nothing to stop: removals here run whole (remove_trees)."""

    def remove(self, sandbox: Sandbox) -> None:
        shutil.rmtree(sandbox.root, ignore_errors=True)

    def retire(self, sandbox: Sandbox):
        """Done with SANDBOX: what removes its trees, to run when nothing is timed (whole, as
        remove_trees)."""

        def removal(budget_s: float | None = None) -> bool:
            self.remove(sandbox)
            return True

        return removal

    # -- running --------------------------------------------------------------------------
    def environment(self, step: Step) -> dict[str, str]:
        passed = ("LANG", "LC_ALL") if self.servers else PASSED_THROUGH  # the mirror is never proxied
        env = {name: os.environ[name] for name in passed if name in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        env["PATH"] = SYSTEM_PATH
        env.update(step.env)
        return env

    def run(self, sandbox: Sandbox, step: Step, log_name: str) -> StepResult:
        return self.run_cell(sandbox, {}, [step], [log_name])[0]

    def run_cell(self, sandbox: Sandbox, plan: dict, steps: list[Step], log_names: list[str]) -> list[StepResult]:
        """The cell driver (harness/sandbox/cell.py) in this process: no interpreter started per step.

        Each tool runs in its own session; an interrupt kills that session's processes.
        """
        logs = [self.logs_dir / f"{name}.log" for name in log_names]
        spec = {
            "plan": plan,
            "steps": [
                {"argv": list(step.argv), "env": self.environment(step), "cwd": step.cwd, "log": str(log)}
                for step, log in zip(steps, logs, strict=True)
            ],
        }
        return [StepResult.from_shim(data, str(log)) for data, log in zip(cell.run_cell(spec), logs, strict=False)]

    def probe(self, sandbox: Sandbox, env_python: str, names: list[str]) -> dict:
        argv = [env_python, "-I", "-B", str(PROBE), sandbox.tmp, *names]  # shared hashes and bytecode in tmp
        env = {**sandbox.probe_env(), "PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}
        done = subprocess.run(argv, env=env, cwd=sandbox.tmp, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return {"error": (done.stderr or done.stdout).strip()[-2000:] or f"exit {done.returncode}"}
        return json.loads(done.stdout)

    def scan(self, sandbox: Sandbox, roots: list[str], cache_roots: list[str], groups: dict[str, str] | None = None,
             packages: bool = True) -> dict:  # fmt: skip
        return scanner.scan(roots, cache_roots, groups=groups, skip_missing=True, with_packages=packages)

    def shape(self, network: NetworkSpec | None) -> str | None:
        """The tools here share the host's network: nothing of it is the run's own to shape."""
        if network is None:
            return None
        return "network: the local backend has no network namespace of its own to shape; use --backend docker"

    def shaped_by(self) -> str | None:
        return None

    def measure_link(self, sandbox: Sandbox) -> dict:
        raise BackendError("the local backend shapes no link")

    def index_facts(self) -> dict:
        return {"server": SERVER_REQUIREMENTS[0].replace("==", " "), "features": list(PYPISERVER_FEATURES)}

    def traffic(self, windows: list[tuple[float, float]]) -> None:
        return None  # pypiserver's log holds no answer sizes

    def serve(self, folder: Path, python: str) -> dict[str, str]:
        """Serve each index folder of a laid-out mirror on loopback: {index: simple URL}."""
        bin_dir = self.tool_venv("pypiserver", SERVER_REQUIREMENTS, python)
        urls = {}
        for index in mirror.indexes_of(folder):
            port = _port_for(index)
            log = self.logs_dir / f"mirror-{index}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as out:
                server = subprocess.Popen(
                    mirror.server_argv(bin_dir, str(folder / index), port, "127.0.0.1"),
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                )  # fmt: skip
            self.servers.append(server)
            urls[index] = f"http://127.0.0.1:{port}/simple/"
            _wait_until_served(urls[index], server, log)
        return urls

    def close(self) -> None:
        """Stop the mirror's servers; sandbox trees are removed as each tool finishes."""
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            server.wait()
        self.servers = []


# The mirror's port, the same in every run where it is free: pip's HTTP cache names its folders by
# a hash of each URL, so another port gives another set of folders and the cache's physical size
# differs by a block or two between otherwise identical runs.
MIRROR_PORTS = range(38100, 38900)


def _port_for(index: str) -> int:
    preferred = MIRROR_PORTS[zlib.crc32(index.encode()) % len(MIRROR_PORTS)]
    for port in (preferred, 0):  # 0: any free port, when the preferred one is taken
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise BackendError("no free port on 127.0.0.1 for the mirror")
