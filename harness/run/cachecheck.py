"""After the fleet, on the cache the fleet filled (scenario key clean_cache): what a tool's own
cache commands say they free, what they free, and whether the envs left survive them.

1. The later half of the projects is deleted first (the first project stays: pip's purge runs
   from its env), as a user who dropped old projects and then cleans up would have it.
2. A scan of the cache and the projects kept: the cache's exclusive bytes are what emptying it can
   free (an inode an env still links to frees nothing).
3. Each command the adapter names, in its order (prune before clean): the file system's own count
   before and after it where the tool has a private file system (statvfs; elsewhere the disk is
   shared and its count says nothing about one command), the line it printed read by
   tools/said.py, and a scan after it: predicted = the cache's exclusive bytes before less after.
4. The kept envs are proved again, as after the fleet: a symlinked env whose cache went is broken.
"""

from __future__ import annotations

from harness.record.disk import CacheCheck, CacheCommand, DiskReport
from harness.run.concurrent import Concurrent
from harness.run.measure import Measurer
from harness.tools import said
from harness.tools.base import Sandbox, ToolAdapter


def cache_figures(report: DiskReport) -> tuple[int, int, int | None]:
    """The cache's physical bytes, exclusive bytes and inodes (None: a scan without inode counts)."""
    roots = report.scoped("cache")
    inodes = [r.inodes for r in roots]
    return (sum(r.physical_bytes for r in roots), sum(r.exclusive_bytes for r in roots),
            None if None in inodes else sum(inodes))  # fmt: skip


def halves(projects: list) -> tuple[list, list]:
    """(kept, deleted): the first ceil(n/2) projects are kept."""
    keep = len(projects) - len(projects) // 2
    return projects[:keep], projects[keep:]


class CacheChecker:
    def __init__(self, measure: Measurer, concurrent: Concurrent, say):
        self.measure, self.concurrent, self.say = measure, concurrent, say

    def run(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, made: set[str], private) -> CacheCheck:
        backend, record = self.measure.backend, self.measure.record
        projects = [p for p in self.measure.scenario.projects if p.name in made]
        kept, deleted = halves(projects)
        check = CacheCheck(kept=[p.name for p in kept], deleted=[p.name for p in deleted])
        record.layout(adapter.name, layout).cache_check = check
        if not kept:
            check.note = "no env was made"
            return check
        backend.prepare(sandbox, {"remove": [sandbox.project_dir(p.name) for p in deleted]})
        steps = adapter.cache_steps(sandbox, kept[0].name)
        if not steps:
            check.note = f"{adapter.venv_name()} has no cache command envbench runs"
        before = self.measure.scan(adapter, sandbox, kept, packages=False)
        for number, cache_step in enumerate(steps, start=1):
            used = private.used() if private else None
            result = backend.run(sandbox, cache_step.step, f"{adapter.name}/{layout}/cache-{number}")
            freed = used - private.used() if private else None
            after = self.measure.scan(adapter, sandbox, kept, packages=False)
            check.commands.append(command_record(cache_step, result, freed, before, after))
            before = after
            self.say(f"  {adapter.name} {layout}: {check.commands[-1].command}: {check.commands[-1].said or '(nothing)'}")
        self.prove_again(adapter, sandbox, kept, check)
        record.save()
        return check

    def prove_again(self, adapter: ToolAdapter, sandbox: Sandbox, kept: list, check: CacheCheck) -> None:
        futures = [self.concurrent.submit("probe", f"prove {adapter.name}/{p.name} again", self.measure.prove_one,
                                          adapter, sandbox, p) for p in kept]  # fmt: skip
        self.concurrent.join()
        for project, future in zip(kept, futures, strict=True):
            env, faults = future.result()
            check.survived[project.name] = env.proved
            if faults:
                check.faults[project.name] = [str(f)[:300] for f in faults[:3]]


def command_record(cache_step, result, freed: int | None, before: DiskReport, after: DiskReport) -> CacheCommand:
    words = said.read(cache_step.said, result.tail) if result.ok else said.Said(result.tail.strip()[-300:])
    bytes_before, exclusive_before, inodes_before = cache_figures(before)
    bytes_after, exclusive_after, inodes_after = cache_figures(after)
    return CacheCommand(command=cache_step.step.display(), exit_code=result.exit_code, wall_s=round(result.wall_s, 3),
                        said=words.text, said_files=words.files, said_bytes=words.bytes, freed_bytes=freed,
                        predicted_bytes=exclusive_before - exclusive_after, cache_bytes_before=bytes_before,
                        cache_bytes_after=bytes_after, cache_inodes_before=inodes_before,
                        cache_inodes_after=inodes_after)  # fmt: skip
