"""Readers of a scenario's fields, each from its YAML node: a value, or one ScenarioError naming the
file, the node's line and the field."""

from __future__ import annotations

import re

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.scenario.model import SynthPackage, Variant
from harness.scenario.yamlnodes import Reader, describe, scalar_value
from harness.settings.network import NetworkSpec
from harness.tools.registry import ADAPTERS
from harness.tools.registry import NAMES as TOOL_NAMES

NAME_RE = re.compile(r"^[a-z0-9-]+$")
PYTHON_RE = re.compile(r"^3\.\d{1,2}(\.\d{1,3})?$")
BYTECODE_MODES = ("default", "compile", "skip")
VARIANT_KEYS = {"tool", "env", "settings", "bytecode"}
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Debian policy 5.6.1: a package name is lowercase letters, digits, + - and ., two or more, a
# letter or digit first. Checked so a name is one argv item of apt-get and nothing else.
DEBIAN_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
SYNTHETIC_KEYS = {"name", "version", "files", "file_size", "binary", "dependencies", "platform", "sdist", "build_needs"}


def read_python(reader: Reader, node, field: str) -> str:
    value = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(value, float):
        reader.fail(node, field, f'must be a quoted string such as "3.11"; YAML reads {node.value} as the float {value!r}')
    python = reader.scalar(node, field, str)
    if not PYTHON_RE.match(python):
        reader.fail(node, field, f'{python!r} is not a Python version such as "3.11"')
    return python


def read_variants(reader: Reader, node) -> list[Variant]:
    if not isinstance(node, yaml.MappingNode):
        reader.fail(node, "variants", f"must be a mapping of name: {{tool, env, settings, bytecode}}, not {describe(node)}")
    variants: list[Variant] = []
    for key_node, value_node in node.value:
        name = reader.scalar(key_node, "variants", str)
        field = f"variants.{name}"
        if not NAME_RE.match(name):
            reader.fail(key_node, field, f"{name!r} must match [a-z0-9-]+")
        if name in TOOL_NAMES or any(v.name == name for v in variants):
            reader.fail(key_node, field, f"{name!r} is already a tool's or another variant's name")
        entry = reader.mapping(value_node, field, VARIANT_KEYS, required=("tool",))
        tool_node = entry["tool"][1]
        tool = reader.scalar(tool_node, f"{field}.tool", str)
        if tool not in TOOL_NAMES:
            reader.fail(tool_node, f"{field}.tool", f"unknown tool {tool!r} (known: {', '.join(TOOL_NAMES)})")
        if len(entry) == 1:
            reader.fail(value_node, field, "changes nothing: give env, settings or bytecode")
        env = _pairs(reader, entry["env"][1], f"{field}.env") if "env" in entry else []
        for var, _ in env:
            if not ENV_NAME_RE.match(var):
                reader.fail(entry["env"][1], f"{field}.env.{var}", f"{var!r} is not an environment variable name")
        settings = _settings(reader, entry["settings"][1], f"{field}.settings", tool) if "settings" in entry else []
        bytecode = "default"
        if "bytecode" in entry:
            bytecode = reader.scalar(entry["bytecode"][1], f"{field}.bytecode", str)
            if bytecode not in BYTECODE_MODES:
                reader.fail(entry["bytecode"][1], f"{field}.bytecode", f"{bytecode!r}: one of {', '.join(BYTECODE_MODES)}")
            if bytecode not in ADAPTERS[tool].bytecode_options:
                reader.fail(entry["bytecode"][1], f"{field}.bytecode", f"{tool} has no option for {bytecode!r} bytecode")
        variants.append(Variant(name, tool, tuple(env), tuple(settings), bytecode))
    return variants


def _pairs(reader: Reader, node, field: str) -> list[tuple[str, str]]:
    """A mapping of names to strings, at least one entry."""
    if not isinstance(node, yaml.MappingNode) or not node.value:
        reader.fail(node, field, "must be a mapping of NAME: value with at least one entry")
    # A string only: YAML would read `false` as a bool and `1` as an int, not as the text.
    return [(reader.scalar(k, field, str), reader.scalar(v, f"{field}.{scalar_value(k)}", str)) for k, v in node.value]


def _settings(reader: Reader, node, field: str, tool: str) -> list[tuple[str, str]]:
    """A variant's settings, each one the tool's adapter knows, with a value the pinned tool takes."""
    choices = ADAPTERS[tool].setting_choices
    pairs = _pairs(reader, node, field)
    for (name, value), (name_node, value_node) in zip(pairs, node.value, strict=True):
        if name not in choices:
            known = ", ".join(choices) or "none"
            reader.fail(name_node, f"{field}.{name}", f"{tool} has no setting {name!r} envbench writes (settings: {known})")
        if value not in choices[name]:
            reader.fail(value_node, f"{field}.{name}", f"{value!r}: one of {', '.join(choices[name])}")
    return pairs


