"""What a tool's cache command says it removed, read from its own output.

Each tool words it its own way (recorded outputs in tests/test_cache_commands.py): uv "Removed
1 file (2.9MiB)" (IEC units), pip "Files removed: 85" or, from pip 24.1, "Files removed: 85
(13.4 MB)" (SI units, the files' st_size summed), PDM "3 packages and 120 files are removed",
Poetry "Delete 42 entries?" (asked, then done), Pipenv nothing but "Clearing caches...", Nix
2.8 "12 store paths deleted, 812.40 MiB freed" (nix-collect-garbage) and "35.20 MiB freed by
hard-linking 1204 files" (nix-store --optimise; no file is removed, each copy becomes a link).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {"B": 1, "bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
         "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}  # fmt: skip
SIZE = r"(\d+(?:\.\d+)?)\s?(B|bytes|KiB|MiB|GiB|TiB|kB|KB|MB|GB|TB)\b"


@dataclass(frozen=True)
class Said:
    """The line a cache command printed about what it removed, and the figures in it (None: it
    named none)."""

    text: str
    files: int | None = None
    bytes: int | None = None

    def to_json(self) -> dict:
        return {"text": self.text, "files": self.files, "bytes": self.bytes}


def size_bytes(number: str, unit: str) -> int:
    return round(float(number) * UNITS[unit])


def _line(output: str, pattern: str) -> re.Match | None:
    return next((m for line in output.splitlines() if (m := re.search(pattern, line))), None)


def said_uv(output: str) -> Said:
    found = _line(output, rf"Removed (\d+) files? \({SIZE}\)")
    if found:
        return Said(found.group(0), int(found.group(1)), size_bytes(found.group(2), found.group(3)))
    empty = _line(output, r"No (cache entries|unused entries) found")
    return Said(empty.group(0), 0, 0) if empty else Said(_last(output))


def said_pip(output: str) -> Said:
    found = _line(output, rf"Files removed: (\d+)(?: \({SIZE}\))?")
    if not found:
        return Said(_last(output))
    size = size_bytes(found.group(2), found.group(3)) if found.group(2) else None
    return Said(found.group(0), int(found.group(1)), size)


def said_pdm(output: str) -> Said:
    found = _line(output, r"(?:(\d+) packages? and )?(?:(\d+) files? )?are removed|No files need to be removed")
    if not found:
        return Said(_last(output))
    files = int(found.group(2) or 0)
    return Said(found.group(0), files)


def said_poetry(output: str) -> Said:
    found = _line(output, r"Delete (\d+) entries\?|No cache entries")
    if not found:
        return Said(_last(output))
    return Said(found.group(0), int(found.group(1) or 0))


def said_nix(output: str) -> Said:
    collected = _line(output, rf"(\d+) store paths deleted, {SIZE} freed")
    if collected:
        return Said(collected.group(0), int(collected.group(1)), size_bytes(collected.group(2), collected.group(3)))
    linked = _line(output, rf"{SIZE} freed by hard-linking (\d+) files")
    if linked:
        return Said(linked.group(0), 0, size_bytes(linked.group(1), linked.group(2)))
    return Said(_last(output))


def said_nothing(output: str) -> Said:
    return Said(_last(output))


def _last(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def read(kind: str, output: str) -> Said:
    """OUTPUT read by the reader a CacheStep names."""
    readers = {"uv": said_uv, "pip": said_pip, "pdm": said_pdm, "poetry": said_poetry, "nix": said_nix,
               "nothing": said_nothing}
    return readers[kind](output)
