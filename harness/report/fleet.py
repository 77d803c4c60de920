"""A fleet of different projects: what the groups share and what each group costs on top, per tool.

Where project groups differ by their dependencies (the services of one company, each with its
own requirements file, pyproject or lock), the question is not one stack copied but overlap:
which packages several groups hold, how many bytes a tool keeps once for several groups, and
what each group adds. The figures are the disk scan's (harness/sandbox/scan.py `group_figures`: each
inode once; extents are not split by group), and per distribution its `cross_group_bytes`.
"""

from __future__ import annotations

from itertools import combinations

from packaging.utils import canonicalize_name

from harness.record.model import Run
from harness.report.duplication import held, project_groups, reference
from harness.report.table import Table, mib

SHARED_ROWS = 25  # distributions listed one by one; the rest summed in one row

COST_LEGEND = """\
Per tool, each inode counted once. **G MiB**: the group's project folders together (its envs and
project files), as `du` of them all sees it. **G on top MiB**: what the tool's folders lose without
group G's projects: files no other group's project and no cache holds (what a tool that links
into its cache keeps there stays, so it counts for no group). **shared between groups MiB**:
files the projects of two or more groups both hold (one copy serving both, as links into one
cache do); **G ∩ H MiB**: of those, the ones groups G and H both hold. A tool that copies into
every env shares nothing, whatever the groups have in common.
"""

PACKAGES_LEGEND = """\
Distributions the reference tool's first env of two or more groups holds. **release**: the
version, per group when they differ; **same files**: whether the groups' copies have equal RECORD
digests (the same wheel's files: a tool that links can keep one copy). **installed MiB**: one
env's copy. Then per tool the MiB of that distribution the envs of two or more groups really share
(inodes both hold), from the tool's disk scan.
"""


def _origins(run: Run) -> str:
    seen: dict[str, tuple[int, str]] = {}
    for project in run.projects:
        count, origin = seen.get(project.group, (0, project.origin or "dependencies listed"))
        seen[project.group] = (count + 1, origin)
    return "; ".join(f"**{g}**: {n} project{'s' if n != 1 else ''} ({origin})" for g, (n, origin) in seen.items())


def cost_table(run: Run) -> Table | None:
    groups = list(dict.fromkeys(project_groups(run).values()))  # in the scenario's order
    pairs = list(combinations(groups, 2))
    rows = []
    for tool, layout, entry in run.units():
        if not entry.disk:
            continue
        total = entry.disk.total
        figures = total.groups
        if not figures or set(figures) != set(groups):
            continue
        per_group = [mib(value) for g in groups for value in (figures[g].physical_bytes, figures[g].marginal_bytes)]
        between = [mib(figures[a].shared_with.get(b)) for a, b in pairs]
        rows.append((tool, layout, *per_group, mib(total.cross_group_bytes), *between, mib(total.physical_bytes)))
    if not rows:
        return None
    headers = ("tool", "layout", *(c for g in groups for c in (f"{g} MiB", f"{g} on top MiB")), "shared between groups MiB",
               *(f"{a} ∩ {b} MiB" for a, b in pairs), "all folders MiB")  # fmt: skip
    return Table.of("What each group costs on top, and what the groups share", headers, rows, COST_LEGEND,
                    f"The groups: {_origins(run)}.")  # fmt: skip


def shared_packages_table(run: Run) -> Table | None:
    ref = reference(run)
    if ref is None:
        return None
    tool, _, first = ref
    common = [h for h in held(first) if len(h.releases) > 1]
    if not common:
        return None
    scanned = []  # (tool, layout, distribution -> bytes its envs of two or more groups share)
    for t, layout, entry in run.units():
        shared: dict[str, int] = {}
        for p in (entry.disk.packages if entry.disk else None) or []:
            if p.cross_group_bytes is not None:
                key = canonicalize_name(p.name)
                shared[key] = shared.get(key, 0) + p.cross_group_bytes
        if shared:
            scanned.append((t, layout, shared))
    rows = []
    for h in common[:SHARED_ROWS]:
        versions = {version for version, _, _ in h.releases.values()}
        release = versions.pop() if len(versions) == 1 else ", ".join(f"{g}: {v}" for g, (v, _, _) in h.releases.items())
        same = len({digest for _, digest, _ in h.releases.values()}) == 1
        rows.append((h.name, ", ".join(h.releases), release, "yes" if same else "no",
                     mib(max(size for _, _, size in h.releases.values())),
                     *(mib(shared.get(h.name, 0)) for _, _, shared in scanned)))  # fmt: skip
    rest = common[SHARED_ROWS:]
    if rest:
        rows.append((f"{len(rest)} more", "", "", "", mib(sum(max(s for _, _, s in h.releases.values()) for h in rest)),
                     *(mib(sum(shared.get(h.name, 0) for h in rest)) for _, _, shared in scanned)))  # fmt: skip
    per_tool = [f"shared across groups MiB: {t}" + (f" ({layout})" if layout != "same-volume" else "")
                for t, layout, _ in scanned]  # fmt: skip
    headers = ("distribution", "groups", "release", "same files", "installed MiB", *per_tool)
    intro = (f"{len(common)} distributions are held by two or more groups. Reference tool: **{tool}** "
             "(its first env of each group).")  # fmt: skip
    return Table.of("Packages the groups share", headers, rows, PACKAGES_LEGEND, intro)


def fleet_tables(run: Run) -> list[Table]:
    if not project_groups(run):
        return []
    return [t for t in (cost_table(run), shared_packages_table(run)) if t is not None]
