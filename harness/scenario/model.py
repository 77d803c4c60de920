"""A scenario as frozen records: what `load` gives every later stage (harness/scenario/parse.py
reads and validates the file; nothing here reads one)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.settings.network import NetworkSpec

# mirror: tools install from envbench's local mirror of the scenario's closure (reproducible);
# live: from the real indexes. A `wheelhouse` makes tools read that folder directly instead.
KNOWN_SOURCES = ("mirror", "live")
# same-volume: caches and projects on one volume (links possible); split-volume: the cache on
# its own volume, like a Docker build-cache mount (links across mounts fail: copies).
KNOWN_LAYOUTS = ("same-volume", "split-volume")
# engine: the engine's own volumes (or the local work folder); the others: a private loop file
# system per tool (harness/run/filesystems.py), whose own count of bytes checks the scanner's.
KNOWN_FILESYSTEMS = ("engine", "ext4", "xfs", "btrfs")
DEFAULT_REPETITIONS = 5


@dataclass(frozen=True)
class SynthPackage:
    name: str
    version: str = "1.0.0"
    files: int = 10  # payload modules besides __init__.py
    file_size: int = 4096  # bytes per payload file
    dependencies: tuple[str, ...] = ()
    binary: bool = False
    platform: str = "any"  # the wheel's platform tag
    abi: str = ""  # python and ABI tags ("cp311-cp311": one CPython's build); "" is py3-none
    sdist: bool = False  # published as an sdist only (built with BACKEND)
    build_needs: tuple[str, ...] = ()  # programs its sdist's build runs, as a C extension's runs autoconf

    @property
    def module(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def wheel_tag(self) -> str:
        return f"{self.abi or 'py3-none'}-{self.platform}"

    @property
    def wheel_name(self) -> str:
        return f"{self.module}-{self.version}-{self.wheel_tag}.whl"

    @property
    def sdist_name(self) -> str:
        return f"{self.module}-{self.version}.tar.gz"

    @property
    def file_name(self) -> str:
        """What the package is published as: its sdist, or its wheel."""
        return self.sdist_name if self.sdist else self.wheel_name


@dataclass(frozen=True)
class Project:
    name: str
    dependencies: tuple[str, ...]  # normalized PEP 508 strings
    sources: tuple[tuple[str, str], ...] = ()  # (canonical package name, index name)
    group: str = ""  # the name of the projects: entry it came from (app-01, app-02: "app")
    python: str = ""  # the group's own Python ("3.13"); "" means the scenario's
    constraints: tuple[str, ...] = ()  # a requirements file's -c: versions the resolution keeps to
    hashes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # canonical name -> sha256 digests allowed
    origin: str = ""  # the file the dependencies came from, if any

    def index_of(self, package: str) -> str | None:
        return dict(self.sources).get(canonicalize_name(package))


@dataclass(frozen=True)
class Variant:
    """A tool under its own name with other settings: variables, the tool's own settings (written
    where it reads them), its bytecode option."""

    name: str
    tool: str
    env: tuple[tuple[str, str], ...] = ()
    settings: tuple[tuple[str, str], ...] = ()
    bytecode: str = "default"

    def to_json(self) -> dict:
        found: dict = {"tool": self.tool, "env": dict(self.env)}
        if self.settings:
            found["settings"] = dict(self.settings)
        if self.bytecode != "default":
            found["bytecode"] = self.bytecode
        return found


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    description: str
    python: str
    tools: tuple[str, ...]
    repetitions: int
    indexes: tuple[tuple[str, str], ...]  # (name, url)
    projects: tuple[Project, ...]
    wheelhouse: str | None = None  # install only from this folder of wheels (offline)
    layouts: tuple[str, ...] = ("same-volume",)
    source: str = "mirror"  # mirror | live | wheelhouse (when a wheelhouse is given)
    synthetic: tuple[SynthPackage, ...] = ()
    checkpoints: tuple[int, ...] = ()  # ascending project counts, each below len(projects)
    variants: tuple[Variant, ...] = ()
    filesystems: tuple[str, ...] = ("engine",)
    network: NetworkSpec | None = None  # None: the engine's link as it is (harness/settings/network.py)
    bytecode: str = "default"  # default | compile | skip: each tool's own option (harness/tools/base.py)
    system_packages: tuple[str, ...] = ()  # Debian packages sdists need to build, added to the tools image
    # After the fleet: half the projects deleted, each tool's cache commands run (said vs freed),
    # the other envs proved again (harness/run/cachecheck.py).
    clean_cache: bool = False

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def python_of(self, project: Project) -> str:
        return project.python or self.python

    @property
    def pythons(self) -> tuple[str, ...]:
        """Every Python the projects use, the scenario's first."""
        return tuple(dict.fromkeys([self.python, *(self.python_of(p) for p in self.projects)]))

    def index_url(self, name: str) -> str:
        return dict(self.indexes)[name]

    def with_overrides(self, *, tools=None, projects=None, repetitions=None) -> Scenario:
        """The scenario narrowed by command-line options (validated by the caller)."""
        changes = {}
        if tools is not None:
            changes["tools"] = tuple(tools)
        if projects is not None:
            changes["projects"] = self.projects[:projects]
            changes["checkpoints"] = tuple(n for n in self.checkpoints if n < projects)
        if repetitions is not None:
            changes["repetitions"] = repetitions
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "name": self.name,
            "description": self.description,
            "python": self.python,
            "tools": list(self.tools),
            "repetitions": self.repetitions,
            "indexes": dict(self.indexes),
            "wheelhouse": self.wheelhouse,
            "layouts": list(self.layouts),
            "source": self.source,
            "synthetic": [dataclasses.asdict(p) for p in self.synthetic],
            "checkpoints": list(self.checkpoints),
            "variants": {v.name: v.to_json() for v in self.variants},
            "filesystems": list(self.filesystems),
            "projects": [
                {"name": p.name, "group": p.group, "python": self.python_of(p), "dependencies": list(p.dependencies),
                 "sources": dict(p.sources)}
                | ({"constraints": list(p.constraints)} if p.constraints else {})
                | ({"hashes": {name: list(d) for name, d in p.hashes}} if p.hashes else {})
                | ({"origin": p.origin} if p.origin else {})
                for p in self.projects
            ],
        } | ({"network": self.network.to_json()} if self.network else {}) | (  # absent: as runs before the keys
            {"bytecode": self.bytecode} if self.bytecode != "default" else {}) | (
            {"system_packages": list(self.system_packages)} if self.system_packages else {}) | (
            {"clean_cache": True} if self.clean_cache else {})
