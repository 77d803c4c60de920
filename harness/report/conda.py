"""The conda side: what each env's own interpreter costs, and the stand-in it was measured on.

A conda env carries its own Python (a package like any other, hard-linked from the package
cache) and gets its own rewritten copy of every file that holds the prefix; the scanner reads
each env's conda-meta records (scan.conda_packages) to say how many bytes are which. Figures
made on envbench's converted channel say so wherever they appear (`label`, `notes`).
"""

from __future__ import annotations

from harness.record.disk import CondaDist
from harness.record.model import Run
from harness.report.table import Table, mib

HEADERS = (
    "tool",
    "layout",
    "python",
    "interpreter MiB per env",
    "files per env",
    "hard-linked per env",
    "copied for the prefix per env",
    "own MiB per env",
    "all conda packages: own MiB per env",
)

LEGEND = """\
**interpreter MiB per env**: the `python` package's files in one env (executable, standard
library; sum of their sizes). **hard-linked per env**: of those, files with more than one link
(the package cache's and other envs'), with their share of the bytes. **copied for the prefix**:
files that hold the prefix, which the installer writes into each env as its own rewritten copy
(files, KiB). **own MiB per env**: what each env holds of the interpreter that no other env or
the cache shares: (its physical bytes after sharing − those linked to the cache) / envs.
**all conda packages**: the same for every package of the env together.
"""


def label(run: Run, tool: str) -> str:
    """TOOL as tables name it: a stand-in's figures carry the mark the notes explain."""
    return f"{tool} †" if tool in run.tools and run.tools[tool].stand_in else tool


def notes(run: Run) -> list[str]:
    """One line per tool measured on a stand-in: what was measured."""
    return [f"† **{tool}**: {info.stand_in}." for tool, info in run.tools.items() if info.stand_in]


def _per_env(rows: list[CondaDist]) -> dict:
    """Each figure summed over ROWS, per env (None: a scan before that figure was recorded)."""
    envs = max((row.envs for row in rows), default=0) or 1
    keys = ("installed_bytes", "files", "linked_files", "linked_bytes", "prefix_files", "prefix_bytes", "physical_bytes",
            "linked_out_bytes")  # fmt: skip
    sums = {key: [getattr(row, key) for row in rows] for key in keys}
    return {key: None if None in values else sum(values) / envs for key, values in sums.items()}


def _count(value: float | None) -> str:
    return "not measured" if value is None else f"{value:,.0f}"


def interpreter_table(run: Run) -> Table | None:
    rows = []
    for tool, layout, unit in run.units():
        scanned = unit.disk.conda_packages if unit.disk else None
        if not scanned:
            continue
        pythons = [row for row in scanned if row.name == "python"]
        if not pythons:
            continue
        python, everything = _per_env(pythons), _per_env(scanned)
        linked = "not measured"
        if python["linked_files"] is not None:
            share = python["linked_bytes"] / python["installed_bytes"] if python["installed_bytes"] else 0.0
            linked = f"{python['linked_files']:,.0f} ({share:.0%} of bytes)"
        rows.append((
            label(run, tool), layout, ", ".join(row.version for row in pythons), mib(python["installed_bytes"]),
            _count(python["files"]), linked,
            f"{python['prefix_files']:,.0f} ({python['prefix_bytes'] / 1024:,.1f} KiB)",
            mib(python["physical_bytes"] - python["linked_out_bytes"]),
            mib(everything["physical_bytes"] - everything["linked_out_bytes"]),
        ))  # fmt: skip
    if not rows:
        return None
    intro = "Each conda env holds its own Python; how much of it each env really costs."
    if notes(run):
        intro += " " + " ".join(notes(run))
    return Table.of("The interpreter in every conda env", HEADERS, rows, LEGEND, intro)
