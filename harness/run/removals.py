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

A window waits for the filler jobs it started, so a job that outlasts the window's own work
stretches it: removing one env copy took 3-10 s here, beside proofs of 3-4 s. So every removal
takes a budget in seconds and says whether its tree is gone: a filler gives it SLICE_S (the
backend stops removing after that long), and what is left goes back to the head of the queue,
for the same window's next filler turn or a later window's. Outside fillers (the cleanup window,
a removal that cannot wait, an interrupt) the budget is None: a job runs whole.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

SLICE_S = 1.0  # a filler's removal stops after this long; the window outlasts its own jobs by about as much


@dataclass(frozen=True)
class _Job:
    what: str
    removal: Callable[[float | None], bool]  # removal(budget_s or None) -> whether the tree is gone
    last: bool


class Removals:
    """A queue of (what, removal) jobs; `say` reports a removal that failed (the run goes on)."""

    LANE = "remove"

    def __init__(self, say: Callable[[str], None], slice_s: float = SLICE_S):
        self.say, self.slice_s = say, slice_s
        self._queue: deque[_Job] = deque()
        self._lock = threading.Lock()
        self._running = 0

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, what: str, removal: Callable[[float | None], bool], last: bool = False) -> None:
        """Queue REMOVAL(budget_s), which says whether the tree is gone (budget None: no limit);
        LAST: it waits until every job queued before it has ended."""
        self._queue.append(_Job(what, removal, last))

    def next_job(self, budget_s: float | None = None):
        """The next job, whole: (lane, what, function), or None (nothing queued, or the next waits
        for those running). With BUDGET_S a job runs that long at most; the rest of it goes back
        to the head of the queue."""
        with self._lock:
            if not self._queue or (self._queue[0].last and self._running):
                return None
            job = self._queue.popleft()
            self._running += 1
        return self.LANE, job.what, lambda: self._run(job, budget_s)

    def next_slice(self):
        """The next job as overhead.Concurrent's filler takes it: a slice of SLICE_S seconds."""
        return self.next_job(self.slice_s)

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

    def _run(self, job: _Job, budget_s: float | None) -> None:
        gone = True
        try:
            gone = job.removal(budget_s) is not False  # only a plain False re-queues: no loop on a None
        except Exception as exc:  # the results stand; what is left `envbench clean` removes
            self.say(f"[yellow]warning:[/] removing {job.what} failed: {str(exc)[:200]}")
        finally:
            with self._lock:
                if not gone:  # before the count drops: a `last` job behind it must not start
                    self._queue.appendleft(job)
                self._running -= 1


def room_to_defer(free_bytes: int | None, needed_bytes: int | None) -> bool:
    """Whether trees may stay while the next tool runs: the disk still has room for the estimate
    of one tool's worst case (which includes its reserve). Unknown either way: no."""
    return free_bytes is not None and needed_bytes is not None and free_bytes >= needed_bytes
