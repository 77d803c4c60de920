"""What every backend is, returns and raises: the Backend protocol the runner drives, StepResult,
the errors, and the constants both backends share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.settings.network import NetworkSpec
from harness.tools.base import Sandbox, Step, ToolAdapter

# Removals beside proofs and scans run at the lowest CPU priority: on two cores a removal at the
# proofs' priority takes its CPU from them (docs/notebook.md), and it waits on the disk anyway.
BACKGROUND_NICE = 19
# Only these of the user's variables reach a tool: locale and how to reach the network.
PASSED_THROUGH = ("LANG", "LC_ALL", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


class BackendError(Exception):
    """The backend cannot run at all (no interpreter, no engine): one line for the user."""


class ToolUnavailable(Exception):
    """One tool cannot be set up here; the run records why and goes on with the others."""


@dataclass(frozen=True)
class StepResult:
    exit_code: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kib: int
    tail: str  # last lines of the command's output
    log: str  # where its whole output is
    left_running: tuple[str, ...] = ()  # what the command left running, killed after it (sandbox/shim.py)
    started_at: float = 0.0  # epoch seconds: when the command started and ended
    ended_at: float = 0.0

    @classmethod
    def from_shim(cls, data: dict, log: str) -> StepResult:
        """The record shim.py wrote (as JSON) for one step, whose whole output is at LOG."""
        fields = ("exit_code", "wall_s", "user_s", "sys_s", "max_rss_kib", "tail")
        return cls(**{name: data[name] for name in fields}, log=log, left_running=tuple(data.get("left_running", ())),
                   started_at=data.get("started_at", 0.0), ended_at=data.get("ended_at", 0.0))  # fmt: skip

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Backend(Protocol):
    """Where steps run: each (tool, layout) gets a sandbox (its cache, HOME and projects); a cell
    is cleared and run in one round trip; envs are probed and trees scanned where they are."""

    name: str
    layouts: tuple[str, ...]

    def describe(self) -> dict: ...
    def free_space(self) -> tuple[str, int] | None: ...
    def python(self, version: str) -> str: ...
    def for_python(self, sandbox: Sandbox, version: str) -> Sandbox: ...
    def sandbox(self, adapter: ToolAdapter, python: str, layout: str, place: str | None = None) -> Sandbox: ...
    def reset(self, sandbox: Sandbox) -> None: ...
    def prepare(self, sandbox: Sandbox, plan: dict) -> None: ...
    def run(self, sandbox: Sandbox, step: Step, log_name: str) -> StepResult: ...
    def run_cell(self, sandbox: Sandbox, plan: dict, steps: list[Step], log_names: list[str]) -> list[StepResult]: ...
    def probe(self, sandbox: Sandbox, env_python: str, names: list[str]) -> dict: ...
    def scan(self, sandbox: Sandbox, roots: list[str], cache_roots: list[str], groups: dict[str, str] | None = None,
             packages: bool = True) -> dict: ...  # fmt: skip
    def read(self, sandbox: Sandbox, path: str) -> bytes | None: ...
    def wheelhouse(self, path: str | None) -> str | None: ...
    def serve(self, folder: Path, python: str) -> dict[str, str]: ...
    def shape(self, network: NetworkSpec | None) -> str | None: ...
    def shaped_by(self) -> str | None: ...
    def measure_link(self, sandbox: Sandbox) -> dict: ...
    def index_facts(self) -> dict: ...
    def traffic(self, windows: list[tuple[float, float]]) -> list[tuple[int, int]] | None: ...
    def serve_channel(self, folder: Path) -> str: ...
    def interpreter(self, version: str): ...
    def remove_trees(self, sandbox: Sandbox, paths: list[str], budget_s: float | None = None) -> bool: ...
    def retire(self, sandbox: Sandbox) -> Callable[..., bool]: ...
    def stop_background(self) -> None: ...
    def close(self) -> None: ...
