"""`envbench run --requirements FILE` (or --pyproject, --lock): the scenario of N copies of one project.

The scenario is written out as a file (named by a hash of its text, so the same question gives
the same file) and printed, so it can be kept, edited and run again as `envbench run PATH`;
the file it reads is named by its absolute path, so the scenario runs from anywhere.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from harness.scenario.locks import uv_root
from harness.settings.home import envbench_home
from harness.settings.target import DEFAULT_PYTHON, SUITES

KINDS = ("requirements", "pyproject", "lock")  # the files `envbench run --KIND FILE` takes


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # the scenario's reading of the file says what is wrong with it


def project_name(kind: str, path: Path) -> str:
    """[a-z0-9-] name of the project: a pyproject's (or a uv.lock's project's) own name, else its folder's."""
    name = ""
    if kind == "pyproject":
        name = str(_toml(path).get("project", {}).get("name", ""))
    elif kind == "lock":
        packages = _toml(path).get("package", [])
        root = uv_root(packages) if isinstance(packages, list) else None
        name = str(packages[root].get("name", "")) if root is not None else ""
    name = name or path.resolve().parent.name
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "project"


def _requires_python(kind: str, path: Path) -> str | None:
    """What the file says of Python: requires-python (pyproject, uv.lock, pylock.toml) or Poetry's python-versions."""
    data = _toml(path) if kind != "requirements" else {}
    if kind == "pyproject":
        return data.get("project", {}).get("requires-python")
    return data.get("requires-python") or data.get("metadata", {}).get("python-versions")


def python_for(kind: str, path: Path) -> str:
    """The first Python the images have that the file's requires-python admits, else 3.11."""
    try:
        wanted = _requires_python(kind, path)
        admitted = SpecifierSet(str(wanted)) if wanted else None
    except InvalidSpecifier:  # Poetry's "^3.11" is not PEP 440: the default, or --python
        return DEFAULT_PYTHON
    if admitted is None:
        return DEFAULT_PYTHON
    return next((v for v in sorted(SUITES) if admitted.contains(v + ".0")), DEFAULT_PYTHON)


def scenario_text(kind: str, file: str, projects: int = 1, tools: tuple[str, ...] = (), python: str | None = None,
                  sources: tuple[tuple[str, str], ...] = (), groups: tuple[str, ...] = (),
                  system_packages: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The YAML of N copies of the project FILE describes (KIND: one of KINDS)."""
    path = Path(file)
    name = project_name(kind, path)
    group: dict = {"name": name, "count": projects, kind: str(path.resolve())}
    if groups:
        group["groups"] = list(groups)
    if sources:
        group["sources"] = dict(sources)
    scenario: dict = {
        "name": name,
        "description": f"{projects} copies of the project in {path.name}",
        "python": python or python_for(kind, path),
    }
    if tools:
        scenario["tools"] = list(tools)
    if system_packages:  # the scenario's reading checks each name
        scenario["system_packages"] = list(system_packages)
    scenario["projects"] = [group]
    return yaml.safe_dump(scenario, sort_keys=False, default_flow_style=False)


def save(text: str) -> Path:
    """Where the scenario is kept: envbench's home, named by the hash of its text."""
    folder = envbench_home() / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    name = yaml.safe_load(text)["name"]
    path = folder / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
