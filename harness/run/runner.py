"""Runner: materialize every project with each tool, prove the envs, scan, record.

It joins the pieces in one direction only: cells from the plan, steps from the adapter, results
from the backend, all into run.json (RunRecord) as each cell finishes.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from harness.backends.base import Backend, BackendError, StepResult, ToolUnavailable
from harness.packages import mirror
from harness.record import conditions, overhead
from harness.record.disk import CellSpent, Statvfs
from harness.record.facts import LinkMeasured, Network
from harness.record.model import Step as StepRecord
from harness.record.run import RunRecord, exit_status, now
from harness.record.states import LOCKED, WARM_LOCKED, states_of
from harness.run import diskspace, filesystems, proof, removals, resume
from harness.run.cachecheck import CacheChecker
from harness.run.concurrent import Concurrent
from harness.run.measure import Measurer
from harness.run.plan import first_repetition_end, last_fleet_cell, plan, tree_plan
from harness.run.progress import Display, RunProgress
from harness.run.source import given_channel, package_source, provide_channel, unreachable_indexes, wheels_only_reason
from harness.run.units import Unit, units_of
from harness.scenario.model import Scenario
from harness.tools.base import PackageSource, Sandbox, ToolAdapter
from harness.tools.registry import adapter_for


@dataclass(frozen=True)
class Resumed:
    """What a resumed run began with: the units it finished, its tools' versions, its closure."""

    finished: frozenset[tuple[str, str]]  # (tool, unit key)
    versions: dict[str, str]
    closure: str | None  # closure_hash of its mirror record, None before it had one
    overhead: dict[str, float]  # the harness's time account before the resume


def unit_unavailable(scenario: Scenario, unit: Unit) -> str | None:
    """Why UNIT cannot run on this machine as it is (a binary or channel missing, no root for a
    private file system), without running anything; None: it can."""
    adapter = adapter_for(scenario, unit.tool)
    # a mirror gets a converted conda channel when a tool needs one
    source = PackageSource(conda_channel=given_channel() or ("converted" if scenario.source == "mirror" else None))
    reason = adapter.unavailable(source, dict(os.environ))
    if not reason and unit.filesystem != filesystems.ENGINE:
        reason = filesystems.unavailable_reason(unit.filesystem)
    return reason


