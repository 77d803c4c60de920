"""The closure of a scenario for every environment a locker resolves for, not the target alone.

Lockers (uv lock, Poetry, PDM) resolve for every platform and Python a project admits, so a
mirror holding only what the target installs fails them on the first platform-conditional
dependency (sphinx's `colorama; sys_platform == "win32"`). The closure is therefore resolved
the way those lockers do it: with uv's universal resolver (`uv lock`, pinned, on the host),
once per distinct project, for linux, macOS and Windows on every architecture and the
scenario's Python. From the lock file every release gets, by role:
- install: a release the target installs: its best wheel for the target (the scenario's
  CPython on manylinux), else its sdist;
- resolve: a release only other platforms install: one distribution lockers can read its
  metadata from, a wheel where there is one (smallest first), else the sdist;
- build: what building one of those sdists asks for (`build-system.requires`, setuptools'
  default where there is none), resolved for the target the same way.

Sources, as pip on this host sees them: its configuration's index-url, extra-index-url,
find-links and no-index (`pip config list`, PIP_* variables), with pip's rule that the best
version across indexes wins; `ENVBENCH_INDEX_PYPI` replaces PyPI itself. A package pinned to a
named index comes from that index alone (`ENVBENCH_INDEX_<NAME>` may serve it from a URL or a
folder of files).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from uv import find_uv_bin

from harness.packages.sdist import build_requirements, declared_requirements
from harness.packages.store import Dist, MirrorError, fetch, path_of, sha256_of
from harness.settings.home import envbench_home, host_ca_bundle
from harness.settings.sources import PYPI, Sources, index_variable, is_folder
from harness.settings.target import target_environment, target_tags
from harness.tools import toml

BUILD_ROUNDS = 3  # a build requirement that is itself an sdist needs its own; deeper is refused


# -- one universal resolution ------------------------------------------------------------------
@dataclass(frozen=True)
class Locked:
    """A release of the lock: its files, and whether the target installs it."""

    name: str
    version: str
    index: str
    files: tuple[Dist, ...]
    on_target: bool


def scratch_project(
    requirements, sources: Sources, python: str, pins: dict[str, str], empty: Path, exclude_newer: str | None = None,
    constraints=(),
) -> str:
    """pyproject.toml of a throwaway project that asks for REQUIREMENTS as the scenario does."""
    project = {"name": "envbench-closure", "version": "0", "requires-python": "==" + ".".join(python.split(".")[:2]) + ".*",
               "dependencies": list(requirements)}  # fmt: skip
    settings: dict = {"package": False} | ({"exclude-newer": exclude_newer} if exclude_newer else {})
    if constraints:  # a requirements file's -c: the mirror then serves only versions they allow
        settings["constraint-dependencies"] = list(constraints)
    if sources.extra:
        settings["index-strategy"] = "unsafe-best-match"  # pip's rule: the best version across indexes
    if sources.folders:
        settings["find-links"] = list(sources.folders)
    tables = [toml.table("project", project), toml.table("tool.uv", settings)]
    for url in sources.extra:
        tables.append(toml.table("[tool.uv.index]", {"url": url}))
    # No default index at all (pip's no-index): an EMPTY folder stands in for PyPI.
    default = sources.default or str(empty)
    tables.append(toml.table("[tool.uv.index]", {"name": PYPI, "url": default, "default": True}
                             | ({"format": "flat"} if is_folder(default) else {})))  # fmt: skip
    for name, location in sources.named:
        entry = {"name": name, "url": location, "explicit": True} | ({"format": "flat"} if is_folder(location) else {})
        tables.append(toml.table("[tool.uv.index]", entry))
    if pins:
        tables.append(toml.table("tool.uv.sources", {package: {"index": index} for package, index in pins.items()}))
    return toml.document(*tables)


def uv_lock(
    requirements, sources: Sources, python: str, pins: dict[str, str], interpreter: str | None, exclude_newer: str | None = None,
    constraints=(),
) -> list[Locked]:
    """Every release of the universal resolution of REQUIREMENTS, with its files (as of EXCLUDE_NEWER if given)."""
    uv = find_uv_bin()  # envbench's own dependency, pinned to the version the uv adapter measures
    with tempfile.TemporaryDirectory(prefix="envbench-closure-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        (Path(tmp) / "empty").mkdir()
        (project / "pyproject.toml").write_text(
            scratch_project(requirements, sources, python, pins, Path(tmp) / "empty", exclude_newer, constraints)
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
        env |= {"UV_CACHE_DIR": str(envbench_home() / "resolver-cache"), "UV_PYTHON_DOWNLOADS": "never",
                "XDG_CONFIG_HOME": tmp, "UV_NO_PROGRESS": "1"}  # fmt: skip
        if host_ca_bundle():
            env["SSL_CERT_FILE"] = host_ca_bundle()
        python_args = ["--python", interpreter] if interpreter else []
        remote = [u for u in (sources.default, *sources.extra, *(loc for _, loc in sources.named)) if u and not is_folder(u)]
        offline = [] if remote else ["--offline"]  # only folders: nothing may be fetched
        done = subprocess.run([uv, "lock", *python_args, *offline], cwd=project, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            said = [line.strip() for line in done.stderr.splitlines() if line.strip()] or ["no output"]
            raise MirrorError(f"resolving {' '.join(requirements)} failed: {_reason(said)}",
                              unreachable=bool(UNREACHABLE.search(done.stderr)))  # fmt: skip
        exported = subprocess.run(
            [uv, "export", "--frozen", "--no-hashes", "--no-header", "--no-annotate", "--no-emit-project", *python_args],
            cwd=project, env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        lock = tomllib.loads((project / "uv.lock").read_text())
    target = target_environment(python)
    pinned = {canonicalize_name(package): index for package, index in pins.items()}
    installed = set()
    for line in exported.splitlines():
        if line.strip() and not line.startswith(("#", "-")):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(target):
                installed.add((canonicalize_name(requirement.name), str(requirement.specifier).removeprefix("==")))
    releases = []
    for package in lock.get("package", []):
        source = package.get("source", {})
        if "virtual" in source or "editable" in source:
            continue  # the scratch project itself
        name = canonicalize_name(package["name"])
        if "registry" not in source:
            raise MirrorError(f"{name} comes from {source}: only packages from an index can be mirrored")
        registry = source["registry"]
        index = sources.index_of(registry, pinned.get(name))
        entries = ([package["sdist"]] if "sdist" in package else []) + package.get("wheels", [])
        files = tuple(_dist(name, package["version"], entry, registry, index) for entry in entries)
        releases.append(Locked(name, package["version"], index, files, (name, package["version"]) in installed))
    return releases


# uv's words when the index did not answer, not when it answered "no such release".
UNREACHABLE = re.compile(r"error sending request|tcp connect error|dns error|failed to lookup address|Connection refused|"
                         r"timed out|Network is unreachable|No route to host|status server error", re.IGNORECASE)  # fmt: skip


def _reason(lines: list[str]) -> str:
    """uv's explanation whole, in one line: from its first error line to its last cause and hint
    (without a TTY uv says "error: ..." then "cause: ..." / "Caused by: ..." / "hint: ...")."""
    first = next((i for i, line in enumerate(lines) if line.startswith(("error", "×"))), len(lines) - 1)
    return " ".join(line.lstrip("×╰─▶│ ").strip() for line in lines[first:])


def _dist(name: str, version: str, entry: dict, registry: str, index: str) -> Dist:
    if "url" in entry:
        url = entry["url"]
    else:  # a local file: absolute, or relative to the folder it was found in
        path = Path(entry["path"])
        url = (path if path.is_absolute() else Path(registry.removeprefix("file://")) / path).resolve().as_uri()
    filename = unquote(url.split("#")[0].rsplit("/", 1)[-1])
    digest = entry.get("hash", "").removeprefix("sha256:")
    if not digest:  # uv records no hash for local files: take it from the file
        local = Path(unquote(url.removeprefix("file://")))
        digest = sha256_of(local) if local.is_file() else ""
    if not digest:
        raise MirrorError(f"{url}: the index gave no sha256, so the mirror cannot check the file")
    return Dist(name=name, version=version, filename=filename, sha256=digest, size=entry.get("size", 0), index=index, url=url)


def choose(release: Locked, python: str) -> Dist:
    """The one file of RELEASE the mirror serves, by its role."""
    wheels = [d for d in release.files if d.is_wheel]
    sdists = [d for d in release.files if not d.is_wheel]
    if release.on_target:
        rank = {tag: i for i, tag in enumerate(target_tags(python))}
        fitting = [(min(rank.get(t, len(rank)) for t in parse_wheel_filename(d.filename)[3]), d) for d in wheels]
        fitting = [(score, d) for score, d in fitting if score < len(rank)]
        if fitting:
            return min(fitting, key=lambda item: item[0])[1]
        if sdists:
            return sdists[0]
        raise MirrorError(f"{release.name} {release.version} has no wheel for CPython {python} on manylinux and no sdist")
    role_file = sorted(wheels, key=lambda d: (d.size or 1 << 62, d.filename))[:1] or sdists[:1]
    if not role_file:
        raise MirrorError(f"{release.name} {release.version}: the index lists no file")
    return replace(role_file[0], role="resolve")


# -- the scenario's closure --------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectSet:
    """One distinct project of the scenario (its dependencies, sources and Python) and the
    releases its env holds on the target, with the file of each (two Pythons: two wheels)."""

    dependencies: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    installs: tuple[tuple[str, str], ...]  # (name, version)
    python: str = ""
    files: tuple[str, ...] = ()  # the file installed for each release, in the order of installs
    constraints: tuple[str, ...] = ()

    def to_json(self) -> dict:
        installs = [list(pair) for pair in self.installs]
        return {"dependencies": list(self.dependencies), "sources": dict(self.sources), "python": self.python,
                "installs": installs, "files": list(self.files)} | (
                {"constraints": list(self.constraints)} if self.constraints else {})  # fmt: skip


def resolve(scenario, sources: Sources, store: Path, say=lambda text: None, interpreters: dict[str, str] | None = None):
    """(every file the mirror serves, fetched into STORE; each distinct project's install set).

    interpreters: Python version -> an interpreter of it for uv (None: uv finds one itself).
    """
    interpreters = interpreters or {}
    chosen: dict[tuple[str, str], Dist] = {}
    sets: list[ProjectSet] = []
    done: set[tuple] = set()
    for project in scenario.projects:
        python = scenario.python_of(project)
        key = (project.dependencies, project.sources, python, project.constraints)
        if key in done:
            continue
        done.add(key)
        pins = {Requirement(r).name: index for r in project.dependencies if (index := project.index_of(Requirement(r).name))}
        try:
            releases = uv_lock(project.dependencies, sources, python, pins, interpreters.get(python),
                               constraints=project.constraints)  # fmt: skip
        except MirrorError as exc:
            raise _blame_named(scenario, project, sources, pins, exc, interpreters.get(python)) from None
        installs = []
        allowed = dict(project.hashes)
        for release in releases:
            dist = choose(release, python)
            if release.on_target and release.name in allowed and dist.sha256 not in allowed[release.name]:
                raise MirrorError(f"{project.origin or project.name} pins the hashes of {release.name} {release.version}: "
                                  f"the file for CPython {python} on manylinux, {dist.filename} (sha256 {dist.sha256}), "
                                  "is not among them")  # fmt: skip
            previous = chosen.get((dist.index, dist.sha256))
            if previous is None or (previous.role != "install" and dist.role == "install"):
                chosen[(dist.index, dist.sha256)] = dist
            if release.on_target:
                installs.append(((release.name, release.version), dist.filename))
        installs.sort()
        sets.append(ProjectSet(project.dependencies, project.sources, tuple(pair for pair, _ in installs), python,
                               tuple(filename for _, filename in installs), project.constraints))  # fmt: skip
    fetched = {(d.index, d.sha256): d for d in fetch(chosen.values(), store, say)}
    for python in scenario.pythons:  # what builds need, for each Python's build envs
        _add_declared_requirements(fetched, sources, python, store, say, interpreters.get(python))
        _add_build_requirements(fetched, sources, python, store, say, interpreters.get(python))
    return sorted(fetched.values(), key=lambda d: (d.index, d.name, d.version, d.filename)), sets


def _blame_named(scenario, project, sources: Sources, pins: dict[str, str], failure: MirrorError, interpreter) -> MirrorError:
    """After a failed resolution: the named index that cannot serve its pinned package, if one.

    Each pinned package is resolved alone against the same sources, so the error names the
    index and the variable that may stand in for it, instead of the resolver's whole story.
    """
    for package, index in pins.items():
        try:
            uv_lock([package], sources, scenario.python_of(project), {package: index}, interpreter)
        except MirrorError as exc:
            return MirrorError(
                f"index {index} ({scenario.index_url(index)}): {exc}; where it is unreachable, {index_variable(index)} "
                "may name a mirror URL or a folder of files that serves the same files", exc.unreachable
            )
    return failure


def _add_declared_requirements(fetched: dict, sources: Sources, python: str, store: Path, say, interpreter) -> None:
    """What sdists' shipped metadata declares beyond the resolution (role sdist-metadata).

    An old sdist's egg-info may say what its setup.py computed on the machine that made it:
    python-u2flib-server 5.0.1 declares enum34 unconditionally although its setup.py asks for
    it only before Python 3.4. uv and pip run setup.py and do not ask for it; Poetry reads the
    shipped metadata, asks for enum34, and against PyPI locks and installs it. So the mirror
    serves it too (the target's file), or Poetry could not lock at all.
    """
    present = {d.name for d in fetched.values()}
    sdists = [d for d in fetched.values() if not d.is_wheel and d.role == "install"]
    declared = {r for d in sdists for r in declared_requirements(path_of(d, store))}
    wanted = sorted(r for r in declared if canonicalize_name(Requirement(r).name) not in present)
    if not wanted:
        return
    say(f"resolving what sdists' metadata declares: {', '.join(wanted)}")
    releases = [r for r in uv_lock(wanted, sources, python, {}, interpreter) if r.name not in present]
    # What the target could install gets the target's file; the rest one file to read, as above.
    added = [
        dist if dist.role == "resolve" else replace(dist, role="sdist-metadata") for dist in (choose(r, python) for r in releases)
    ]
    for dist in fetch(added, store, say):
        fetched[(dist.index, dist.sha256)] = dist


def _add_build_requirements(fetched: dict, sources: Sources, python: str, store: Path, say, interpreter) -> None:
    """The build requirements of every sdist the mirror serves, for the target (role build)."""
    looked: set[tuple[str, ...]] = set()
    for _ in range(BUILD_ROUNDS):
        wanted = {build_requirements(path_of(d, store)) for d in fetched.values() if not d.is_wheel} - looked
        if not wanted:
            return
        for requires in sorted(wanted):
            looked.add(requires)
            if not requires:
                continue
            say(f"resolving the build requirements {', '.join(requires)}")
            releases = [r for r in uv_lock(requires, sources, python, {}, interpreter) if r.on_target]
            added = [replace(choose(r, python), role="build") for r in releases]
            for dist in fetch([d for d in added if (d.index, d.sha256) not in fetched], store, say):
                fetched[(dist.index, dist.sha256)] = dist
    if {build_requirements(path_of(d, store)) for d in fetched.values() if not d.is_wheel} - looked:
        raise MirrorError(f"build requirements nest deeper than {BUILD_ROUNDS} sdists: not mirrored")


def closure_id(dists: list[Dist]) -> str:
    return hashlib.sha256("".join(f"{d.index} {d.sha256} {d.filename} {d.role}\n" for d in dists).encode()).hexdigest()[:12]


def to_json(dists: list[Dist], sets: list[ProjectSet]) -> dict:
    return {"files": [d.to_json() for d in dists], "projects": [s.to_json() for s in sets]}
