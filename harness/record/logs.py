"""A run's step logs: each step's whole output, named by its step record's `log` (relative to the
run folder, `logs/TOOL/LAYOUT/...`).

While a run goes on they are plain files under `logs/`; once it ends, every log but a failed
step's is packed into one `logs.tar.gz` (a seed run writes thousands of them), and a failed
step's stays a plain file to read at once. `read_log` finds a log in either place.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

from harness.record.model import Run

ARCHIVE = "logs.tar.gz"
FOLDER = "logs"


def failed_logs(run: Run) -> set[str]:
    """The `log` of every step that did not exit 0 (relative to the run folder)."""
    return {step.log for _, _, unit in run.units() for step in unit.steps if not step.ok and step.log}


def _members(run_dir: Path) -> dict[str, bytes]:
    """What the run's archive holds: relative path -> bytes."""
    archive = run_dir / ARCHIVE
    if not archive.is_file():
        return {}
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def pack(run_dir: Path) -> int:
    """Pack every plain log under RUN_DIR/logs but the failed steps' into RUN_DIR/logs.tar.gz (with
    what it held already), the same bytes for the same logs; the number of logs packed."""
    run_dir = Path(run_dir)
    keep = failed_logs(Run.from_json(json.loads((run_dir / "run.json").read_text(encoding="utf-8"))))
    members = _members(run_dir)
    plain = [p for p in sorted((run_dir / FOLDER).rglob("*")) if p.is_file()] if (run_dir / FOLDER).is_dir() else []
    packed = [p for p in plain if p.relative_to(run_dir).as_posix() not in keep]
    if not packed:
        return 0
    for path in packed:
        members[path.relative_to(run_dir).as_posix()] = path.read_bytes()
    _write(run_dir / ARCHIVE, members)
    for path in packed:
        path.unlink()
    for folder in sorted((p for p in (run_dir / FOLDER).rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any((run_dir / FOLDER).iterdir()):
        (run_dir / FOLDER).rmdir()
    return len(packed)


def _write(target: Path, members: dict[str, bytes]) -> None:
    """A reproducible archive: members sorted, no times, no owners; written atomically."""
    data = io.BytesIO()
    with gzip.GzipFile(fileobj=data, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(members[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(members[name]))
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data.getvalue())
    os.replace(partial, target)


def read_log(run_dir: Path, log: str) -> bytes | None:
    """A step's whole output, plain or packed; None when the run has it in neither place."""
    plain = Path(run_dir) / log
    if plain.is_file():
        return plain.read_bytes()
    return _members(Path(run_dir)).get(log)


def unpack(run_dir: Path, out: Path, prefix: str) -> None:
    """The packed logs of RUN_DIR under PREFIX (`logs/TOOL/`), as plain files under OUT: what a
    merge carries over before it packs the merged run's own archive."""
    for name, data in _members(Path(run_dir)).items():
        if name.startswith(prefix):
            target = Path(out) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