def read_name(reader: Reader, node, field: str) -> str:
    """A name of the scenario's own ([a-z0-9-]+): the scenario's, a project group's, a package's."""
    name = reader.scalar(node, field, str)
    if not NAME_RE.match(name):
        reader.fail(node, field, f"{name!r} must match [a-z0-9-]+")
    return name


def read_synthetic(reader: Reader, node) -> list[SynthPackage]:
    packages: list[SynthPackage] = []
    for i, item in enumerate(reader.sequence(node, "synthetic")):
        field = f"synthetic[{i}]"
        entry = reader.mapping(item, field, SYNTHETIC_KEYS, required=("name",))
        name_node = entry["name"][1]
        name = read_name(reader, name_node, f"{field}.name")
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
            values["dependencies"] = tuple(read_requirements(reader, entry["dependencies"][1], f"{field}.dependencies"))
        if "build_needs" in entry:
            values["build_needs"] = _build_needs(reader, entry["build_needs"][1], f"{field}.build_needs", values.get("sdist"))
        packages.append(SynthPackage(**values))
    return packages


def _build_needs(reader: Reader, node, field: str, sdist: bool | None) -> tuple[str, ...]:
    """Programs a synthetic sdist's build runs (each one argv item: a plain program name)."""
    if not sdist:
        reader.fail(node, field, "only an sdist is built where it is installed: give sdist: true")
    names = tuple(reader.scalar(item, f"{field}[{i}]", str) for i, item in enumerate(reader.sequence(node, field)))
    for i, name in enumerate(names):
        if not re.match(r"^[A-Za-z0-9_.+-]+$", name):
            reader.fail(reader.sequence(node, field)[i], f"{field}[{i}]", f"{name!r} is not a program name")
    return names


def read_checkpoints(reader: Reader, node, projects: int) -> list[int]:
    counts: list[int] = []
    for i, item in enumerate(reader.sequence(node, "checkpoints")):
        value = reader.integer(item, f"checkpoints[{i}]", 1)
        if counts and value <= counts[-1]:
            reader.fail(item, f"checkpoints[{i}]", f"must be ascending: {value} follows {counts[-1]}")
        if value >= projects:
            reader.fail(item, f"checkpoints[{i}]", f"must be below the {projects} projects (the full set is always measured)")
        counts.append(value)
    return counts


def read_requirements(reader: Reader, node, field: str) -> list[str]:
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


NETWORK_KEYS = {"rtt_ms", "bandwidth_mbit", "loss_percent"}


def read_network(reader: Reader, node) -> NetworkSpec | None:
    """`none`, or {rtt_ms, bandwidth_mbit, loss_percent} (at least one of the first two)."""
    if isinstance(node, yaml.ScalarNode) and scalar_value(node) in ("none", None):
        return None
    if isinstance(node, yaml.ScalarNode):
        reader.fail(node, "network", f"{node.value!r}: give none or {{rtt_ms, bandwidth_mbit, loss_percent}} "
                                     "(named profiles are not shipped yet)")  # fmt: skip
    keys = reader.mapping(node, "network", NETWORK_KEYS)
    if not keys.keys() & {"rtt_ms", "bandwidth_mbit"}:
        reader.fail(node, "network", "give rtt_ms, bandwidth_mbit or both (or none)")
    figures = {}
    for key, (_, value_node) in keys.items():
        value = scalar_value(value_node) if isinstance(value_node, yaml.ScalarNode) else None
        if type(value) not in (int, float):
            reader.fail(value_node, f"network.{key}", f"must be a number, not {describe(value_node)}")
        low, high = {"rtt_ms": (0, 10_000), "bandwidth_mbit": (0.01, 100_000), "loss_percent": (0, 50)}[key]
        if not low <= value <= high:
            reader.fail(value_node, f"network.{key}", f"must be between {low:g} and {high:g}, not {value:g}")
        figures[key] = float(value)
    return NetworkSpec(**figures)


def read_choice(reader: Reader, top: dict, key: str, known: tuple[str, ...], what: str, default: tuple[str, ...]):
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


def debian_package_fault(name: str) -> str | None:
    """Why NAME cannot be a Debian package's name (None: it can)."""
    return None if DEBIAN_PACKAGE_RE.match(name) else f"{name!r} is not a Debian package name (a-z, 0-9, + - .)"


def read_system_packages(reader: Reader, node) -> tuple[str, ...]:
    """Debian packages a project's sdists need to build (system_packages), each once, in order."""
    found: list[str] = []
    for i, item in enumerate(reader.sequence(node, "system_packages")):
        name = reader.scalar(item, f"system_packages[{i}]", str)
        if fault := debian_package_fault(name):
            reader.fail(item, f"system_packages[{i}]", fault)
        if name in found:
            reader.fail(item, f"system_packages[{i}]", f"{name!r} listed twice")
        found.append(name)
    return tuple(found)
