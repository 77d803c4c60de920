"""run.json as typed records: the run, each tool, each unit (a tool in one layout), each env and
each step. They own reading and writing the file's JSON: nothing else reads run.json by key.

How a record reads and writes its JSON, and reads older runs: harness/record/base.py. The disk
report's records: harness/record/disk.py; the scenario as read and a merged run's parts:
harness/record/facts.py. Sub-documents that are facts rather than figures stay plain JSON: the
machine's and the backend's, a private file system's options.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

from harness.record.base import Record, nested, one, optional
from harness.record.disk import CacheCheck, DiskReport, DiskRoot, GrowthPoint, Statvfs
from harness.record.facts import Network, Part, ProjectCopy, ScenarioCopy

SCHEMA = 1
FINISHED = ("ok", "failed", "unavailable")  # a unit's final statuses


@dataclass
class MirrorFile(Record):
    """One file the mirror serves, by the role it plays (packages/closure.py)."""

    name: str = ""
    version: str = ""
    filename: str = ""
    sha256: str = ""
    size: int = 0
    index: str = ""
    url: str = ""
    role: str | None = optional()  # install | resolve | build | sdist-metadata; older records leave out install
    record_digest: str | None = optional()  # an installed wheel's RECORD digest (sandbox/probe.py's)
    unpacked_bytes: int | None = optional()
    source_bytes: int | None = optional()  # of those, Python source (.py), which pip compiles once more

    @property
    def kind(self) -> str:
        return self.role or "install"

    @property
    def installs(self) -> bool:
        """Whether the target installs it (else lockers only read it, or builds need it)."""
        return self.kind == "install"

    @property
    def unpacked(self) -> int:
        """What it holds unpacked (its size where the record predates the figure)."""
        return self.size if self.unpacked_bytes is None else self.unpacked_bytes


@dataclass
class InstallSet(Record):
    """One distinct project's install set on the target: its releases and the file of each."""

    dependencies: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    python: str | None = optional()
    installs: list = field(default_factory=list)  # [name, version]
    files: list | None = optional()  # the file installed for each release, in the order of installs
    constraints: list | None = optional()


@dataclass
class Mirror(Record):
    """The mirror a run installed from (packages/mirror.summary), or a mirror's closure.json."""

    schema: int | None = optional()  # a closure.json's own keys: its schema, scenario and Python
    scenario: str | None = optional()
    python: str | None = optional()
    folder: str | None = optional()
    resolved_at: str | None = optional()
    urls: dict | None = optional()  # index -> where the tools reach it
    server: dict | None = optional()  # what serves it and which parts of the simple API it speaks
    files: list[MirrorFile] = nested("list", MirrorFile)
    projects: list[InstallSet] = nested("list", InstallSet, optional_key=True)
    bytes: int | None = optional()
    unpacked_bytes: int | None = optional()
    source_bytes: int | None = optional()
    roles: dict | None = optional()
    builds: list | None = optional()  # what builds of one name hold alike (packages/contents.py)
    estimate: dict | None = optional()  # the disk check before any tool ran (run/diskspace.py)

    @classmethod
    def from_json(cls, data: dict):
        """Records before 2026-11-24 call the files `wheels`: read as files (and written so)."""
        if "wheels" in data and "files" not in data:
            data = {("files" if k == "wheels" else k): v for k, v in data.items()}
        return super().from_json(data)

    @property
    def installed(self) -> list[MirrorFile]:
        return [f for f in self.files if f.installs]


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
    requests: int | None = optional()  # what the index server answered during the step (None: not logged)
    fetched_bytes: int | None = optional()

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass
class InstalledDist(Record):
    """One distribution the probe found in an env (sandbox/probe.py), with its RECORD's check."""

    name: str = ""
    version: str = ""
    sha256: str = ""
    installed_bytes: int = 0
    record_files: int | None = optional()
    record_bad: list | None = optional()  # files whose hash or size differ from RECORD's (the first few)
    record_bad_count: int | None = optional()
    record_clashes: list | None = optional()
    record_recompiled: int | None = optional()  # RECORD's .pyc files the installer compiled anew (pip over numpy 1.26's)
    record_unhashed: int | None = optional()  # RECORD entries with an empty hash (PDM's linked files): hashed as found


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
    packages: list[InstalledDist] = nested("list", InstalledDist)
    probe_timing: dict | None = optional()
    pyc_files: int | None = optional()  # the .pyc files the tool compiled into the env, each inode once
    pyc_bytes: int | None = optional()
    error: str | None = optional()


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
    disk: DiskReport | None = one(DiskReport, optional_key=False)  # the scanner's, each root with its scope
    states: list | None = optional()
    growth: list[GrowthPoint] = nested("list", GrowthPoint, optional_key=True)  # the disk after N projects
    filesystem: dict | None = optional()  # a private file system's kind and options
    statvfs: Statvfs | None = one(Statvfs)  # its own count of bytes: cells, fleet, one project deleted
    lock: str | None = optional()  # the first project's lock file, kept under locks/
    disk_peak_bytes: int | None = optional()
    disk_apart_bytes: int | None = optional()
    part: str | None = optional()  # the part of a merged run that measured it
    cache_check: CacheCheck | None = one(CacheCheck)  # scenario key clean_cache

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def project_roots(self) -> list[DiskRoot]:
        """The disk report's roots that are project folders (not the cache or HOME)."""
        return self.disk.project_roots() if self.disk else []


