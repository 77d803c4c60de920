"""A scenario's `projects`: groups of copies, each with its dependencies as a list or as a file
(requirements, pyproject or lock, read by harness/scenario/inputs.py and locks.py)."""

from __future__ import annotations

from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.scenario import inputs, locks
from harness.scenario.fields import read_name, read_python, read_requirements
from harness.scenario.inputs import ProjectInput
from harness.scenario.model import Project
from harness.scenario.yamlnodes import Reader, ScenarioError, describe, scalar_value

PROJECT_KEYS = {"name", "count", "dependencies", "requirements", "pyproject", "lock", "groups", "sources", "python"}
# python: the group's own, else the scenario's; requirements, pyproject or lock: a file in place of
# dependencies (harness/scenario/inputs.py, locks.py), paths relative to the scenario; groups: a
# pyproject's or a lock's optional groups.
DEPENDENCY_KEYS = ("dependencies", "requirements", "pyproject", "lock")


def read_projects(reader: Reader, node, indexes: dict[str, str], base_dir: Path, default_python: str) -> list[Project]:
    groups = reader.sequence(node, "projects")
    if not groups:
        reader.fail(node, "projects", "empty list: a scenario needs at least one project")
    projects: list[Project] = []
    seen: dict[str, str] = {}
    for g, group_node in enumerate(groups):
        field = f"projects[{g}]"
        group = reader.mapping(group_node, field, PROJECT_KEYS, required=("name",))
        name_node = group["name"][1]
        name = read_name(reader, name_node, f"{field}.name")

        python = read_python(reader, group["python"][1], f"{field}.python") if "python" in group else ""
        count = None
        if "count" in group:
            count = reader.integer(group["count"][1], f"{field}.count", 1)

        given = _project_input(reader, group, group_node, field, base_dir, python or default_python)
        requirements = list(given.dependencies)
        by_name = {canonicalize_name(Requirement(text).name) for text in requirements}
        file_indexes = _file_indexes(given, indexes)

        sources: list[tuple[str, str]] = []
        if "sources" in group:
            src_node = group["sources"][1]
            if not isinstance(src_node, yaml.MappingNode):
                reader.fail(src_node, f"{field}.sources", f"must be a mapping of package: index, not {describe(src_node)}")
            for key_node, value_node in src_node.value:
                package = reader.scalar(key_node, f"{field}.sources", str)
                src_field = f"{field}.sources.{package}"
                if canonicalize_name(package) not in by_name:
                    reader.fail(key_node, src_field, f"{package!r} is not among this project's dependencies")
                index = reader.scalar(value_node, src_field, str)
                if index not in indexes:
                    known = ", ".join(indexes) or "none declared"
                    reader.fail(value_node, src_field, f"unknown index {index!r} (indexes: {known})")
                sources.append((canonicalize_name(package), index))
        named = {url: index_name for index_name, (url, _, _) in file_indexes.items()}
        sources += [(package, named[url]) for package, url in given.pinned_sources if package not in dict(sources)]
        for index_name, (url, file, line) in file_indexes.items():
            if not any(index == index_name for _, index in sources):
                why = (f"envbench takes each package from one index: name the packages that come from {url} in the "
                       f"group's sources ({{package: {index_name}}}) or with --source PACKAGE={index_name}")  # fmt: skip
                raise ScenarioError(file, line, "--extra-index-url", why)

        names = [name] if count is None else [f"{name}-{i:0{max(2, len(str(count)))}d}" for i in range(1, count + 1)]
        for project_name in names:
            if project_name in seen:
                reader.fail(name_node, f"{field}.name", f"project name {project_name!r} repeats {seen[project_name]}")
            seen[project_name] = field
            projects.append(Project(project_name, tuple(requirements), tuple(sources), name, python, given.constraints,
                                    given.hashes, given_origin(group)))  # fmt: skip
    return projects


def given_origin(group: dict) -> str:
    """The file a group's dependencies came from, as the scenario names it ("" for a list)."""
    key = next((k for k in DEPENDENCY_KEYS[1:] if k in group), None)
    return f"{key}: {scalar_value(group[key][1])}" if key else ""


def _project_input(reader: Reader, group: dict, group_node, field: str, base_dir: Path, python: str) -> ProjectInput:
    """A group's dependencies: its own list, or what its requirements file, pyproject or lock gives."""
    present = [key for key in DEPENDENCY_KEYS if key in group]
    if not present:
        reader.fail(group_node, f"{field}.dependencies", "missing (required): give dependencies, requirements, pyproject or lock")
    if len(present) > 1:  # the later of the two in the file is the one at fault
        second = sorted(present, key=lambda key: group[key][0].start_mark.line)[1]
        reader.fail(group[second][0], f"{field}.{second}", f"give one of {', '.join(DEPENDENCY_KEYS)}, not two")
    key = present[0]
    if "groups" in group and key not in ("pyproject", "lock"):
        reader.fail(group["groups"][0], f"{field}.groups", "optional groups are a pyproject's or a lock's: give one")
    node = group[key][1]
    if key == "dependencies":
        requirements = read_requirements(reader, node, f"{field}.dependencies")
        if not requirements:
            reader.fail(node, f"{field}.dependencies", "empty list: a project needs at least one dependency")
        return ProjectInput(tuple(requirements))
    value = reader.scalar(node, f"{field}.{key}", str)
    path = (base_dir / value).resolve()
    if not path.is_file():
        reader.fail(node, f"{field}.{key}", f"{value!r} is not a file (resolved to {path})")
    shown = f"{reader.path}:{node.start_mark.line + 1}: {field}.{key}"  # for a file that is not there
    if key == "requirements":
        return inputs.read_requirements(path, shown)
    nodes = reader.sequence(group["groups"][1], f"{field}.groups") if "groups" in group else []
    chosen = tuple(reader.scalar(item, f"{field}.groups[{i}]", str) for i, item in enumerate(nodes))
    try:
        if key == "lock":
            return locks.read_lock(path, shown, python, chosen)
        return inputs.read_pyproject(path, shown, chosen)
    except inputs.UnknownGroup as exc:
        i = chosen.index(exc.group)
        reader.fail(nodes[i], f"{field}.groups[{i}]", str(exc))


def _file_indexes(given: ProjectInput, indexes: dict[str, str]) -> dict[str, tuple[str, str, int]]:
    """A file's extra indexes as named indexes: the scenario's name for the URL, else one made of it."""
    named: dict[str, tuple[str, str, int]] = {}
    for url, file, line in given.indexes:
        name = next((n for n, u in indexes.items() if u == url), None) or inputs.index_name_for(url)
        if indexes.get(name, url) != url:
            raise ScenarioError(file, line, "--extra-index-url", f"index name {name!r} is the scenario's for {indexes[name]}")
        indexes[name] = url
        named[name] = (url, file, line)
    return named
