"""Just enough TOML writing for the project files adapters hand to tools.

Strings go through json.dumps: a JSON string (escapes included) is a valid TOML basic string.
Python's tomllib reads TOML but does not write it, and the files here are small and flat.
"""

from __future__ import annotations

import json
import re

BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    return name if BARE.match(name) else json.dumps(name)


def value(item) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return json.dumps(item)
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"no TOML for {item!r}")


def table(header: str, entries: dict) -> str:
    """`[header]` with one `key = value` per entry (a header "[name]" gives an array table)."""
    lines = [f"[{header}]"] + [f"{key(k)} = {value(v)}" for k, v in entries.items()]
    return "\n".join(lines) + "\n"


def document(*tables: str) -> str:
    return "\n".join(tables)


def project_table(project: str, requirements, python: str) -> str:
    """The PEP 621 [project] table the project-based tools (uv, Poetry, PDM) read.

    requires-python is the scenario's Python only (==3.11.*): lockers resolve for every Python the
    range admits, and with ">=3.11" Poetry refuses torch's closure because networkx excludes
    Python 3.14.1 (measured on seed.yaml), while the mirror serves wheels for 3.11 alone anyway.
    """
    requires_python = "==" + ".".join(python.split(".")[:2]) + ".*"
    entries = {"name": project, "version": "0.0.0", "requires-python": requires_python, "dependencies": list(requirements)}
    return table("project", entries)
