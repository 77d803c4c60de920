"""A project as it is: a requirements file or a pyproject.toml read into a scenario's project group.

What the file says is kept where envbench can honour it and refused where it cannot, with the
file's own line (`FILE:LINE: field: why`, the scenario's rule):
- requirements files (pip's format, read by pip-requirements-parser, a vendored copy of pip's own
  reader): `-r` includes followed, `-c` constraints kept as constraints (the mirror's resolution
  obeys them, so every tool gets those versions), markers and extras kept, `--hash` digests kept
  (the mirror's file for the target must be one of them), `--extra-index-url` a named index;
  editable, VCS, URL and local-path requirements refused (the mirror serves index releases
  only), `--index-url` other than PyPI refused (ENVBENCH_INDEX_PYPI says where PyPI is);
- pyproject.toml (tomllib): PEP 621 `[project] dependencies`, plus the optional groups chosen by
  name, from `[project.optional-dependencies]` or PEP 735 `[dependency-groups]`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from harness.scenario.yamlnodes import ScenarioError, decode

PYPI_HOSTS = ("pypi.org", "pypi.python.org", "files.pythonhosted.org")
# Options that change nothing envbench measures: hosts are the mirror's, and the mirror
# already prefers a wheel wherever a release has one.
HARMLESS_OPTIONS = {"trusted_hosts", "prefer_binary"}
FOLLOWED_OPTIONS = {"requirements", "constraints"}  # -r and -c: the reader follows them itself


@dataclass(frozen=True)
class ProjectInput:
    """What a file gives a project group."""

    dependencies: tuple[str, ...]  # PEP 508 strings, normalized, each package once
    constraints: tuple[str, ...] = ()  # PEP 508 strings: versions the resolution must keep to
    hashes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # canonical name -> allowed sha256 digests
    indexes: tuple[tuple[str, str, int], ...] = ()  # (URL, file, line) of each extra index
    pinned_sources: tuple[tuple[str, str], ...] = ()  # (canonical name, index URL): a lock's own pins


def index_name_for(url: str) -> str:
    """A scenario index name for URL: host and path, [a-z0-9-] ("download-pytorch-org-whl-cpu")."""
    parts = urlsplit(url)
    return re.sub(r"[^a-z0-9]+", "-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-") or "index"


def _line_of(text: str, needle: str) -> int:
    """The 1-based line where NEEDLE first appears in TEXT (1 when it does not)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _add(found: dict[str, str], requirement: Requirement, path: str, line: int, field: str) -> None:
    name = canonicalize_name(requirement.name)
    if name in found:
        raise ScenarioError(path, line, field, f"{requirement.name!r} listed twice")
    found[name] = str(requirement)


def _constrain(found: dict[str, str], requirement: Requirement, path: str, line: int) -> None:
    """A constraint; one on a package already constrained narrows it, as pip reads both
    (Home Assistant's constraints file gives pyOpenSSL==23.2.0 and, further down, pyOpenSSL>=23.1.0)."""
    name = canonicalize_name(requirement.name)
    if name not in found:
        found[name] = str(requirement)
        return
    before = Requirement(found[name])
    if (before.marker, before.extras) != (requirement.marker, requirement.extras):
        raise ScenarioError(path, line, "constraint", f"{requirement.name!r} constrained twice, under other markers "
                            "or extras: give one line")  # fmt: skip
    before.specifier &= requirement.specifier
    found[name] = str(before)


# -- requirements files ---------------------------------------------------------------------------
# An include line as pip reads it: -r/-c or their long names, the path after a space or "=".
INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s=-]))(\S+)")
COMMENT = re.compile(r"(^|\s)#.*$")


def missing_file(path: Path) -> str | None:
    """Why PATH is no file to read ("PATH: a directory, not a file"), or None."""
    if path.is_dir():
        return f"{path}: a directory, not a file"
    return None if path.is_file() else f"no such file: {path}"


