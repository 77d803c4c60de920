"""The answer: what each tool costs for the whole fleet, cheapest first.

One row per tool and layout: disk for every project together, the cache alone, what one more
project adds, what deleting one frees, the sharing factor, and the time to a ready env with an
empty cache (cold) and with the cache the earlier projects filled (warm).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.record.model import Run
from harness.report.cache import base_of, survival_of
from harness.report.conda import label, notes
from harness.report.machines import kinds, warning
from harness.report.stats import GIB, Summary, summaries
from harness.report.table import Table, mib, seconds


@dataclass(frozen=True)
class Answer:
    summary: Summary
    freed_bytes: float | None  # mean over the projects: what `rm -rf` of one project frees

    @property
    def measured(self) -> bool:
        return self.summary.total_bytes is not None


def answers(run: Run) -> list[Answer]:
    """Measured tools by physical total, smallest first; then the ones not measured."""
    freed: dict[tuple[str, str], float] = {}
    for tool, layout, unit in run.units():
        projects = unit.project_roots()
        if projects:
            freed[(tool, layout)] = sum(r.exclusive_bytes for r in projects) / len(projects)
    rows = []
    for s in summaries(run):
        rows.append(Answer(s, freed.get((s.tool, s.layout)) if s.total_bytes is not None else None))
    return sorted(rows, key=lambda a: (not a.measured, a.summary.total_bytes or 0, a.summary.tool, a.summary.layout))


def _gib(value: float | None) -> str:
    return "not measured" if value is None else f"{value / GIB:,.2f}"


HEADERS = (
    "tool",
    "layout",
    "disk, all projects GiB",
    "cache GiB",
    "marginal MiB/project",
    "freed on delete MiB",
    "sharing ×",
    "ready env cold s",
    "ready env warm s",
    "proved",
    "inodes",
    "best setting for disk",
)

LEGEND = """\
Sorted by **disk, all projects**: physical bytes of the tool's cache and every project folder
together, each inode counted once (what `du -sc` over them says). **cache**: the cache alone.
**marginal**: bytes one more project adds (found in no other folder; mean over every project
after the first). **freed on delete**: what `rm -rf` of one project frees (mean over projects).
**sharing ×**: the sum of per-folder `du` over the physical total. **ready env cold / warm**:
wall seconds from no lock file and no env to a working env (every step), mean ± stdev, with an
empty cache (cold) and with the cache earlier projects filled (warm). **proved**: envs holding
exactly what was asked and locked; a tool that did not prove every env is "not measured".
**inodes**: the cache's and every project's inodes together, each once (an HPC quota counts
these). **best setting for disk**: of the tool and its variants in this run (the same layout,
every env proved), the one with the least disk (within 1 %: the fewest inodes, then the fewest
settings changed, then the least cold time), with its cold time and whether its envs survived
the tool's own cache commands (a scenario with clean_cache); "—" on a variant's own row.
"""


def _least(run: Run, family: list[Answer]) -> Answer:
    """The least disk; within 1 % of it (the same bytes as far as a user can tell) the fewest inodes,
    then the fewest settings changed, then the least cold time."""
    inodes = {(t, where): u.disk.total.inodes for t, where, u in run.units() if u.disk}
    least = min(b.summary.total_bytes for b in family)
    near = [b for b in family if b.summary.total_bytes <= least * 1.01]
    count = {id(b): inodes.get((b.summary.tool, b.summary.layout)) or 0 for b in near}
    fewest = min(count.values())
    near = [b for b in near if count[id(b)] <= fewest * 1.01]

    def changes(b: Answer) -> int:
        variant = (run.scenario.variants or {}).get(b.summary.tool) or {}
        return sum(len(variant.get(key) or {}) for key in ("env", "settings")) + ("bytecode" in variant)

    return min(near, key=lambda b: (changes(b), b.summary.cold.mean() if b.summary.cold else float("inf")))


def best_settings(run: Run, found: list[Answer]) -> dict[tuple[str, str], str]:
    """(tool, layout) -> its best setting for disk among itself and its variants (base tools only)."""
    measured = {(a.summary.tool, a.summary.layout): a for a in found if a.measured and a.summary.proved == a.summary.envs}
    base = base_of(run)
    best: dict[tuple[str, str], str] = {}
    for tool, layout in measured:
        if base.get(tool, tool) != tool:
            continue
        family = [b for (name, where), b in measured.items() if where == layout and base.get(name, name) == tool]
        if len(family) < 2:
            continue
        winner = _least(run, family)
        survived = survival_of(run, winner.summary.tool, layout)
        w = winner.summary
        best[(tool, layout)] = (f"{w.tool}: {_gib(w.total_bytes)} GiB, cold {seconds(w.cold)} s"
                                + (f", survives cache clean: {survived}" if survived else ""))  # fmt: skip
    return best


def answer_table(run: Run) -> Table:
    found = answers(run)
    best = best_settings(run, found)
    totals = {(tool, layout): unit.disk.total.inodes for tool, layout, unit in run.units() if unit.disk}
    several = len({a.summary.layout for a in found}) > 1  # one layout: it is said once, above
    rows, not_measured = [], []
    for a in found:
        s = a.summary
        name = label(run, s.tool) if a.measured else f"{s.tool} ({s.status})"
        if not a.measured:
            not_measured.append(f"**{s.tool}**" + (f" ({s.layout})" if several else "") + f": {s.status}"
                                + (f", {s.reason}" if s.reason else ""))  # fmt: skip
        rows.append(
            (
                name,
                *((s.layout,) if several else ()),
                _gib(s.total_bytes),
                _gib(s.cache_bytes),
                mib(s.marginal_bytes),
                mib(a.freed_bytes),
                "not measured" if s.sharing_ratio is None or not a.measured else f"{s.sharing_ratio:.1f}",
                seconds(s.cold),
                seconds(s.warm),
                f"{s.proved}/{s.envs}",
                "—" if totals.get((s.tool, s.layout)) is None else f"{totals[(s.tool, s.layout)]:,}",
                best.get((s.tool, s.layout), "—"),
            )
        )
    projects = len(run.projects)
    layout = "" if several or not found else f", {found[0].summary.layout} layout"
    intro = f"{projects} projects of scenario **{run.scenario.name}**, Python {run.scenario.python}{layout}."
    if not_measured:
        intro += "\n\nNot measured: " + "; ".join(not_measured) + "."
    if notes(run):
        intro += "\n\n" + " ".join(notes(run))
    inode_only = sorted({r.extents for _, _, unit in run.units() for r in (unit.disk.roots if unit.disk else [])
                         if str(r.extents or "").startswith(("not supported", "unsupported"))})  # fmt: skip
    if inode_only:
        intro += "\n\nDisk figures are inode figures here, as `du`'s: " + "; ".join(inode_only) + "."
    # On a private file system: its own bookkeeping (XFS's inodes, btrfs's metadata) comes on top
    # of the files' blocks above, and statvfs says what the fleet really took.
    metadata = [(tool, layout, unit.statvfs) for tool, layout, unit in run.units()
                if unit.statvfs and unit.statvfs.fleet_metadata_bytes]  # fmt: skip
    if metadata:
        said = "; ".join(f"{tool} ({layout}): {mib(truth.fleet_metadata_bytes)} MiB of metadata, "
                         f"{_gib(truth.fleet_bytes)} GiB in all by statvfs, "
                         f"{mib(truth.delete.freed_bytes if truth.delete else None)} MiB freed on delete"
                         for tool, layout, truth in metadata)  # fmt: skip
        intro += ("\n\nThe disk figures are the files' blocks; on these file systems their own bookkeeping comes on "
                  f"top (the File systems table): {said}.")
    kind, legend = kinds(run)
    if legend:
        letters = {(a.summary.tool, a.summary.layout): kind.get((a.summary.tool, a.summary.layout)) for a in found}
        rows = [(f"{row[0]} [{letters[a.summary.tool, a.summary.layout]}]", *row[1:]) if letters[a.summary.tool, a.summary.layout]
                else row for a, row in zip(found, rows, strict=True)]  # fmt: skip
        intro += "\n\n" + warning(legend)
    headers = HEADERS if several else tuple(h for h in HEADERS if h != "layout")
    return Table.of("The answer", headers, rows, LEGEND, intro)
