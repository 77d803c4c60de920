"""Units of work: (tool, layout, file system), the pieces a run is resumed and sharded by.

A unit is everything one tool does in one layout on one file system: its fleet, the disk scan of
that fleet and its time matrix. It is never cut in two, because its disk figures are taken on
the trees its own cells made. run.json records a unit under its tool and key (`same-volume`, or
`same-volume@xfs` on a private file system); a unit is finished when that entry has a final
status (ok, failed, unavailable: Unit.finished in harness/record/model.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.run.filesystems import ENGINE
from harness.scenario.model import Scenario


class ShardError(ValueError):
    """--shard K/N that is not one of N shards: one line."""


@dataclass(frozen=True, order=True)
class Unit:
    tool: str
    layout: str
    filesystem: str = ENGINE

    @property
    def key(self) -> str:
        """The unit's entry under its tool in run.json."""
        return self.layout if self.filesystem == ENGINE else f"{self.layout}@{self.filesystem}"

    def label(self) -> str:
        return f"{self.tool} {self.key}"


def units_of(scenario: Scenario) -> list[Unit]:
    """Every unit, in the order a run measures them (layout, then file system, then tool)."""
    return [Unit(tool, layout, fs) for layout in scenario.layouts for fs in scenario.filesystems for tool in scenario.tools]


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ShardError(f"--shard {text!r}: give K/N, e.g. 1/4")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard {text}: K must be 1 to N (N ≥ 1)")
    return Shard(index, count)


def split(units: list[Unit], costs: dict[Unit, float], count: int) -> list[list[Unit]]:
    """COUNT shards of UNITS balanced by COSTS: the dearest unit first, each to the shard with
    the least so far (ties: the lower shard), so the split is the same on every machine. Each
    shard keeps the run order of its units."""
    loads = [0.0] * count
    chosen: list[list[Unit]] = [[] for _ in range(count)]
    order = {unit: i for i, unit in enumerate(units)}
    for unit in sorted(units, key=lambda u: (-round(costs[u], 6), order[u])):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        chosen[lightest].append(unit)
        loads[lightest] += costs[unit]
    return [sorted(shard, key=order.__getitem__) for shard in chosen]
