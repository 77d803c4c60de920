"""Scenario files: load, validate, expand into frozen records (harness/scenario/model.py).

Every refusal happens here, before any work, as one ScenarioError whose text is
`FILE:LINE: field: what is wrong` (docs/scenarios.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from harness.scenario.fields import (
    BYTECODE_MODES,
    NAME_RE,
    read_checkpoints,
    read_choice,
    read_name,
    read_network,
    read_python,
    read_synthetic,
    read_system_packages,
    read_variants,
)
from harness.scenario.model import (
    DEFAULT_REPETITIONS,
    KNOWN_FILESYSTEMS,
    KNOWN_LAYOUTS,
    KNOWN_SOURCES,
    Scenario,
)
from harness.scenario.projects import read_projects
from harness.scenario.yamlnodes import Reader, ScenarioError, decode, describe
from harness.tools.registry import NAMES as TOOL_NAMES

TOP_KEYS = {
    "name", "description", "python", "tools", "repetitions", "indexes", "projects", "wheelhouse", "layouts", "source",
    "synthetic", "checkpoints", "variants", "filesystems", "network", "bytecode", "system_packages",
    "clean_cache",
}
# synthetic: packages envbench generates (harness/packages/synth.py) and serves from its mirror;
# checkpoints: project counts after which the disk is scanned too, to show how cost grows.


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise ScenarioError on the first fault."""
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError(shown, 1, "file", exc.strerror or str(exc)) from None
    return parse(decode(shown, data), shown, base_dir=Path(path).resolve().parent)


def _compose(text: str, path: str):
    """The document's root node: a mapping is checked by the caller."""
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
    return root


def parse(text: str, path: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Validate the fields in the order a reader meets them: the first fault is the one named."""
    reader = Reader(path)
    root = _compose(text, path)
    top = reader.mapping(root, "scenario", TOP_KEYS)

    def required(key: str):
        if key not in top:
            reader.fail(root, key, "missing (required)")
        return top[key][1]

    name = read_name(reader, required("name"), "name")
    description = reader.scalar(top["description"][1], "description", str).strip() if "description" in top else ""
    python = read_python(reader, required("python"), "python")
    variants = tuple(read_variants(reader, top["variants"][1])) if "variants" in top else ()
    known_tools = TOOL_NAMES + tuple(v.name for v in variants)
    tools = read_choice(reader, top, "tools", known_tools, "tool", known_tools)
    layouts = read_choice(reader, top, "layouts", KNOWN_LAYOUTS, "layout", ("same-volume",))
    filesystems = read_choice(reader, top, "filesystems", KNOWN_FILESYSTEMS, "file system", ("engine",))
    source = _source(reader, top)
    repetitions = reader.integer(top["repetitions"][1], "repetitions", 1) if "repetitions" in top else DEFAULT_REPETITIONS
    indexes = _indexes(reader, top)
    wheelhouse = _wheelhouse(reader, top, base_dir or Path.cwd())
    projects = read_projects(reader, required("projects"), indexes, base_dir or Path.cwd(), python)
    synthetic = tuple(read_synthetic(reader, top["synthetic"][1])) if "synthetic" in top else ()
    checkpoints = tuple(read_checkpoints(reader, top["checkpoints"][1], len(projects))) if "checkpoints" in top else ()
    network = read_network(reader, top["network"][1]) if "network" in top else None
    bytecode = reader.scalar(top["bytecode"][1], "bytecode", str) if "bytecode" in top else "default"
    if bytecode not in BYTECODE_MODES:
        reader.fail(top["bytecode"][1], "bytecode", f"{bytecode!r}: one of {', '.join(BYTECODE_MODES)}")
    clean_cache = reader.scalar(top["clean_cache"][1], "clean_cache", bool) if "clean_cache" in top else False
    system = read_system_packages(reader, top["system_packages"][1]) if "system_packages" in top else ()
    if network and (source == "live" or wheelhouse):
        why = "source: live (the tools fetch from the Internet)" if source == "live" else "a wheelhouse (no index)"
        reader.fail(top["network"][0], "network", f"shapes the link to the mirror; there is none with {why}")
    if synthetic and (source == "live" or wheelhouse):
        why = "source: live" if source == "live" else "a wheelhouse"
        reader.fail(top["synthetic"][0], "synthetic", f"synthetic packages are served by the mirror, not with {why}")
    return Scenario(path=path, name=name, description=description, python=python, tools=tools, repetitions=repetitions,
                    indexes=tuple(indexes.items()), projects=tuple(projects), wheelhouse=wheelhouse, layouts=layouts,
                    source="wheelhouse" if wheelhouse else source, synthetic=synthetic, checkpoints=checkpoints,
                    variants=variants, filesystems=filesystems, network=network, bytecode=bytecode,
                    system_packages=system, clean_cache=clean_cache)  # fmt: skip


def _source(reader: Reader, top: dict) -> str:
    if "source" not in top:
        return "mirror"
    node = top["source"][1]
    source = reader.scalar(node, "source", str)
    if source not in KNOWN_SOURCES:
        reader.fail(node, "source", f"unknown source {source!r} (known: {', '.join(KNOWN_SOURCES)})")
    if "wheelhouse" in top:
        reader.fail(node, "source", "a scenario with a wheelhouse installs from it: leave source out")
    return source


def _indexes(reader: Reader, top: dict) -> dict[str, str]:
    indexes: dict[str, str] = {}
    if "indexes" not in top:
        return indexes
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
    return indexes


def _wheelhouse(reader: Reader, top: dict, base_dir: Path) -> str | None:
    if "wheelhouse" not in top:
        return None
    node = top["wheelhouse"][1]
    value = reader.scalar(node, "wheelhouse", str)
    folder = base_dir / value
    if not folder.is_dir():
        reader.fail(node, "wheelhouse", f"{value!r} is not a folder (resolved to {folder})")
    return str(folder.resolve())
