"""tables.md and the terminal table: what a person reads, rendered from run.json's figures.

Every figure carries its unit in the header and every table its legend; a figure that was not
measured says so instead of showing a number.
"""

from __future__ import annotations

from collections import defaultdict

import pyperf

from ..plan import LOCKED, STATES, WARM_LOCKED
from ..results import layouts
from .stats import MIB, NOISY, matrix_samples, summaries, timing_benchmarks


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
- **first env s / later envs s**: wall seconds to a ready env from no lock file and no env
  (every step: lock, env, install), mean ± stdev; **first** is the cold state (empty cache),
  **later** the warm state (the cache earlier installs filled): every later project of the
  fleet and the warm cells of the time matrix. ⚠ marks stdev above 10 % of the mean.
- **proved**: envs holding exactly what was asked and locked, every RECORD file intact (an
  import failing for a package's own needs is listed under Packages' own issues). A tool
  that did not make and prove every env shows "not measured" everywhere: a partial install
  would look cheap (see Failures).
"""


def _markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def timing_table(run: dict) -> list[list[str]]:
    """The time matrix: every state and operation of every tool that ran, "n/a" where the tool
    has no such operation or state, "not measured" where it has one but no run succeeded."""
    samples = matrix_samples(run)
    benchmarks = {bench.get_name(): bench for bench in timing_benchmarks(run)}
    rows = []
    for tool, layout, entry in layouts(run):
        # Runs older than the state matrix did not record their states: the steps show them.
        states = entry.get("states") or sorted({s["state"] for s in entry["steps"]}, key=STATES.index)
        if entry["status"] == "unavailable" or not states:
            continue
        lockable = LOCKED in states or any(s["operation"] == "lock" for s in entry["steps"])
        for state in STATES:
            for operation in ("lock", "install"):
                if state not in states or (operation == "lock" and (not lockable or state in (LOCKED, WARM_LOCKED))):
                    rows.append([tool, layout, state, operation, *["n/a"] * 6])
                    continue
                found = samples.get((tool, layout, state, operation), [])
                bench = benchmarks.get(f"{tool}/{layout}/{state}/{operation}")
                if not found or bench is None:
                    rows.append([tool, layout, state, operation, "0", *["not measured"] * 5])
                    continue
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
                        f"{min(values):.2f} – {max(values):.2f}",
                        f"{sum(x.cpu_s for x in found) / len(found):.2f}",
                        f"{max(x.max_rss_kib for x in found) / 1024:,.0f}",
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
    "min – max s",
    "CPU s (user+sys, mean)",
    "peak RSS MiB",
]
TIMING_LEGEND = """\
The time matrix of the scenario's first project, after pnpm's benchmark: **cold** (empty cache,
no lock file, no env), **warm** (cache kept; lock file and env removed), **locked** (lock file
kept; cache and env removed), **warm+locked** (cache and lock file kept; env removed).
**lock** is the tool's resolve-and-write-the-lock-file command; **install** is every other
step of that cell (making the env and installing into it). **n/a**: the tool has no such
operation or state (no lock file); **not measured**: it has one, but no run of it succeeded.
⚠ marks stdev above 10 % of the mean (a noisy cell). Peak RSS is the largest single process.
Every step of every project, the fleet's included, is in timings.csv.
"""


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


def growth_table(run: dict) -> list[list[str]]:
    """One row per checkpoint: the disk after the first N projects, and what each step added."""
    rows = []
    for tool, layout, entry in layouts(run):
        previous = None
        for point in entry.get("growth", []):
            added = "-"
            if previous is not None:
                step = (point["physical_bytes"] - previous["physical_bytes"]) / (point["projects"] - previous["projects"])
                added = mib(step)
            rows.append(
                [
                    tool,
                    layout,
                    str(point["projects"]),
                    mib(point["physical_bytes"]),
                    mib(point["cache_physical_bytes"]),
                    mib(point["naive_bytes"]),
                    added,
                ]
            )
            previous = point
    return rows


GROWTH_HEADERS = ["tool", "layout", "projects", "total MiB", "cache MiB", "naive MiB", "added MiB/project"]
GROWTH_LEGEND = """Each row is a scan made after the first N projects were installed (the scenario's
`checkpoints`, then all of them), in the last repetition. **added MiB/project**: the growth of
the total since the previous row, divided by the projects added.
"""


OVERHEAD_LEGEND = """\
**steps**: the tools' own wall time (what the tables above measure). The harness's parts:
**image** (making sure the Docker images exist), **mirror** (resolving, fetching and serving the
closure), **setup** (containers, tool versions), **cell** (clearing what each state says and
the engine round trip around each cell's steps), **probe** (importing every env), **scan**,
**reset** and **cleanup** (deleting trees and volumes), and **other**: whatever is left (the
harness's own bookkeeping). Target: other ≤ 3 % of steps.
"""


IMPORT_NEEDS_LEGEND = (
    "In envs the proof accepted (every distribution installed as locked): imports that failed for the "
    "package's own undeclared needs, and files two packages both ship (the one installed last wins, with "
    "any installer). They count against the packages, not the tools.\n"
)


def package_issues_table(run: dict) -> list[list[str]]:
    """The packages' own issues in proved envs, with the tools that saw each."""
    seen: dict[tuple[str, str, str], set[str]] = {}
    for tool, info in run["tools"].items():
        for entry in info.get("layouts", {}).values():
            for env in entry.get("envs", {}).values():
                for kind, key in (("import", "import_needs"), ("file clash", "clashes")):
                    for package, reason in (env.get(key) or {}).items():
                        seen.setdefault((package, kind, reason), set()).add(tool)
    return [[package, kind, reason.replace("|", "\\|"), ", ".join(sorted(tools))]
            for (package, kind, reason), tools in sorted(seen.items())]  # fmt: skip


def _last_lines(tail: str, count: int = 3) -> str:
    """The end of a failed step's output, where tools say why, on one table line."""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return " ⏎ ".join(lines[-count:]).replace("|", "\\|")[-400:]


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
        "## Time matrix (first project)\n",
        _markdown(TIMING_HEADERS, timing_table(run)),
        TIMING_LEGEND,
    ]
    growth = growth_table(run)
    if growth:
        parts += ["## How disk grows with projects\n", _markdown(GROWTH_HEADERS, growth), GROWTH_LEGEND]
    issues = package_issues_table(run)
    if issues:
        parts += ["## Packages' own issues\n", IMPORT_NEEDS_LEGEND, _markdown(["package", "kind", "what", "tools"], issues)]
    if run["failures"]:
        parts.append("## Failures\n")
        parts.append(
            _markdown(
                ["tool", "what", "project", "reason", "last output"],
                [
                    [f["tool"], f["what"], f.get("project", ""), f["reason"].replace("|", "\\|"), _last_lines(f.get("tail", ""))]
                    for f in run["failures"]
                ],  # fmt: skip
            )
        )
    overhead = run.get("overhead") or {}
    if overhead:
        parts.append("## Where the run's time went\n")
        steps = overhead.get("steps_s") or 0.0
        rows = [[k.removesuffix("_s"), f"{v:.2f}", f"{100 * v / steps:.1f} %" if steps else "-"] for k, v in overhead.items()]
        parts.append(_markdown(["part", "s", "share of steps"], rows))
        parts.append(OVERHEAD_LEGEND)
    return "\n".join(parts)
