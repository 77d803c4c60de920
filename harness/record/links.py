"""The link mode an env shows: read from the scanner's link classes of its files.

A disk report counts each env file in one class (harness/sandbox/scan.py); the class that holds
most of the envs' bytes names how the tool put files there (hardlink, clone, symlink or copy).
"""

from __future__ import annotations

from collections import Counter

from harness.record.disk import DiskRoot
from harness.record.model import Unit

# Scan classes of env files -> the link mode they show.
LINK_CLASSES = {
    "hardlinked_cache": "hardlink",
    "hardlinked_roots": "hardlink",
    "symlinks_out": "symlink",
    "reflinked": "clone",
    "unique": "copy",
}


def observed_link_mode(project_roots: list[DiskRoot]) -> tuple[str | None, dict[str, int]]:
    """The link mode that holds most of the env files' bytes, and the file count behind each mode.

    By bytes, not files: btrfs keeps files under 2 KiB inline in its metadata, where no clone
    reaches, so an env of small packages has more copied files than cloned ones while nearly all
    its bytes are clones. A symlink holds no data: symlinks win only where they are at least as
    many as the files (nix's project holds one link, its GC root, beside one file, default.nix).
    """
    counts: Counter[str] = Counter()
    held: Counter[str] = Counter()
    for root in project_roots:
        for link_class, mode in LINK_CLASSES.items():
            if getattr(root.links, link_class):
                counts[mode] += root.links.count(link_class)
                held[mode] += root.links.bytes_of(link_class)
        # A clone is a file of one link too: the unique class holds the reflinked files as well.
        counts["copy"] -= min(counts["copy"], root.links.count("reflinked"))
        held["copy"] -= min(held["copy"], root.links.bytes_of("reflinked"))
    if not counts:
        return None, {}
    files = {mode: n for mode, n in counts.items() if mode != "symlink"}
    if counts["symlink"] and counts["symlink"] >= sum(files.values()):
        return "symlink", dict(counts)
    return max(files, key=lambda mode: (held[mode], counts[mode])), dict(counts)


def link_mode_of(unit: Unit) -> str | None:
    """A tool's observed link mode, from its disk report where there is one (the rule above, also
    for runs recorded before it), else as recorded."""
    if not unit.disk:
        return unit.link_mode
    return observed_link_mode(unit.project_roots())[0] or unit.link_mode
