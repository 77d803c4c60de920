"""The link mode an env shows: read from the scanner's link classes of its files.

A disk report counts each env file in one class (harness/sandbox/scan.py); the class that holds
most of the envs' bytes names how the tool put files there (hardlink, clone, symlink or copy).
"""

from __future__ import annotations

from collections import Counter

from harness.record.model import Unit

# Scan classes of env files -> the link mode they show.
LINK_CLASSES = {
    "hardlinked_cache": "hardlink",
    "hardlinked_roots": "hardlink",
    "symlinks_out": "symlink",
    "reflinked": "clone",
    "unique": "copy",
}


def observed_link_mode(project_reports: list[dict]) -> tuple[str | None, dict[str, int]]:
    """The link mode that holds most of the env files' bytes, and the file count behind each mode.

    By bytes, not files: btrfs keeps files under 2 KiB inline in its metadata, where no clone
    reaches, so an env of small packages has more copied files than cloned ones while nearly all
    its bytes are clones. A symlink holds no data: symlinks win only where they outnumber files.
    """
    counts: Counter[str] = Counter()
    held: Counter[str] = Counter()
    for report in project_reports:
        for link_class, mode in LINK_CLASSES.items():
            entry = report["links"].get(link_class)
            if entry:
                counts[mode] += entry["count"]
                held[mode] += entry["bytes"]
        # A clone is a file of one link too: the unique class holds the reflinked files as well.
        reflinked = report["links"].get("reflinked") or {}
        counts["copy"] -= min(counts["copy"], reflinked.get("count", 0))
        held["copy"] -= min(held["copy"], reflinked.get("bytes", 0))
    if not counts:
        return None, {}
    files = {mode: n for mode, n in counts.items() if mode != "symlink"}
    if counts["symlink"] > sum(files.values()):
        return "symlink", dict(counts)
    return max(files, key=lambda mode: (held[mode], counts[mode])), dict(counts)


def link_mode_of(unit: Unit) -> str | None:
    """A tool's observed link mode, from its disk report where there is one (the rule above, also
    for runs recorded before it), else as recorded."""
    if not unit.disk:
        return unit.link_mode
    return observed_link_mode(unit.project_roots())[0] or unit.link_mode
