"""What a run was asked and where it ran, as run.json records it: the scenario as the run read it
(`ScenarioCopy`, harness/scenario/model.py's Scenario.to_json) and, for a merged run, each part
it was merged from (`Part`). The machine's and the backend's facts stay plain dicts: facts to
show, whose keys differ by backend, not figures anything computes with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.record.base import Record, nested, optional


@dataclass
class ProjectCopy(Record):
    """One project as the run read it."""

    name: str = ""
    group: str | None = optional()
    python: str | None = optional()
    dependencies: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    constraints: list[str] | None = optional()
    hashes: dict | None = optional()
    origin: str | None = optional()  # the user's file an ad-hoc scenario was made from


@dataclass
class ScenarioCopy(Record):
    """The scenario as the run read it: every key, so that a resume or a merge can tell it changed."""

    path: str | None = optional()
    name: str = ""
    description: str = ""
    python: str = ""
    tools: list[str] = field(default_factory=list)
    repetitions: int | None = optional()
    indexes: dict | None = optional()
    wheelhouse: str | None = optional()
    layouts: list[str] | None = optional()
    source: str | None = optional()
    synthetic: list | None = optional()
    checkpoints: list | None = optional()
    variants: dict | None = optional()
    filesystems: list[str] | None = optional()
    projects: list[ProjectCopy] = nested("list", ProjectCopy)
    network: dict | None = optional()  # the link configured (harness/settings/network.py)
    bytecode: str | None = optional()  # compile | skip (absent: each tool's default)
    system_packages: list[str] | None = optional()  # Debian packages the tool images add
    clean_cache: bool | None = optional()  # absent: the run did not clean caches after the fleet


@dataclass
class LinkMeasured(Record):
    """What a tool container measured of its link to the index (sandbox/netprobe.py)."""

    connect_ms: float = 0.0
    first_byte_ms: float = 0.0  # the first request on a new connection
    rtt_ms: float = 0.0  # least time to the first byte on a kept-alive connection
    bandwidth_mbit: float | None = None
    bytes: int = 0  # fetched to measure the bandwidth


@dataclass
class Network(Record):
    """The link the run's tools fetched over: as configured, what shaped it, and per unit
    ("tool key") what a tool container measured at the unit's start."""

    configured: dict = field(default_factory=dict)  # rtt_ms, bandwidth_mbit[, loss_percent]
    mechanism: str | None = None  # e.g. "proxy (latency), tbf (bandwidth)"
    measured: dict[str, LinkMeasured] = nested("dict", LinkMeasured)


@dataclass
class Part(Record):
    """One run a merged run was made from: its command, time, machine and backend, and its tools."""

    run_id: str = ""
    dir: str = ""
    command: list[str] = field(default_factory=list)
    started: str = ""
    finished: str | None = None
    status: str = ""
    machine: dict = field(default_factory=dict)
    backend: dict = field(default_factory=dict)
    tools: list[str] = field(default_factory=list)
    units: list[str] | None = optional()  # a shard's units ("tool key"), for which part measured what
    shard: str | None = optional()
