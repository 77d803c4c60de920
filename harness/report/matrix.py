"""The time matrix pivoted as pnpm's benchmark page shows it: rows (state, operation), a column per tool.

One table per layout. Cells are `mean ± stdev` wall seconds over the repetitions; ⚠ flags a
stdev above 10 % of the mean. Medians and min–max stay in timings.csv and the pyperf file.
"""

from __future__ import annotations

from harness.record.model import Run, Unit
from harness.record.states import LOCKED, STATES, WARM_LOCKED
from harness.report.machines import kinds, warning
from harness.report.stats import matrix_samples, timing_benchmarks
from harness.report.table import Table, seconds

OPERATIONS = ("lock", "install")
NA, NOT_MEASURED = "n/a", "not measured"

LEGEND = """\
The scenario's first project, after pnpm's benchmark: **cold** (empty cache, no lock file, no
env), **warm** (cache kept; lock file and env removed), **locked** (lock file kept; cache and env
removed), **warm+locked** (cache and lock file kept; env removed). **lock** is the tool's
resolve-and-write-the-lock-file command; **install** is every other step of that cell (making
the env and installing into it). Wall seconds, mean ± stdev over the repetitions; ⚠ marks a
stdev above 10 % of the mean (a noisy cell). **n/a**: the tool has no such operation or state;
**not measured**: it has one, but no run of it succeeded. Medians, min–max, CPU seconds and
peak RSS of every step are in timings.csv and timings.pyperf.json (`pyperf compare_to` reads it).
"""


def _has(entry: Unit, state: str, operation: str) -> bool:
    """Whether the tool has this state and operation at all (else the cell is n/a)."""
    states = entry.states or sorted({s.state for s in entry.steps}, key=STATES.index)
    if state not in states:
        return False
    if operation == "install":
        return True
    lockable = LOCKED in states or any(s.operation == "lock" for s in entry.steps)
    return lockable and state not in (LOCKED, WARM_LOCKED)


def matrix_tables(run: Run) -> list[Table]:
    samples = matrix_samples(run)
    benchmarks = {bench.get_name(): bench for bench in timing_benchmarks(run)}
    per_layout: dict[str, list[tuple[str, Unit]]] = {}
    for tool, layout, entry in run.units():
        if entry.status != "unavailable" and entry.steps:
            per_layout.setdefault(layout, []).append((tool, entry))
    kind, legend = kinds(run)
    tables = []
    for layout, tools in per_layout.items():
        rows = []
        for state in STATES:
            for operation in OPERATIONS:
                cells = []
                for tool, entry in tools:
                    if not _has(entry, state, operation):
                        cells.append(NA)
                        continue
                    bench = benchmarks.get(f"{tool}/{layout}/{state}/{operation}")
                    found = samples.get((tool, layout, state, operation), [])
                    cells.append(seconds(bench) if found and bench is not None else NOT_MEASURED)
                if any(c != NA for c in cells):
                    rows.append((state, operation, *cells))
        title = "Time matrix, s" + (f" ({layout})" if len(per_layout) > 1 or layout != "same-volume" else "")
        headers = [f"{tool} [{kind[tool, layout]}]" if (tool, layout) in kind else tool for tool, _ in tools]
        tables.append(Table.of(title, ("state", "operation", *headers), rows, LEGEND, warning(legend) if legend else ""))
    return tables
