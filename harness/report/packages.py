"""The largest distributions: what one costs in one env, and what it costs each tool's fleet.

Installed bytes come from packages.csv (the probe's sizes of each env's RECORD files); physical
bytes after sharing come from the disk scan (every inode of the distribution's RECORD files
counted once across the tool's envs: one copy when envs link a cache, one per env when they copy).
"""

from __future__ import annotations

from statistics import median

from harness.record.model import Run
from harness.report.table import Table, mib

LARGEST = 15

LEGEND = """\
**installed MiB per env**: the distribution's files as installed (sum of their sizes, median over
envs). **in envs**: how many envs hold it (per tool, when tools differ). **tool columns**:
physical MiB the distribution occupies across all of that tool's envs, each inode counted once
(hard links into a cache or between envs count one copy; copies count each). With N envs, a
tool that shares shows about one env's worth; one that copies about N times it (physical bytes
count whole file-system blocks, so one copy of a package of many small files exceeds its
installed bytes). "not measured":
the run's disk scan predates per-distribution accounting, or the tool made no envs.
"""


def package_table(run: Run, package_rows: list[dict]) -> Table | None:
    if not package_rows:
        return None
    sizes: dict[tuple[str, str], list[int]] = {}
    envs: dict[tuple[str, str], dict[str, int]] = {}
    for row in package_rows:
        key = (_canonical(row["name"]), row["version"])
        sizes.setdefault(key, []).append(int(row["installed_bytes"]))
        per_tool = envs.setdefault(key, {})
        per_tool[row["tool"]] = per_tool.get(row["tool"], 0) + 1
    columns = [(tool, layout, entry) for tool, layout, entry in run.units() if entry.envs]
    if not any(entry.disk and entry.disk.packages is not None for _, _, entry in columns):
        columns = []  # no tool's scan accounted per distribution: one note instead of a column each
    several = len({layout for _, layout, _ in columns}) > 1
    physical = {}
    for tool, layout, entry in columns:
        scanned = entry.disk.packages if entry.disk else None
        if scanned is not None:
            physical[(tool, layout)] = {(p.name, p.version): p.physical_bytes for p in scanned}
    largest = sorted(sizes, key=lambda key: (-median(sizes[key]), key))[:LARGEST]
    rows = []
    for key in largest:
        counts = sorted(set(envs[key].values()))
        held = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        cells = []
        for tool, layout, _ in columns:
            table = physical.get((tool, layout))
            cells.append("not measured" if table is None or key not in table else mib(table[key]))
        rows.append((key[0], key[1], mib(median(sizes[key])), held, *cells))
    headers = ("distribution", "version", "installed MiB per env", "in envs")
    headers += tuple(f"{tool} ({layout})" if several else tool for tool, layout, _ in columns)
    intro = f"The {len(rows)} largest distributions installed; physical MiB after sharing, per tool."
    if not columns:
        intro += " Physical MiB after sharing: not measured (this run's disk scans predate per-distribution accounting)."
    return Table.of("Largest distributions", headers, rows, LEGEND, intro)


def _canonical(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))