def check_includes(path: Path, chain: tuple[Path, ...] = ()) -> None:
    """Each -r/-c include of PATH, and theirs, exists, is UTF-8 and does not include back: pip's
    reader would end in a traceback, or recurse until Python stops it. Paths are relative to the
    including file's folder, as pip joins them."""
    text = decode(str(path), path.read_bytes())  # the user's file, named at the line at fault
    chain = (*chain, path.resolve())
    for number, line in enumerate(text.splitlines(), 1):
        match = INCLUDE.match(COMMENT.sub("", line))
        if not match or "${" in match.group(2):
            continue  # environment variables: pip's reader expands them
        flag, target = match.groups()
        if "://" in target:
            raise ScenarioError(str(path), number, flag, f"{target} is a URL: download it and name the file")
        included = path.parent / target
        if why := missing_file(included):
            raise ScenarioError(str(path), number, flag, why)
        if included.resolve() in chain:
            loop = " → ".join(p.name for p in (*chain[chain.index(included.resolve()):], included))
            raise ScenarioError(str(path), number, flag, f"includes itself again ({loop})")
        check_includes(included, chain)


def read_requirements(path: Path, shown: str) -> ProjectInput:
    """A pip requirements file and what it includes."""
    from pip_requirements_parser import PipError, RequirementsFile  # a heavy import: only when a file is read

    if why := missing_file(path):
        raise ScenarioError(shown, 1, "requirements", why)
    check_includes(path)
    try:
        parsed = RequirementsFile.from_file(str(path), include_nested=True)
    except PipError as exc:  # what check_includes does not foresee, still in one line
        raise ScenarioError(str(path), 1, "requirements", f"pip's reader refused the file: {exc}") from None

    def where(item) -> tuple[str, int]:
        return (item.filename or str(path)), item.line_number or 1

    for invalid in parsed.invalid_lines:
        file, line = where(invalid)
        said = str(invalid.error_message).strip().splitlines()[0].removeprefix("Invalid requirement: ").strip(": ")
        raise ScenarioError(file, line, "requirement", f"{invalid.line.strip()!r} is not a requirement: {said}")
    indexes: list[tuple[str, str, int]] = []
    for option in parsed.options:
        file, line = where(option)
        for key, value in option.options.items():
            if key in HARMLESS_OPTIONS or key in FOLLOWED_OPTIONS:
                continue
            if key == "index_url":
                if (urlsplit(value).hostname or "") not in PYPI_HOSTS:
                    raise ScenarioError(file, line, "--index-url", f"{value} would replace PyPI for every package; "
                                        "set ENVBENCH_INDEX_PYPI to that URL instead (the mirror resolves from it)")  # fmt: skip
            elif key == "extra_index_urls":
                indexes += [(url.rstrip("/"), file, line) for url in value]
            else:
                flag = "--" + key.replace("_", "-")
                raise ScenarioError(file, line, flag, "not honoured: every tool installs from envbench's mirror of "
                                    "the resolved releases")  # fmt: skip
    dependencies: dict[str, str] = {}
    constraints: dict[str, str] = {}
    hashes: dict[str, tuple[str, ...]] = {}
    for item in parsed.requirements:
        file, line = where(item)
        text = item.line.strip() if item.line else str(item.req)
        if item.is_editable:
            raise ScenarioError(file, line, "-e", f"{text!r}: an editable install is a local tree, not a release")
        if item.link is not None or item.req is None:
            url = item.link.url if item.link is not None else ""
            remote = url.startswith(("http://", "https://"))
            what = "a VCS checkout" if item.is_vcs_url else "a direct URL" if remote else "a local path"
            raise ScenarioError(file, line, "requirement", f"{text!r} is {what}: the mirror serves index releases only")
        requirement = Requirement(str(item.req))
        if item.marker is not None and requirement.marker is None:
            requirement.marker = item.marker
        if item.is_constraint:
            _constrain(constraints, requirement, file, line)
        else:
            _add(dependencies, requirement, file, line, "requirement")
        kinds = {value.partition(":")[0] for value in item.hash_options or []}
        if kinds - {"sha256"}:
            raise ScenarioError(file, line, "--hash", f"{sorted(kinds - {'sha256'})[0]} digests are not checked; give sha256")
        digests = [value.partition(":")[2] for value in item.hash_options or []]
        if digests:
            hashes[canonicalize_name(requirement.name)] = tuple(digests)
    if not dependencies:
        raise ScenarioError(str(path), 1, "requirements", "no requirement in the file (constraints alone install nothing)")
    return ProjectInput(tuple(dependencies.values()), tuple(constraints.values()), tuple(sorted(hashes.items())),
                        tuple(indexes))  # fmt: skip


