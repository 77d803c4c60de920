"""Duplication you cannot avoid: what envs of different project groups hold in common.

A scenario whose project groups differ on purpose (torch's CPU build beside its CUDA build; one
fleet on two Pythons) asks which bytes the groups could share and which they cannot. Every
distribution name an env holds is classed by comparing the groups' envs (the probe's digest of
each installed distribution's RECORD: equal digests, identical files):
- identical: every group holds the same files: a tool that links could keep one copy;
- different builds: two or more groups hold it with different files (torch 2.13.0+cpu and
  2.13.0; numpy for cp311 and cp313): no tool can share them;
- only in some groups: what one build brings and the others lack (nvidia-*, triton).
What each tool really shares across groups comes from the disk scan (inodes held by envs of two
or more groups, harness/sandbox/scan.py `cross_group_bytes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.record.disk import DiskReport
from harness.record.model import Env, Run
from harness.report.stats import GIB
from harness.report.table import Table, mib
from harness.tools.registry import plain_envs

IDENTICAL, DIFFERENT, PARTIAL = "identical", "different builds", "only in some groups"


def project_groups(run: Run) -> dict[str, str]:
    """Project -> group, when the scenario has two or more groups (older runs record none)."""
    groups = {p.name: p.group or "" for p in run.projects}
    return groups if len({g for g in groups.values() if g}) > 1 else {}


@dataclass(frozen=True)
class Held:
    """One distribution name across the groups: each group's release and files, in its first env."""

    name: str
    releases: dict[str, tuple[str, str, int]]  # group -> (version, RECORD digest, installed bytes)
    groups: int  # how many groups the scenario has

    @property
    def kind(self) -> str:
        if len(self.releases) < self.groups:
            return PARTIAL
        return IDENTICAL if len({digest for _, digest, _ in self.releases.values()}) == 1 else DIFFERENT


def first_envs(run: Run, tool: str, layout: str) -> dict[str, Env] | None:
    """Each group's first proved env of TOOL, or None when a group has none."""
    groups = project_groups(run)
    envs = run.tools[tool].layouts[layout].envs
    first: dict[str, Env] = {}
    for project, group in groups.items():
        env = envs.get(project)
        if env and env.proved and group not in first:
            first[group] = env
    return first if set(first) == set(groups.values()) else None


def reference(run: Run) -> tuple[str, str, dict[str, Env]] | None:
    """The tool whose envs show what a group's env holds: the first that installs the wheels'
    files and nothing else (no bytecode, no seed packages: the registry's plain_envs, uv), else
    the first with every group."""
    found = [(tool, layout, envs) for tool, layout, _ in run.units() if (envs := first_envs(run, tool, layout))]
    return next((f for f in found if plain_envs(f[0])), found[0] if found else None)


def held(first: dict[str, Env]) -> list[Held]:
    """Every distribution name in the groups' first envs, largest first."""
    names: dict[str, dict[str, tuple[str, str, int]]] = {}
    for group, env in first.items():
        for package in env.packages:
            key = canonicalize_name(package.name)
            names.setdefault(key, {})[group] = (package.version, package.sha256, int(package.installed_bytes))
    rows = [Held(name, releases, len(first)) for name, releases in names.items()]
    return sorted(rows, key=lambda h: (-max(size for _, _, size in h.releases.values()), h.name))


def cause(run: Run) -> str:
    """What the groups differ by, from the scenario: the Python, an index, the dependencies."""
    groups: dict[str, dict] = {}
    for project in run.projects:
        groups.setdefault(project.group or "", project)
    pythons = {g: p.python or run.scenario.python for g, p in groups.items()}
    said = []
    if len(set(pythons.values())) > 1:
        said.append("Python ABI (" + ", ".join(f"{g}: Python {v}" for g, v in pythons.items()) + ")")
    sources = {g: p.sources for g, p in groups.items()}
    for package in sorted({name for s in sources.values() for name in s}):
        where = {g: s.get(package, "pypi") for g, s in sources.items()}
        if len(set(where.values())) > 1:
            said.append(f"the build of {package} (" + ", ".join(f"{g}: index {i}" for g, i in where.items()) + ")")
    if len({tuple(p.dependencies) for p in groups.values()}) > 1:
        said.append("their dependencies")
    return "; ".join(said) or "nothing the scenario names"


ENV_LEGEND = """\
One env of each group, as the reference tool installed it: each distribution's installed bytes
(the files its RECORD lists). **different builds**: the groups hold the same name with other
files (another version or another wheel): no tool can share them. **only in some groups**: what
one build brings that the others lack. **identical**: the same files in every group (equal
RECORD digests), summed in the last row but one: a tool that links can keep one copy for all.
**byte-identical in every build**: of a distribution's different builds, the files every build's
wheel holds with the same sha256 (its RECORD; Python sources, headers, data): no installer shares
them, since each comes from its own wheel, but a store that keeps files by hash could.
"""


