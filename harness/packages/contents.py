"""What builds of one distribution hold byte for byte in common, from their wheels' RECORDs.

torch's CPU and CUDA wheels, or pandas' cp311 and cp313 wheels, are different files, so no
installer shares any of their contents: every file of each is its own copy on disk. Many of
those files are identical all the same (Python sources, headers, data): a store that keeps files
by their hash (as pnpm's does) could hold them once. A wheel's RECORD lists each file with its
sha256 and size, so the figure is read from the zip's directory and one member, nothing unpacked.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from harness.record.model import MirrorFile


def record_entries(wheel: Path) -> dict[str, int]:
    """sha256 entry of each file the wheel's RECORD lists -> its size (a hash listed twice, once)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/RECORD"))
        text = archive.read(name).decode("utf-8")
    found: dict[str, int] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 3 and row[1] and row[2]:
            found.setdefault(row[1], int(row[2]))
    return found


def compare_builds(folder: Path, files: list[MirrorFile]) -> list[dict]:
    """Per distribution name with two or more installed wheels: the bytes and files every one of
    them holds identically, and each wheel's total (all from the mirror FOLDER's files)."""
    wheels: dict[str, list[MirrorFile]] = {}
    for entry in files:
        if entry.installs and entry.filename.endswith(".whl"):
            wheels.setdefault(entry.name, []).append(entry)
    builds = []
    for name, entries in sorted(wheels.items()):
        if len({e.sha256 for e in entries}) < 2:
            continue
        records = [record_entries(folder / e.index / e.filename) for e in entries]
        shared = set(records[0]).intersection(*records[1:])
        builds.append({
            "name": name,
            "files": [e.filename for e in entries],
            "bytes": [sum(r.values()) for r in records],
            "identical_bytes": sum(records[0][h] for h in shared),
            "identical_files": len(shared),
        })  # fmt: skip
    return builds
