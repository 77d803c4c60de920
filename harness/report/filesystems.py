"""The file-system table: what each tool costs on each private file system, and the file system's
own count beside the scanner's (statvfs deltas: harness/run/filesystems.py)."""

from __future__ import annotations

from harness.record.links import link_mode_of
from harness.record.model import Run
from harness.report.table import Table, mib

# The file system's own bookkeeping besides files' blocks (inode tables and directory blocks
# allocated in chunks, btrfs's metadata kept twice with small files inline in it): a delta within
# this much (plus METADATA_SHARE of it) of the scanner's figure agrees.
METADATA_SLACK = 8 * 2**20
METADATA_SHARE = 0.03

LEGEND = f"""\
Runs on a private file system of their own (a loop file; scenario key `filesystems`).
**configured link mode**: what the tool says it does by default (its own documentation for the
pinned version, cited in its adapter), and whether the file system made it fall back (uv clones
where it can, else hard-links, else copies); ✗ marks a mode the tool should not have ended up
with. **link mode seen**: what the scan saw most env files are (hard links, clones, copies).
**du MiB**: the cache and every project, each inode once (what `du -sc` says; a clone counts in
full). **occupies MiB**: the union of the trees' physical extents (btrfs, XFS; elsewhere the
inode figure): what the files' data really takes. **FS metadata MiB**: what the file system
spends besides any file's blocks, from its own figures: on XFS every inode made (`isize` bytes
each, read with xfs_info: 512 by default), on btrfs the growth of its metadata (`btrfs filesystem
df`: inodes, directory entries, checksums, small files kept inline, twice with DUP); ext4's
inode tables were written by mkfs (0). **statvfs MiB**: what the file system itself says it
spent from empty trees to the whole fleet (settled after sync); it must equal occupies plus FS
metadata. **marginal MiB/project**: what one more project adds, by extents where the file system
has them. **freed on delete**: one project deleted, the scanner's prediction (its exclusive
bytes plus the metadata that went with it: its own inodes on XFS, btrfs's count) and what
statvfs saw freed. **agree**: within {METADATA_SLACK / 2**20:.0f} MiB plus {METADATA_SHARE:.0%} (allocation
in chunks: XFS allocates inodes 64 at a time, btrfs metadata in 16 KiB nodes); ✗ flags a gap.
Runs made before envbench read these figures show "not measured" there and are judged on the
scanner's blocks alone.
"""


def agrees(delta: int, scanned: int) -> bool:
    """Whether a statvfs delta and the scanner's figure agree within the file system's overhead."""
    return abs(delta - scanned) <= METADATA_SLACK + METADATA_SHARE * max(delta, scanned)


# What a tool set to a link mode falls back to where the file system cannot (uv: clone, then
# hardlink, then copy); anything else the scan sees disagrees with what the tool says it does.
FALLBACKS = {"clone": ("clone", "hardlink", "copy"), "hardlink": ("hardlink", "copy"), "symlink": ("symlink", "copy"),
             "copy": ("copy",)}  # fmt: skip


def configured(configured_mode: str | None, observed: str | None) -> str:
    if not configured_mode or not observed:
        return configured_mode or "-"
    if observed == configured_mode:
        return configured_mode
    if observed in FALLBACKS.get(configured_mode, ()):
        return f"{configured_mode}, fell back to {observed}"
    return f"{configured_mode} ✗ ({observed} seen)"


def filesystem_table(run: Run) -> Table | None:
    rows = []
    for tool, _, entry in run.units():
        truth, disk = entry.statvfs, entry.disk
        if entry.filesystem is None or not disk or truth is None or truth.fleet_bytes is None:
            continue
        total = disk.total
        occupies = total.unique_physical_bytes
        projects = disk.project_roots()[1:]
        marginal = sum(r.marginal_bytes for r in projects) / len(projects) if projects else None
        # The file system's own bookkeeping (XFS's inodes, btrfs's metadata) beside the scanner's blocks.
        metadata = truth.fleet_metadata_bytes
        fleet_ok = "-" if occupies is None else ("✓" if agrees(truth.fleet_bytes, occupies + (metadata or 0)) else "✗")
        delete = truth.delete
        freed_ok = "-"
        predicted = None
        if delete:
            predicted = delete.predicted_bytes + (delete.metadata_bytes or 0)
            freed_ok = "✓" if agrees(delete.freed_bytes, predicted) else "✗"
        seen = link_mode_of(entry)
        said = configured(run.tools[tool].link_mode_configured, seen)
        rows.append((tool, entry.filesystem["kind"], said, seen or "-", mib(total.physical_bytes),
                     mib(occupies), mib(metadata), mib(truth.fleet_bytes), fleet_ok, mib(marginal),
                     mib(predicted), mib(delete.freed_bytes if delete else None), freed_ok))  # fmt: skip
    if not rows:
        return None
    headers = ("tool", "file system", "configured link mode", "link mode seen", "du MiB", "occupies MiB", "FS metadata MiB",
               "statvfs MiB", "agree", "marginal MiB/project", "freed on delete: predicted MiB", "freed on delete: statvfs MiB",
               "agree")  # fmt: skip
    return Table.of("File systems: the scanner and the file system's own count", headers, rows, LEGEND)
