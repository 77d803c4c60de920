"""The metrics a claim's `measure` names (harness/report/claims.py): one figure of one tool in one
run, or NotMeasured with the reason when the run has no honest value for it."""

from __future__ import annotations

from harness.record.disk import DiskRoot
from harness.record.model import Run
from harness.report import duplication
from harness.report.stats import GIB, MIB, matrix_samples, summaries

LAYOUT = "same-volume"  # published figures are for one file system, as users install
# A measure may name another layout: `layout: same-volume@btrfs` judges a claim on a private btrfs.


class NotMeasured(Exception):
    """The metric has no honest value in these runs: the reason, in one line."""


def _summary(run: Run, tool: str, layout: str = LAYOUT):
    summary = next((s for s in summaries(run) if s.tool == tool and s.layout == layout), None)
    if summary is None:
        raise NotMeasured(f"{tool} is not in run {run.run_id}")
    if summary.status != "ok":
        raise NotMeasured(f"{tool} was {summary.status} in run {run.run_id}: {summary.reason[:160]}")
    if summary.proved < summary.envs:
        raise NotMeasured(f"{tool} proved {summary.proved} of {summary.envs} envs in run {run.run_id}")
    return summary


def _project_roots(run: Run, tool: str, layout: str = LAYOUT) -> list[DiskRoot]:
    _summary(run, tool, layout)
    disk = run.tools[tool].layouts[layout].disk
    if not disk:
        raise NotMeasured(f"{tool} has no disk report in run {run.run_id}")
    return disk.project_roots()


