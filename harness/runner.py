"""Runner: materialize every project with each tool, prove the envs, scan, record.

It joins the pieces in one direction only: cells from the plan, steps from the adapter, results
from the backend, all into run.json (RunRecord) as each cell finishes.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlparse

from packaging.requirements import Requirement
from rich.console import Console

from . import mirror
from .backends.base import BackendError, StepResult, ToolUnavailable
from .plan import plan
from .results import RunRecord, now
from .scenario import Scenario
from .tools import ADAPTERS, PackageSource, Sandbox, ToolAdapter

# Scan classes of env files -> the link mode they show.
LINK_CLASSES = {
    "hardlinked_cache": "hardlink",
    "hardlinked_roots": "hardlink",
    "symlinks_out": "symlink",
    "reflinked": "clone",
    "unique": "copy",
}


def unreachable_indexes(scenario: Scenario, timeout: float = 15.0) -> dict[str, str]:
    """Named indexes that do not answer from here (source: live): name -> one-line reason."""
    used = {index for project in scenario.projects for _, index in project.sources}
    failures = {}
    for name in sorted(used):
        url = scenario.index_url(name) + "/"
        try:
            with urllib.request.urlopen(url, timeout=timeout):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                failures[name] = f"index {name} ({url}) answered HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            failures[name] = f"index {name} ({url}) is unreachable from here: {reason}"
    return failures


def observed_link_mode(project_reports: list[dict]) -> tuple[str | None, dict[str, int]]:
    """The link mode most env files show, and the file count behind each mode."""
    counts: Counter[str] = Counter()
    for report in project_reports:
        for link_class, mode in LINK_CLASSES.items():
            entry = report["links"].get(link_class)
            if entry:
                counts[mode] += entry["count"]
    if not counts:
        return None, {}
    return counts.most_common(1)[0][0], dict(counts)


class Runner:
    def __init__(self, scenario: Scenario, backend, record: RunRecord, console: Console | None = None):
        self.scenario = scenario
        self.backend = backend
        self.record = record
        self.console = console or Console(stderr=True)
        self.timers: Counter[str] = Counter()
        self._python: str | None = None
        self.urls: dict[str, str] = {}  # index -> URL of the mirror serving it

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def run(self) -> int:
        started = time.perf_counter()
        status = "complete"
        try:
            blocked = self.prepare_source()
            for reason in blocked.values():
                self.say(f"[yellow]warning:[/] {reason}; projects that need it are recorded as failed")
            for layout in self.scenario.layouts:
                for tool in self.scenario.tools:
                    self.run_tool(tool, layout, blocked)
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            total = time.perf_counter() - started
            steps = sum(s["wall_s"] for _, _, entry in self.record.layouts() for s in entry["steps"])
            accounted = steps + sum(self.timers.values())
            self.record.data["overhead"] = {
                "total_s": total,
                "steps_s": steps,
                **{f"{name}_s": value for name, value in sorted(self.timers.items())},
                "other_s": max(0.0, total - accounted),
            }
            self.record.data["status"] = status
            self.record.data["finished"] = now()
            self.record.save()
        tools = self.record.data["tools"].values()
        failed = any(t["status"] == "failed" for t in tools)
        return 1 if failed or not any(t["status"] == "ok" for t in tools) else 0

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
                folder = mirror.prepare(self.scenario, self.say)
                self.urls = self.backend.serve(folder, self.python())
        except (mirror.MirrorError, BackendError) as exc:
            return {"*": f"the mirror could not be made: {exc}"}
        self.record.data["backend"].update(self.backend.describe())  # serving changed its network
        closure = json.loads((folder / "closure.json").read_text())["wheels"]
        self.record.data["mirror"] = {
            "folder": str(folder),
            "urls": self.urls,
            "wheels": closure,
            "bytes": sum(w["size"] for w in closure),
        }
        self.say(f"mirror: {len(closure)} wheels served at {', '.join(self.urls.values())}")
        self.record.save()
        return {}

    def python(self) -> str:
        if self._python is None:
            self._python = self.backend.python(self.scenario.python)
        return self._python

    # -- one tool in one layout ------------------------------------------------------------------
    def run_tool(self, tool: str, layout: str, blocked: dict[str, str]) -> None:
        info = self.record.tool(tool)
        entry = self.record.layout(tool, layout)
        adapter = ADAPTERS.get(tool)
        if adapter is None:
            self.unavailable(tool, layout, f"envbench has no adapter for {tool} yet")
            return
        self.say(f"[bold]{tool}[/] ({layout}): setting up")
        sandbox = None
        try:
            try:
                with self.timed("setup"):
                    sandbox = self.backend.sandbox(adapter, self.python(), layout)
                    self.backend.reset(sandbox)
                    version_step = adapter.version_step(sandbox)
                    version = self.backend.run(sandbox, version_step, f"{tool}/{layout}/version")
            except (ToolUnavailable, BackendError) as exc:
                self.unavailable(tool, layout, str(exc))
                return
            if not version.ok:
                self.unavailable(tool, layout, f"`{version_step.display()}` failed: {version.tail[-300:]}")
                return
            info["version"] = adapter.parse_version(version.tail)
            info["link_mode_configured"] = adapter.link_mode_configured()
            made = self.materialize(adapter, sandbox, layout, blocked)
            with self.timed("probe"):
                self.prove(adapter, sandbox, layout, made)
            with self.timed("scan"):
                self.measure_disk(adapter, sandbox, layout)
        finally:
            if sandbox is not None:
                with self.timed("cleanup"):
                    self.backend.remove(sandbox)
        failed = [f for f in self.record.data["failures"] if f["tool"] == tool and f["layout"] == layout]
        entry["status"] = "failed" if failed else "ok"
        entry["reason"] = failed[0]["reason"] if failed else ""
        self.record.settle(tool)
        self.record.save()
        self.say(f"[bold]{tool}[/] ({layout}): {entry['status']}")

    def unavailable(self, tool: str, layout: str, reason: str) -> None:
        entry = self.record.layout(tool, layout)
        entry["status"], entry["reason"] = "unavailable", reason
        self.record.settle(tool)
        self.record.save()
        self.say(f"[bold]{tool}[/] ({layout}): unavailable: {reason}")

    def source_for(self, project) -> PackageSource:
        if self.urls:  # the mirror: every index of the scenario has its folder there
            pinned = tuple((package, self.urls[index]) for package, index in project.sources)
            # pip caches plain-HTTP downloads only from trusted hosts, loopback included.
            hosts = {urlparse(url).hostname for url in self.urls.values()}
            default = self.urls.get(mirror.PYPI) or next(iter(self.urls.values()))
            return PackageSource(pinned=pinned, index_url=default, trusted_hosts=tuple(sorted(hosts)))
        pinned = tuple((package, self.scenario.index_url(index)) for package, index in project.sources)
        return PackageSource(wheelhouse=self.backend.wheelhouse(self.scenario.wheelhouse), pinned=pinned)

    def materialize(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, blocked: dict[str, str]) -> set[str]:
        """Every repetition from an empty cache; returns the projects whose last install worked."""
        tool = adapter.name
        entry = self.record.layout(tool, layout)
        made: set[str] = set()
        for cells in plan(self.scenario, tool, layout):
            with self.timed("reset"):
                self.backend.reset(sandbox)
            made = set()
            for cell in cells:
                project = cell.project
                where = {"layout": layout, "project": project.name, "state": cell.state, "repetition": cell.repetition}
                missing = [blocked[index] for _, index in project.sources if index in blocked]
                missing += [blocked["*"]] if "*" in blocked else []
                if missing:
                    if cell.repetition == 1:
                        self.record.fail(tool, "install", missing[0], **where)
                    continue
                self.backend.make_project(sandbox, project.name)
                steps = adapter.install_steps(sandbox, project.name, project.dependencies, self.source_for(project))
                for step in steps:
                    log = f"{tool}/{layout}/r{cell.repetition}-{project.name}-{step.operation}"
                    result = self.backend.run(sandbox, step, log)
                    entry["steps"].append(self.step_record(cell, step, result))
                    self.say(
                        f"  {tool} {layout} r{cell.repetition} {project.name} {cell.state:<4} {step.operation:<7} "
                        f"{result.wall_s:7.2f} s" + ("" if result.ok else f"  [red]exit {result.exit_code}[/]")
                    )
                    if not result.ok:
                        reason = f"`{step.display()}` exited {result.exit_code}"
                        self.record.fail(tool, step.operation, reason, tail=result.tail, **where)
                        break
                else:
                    made.add(project.name)
                self.record.save()
        return made

    def step_record(self, cell, step, result: StepResult) -> dict:
        record = {
            "tool": cell.tool,
            "layout": cell.layout,
            "project": cell.project.name,
            "state": cell.state,
            "operation": step.operation,
            "repetition": cell.repetition,
            "argv": list(step.argv),
            "exit_code": result.exit_code,
            "wall_s": result.wall_s,
            "user_s": result.user_s,
            "sys_s": result.sys_s,
            "max_rss_kib": result.max_rss_kib,
            "log": os.path.relpath(result.log, self.record.out_dir.resolve()),
        }
        if not result.ok:
            record["tail"] = result.tail
        return record

    def prove(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str, projects: set[str]) -> None:
        """Import each env's requested packages: a tool that installs nothing cannot look efficient."""
        entry = self.record.layout(adapter.name, layout)
        for project in self.scenario.projects:
            if project.name not in projects:
                continue
            names = [Requirement(dep).name for dep in project.dependencies]
            probe = self.backend.probe(sandbox, adapter.env_python(sandbox, project.name), names)
            imports = probe.get("imports", {})
            proved = "error" not in probe and bool(imports) and all(error is None for error in imports.values())
            entry["envs"][project.name] = {
                "proved": proved,
                "python": probe.get("python"),
                "imports": imports,
                "packages": probe.get("packages", []),
                **({"error": probe["error"]} if "error" in probe else {}),
            }
            if not proved:
                bad = probe.get("error") or "; ".join(f"{m}: {e}" for m, e in imports.items() if e)
                reason = f"env of {project.name} does not import: {bad}"[:500]
                self.record.fail(adapter.name, "prove", reason, layout=layout, project=project.name)
        self.record.save()

    def measure_disk(self, adapter: ToolAdapter, sandbox: Sandbox, layout: str) -> None:
        entry = self.record.layout(adapter.name, layout)
        scopes = {path: "cache" for path in adapter.cache_dirs(sandbox)}
        scopes[sandbox.home] = "home"
        for project in self.scenario.projects:
            scopes[sandbox.project_dir(project.name)] = project.name
        roots = [path for path in scopes if self.backend.exists(sandbox, path)]
        cache_roots = [path for path in roots if scopes[path] == "cache"]
        report = self.backend.scan(sandbox, roots, cache_roots)
        for root in report["roots"]:
            root["scope"] = scopes[root["path"]]
        entry["disk"] = report
        project_reports = [r for r in report["roots"] if r["scope"] not in ("cache", "home")]
        entry["link_mode"], entry["link_mode_files"] = observed_link_mode(project_reports)
        self.record.save()
