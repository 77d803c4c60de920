"""`envbench run --requirements FILE` (or --pyproject): the scenario of N copies of one project.

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

from .settings import envbench_home

DEFAULT_PYTHON = "3.11"  # the images' first Python (envbench image build)


def project_name(kind: str, path: Path) -> str:
    """[a-z0-9-] name of the project: a pyproject's own name, else the folder the file is in."""
    name = ""
    if kind == "pyproject":
        try:
            name = str(tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get("name", ""))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            name = ""  # the scenario's reading of the file says what is wrong with it
    name = name or path.resolve().parent.name
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "project"


def python_for(kind: str, path: Path) -> str:
    """The first Python the images have that a pyproject's requires-python admits, else 3.11."""
    if kind != "pyproject":
        return DEFAULT_PYTHON
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        wanted = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get("requires-python")
        admitted = SpecifierSet(wanted) if wanted else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, InvalidSpecifier):
        return DEFAULT_PYTHON
    if admitted is None:
        return DEFAULT_PYTHON
    from .images import SUITES  # the Pythons an image can be built with (their Debian suites)

    return next((v for v in sorted(SUITES) if admitted.contains(v + ".0")), DEFAULT_PYTHON)


def scenario_text(kind: str, file: str, projects: int = 1, tools: tuple[str, ...] = (), python: str | None = None,
                  sources: tuple[tuple[str, str], ...] = (), groups: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The YAML of N copies of the project FILE describes (KIND: requirements or pyproject)."""
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
