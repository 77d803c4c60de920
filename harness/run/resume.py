"""`envbench run SCENARIO --resume RUN_DIR`: go on with a run that stopped, never start over.

run.json is rewritten after every cell, so a stopped run (Ctrl-C, TERM, a killed machine) holds
every cell that finished. The consistent point a run goes on from is the start of its first
unfinished unit (harness/run/units.py): finished units are kept as they are and skipped; a unit
that was running is discarded whole (its cells, failures and figures) and measured again on a
fresh sandbox, because its disk figures must come from a fleet its own cells made in one go and
its timed cells from caches in the state the plan says. So at most one unit's work is lost.

A resume is refused (one line, exit 2) when what the figures depend on changed since the run
began: the scenario (its every key, the tools and --projects/--repetitions included), the shard,
the tools image or a tool's version, or the mirror closure.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from harness.record.model import Mirror, Run
from harness.record.run import RunRecord, closure_hash, now, read, scenario_hash
from harness.run.units import Unit


class ResumeRefused(Exception):
    """The run cannot be resumed: one line naming the run and what changed."""


def open_run(run_dir: Path) -> RunRecord:
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise ResumeRefused(f"--resume {run_dir}: no run.json there")
    try:
        run = Run.from_json(read(path))
    except ValueError as exc:
        raise ResumeRefused(f"--resume {exc}") from None
    if run.parts:
        raise ResumeRefused(f"--resume {run_dir}: a merged run; resume each part's own run instead")
    return RunRecord(Path(run_dir), run)


def check_same(record: RunRecord, scenario_json: dict, shard: str | None) -> None:
    """Refuse when the scenario or the shard differ from what the run began with."""
    old, scenario_json = record.run.scenario.to_json(), json.loads(json.dumps(scenario_json))  # as run.json holds it
    if scenario_hash(old) != scenario_hash(scenario_json):
        changed = sorted(k for k in set(old) | set(scenario_json) if k != "path" and old.get(k) != scenario_json.get(k))
        raise ResumeRefused(
            f"--resume {record.out_dir}: the scenario changed since the run began ({', '.join(changed)}; hash "
            f"{scenario_hash(old)} → {scenario_hash(scenario_json)}): start a new run"
        )
    began = (record.run.shard or {}).get("shard")
    if began != shard:
        raise ResumeRefused(f"--resume {record.out_dir}: the run began as shard {began or 'none'}, not {shard or 'none'}")


def check_image(record: RunRecord, backend: dict) -> None:
    """The tools image is named by the hash of its inputs (the tools' pins): another name, other tools."""
    old, new, began = record.run.backend.get("image"), backend.get("image"), record.run.backend.get("name")
    if began != backend.get("name"):
        raise ResumeRefused(
            f"--resume {record.out_dir}: the run began on the {began} backend, "
            f"not {backend.get('name')}: pass --backend {began}"
        )
    if old != new:
        raise ResumeRefused(f"--resume {record.out_dir}: the tools image changed since the run began ({old} → {new})")


def check_version(record: RunRecord, tool: str, version: str | None, began_with: dict[str, str]) -> None:
    if tool in began_with and began_with[tool] != version:
        raise ResumeRefused(
            f"--resume {record.out_dir}: {tool} is {version} now, the run began with {began_with[tool]}: start a new run"
        )


def check_closure(record: RunRecord, began_with: str | None, mirror: Mirror) -> None:
    if began_with is not None and closure_hash(mirror) != began_with:
        raise ResumeRefused(
            f"--resume {record.out_dir}: the mirror closure changed since the run began ({began_with} → "
            f"{closure_hash(mirror)}): the packages were resolved differently; start a new run"
        )


def versions_of(record: RunRecord) -> dict[str, str]:
    return {name: info.version for name, info in record.run.tools.items() if info.version}


def finished_units(record: RunRecord) -> set[tuple[str, str]]:
    return {(tool, key) for tool, key, unit in record.run.units() if unit.finished}


def discard_unfinished(record: RunRecord) -> list[str]:
    """Drop every unit without a final status, with its failures; which ones (tool key)."""
    dropped = []
    run = record.run
    for tool, info in list(run.tools.items()):
        for key, unit in list(info.layouts.items()):
            if not unit.finished:
                del info.layouts[key]
                dropped.append(f"{tool} {key}")
                run.failures = [f for f in run.failures if not (f.tool == tool and f.layout == key)]
        if not info.layouts:
            del run.tools[tool]
        else:
            record.settle(tool)
    return dropped


def begin(record: RunRecord, command: list[str], units: list[Unit]) -> tuple[list[str], set[tuple[str, str]]]:
    """Make RECORD ready to go on: discard what did not finish and note the resume.
    Returns (discarded units, finished units)."""
    dropped = discard_unfinished(record)
    done = finished_units(record)
    record.run.resumes = record.run.resumes or []
    record.run.resumes.append(
        {"at": now(), "command": command, "status_before": record.run.status, "discarded": dropped,
         "kept": sorted(f"{tool} {key}" for tool, key in done),
         "remaining": [u.label() for u in units if (u.tool, u.key) not in done]}
    )  # fmt: skip
    record.run.status, record.run.finished = "running", None
    record.save()
    return dropped, done


def resume_command(scenario_path: str, out_dir: Path, backend: str) -> str:
    return shlex.join(["envbench", "run", scenario_path, "--resume", str(out_dir), "--backend", backend])
