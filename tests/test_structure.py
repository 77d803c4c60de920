"""The shape of the code (docs/architecture.md): small functions and modules, imports at the top,
and tools named in one place. import-linter checks the layers (`nox -s lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

from harness.tools.registry import NAMES

HARNESS = Path(__file__).resolve().parents[1] / "harness"
MAX_FUNCTION_LINES, MAX_MODULE_LINES = 80, 500


def modules() -> list[tuple[Path, str, ast.Module]]:
    found = []
    for path in sorted(HARNESS.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.append((path.relative_to(HARNESS.parent), text, ast.parse(text)))
    return found


def functions(tree: ast.AST):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_function_over_80_lines_and_no_module_over_500():
    too_long = [f"{path}:{f.name} ({f.end_lineno - f.lineno + 1} lines)"
                for path, _, tree in modules() for f in functions(tree) if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES]
    too_big = [f"{path} ({text.count(chr(10))} lines)" for path, text, _ in modules() if text.count("\n") > MAX_MODULE_LINES]
    assert too_long == [] and too_big == []


def test_no_import_of_envbench_inside_a_function():
    """An import of envbench's own code inside a function hides a dependency (or a cycle) from
    the layers' check; third-party modules imported late to keep start-up light are fine."""
    inside = []
    for path, _, tree in modules():
        for function in functions(tree):
            for node in ast.walk(function):
                relative = isinstance(node, ast.ImportFrom) and node.level > 0
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if relative or any(name == "harness" or name.startswith("harness.") for name in names):
                    inside.append(f"{path}:{node.lineno} in {function.name}")
    assert inside == []


def test_tools_are_named_in_their_adapters_and_the_registry_only():
    """Adding a tool is one adapter file and one registry entry: no other module names a tool."""
    places = sorted({str(path) for path, _, tree in modules() for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and node.value in NAMES})  # fmt: skip
    assert places and all(place.startswith("harness/tools/") for place in places), places


# Keys only run.json has (its records' fields): read by key, they bypass the typed records.
RUN_JSON_KEYS = {"roots", "scope", "marginal_bytes", "exclusive_bytes", "statvfs", "fleet_bytes", "freed_bytes", "run_id",
                 "disk", "steps", "envs", "layouts", "links", "growth", "parts", "proved", "wall_s", "total_s",
                 "steps_s", "share"}  # fmt: skip


def keyed(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, key) of each `x["key"]` and `x.get("key")` with a run.json key."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            key = getattr(node.args[0], "value", None)
        else:
            continue
        if key in RUN_JSON_KEYS:
            found.append((node.lineno, key))
    return found


def test_run_json_is_read_through_its_records_only():
    """Outside harness/record/ (the records) and harness/sandbox/ (scripts that write the plain
    JSON the records read), nothing reads run.json's keys by string."""
    found = [f"{path}:{line} [{key!r}]" for path, _, tree in modules() for line, key in keyed(tree)
             if path.parts[1] not in ("record", "sandbox")]  # fmt: skip
    assert found == []


def test_every_check_here_can_fail():
    """Each rule above, on a module written to break it."""
    long_body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    tree = ast.parse(f"def f():\n{long_body}\n    from harness.tools import registry\n    return 'uv-project'\n")
    (function,) = functions(tree)
    assert function.end_lineno - function.lineno + 1 > MAX_FUNCTION_LINES
    assert any(isinstance(n, ast.ImportFrom) and n.module.startswith("harness.") for n in ast.walk(function))
    assert any(isinstance(n, ast.Constant) and n.value in NAMES for n in ast.walk(tree))
    assert sorted(keyed(ast.parse('unit["disk"]["roots"]\nrun.get("parts")'))) == [(1, "disk"), (1, "roots"), (2, "parts")]
