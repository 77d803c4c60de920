"""Measuring what a tool made: proving its envs, scanning its trees, the file system's own count.

The runner calls these once the fleet exists (and at checkpoints); each writes its findings into
the tool's entry of run.json. Nothing here runs a tool.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from packaging.requirements import Requirement

from harness.backends.base import Backend
from harness.record.disk import Deleted, DiskReport, GrowthPoint, Statvfs
from harness.record.links import observed_link_mode
from harness.record.model import Env, InstalledDist
from harness.record.run import RunRecord
from harness.run import proof
from harness.run.concurrent import Concurrent
from harness.scenario.model import Scenario
from harness.settings.target import target_environment
from harness.tools.base import Sandbox, ToolAdapter


class Measurer:
    def __init__(self, scenario: Scenario, backend: Backend, record: RunRecord, say):
        self.scenario = scenario
        self.backend = backend
        self.record = record
        self.say = say

    def project_sandbox(self, sandbox: Sandbox, project) -> Sandbox:
        """The sandbox PROJECT's steps run in: the tool's own, or, for a group on another Python,
        the backend's view of the same trees with that Python (a sibling container)."""
        python = self.scenario.python_of(project)
        return sandbox if python == self.scenario.python else self.backend.for_python(sandbox, python)

    def prove(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, projects: set[str], concurrent: Concurrent) -> None:
        """Check each env of PROJECTS against what was asked and locked (harness/run/proof.py), and
        import it: side by side, in CONCURRENT's "probe" lane (one per core: nothing is timed
        meanwhile)."""
        entry = self.record.layout(adapter.name, layout)
        proving = [p for p in self.scenario.projects if p.name in projects]

        futures = [concurrent.submit("probe", f"prove {adapter.name}/{layout}/{p.name}", self.prove_one, adapter, sandbox, p)
                   for p in proving]  # fmt: skip
        concurrent.join()
        for project, future in zip(proving, futures, strict=True):  # in the scenario's order, whatever finished first
            env, faults = future.result()
            entry.envs[project.name] = env
            if faults:
                reason = f"env of {project.name} is not what was asked: {'; '.join(faults)}"[:500]
                self.record.fail(adapter.name, "prove", reason, layout=layout, project=project.name)
        self.record.save()

    def prove_one(self, adapter: ToolAdapter, sandbox: Sandbox, project) -> tuple[Env, list[str]]:
        """One env's probe and verdict: its entry for run.json and the faults that fail it."""
        target = target_environment(self.scenario.python_of(project))
        # A requirement whose marker the target does not meet installs nothing there.
        wanted = [d for d in project.dependencies if Requirement(d).marker is None or Requirement(d).marker.evaluate(target)]
        where = self.project_sandbox(sandbox, project)  # the env's own Python runs the probe
        probe = self.backend.probe(where, adapter.env_python(where, project.name), [Requirement(d).name for d in wanted])
        expected = proof.expected_for(self.record.run.mirror, project.dependencies, dict(project.sources),
                                      self.scenario.python_of(project), project.constraints)  # fmt: skip
        verdict = proof.judge(probe, wanted, expected)
        packages = [InstalledDist.from_json(p) for p in probe.get("packages", [])]
        env = Env(proved=verdict.proved, python=probe.get("python"), imports=probe.get("imports", {}),
                  import_needs=verdict.import_needs, clashes=verdict.clashes, kept_seeds=verdict.kept_seeds or None,
                  faults=verdict.faults, packages=packages, probe_timing=probe.get("timing"),
                  pyc_files=probe.get("bytecode", {}).get("pyc_files"), pyc_bytes=probe.get("bytecode", {}).get("pyc_bytes"),
                  error=probe.get("error"))  # fmt: skip
        return env, ([] if verdict.proved else verdict.faults)

    def scan(self, adapter: ToolAdapter, sandbox: Sandbox, projects, packages: bool = True) -> DiskReport:
        """Disk report of the tool's cache, its home and PROJECTS, each root with its scope;
        without PACKAGES, the totals and roots only (no RECORD read)."""
        scopes = {path: "cache" for path in adapter.cache_dirs(sandbox)}
        scopes[sandbox.home] = "home"
        for project in projects:
            scopes[sandbox.project_dir(project.name)] = project.name
        roots = list(scopes)  # the scanner leaves out those that do not exist (no round trip each)
        cache_roots = [path for path in roots if scopes[path] == "cache"]
        # Envs of different project groups (CPU and CUDA torch, two Pythons): what they share.
        groups = {sandbox.project_dir(p.name): p.group for p in projects if p.group}
        if len(set(groups.values())) < 2:
            groups = {}
        report = self.backend.scan(sandbox, roots, cache_roots, {r: g for r, g in groups.items() if r in roots}, packages)
        report = DiskReport.from_json(report)
        for root in report.roots:
            root.scope = scopes[root.path]
        return report

    def checkpoint(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, count: int) -> None:
        """The disk after the first COUNT projects: how cost grows, measured, not extrapolated.
        A growth point needs the totals only: the packages' figures are the final scan's."""
        report = self.scan(adapter, sandbox, self.scenario.projects[:count], packages=False)
        unit = self.record.layout(adapter.name, layout)
        unit.growth = [*unit.growth, GrowthPoint.of(count, report)]
        self.record.save()
        self.say(f"  {adapter.name} {layout}: {count} projects take {report.total.physical_bytes / 2**20:,.1f} MiB")

    def keep_lock(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str) -> None:
        """The first project's lock file, kept as RUN_DIR/locks/TOOL/LAYOUT/FILE: what the tool locked."""
        if adapter.lock_file is None:
            return
        path = str(PurePosixPath(sandbox.project_dir(self.scenario.projects[0].name), adapter.lock_file))
        data = self.backend.read(sandbox, path)
        if data is None:
            return
        target = self.record.out_dir / "locks" / adapter.name / layout / adapter.lock_file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.record.layout(adapter.name, layout).lock = os.path.relpath(target, self.record.out_dir)

    def measure_delete(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, private) -> None:
        """Delete the last project and read what the file system really freed, beside the scan's
        prediction (its exclusive_bytes), and what the whole fleet really spent beside its total."""
        entry = self.record.layout(adapter.name, layout)
        last = self.scenario.projects[-1].name
        root = next(iter(entry.disk.scoped(last)), None) if entry.disk else None
        entry.statvfs = truth = entry.statvfs or Statvfs()
        truth.fleet_bytes = private.used() - truth.start_bytes
        # The file system's own bookkeeping, which no file's blocks show: XFS's inodes (isize each),
        # btrfs's metadata (its own count); ext4's inode tables were written by mkfs.
        held_metadata = private.metadata()
        truth.fleet_metadata_bytes = _metadata(private, entry.disk.total.inodes if entry.disk else None,
                                               truth.start_metadata_bytes, held_metadata)  # fmt: skip
        if root is None:
            return
        held = private.used()
        self.backend.prepare(sandbox, {"remove": [sandbox.project_dir(last)]})
        freed = held - private.used()
        metadata = _metadata(private, root.exclusive_inodes, private.metadata(), held_metadata)
        truth.delete = Deleted(project=last, freed_bytes=freed, predicted_bytes=root.exclusive_bytes, metadata_bytes=metadata)
        self.record.save()

    def measure_disk(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, disk_watch=None) -> None:
        entry = self.record.layout(adapter.name, layout)
        if disk_watch:
            disk_watch.sample()  # every env of the fleet exists now: near the tool's peak
        report = self.scan(adapter, sandbox, self.scenario.projects)
        entry.disk = report
        if self.scenario.checkpoints:
            entry.growth = [*entry.growth, GrowthPoint.of(len(self.scenario.projects), report)]
        entry.link_mode, entry.link_mode_files = observed_link_mode(entry.project_roots())
        self.record.save()


def _metadata(private, inodes: int | None, low: int | None, high: int | None) -> int | None:
    """File-system metadata between two states: btrfs's count (HIGH - LOW), or INODES times the
    inode size where inodes are allocated as files are made (XFS; 0 for ext4)."""
    if low is not None and high is not None:
        return high - low
    if private.inode_bytes is not None and inodes is not None:
        return inodes * private.inode_bytes
    return None
