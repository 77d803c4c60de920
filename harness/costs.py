"""What a unit of work costs in wall time, estimated before anything runs (`envbench plan`).

The estimate walks the unit's plan (harness/plan.py: its fleet, then its time matrix) and charges
each cell by the tool's measured speed per GiB of the project's install set, plus what the
harness itself spends per env (proving it file by file, scanning, removing it). The speeds are
fitted to committed runs of this machine kind, a small install set and the seed's 0.79 GiB
(see TOOL_COSTS): e.g. pip + venv's cold install is 0.9 s plus 36.2 s per GiB, uv's warm one
0.06 s plus 0.33 s per GiB. They tell copying tools from linking ones, which is what
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
from .tools.variant import adapter_for
from .units import Unit, split, units_of

GIB = 2**30


@dataclass(frozen=True)
class ToolCost:
    """Wall seconds of one cell's steps: a fixed part and a part per GiB of the install set."""

    cold_s: float  # install with an empty cache (cold, locked): fixed ...
    cold_s_per_gib: float  # ... and per GiB
    warm_s: float  # install with the cache filled (warm, warm+locked)
    warm_s_per_gib: float
    lock_s: float  # one lock step
    other_s: float  # the cell's other steps (making the venv)


# Fitted through two committed runs of this machine kind, a small and a large install set: smoke
# (results/smoke-20261124T005024Z, 2.2 MiB; trio-20261124T150204Z, 75 MiB, for pip-tools, which
# smoke lacks) and the seed (results/seed-20261201, 0.79 GiB): means over every cell of each kind.
TOOL_COSTS = {
    "pip-venv": ToolCost(0.91, 36.2, 0.85, 30.54, 0.00, 3.27),
    "virtualenv": ToolCost(1.62, 27.6, 1.51, 24.37, 0.00, 0.85),
    "pip-tools": ToolCost(4.97, 37.5, 5.21, 28.63, 1.33, 3.32),
    "uv": ToolCost(0.14, 5.7, 0.06, 0.33, 0.00, 0.02),
    "uv-project": ToolCost(0.18, 5.5, 0.06, 0.12, 0.12, 0.00),
    "poetry": ToolCost(0.89, 13.0, 0.83, 10.62, 0.86, 1.18),
    "pdm": ToolCost(0.80, 11.8, 0.81, 10.08, 0.97, 0.42),
    "pipenv": ToolCost(2.91, 28.0, 1.81, 25.71, 2.57, 0.00),
    "hatch": ToolCost(3.37, 26.9, 2.48, 25.92, 0.00, 0.00),
}
# Never measured here (no binary, no channel): charged as a copying tool, the dearer guess.
UNMEASURED = ToolCost(1.0, 36.2, 1.0, 30.54, 2.00, 1.00)
# The harness per env of the fleet: proof (every RECORD file hashed), scan and removal. The seed
# run: probe 1,962 s + scan 94 s + reset 361 s over 180 envs of 0.79 GiB; smoke's 24 envs of a
# few MiB took 1.1 s each for the same.
HARNESS_S_PER_ENV = 1.1
HARNESS_S_PER_ENV_GIB = 16.9
UNIT_S = 2.0  # a unit's sandbox made and removed, its tool's version asked (smoke: 16.7 s over 8 units)
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
    return guessed_sizes(scenario)


def guessed_sizes(scenario: Scenario) -> Sizes:
    return Sizes({p.name: GUESS_BYTES_PER_DEPENDENCY * len(p.dependencies) for p in scenario.projects}, "guessed")


def unit_cost(scenario: Scenario, unit: Unit, sizes: Sizes, lockable: bool) -> float:
    """Estimated wall seconds of UNIT, harness included."""
    cost = TOOL_COSTS.get(adapter_for(scenario, unit.tool).venv_name(), UNMEASURED)
    private = unit.filesystem != ENGINE
    total = UNIT_S + (MKFS_S if private else 0.0)
    for cell in plan(scenario, unit.tool, unit.key, lockable):
        gib = sizes.by_project[cell.project.name] / GIB
        if cell.state in (COLD, LOCKED):
            install = cost.cold_s + cost.cold_s_per_gib * gib
        else:
            install = cost.warm_s + cost.warm_s_per_gib * gib
        locks = cost.lock_s if lockable and cell.state in (COLD, "warm") else 0.0
        total += install + locks + cost.other_s + CELL_S + (STATVFS_S if private else 0.0)
        if cell.fleet:
            total += HARNESS_S_PER_ENV + HARNESS_S_PER_ENV_GIB * gib
    return total


def lockable(scenario: Scenario, tool: str) -> bool:
    return adapter_for(scenario, tool).lock_file is not None


def split_costs(scenario: Scenario) -> dict[Unit, float]:
    """Each unit's cost for splitting into shards: from the scenario alone (sizes guessed per
    dependency, never a local mirror's), so every machine computes the same split."""
    sizes = guessed_sizes(scenario)
    return {unit: unit_cost(scenario, unit, sizes, lockable(scenario, unit.tool)) for unit in units_of(scenario)}


def shards(scenario: Scenario, count: int) -> list[list[Unit]]:
    return split(units_of(scenario), split_costs(scenario), count)
