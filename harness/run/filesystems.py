"""Private file systems: one loop-mounted ext4, XFS or btrfs per tool, and its own count of bytes.

A scenario's `filesystems: [ext4, xfs, btrfs]` runs each tool on a file system of its own, made in
a sparse loop file (root only: mkfs and mount), so that what the tools write is all that file
system holds. Its statvfs, read once it has settled (harness/diskspace.settled_used), is then the
ground truth the scanner's figures are checked against: the bytes a state really spent, and the
bytes deleting a project really freed. `engine` means no private file system: the engine's own
volumes (or the local work folder), as before.

Each one is unmounted, its loop device detached and its file removed when the tool is done, also
after a failure or Ctrl-C (a context manager); `envbench clean` removes any left by a killed run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.run.diskspace import settled_used
from harness.settings.home import envbench_home

ENGINE = "engine"
MKFS = {
    "ext4": ["mkfs.ext4", "-q", "-F"],
    "xfs": ["mkfs.xfs", "-q", "-f", "-m", "reflink=1"],
    "btrfs": ["mkfs.btrfs", "-q", "-f"],
}
KNOWN = (ENGINE, *MKFS)
MINIMUM_BYTES = 2 * 2**30  # XFS wants 300 MB, btrfs 114 MB; the file is sparse, so room costs nothing


class Unavailable(Exception):
    """A private file system cannot be made here: the reason, in one line."""


@dataclass(frozen=True)
class Private:
    kind: str
    image: str  # the sparse loop file
    mount: str  # where it is mounted (the tool's trees go below it)
    options: str  # mount options, as /proc/self/mountinfo lists them

    inode_bytes: int | None = None  # what each inode costs outside any file's blocks (see inode_bytes)

    def used(self) -> int:
        return settled_used(self.mount)

    def metadata(self) -> int | None:
        """btrfs's own count of its metadata bytes (all copies); None elsewhere."""
        return btrfs_metadata_bytes(self.mount) if self.kind == "btrfs" else None

    def to_json(self) -> dict:
        return {"kind": self.kind, "mount": self.mount, "options": self.options, "inode_bytes": self.inode_bytes}


def inode_bytes(kind: str, mount: str) -> int | None:
    """Bytes a new inode takes beyond the blocks the scanner counts: ext4's inode tables are
    written by mkfs (0); XFS allocates inodes as files are made, each its `isize` (xfs_info);
    btrfs keeps inodes in its metadata trees, counted instead by btrfs_metadata_bytes (None)."""
    if kind == "ext4":
        return 0
    if kind == "xfs":
        done = subprocess.run(["xfs_info", mount], capture_output=True, text=True)
        for word in done.stdout.split():
            if word.startswith("isize="):
                return int(word.partition("=")[2])
    return None


def btrfs_metadata_bytes(mount: str) -> int | None:
    """Metadata and system chunks' used bytes times their copies (DUP, RAID1: 2), from
    `btrfs filesystem df -b`: inodes, directory entries, checksums and small files inline."""
    done = subprocess.run(["btrfs", "filesystem", "df", "-b", mount], capture_output=True, text=True)
    if done.returncode:
        return None
    total = 0
    for line in done.stdout.splitlines():
        kind, _, rest = line.partition(":")
        name, _, profile = kind.partition(",")
        if name.strip() not in ("Metadata", "System"):
            continue
        used = next((int(f.partition("=")[2]) for f in rest.replace(",", " ").split() if f.startswith("used=")), 0)
        total += used * COPIES.get(profile.strip().upper(), 1)
    return total


COPIES = {"DUP": 2, "RAID1": 2, "RAID1C3": 3, "RAID1C4": 4, "RAID10": 2}


def folder() -> Path:
    return envbench_home() / "filesystems"


def unavailable_reason(kind: str) -> str | None:
    if os.geteuid() != 0:
        return f"a private {kind} file system needs root (mkfs and a loop mount)"
    if not shutil.which(MKFS[kind][0]):
        package = {"ext4": "e2fsprogs", "xfs": "xfsprogs", "btrfs": "btrfs-progs"}[kind]
        return f"{MKFS[kind][0]} is not installed (apt-get install {package})"
    return None


def _options(mount: str) -> str:
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 5 and fields[4] == mount:
                return fields[5] + "," + line.partition(" - ")[2].split()[-1]
    return ""


@contextmanager
def private(kind: str, name: str, size: int):
    """A fresh KIND file system of SIZE bytes (sparse) mounted under envbench's home, for NAME."""
    reason = unavailable_reason(kind)
    if reason:
        raise Unavailable(reason)
    base = folder() / name
    image, mount = base.with_suffix(".img"), base / "mnt"
    remove(mount, image)
    mount.mkdir(parents=True)
    with open(image, "wb") as f:
        f.truncate(max(size, MINIMUM_BYTES))
    try:
        for argv in ([*MKFS[kind], str(image)], ["mount", "-o", "loop", str(image), str(mount)]):
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode:
                said = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise Unavailable(f"`{' '.join(argv[:2])}` failed: {said[0][:200]}")
        yield Private(kind, str(image), str(mount), _options(str(mount)), inode_bytes(kind, str(mount)))
    finally:
        remove(mount, image)


def remove(mount: Path, image: Path) -> None:
    """Unmount (the loop device goes with it) and delete; quiet where there is nothing."""
    if os.path.ismount(mount):
        subprocess.run(["umount", str(mount)], capture_output=True)
    shutil.rmtree(mount.parent if mount.name == "mnt" else mount, ignore_errors=True)
    image.unlink(missing_ok=True)


def clean() -> int:
    """Everything a killed run left under envbench's home: how many file systems were removed."""
    removed = 0
    for image in folder().glob("*.img") if folder().is_dir() else ():
        remove(image.with_suffix("") / "mnt", image)
        removed += 1
    return removed
