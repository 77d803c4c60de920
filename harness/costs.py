"""What a unit of work costs in wall time, estimated before anything runs (`envbench plan`).

The estimate walks the unit's plan (harness/plan.py: its fleet, then its time matrix) and charges
each cell by the tool's measured speed per GiB of the project's install set, plus what the
harness itself spends per env (proving it file by file, scanning, removing it). The speeds are
fitted to the committed reference run `results/seed-20261201/` (20 projects with torch, 0.79 GiB
unpacked each, on this machine kind): e.g. pip + venv's cold install took 29.7 s there (37.4
s/GiB), uv's warm install 0.33 s. They tell copying tools from linking ones, which is what
balancing shards needs; they are not a measurement, and `plan` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import diskspace, mirror
from .filesystems import ENGINE
from .plan import COLD, LOCKED, plan
from .scenario import Scenario
from .settings import envbench_home
from .units import Unit, split, units_of

GIB = 2**30


@dataclass(frozen=True)
class ToolCost:
    cold_s_per_gib: float  # install with an empty cache (cold, locked)
    warm_s_per_gib: float  # install with the cache filled (warm, warm+locked)
    lock_s: float  # one lock step
    fixed_s: float  # the other steps of a cell (making the venv)


# Fitted to results/seed-20261201 (means over every cell of each kind; see the module docstring).
TOOL_COSTS = {
    "pip-venv": ToolCost(37.4, 31.60, 0.00, 2.65),
    "virtualenv": ToolCost(29.7, 26.27, 0.00, 0.35),
    "pip-tools": ToolCost(43.8, 35.19, 1.79, 3.04),
    "uv": ToolCost(5.9, 0.41, 0.00, 0.01),
    "uv-project": ToolCost(5.7, 0.19, 0.20, 0.00),
    "poetry": ToolCost(14.1, 11.67, 0.96, 0.71),
    "pdm": ToolCost(12.9, 11.10, 1.31, 0.35),
    "pipenv": ToolCost(31.6, 27.98, 2.44, 0.00),
    "hatch": ToolCost(31.2, 29.04, 0.00, 0.00),
}
# Never measured here (no binary, no channel): charged as a copying tool, the dearer guess.
UNMEASURED = ToolCost(37.4, 31.60, 2.00, 1.00)
# The harness per env of the fleet: proof (every RECORD file hashed), scan and removal. Same seed
# run: probe 1,962 s + scan 94 s + reset 361 s over 180 envs of 0.79 GiB.
HARNESS_S_PER_ENV_GIB = 16.9
CELL_S = 0.3  # one engine round trip per cell (the seed run's "cell" account over its cells)
STATVFS_S = 1.5  # two settled statvfs readings per cell on a private file system
MKFS_S = 5.0  # making, mounting and removing a private file system
# With no mirror resolved yet, a dependency is guessed at this many unpacked bytes.
GUESS_BYTES_PER_DEPENDENCY = 50 * 2**20


@dataclass(frozen=True)
class Sizes:
    """Each project's install set in bytes (unpacked), and where the figures came from."""

    by_project: dict[str, int]
    source: str  # the mirror's closure.json, or "guessed"


def project_sizes(scenario: Scenario, mirrors: Path | None = None) -> Sizes:
    """From the newest local mirror of the scenario that lists every project's install set;
    without one, a guess per dependency (`envbench mirror` makes the mirror)."""
    folder = mirrors or envbench_home() / "mirrors"
    candidates = sorted(folder.glob(f"{scenario.name}-*/closure.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    wanted = {(tuple(p.dependencies), tuple(sorted(p.sources))) for p in scenario.projects}
    for path in candidates:
        record = json.loads(path.read_text(encoding="utf-8"))
        listed = {(tuple(s["dependencies"]), tuple(sorted(s["sources"].items()))) for s in record.get("projects", [])}
        if wanted <= listed:
            closure = {"files": mirror.files_of(record), "projects": record["projects"]}
            pythons = {p.name: scenario.python_of(p) for p in scenario.projects}
            sets = diskspace.install_sets(closure, scenario.projects, pythons)
            unpacked = [sum(f.get("unpacked_bytes", f["size"]) for f in files) for files in sets]
            return Sizes({p.name: size for p, size in zip(scenario.projects, unpacked, strict=True)}, str(path))
    return Sizes({p.name: GUESS_BYTES_PER_DEPENDENCY * len(p.dependencies) for p in scenario.projects}, "guessed")


def unit_cost(scenario: Scenario, unit: Unit, sizes: Sizes, lockable: bool) -> float:
    """Estimated wall seconds of UNIT, harness included."""
    cost = TOOL_COSTS.get(scenario.variant(unit.tool).tool if scenario.variant(unit.tool) else unit.tool, UNMEASURED)
    private = unit.filesystem != ENGINE
    total = MKFS_S if private else 0.0
    for cell in plan(scenario, unit.tool, unit.key, lockable):
        gib = sizes.by_project[cell.project.name] / GIB
        per_gib = cost.cold_s_per_gib if cell.state in (COLD, LOCKED) else cost.warm_s_per_gib
        locks = cost.lock_s if lockable and cell.state in (COLD, "warm") else 0.0
        total += per_gib * gib + locks + cost.fixed_s + CELL_S + (STATVFS_S if private else 0.0)
        if cell.fleet:
            total += HARNESS_S_PER_ENV_GIB * gib
    return total


def lockable(scenario: Scenario, tool: str) -> bool:
    from .tools import ADAPTERS

    declared = scenario.variant(tool)
    return ADAPTERS[declared.tool if declared else tool].lock_file is not None


def split_costs(scenario: Scenario) -> dict[Unit, float]:
    """Each unit's cost for splitting into shards: from the scenario alone (sizes guessed per
    dependency, never a local mirror's), so every machine computes the same split."""
    sizes = Sizes({p.name: GUESS_BYTES_PER_DEPENDENCY * len(p.dependencies) for p in scenario.projects}, "guessed")
    return {unit: unit_cost(scenario, unit, sizes, lockable(scenario, unit.tool)) for unit in units_of(scenario)}


def shards(scenario: Scenario, count: int) -> list[list[Unit]]:
    return split(units_of(scenario), split_costs(scenario), count)
