"""run.json as typed records: the run, each tool, each unit (a tool in one layout), each env and
each step. They own reading and writing the file's JSON: nothing else reads run.json by key.

`from_json` takes what any run.json since schema 1 holds (a key an older run lacks reads as its
default: an optional key as None, and is left out again on writing, so an old run's record
round-trips unchanged); keys a record does not name are kept in `extra` and written back.
Sub-documents with schemas of their own stay plain JSON: the scanner's disk report
(harness/sandbox/scan.py), the mirror's record (harness/packages/mirror.py), the machine's and
the backend's facts.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

SCHEMA = 1
FINISHED = ("ok", "failed", "unavailable")  # a unit's final statuses


def optional(default=None, **more):
    """A key older runs may lack: None reads as absent and is not written."""
    return field(default=default, metadata={"optional": True, **more})


def nested(kind: str, record: type, optional_key: bool = False):
    """A list or dict (by name) of RECORDs."""
    factory = list if kind == "list" else dict
    return field(default_factory=factory, metadata={"nested": (kind, record), "optional": optional_key})


class Record:
    """The generic part: JSON in and out, field by field, in declaration order."""

    extra: dict

    @classmethod
    def from_json(cls, data: dict):
        values, named = {}, set()
        for f in fields(cls):
            if f.name == "extra":
                continue
            named.add(f.name)
            if f.name in data:
                values[f.name] = _load(f, data[f.name])
        return cls(**values, extra={k: v for k, v in data.items() if k not in named})

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.metadata.get("optional") and (value is None or (f.metadata.get("nested") and not value)):
                continue
            out[f.name] = _dump(f, value)
        return {**out, **self.extra}


def _load(f, value):
    kind, record = f.metadata.get("nested", (None, None))
    if kind == "list":
        return [record.from_json(item) for item in value]
    if kind == "dict":
        return {key: record.from_json(item) for key, item in value.items()}
    return value


def _dump(f, value):
    kind, _ = f.metadata.get("nested", (None, None))
    if kind == "list":
        return [item.to_json() for item in value]
    if kind == "dict":
        return {key: item.to_json() for key, item in value.items()}
    return value


@dataclass
class Step(Record):
    """One step run: where it belongs in the plan, its command and what the shim measured."""

    tool: str = ""
    layout: str = ""
    project: str = ""
    state: str = ""
    fleet: bool | None = optional()  # part of the pass over every project (runs before it: absent)
    operation: str = ""
    repetition: int = 1
    argv: list = field(default_factory=list)
    exit_code: int = 0
    wall_s: float = 0.0
    user_s: float = 0.0
    sys_s: float = 0.0
    max_rss_kib: int = 0
    log: str = ""  # relative to the run folder (harness/record/logs.py)
    span: list | None = optional()  # the cell's host interval: no side-by-side job may fall inside it
    tail: str | None = optional()  # the output's last lines, for a failed step
    left_running: list | None = optional()  # what the command left running, killed after it
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass
class Env(Record):
    """The proof of one project's env (harness/run/proof.py) and what the probe found in it."""

    proved: bool = False
    python: str | None = None
    imports: dict = field(default_factory=dict)
    import_needs: dict | None = optional()  # package -> why its import failed, for its own needs
    clashes: dict | None = optional()  # file -> the packages that both ship it
    kept_seeds: dict | None = optional()  # a seeded package kept because it satisfies the request
    faults: list | None = optional()  # why the env is not what was asked
    packages: list = field(default_factory=list)  # name, version, sha256, installed_bytes
    probe_timing: dict | None = optional()
    error: str | None = optional()
    extra: dict = field(default_factory=dict)


