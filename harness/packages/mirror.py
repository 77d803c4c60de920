"""The local package mirror: a scenario's closure, resolved once, stored once, served offline.

harness/packages/closure.py resolves what every project needs for every platform lockers resolve for;
each file is downloaded once into a content-addressed store (harness/packages/store.py) and laid out as
one flat folder per index, the mirror, named by a hash of the closure, with `closure.json`
beside the folders: every file with its role (install, resolve, build) and each distinct
project's install set on the target.

Where a named index is unreachable from here, `ENVBENCH_INDEX_<NAME>` (the name upper-cased,
`-` as `_`) may name a URL or a folder of files that serves the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.packages import closure, contents, site, synth
from harness.packages.store import ROLES, Dist, MirrorError
from harness.record.model import Mirror
from harness.sandbox import probe
from harness.scenario.model import Project, Scenario
from harness.settings.home import envbench_home, locked
from harness.settings.pythons import NoPython, find_python
from harness.settings.sources import Sources, host_sources, index_location

__all__ = ["Dist", "MirrorError", "prepare"]


def _synthetic_only(scenario: Scenario, project: Project) -> bool:
    """Whether the project's whole closure is synthetic, so resolving it needs no index."""
    names = {canonicalize_name(p.name) for p in scenario.synthetic}
    requirements = [*project.dependencies, *(dep for p in scenario.synthetic for dep in p.dependencies)]
    return all(canonicalize_name(Requirement(text).name) in names for text in requirements)


def sources_for(scenario: Scenario, synthetic: Path | None) -> Sources:
    """Where the scenario's packages are resolved from (see closure.py)."""
    named = tuple((name, index_location(scenario, name)) for name, _ in scenario.indexes)
    if scenario.wheelhouse:
        return Sources(default=None, folders=(scenario.wheelhouse,), named=named)
    host = host_sources()
    if synthetic is not None and all(_synthetic_only(scenario, p) for p in scenario.projects):
        # No index at all, so no network; the host's local folders still show a name collision.
        return Sources(default=None, folders=(str(synthetic), *host.folders), named=named)
    folders = ((str(synthetic),) if synthetic is not None else ()) + host.folders
    return replace(host, folders=folders, named=named)


def build_synthetic(scenario: Scenario, root: Path, say=lambda text: None) -> Path | None:
    """The scenario's synthetic packages, built once into a folder named by their specification.

    Sdists come with the backend wheel that builds them (their one build requirement).
    """
    if not scenario.synthetic:
        return None
    spec = json.dumps([synth.GENERATOR, *(asdict(p) for p in scenario.synthetic)], sort_keys=True)
    folder = root / hashlib.sha256(spec.encode()).hexdigest()[:12]
    wanted = [(p.file_name, p, synth.build) for p in scenario.synthetic]
    if any(p.sdist for p in scenario.synthetic):
        wanted.append((synth.BACKEND.wheel_name, synth.BACKEND, lambda _, out: synth.build_backend_wheel(out)))
    for name, package, build in wanted:
        if not (folder / name).exists():
            say(f"generating {name} ({package.files} × {package.file_size:,} B)")
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix=".building-", dir=root) as tmp:
                os.replace(build(package, Path(tmp)), folder / name)
    return folder


def _check_synthetic(dists: list[Dist], folder: Path) -> None:
    """A synthetic name that resolved to some index's file instead of ours is a collision."""
    ours = {canonicalize_name(path.name.split("-")[0].replace("_", "-")) for path in folder.iterdir()}
    for dist in dists:
        if dist.name in ours and not dist.url.startswith(Path(folder).resolve().as_uri()):
            raise MirrorError(f"synthetic package {dist.name} collides with {dist.url}: give it a name no index uses")


def record_digest(wheel: Path) -> str:
    """The digest probe.py computes for an installed distribution, from the wheel's RECORD."""
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/RECORD"))
        return probe.wheel_record_digest(archive.read(record).decode("utf-8"))


