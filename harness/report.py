"""Reports: tables, CSV and pyperf JSON, all derived from run.json alone.

`envbench report RUN_DIR` calls write_all() again on an old run, so nothing here may depend on
anything but the record.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyperf

from .results import layouts, load, write_atomic

MIB = 1024 * 1024
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
]
PACKAGE_FIELDS = ["tool", "project", "name", "version", "sha256", "installed_bytes"]
TOOL_FIELDS = ["tool", "version", "link_mode", "status", "reason"]
NOISY = 0.10  # stdev/mean above which a timing is flagged


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


def _csv(rows: list[dict], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def disk_rows(run: dict) -> list[dict]:
    rows = []
    for tool, layout, entry in layouts(run):
        disk = entry.get("disk")
        if not disk:
            continue
        total = disk["total"]
        rows.append(
            {
                "tool": tool,
                "layout": layout,
                "scope": "total",
                "files": total["files"],
                "apparent_bytes": total["apparent_bytes"],
                "physical_bytes": total["physical_bytes"],
                "naive_bytes": total["naive_bytes"],
                "exclusive_bytes": total["exclusive_bytes"],
                "hardlinked_files": total["hardlinked_files"],
                "symlinked_files": total["symlinks"],
                "copied_files": total["single_files"],
            }
        )
        for root in disk["roots"]:
            links = root["links"]
            rows.append(
                {
                    "tool": tool,
                    "layout": layout,
                    "scope": root["scope"],
                    "files": root["files"],
                    "apparent_bytes": root["apparent_bytes"],
                    "physical_bytes": root["physical_bytes"],
                    "naive_bytes": root["physical_bytes"],
                    "exclusive_bytes": root["exclusive_bytes"],
                    "hardlinked_files": sum(
                        links[k]["count"] for k in ("hardlinked_cache", "hardlinked_roots", "hardlinked_elsewhere")
                    ),
                    "symlinked_files": root["symlinks"],
                    "copied_files": links["unique"]["count"],
                }
            )
    return rows


def timing_rows(run: dict) -> list[dict]:
    return [step for _, _, entry in layouts(run) for step in entry["steps"]]


def package_rows(run: dict) -> list[dict]:
    """What each env holds, from the first layout a tool made envs in (layouts change how files
    are stored, not which packages are installed)."""
    rows = []
    for tool, info in run["tools"].items():
        made = next((e for e in info["layouts"].values() if e["envs"]), None)
        for project, env in (made or {"envs": {}})["envs"].items():
            rows += [{"tool": tool, "project": project, **package} for package in env["packages"]]
    return rows


def tool_rows(run: dict) -> list[dict]:
    rows = []
    for tool, info in run["tools"].items():
        modes = {layout: e["link_mode"] for layout, e in info["layouts"].items() if e["link_mode"]}
        link_mode = (
            "; ".join(f"{layout}: {mode}" for layout, mode in modes.items()) if len(modes) > 1 else "".join(modes.values())
        )
        rows.append(
            {
                "tool": tool,
                "version": info["version"] or "",
                "link_mode": link_mode,
                "status": info["status"],
                "reason": info["reason"],
            }
        )
    return rows


def _benchmark(name: str, values: list[float]) -> pyperf.Benchmark | None:
    if not values:
        return None
    runs = [pyperf.Run([v], metadata={"name": name, "unit": "second"}, collect_metadata=False) for v in values]
    return pyperf.Benchmark(runs)


def timing_benchmarks(run: dict) -> list[pyperf.Benchmark]:
    """One pyperf benchmark per (tool, layout, state, operation), successful steps only."""
    groups: dict[str, list[float]] = defaultdict(list)
    for step in timing_rows(run):
        if step["exit_code"] == 0:
            groups[f"{step['tool']}/{step['layout']}/{step['state']}/{step['operation']}"].append(step["wall_s"])
    return [b for name, values in groups.items() if (b := _benchmark(name, values))]


def env_times(entry: dict) -> dict[str, list[float]]:
    """Time to a ready env (all its steps) per state, for projects whose steps all succeeded."""
    per_env: dict[tuple, list[dict]] = defaultdict(list)
    for step in entry["steps"]:
        per_env[(step["repetition"], step["project"], step["state"])].append(step)
    times: dict[str, list[float]] = defaultdict(list)
    for (_, _, state), steps in per_env.items():
        if all(s["exit_code"] == 0 for s in steps) and any(s["operation"] == "install" for s in steps):
            times[state].append(sum(s["wall_s"] for s in steps))
    return times


def summaries(run: dict) -> list[Summary]:
    out = []
    envs = len(run["scenario"]["projects"])
    for tool, layout, entry in layouts(run):
        info = run["tools"][tool]
        disk = entry.get("disk")
        total = cache = naive = ratio = marginal = None
        proved = sum(1 for env in entry["envs"].values() if env["proved"])
        # A tool that did not make every env would look cheap: its figures are not comparable.
        complete = proved == envs
        if disk and complete:
            total = disk["total"]["physical_bytes"]
            naive = disk["total"]["naive_bytes"]
            ratio = disk["total"]["sharing_ratio"]
            cache = sum(r["physical_bytes"] for r in disk["roots"] if r["scope"] == "cache")
            projects = [r for r in disk["roots"] if r["scope"] not in ("cache", "home")]
            later = projects[1:] or projects
            marginal = sum(r["marginal_bytes"] for r in later) / len(later) if later else None
        times = env_times(entry) if complete else {}
        out.append(
            Summary(
                tool=tool,
                layout=layout,
                version=info["version"] or "",
                link_mode=entry["link_mode"] or "",
                status=entry["status"],
                reason=entry["reason"],
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


def mib(value: float | None) -> str:
    return "not measured" if value is None else f"{value / MIB:,.1f}"


def seconds(bench: pyperf.Benchmark | None) -> str:
    if bench is None:
        return "not measured"
    mean = bench.mean()
    if bench.get_nvalue() < 2:
        return f"{mean:.2f} (n=1)"
    stdev = bench.stdev()
    flag = " ⚠" if mean and stdev / mean > NOISY else ""
    return f"{mean:.2f} ± {stdev:.2f}{flag}"


MAIN_HEADERS = [
    "tool",
    "layout",
    "version",
    "link mode",
    "status",
    "total MiB",
    "cache MiB",
    "naive MiB",
    "sharing ×",
    "marginal MiB/project",
    "first env s",
    "later envs s",
    "proved",
]


def main_table(run: dict) -> list[list[str]]:
    rows = []
    for s in summaries(run):
        rows.append(
            [
                s.tool,
                s.layout,
                s.version or "-",
                s.link_mode or "-",
                s.status,
                mib(s.total_bytes),
                mib(s.cache_bytes),
                mib(s.naive_bytes),
                "-" if s.sharing_ratio is None else f"{s.sharing_ratio:.2f}",
                mib(s.marginal_bytes),
                seconds(s.cold),
                seconds(s.warm),
                f"{s.proved}/{s.envs}",
            ]
        )
    return rows


MAIN_LEGEND = """\
- **total MiB**: physical bytes of the tool's cache and all project folders together, each
  inode counted once (equal to `du -sc -B1` over those folders).
