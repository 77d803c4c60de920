"""Plan: the cells of a run, in the order they are measured, and what each state clears.

A cell is (tool, layout, project, state, repetition); the states are pnpm's (harness/record/states.py).

Every repetition runs the states in that order on the scenario's first project (the time
matrix). Repetition 1 also makes every other project right after the first one's cold install,
each on the cache the earlier ones filled (warm): that pass, the fleet, is what the disk is
measured on. A scenario that cleans caches after the fleet (clean_cache) makes the other
projects after repetition 1's last state instead, so the cache its commands clean is the one the
fleet filled and no timed cell runs on a cleaned cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from harness.record.states import COLD, LOCKED, WARM, WARM_LOCKED, states_of
from harness.scenario.model import Project, Scenario


@dataclass(frozen=True)
class Cell:
    tool: str
    layout: str
    project: Project
    state: str
    repetition: int  # 1-based
    index: int  # the project's place in the scenario, 0-based
    fleet: bool = False  # part of the pass over every project that the disk is measured on


def plan(scenario: Scenario, tool: str, layout: str, lockable: bool) -> list[Cell]:
    """Every cell of one tool in one layout, in order."""
    first, others = scenario.projects[0], scenario.projects[1:]
    cells: list[Cell] = []
    for repetition in range(1, scenario.repetitions + 1):
        fleet = repetition == 1
        cells.append(Cell(tool, layout, first, COLD, repetition, 0, fleet))
        fleet_cells = [Cell(tool, layout, project, WARM, 1, i, True) for i, project in enumerate(others, start=1)]
        matrix = [Cell(tool, layout, first, state, repetition, 0) for state in states_of(lockable)[1:]]
        if fleet and scenario.clean_cache:
            cells += matrix + fleet_cells
        else:
            cells += (fleet_cells if fleet else []) + matrix
    return cells


def first_repetition_end(cells: list[Cell]) -> Cell:
    return [cell for cell in cells if cell.repetition == 1][-1]


def last_fleet_cell(cells: list[Cell]) -> Cell:
    return [cell for cell in cells if cell.fleet][-1]


def tree_plan(cell: Cell, project_dir: str, caches: tuple[str, ...], home: str, env_paths, lock_file, files) -> dict:
    """What to clear before CELL (harness/sandbox/tree.py's plan): exactly what its state says, no more.

    A project's files (pyproject.toml, Pipfile) are written when its folder is new: in the cold
    state and the first time the fleet reaches it.
    """
    inside = [str(PurePosixPath(project_dir, path)) for path in env_paths]
    lock = [str(PurePosixPath(project_dir, lock_file))] if lock_file else []
    new = cell.state == COLD or (cell.fleet and cell.index > 0)
    plan: dict = {"remove": [], "empty": [], "make": [], "files": {}}
    if cell.state == COLD:
        plan["empty"] = [*caches, home]
        plan["remove"] = [project_dir]
    elif cell.state == WARM:
        plan["remove"] = inside + lock
    elif cell.state == LOCKED:
        plan["empty"] = list(caches)
        plan["remove"] = inside
    elif cell.state == WARM_LOCKED:
        plan["remove"] = inside
    if new:
        plan["make"] = [project_dir]
        plan["files"] = {str(PurePosixPath(project_dir, name)): text for name, text in files.items()}
    return plan