@dataclass
class Unit(Record):
    """What one tool did in one layout (`same-volume`, `split-volume@xfs`): its steps, envs and
    disk report, and the link mode the scan saw."""

    status: str = "running"
    reason: str = ""
    link_mode: str | None = None
    link_mode_files: dict = field(default_factory=dict)
    steps: list[Step] = nested("list", Step)
    envs: dict[str, Env] = nested("dict", Env)
    disk: dict | None = None  # the scanner's report, with each root's scope
    states: list | None = optional()
    growth: list | None = optional()  # the disk after N projects (checkpoints)
    filesystem: dict | None = optional()  # a private file system's kind and options
    statvfs: dict | None = optional()  # its own count of bytes: cells, fleet, one project deleted
    lock: str | None = optional()  # the first project's lock file, kept under locks/
    disk_peak_bytes: int | None = optional()
    disk_apart_bytes: int | None = optional()
    part: str | None = optional()  # the part of a merged run that measured it
    extra: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def project_roots(self) -> list[dict]:
        """The disk report's roots that are project folders (not the cache or HOME)."""
        return [r for r in (self.disk or {}).get("roots", []) if r["scope"] not in ("cache", "home")]


@dataclass
class Tool(Record):
    """A tool in a run: its version and settings, and one unit per layout it ran in."""

    status: str = "running"
    reason: str = ""
    version: str | None = None
    link_mode_configured: str | None = None
    layouts: dict[str, Unit] = nested("dict", Unit)
    variant: dict | None = optional()  # the tool a variant varies, and the variables it adds
    stand_in: str | None = optional()  # what its figures measure when they are a stand-in's
    part: str | None = optional()
    extra: dict = field(default_factory=dict)

    def settle(self) -> None:
        """The tool's status from its units: failed in any, else ok in any, else unavailable."""
        for status in ("failed", "ok", "unavailable"):
            matching = [u for u in self.layouts.values() if u.status == status]
            if matching:
                self.status = status
                self.reason = next((u.reason for u in matching if u.reason), "")
                return


@dataclass
class Failure(Record):
    """One failure: the tool, what failed (an operation, the proof) and where, with its reason."""

    tool: str = ""
    what: str = ""
    reason: str = ""
    layout: str | None = optional()
    project: str | None = optional()
    state: str | None = optional()
    repetition: int | None = optional()
    tail: str | None = optional()
    part: str | None = optional()
    extra: dict = field(default_factory=dict)


@dataclass
class Run(Record):
    """The whole record (docs/measurement.md, "run.json")."""

    schema: int = SCHEMA
    run_id: str = ""
    command: list = field(default_factory=list)
    started: str | None = None
    finished: str | None = None
    status: str = "running"  # running | complete | interrupted | refused
    scenario: dict = field(default_factory=dict)  # Scenario.to_json()
    machine: dict = field(default_factory=dict)
    backend: dict = field(default_factory=dict)
    tools: dict[str, Tool] = nested("dict", Tool)
    failures: list[Failure] = nested("list", Failure)
    overhead: dict = field(default_factory=dict)  # the harness's time (harness/record/overhead.py)
    mirror: dict | None = optional()  # the mirror's closure (packages/mirror.summary) and the disk estimate
    conda_channel: dict | None = optional()
    concurrent: list | None = optional()  # intervals of the jobs run side by side
    shard: dict | None = optional()
    resumes: list | None = optional()
    merged: str | None = optional()
    parts: list | None = optional()
    extra: dict = field(default_factory=dict)

    def units(self):
        """(tool, layout key, unit) for every unit of every tool, in run order."""
        for name, tool in self.tools.items():
            for key, unit in tool.layouts.items():
                yield name, key, unit

    def tool(self, name: str) -> Tool:
        return self.tools.setdefault(name, Tool())

    def unit(self, tool: str, key: str) -> Unit:
        return self.tool(tool).layouts.setdefault(key, Unit())

    @property
    def projects(self) -> list[dict]:
        return self.scenario.get("projects", [])


def defaults_of(record: type) -> dict:
    """Each field's default (what a key an older run lacks reads as)."""
    out = {}
    for f in fields(record):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out
