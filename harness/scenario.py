"""Scenario files: load, validate, expand into frozen records.

Every refusal happens here, before any work, as one ScenarioError whose text is
`FILE:LINE: field: what is wrong` (DESIGN.md, "Scenario files").
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from . import inputs, locks
from .inputs import ProjectInput
from .synth import SynthPackage
from .yamlnodes import Reader, ScenarioError, decode, describe, scalar_value

# Every tool DESIGN.md names (each has an adapter in harness/tools/).
KNOWN_TOOLS = (
    "pip-venv",
    "virtualenv",
    "pip-tools",
    "uv",
    "uv-project",
    "poetry",
    "pdm",
    "pipenv",
    "hatch",
    "conda",
    "pixi",
    "rattler",
)
NAME_RE = re.compile(r"^[a-z0-9-]+$")
PYTHON_RE = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")
TOP_KEYS = {
    "name", "description", "python", "tools", "repetitions", "indexes", "projects", "wheelhouse", "layouts", "source",
    "synthetic", "checkpoints", "variants", "filesystems",
}  # fmt: skip
# synthetic: packages envbench generates (harness/synth.py) and serves from its mirror;
# checkpoints: project counts after which the disk is scanned too, to show how cost grows.
VARIANT_KEYS = {"tool", "env"}
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SYNTHETIC_KEYS = {"name", "version", "files", "file_size", "binary", "dependencies", "platform", "sdist"}
# mirror: tools install from envbench's local mirror of the scenario's closure (reproducible);
# live: from the real indexes. A `wheelhouse` makes tools read that folder directly instead.
KNOWN_SOURCES = ("mirror", "live")
# same-volume: caches and projects on one volume (links possible); split-volume: the cache on
# its own volume, like a Docker build-cache mount (links across mounts fail: copies).
KNOWN_LAYOUTS = ("same-volume", "split-volume")
# engine: the engine's own volumes (or the local work folder); the others: a private loop file
# system per tool (harness/filesystems.py), whose own count of bytes checks the scanner's.
KNOWN_FILESYSTEMS = ("engine", "ext4", "xfs", "btrfs")
PROJECT_KEYS = {"name", "count", "dependencies", "requirements", "pyproject", "lock", "groups", "sources", "python"}
# python: the group's own, else the scenario's; requirements, pyproject or lock: a file in place of
# dependencies (harness/inputs.py, harness/locks.py), paths relative to the scenario; groups: a
# pyproject's or a lock's optional groups.
DEPENDENCY_KEYS = ("dependencies", "requirements", "pyproject", "lock")
DEFAULT_REPETITIONS = 5


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
    """A tool under its own name with settings changed through its environment."""

    name: str
    tool: str
    env: tuple[tuple[str, str], ...]


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
            "variants": {v.name: {"tool": v.tool, "env": dict(v.env)} for v in self.variants},
            "filesystems": list(self.filesystems),
            "projects": [
                {"name": p.name, "group": p.group, "python": self.python_of(p), "dependencies": list(p.dependencies),
                 "sources": dict(p.sources)}
                | ({"constraints": list(p.constraints)} if p.constraints else {})
                | ({"hashes": {name: list(d) for name, d in p.hashes}} if p.hashes else {})
                | ({"origin": p.origin} if p.origin else {})
                for p in self.projects
            ],
        }


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ScenarioError on the first fault."""
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError(shown, 1, "file", exc.strerror or str(exc)) from None
    return parse(decode(shown, data), shown, base_dir=Path(path).resolve().parent)


