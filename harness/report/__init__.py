"""Reports: tables, CSV and pyperf JSON, all derived from run.json alone.

`envbench report RUN_DIR` calls write_all() again on an old run, so nothing here may depend on
anything but the record.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyperf

from harness.record.links import link_mode_of
from harness.record.model import Run
from harness.record.run import load, write_atomic
from harness.report.charts import write_charts
from harness.report.claims import published_files, verdicts_for_run
from harness.report.html import report_html
from harness.report.stats import timing_benchmarks, timing_rows
from harness.report.table import markdown
from harness.report.tables import heading, report_tables

DISK_FIELDS = [
    "tool",
    "layout",
    "scope",
    "files",
    "apparent_bytes",
    "physical_bytes",
    "naive_bytes",
    "exclusive_bytes",
    "hardlinked_files",
    "symlinked_files",
    "copied_files",
    "inodes",
]
TIMING_FIELDS = [
    "tool",
    "layout",
    "project",
    "state",
    "operation",
    "repetition",
    "wall_s",
    "user_s",
    "sys_s",
    "max_rss_kib",
    "exit_code",
    "requests",
    "fetched_bytes",
]
PACKAGE_FIELDS = ["tool", "project", "name", "version", "sha256", "installed_bytes"]
TOOL_FIELDS = ["tool", "version", "link_mode", "status", "reason"]


def _csv(rows: list[dict], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def disk_rows(run: Run) -> list[dict]:
    rows = []
    for tool, layout, unit in run.units():
        disk = unit.disk
        if not disk:
            continue
        total = disk.total
        rows.append(
            {
                "tool": tool,
                "layout": layout,
                "scope": "total",
                "files": total.files,
                "apparent_bytes": total.apparent_bytes,
                "physical_bytes": total.physical_bytes,
                "naive_bytes": total.naive_bytes,
                "exclusive_bytes": total.exclusive_bytes,
                "hardlinked_files": total.hardlinked_files,
                "symlinked_files": total.symlinks,
                "copied_files": total.single_files,
                "inodes": total.inodes,
            }
        )
        for root in disk.roots:
            rows.append(
                {
                    "tool": tool,
                    "layout": layout,
                    "scope": root.scope,
                    "files": root.files,
                    "apparent_bytes": root.apparent_bytes,
                    "physical_bytes": root.physical_bytes,
                    "naive_bytes": root.physical_bytes,
                    "exclusive_bytes": root.exclusive_bytes,
                    "hardlinked_files": root.links.hardlinked,
                    "symlinked_files": root.symlinks,
                    "copied_files": root.links.count("unique"),
                    "inodes": root.inodes,
                }
            )
    return rows


def package_rows(run: Run) -> list[dict]:
    """What each env holds, from the first layout a tool made envs in (layouts change how files
    are stored, not which packages are installed)."""
    rows = []
    for tool, info in run.tools.items():
        made = next((unit for unit in info.layouts.values() if unit.envs), None)
        for project, env in (made.envs if made else {}).items():
            rows += [{"tool": tool, "project": project, **package.to_json()} for package in env.packages]
    return rows


def tool_rows(run: Run) -> list[dict]:
    rows = []
    for tool, info in run.tools.items():
        modes = {layout: mode for layout, unit in info.layouts.items() if (mode := link_mode_of(unit))}
        link_mode = (
            "; ".join(f"{layout}: {mode}" for layout, mode in modes.items()) if len(modes) > 1 else "".join(modes.values())
        )
        rows.append(
            {
                "tool": tool,
                "version": info.version or "",
                "link_mode": link_mode,
                "status": info.status,
                "reason": info.reason,
            }
        )
    return rows


def write_all(run_dir: Path, claim_files: list[Path] | None = None) -> Run:
    """(Re)write every derived output of RUN_DIR from its run.json; return the run.

    claim_files: published claims to judge in report.html (default: claims/*.yaml
    when there is such a folder); only claims about this run's scenario are shown.
    """
    run_dir = Path(run_dir)
    run = load(run_dir)
    write_atomic(run_dir / "tools.csv", _csv(tool_rows(run), TOOL_FIELDS))
    write_atomic(run_dir / "disk.csv", _csv(disk_rows(run), DISK_FIELDS))
    write_atomic(run_dir / "timings.csv", _csv([step.to_json() for step in timing_rows(run)], TIMING_FIELDS))
    packages = package_rows(run)
    write_atomic(run_dir / "packages.csv", _csv(packages, PACKAGE_FIELDS))
    tables = report_tables(run, packages)
    write_atomic(run_dir / "tables.md", "\n".join([heading(run), *(markdown(t) for t in tables)]))
    benchmarks = timing_benchmarks(run)
    target = run_dir / "timings.pyperf.json"
    if benchmarks:
        pyperf.BenchmarkSuite(benchmarks).dump(str(target), replace=True)
    elif target.exists():
        target.unlink()
    charts = write_charts(run, run_dir / "charts")
    verdicts = verdicts_for_run(run, published_files() if claim_files is None else claim_files)
    write_atomic(run_dir / "report.html", report_html(run, tables, charts, verdicts, str(run_dir)))
    return run
