"""`envbench merge RUN_DIR... --out DIR`: one run from runs of the same scenario and mirror.

A fleet too long for one sitting is measured tool by tool (`envbench run --tools X`), then
merged. The parts must have the same scenario (every key but `tools`) and the same mirror
closure (every file's name, sha256, index and role), compared by hash; a tool may come from one
part only. The merged run.json keeps each part's machine and engine facts under `parts`, marks
each tool with the part that measured it, and every output of a run is written from it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from harness.record import conditions, logs
from harness.record import run as results
from harness.record.facts import Part, ScenarioCopy
from harness.record.model import Run, Tool
from harness.record.overhead import combined
from harness.record.run import load, now, write_atomic
from harness.run.units import Unit
from harness.tools.registry import NAMES as TOOL_NAMES


class MergeError(Exception):
    """Runs that cannot be merged: one line naming the run and what differs."""


def scenario_hash(run: Run) -> str:
    return results.scenario_hash(run.scenario.to_json(), with_tools=False)


def closure_hash(run: Run) -> str:
    return results.closure_hash(run.mirror)


def units_of_json(scenario: ScenarioCopy):
    """The unit keys of a run's scenario record, in run order (one tool suffices for the keys)."""
    layouts = ["same-volume"] if scenario.layouts is None else scenario.layouts
    return [Unit("", layout, fs) for layout in layouts
            for fs in (["engine"] if scenario.filesystems is None else scenario.filesystems)]  # fmt: skip


def _parts_of(run: Run, run_dir: Path) -> list[Part]:
    """A run's parts: itself, or the parts it was merged from."""
    if run.parts:
        return run.parts
    part = Part(run_id=run.run_id, dir=str(run_dir), command=run.command, started=run.started, finished=run.finished,
                status=run.status, machine=run.machine, backend=run.backend, tools=list(run.tools),
                # A shard's units (tool and key), so the report can say which part measured what.
                units=[f"{tool} {key}" for tool, key, _ in run.units()],
                shard=run.shard["shard"] if run.shard else None)  # fmt: skip
    return [part]


def _check_same(runs: list[tuple[Path, Run]]) -> None:
    (first_dir, first), *others = runs
    for run_dir, run in others:
        if scenario_hash(run) != scenario_hash(first):
            raise MergeError(
                f"{run_dir}: scenario {run.scenario.name} (hash {scenario_hash(run)}) differs from {first_dir}'s "
                f"(hash {scenario_hash(first)}): only runs of one scenario merge"
            )
        if closure_hash(run) != closure_hash(first):
            raise MergeError(
                f"{run_dir}: mirror closure {closure_hash(run)} differs from {first_dir}'s ({closure_hash(first)}): "
                "the packages were resolved differently"
            )


def _merge_tools(runs: list[tuple[Path, Run]]) -> dict[str, Tool]:
    """Every part's tools, each unit from one part only, marked with the part that measured it."""
    tools: dict[str, Tool] = {}
    owner: dict[tuple[str, str], Path] = {}
    for run_dir, run in runs:
        for name, info in run.tools.items():
            part = info.part or run.run_id
            # Shards split a tool's units between parts: a unit (tool, layout[@file system]) comes from one.
            for key in info.layouts:
                if (name, key) in owner:
                    raise MergeError(f"{run_dir}: tool {name} ({key}) is in {owner[name, key]} too: "
                                     "merge runs of different tools or shards")  # fmt: skip
                owner[name, key] = run_dir
            layouts = {key: replace(unit, part=unit.part or part) for key, unit in info.layouts.items()}
            if name not in tools:
                tools[name] = replace(info, part=part, layouts=layouts)
                continue
            if info.version and tools[name].version and info.version != tools[name].version:
                raise MergeError(f"{run_dir}: {name} {info.version} differs from {tools[name].version} in another part")
            tools[name].layouts.update(layouts)
            tools[name].version = tools[name].version or info.version
    return tools


def merged_record(runs: list[tuple[Path, Run]], out: Path, command: list[str]) -> Run:
    """The merged run (pure: no file is touched)."""
    _check_same(runs)
    first = runs[0][1]
    tools = _merge_tools(runs)
    failures, parts, concurrent = [], [], []
    for run_dir, run in runs:
        failures += [replace(f, part=f.part or run.run_id) for f in run.failures]
        parts += _parts_of(run, run_dir)
        concurrent += run.concurrent or []
    overhead = combined([run.overhead for _, run in runs])  # the share, a ratio, recomputed from the sums
    unit_order = {u.key: i for i, u in enumerate(units_of_json(first.scenario))}
    for info in tools.values():
        info.layouts = dict(sorted(info.layouts.items(), key=lambda item: unit_order.get(item[0], len(unit_order))))
        info.settle()
    # envbench's own tool order, as one run of every tool lists them; other names (variants) after.
    order = {name: i for i, name in enumerate(TOOL_NAMES)}
    tools = dict(sorted(tools.items(), key=lambda item: order.get(item[0], len(order))))
    statuses = {run.status for _, run in runs}
    network = None
    if first.network:  # the parts share the scenario, so its network: what each part's units measured
        measured = {unit: m for _, run in runs if run.network for unit, m in run.network.measured.items()}
        network = replace(first.network, measured=measured)
    merged = Run(run_id=out.name, command=command, started=min(run.started for _, run in runs),
               finished=max(run.finished or now() for _, run in runs), merged=now(),
               status="complete" if statuses == {"complete"} else sorted(statuses - {"complete"})[0],
               scenario=replace(first.scenario, tools=list(tools)), machine=first.machine,  # each part's own facts: parts
               backend=first.backend, mirror=first.mirror, tools=tools, failures=failures, overhead=overhead,
               concurrent=concurrent, parts=parts, network=network)  # fmt: skip
    merged.conditions = conditions.recorded(merged)  # the parts' together, as a run records its own
    return merged


def _copy_tool_files(run_dir: Path, out: Path, tool: str) -> None:
    """The tool's logs (plain or packed) and kept lock files, at the paths run.json names."""
    for folder in ("logs", "locks"):
        source = run_dir / folder / tool
        if source.is_dir():
            shutil.copytree(source, out / folder / tool, dirs_exist_ok=True)
    logs.unpack(run_dir, out, f"logs/{tool}/")


def merge(run_dirs: list[Path], out: Path, command: list[str]) -> Run:
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
        for tool in run.tools:
            _copy_tool_files(run_dir, out, tool)
    write_atomic(out / "run.json", json.dumps(record.to_json(), indent=1) + "\n")
    logs.pack(out)
    return record