def parse(text: str, path: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    reader = Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError(path, line, "yaml", f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, 1, "yaml", f"not valid YAML: {exc}") from None
    if root is None:
        raise ScenarioError(path, 1, "scenario", "empty file: a scenario is a mapping with name and projects")
    top = reader.mapping(root, "scenario", TOP_KEYS)

    def required(key: str):
        if key not in top:
            reader.fail(root, key, "missing (required)")
        return top[key][1]

    name_node = required("name")
    name = reader.scalar(name_node, "name", str)
    if not NAME_RE.match(name):
        reader.fail(name_node, "name", f"{name!r} must match [a-z0-9-]+")
    description = reader.scalar(top["description"][1], "description", str).strip() if "description" in top else ""

    python = _python(reader, required("python"), "python")

    variants = tuple(_variants(reader, top["variants"][1])) if "variants" in top else ()
    known_tools = KNOWN_TOOLS + tuple(v.name for v in variants)
    tools = _choice(reader, top, "tools", known_tools, "tool", known_tools)
    layouts = _choice(reader, top, "layouts", KNOWN_LAYOUTS, "layout", ("same-volume",))
    filesystems = _choice(reader, top, "filesystems", KNOWN_FILESYSTEMS, "file system", ("engine",))

    source = "mirror"
    if "source" in top:
        node = top["source"][1]
        source = reader.scalar(node, "source", str)
        if source not in KNOWN_SOURCES:
            reader.fail(node, "source", f"unknown source {source!r} (known: {', '.join(KNOWN_SOURCES)})")
        if "wheelhouse" in top:
            reader.fail(node, "source", "a scenario with a wheelhouse installs from it: leave source out")

    repetitions = DEFAULT_REPETITIONS
    if "repetitions" in top:
        repetitions = reader.integer(top["repetitions"][1], "repetitions", 1)

    indexes: dict[str, str] = {}
    if "indexes" in top:
        node = top["indexes"][1]
        if not isinstance(node, yaml.MappingNode):
            reader.fail(node, "indexes", f"must be a mapping of name: URL, not {describe(node)}")
        for key_node, value_node in node.value:
            key = reader.scalar(key_node, "indexes", str)
            field = f"indexes.{key}"
            if not NAME_RE.match(key):
                reader.fail(key_node, field, f"index name {key!r} must match [a-z0-9-]+")
            if key in indexes:
                reader.fail(key_node, field, "duplicate index name")
            url = reader.scalar(value_node, field, str)
            if not re.match(r"^(https?|file)://\S+$", url):
                reader.fail(value_node, field, f"{url!r} is not an http(s):// or file:// URL")
            indexes[key] = url.rstrip("/")

    wheelhouse = None
    if "wheelhouse" in top:
        node = top["wheelhouse"][1]
        value = reader.scalar(node, "wheelhouse", str)
        folder = (base_dir or Path.cwd()) / value
        if not folder.is_dir():
            reader.fail(node, "wheelhouse", f"{value!r} is not a folder (resolved to {folder})")
        wheelhouse = str(folder.resolve())

    projects = _projects(reader, required("projects"), indexes, base_dir or Path.cwd(), python)
    synthetic = tuple(_synthetic(reader, top["synthetic"][1])) if "synthetic" in top else ()
    checkpoints = tuple(_checkpoints(reader, top["checkpoints"][1], len(projects))) if "checkpoints" in top else ()
    if synthetic and (source == "live" or wheelhouse):
        why = "source: live" if source == "live" else "a wheelhouse"
        reader.fail(top["synthetic"][0], "synthetic", f"synthetic packages are served by the mirror, not with {why}")
    return Scenario(
        path=path,
        name=name,
        description=description,
        python=python,
        tools=tools,
        repetitions=repetitions,
        indexes=tuple(indexes.items()),
        projects=tuple(projects),
        wheelhouse=wheelhouse,
        layouts=layouts,
        source="wheelhouse" if wheelhouse else source,
        synthetic=synthetic,
        checkpoints=checkpoints,
        variants=variants,
        filesystems=filesystems,
    )


def _python(reader: Reader, node, field: str) -> str:
    value = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(value, float):
        reader.fail(node, field, f'must be a quoted string such as "3.11"; YAML reads {node.value} as the float {value!r}')
    python = reader.scalar(node, field, str)
    if not PYTHON_RE.match(python):
        reader.fail(node, field, f'{python!r} is not a Python version such as "3.11"')
    return python


def _variants(reader: Reader, node) -> list[Variant]:
    if not isinstance(node, yaml.MappingNode):
        reader.fail(node, "variants", f"must be a mapping of name: {{tool, env}}, not {describe(node)}")
    variants: list[Variant] = []
    for key_node, value_node in node.value:
        name = reader.scalar(key_node, "variants", str)
        field = f"variants.{name}"
        if not NAME_RE.match(name):
            reader.fail(key_node, field, f"{name!r} must match [a-z0-9-]+")
        if name in KNOWN_TOOLS or any(v.name == name for v in variants):
            reader.fail(key_node, field, f"{name!r} is already a tool's or another variant's name")
        entry = reader.mapping(value_node, field, VARIANT_KEYS, required=("tool", "env"))
        tool_node = entry["tool"][1]
        tool = reader.scalar(tool_node, f"{field}.tool", str)
        if tool not in KNOWN_TOOLS:
            reader.fail(tool_node, f"{field}.tool", f"unknown tool {tool!r} (known: {', '.join(KNOWN_TOOLS)})")
        env_node = entry["env"][1]
        if not isinstance(env_node, yaml.MappingNode) or not env_node.value:
            reader.fail(env_node, f"{field}.env", "must be a mapping of VARIABLE: value with at least one entry")
        env = []
        for var_node, val_node in env_node.value:
            var = reader.scalar(var_node, f"{field}.env", str)
            if not ENV_NAME_RE.match(var):
                reader.fail(var_node, f"{field}.env.{var}", f"{var!r} is not an environment variable name")
            # A string only: YAML would read `false` as a bool and `1` as an int, not as the text.
            env.append((var, reader.scalar(val_node, f"{field}.env.{var}", str)))
        variants.append(Variant(name, tool, tuple(env)))
    return variants


def _synthetic(reader: Reader, node) -> list[SynthPackage]:
    packages: list[SynthPackage] = []
    for i, item in enumerate(reader.sequence(node, "synthetic")):
        field = f"synthetic[{i}]"
        entry = reader.mapping(item, field, SYNTHETIC_KEYS, required=("name",))
        name_node = entry["name"][1]
        name = reader.scalar(name_node, f"{field}.name", str)
        if not NAME_RE.match(name):
            reader.fail(name_node, f"{field}.name", f"{name!r} must match [a-z0-9-]+")
        if any(p.name == name for p in packages):
            reader.fail(name_node, f"{field}.name", f"synthetic package {name!r} declared twice")
        values: dict = {"name": name}
        if "version" in entry:
            version_node = entry["version"][1]
            values["version"] = reader.scalar(version_node, f"{field}.version", str)
            try:
                Version(values["version"])
            except InvalidVersion:
                reader.fail(version_node, f"{field}.version", f"{values['version']!r} is not a PEP 440 version")
        for key, minimum in (("files", 0), ("file_size", 1)):
            if key in entry:
                values[key] = reader.integer(entry[key][1], f"{field}.{key}", minimum)
        for key in ("binary", "sdist"):
            if key in entry:
                values[key] = reader.scalar(entry[key][1], f"{field}.{key}", bool)
        if "platform" in entry:
            node = entry["platform"][1]
            values["platform"] = reader.scalar(node, f"{field}.platform", str)
            if not re.match(r"^[a-z0-9_]+$", values["platform"]):
                reader.fail(node, f"{field}.platform", f"{values['platform']!r} is not a wheel platform tag such as win_amd64")
        if "dependencies" in entry:
            values["dependencies"] = tuple(_requirements(reader, entry["dependencies"][1], f"{field}.dependencies"))
        packages.append(SynthPackage(**values))
    return packages


def _checkpoints(reader: Reader, node, projects: int) -> list[int]:
    counts: list[int] = []
    for i, item in enumerate(reader.sequence(node, "checkpoints")):
        value = reader.integer(item, f"checkpoints[{i}]", 1)
        if counts and value <= counts[-1]:
            reader.fail(item, f"checkpoints[{i}]", f"must be ascending: {value} follows {counts[-1]}")
        if value >= projects:
            reader.fail(item, f"checkpoints[{i}]", f"must be below the {projects} projects (the full set is always measured)")
        counts.append(value)
    return counts


def _requirements(reader: Reader, node, field: str) -> list[str]:
    """PEP 508 strings, normalized, each package once."""
    requirements: list[str] = []
    seen: set[str] = set()
    for d, dep_node in enumerate(reader.sequence(node, field)):
        dep_field = f"{field}[{d}]"
        text = reader.scalar(dep_node, dep_field, str)
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            reader.fail(dep_node, dep_field, f"{text!r} is not a PEP 508 requirement: {str(exc).splitlines()[0]}")
        if canonicalize_name(req.name) in seen:
            reader.fail(dep_node, dep_field, f"{req.name!r} listed twice")
        seen.add(canonicalize_name(req.name))
        requirements.append(str(req))
    return requirements


def _choice(reader: Reader, top: dict, key: str, known: tuple[str, ...], what: str, default: tuple[str, ...]):
    """A list of KNOWN names under KEY (tools, layouts, file systems), DEFAULT when left out."""
    if key not in top:
        return default
    node = top[key][1]
    names = tuple(_names(reader, node, key, known, what))
    if not names:
        reader.fail(node, key, f"empty list: name at least one {what} or leave the key out")
    return names


def _names(reader: Reader, node, field: str, known: tuple[str, ...], what: str) -> list[str]:
    names: list[str] = []
    for i, item in enumerate(reader.sequence(node, field)):
        value = reader.scalar(item, f"{field}[{i}]", str)
        if value not in known:
            reader.fail(item, f"{field}[{i}]", f"unknown {what} {value!r} (known: {', '.join(known)})")
        if value in names:
            reader.fail(item, f"{field}[{i}]", f"{what} {value!r} listed twice")
        names.append(value)
    return names


def _projects(reader: Reader, node, indexes: dict[str, str], base_dir: Path, default_python: str) -> list[Project]:
    groups = reader.sequence(node, "projects")
    if not groups:
        reader.fail(node, "projects", "empty list: a scenario needs at least one project")
    projects: list[Project] = []
    seen: dict[str, str] = {}
    for g, group_node in enumerate(groups):
        field = f"projects[{g}]"
        group = reader.mapping(group_node, field, PROJECT_KEYS, required=("name",))
        name_node = group["name"][1]
        name = reader.scalar(name_node, f"{field}.name", str)
        if not NAME_RE.match(name):
            reader.fail(name_node, f"{field}.name", f"{name!r} must match [a-z0-9-]+")

        python = _python(reader, group["python"][1], f"{field}.python") if "python" in group else ""
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
        requirements = _requirements(reader, node, f"{field}.dependencies")
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
