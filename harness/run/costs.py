"""What a unit of work costs in wall time, estimated before anything runs (`envbench plan`).

The estimate walks the unit's plan (harness/run/plan.py: its fleet, then its time matrix) and charges
each cell by the tool's measured speed per GiB of the project's install set, plus what the
harness itself spends per env (proving it file by file, scanning, removing it). The speeds are
fitted to committed runs of this machine kind, a small install set and the seed's 0.79 GiB
(each tool's ToolCost in harness/tools/registry.py): e.g. pip + venv's cold install is 0.9 s
plus 36.2 s per GiB, uv's warm one 0.06 s plus 0.33 s per GiB. They tell copying tools from linking ones, which is what
balancing shards needs; they are not a measurement, and `plan` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.record.model import Mirror
from harness.record.states import COLD, LOCKED
from harness.run import diskspace
from harness.run.filesystems import ENGINE
from harness.run.plan import plan
from harness.run.units import Unit, split, units_of
from harness.scenario.model import Scenario
from harness.settings.home import envbench_home
from harness.tools.registry import adapter_for, cost_of

GIB = 2**30


# The harness per env of the fleet: proof (every RECORD file hashed), scan and removal, fitted to
# the seed's and smoke's committed runs as the tools' costs are.
HARNESS_S_PER_ENV = 1.1
HARNESS_S_PER_ENV_GIB = 16.9
UNIT_S = 2.0  # a unit's sandbox made and removed, its tool's version asked
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
        closure = Mirror.from_json(json.loads(path.read_text(encoding="utf-8")))
        listed = {(tuple(s.dependencies), tuple(sorted(s.sources.items()))) for s in closure.projects}
        if wanted <= listed:
            pythons = {p.name: scenario.python_of(p) for p in scenario.projects}
            sets = diskspace.install_sets(closure, scenario.projects, pythons)
            unpacked = [sum(f.unpacked for f in files) for files in sets]
            return Sizes({p.name: size for p, size in zip(scenario.projects, unpacked, strict=True)}, str(path))
    return guessed_sizes(scenario)


def guessed_sizes(scenario: Scenario) -> Sizes:
    return Sizes({p.name: GUESS_BYTES_PER_DEPENDENCY * len(p.dependencies) for p in scenario.projects}, "guessed")


def unit_cost(scenario: Scenario, unit: Unit, sizes: Sizes, lockable: bool) -> float:
    """Estimated wall seconds of UNIT, harness included."""
    return unit_setup_s(unit) + sum(cell_costs(scenario, unit, sizes, lockable))


def unit_setup_s(unit: Unit) -> float:
    """What a unit costs besides its cells: its sandbox, and a private file system's making."""
    return UNIT_S + (MKFS_S if unit.filesystem != ENGINE else 0.0)


def cell_costs(scenario: Scenario, unit: Unit, sizes: Sizes, lockable: bool) -> list[float]:
    """Estimated wall seconds of each cell of UNIT's plan, in plan order, harness included."""
    cost = cost_of(adapter_for(scenario, unit.tool))
    private = unit.filesystem != ENGINE
    found = []
    for cell in plan(scenario, unit.tool, unit.key, lockable):
        gib = sizes.by_project[cell.project.name] / GIB
        if cell.state in (COLD, LOCKED):
            install = cost.cold_s + cost.cold_s_per_gib * gib
        else:
            install = cost.warm_s + cost.warm_s_per_gib * gib
        locks = cost.lock_s if lockable and cell.state in (COLD, "warm") else 0.0
        seconds = install + locks + cost.other_s + CELL_S + (STATVFS_S if private else 0.0)
        found.append(seconds + (HARNESS_S_PER_ENV + HARNESS_S_PER_ENV_GIB * gib if cell.fleet else 0.0))
    return found


def lockable(scenario: Scenario, tool: str) -> bool:
    return adapter_for(scenario, tool).lock_file is not None


def split_costs(scenario: Scenario) -> dict[Unit, float]:
    """Each unit's cost for splitting into shards: from the scenario alone (sizes guessed per
    dependency, never a local mirror's), so every machine computes the same split."""
    sizes = guessed_sizes(scenario)
    return {unit: unit_cost(scenario, unit, sizes, lockable(scenario, unit.tool)) for unit in units_of(scenario)}


def shards(scenario: Scenario, count: int, layouts: tuple[str, ...] | None = None) -> list[list[Unit]]:
    """COUNT shards of the units that LAYOUTS (the backend's, None: all) can run, balanced by
    cost. The units it cannot run (the local backend's split-volume) go to the first shard, which
    records them unavailable as an unsharded run does: merged, the shards are that run."""
    units = units_of(scenario)
    runnable = [unit for unit in units if layouts is None or unit.layout in layouts]
    chosen = split(runnable, split_costs(scenario), count)
    order = {unit: i for i, unit in enumerate(units)}
    chosen[0] = sorted([*chosen[0], *(unit for unit in units if unit not in runnable)], key=order.__getitem__)
    return chosen
