"""Trees the run is done with, removed later, in windows where nothing is timed.

Removing a tool's twenty 1.1 GB env copies waits on the disk (this machine's root file system
discards every freed block) more than on a core, and proofs and scans wait on the cores: so the
trees one tool leaves are removed while the next tool's envs are proved and scanned, a job at a
time beside them (overhead.Concurrent's filler), never during a timed step. What is still queued
when the run ends goes in its cleanup window, four at a time.

Deferring a removal keeps the trees on disk while the next tool runs: allowed only while the
disk has room for that tool's worst case besides them (diskspace's estimate); otherwise the
runner removes them before going on, as before. Jobs leave in the order they came, and a
sandbox's removal (`last`: it takes the container the env removals run in) only once every job
before it has ended.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class Removals:
    """A queue of (what, removal) jobs; `say` reports a removal that failed (the run goes on)."""

    LANE = "remove"

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self._queue: deque[tuple[str, Callable[[], None], bool]] = deque()
        self._lock = threading.Lock()
        self._running = 0

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, what: str, removal: Callable[[], None], last: bool = False) -> None:
        """Queue REMOVAL; LAST: it waits until every job queued before it has ended."""
        self._queue.append((what, removal, last))

    def next_job(self):
        """The next job as overhead.Concurrent's filler takes it: (lane, what, function), or None
        (nothing queued, or the next waits for those running)."""
        with self._lock:
            if not self._queue or (self._queue[0][2] and self._running):
                return None
            what, removal, _ = self._queue.popleft()
            self._running += 1
        return self.LANE, what, lambda: self._run(what, removal)

    def submit_all(self, concurrent) -> None:
        """Every queued job into CONCURRENT's open window, side by side in its lane; before a
        `last` job, the window's jobs so far are waited for."""
        while self._queue:
            job = self.next_job()
            if job is None:
                concurrent.join()
                continue
            lane, what, function = job
            concurrent.submit(lane, what, function)

    def run_all_now(self) -> None:
        """One after another, in this thread (after an interrupt: no window)."""
        while (job := self.next_job()) is not None:
            job[2]()

    def _run(self, what: str, removal: Callable[[], None]) -> None:
        try:
            removal()
        except Exception as exc:  # the results stand; what is left `envbench clean` removes
            self.say(f"[yellow]warning:[/] removing {what} failed: {str(exc)[:200]}")
        finally:
            with self._lock:
                self._running -= 1


def room_to_defer(free_bytes: int | None, needed_bytes: int | None) -> bool:
    """Whether trees may stay while the next tool runs: the disk still has room for the estimate
    of one tool's worst case (which includes its reserve). Unknown either way: no."""
    return free_bytes is not None and needed_bytes is not None and free_bytes >= needed_bytes