def env_table(run: Run) -> Table | None:
    ref = reference(run)
    if ref is None:
        return None
    tool, _, first = ref
    groups = list(first)
    alike = {b["name"]: b for b in (run.mirror.builds if run.mirror else None) or []}
    rows, same, same_bytes = [], 0, {g: 0 for g in groups}
    for h in held(first):
        if h.kind == IDENTICAL:
            same += 1
            for g in groups:
                same_bytes[g] += h.releases[g][2]
            continue
        cells = []
        for g in groups:
            version, _, size = h.releases.get(g, ("-", "", None))
            cells += [version, mib(size) if size is not None else "-"]
        build = alike.get(h.name) if h.kind == DIFFERENT else None
        rows.append((h.name, h.kind, *cells, mib(build["identical_bytes"]) if build else "-"))
    rows.append((f"identical in every group ({same} distribution{'s' if same != 1 else ''})", IDENTICAL,
                 *(c for g in groups for c in ("same", mib(same_bytes[g]))), "-"))  # fmt: skip
    totals = {g: sum(p.installed_bytes for p in first[g].packages) for g in groups}
    rows.append(("one env in all", "", *(c for g in groups for c in ("", mib(totals[g]))), "-"))
    headers = ("distribution", "kind", *(c for g in groups for c in (f"{g}: release", f"{g}: installed MiB")),
               "byte-identical in every build MiB")  # fmt: skip
    intro = f"The groups differ by {cause(run)}. Reference tool: **{tool}** (its first env of each group)."
    return Table.of("Duplication you cannot avoid: where one env's bytes go", headers, rows, ENV_LEGEND, intro)


SHARE_LEGEND = """\
**one env (du)**: the group's first project folder as `du` alone sees it (hard links counted in
full, as a user sees one env). **fleet GiB**: the tool's cache and every project together, each
inode once. Then physical MiB across all of the tool's envs, each inode counted once, by kind (see the table
above). **shared across groups**: bytes whose inodes envs of two or more groups both hold (one
copy serving both, as links into one cache do). Identical distributions that a tool keeps apart
show a physical figure near the number of envs times their size and nothing shared. Different
builds can never be shared: each group's copy is shown; that is the duplication no tool avoids.
"""


def share_table(run: Run) -> Table | None:
    ref = reference(run)
    if ref is None:
        return None
    groups = list(ref[2])
    rows = []
    for tool, layout, unit in run.units():
        scanned = unit.disk.packages if unit.disk else None
        first = first_envs(run, tool, layout)
        if not scanned or not any(p.cross_group_bytes is not None for p in scanned) or first is None:
            continue
        # Each tool's own envs: pip + venv's envs hold pip itself, identical in every group.
        kinds = {h.name: h.kind for h in held(first)}
        sums = {k: [0, 0] for k in (IDENTICAL, DIFFERENT, PARTIAL)}
        per_group = {g: 0 for g in groups}
        for p in scanned:
            kind = kinds.get(canonicalize_name(p.name), PARTIAL)
            sums[kind][0] += p.physical_bytes
            sums[kind][1] += p.cross_group_bytes or 0
            if kind == DIFFERENT:
                for g, figures in p.groups.items():
                    per_group[g] = per_group.get(g, 0) + figures.physical_bytes
        total = unit.disk.total.physical_bytes
        one_env = _first_env_du(run, unit.disk)
        rows.append((tool, layout, *(mib(one_env.get(g)) for g in groups), f"{total / GIB:,.2f}", mib(sums[IDENTICAL][0]),
                     mib(sums[IDENTICAL][1]), *(mib(per_group[g]) for g in groups), mib(sums[DIFFERENT][1]),
                     mib(sums[PARTIAL][0])))  # fmt: skip
    if not rows:
        return None
    headers = ("tool", "layout", *(f"one {g} env MiB (du)" for g in groups), "fleet GiB", "identical: physical MiB",
               "identical: shared across groups MiB", *(f"different builds: {g} MiB" for g in groups),
               "different builds: shared MiB", "only in some groups: physical MiB")  # fmt: skip
    return Table.of("What each tool shares across groups", headers, rows, SHARE_LEGEND)


def _first_env_du(run: Run, disk: DiskReport) -> dict[str, int]:
    """Group -> what `du` says of its first project's folder (the env and the project's files)."""
    groups = project_groups(run)
    found: dict[str, int] = {}
    for root in disk.roots:
        group = groups.get(root.scope)
        if group and group not in found:
            found[group] = root.physical_bytes
    return found


def duplication_tables(run: Run) -> list[Table]:
    if not project_groups(run):
        return []
    return [t for t in (env_table(run), share_table(run)) if t is not None]


# -- figures the claims read ------------------------------------------------------------------
def build_bytes(run: Run, tool: str, layout: str, group: str) -> int | None:
    """Installed bytes, in GROUP's first env of TOOL, of what is not identical in every group:
    what that group's build brings (torch's CUDA build with its nvidia-* and triton wheels)."""
    first = first_envs(run, tool, layout)
    if first is None or group not in first:
        return None
    return sum(h.releases[group][2] for h in held(first) if h.kind != IDENTICAL and group in h.releases)


def cross_group_bytes(run: Run, tool: str, layout: str, distribution: str = "", kind: str = "") -> int | None:
    """Bytes that envs of different groups share, of DISTRIBUTION (every release of that name)
    or of every distribution of KIND (as the tool's own envs class them)."""
    disk = run.tools[tool].layouts[layout].disk
    scanned = disk.packages if disk else None
    first = first_envs(run, tool, layout)
    if not scanned or not any(p.cross_group_bytes is not None for p in scanned) or first is None:
        return None
    kinds = {h.name: h.kind for h in held(first)}
    wanted = canonicalize_name(distribution) if distribution else None

    def counted(name: str) -> bool:
        name = canonicalize_name(name)
        return name == wanted or bool(kind) and kinds.get(name) == kind

    return sum(p.cross_group_bytes or 0 for p in scanned if counted(p.name))


__all__ = ["build_bytes", "cross_group_bytes", "duplication_tables", "first_envs", "project_groups"]
