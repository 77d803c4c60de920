"""What every backend returns, and the errors it may raise."""

from __future__ import annotations

from dataclasses import dataclass

# Removals beside proofs and scans run at the lowest CPU priority: on two cores a removal at the
# same priority took its CPU seconds from the proofs (two pip + venv env copies removed beside two
# uv proofs: imports 2.5-3.6 s, against 1.9-2.5 s alone and 2.1-2.8 s with the removals at nice 19;
# measured on the host, 2026-12-05). It waits on the disk most of the time anyway.
BACKGROUND_NICE = 19


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
    left_running: tuple[str, ...] = ()  # what the command left running, killed after it (shim.py)

    @classmethod
    def from_shim(cls, data: dict, log: str) -> StepResult:
        """The record shim.py wrote (as JSON) for one step, whose whole output is at LOG."""
        fields = ("exit_code", "wall_s", "user_s", "sys_s", "max_rss_kib", "tail")
        return cls(**{name: data[name] for name in fields}, log=log, left_running=tuple(data.get("left_running", ())))

    @property
    def ok(self) -> bool:
        return self.exit_code == 0