@dataclass
class Tool(Record):
    """A tool in a run: its version and settings, and one unit per layout it ran in."""

    status: str = "running"
    reason: str = ""
    version: str | None = None
    link_mode_configured: str | None = None
    layouts: dict[str, Unit] = nested("dict", Unit)
    variant: dict | None = optional()  # the tool a variant varies, and the variables it adds
    bytecode: str | None = optional()  # the scenario's bytecode mode and what carried it out
    stand_in: str | None = optional()  # what its figures measure when they are a stand-in's
    part: str | None = optional()

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


@dataclass
class Run(Record):
    """The whole record (docs/measurement.md, "run.json")."""

    schema: int = SCHEMA
    run_id: str = ""
    command: list = field(default_factory=list)
    started: str | None = None
    finished: str | None = None
    status: str = "running"  # running | complete | interrupted | refused
    scenario: ScenarioCopy = field(default_factory=ScenarioCopy, metadata={"nested": ("one", ScenarioCopy)})
    machine: dict = field(default_factory=dict)
    backend: dict = field(default_factory=dict)
    tools: dict[str, Tool] = nested("dict", Tool)
    failures: list[Failure] = nested("list", Failure)
    overhead: dict = field(default_factory=dict)  # the harness's time (harness/record/overhead.py)
    mirror: Mirror | None = one(Mirror)  # the mirror's closure and the disk estimate
    conda_channel: dict | None = optional()
    concurrent: list | None = optional()  # intervals of the jobs run side by side
    shard: dict | None = optional()
    resumes: list | None = optional()
    merged: str | None = optional()
    parts: list[Part] = nested("list", Part, optional_key=True)  # of a merged run
    network: Network | None = one(Network)  # where the scenario shapes the link (harness/settings/network.py)
    conditions: dict | None = optional()  # what the run was measured under (harness/record/conditions.py)

    def units(self):
        """(tool, layout key, unit) for every unit of every tool, in run order."""
        for name, tool in self.tools.items():
            for key, unit in tool.layouts.items():
                yield name, key, unit

    def tool(self, name: str) -> Tool:
        return self.tools.setdefault(name, Tool())

    def unit(self, tool: str, key: str) -> Unit:
        return self.tool(tool).layouts.setdefault(key, Unit())

    def needed_bytes(self) -> int | None:
        """The disk the run was estimated to need (its mirror's estimate), None when not known."""
        return (self.mirror.estimate or {}).get("needed_bytes") if self.mirror else None

    @property
    def projects(self) -> list[ProjectCopy]:
        return self.scenario.projects


def defaults_of(record: type) -> dict:
    """Each field's default (what a key an older run lacks reads as)."""
    out = {}
    for f in fields(record):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out
