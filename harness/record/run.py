"""run.json: the one record of a run, rewritten atomically after every cell.

Everything a report needs is here (docs/measurement.md, "Outputs of a run"); reports read only this.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from harness import __version__
from harness.record.facts import ScenarioCopy
from harness.record.model import SCHEMA, Failure, Mirror, Run, Tool, Unit


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def machine_facts() -> dict:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = None
    return {
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "harness_python": platform.python_version(),
        "envbench": __version__,
    }


def cpu_model() -> str | None:
    """The CPU's model name (Linux: /proc/cpuinfo), what tells machines of one kind from another."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or None


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class RunRecord:
    """The growing run.json of one run (a typed Run); `save()` after every change that matters."""

    def __init__(self, out_dir: Path, run: Run):
        self.out_dir = Path(out_dir)
        self.run = run

    @classmethod
    def start(cls, out_dir: Path, run_id: str, command: list[str], scenario: dict, backend: dict) -> RunRecord:
        run = Run(run_id=run_id, command=command, started=now(), scenario=ScenarioCopy.from_json(scenario),
                  machine=machine_facts(), backend=backend)  # fmt: skip
        record = cls(out_dir, run)
        record.save()
        return record

    @property
    def path(self) -> Path:
        return self.out_dir / "run.json"

    def save(self, readable: bool = False) -> None:
        """Write run.json: compact while the run goes on (it is saved after every cell, and the
        indenting encoder is pure Python, several times slower), indented once at the end (READABLE)."""
        write_atomic(self.path, json.dumps(self.run.to_json(), indent=1 if readable else None) + "\n")

    def tool(self, name: str) -> Tool:
        """A tool's record: facts about the tool, and one unit per layout it ran in."""
        return self.run.tool(name)

    def layout(self, tool: str, layout: str) -> Unit:
        """What one tool did in one layout: its steps, envs, disk report and observed link mode."""
        return self.run.unit(tool, layout)

    def settle(self, tool: str) -> None:
        self.tool(tool).settle()

    def fail(self, tool: str, what: str, reason: str, **where) -> None:
        self.run.failures.append(Failure(tool=tool, what=what, reason=reason, **where))


def exit_status(run: Run) -> int:
    """The command's exit status for a run: 1 when a tool failed, none measured ok, or the run did
    not complete (its results are written all the same); else 0."""
    statuses = [tool.status for tool in run.tools.values()]
    return 1 if "failed" in statuses or "ok" not in statuses or run.status != "complete" else 0


def read(path: Path) -> dict:
    """run.json's JSON, refused (ValueError, one line) when it is not a run this envbench reads."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not readable as a run ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise ValueError(f"{path}: schema {found!r}, this envbench reads schema {SCHEMA}")
    return data


def load(run_dir: Path) -> Run:
    return Run.from_json(read(Path(run_dir) / "run.json"))


def scenario_hash(scenario_json: dict, with_tools: bool = True) -> str:
    """The scenario a run measured: every key but the file's path (or but its tools too: what
    merged parts share)."""
    scenario = {k: v for k, v in scenario_json.items() if k != "path" and (with_tools or k != "tools")}
    return hashlib.sha256(json.dumps(scenario, sort_keys=True).encode()).hexdigest()[:16]


def closure_hash(mirror: Mirror | None) -> str:
    """The mirror closure: every file's name, sha256, index and role."""
    keys = sorted((f.filename, f.sha256, f.index, f.kind) for f in (mirror.files if mirror else []))
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]
