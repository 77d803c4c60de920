"""Where a run stands: its plan said before the first step, then unit k of n, cells done and the
time left, on a progress display (rich) below the step lines.

The time left is the plan's estimate (harness/run/costs.py) of what is still to do, scaled by
how long the work done so far took against its own estimate: a machine twice as slow as the
fitted one sees twice the estimate after its first cells, not at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from harness.run import costs
from harness.run.units import Unit
from harness.scenario.model import Scenario

GIB = costs.GIB
EVIDENCE_S = 60.0  # estimated seconds of done work before the scale is trusted


@dataclass
class _Estimate:
    """A unit's estimated seconds: its setup, then each cell in plan order."""

    setup_s: float
    cells_s: list[float]
    done: int = 0  # cells finished

    @property
    def left_s(self) -> float:
        return (self.setup_s if self.done == 0 else 0.0) + sum(self.cells_s[self.done:])


@dataclass
class RunProgress:
    """The estimates of a run's units, and what has been done of them."""

    units: list[Unit]
    estimates: dict[Unit, _Estimate]
    started: float = field(default_factory=lambda: time.monotonic())
    done_estimate_s: float = 0.0  # the estimate of the work finished so far
    current: int = 0  # 1-based number of the unit under way

    @classmethod
    def of(cls, scenario: Scenario, units: list[Unit], layouts: tuple[str, ...], kept=frozenset()) -> RunProgress:
        """The estimates of UNITS on a backend with LAYOUTS; KEPT: (tool, key) a resume keeps."""
        sizes = costs.project_sizes(scenario)
        estimates = {}
        for unit in units:
            runs = unit.layout in layouts and (unit.tool, unit.key) not in kept
            cells = costs.cell_costs(scenario, unit, sizes, costs.lockable(scenario, unit.tool)) if runs else []
            estimates[unit] = _Estimate(costs.unit_setup_s(unit) if runs else 0.0, cells)
        return cls(units, estimates)

    @property
    def cells(self) -> int:
        return sum(len(e.cells_s) for e in self.estimates.values())

    @property
    def cells_done(self) -> int:
        return sum(e.done for e in self.estimates.values())

    def start_unit(self, unit: Unit) -> None:
        self.current = self.units.index(unit) + 1

    def cell_done(self, unit: Unit) -> None:
        estimate = self.estimates[unit]
        if estimate.done < len(estimate.cells_s):
            self.done_estimate_s += estimate.cells_s[estimate.done] + (estimate.setup_s if estimate.done == 0 else 0.0)
            estimate.done += 1

    def skip_unit(self, unit: Unit) -> None:
        """A unit that will not run (kept from before a resume, unavailable, failed early)."""
        estimate = self.estimates[unit]
        estimate.done, estimate.setup_s = len(estimate.cells_s), 0.0

    def left_s(self) -> float:
        """The estimate of what is left, scaled by how the work done so far compared with its own."""
        left = sum(e.left_s for e in self.estimates.values())
        spent = time.monotonic() - self.started
        scale = spent / self.done_estimate_s if self.done_estimate_s > EVIDENCE_S else 1.0
        return left * scale

    def line(self) -> str:
        """Where the run stands, in a line (for logs, where no display is drawn)."""
        return (f"unit {self.current} of {len(self.units)}, {self.cells_done} of {self.cells} cells done, "
                f"about {_minutes(self.left_s())} left")  # fmt: skip

    def plan_text(self, needed_bytes: int | None) -> str:
        """The plan, said before the first step."""
        runnable = [u for u, e in self.estimates.items() if e.cells_s]
        disk = f", disk need about {needed_bytes / GIB:,.1f} GiB" if needed_bytes else ""
        return (f"plan: {len(self.units)} units ({len(runnable)} run on this backend), {self.cells} cells, "
                f"about {_minutes(self.left_s())}{disk} (estimates: `envbench plan` says how)")  # fmt: skip


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.0f} min" if seconds >= 90 else f"{seconds:,.0f} s"


class Display:
    """A progress bar of cells with the unit and the time left, drawn below the step lines where
    the console is a terminal; the step lines of a log carry the same words (RunProgress.line)."""

    def __init__(self, progress: RunProgress, console: Console):
        self.progress = progress
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("cells · {task.fields[left]}"), console=console, transient=True)  # fmt: skip
        self.task = self.bar.add_task("", total=progress.cells, left="")
        self.live = console.is_terminal

    def __enter__(self) -> Display:
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.bar.stop()

    def update(self) -> None:
        progress = self.progress
        self.bar.update(self.task, completed=progress.cells_done, left=f"about {_minutes(progress.left_s())} left",
                        description=f"unit {progress.current}/{len(progress.units)}")  # fmt: skip
