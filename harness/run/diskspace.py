"""Disk space: the estimate a run is refused by, and the peak each tool really used.

Tools run one at a time and each one's trees are removed before the next, so a run needs room
for one tool at a time. The estimate is that tool's worst case: every env a full copy of its
project's install set (closure.json records each distinct project's) with its Python source
compiled once more (pip writes a .pyc beside each .py), plus a cache holding every wheel and
its unpacked files (uv's), plus a reserve for the engine, logs and scans.

The watcher samples the file system's used bytes once a second in a thread (one statvfs: no
measurable load) and keeps each tool's peak above what was used when it started: what the
estimate must cover. It sees the whole file system, so anything else writing there counts too,
except inside `apart()`: what changes in those windows (an earlier tool's trees removed while this
one's envs are proved; the probes' own files) is the harness's doing, not the tool's, and is left
out of every later reading.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from harness.record.model import Mirror, MirrorFile

GB = 1e9
RESERVE = 2 * 10**9  # left free besides the estimate: the engine, logs and scans need room too
# An env beyond its packages: the installer itself (pip and its .pyc), metadata, scripts (a
# pip + venv env of scale.yaml's stack holds that much beside its packages and their bytecode).
ENV_OVERHEAD = 64 * 2**20


class NotEnoughDisk(Exception):
    """The run would fill the disk: refused before any tool runs, with the estimate."""


@dataclass(frozen=True)
class Estimate:
    needed_bytes: int  # envs + cache + reserve
    envs_bytes: int  # every env's worst case together
    cache_bytes: int  # every wheel and its unpacked files
    envs: int
    largest_env_bytes: int

    def to_json(self) -> dict:
        return asdict(self)

    def refusal(self, scenario_path: str, path: str, free: int) -> str:
        return (
            f"{scenario_path}: needs about {self.needed_bytes / GB:.1f} GB free at {path} ({self.envs} envs up to "
            f"{self.largest_env_bytes / GB:.2f} GB each, {self.envs_bytes / GB:.1f} GB in all, a cache of "
            f"{self.cache_bytes / GB:.2f} GB and {RESERVE / GB:.0f} GB to spare), but {free / GB:.1f} GB are free: "
            "use --projects to run fewer"
        )


def install_sets(mirror: Mirror, projects, pythons: dict[str, str] | None = None) -> list[list[MirrorFile]]:
    """Each of PROJECTS' (scenario Projects) install set: the mirror's file records it installs;
    pythons: project name -> its Python, where closure.json records install sets per Python.
    A project closure.json does not list (an older mirror) is charged the whole closure."""
    pythons = pythons or {}
    installed = mirror.installed
    by_file = {f.filename: f for f in installed}
    by_release = {(f.name, f.version): f for f in installed}
    sets = {}
    for s in mirror.projects:
        names = s.files or []
        files = [by_file.get(n) for n in names] if names else [by_release.get(tuple(r)) for r in s.installs]
        if all(files):
            sets[(tuple(s.dependencies), tuple(sorted(s.sources.items())), s.python or "")] = files
    found = []
    for project in projects:
        key = (tuple(project.dependencies), tuple(sorted(project.sources)))
        found.append(sets.get((*key, pythons.get(project.name, "")), sets.get((*key, ""), installed)))
    return found


def estimate(mirror: Mirror, projects, pythons: dict[str, str] | None = None) -> Estimate:
    """One tool's worst case for PROJECTS from the run's mirror record (see install_sets)."""
    sizes = [sum(f.unpacked + (f.source_bytes or 0) for f in files) + ENV_OVERHEAD
             for files in install_sets(mirror, projects, pythons)]  # fmt: skip
    cache = sum(f.unpacked + f.size for f in mirror.installed)
    return Estimate(sum(sizes) + cache + RESERVE, sum(sizes), cache, len(sizes), max(sizes, default=0))


def settled_used(path: str, timeout: float = 10.0, interval: float = 0.25) -> int:
    """Bytes the file system holding PATH says it spends, once it has settled: after sync, read
    statvfs until three readings INTERVAL apart agree (XFS frees a deleted file's extents in a
    background worker about half a second later; btrfs commits its transaction on sync)."""
    deadline = time.monotonic() + timeout
    readings: list[int] = []
    while True:
        os.sync()
        st = os.statvfs(path)
        readings.append((st.f_blocks - st.f_bfree) * st.f_frsize)
        if len(readings) >= 3 and len(set(readings[-3:])) == 1 or time.monotonic() > deadline:
            return readings[-1]
        time.sleep(interval)


class DiskWatch:
    """Peak used bytes of the file system holding PATH, per section of the run (one tool)."""

    def __init__(self, path: str, interval: float = 1.0, used=None):
        self.path = path
        self.interval = interval
        self._used = used or (lambda: shutil.disk_usage(self.path).used)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._offset = 0  # what changed inside apart() windows, taken off every reading
        self._apart = False
        self._highest = self._used()
        self._thread = threading.Thread(target=self._loop, name="envbench-diskwatch", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _reading(self) -> int:
        return self._used() - self._offset

    def sample(self) -> None:
        """One reading now (the runner takes one when the whole fleet exists, before its scan)."""
        with self._lock:
            if not self._apart:  # mid-window, part of what the window changes is not yet known
                self._take()

    @contextmanager
    def apart(self):
        """A window whose changes to the file system are no part of any section's figure: the
        used bytes it adds or frees are taken off every later reading, and it is not sampled."""
        with self._lock:
            self._take()
            self._apart, before = True, self._used()
        try:
            yield
        finally:
            with self._lock:
                self._offset += self._used() - before
                self._apart = False

    @property
    def apart_bytes(self) -> int:
        """What every apart() window so far added to the used bytes (negative: freed)."""
        with self._lock:
            return self._offset

    def _take(self) -> None:
        self._highest = max(self._highest, self._reading())

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def begin(self) -> int:
        """Start a section: the used bytes now, and the peak counted from here."""
        with self._lock:
            used = self._reading()
            self._highest = used
        return used

    def peak_since(self, start: int) -> int:
        """The highest used bytes seen since begin() returned START, above START."""
        self.sample()
        with self._lock:
            return max(0, self._highest - start)
