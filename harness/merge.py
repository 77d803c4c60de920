"""`envbench merge RUN_DIR... --out DIR`: one run from runs of the same scenario and mirror.

A fleet too long for one sitting is measured tool by tool (`envbench run --tools X`), then
merged. The parts must have the same scenario (every key but `tools`) and the same mirror
closure (every file's name, sha256, index and role), compared by hash; a tool may come from one
part only. The merged run.json keeps each part's machine and engine facts under `parts`, marks
each tool with the part that measured it, and every output of a run is written from it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from .results import SCHEMA, load, now, write_atomic
from .scenario import KNOWN_TOOLS


class MergeError(Exception):
    """Runs that cannot be merged: one line naming the run and what differs."""


def scenario_hash(run: dict) -> str:
    scenario = {k: v for k, v in run["scenario"].items() if k != "tools"}
    return hashlib.sha256(json.dumps(scenario, sort_keys=True).encode()).hexdigest()[:16]


def closure_hash(run: dict) -> str:
    files = (run.get("mirror") or {}).get("files") or []
    keys = sorted((f["filename"], f["sha256"], f.get("index", ""), f.get("role", "install")) for f in files)
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]


def _parts_of(run: dict, run_dir: Path) -> list[dict]:
    """A run's parts: itself, or the parts it was merged from."""
    if run.get("parts"):
        return run["parts"]
    return [
        {
            "run_id": run["run_id"],
            "dir": str(run_dir),
            "command": run["command"],
            "started": run["started"],
            "finished": run["finished"],
            "status": run["status"],
            "machine": run["machine"],
            "backend": run["backend"],
            "tools": list(run["tools"]),
        }
    ]


def merged_record(runs: list[tuple[Path, dict]], out: Path, command: list[str]) -> dict:
    """The merged run.json (pure: no file is touched)."""
    (first_dir, first), *others = runs
    for run_dir, run in others:
        if scenario_hash(run) != scenario_hash(first):
            raise MergeError(
                f"{run_dir}: scenario {run['scenario']['name']} (hash {scenario_hash(run)}) differs from {first_dir}'s "
                f"(hash {scenario_hash(first)}): only runs of one scenario merge"
            )
        if closure_hash(run) != closure_hash(first):
            raise MergeError(
                f"{run_dir}: mirror closure {closure_hash(run)} differs from {first_dir}'s ({closure_hash(first)}): "
                "the packages were resolved differently"
            )
    tools: dict[str, dict] = {}
    owner: dict[str, Path] = {}
    failures, parts, overhead = [], [], {}
    for run_dir, run in runs:
        for name, info in run["tools"].items():
            if name in tools:
                raise MergeError(f"{run_dir}: tool {name} is in {owner[name]} too: merge runs of different tools")
            owner[name] = run_dir
            tools[name] = {**info, "part": info.get("part", run["run_id"])}
        failures += [{**f, "part": f.get("part", run["run_id"])} for f in run["failures"]]
        parts += _parts_of(run, run_dir)
        for key, value in (run.get("overhead") or {}).items():
            overhead[key] = overhead.get(key, 0.0) + value
    # envbench's own tool order, as one run of every tool lists them; other names (variants) after.
    order = {name: i for i, name in enumerate(KNOWN_TOOLS)}
    tools = dict(sorted(tools.items(), key=lambda item: order.get(item[0], len(order))))
    statuses = {run["status"] for _, run in runs}
    scenario = {**first["scenario"], "tools": list(tools)}
    return {
        "schema": SCHEMA,
        "run_id": out.name,
        "command": command,
        "started": min(run["started"] for _, run in runs),
        "finished": max(run["finished"] or now() for _, run in runs),
        "merged": now(),
        "status": "complete" if statuses == {"complete"} else sorted(statuses - {"complete"})[0],
        "scenario": scenario,
        "machine": first["machine"],  # each part's own facts are under parts
        "backend": first["backend"],
        "mirror": first.get("mirror"),
        "tools": tools,
        "failures": failures,
        "overhead": overhead,
        "parts": parts,
    }


def _copy_tool_files(run_dir: Path, out: Path, tool: str) -> None:
    """The tool's logs and kept lock files, at the same relative paths run.json names."""
    for folder in ("logs", "locks"):
        source = run_dir / folder / tool
        if source.is_dir():
            shutil.copytree(source, out / folder / tool, dirs_exist_ok=True)


def merge(run_dirs: list[Path], out: Path, command: list[str]) -> dict:
    """Merge RUN_DIRS into OUT (which must not hold a run yet) and return the merged run."""
    if len(run_dirs) < 2:
        raise MergeError("merge needs at least two runs")
    if (out / "run.json").exists():
        raise MergeError(f"{out}: already holds a run; choose another --out")
    runs = []
    for run_dir in run_dirs:
        if not (run_dir / "run.json").is_file():
            raise MergeError(f"{run_dir}: no run.json here")
        try:
            runs.append((run_dir, load(run_dir)))
        except ValueError as exc:
            raise MergeError(str(exc)) from None
    record = merged_record(runs, out, command)
    out.mkdir(parents=True, exist_ok=True)
    for run_dir, run in runs:
        for tool in run["tools"]:
            _copy_tool_files(run_dir, out, tool)
    write_atomic(out / "run.json", json.dumps(record, indent=1) + "\n")
    return record