class Runner:
    def __init__(self, scenario: Scenario, backend: Backend, record: RunRecord, console: Console | None = None,
                 image_s: float = 0.0, units: list[Unit] | None = None, resumed: Resumed | None = None,
                 mirror: tuple[Path | None, float] = (None, 0.0)):  # fmt: skip
        self.scenario = scenario
        self.units = units if units is not None else units_of(scenario)  # a shard's, or every unit
        self.resumed = resumed
        self.backend = backend
        self.record = record
        self.console = console or Console(stderr=True)
        # The mirror folder made before the run (and its seconds), or None: made here.
        self.mirror_folder, mirror_s = mirror
        self.timers: Counter[str] = Counter({k: v for k, v in (("image", image_s), ("mirror", mirror_s)) if v})
        self._python: str | None = None
        self.urls: dict[str, str] = {}  # index -> URL of the mirror serving it
        self.channel: str | None = given_channel()  # the conda channel's URL where tools run
        self._stack = ExitStack()  # what lives as long as the run: the disk watch
        self.disk_watch: diskspace.DiskWatch | None = None
        self.private: filesystems.Private | None = None  # the running tool's own file system, if any
        self.measure = Measurer(scenario, backend, record, self.say)
        # Proofs side by side, one per core (at most 8: each may hold torch in memory), and four
        # removals at a time (they wait on the disk's discards, not on a core: docs/notebook.md):
        # what the harness does while nothing is timed.
        self.concurrent = Concurrent({"probe": min(8, os.cpu_count() or 1), "remove": 4})
        self.removals = removals.Removals(self.say)  # trees done with, removed in later windows
        self.progress = RunProgress.of(scenario, self.units, backend.layouts, resumed.finished if resumed else frozenset())
        self.unit: Unit | None = None  # the unit under way
        self.display: Display | None = None

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def run(self) -> int:
        started = time.perf_counter()
        status = "complete"
        try:
            blocked = self.prepare_source()
            self.check_space()
            for reason in blocked.values():
                self.say(f"[yellow]warning:[/] {reason}; projects that need it are recorded as failed")
            self.say(self.progress.plan_text(self.record.run.needed_bytes()))
            with Display(self.progress, self.console) as self.display:
                for unit in self.units:
                    self.unit = unit
                    self.progress.start_unit(unit)
                    if self.resumed and (unit.tool, unit.key) in self.resumed.finished:
                        self.say(f"[bold]{unit.tool}[/] ({unit.key}): finished before the resume, kept")
                    else:
                        self.run_tool(unit.tool, unit.layout, blocked, unit.filesystem)
                    self.progress.skip_unit(unit)  # whatever it did not get to
                    self.display.update()
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except diskspace.NotEnoughDisk:
            status = "refused"
            raise
        except resume.ResumeRefused:
            status = "interrupted"  # what it finished stays; a resume that matches goes on from it
            raise
        finally:
            try:
                if status == "complete":
                    with self.untimed("cleanup"):
                        self.removals.submit_all(self.concurrent)
                else:  # interrupted: no window, one removal after another, then the backend's close
                    self.removals.run_all_now()
            finally:
                self._stack.close()
            total = time.perf_counter() - started + self.timers["image"]
            steps = sum(s.wall_s for _, _, unit in self.record.run.units() for s in unit.steps)
            spent = overhead.account(total, steps, self.timers)
            if self.resumed:  # steps_s counts every kept step already; the rest adds up over sittings
                spent = overhead.combined([spent, self.resumed.overhead], once=("steps_s",))
            run = self.record.run
            run.overhead, run.status, run.finished = spent, status, now()
            run.conditions = conditions.recorded(run)  # what a claim's source is set against (envbench verify)
            self.record.save(readable=True)
        return exit_status(self.record.run)

    @contextmanager
    def untimed(self, name: str, fill: bool = False):
        """A window where nothing is timed, its wall time accounted as NAME: jobs submitted to
        the concurrent lanes inside run side by side and are waited for; with FILL, queued
        removals run beside them. What it changes on disk is no tool's peak; its jobs' intervals
        go to run.json (checked against the timed cells')."""
        try:
            fillers = (self.removals.next_slice, self.backend.stop_background) if fill else (None, None)
            with self.timed(name), self.disk_apart(), self.concurrent.window(fillers[0], stop_fillers=fillers[1]):
                yield
        finally:
            self.record.run.concurrent = self.concurrent.intervals
            self.record.save()

    @contextmanager
    def disk_apart(self):
        if self.disk_watch is None:
            yield
        else:
            with self.disk_watch.apart():
                yield

    @contextmanager
    def timed(self, name: str):
        """Adds the block's wall time to the harness overhead account `name`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timers[name] += time.perf_counter() - start

    def prepare_source(self) -> dict[str, str]:
        """Make the packages reachable; returns what blocks projects: {index or "*": reason}."""
        if self.scenario.source == "live":
            with self.timed("preflight"):
                return unreachable_indexes(self.scenario)
        if self.scenario.source != "mirror":
            return {}  # a wheelhouse: tools read the folder itself
        try:
            with self.timed("mirror"):
                folder = self.mirror_folder or mirror.prepare(self.scenario, self.say)
                self.urls = self.backend.serve(folder, self.python())
        except (mirror.MirrorError, BackendError) as exc:
            return {"*": f"the mirror could not be made: {exc}"}
        self.record.run.backend.update(self.backend.describe())  # serving changed its network
        if self.scenario.network:  # a resumed run keeps what its finished units measured
            kept = self.record.run.network.measured if self.record.run.network else {}
            self.record.run.network = Network(self.scenario.network.to_json(), self.backend.shaped_by(), kept)
        served = replace(mirror.summary(folder), urls=self.urls, server=self.backend.index_facts())
        if self.resumed:
            resume.check_closure(self.record, self.resumed.closure, served)
        self.record.run.mirror = served
        roles = ", ".join(f"{count} {role}" for role, count in served.roles.items())
        self.say(f"mirror: {len(served.files)} files ({roles}) served at {', '.join(self.urls.values())}")
        self.record.save()
        if self.channel is None and self.conda_tools():
            pythons = list(dict.fromkeys(self.scenario.python_of(p) for p in self.scenario.projects))
            with self.timed("mirror"):
                found = provide_channel(self.backend, folder, pythons, self.say)
            self.record.run.conda_channel = found
            self.channel = None if "error" in found else found.get("url")
            self.record.save()
        return {}

    def conda_tools(self) -> list[str]:
        """The scenario's tools (this shard's) that install from a conda channel and can run here."""
        wanted = dict.fromkeys(unit.tool for unit in self.units)
        return [tool for tool in wanted if self.adapter(tool).conda_channel
                and not unit_unavailable(self.scenario, next(u for u in self.units if u.tool == tool))]  # fmt: skip

    def check_space(self) -> None:
        """Refuse a run that would fill the disk (with its estimate: docs/running.md); then
        watch the disk, so each tool's real peak stands beside the estimate in run.json."""
        closure = self.record.run.mirror
        where = self.backend.free_space()
        if not closure or where is None:
            return  # live indexes or a remote engine: nothing known to estimate with
        path, free = where
        pythons = {p.name: self.scenario.python_of(p) for p in self.scenario.projects}
        estimate = diskspace.estimate(closure, self.scenario.projects, pythons)
        closure.estimate = {**estimate.to_json(), "free_bytes": free, "path": path}
        self.record.save()
        if free < estimate.needed_bytes:
            raise diskspace.NotEnoughDisk(estimate.refusal(self.scenario.path, path, free))
        self.disk_watch = self._stack.enter_context(diskspace.DiskWatch(path))

    def python(self) -> str:
        if self._python is None:
            self._python = self.backend.python(self.scenario.python)
        return self._python

    # -- one tool in one layout ------------------------------------------------------------------
    def run_tool(self, tool: str, layout: str, blocked: dict[str, str], filesystem: str = filesystems.ENGINE) -> None:
        """One tool in one layout, on the engine's file system or a private one of its own; its
        record is under LAYOUT, or LAYOUT@FILESYSTEM for a private one (same-volume@xfs)."""
        if filesystem == filesystems.ENGINE:
            self._run_tool(tool, layout, layout, blocked)
            return
        key = f"{layout}@{filesystem}"
        size = self.record.run.needed_bytes() or 0
        try:
            with self.timed("setup"), filesystems.private(filesystem, f"{self.record.run.run_id}-{tool}-{filesystem}",
                                                          size) as private:  # fmt: skip
                self.record.layout(tool, key).filesystem = private.to_json()
                self.private = private
                self._run_tool(tool, layout, key, blocked)
        except filesystems.Unavailable as exc:
            self.unavailable(tool, key, str(exc))
        finally:
            self.private = None

    def _run_tool(self, tool: str, layout: str, key: str, blocked: dict[str, str]) -> None:
        info = self.record.tool(tool)
        entry = self.record.layout(tool, key)
        adapter = self.adapter(tool)
        if adapter.variant_of:
            info.variant = {"of": adapter.variant_of, "env": adapter.variant_env} | (
                {"settings": adapter.settings} if adapter.settings else {})
        if adapter.bytecode != "default":
            info.bytecode = adapter.bytecode_setting()
        reason = adapter.unavailable(self.source_for(self.scenario.projects[0]), dict(os.environ))
        channel = self.record.run.conda_channel or {}
        if reason and adapter.conda_channel and "error" in channel:
            reason = channel["error"]
        if not reason and adapter.wheels_only:
            reason = wheels_only_reason(tool, self.record.run.mirror)
        if reason:
            self.unavailable(tool, key, reason)
            return
        self.say(f"[bold]{tool}[/] ({key}): setting up; {self.progress.line()}")
        sandbox = None
        disk_start = self.disk_watch.begin() if self.disk_watch else None
        apart_start = self.disk_watch.apart_bytes if self.disk_watch else 0
        try:
            try:
                with self.timed("setup"):
                    place = self.private.mount if self.private else None
                    sandbox = self.backend.sandbox(adapter, self.python(), layout, place)
                    sandbox = dataclasses.replace(sandbox, python_version=self.scenario.python)
                    self.backend.reset(sandbox)
                    if self.record.run.network and self.urls:  # what this unit's tools will get
                        measured = LinkMeasured.from_json(self.backend.measure_link(sandbox))
                        self.record.run.network.measured[f"{tool} {key}"] = measured
                        self.say(f"  link: {measured.rtt_ms:,.1f} ms round trip, {measured.bandwidth_mbit or 0:,.1f} Mbit/s")
                    if self.private:  # empty trees: what the file system holds before any tool runs
                        entry.statvfs = Statvfs(start_bytes=self.private.used(), start_metadata_bytes=self.private.metadata())
                    version_step = adapter.version_step(sandbox)
                    version = self.backend.run(sandbox, version_step, f"{tool}/{key}/version")
            except (ToolUnavailable, BackendError) as exc:
                self.unavailable(tool, key, str(exc))
                return
            if not version.ok:
                self.unavailable(tool, key, f"`{version_step.display()}` failed: {version.tail[-300:]}")
                return
            info.version = adapter.parse_version(version.tail)
            if self.resumed:
                resume.check_version(self.record, tool, info.version, self.resumed.versions)
            info.link_mode_configured = adapter.link_mode_configured()
            if adapter.stand_in or adapter.conda_channel and (self.record.run.conda_channel or {}).get("stand_in"):
                info.stand_in = adapter.measured_as(info.version)  # every figure of it is named so
            self.materialize(adapter, sandbox, key, blocked)
        finally:
            if disk_start is not None:
                entry.disk_peak_bytes = self.disk_watch.peak_since(disk_start)
                # left out of the peak: what windows changed meanwhile (earlier tools' trees removed)
                entry.disk_apart_bytes = self.disk_watch.apart_bytes - apart_start
            if sandbox is not None:
                with self.timed("cleanup"):
                    self.retire(sandbox, f"{tool}/{key}")
        failed = [f for f in self.record.run.failures if f.tool == tool and f.layout == key]
        entry.status = "failed" if failed else "ok"
        entry.reason = failed[0].reason if failed else ""
        self.record.settle(tool)
        self.record.save()
        self.say(f"[bold]{tool}[/] ({key}): {entry.status}")

    def retire(self, sandbox: Sandbox, what: str) -> None:
        """Done with SANDBOX: its logs come out now; its trees go after the removals queued
        before (removals.py). On a private file system they go now: the file system itself
        is dropped next."""
        removal = self.backend.retire(sandbox)
        if self.private:
            removal()
        else:
            self.removals.add(f"remove sandbox {what}", removal, last=True)

    def room_to_defer(self) -> bool:
        """Whether the trees of the tool that just finished may stay while the next one runs."""
        if self.disk_watch is None:  # nothing known to estimate with, or no peak to keep apart
            return False
        where = self.backend.free_space()
        estimate = self.record.run.needed_bytes()
        return removals.room_to_defer(where and where[1], estimate)

    def adapter(self, tool: str) -> ToolAdapter:
        return adapter_for(self.scenario, tool)

    def unavailable(self, tool: str, layout: str, reason: str) -> None:
        entry = self.record.layout(tool, layout)
        entry.status, entry.reason = "unavailable", reason
        self.record.settle(tool)
        self.record.save()
        self.say(f"[bold]{tool}[/] ({layout}): unavailable: {reason}")

    def source_for(self, project) -> PackageSource:
        wheelhouse = None if self.urls else self.backend.wheelhouse(self.scenario.wheelhouse)
        return package_source(self.scenario, project, self.urls, wheelhouse, self.channel)

    def materialize(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, blocked: dict[str, str]) -> None:
        """Every cell of the plan; envs proved as the fleet makes them; after the fleet (every
        project made once), measure.

        Envs are proved in batches of one per core, right after the fleet cells that made them:
        their files are still in the page cache then (this machine's kernel gives clean pages back
        within a minute: a proof of an env made twenty minutes earlier reads its gigabyte from
        disk), and the probe writes nothing the scan sees (Sandbox.probe_env), so proving first
        changes no figure.
        """
        tool = adapter.name
        entry = self.record.layout(tool, layout)
        cells = plan(self.scenario, tool, layout, lockable=adapter.lock_file is not None)
        entry.states = list(states_of(adapter.lock_file is not None))
        measured_after = last_fleet_cell(cells)
        cleaned_after = first_repetition_end(cells) if self.scenario.clean_cache else None
        made: set[str] = set()
        unproved: set[str] = set()
        for cell in cells:
            project = cell.project
            where = {"layout": layout, "project": project.name, "state": cell.state, "repetition": cell.repetition}
            missing = [blocked[index] for _, index in project.sources if index in blocked]
            missing += [blocked["*"]] if "*" in blocked else []
            if missing:
                if cell.fleet:
                    self.record.fail(tool, "install", missing[0], **where)
                    self.record.save()
            elif self.run_cell(adapter, sandbox, cell, where) and cell.fleet:  # run_cell saves the record
                made.add(project.name)
                unproved.add(project.name)
            if self.unit and self.display:
                self.progress.cell_done(self.unit)
                self.display.update()
            if unproved and (len(unproved) >= self.concurrent.lanes["probe"] or cell == measured_after):
                self.prove(adapter, sandbox, layout, unproved)
                unproved = set()
            if cell.fleet and cell.index + 1 in self.scenario.checkpoints and len(made) == cell.index + 1:
                with self.untimed("scan", fill=True):
                    self.measure.checkpoint(adapter, sandbox, layout, cell.index + 1)
            if cell == measured_after:
                self.after_fleet(adapter, sandbox, layout, made, clean=cell == cleaned_after)
            elif cell == cleaned_after:
                self.clean_cache(adapter, sandbox, layout, made)

    def prove(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, projects: set[str]) -> None:
        """Prove the envs of PROJECTS side by side, one per core, while nothing is timed (and
        queued removals go on beside them)."""
        with self.untimed("probe", fill=True):
            self.measure.prove(adapter, sandbox, layout, projects, self.concurrent)

    def clean_cache(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, made: set[str]) -> None:
        """The tool's cache commands on the cache the fleet filled, the envs proved again (cachecheck.py)."""
        with self.untimed("cache check"):
            CacheChecker(self.measure, self.concurrent, self.say).run(adapter, sandbox, layout, made, self.private)

    def after_fleet(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, made: set[str], clean: bool = False) -> None:
        """Every project is made (and proved): scan the trees, then queue the removal of the envs
        the matrix does not need (removals.py: they go beside the next tool's proofs and scans).
        Without room on the disk for the next tool besides them, they go now, with whatever
        earlier tools left, side by side (20 GB of small files wait on the disk's discards more
        than on a core).

        On a private file system the statvfs figures need every env, and the last one's deletion
        is itself measured: there the envs go with the file system.
        """
        tool = adapter.name
        with self.untimed("scan", fill=True):
            self.measure.measure_disk(adapter, sandbox, layout, self.disk_watch)
        self.measure.keep_lock(adapter, sandbox, layout)
        if self.private:
            with self.timed("statvfs"):
                self.measure.measure_delete(adapter, sandbox, layout, self.private)
        if clean:
            self.clean_cache(adapter, sandbox, layout, made)
        first = self.scenario.projects[0].name
        if not self.private:
            for project in self.scenario.projects:
                if project.name in made and project.name != first:
                    self.removals.add(f"remove {tool}/{layout}/{project.name}", functools.partial(
                        self.backend.remove_trees, sandbox, [sandbox.project_dir(project.name)]))  # fmt: skip
            if not self.room_to_defer():
                with self.untimed("remove"):
                    self.removals.submit_all(self.concurrent)
        left = [p.name for p in self.scenario.projects[1:] if self.private or p.name not in made]
        if left:  # envs a failed install left half made, or a private file system's
            with self.timed("reset"):
                self.backend.prepare(sandbox, {"remove": [sandbox.project_dir(name) for name in left]})

    def run_cell(self, adapter: ToolAdapter, sandbox: Sandbox, cell, where: dict) -> bool:
        """Clear what the cell's state says, run its steps; whether every step succeeded.

        The backend does both in one go (one engine round trip in a container); the time it
        takes beyond the steps' own is accounted as "cell".
        """
        tool, project = adapter.name, cell.project
        sandbox = self.measure.project_sandbox(sandbox, project)
        source = self.source_for(project)
        python = self.scenario.python_of(project)
        asked = proof.asked_of(project, self.record.run.mirror, python)
        files = adapter.project_files(project.name, asked, source, python)
        clear = tree_plan(cell, sandbox.project_dir(project.name), adapter.cache_dirs(sandbox), sandbox.home,
                          adapter.env_paths, adapter.lock_file, files)  # fmt: skip
        steps = adapter.install_steps(sandbox, project.name, asked, source)
        if cell.state in (LOCKED, WARM_LOCKED):
            steps = [step for step in steps if step.operation != "lock"]
        logs = [f"{tool}/{cell.layout}/r{cell.repetition}-{project.name}-{cell.state}-{step.operation}" for step in steps]
        before = None
        if self.private:  # the file system's own count of what the state's steps spend
            with self.timed("statvfs"):
                self.backend.prepare(sandbox, clear)
                clear, before = {}, self.private.used()
        started, span_start = time.perf_counter(), time.time()
        results = self.backend.run_cell(sandbox, clear, steps, logs)
        span = [span_start, time.time()]
        self.timers["cell"] += max(0.0, time.perf_counter() - started - sum(r.wall_s for r in results))
        if before is not None:
            with self.timed("statvfs"):
                spent = self.private.used() - before
            unit = self.record.layout(tool, cell.layout)
            unit.statvfs = unit.statvfs or Statvfs()
            unit.statvfs.cells.append(CellSpent(project=project.name, state=cell.state, repetition=cell.repetition,
                                                spent_bytes=spent))  # fmt: skip
        traffic = self.backend.traffic([(r.started_at, r.ended_at) for r in results]) or [(None, None)] * len(results)
        for step, result, (requests, fetched) in zip(steps, results, traffic, strict=False):
            record = replace(self.step_record(cell, step, result, span), requests=requests, fetched_bytes=fetched)
            self.record.layout(tool, cell.layout).steps.append(record)
            self.say(
                f"  {tool} {cell.layout} r{cell.repetition} {project.name} {cell.state:<11} {step.operation:<7} "
                f"{result.wall_s:7.2f} s"
                + ("" if result.ok else f"  [red]exit {result.exit_code}[/]")
                + (f"  [yellow]{len(result.left_running)} processes left running, killed[/]" if result.left_running else "")
            )
            if not result.ok:
                reason = f"`{step.display()}` exited {result.exit_code}"
                self.record.fail(tool, step.operation, reason, tail=result.tail, **where)
        self.record.save()
        return len(results) == len(steps) and all(result.ok for result in results)

    def step_record(self, cell, step, result: StepResult, span: list[float]) -> StepRecord:
        return StepRecord(
            tool=cell.tool, layout=cell.layout, project=cell.project.name, state=cell.state, fleet=cell.fleet,
            operation=step.operation, repetition=cell.repetition, argv=list(step.argv), exit_code=result.exit_code,
            wall_s=result.wall_s, user_s=result.user_s, sys_s=result.sys_s, max_rss_kib=result.max_rss_kib,
            log=os.path.relpath(result.log, self.record.out_dir.resolve()),
            span=span,  # the cell's host interval: no concurrent job may fall inside it
            tail=None if result.ok else result.tail,
            # killed after the step: their work is in no step's figures
            left_running=list(result.left_running) if result.left_running else None,
        )  # fmt: skip
