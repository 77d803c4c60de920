"""tables.md and the terminal table: what a person reads, rendered from run.json's figures.

Every figure carries its unit in the header and every table its legend; a figure that was not
measured says so instead of showing a number.
"""

from __future__ import annotations

from collections import defaultdict

from harness.record import overhead
from harness.record.model import Run
from harness.report.answer import answer_table
from harness.report.cache import said_table, survival_table
from harness.report.conda import interpreter_table, label, notes
from harness.report.duplication import duplication_tables
from harness.report.filesystems import filesystem_table
from harness.report.fleet import fleet_tables
from harness.report.matrix import matrix_tables
from harness.report.packages import package_table
from harness.report.stats import MIB, summaries
from harness.report.table import Table, markdown, mib, seconds
from harness.report.traffic import index_line, traffic_table
from harness.settings.network import NetworkSpec

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


def main_table(run: Run) -> list[list[str]]:
    rows = []
    for s in summaries(run):
        rows.append(
            [
                label(run, s.tool),
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


def link_table(run: Run) -> list[list[str]]:
    rows = []
    for tool, layout, info in run.units():
        if not info.disk:
            continue
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        reflinks_checked = False
        for root in info.disk.project_roots():
            for name, entry in root.links.classes():
                if entry is None:
                    continue
                reflinks_checked |= name == "reflinked"
                sums[name][0] += entry.count
                sums[name][1] += entry.bytes

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


def growth_table(run: Run) -> list[list[str]]:
    """One row per checkpoint: the disk after the first N projects, and what each step added."""
    rows = []
    for tool, layout, entry in run.units():
        previous = None
        for point in entry.growth or []:
            added = "-"
            if previous is not None:
                step = (point.unique - previous.unique) / (point.projects - previous.projects)
                added = mib(step)
            rows.append(
                [
                    tool,
                    layout,
                    str(point.projects),
                    mib(point.unique),
                    mib(point.cache_physical_bytes),
                    mib(point.naive_bytes),
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
the engine round trip around each cell's steps), **probe** (proving every env, side by side, one
per core, while the envs the matrix no longer needs are removed), **scan**, **statvfs** (a
private file system's own counts), **reset** and **cleanup** (deleting trees and volumes), and
**other**: whatever is left (the harness's own bookkeeping). **harness in all**: the run's wall
time beside the steps'; target ≤ 10 % of steps (`benchmarks/overhead.py` measures it).
"""


IMPORT_NEEDS_LEGEND = (
    "In envs the proof accepted (every distribution installed as locked): imports that failed for the "
    "package's own undeclared needs, and files two packages both ship (the one installed last wins, with "
    "any installer). They count against the packages, not the tools. **seed kept**: a project that asks "
    "for pip, setuptools or wheel is served by the copy `venv` seeded when it satisfies the request, as pip "
    "leaves a satisfied requirement alone; the mirror's newer release is then not installed.\n"
)


def package_issues_table(run: Run) -> list[list[str]]:
    """The packages' own issues in proved envs, with the tools that saw each."""
    seen: dict[tuple[str, str, str], set[str]] = {}
    for tool, info in run.tools.items():
        for unit in info.layouts.values():
            for env in unit.envs.values():
                for kind, found in (("import", env.import_needs), ("file clash", env.clashes), ("seed kept", env.kept_seeds)):
                    for package, reason in (found or {}).items():
                        seen.setdefault((package, kind, reason), set()).add(tool)
    return [[package, kind, reason, ", ".join(sorted(tools))]
            for (package, kind, reason), tools in sorted(seen.items())]  # fmt: skip


def _last_lines(tail: str, count: int = 3) -> str:
    """The end of a failed step's output, where tools say why, on one table line."""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return " ⏎ ".join(lines[-count:])[-400:]


PARTS_LEGEND = """\
This run was merged (`envbench merge`) from runs of the same scenario and mirror closure made by
separate invocations; each tool's figures come from the part named here, measured on that
part's machine and engine.
"""


def parts_table(run: Run) -> Table | None:
    parts = run.parts
    if not parts:
        return None
    rows = [
        (p.run_id, ", ".join(p.tools), p.started, p.finished, p.machine.get("platform", "-"),
         f"{p.backend.get('name', '-')} {p.backend.get('engine_version', '')}".strip(), " ".join(p.command))
        for p in parts
    ]  # fmt: skip
    headers = ("part", "tools", "started", "finished", "machine", "backend", "command")
    return Table.of("Parts of this run", headers, rows, PARTS_LEGEND)


DISK_NEED_LEGEND = """\
**peak GB**: the most the file system's used bytes rose above where they stood when the tool
started (sampled every second and when its whole fleet existed, before the scan; anything else
writing to that file system counts too). **estimate GB**: the worst case `run` checks free space
against before any tool runs (harness/run/diskspace.py: each env a full copy of its project's
install set with its source compiled again, a cache of every wheel and its unpacked files),
without the reserve of 2 GB it adds. The estimate must stay above every peak.
"""


def disk_need_table(run: Run) -> Table | None:
    estimate = (run.mirror.estimate if run.mirror else None) or {}
    peaks = [(tool, layout, unit.disk_peak_bytes) for tool, layout, unit in run.units() if unit.disk_peak_bytes is not None]
    if not peaks or "envs_bytes" not in estimate:
        return None
    worst = estimate["envs_bytes"] + estimate["cache_bytes"]
    rows = [(tool, layout, f"{peak / 1e9:,.2f}", f"{worst / 1e9:,.2f}", f"{peak / worst:.0%}") for tool, layout, peak in peaks]
    intro = f"Free at the start: {estimate['free_bytes'] / 1e9:,.1f} GB at {estimate['path']}."
    return Table.of("Disk the run needed", ("tool", "layout", "peak GB", "estimate GB", "peak / estimate"), rows,
                    DISK_NEED_LEGEND, intro)  # fmt: skip


BYTECODE_LEGEND = """**.pyc per env**: the bytecode files the tool compiled into each env's
site-packages at install (each inode once; the probe writes none), mean over the envs;
**MiB per env**: their bytes. uv compiles none unless asked; pip compiles by default."""


def bytecode_table(run: Run) -> Table | None:
    """Per unit: the .pyc files its envs hold (runs before the figure was recorded: no table)."""
    rows = []
    for tool, layout, unit in run.units():
        counted = [env for env in unit.envs.values() if env.pyc_files is not None]
        if counted:
            files = sum(env.pyc_files for env in counted) / len(counted)
            rows.append((tool, layout, f"{files:,.0f}", mib(sum(env.pyc_bytes for env in counted) / len(counted)),
                         str(len(counted))))  # fmt: skip
    if not rows:
        return None
    headers = ("tool", "layout", ".pyc per env", "MiB per env", "envs")
    return Table.of("Bytecode in the envs", headers, rows, BYTECODE_LEGEND)


def report_tables(run: Run, package_rows: list[dict]) -> list[Table]:
    """Every table a person reads, in reading order: the answer first."""
    tables = [
        answer_table(run),
        Table.of("Per tool", MAIN_HEADERS, main_table(run), MAIN_LEGEND),
        Table.of(
            "How env files are shared",
            LINK_HEADERS,
            link_table(run),
            intro="Files (count / MiB physical) summed over every project folder.",
        ),  # fmt: skip
        *matrix_tables(run),
    ]
    largest = package_table(run, package_rows)
    if largest:
        tables.append(largest)
    bytecode = bytecode_table(run)
    if bytecode:
        tables.append(bytecode)
    traffic = traffic_table(run)
    if traffic:
        tables.append(traffic)
    tables += [table for table in (said_table(run), survival_table(run)) if table]
    interpreter = interpreter_table(run)
    if interpreter:
        tables.append(interpreter)
    tables += fleet_tables(run)
    tables += duplication_tables(run)
    filesystems = filesystem_table(run)
    if filesystems:
        tables.append(filesystems)
    growth = growth_table(run)
    if growth:
        tables.append(Table.of("How disk grows with projects", GROWTH_HEADERS, growth, GROWTH_LEGEND))
    issues = package_issues_table(run)
    if issues:
        tables.append(Table.of("Packages' own issues", ["package", "kind", "what", "tools"], issues, intro=IMPORT_NEEDS_LEGEND))
    if run.failures:
        # Where each failed: the same install can fail in every state, a row each, so each says its own.
        rows = [[f.tool, f.layout or "", f.project or "", f.state or "", "" if f.repetition is None else str(f.repetition),
                 f.what, f.reason, _last_lines(f.tail or "")] for f in run.failures]  # fmt: skip
        headers = ["tool", "layout", "project", "state", "repetition", "what", "reason", "last output"]
        tables.append(Table.of("Failures", headers, rows))
    parts = parts_table(run)
    if parts:
        tables.append(parts)
    need = disk_need_table(run)
    if need:
        tables.append(need)
    spent = run.overhead or {}
    if spent:
        tables.append(overhead_table(spent))
    return tables


def overhead_table(spent: dict) -> Table:
    """The steps, each harness part largest first, and the harness in all, as shares of the steps."""
    steps = overhead.steps_of(spent)

    def row(name: str, seconds: float) -> list[str]:
        return [name, f"{seconds:.2f}", f"{100 * seconds / steps:.1f} %" if steps else "-"]

    rows = [row("steps", steps), *(row(name, seconds) for name, seconds in overhead.parts_of(spent).items())]
    total = overhead.total_of(spent)
    if total is not None:
        rows.append(row("harness in all", total - steps))
        rows.append(row("total", total))
    return Table.of("Where the run's time went", ["part", "s", "share of steps"], rows, OVERHEAD_LEGEND)


def heading(run: Run) -> str:
    scenario = run.scenario
    return "\n".join(
        [
            f"# envbench run {run.run_id}\n",
            f"Scenario **{scenario.name}** ({len(scenario.projects)} projects, Python {scenario.python}): "
            f"{scenario.description.strip()}\n",
            f"Backend: {run.backend['name']}; layouts: {', '.join(scenario.layouts or [])}; status: {run.status}; "
            f"started {run.started}, finished {run.finished}.\n",
            *([f"{link_line(run)}\n"] if run.network else []),
            *([f"{index_line(run)}\n"] if run.mirror and run.mirror.server else []),
            *(f"{note}\n" for note in notes(run)),
        ]
    )


def link_line(run: Run) -> str:
    """The network the tools fetched over: as configured, what shaped it, what they measured."""
    network = run.network
    configured = NetworkSpec(**network.configured).describe()
    measured = list(network.measured.values())
    seen = "not measured"
    if measured:
        rtts = [m.rtt_ms for m in measured]
        rates = [m.bandwidth_mbit for m in measured if m.bandwidth_mbit]
        seen = f"{min(rtts):,.1f}–{max(rtts):,.1f} ms round trip" + (
            f", {min(rates):,.1f}–{max(rates):,.1f} Mbit/s" if rates else "")
    return f"Network: {configured} configured, shaped by {network.mechanism}; measured from the tools' containers: {seen}."


def tables_markdown(run: Run, package_rows: list[dict]) -> str:
    return "\n".join([heading(run), *(markdown(table) for table in report_tables(run, package_rows))])
