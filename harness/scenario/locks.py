"""A lock file as a project group: the exact pinned set a uv.lock, poetry.lock or pylock.toml records.

What the target installs is read out of the lock, not resolved again: every package the lock
installs on the scenario's Python (CPython on Linux, harness/packages/closure.py's target), each pinned
`name==version`, its sha256 digests kept (the mirror's file for the target must be one of
them), and a package the lock takes from an index other than PyPI pinned to that index. The
project's own dependencies are taken, plus the groups named (extras, dependency groups, Poetry
groups); like `uv sync --no-dev` and `poetry install --only main`, not the tools' defaults,
which add the dev group: a benchmark says what it installs.

Refused at the package's line, because the mirror serves index releases only: a package from a
git checkout, a URL, a local path or directory, another workspace member; and a Poetry lock
older than lock-version 2.1 (it records no groups per package).

Readers: tomllib for every format; packaging.pylock (the PEP 751 reader packaging ships) for
pylock.toml; packaging.markers for every marker, evaluated against the target.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.scenario.inputs import PYPI_HOSTS, ProjectInput, UnknownGroup, load_toml, missing_file
from harness.scenario.yamlnodes import ScenarioError
from harness.settings.sources import host_sources
from harness.settings.target import target_environment

LOCAL_SOURCES = {  # uv.lock source kinds the mirror cannot serve, and what each is
    "git": "a git checkout", "url": "a direct URL", "path": "a local file", "directory": "a local directory",
    "editable": "a local tree (editable)", "virtual": "a local tree (a workspace member)",
}  # fmt: skip
POETRY_LOCAL = {"git": "a git checkout", "url": "a direct URL", "file": "a local file", "directory": "a local directory"}


def uv_root(packages: list) -> int | None:
    """The index of a uv.lock's own project: the package whose source is the folder `.` itself."""
    return next((i for i, p in enumerate(packages) if isinstance(p, dict)
                 and "." in (p.get("source", {}).get("virtual"), p.get("source", {}).get("editable"))), None)  # fmt: skip


def read_lock(path: Path, shown: str, python: str, groups: tuple[str, ...] = ()) -> ProjectInput:
    """The pinned set a lock file installs on PYTHON, with the GROUPS named."""
    if why := missing_file(path):
        raise ScenarioError(shown, 1, "lock", why)
    text, data = load_toml(path)
    lock = _Lock(path, text, python)
    if path.name == "poetry.lock" or "metadata" in data and "package" in data and "version" not in data:
        return lock.poetry(data, groups)
    if path.name == "uv.lock" or "package" in data and "version" in data:
        return lock.uv(data, groups)
    if re.fullmatch(r"pylock\.([^.]+\.)?toml", path.name) or "lock-version" in data:
        return lock.pylock(data, groups)
    raise ScenarioError(str(path), 1, "lock", "not a lock envbench reads: give a uv.lock, poetry.lock or pylock.toml")