class UnknownGroup(ValueError):
    """A group the pyproject does not have: the scenario names the line that asked for it."""

    def __init__(self, group: str, known: tuple[str, ...], what: str = "pyproject"):
        super().__init__(f"the {what} has no optional group {group!r} (groups: {', '.join(known) or 'none'})")
        self.group = group


def load_toml(path: Path) -> tuple[str, dict]:
    """A TOML file's text (for line numbers) and data; one clear line when it is not TOML."""
    text = decode(str(path), path.read_bytes())
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        raise ScenarioError(str(path), line, "toml", f"not valid TOML: {exc}") from None


# -- pyproject.toml ---------------------------------------------------------------------------------
def read_pyproject(path: Path, shown: str, groups: tuple[str, ...] = ()) -> ProjectInput:
    """PEP 621 dependencies of a pyproject.toml and the optional GROUPS named."""
    if why := missing_file(path):
        raise ScenarioError(shown, 1, "pyproject", why)
    text, data = load_toml(path)
    project = data.get("project")
    if not isinstance(project, dict):
        raise ScenarioError(str(path), 1, "project", "no [project] table (PEP 621): name the dependencies there")
    if "dependencies" in project.get("dynamic", []):
        raise ScenarioError(str(path), _line_of(text, "dynamic"), "project.dynamic",
                            "dependencies are dynamic (a build backend computes them): give a requirements file")  # fmt: skip
    chosen: list[tuple[str, list]] = [("project.dependencies", project.get("dependencies", []))]
    optional = project.get("optional-dependencies", {})
    dependency_groups = data.get("dependency-groups", {})
    for group in groups:
        if group in optional:
            chosen.append((f"project.optional-dependencies.{group}", optional[group]))
        elif group in dependency_groups:
            chosen.append((f"dependency-groups.{group}", _expand_group(dependency_groups, group, str(path), text)))
        else:
            raise UnknownGroup(group, tuple(sorted({*optional, *dependency_groups})))
    found: dict[str, str] = {}
    own = canonicalize_name(str(project.get("name", "")))
    taken = {field for field, _ in chosen}
    for field, entries in chosen:  # grows while it is read: "app[lint]" brings the group lint
        for entry in entries:
            line = _line_of(text, f'"{entry}"') if isinstance(entry, str) else 1
            if not isinstance(entry, str):
                raise ScenarioError(str(path), line, field, f"{entry!r} is not a PEP 508 string")
            try:
                requirement = Requirement(entry)
            except InvalidRequirement as exc:
                raise ScenarioError(str(path), line, field,
                                    f"{entry!r} is not a PEP 508 requirement: {str(exc).splitlines()[0]}") from None  # fmt: skip
            if requirement.url:
                raise ScenarioError(str(path), line, field, f"{entry!r} names a URL: the mirror serves index releases only")
            if canonicalize_name(requirement.name) == own:  # the project's own extras: their groups too
                for extra in sorted(requirement.extras):
                    if extra in optional and f"project.optional-dependencies.{extra}" not in taken:
                        taken.add(f"project.optional-dependencies.{extra}")
                        chosen.append((f"project.optional-dependencies.{extra}", optional[extra]))
                continue
            _add(found, requirement, str(path), line, field)
    if not found:
        raise ScenarioError(str(path), 1, "project.dependencies", "no dependency: a project needs at least one")
    return ProjectInput(tuple(found.values()))


def _expand_group(groups: dict, name: str, path: str, text: str, seen: tuple[str, ...] = ()) -> list[str]:
    """PEP 735: a group's requirements, `{include-group = ...}` entries expanded."""
    if name in seen:
        raise ScenarioError(path, _line_of(text, name), f"dependency-groups.{name}", "includes itself")
    out: list[str] = []
    for entry in groups.get(name, []):
        if isinstance(entry, dict) and "include-group" in entry:
            out += _expand_group(groups, entry["include-group"], path, text, (*seen, name))
        else:
            out.append(entry)
    return out
