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

SCHEMA = 1


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
    """The growing run.json of one run; `save()` after every change that matters."""

    def __init__(self, out_dir: Path, data: dict):
        self.out_dir = Path(out_dir)
        self.data = data

    @classmethod
    def start(cls, out_dir: Path, run_id: str, command: list[str], scenario: dict, backend: dict) -> RunRecord:
        data = {
            "schema": SCHEMA,
            "run_id": run_id,
            "command": command,
            "started": now(),
            "finished": None,
            "status": "running",
            "scenario": scenario,
            "machine": machine_facts(),
            "backend": backend,
            "tools": {},
            "failures": [],
            "overhead": {},
        }
        record = cls(out_dir, data)
        record.save()
        return record

    @property
    def path(self) -> Path:
        return self.out_dir / "run.json"

    def save(self, readable: bool = False) -> None:
        """Write run.json: compact while the run goes on (it is saved after every cell, and the
        indenting encoder is pure Python: 34 ms for an 850 KB record against 6 ms), indented
        once at the end (READABLE)."""
        write_atomic(self.path, json.dumps(self.data, indent=1 if readable else None) + "\n")

    def tool(self, name: str) -> dict:
        """A tool's entry: facts about the tool, and one entry per layout it ran in."""
        return self.data["tools"].setdefault(
            name,
            {"status": "running", "reason": "", "version": None, "link_mode_configured": None, "layouts": {}},
        )

    def layout(self, tool: str, layout: str) -> dict:
        """What one tool did in one layout: its steps, envs, disk report and observed link mode."""
        return self.tool(tool)["layouts"].setdefault(
            layout,
            {"status": "running", "reason": "", "link_mode": None, "link_mode_files": {}, "steps": [], "envs": {}, "disk": None},
        )

    def layouts(self):
        return layouts(self.data)

    def settle(self, tool: str) -> None:
        settle(self.tool(tool))

    def fail(self, tool: str, what: str, reason: str, **where) -> None:
        self.data["failures"].append({"tool": tool, "what": what, "reason": reason, **where})


def settle(info: dict) -> None:
    """A tool's status from its layouts: failed in any, else ok in any, else unavailable."""
    entries = list(info["layouts"].values())
    for status in ("failed", "ok", "unavailable"):
        matching = [e for e in entries if e["status"] == status]
        if matching:
            info["status"] = status
            info["reason"] = next((e["reason"] for e in matching if e["reason"]), "")
            return


def layouts(run: dict):
    """(tool, layout, entry) for every layout of every tool of a run, in run order."""
    for tool, info in run["tools"].items():
        for layout, entry in info["layouts"].items():
            yield tool, layout, entry


def exit_status(run: dict) -> int:
    """The command's exit status for a run: 1 when a tool failed, none measured ok, or the run did
    not complete (its results are written all the same); else 0."""
    statuses = [info["status"] for info in run["tools"].values()]
    return 1 if "failed" in statuses or "ok" not in statuses or run["status"] != "complete" else 0


def load(run_dir: Path) -> dict:
    path = Path(run_dir) / "run.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, this envbench reads schema {SCHEMA}")
    return data


def scenario_hash(scenario_json: dict, with_tools: bool = True) -> str:
    """The scenario a run measured: every key but the file's path (or but its tools too: what
    merged parts share)."""
    scenario = {k: v for k, v in scenario_json.items() if k != "path" and (with_tools or k != "tools")}
    return hashlib.sha256(json.dumps(scenario, sort_keys=True).encode()).hexdigest()[:16]


def closure_hash(mirror_record: dict | None) -> str:
    """The mirror closure: every file's name, sha256, index and role."""
    files = (mirror_record or {}).get("files") or []
    keys = sorted((f["filename"], f["sha256"], f.get("index", ""), f.get("role", "install")) for f in files)
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]