def lay_out(dists: list[Dist], sets: list, store: Path, mirrors: Path, scenario: Scenario) -> Path:
    """The mirror folder: one folder of files per index, hard-linked from the store, and closure.json."""
    target = mirrors / f"{scenario.name}-{closure.closure_id(dists)}"
    if (target / "closure.json").exists():
        return target
    building = target.with_name(target.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    files = []
    for dist in dists:
        source = store / dist.sha256 / dist.filename
        destination = building / dist.index / dist.filename
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
        entry = dist.to_json()
        if dist.is_wheel and dist.role == "install":
            entry["record_digest"] = record_digest(source)
            entry["unpacked_bytes"], entry["source_bytes"] = unpacked_bytes(source)
        files.append(entry)
    # resolved_at: the resolution is the indexes' state at this moment, what a live lock with
    # exclude-newer set to it must reproduce (benchmarks/lock_equivalence.py).
    record = {"schema": 2, "scenario": scenario.name, "python": scenario.python,
              "resolved_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": files,
              "projects": [s.to_json() for s in sets]}  # fmt: skip
    (building / "closure.json").write_text(json.dumps(record, indent=1) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    return target


def unpacked_bytes(wheel: Path) -> tuple[int, int]:
    """What a wheel holds uncompressed, and how much of it is Python source (.py).

    Read from the zip's directory, nothing extracted. The source counts twice in an env made
    by an installer that compiles it (pip writes a .pyc beside each .py).
    """
    total = source = 0
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            total += info.file_size
            source += info.file_size if info.filename.endswith(".py") else 0
    return total, source


def summary(folder: Path) -> Mirror:
    """What a laid-out mirror holds, as run.json records it: its files and install sets, their
    bytes, the count of each role, and what builds of one name hold alike."""
    record = Mirror.from_json(json.loads((folder / "closure.json").read_text()))
    installed = record.installed
    return Mirror(
        folder=str(folder), resolved_at=record.resolved_at, files=record.files, projects=record.projects,
        bytes=sum(f.size for f in installed), unpacked_bytes=sum(f.unpacked for f in installed),
        source_bytes=sum(f.source_bytes or 0 for f in installed),
        roles={role: n for role in ROLES if (n := sum(f.kind == role for f in record.files))},
        # Builds of one name (torch CPU and CUDA; cp311 and cp313 wheels): what they hold alike.
        builds=contents.compare_builds(folder, record.installed),
    )  # fmt: skip


# -- serving ---------------------------------------------------------------------------------
# pypiserver (SERVER_REQUIREMENTS): a well-kept PEP 503 server for a plain folder of wheels, nothing to set up; it
# sends Cache-Control on files as PyPI does, so pip's and uv's caches behave as against PyPI
# (this machine's proxy strips PyPI's own). waitress (which its "auto" server picks first) answers downloads in parallel.
SERVER_PORT = 8080


def server_argv(bin_dir: str, folder: str, port: int = SERVER_PORT, host: str = "0.0.0.0") -> list[str]:
    return [
        f"{bin_dir}/pypi-server", "run", "--port", str(port), "--host", host, "--server", "auto",
        "--disable-fallback", "--hash-algo", "sha256", "--cache-control", "31536000",
        "--authenticate", ".", "--passwords", ".", "--log-stream", "stderr", folder,
    ]  # fmt: skip


def indexes_of(folder: Path) -> list[str]:
    """The index folders a laid-out mirror holds (pypi and the scenario's named indexes)."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _interpreters(scenario: Scenario) -> dict[str, str]:
    """A host interpreter of each Python the scenario uses but the first, for uv's resolver
    (pyenv's are not on PATH); the first is left to uv, as always."""
    found = {}
    for python in scenario.pythons[1:]:
        try:
            found[python] = find_python(python)[0]
        except NoPython:
            pass  # uv looks itself and says what it lacks
    return found


def prepare(scenario: Scenario, say=lambda text: None) -> Path:
    """The scenario's mirror folder: resolved, fetched and laid out (reused while it matches)."""
    home = envbench_home()
    # One process at a time per home: the store, the mirror folders and their sites are shared.
    with locked(home / ".mirror.lock"):
        synthetic = build_synthetic(scenario, home / "synthetic", say)
        dists, sets = closure.resolve(scenario, sources_for(scenario, synthetic), home / "wheels", say, _interpreters(scenario))
        if synthetic is not None:
            _check_synthetic(dists, synthetic)
        folder = lay_out(dists, sets, home / "wheels", home / "mirrors", scenario)
        site.build(folder, indexes_of(folder))  # the pages the docker backend's web server serves
    return folder