class _Lock:
    """One lock file being read: its text for line numbers, the target it is read for."""

    def __init__(self, path: Path, text: str, python: str):
        self.path, self.file, self.lines = path, str(path), text.splitlines()
        self.environment = target_environment(python)
        pypi = host_sources().default  # PyPI, or ENVBENCH_INDEX_PYPI standing in for it
        self.pypi = _location(pypi, path.parent) if pypi else ""
        self.pinned: dict[str, str] = {}  # canonical name -> "name==version"
        self.hashes: dict[str, tuple[str, ...]] = {}
        self.sources: dict[str, str] = {}  # canonical name -> index URL, for an index other than PyPI
        self.starts: dict[str, list[int]] = {}  # header -> the line of each `[[header]]` table, found once

    # -- lines -------------------------------------------------------------------------------------
    def table_line(self, header: str, index: int) -> int:
        """The line of the INDEX-th `[[HEADER]]` table (tomllib keeps them in file order)."""
        if header not in self.starts:
            self.starts[header] = [n for n, line in enumerate(self.lines, 1) if line.strip() == f"[[{header}]]"]
        starts = self.starts[header]
        return starts[index] if index < len(starts) else 1

    def field_line(self, header: str, index: int, field: str) -> int:
        """The line of FIELD inside the INDEX-th `[[HEADER]]` table, else the table's own line."""
        start = self.table_line(header, index)
        for n in range(start, len(self.lines)):  # from the line after the header, to the next table
            if self.lines[n].startswith("[["):
                break
            if re.match(rf"\s*{re.escape(field)}\s*=", self.lines[n]):
                return n + 1
        return start

    def fail(self, line: int, field: str, why: str):
        raise ScenarioError(self.file, line, field, why)

    # -- what every format gives -------------------------------------------------------------------
    def marker_holds(self, marker: str | None, extras: Iterable[str], line: int, field: str = "marker") -> bool:
        """Whether MARKER is true on the target for one of EXTRAS (or none): `extra == "x"` per extra."""
        if not marker:
            return True
        try:
            parsed = Marker(marker)
        except InvalidMarker as exc:
            self.fail(line, field, f"{marker!r} is not a PEP 508 marker: {str(exc).splitlines()[0]}")
        return any(parsed.evaluate(self.environment | {"extra": extra}) for extra in ("", *extras))

    def pin(self, name: str, version: str, line: int, digests: Iterable[str], index: str | None) -> None:
        key = canonicalize_name(name)
        wanted = f"{key}=={version}"
        if self.pinned.get(key, wanted) != wanted:
            self.fail(line, "version", f"{key} is locked at {self.pinned[key].partition('==')[2]} and at {version} "
                      "for the same target: the lock installs one of them")  # fmt: skip
        self.pinned[key] = wanted
        found = tuple(sorted({d.removeprefix("sha256:") for d in digests if d.startswith("sha256:")}))
        if found:
            self.hashes[key] = found
        at = _location(index, self.path.parent) if index else self.pypi
        if at != self.pypi and (urlsplit(at).hostname or "") not in PYPI_HOSTS:
            self.sources[key] = at

    def result(self, where: str) -> ProjectInput:
        if not self.pinned:
            self.fail(1, where, "the lock installs no package on this target")
        indexes = tuple((url, self.file, 1) for url in sorted(set(self.sources.values())))
        return ProjectInput(tuple(sorted(self.pinned.values())), hashes=tuple(sorted(self.hashes.items())),
                            indexes=indexes, pinned_sources=tuple(sorted(self.sources.items())))  # fmt: skip

    # -- uv.lock -----------------------------------------------------------------------------------
    def uv(self, data: dict, groups: tuple[str, ...]) -> ProjectInput:
        packages = data.get("package", [])
        root = uv_root(packages)
        if root is None:
            self.fail(1, "package", "no project at '.' (source = { virtual = \".\" } or { editable = \".\" })")
        by_name: dict[str, list[int]] = {}  # forks: one name, several packages
        for i, package in enumerate(packages):
            by_name.setdefault(canonicalize_name(package["name"]), []).append(i)
        optional = packages[root].get("optional-dependencies", {})
        dev = packages[root].get("dev-dependencies", {})
        for group in groups:
            if group not in optional and group not in dev:
                raise UnknownGroup(group, tuple(sorted({*optional, *dev})), "lock")
        root_name = canonicalize_name(packages[root]["name"])
        # uv writes a conflicting extra or group of the project into markers as `extra-N-name-x`
        extras = [*groups, *(f"{kind}-{len(root_name)}-{root_name}-{g}" for g in groups for kind in ("extra", "group"))]
        queue = deque((root, e) for e in packages[root].get("dependencies", []))
        queue += [(root, e) for g in groups for e in (optional.get(g) or dev.get(g) or [])]
        seen: set[tuple[int, str]] = set()
        while queue:
            parent, edge = queue.popleft()
            line = self.table_line("package", parent)
            if not self.marker_holds(edge.get("marker"), extras, line, "dependencies.marker"):
                continue
            target = self._uv_target(packages, by_name, edge, parent)
            chosen = tuple(edge.get("extra", []))
            for key in [(target, "")] + [(target, extra) for extra in chosen]:
                if key in seen:
                    continue
                seen.add(key)
                package = packages[target]
                if key[1] == "":
                    if target == root:
                        continue
                    self._uv_pin(package, target)
                    queue += [(target, e) for e in package.get("dependencies", [])]
                else:
                    queue += [(target, e) for e in package.get("optional-dependencies", {}).get(key[1], [])]
        return self.result("package")

    def _uv_target(self, packages: list[dict], by_name: dict[str, list[int]], edge: dict, parent: int) -> int:
        """The package a dependency edge names: by name, and by version and source when uv forked."""
        name = canonicalize_name(edge["name"])
        found = [i for i in by_name.get(name, []) if edge.get("version", packages[i].get("version")) == packages[i].get("version")
                 and edge.get("source", packages[i].get("source")) == packages[i].get("source")]  # fmt: skip
        if not found:
            self.fail(self.table_line("package", parent), "dependencies", f"{name} is not a package of the lock")
        return found[0]

    def _uv_pin(self, package: dict, index: int) -> None:
        source = package.get("source", {})
        kind = next(iter(source), "")
        if kind != "registry":
            what = LOCAL_SOURCES.get(kind, f"a {kind or 'missing'} source")
            self.fail(self.field_line("package", index, "source"), "source",
                      f"{package['name']} comes from {what}: the mirror serves index releases only")  # fmt: skip
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        self.pin(package["name"], package["version"], self.table_line("package", index),
                 [f.get("hash", "") for f in files], source["registry"])  # fmt: skip

    # -- poetry.lock -------------------------------------------------------------------------------
    def poetry(self, data: dict, groups: tuple[str, ...]) -> ProjectInput:
        self.poetry_version(data)
        packages = data.get("package", [])
        extras = data.get("extras", {})
        known = sorted({g for p in packages for g in p.get("groups", ["main"])} | set(extras))
        for group in groups:
            if group not in known:
                raise UnknownGroup(group, tuple(g for g in known if g != "main"), "lock")
        wanted_groups = {"main", *groups}
        chosen_extras = [g for g in groups if g in extras]
        from_extras = {canonicalize_name(name) for g in chosen_extras for name in extras[g]}
        for i, package in enumerate(packages):
            line = self.table_line("package", i)
            markers = package.get("markers")
            in_groups = [g for g in package.get("groups", ["main"]) if g in wanted_groups]
            if package.get("optional") and canonicalize_name(package["name"]) not in from_extras:
                continue
            holds = any(self.marker_holds(markers.get(g) if isinstance(markers, dict) else markers, chosen_extras,
                                          self.field_line("package", i, "markers"), "markers") for g in in_groups)  # fmt: skip
            if not holds:
                continue
            source = package.get("source", {})
            kind = source.get("type", "")
            if kind in POETRY_LOCAL or kind not in ("", "legacy"):
                what = POETRY_LOCAL.get(kind, f"a {kind} source")
                self.fail(self.field_line("package", i, "type"), "package.source",
                          f"{package['name']} comes from {what}: the mirror serves index releases only")  # fmt: skip
            self.pin(package["name"], package["version"], line, [f.get("hash", "") for f in package.get("files", [])],
                     source.get("url"))  # fmt: skip
        return self.result("package")

    def poetry_version(self, data: dict) -> None:
        """The file's lock-version, refused in its own words unless envbench reads it (2.1 up to
        the next major, which Poetry itself would refuse)."""
        metadata = data.get("metadata")
        said = metadata.get("lock-version") if isinstance(metadata, dict) else None
        line, field = self._line_of("lock-version"), "metadata.lock-version"
        if said is None:
            self.fail(self._line_of("[metadata]"), field, "missing: a poetry.lock says its format there")
        try:
            version = Version(str(said))
        except InvalidVersion:
            self.fail(line, field, f"{str(said)!r} is not a version")
        if version.major > 2:
            self.fail(line, field, f"{said} is newer than the lock-version 2.x envbench reads (2.1 and later)")
        if version < Version("2.1"):
            self.fail(line, field, f"{said} records no groups per package: run `poetry lock` with Poetry 2 (lock-version 2.1)")

    def _line_of(self, field: str) -> int:
        return next((n for n, line in enumerate(self.lines, 1) if line.strip().startswith(field)), 1)

    # -- pylock.toml (PEP 751) ---------------------------------------------------------------------
    def pylock(self, data: dict, groups: tuple[str, ...]) -> ProjectInput:
        from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

        try:
            lock = Pylock.from_dict(data)
        except (PylockValidationError, PylockUnsupportedVersionError) as exc:
            self.fail(1, "pylock", f"not a valid pylock.toml (PEP 751): {exc}")
        extras, known_groups = set(lock.extras or ()), set(lock.dependency_groups or ())
        for group in groups:
            if group not in extras | known_groups:
                raise UnknownGroup(group, tuple(sorted(extras | known_groups)), "lock")
        environment = self.environment | {
            "extras": {g for g in groups if g in extras},
            "dependency_groups": set(lock.default_groups or ()) | {g for g in groups if g in known_groups},
        }
        for i, package in enumerate(lock.packages):
            line = self.table_line("packages", i)
            if package.marker is not None and not package.marker.evaluate(environment, "lock_file"):
                continue
            what = ("a VCS checkout" if package.vcs else "a local directory" if package.directory
                    else "an archive URL" if package.archive else "")  # fmt: skip
            if what or package.version is None:
                self.fail(line, "packages", f"{package.name} comes from {what or 'no version'}: the mirror serves "
                          "index releases only")  # fmt: skip
            files = [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]
            digests = [f"sha256:{f.hashes['sha256']}" for f in files if "sha256" in (f.hashes or {})]
            self.pin(package.name, str(package.version), line, digests, package.index)
        return self.result("packages")


def _location(index: str, base: Path) -> str:
    """An index as one comparable URL: a path or file:// URL as file:// of the absolute folder."""
    parts = urlsplit(index)
    if parts.scheme in ("http", "https"):
        return index.rstrip("/")
    folder = unquote(parts.path) if parts.scheme == "file" else index
    return (base / folder).resolve().as_uri()
