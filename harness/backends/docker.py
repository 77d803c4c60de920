"""Docker backend: each (tool, layout) in a fresh container of the tools image.

The container runs as an unprivileged user with every capability dropped, no host folder but
read-only ones (a wheel folder, the CA bundle) and no Docker socket. Projects and caches live on
named volumes: one for `same-volume`, a second one at the cache for `split-volume` (a link
across two mounts fails, so tools fall back to copies, as under a Docker build-cache mount).
The timing shim, the probe and the scanner run inside, with the image's Python.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.backends.base import BACKGROUND_NICE, PASSED_THROUGH, SYSTEM_PATH, BackendError, StepResult, ToolUnavailable
from harness.backends.cell_driver import CellDriver
from harness.backends.docker_sources import CHANNEL, WHEELS, DockerSources
from harness.backends.engine import LABEL, clean, facts
from harness.backends.images import UID
from harness.sandbox import walk
from harness.settings.home import envbench_home, host_ca_bundle
from harness.tools.base import Sandbox, Step, ToolAdapter

BENCH = "/bench"
SCRATCH = f"{BENCH}/.envbench"  # shim results, logs, probe output: never scanned
LOGS = f"{SCRATCH}/logs"
IN_IMAGE = "/opt/envbench"
CA_IN_CONTAINER = "/etc/ssl/certs/ca-certificates.crt"


def _bench_on(place: Path) -> str:
    """/bench's tree on a private file system, owned by the tools' user, as the image's is."""
    bench = place / "bench"
    for folder in (bench, bench / "cache", bench / ".envbench"):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, UID, UID)
    return str(bench)


@dataclass
class _Box:
    container: object
    volumes: list  # the volumes it owns (a sibling for another Python owns none)
    run_args: dict  # how it was started: a sibling for another Python starts the same way


# SIGTERM to every process of the container whose argv holds one of the tags given (a slice's
# timeout and its cell.py), this one left out: its own argv holds them too.
STOP_SLICES = """
import os, signal, sys
tags = [t.encode() for t in sys.argv[1:]]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read()
        if int(pid) != os.getpid() and any(t in argv for t in tags):
            os.kill(int(pid), signal.SIGTERM)
    except OSError:
        pass
"""


