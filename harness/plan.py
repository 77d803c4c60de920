"""Plan: the cells of a run, in the order they are measured.

A cell is (tool, layout, project, state, repetition). In each repetition a tool starts from
an empty cache: its first project is `cold`, every later one `warm` (the cache the earlier
projects filled, no env of its own yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from .scenario import Project, Scenario

COLD, WARM = "cold", "warm"


@dataclass(frozen=True)
class Cell:
    tool: str
    layout: str
    project: Project
    state: str
    repetition: int  # 1-based


def plan(scenario: Scenario, tool: str, layout: str) -> list[list[Cell]]:
    """The cells of one tool, one list per repetition (each list starts on an empty cache)."""
    return [
        [Cell(tool, layout, project, COLD if i == 0 else WARM, repetition) for i, project in enumerate(scenario.projects)]
        for repetition in range(1, scenario.repetitions + 1)
    ]
