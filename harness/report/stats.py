"""Figures derived from run.json: per-tool summaries and timings as pyperf benchmarks.

Shared by the CSV/JSON writer (report.py) and the tables a person reads (tables.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyperf

from harness.record.links import link_mode_of
from harness.record.model import Run, Step, Unit

MIB = 1024 * 1024
GIB = 1024 * MIB
NOISY = 0.10  # stdev/mean above which a timing is flagged


def timing_rows(run: Run) -> list[Step]:
    return [step for _, _, unit in run.units() for step in unit.steps]


def _benchmark(name: str, values: list[float]) -> pyperf.Benchmark | None:
    if not values:
        return None
    runs = [pyperf.Run([v], metadata={"name": name, "unit": "second"}, collect_metadata=False) for v in values]
    return pyperf.Benchmark(runs)


@dataclass(frozen=True)
class Sample:
    """One operation of one cell: its steps' wall and CPU seconds summed, their peak RSS."""

    wall_s: float
    cpu_s: float
    max_rss_kib: int


def _first_project_cells(run: Run) -> dict[tuple, list[Step]]:
    """(tool, layout, state, repetition) -> the steps of that time-matrix cell (first project)."""
    first = run.projects[0].name
    cells: dict[tuple, list[Step]] = defaultdict(list)
    for step in timing_rows(run):
        if step.project == first:
            cells[(step.tool, step.layout, step.state, step.repetition)].append(step)
    return cells


def matrix_samples(run: Run, leave_out: tuple[str, ...] = ()) -> dict[tuple[str, str, str, str], list[Sample]]:
    """The time matrix: (tool, layout, state, operation) -> samples, first project only.

    Operation `lock` is the lock step; `install` is every other step of the cell (making the
    env and installing into it), so it reads as "time to a ready env once the lock exists".
    LEAVE_OUT names step operations kept out of the sums (`venv`: the span a source timed
    without making the env). A cell whose steps did not all succeed gives no sample.
    """
    cells = _first_project_cells(run)
    samples: dict[tuple, list[Sample]] = defaultdict(list)
    for (tool, layout, state, _), steps in cells.items():
        if not all(s.ok for s in steps):
            continue
        for operation in ("lock", "install"):
            chosen = [s for s in steps if (s.operation == "lock") == (operation == "lock") and s.operation not in leave_out]
            if chosen:
                samples[(tool, layout, state, operation)].append(
                    Sample(
                        wall_s=sum(s.wall_s for s in chosen),
                        cpu_s=sum(s.user_s + s.sys_s for s in chosen),
                        max_rss_kib=max(s.max_rss_kib for s in chosen),
                    )
                )
    return samples


def timing_benchmarks(run: Run) -> list[pyperf.Benchmark]:
    """One pyperf benchmark per (tool, layout, state, operation) of the time matrix."""
    benchmarks = []
    for (tool, layout, state, operation), samples in matrix_samples(run).items():
        bench = _benchmark(f"{tool}/{layout}/{state}/{operation}", [sample.wall_s for sample in samples])
        if bench:
            benchmarks.append(bench)
    return benchmarks


def ready_env_samples(run: Run) -> dict[tuple[str, str, str], list[float]]:
    """(tool, layout, state) -> wall seconds of every step of each time-matrix cell (first project)."""
    cells = _first_project_cells(run)
    samples: dict[tuple, list[float]] = defaultdict(list)
    for (tool, layout, state, _), steps in sorted(cells.items(), key=lambda item: item[0][3]):
        if all(s.ok for s in steps):
            samples[(tool, layout, state)].append(sum(s.wall_s for s in steps))
    return samples


def env_times(unit: Unit) -> dict[str, list[float]]:
    """Time to a ready env (all its steps) per state, for projects whose steps all succeeded."""
    per_env: dict[tuple, list[Step]] = defaultdict(list)
    for step in unit.steps:
        per_env[(step.repetition, step.project, step.state)].append(step)
    times: dict[str, list[float]] = defaultdict(list)
    for (_, _, state), steps in per_env.items():
        if all(s.ok for s in steps) and any(s.operation == "install" for s in steps):
            times[state].append(sum(s.wall_s for s in steps))
    return times


def summaries(run: Run) -> list[Summary]:
    out = []
    envs = len(run.projects)
    for tool, layout, unit in run.units():
        info = run.tools[tool]
        disk = unit.disk
        total = cache = naive = ratio = marginal = None
        proved = sum(1 for env in unit.envs.values() if env.proved)
        # A tool that did not make every env would look cheap: its figures are not comparable.
        complete = proved == envs
        if disk and complete:
            # What the trees really occupy: on btrfs or XFS the union of their extents (a clone
            # counted once), elsewhere the inodes (older scans have only the inode figure).
            total = disk.total.unique
            naive = disk.total.naive_bytes
            ratio = naive / total if total else None
            cache = disk.cache_bytes(unique=True)
            projects = unit.project_roots()
            later = projects[1:] or projects
            marginal = sum(r.marginal_bytes for r in later) / len(later) if later else None
        times = env_times(unit) if complete else {}
        out.append(
            Summary(
                tool=tool,
                layout=layout,
                version=info.version or "",
                link_mode=link_mode_of(unit) or "",
                status=unit.status,
                reason=unit.reason,
                total_bytes=total,
                cache_bytes=cache,
                naive_bytes=naive,
                sharing_ratio=ratio,
                marginal_bytes=marginal,
                cold=_benchmark(f"{tool}/cold/env", times.get("cold", [])),
                warm=_benchmark(f"{tool}/warm/env", times.get("warm", [])),
                proved=proved,
                envs=envs,
            )
        )
    return out


@dataclass(frozen=True)
class Summary:
    """One row of the main table: what a tool cost for the whole scenario."""

    tool: str
    layout: str
    version: str
    link_mode: str
    status: str
    reason: str
    total_bytes: int | None
    cache_bytes: int | None
    naive_bytes: int | None
    sharing_ratio: float | None
    marginal_bytes: float | None  # mean over the projects after the first
    cold: pyperf.Benchmark | None  # time to a ready env: the first project
    warm: pyperf.Benchmark | None  # the later projects
    proved: int
    envs: int