class DockerBackend(DockerSources):
    name = "docker"
    layouts = ("same-volume", "split-volume")

    def __init__(self, client, image: str, run_id: str, logs_dir: Path, host_wheelhouse: str | None, environ: dict,
                 images_by_python: dict[str, str] | None = None):  # fmt: skip
        self.client = client
        self.image = image
        # Python X.Y -> the tools image whose python3 it is (the scenario's own Python: IMAGE).
        self.images_by_python = dict(images_by_python or {})
        self.run_id = run_id
        self.logs_dir = Path(logs_dir).resolve()
        self.host_wheelhouse = host_wheelhouse
        # Offline scenarios get no network at all; live ones reach registries with the host's CA.
        self.network = "none" if host_wheelhouse else "bridge"
        self.ca_bundle = "" if host_wheelhouse else host_ca_bundle()
        self.environ = environ
        self.passed = {name: environ[name] for name in PASSED_THROUGH if name in environ and not host_wheelhouse}
        self.boxes: dict[str, _Box] = {}
        self._retired: dict[str, _Box] = {}  # done with, still there: queued env removals exec in them
        self._drivers: dict[str, CellDriver] = {}  # sandbox key -> its cell driver, started at its first cell
        self._copies: dict[str, str] = {}  # purpose -> volume holding a host folder's copy
        self._python: dict[str, str] = {}
        self._python_of_box: dict[str, str] = {}
        self._channel: str | None = None  # volume of the conda channel, once served
        # Background removal slices running now (tag -> sandbox) and those stop_background cut short.
        self._slices: dict[str, Sandbox] = {}
        self._stopped: set[str] = set()
        self._slices_lock = threading.Lock()

    def describe(self) -> dict:
        return {
            "name": self.name,
            "layouts": list(self.layouts),
            "image": self.image,
            "image_id": self.client.images.get(self.image).id,
            "network": self.network,
            "user": f"{UID}:{UID}",
            **facts(self.client),
            **({"volumes_fs": walk.mount_fs_type(space[0])} if (space := self.free_space()) else {}),
        }

    def free_space(self) -> tuple[str, int] | None:
        """Free bytes where the engine keeps volumes, when that folder is on this host."""
        folder = Path(self.client.info().get("DockerRootDir") or "/var/lib/docker") / "volumes"
        return (str(folder), shutil.disk_usage(folder).free) if folder.is_dir() else None

    # -- containers -----------------------------------------------------------------------------
    def image_for(self, version: str) -> str:
        return self.images_by_python.get(".".join(version.split(".")[:2]), self.image)

    def python(self, version: str) -> str:
        """The interpreter for VERSION in the image that has it (e.g. /usr/bin/python3.11)."""
        if version not in self._python:
            major_minor = ".".join(version.split(".")[:2])
            probe = "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])"
            try:
                out = self.client.containers.run(
                    self.image_for(version),
                    [f"python{major_minor}", "-c", probe],
                    remove=True,
                    network_mode="none",
                    labels={LABEL: self.run_id},
                ).decode()
            except Exception as exc:  # the SDK raises ContainerError, APIError, ...
                raise BackendError(
                    f"the image {self.image_for(version)} has no python{major_minor}: {str(exc).splitlines()[0][:200]}"
                ) from None
            executable, found = out.split()[:2]
            if not (found == version or found.startswith(version + ".")):
                raise BackendError(f"the image {self.image_for(version)} has Python {found}, the scenario asks for {version}")
            self._python[version] = executable
        return self._python[version]

    def sandbox(self, adapter: ToolAdapter, python: str, layout: str, place: str | None = None) -> Sandbox:
        """A container for the tool; PLACE: a host folder on a private file system (harness/
        filesystems.py) to hold /bench instead of a volume of the engine's."""
        from docker.types import Mount

        if layout not in self.layouts:
            raise ToolUnavailable(f"unknown layout {layout}")
        where = f"-{hashlib.sha256(place.encode()).hexdigest()[:8]}" if place else ""  # one per private file system
        key = f"{adapter.name}/{layout}{where}"
        labels = {LABEL: self.run_id}
        stem = f"envbench-{self.run_id}-{adapter.name}-{layout}{where}".lower()
        if place:
            if layout != "same-volume":
                raise ToolUnavailable(f"a private file system is one volume: {layout} runs on the engine's volumes")
            volumes, mounts = [], [Mount(BENCH, _bench_on(Path(place)), type="bind")]
        else:
            volumes = [self.client.volumes.create(name=f"{stem}-bench", labels=labels)]
            mounts = [Mount(BENCH, volumes[0].name, type="volume")]
        if layout == "split-volume":
            volumes.append(self.client.volumes.create(name=f"{stem}-cache", labels=labels))
            mounts.append(Mount(f"{BENCH}/cache", volumes[1].name, type="volume"))
        if self.host_wheelhouse:
            mounts.append(Mount(WHEELS, self._volume_from(Path(self.host_wheelhouse), "wheels"), type="volume", read_only=True))
        if self.ca_bundle:
            mounts.append(Mount(CA_IN_CONTAINER, self.ca_bundle, type="bind", read_only=True))
        if self._channel and adapter.conda_channel:
            mounts.append(Mount(CHANNEL, self._channel, type="volume", read_only=True))
        tool_bin = f"/opt/tools/{adapter.venv_name()}/bin" if adapter.requirements else ""
        binary = adapter.external_binary(self.environ)
        if binary:  # a single static binary (micromamba, pixi), read-only: nothing else of the host
            if not Path(binary).is_file():
                raise ToolUnavailable(f"{binary} (given for {adapter.name}) is not a file")
            tool_bin = f"/opt/external/{adapter.name}/bin"
            mounts.append(Mount(f"{tool_bin}/{adapter.executable}", str(Path(binary).resolve()), type="bind", read_only=True))
        run_args = {"name": stem, "labels": labels, "mounts": mounts, "network_mode": self.network}
        try:
            container = self._start(self.image, run_args)
        except Exception:
            for volume in volumes:
                volume.remove(force=True)
            raise
        self.boxes[key] = _Box(container, volumes, run_args)
        return Sandbox(
            root=BENCH,
            python=python,
            tool_bin=tool_bin,
            ca_bundle=CA_IN_CONTAINER if self.ca_bundle else "",
            key=key,
            scripts=IN_IMAGE,
        )

    def _start(self, image: str, run_args: dict):
        return self.client.containers.run(
            image, ["sleep", "infinity"], detach=True, user=f"{UID}:{UID}", cap_drop=["ALL"],
            security_opt=["no-new-privileges"], init=True, **run_args,
        )  # fmt: skip

    def for_python(self, sandbox: Sandbox, version: str) -> Sandbox:
        """SANDBOX for projects on another Python: a sibling container of that Python's image on
        the same volumes (one cache, one projects tree), started once per sandbox."""
        key = f"{sandbox.key}@{version}"
        if key not in self.boxes:
            main = self.boxes[sandbox.key]
            python = self.python(version)
            run_args = {**main.run_args, "name": f"{main.run_args['name']}-py{version}".replace(".", "")}
            self.boxes[key] = _Box(self._start(self.image_for(version), run_args), [], run_args)
            self._python_of_box[key] = python
        return dataclasses.replace(sandbox, python=self._python_of_box[key], key=key, python_version=version)

    def remove(self, sandbox: Sandbox) -> None:
        self.retire(sandbox)()

    def retire(self, sandbox: Sandbox):
        """Done with SANDBOX: its logs are copied out now; what removes its containers and
        volumes is returned, to run when nothing is timed (a large volume takes minutes)."""
        if sandbox.key in self.boxes:
            self._collect_logs(sandbox)  # every container of the sandbox logs to the same volume
        siblings = [self.boxes.pop(k) for k in [k for k in self.boxes if k.startswith(f"{sandbox.key}@")]]
        box = self.boxes.pop(sandbox.key, None)
        if box is not None:
            self._retired[sandbox.key] = box
        for key in [k for k in self._drivers if k == sandbox.key or k.startswith(f"{sandbox.key}@")]:
            self._drivers.pop(key).close()

        def removal(budget_s: float | None = None) -> bool:
            """With BUDGET_S, the trees go first, inside the container and that long at most a
            call (removals.py's slices): the engine's own removal of a full volume cannot be
            stopped, an empty one's is quick. Whether the sandbox is gone."""
            if budget_s is not None and box is not None:
                trees = [sandbox.cache, sandbox.home, sandbox.tmp, sandbox.projects]
                try:
                    if not self._apply(sandbox, {"empty": trees}, budget_s, background=True):
                        return False
                except Exception:  # the SDK's APIError, BackendError: a container that cannot exec
                    pass  # (it stopped): the engine removes the trees with the volumes, whole
            self._retired.pop(sandbox.key, None)
            for sibling in siblings:  # siblings first: they hold the volumes too
                sibling.container.remove(force=True)
            if box is not None:
                box.container.remove(force=True)
                for volume in box.volumes:
                    volume.remove(force=True)  # the client has no timeout
            return True

        return removal

    def close(self) -> None:
        """Remove whatever this run still has on the engine (after a failure or an interrupt)."""
        for driver in self._drivers.values():
            driver.close()
        self._drivers.clear()
        self.boxes.clear()
        self._retired.clear()
        self._copies, self.servers, self._log_read = {}, [], {}
        clean(self.client, self.run_id, images=False)
        shutil.rmtree(envbench_home() / "tls" / self.run_id, ignore_errors=True)  # the run's CA and key

    # -- commands inside ----------------------------------------------------------------------
    def _exec(self, sandbox: Sandbox, argv: list[str], env: dict | None = None, cwd: str = BENCH) -> tuple[int, bytes, bytes]:
        container = (self.boxes.get(sandbox.key) or self._retired[sandbox.key]).container
        code, (out, err) = container.exec_run(argv, environment=env or {}, workdir=cwd, user=f"{UID}:{UID}", demux=True)
        return code, out or b"", err or b""

    def _read(self, sandbox: Sandbox, path: str) -> bytes:
        code, out, err = self._exec(sandbox, ["cat", path])
        if code != 0:
            raise BackendError(f"cannot read {path} in the container: {err.decode(errors='replace').strip()}")
        return out

    def environment(self, step: Step) -> dict[str, str]:
        return {"LANG": "C.UTF-8", **self.passed, "PATH": SYSTEM_PATH, **dict(step.env)}

    def run(self, sandbox: Sandbox, step: Step, log_name: str) -> StepResult:
        return self.run_cell(sandbox, {}, [step], [log_name])[0]

    def run_cell(self, sandbox: Sandbox, plan: dict, steps: list[Step], log_names: list[str]) -> list[StepResult]:
        """One round trip per cell (harness/sandbox/cell.py): the reset and every step, each under the shim.

        Cells go to the sandbox's cell driver (one exec kept running: an exec costs about 60 ms,
        more than many of uv's steps take); logs stay in the container and come out in one
        archive when the sandbox is removed.
        """
        spec = {
            "plan": plan,
            "steps": [
                {"argv": list(step.argv), "env": self.environment(step), "cwd": step.cwd, "log": f"{LOGS}/{name}.log"}
                for step, name in zip(steps, log_names, strict=True)
            ],
        }
        reply = self._driver(sandbox).call(spec)
        if "error" in reply:
            shown = " && ".join(step.display() for step in steps)
            raise BackendError(f"the cell driver failed running {shown}: {reply['error'][-300:]}")
        return [StepResult.from_shim(data, str(self.logs_dir / f"{name}.log"))
                for data, name in zip(reply["results"], log_names, strict=False)]  # fmt: skip

    def _driver(self, sandbox: Sandbox) -> CellDriver:
        if sandbox.key not in self._drivers:
            container = self.boxes[sandbox.key].container
            self._drivers[sandbox.key] = CellDriver(self.client, container.id, [sandbox.python, "-I", f"{IN_IMAGE}/cell.py",
                                                    "--serve"], f"{UID}:{UID}", BENCH)  # fmt: skip
        return self._drivers[sandbox.key]

    def prepare(self, sandbox: Sandbox, plan: dict) -> None:
        """Apply a tree plan (harness/sandbox/tree.py) inside the container, in an exec of its own:
        removals run side by side, and the cell driver takes one cell at a time."""
        self._apply(sandbox, plan)

    def remove_trees(self, sandbox: Sandbox, paths: list[str], budget_s: float | None = None) -> bool:
        """Remove PATHS; with BUDGET_S, stop after that long (what is left stays for the next
        call): whether they are gone."""
        return self._apply(sandbox, {"remove": paths}, budget_s, background=True)

    def _apply(self, sandbox: Sandbox, plan: dict, budget_s: float | None = None, background: bool = False) -> bool:
        """The plan in an exec of its own; with BUDGET_S, coreutils' timeout stops it after that
        long (SIGTERM between two unlinks: the tree stays whole, smaller): False then.
        BACKGROUND (a removal beside proofs and scans): tagged, so that stop_background can cut
        it short, and at the lowest CPU priority (BACKGROUND_NICE)."""
        spec: dict = {"plan": plan, "steps": []}
        tag = f"envbench-slice-{uuid.uuid4().hex}" if background and budget_s is not None else None
        if tag:
            spec["tag"] = tag  # in the process's argv, where stop_background finds it (cell.py ignores it)
        argv = [sandbox.python, "-I", f"{IN_IMAGE}/cell.py", json.dumps(spec)]
        if budget_s is not None:
            argv = ["timeout", f"{budget_s:g}", *argv]
        if tag:
            argv = ["nice", "-n", str(BACKGROUND_NICE), *argv]
            with self._slices_lock:
                self._slices[tag] = sandbox
        try:
            code, out, err = self._exec(sandbox, argv)
        finally:
            if tag:
                with self._slices_lock:
                    self._slices.pop(tag, None)
                    stopped = tag in self._stopped
                    self._stopped.discard(tag)
        if budget_s is not None and (code == 124 or (tag and stopped)):  # the budget ran out, or was cut short
            return False
        if code != 0:
            said = (err or out).decode(errors="replace")[-300:]
            raise BackendError(f"clearing trees in the container failed (exit {code}): {said}")
        return True

    def stop_background(self) -> None:
        """Cut short every background removal slice running now (SIGTERM, as timeout sends it:
        between two unlinks); each returns False, and what is left stays queued. A window calls
        this once its own work is done: without it the window waited up to a slice more for
        them (half a second on average, at each of a seed run's thirty windows). A slice that
        starts after this call runs its budget out."""
        with self._slices_lock:
            running = dict(self._slices)
            self._stopped.update(running)
        by_box: dict[str, tuple[Sandbox, list[str]]] = {}
        for tag, sandbox in running.items():
            by_box.setdefault(sandbox.key, (sandbox, []))[1].append(tag)
        for sandbox, tags in by_box.values():
            try:
                self._exec(sandbox, [sandbox.python, "-I", "-c", STOP_SLICES, *tags])
            except Exception:  # the SDK's APIError: a container that stopped runs no slice either
                pass

    def reset(self, sandbox: Sandbox) -> None:
        """An empty cache, HOME and projects folder (a split cache volume keeps its mount point)."""
        folders = [sandbox.cache, sandbox.home, sandbox.tmp, sandbox.projects]
        self.prepare(sandbox, {"empty": folders, "make": [*folders, SCRATCH]})

    def _collect_logs(self, sandbox: Sandbox) -> None:
        """Copy the steps' logs out of the container (one archive) into the run's logs folder."""
        try:
            stream, _ = self.boxes[sandbox.key].container.get_archive(LOGS)
        except Exception:  # no step ran, so no logs folder: nothing to copy
            return
        with tempfile.TemporaryFile() as archive:
            for chunk in stream:
                archive.write(chunk)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                for member in tar.getmembers():
                    if member.isfile() and member.name.endswith(".log"):
                        target = self.logs_dir / PurePosixPath(member.name).relative_to(PurePosixPath(LOGS).name)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(tar.extractfile(member).read())

    def read(self, sandbox: Sandbox, path: str) -> bytes | None:
        """A file of the sandbox (a lock file), None when there is none."""
        try:
            return self._read(sandbox, path)
        except BackendError:
            return None

    def wheelhouse(self, path: str | None) -> str | None:
        return WHEELS if path else None

    def probe(self, sandbox: Sandbox, env_python: str, names: list[str]) -> dict:
        env = {**sandbox.probe_env(), "PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}
        code, stdout, stderr = self._exec(
            sandbox, [env_python, "-I", "-B", f"{IN_IMAGE}/probe.py", SCRATCH, *names], env, sandbox.tmp
        )
        if code != 0:
            return {"error": (stderr or stdout).decode(errors="replace").strip()[-2000:] or f"exit {code}"}
        return json.loads(stdout)

    def scan(self, sandbox: Sandbox, roots: list[str], cache_roots: list[str], groups: dict[str, str] | None = None,
             packages: bool = True) -> dict:  # fmt: skip
        argv = [sandbox.python, "-I", f"{IN_IMAGE}/scan.py", "--json", "--skip-missing"]
        argv += [] if packages else ["--no-packages"]
        for cache in cache_roots:
            argv += ["--cache", cache]
        for root, label in (groups or {}).items():
            argv += ["--group", label, root]
        code, out, err = self._exec(sandbox, argv + roots)
        if code not in (0, 1):  # 1: the report lists unreadable entries
            raise BackendError(f"scan.py failed in the container (exit {code}): {err.decode(errors='replace')[-300:]}")
        return json.loads(out)