def env_mib(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """What one project costs on top (its marginal bytes), mean over the projects, MiB."""
    roots = _project_roots(run, tool, layout)
    return sum(r.marginal_bytes for r in roots) / len(roots) / MIB


def total_mib(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """The cache and every project together, each inode once, MiB."""
    return _summary(run, tool, layout).total_bytes / MIB


def sharing(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    return _summary(run, tool, layout).sharing_ratio


def cache_link_share(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """Share of the envs' files that are hard links into the tool's cache."""
    roots = _project_roots(run, tool, layout)
    files = sum(r.files for r in roots)
    linked = sum(r.links.count("hardlinked_cache") for r in roots)
    return linked / files if files else 0.0


def cache_reuse_share(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """Share of the envs' files that reuse another's data instead of a copy: hard-linked into the
    cache, or clones (shared extents, on btrfs and XFS)."""
    roots = _project_roots(run, tool, layout)
    files = sum(r.files for r in roots)
    reused = sum(r.links.count("hardlinked_cache") + r.links.count("reflinked") for r in roots)
    return reused / files if files else 0.0


def freed_share(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """What deleting a project frees, as a share of what `du` shows for it: on a private file
    system what statvfs saw freed when the last project was deleted (its metadata included),
    elsewhere the scanner's exclusive bytes (mean over projects)."""
    roots = _project_roots(run, tool, layout)
    truth = run.tools[tool].layouts[layout].statvfs
    delete = truth.delete if truth else None
    deleted = next((r for r in roots if delete and r.scope == delete.project), None)
    if deleted is not None and deleted.physical_bytes:
        return delete.freed_bytes / deleted.physical_bytes
    return sum(r.exclusive_bytes / r.physical_bytes for r in roots) / len(roots)


def fleet_extra_gib(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """What the projects after the first add on disk, GiB: the duplication of a fleet."""
    roots = _project_roots(run, tool, layout)
    if len(roots) < 2:
        raise NotMeasured(f"run {run.run_id} made one project of {tool}: a fleet needs two or more")
    return sum(r.marginal_bytes for r in roots[1:]) / GIB


def warm_env_s(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """Seconds to a ready env from a warm cache and no lock file (mean)."""
    bench = _summary(run, tool, layout).warm
    if bench is None:
        raise NotMeasured(f"{tool} has no warm env timed in run {run.run_id}")
    return bench.mean()


def time(run: Run, tool: str, state: str = "", operation: str = "", layout: str = LAYOUT, leave_out=(), **_) -> float:
    """Mean wall seconds of one cell of the time matrix (the first project); LEAVE_OUT: step
    operations outside the span the source timed (uv's hyperfine makes the venv in `prepare`)."""
    _summary(run, tool, layout)
    samples = matrix_samples(run, tuple(leave_out)).get((tool, layout, state, operation), [])
    if not samples:
        raise NotMeasured(f"{tool} has no {state} {operation} timed in run {run.run_id}")
    return sum(s.wall_s for s in samples) / len(samples)


def build_gb(run: Run, tool: str, group: str = "", layout: str = LAYOUT, **_) -> float:
    """GB (10^9 bytes) installed in one env of GROUP of what is not identical in every group: what
    that group's build brings (torch's CUDA build with its nvidia-* libraries and triton)."""
    _summary(run, tool, layout)
    value = duplication.build_bytes(run, tool, layout, group)
    if value is None:
        raise NotMeasured(f"run {run.run_id} has no proved {tool} env of group {group!r} beside another group")
    return value / 1e9


def installed_gb(run: Run, tool: str, group: str = "", distribution: str = "", layout: str = LAYOUT, **_) -> float:
    """GB (10^9 bytes) installed in GROUP's first proved env of TOOL (every group's first env
    when no group is named), of DISTRIBUTION or of every distribution the env holds."""
    _summary(run, tool, layout)
    first = duplication.first_envs(run, tool, layout) or {}
    env = first.get(group) if group else next(iter(first.values()), None)
    wanted = [p for p in env.packages if not distribution or p.name.lower() == distribution.lower()] if env else []
    if not wanted:
        raise NotMeasured(f"run {run.run_id} has no proved {tool} env of group {group!r} holding {distribution or 'packages'}")
    return sum(p.installed_bytes for p in wanted) / 1e9


def cross_group_mib(run: Run, tool: str, distribution: str = "", kind: str = "", layout: str = LAYOUT, **_) -> float:
    """MiB that envs of different groups share (inodes both hold, from the scan), of DISTRIBUTION
    or of every distribution of KIND ("identical", "different builds")."""
    _summary(run, tool, layout)
    value = duplication.cross_group_bytes(run, tool, layout, distribution, kind)
    if value is None:
        raise NotMeasured(f"{tool}'s disk scan in run {run.run_id} has no figures per project group")
    return value / MIB


def _cache_check(run: Run, tool: str, layout: str):
    _summary(run, tool, layout)
    check = run.tools[tool].layouts[layout].cache_check
    if check is None or not check.survived:
        raise NotMeasured(f"run {run.run_id} did not clean {tool}'s cache (scenario key clean_cache)")
    return check


def survived_share(run: Run, tool: str, layout: str = LAYOUT, **_) -> float:
    """Share of the envs left that were proved again after the tool's own cache commands."""
    check = _cache_check(run, tool, layout)
    return sum(check.survived.values()) / len(check.survived)


def freed_of_said(run: Run, tool: str, command: str = "", layout: str = LAYOUT, **_) -> float:
    """What the file system freed (statvfs) over what the cache command ending in COMMAND said."""
    found = next((c for c in _cache_check(run, tool, layout).commands if c.command.endswith(command)), None)
    if found is None or not found.said_bytes or found.freed_bytes is None:
        raise NotMeasured(f"{tool}'s `{command}` in run {run.run_id} named no size, or ran on no private file system")
    return found.freed_bytes / found.said_bytes


METRICS = {f.__name__: f for f in (env_mib, total_mib, sharing, cache_link_share, cache_reuse_share, freed_share,
                                   fleet_extra_gib, warm_env_s, time, build_gb, installed_gb, cross_group_mib,
                                   survived_share, freed_of_said)}  # fmt: skip
TIMES = {"warm_env_s", "time"}  # compared only within one run