- **cache MiB**: the tool's cache alone. **naive MiB**: the sum of `du` run on each folder
  alone, what a user adding up per-project sizes sees.
- **sharing ×**: naive / total; 1.00 means nothing is shared.
- **marginal MiB/project**: bytes only that project holds (found in no other folder), mean over
  every project after the first: what one more project costs.
- **first env s / later envs s**: wall seconds to a ready env (venv creation and install), mean ±
  stdev over repetitions; the first project starts on an empty cache (cold), later ones on the
  cache the earlier ones filled (warm). ⚠ marks stdev above 10 % of the mean.
- **proved**: envs whose requested packages import. A tool that did not make and prove every
  env shows "not measured" everywhere: a partial install would look cheap (see Failures).
"""


def _markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def timing_table(run: dict) -> list[list[str]]:
    cpu: dict[str, list[float]] = defaultdict(list)
    rss: dict[str, int] = defaultdict(int)
    for step in timing_rows(run):
        if step["exit_code"] == 0:
            name = f"{step['tool']}/{step['layout']}/{step['state']}/{step['operation']}"
            cpu[name].append(step["user_s"] + step["sys_s"])
            rss[name] = max(rss[name], step["max_rss_kib"])
    rows = []
    for bench in timing_benchmarks(run):
        name = bench.get_name()
        tool, layout, state, operation = name.split("/")
        values = bench.get_values()
        rows.append(
            [
                tool,
                layout,
                state,
                operation,
                str(len(values)),
                seconds(bench),
                f"{bench.median():.2f}",
                f"{min(values):.2f}",
                f"{max(values):.2f}",
                f"{sum(cpu[name]) / len(cpu[name]):.2f}",
                f"{rss[name] / 1024:,.0f}",
            ]
        )
    return rows


TIMING_HEADERS = [
    "tool",
    "layout",
    "state",
    "operation",
    "n",
    "wall s (mean ± stdev)",
    "median s",
    "min s",
    "max s",
    "CPU s (user+sys)",
    "peak RSS MiB",
]


def link_table(run: dict) -> list[list[str]]:
    rows = []
    for tool, layout, info in layouts(run):
        if not info.get("disk"):
            continue
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        reflinks_checked = False
        for root in info["disk"]["roots"]:
            if root["scope"] in ("cache", "home"):
                continue
            for name, entry in root["links"].items():
                if entry is None:
                    continue
                reflinks_checked |= name == "reflinked"
                sums[name][0] += entry["count"]
                sums[name][1] += entry["bytes"]

        def cell(name: str, sums=sums, checked=reflinks_checked) -> str:
            if name == "reflinked" and not checked:
                return "not checked (no reflinks on this file system)"
            count, size = sums[name]
            return f"{count:,} / {size / MIB:,.1f}"

        rows.append(
            [
                tool,
                layout,
                *(
                    cell(n)
                    for n in (
                        "hardlinked_cache",
                        "hardlinked_roots",
                        "hardlinked_elsewhere",
                        "unique",
                        "symlinks_out",
                        "reflinked",
                    )
                ),
            ]
        )
    return rows


LINK_HEADERS = [
    "tool",
    "layout",
    "hard-linked to cache",
    "hard-linked to other projects",
    "hard-linked elsewhere",
    "unique (copies)",
    "symlinks out of env",
    "shared extents",
]


def tables_markdown(run: dict) -> str:
    scenario = run["scenario"]
    parts = [
        f"# envbench run {run['run_id']}\n",
        f"Scenario **{scenario['name']}** ({len(scenario['projects'])} projects, Python {scenario['python']}): "
        f"{scenario['description']}\n",
        f"Backend: {run['backend']['name']}; layouts: {', '.join(scenario.get('layouts', []))}; status: {run['status']}; "
        f"started {run['started']}, finished {run['finished']}.\n",
        "## Per tool\n",
        _markdown(MAIN_HEADERS, main_table(run)),
        MAIN_LEGEND,
        "## How env files are shared\n",
        "Files (count / MiB physical) summed over every project folder.\n",
        _markdown(LINK_HEADERS, link_table(run)),
        "## Timings\n",
        "Wall seconds of each operation over every project and repetition with that state.\n",
        _markdown(TIMING_HEADERS, timing_table(run)),
    ]
    if run["failures"]:
        parts.append("## Failures\n")
        parts.append(
            _markdown(
                ["tool", "what", "project", "reason"],
                [[f["tool"], f["what"], f.get("project", ""), f["reason"].replace("|", "\\|")] for f in run["failures"]],
            )
        )
    overhead = run.get("overhead") or {}
    if overhead:
        parts.append("## Where the run's time went\n")
        parts.append(_markdown(["part", "s"], [[k.removesuffix("_s"), f"{v:.2f}"] for k, v in overhead.items()]))
    return "\n".join(parts)


def write_all(run_dir: Path) -> dict:
    """(Re)write every derived output of RUN_DIR from its run.json; return the run."""
    run_dir = Path(run_dir)
    run = load(run_dir)
    write_atomic(run_dir / "tools.csv", _csv(tool_rows(run), TOOL_FIELDS))
    write_atomic(run_dir / "disk.csv", _csv(disk_rows(run), DISK_FIELDS))
    write_atomic(run_dir / "timings.csv", _csv(timing_rows(run), TIMING_FIELDS))
    write_atomic(run_dir / "packages.csv", _csv(package_rows(run), PACKAGE_FIELDS))
    write_atomic(run_dir / "tables.md", tables_markdown(run))
    benchmarks = timing_benchmarks(run)
    target = run_dir / "timings.pyperf.json"
    if benchmarks:
        pyperf.BenchmarkSuite(benchmarks).dump(str(target), replace=True)
    elif target.exists():
        target.unlink()
    return run
