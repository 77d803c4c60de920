"""Work the harness runs side by side while no step is timed: proofs spread over the cores, trees
removed while proofs run. Every job leaves an interval (host wall clock, `time.time()`) in run.json,
so that no job fell inside a timed cell can be checked after the fact (harness/record/overhead.py).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


class Concurrent:
    """Jobs the harness runs side by side while nothing is timed; each leaves an interval.

    Jobs go to lanes, each a pool of its own size: proofs use the cores ("probe": one per core),
    removing trees waits on the disk more than on a core ("remove": the runner gives it four). Used as
    `with concurrent.window(): concurrent.submit(...)`: the window waits for every job it started
    (and those they started) before it closes, so the runner's next timed step begins after they
    all end.
    """

    def __init__(self, lanes: dict[str, int]):
        self.lanes = {lane: max(1, workers) for lane, workers in lanes.items()}
        self.intervals: list[dict] = []  # {"what", "lane", "start", "end"}: host wall clock
        self._lock = threading.Lock()
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._futures: list = []

    @contextmanager
    def window(self, filler=None, fillers: int = 2, stop_fillers=None):
        """FILLER, if given, is asked for (lane, what, function) jobs, or None, while the window's
        own jobs run: FILLERS of them at a time, none started once those are done (the window
        outlasts its own jobs by one filler job at most: removals.py slices them). Removals
        queued from earlier tools go this way, hidden behind proofs and scans. STOP_FILLERS, if
        given, is called once the window's own jobs are done: it cuts short the filler jobs still
        running (the backend's stop_background), so the window closes without waiting out their
        slices."""
        self._pools = {lane: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"envbench-{lane}")
                       for lane, n in self.lanes.items()}  # fmt: skip
        own_done = threading.Event()
        filling = ThreadPoolExecutor(max_workers=fillers, thread_name_prefix="envbench-fill") if filler else None
        fills = [filling.submit(self._fill, filler, own_done) for _ in range(fillers)] if filling else []
        cancel = True
        try:
            yield self
            self.join()
            own_done.set()
            if stop_fillers is not None and fills:
                stop_fillers()
            for future in fills:
                future.result()
            cancel = False
        finally:
            own_done.set()
            if filling:
                filling.shutdown(wait=True)
            for pool in self._pools.values():  # an interrupt: what has not started never starts
                pool.shutdown(wait=True, cancel_futures=cancel)
            self._pools, self._futures = {}, []

    def _fill(self, filler, own_done: threading.Event) -> None:
        while not own_done.is_set():
            job = filler()
            if job is None:
                return
            lane, what, function = job
            self._run(lane, what, function, (), None)

    def submit(self, lane: str, what: str, function, *args, then=None):
        """Run FUNCTION(*ARGS) in LANE; THEN(result), if given, once its interval is closed."""
        with self._lock:
            if lane not in self._pools:
                raise RuntimeError(f"Concurrent.submit outside a window (lane {lane})")
            future = self._pools[lane].submit(self._run, lane, what, function, args, then)
            self._futures.append(future)
        return future

    def join(self) -> None:
        """Wait for every job submitted so far and for those they submit; a job's error is raised."""
        waited = 0
        while True:
            with self._lock:
                if waited == len(self._futures):
                    return
                future = self._futures[waited]
            future.result()
            waited += 1

    def _run(self, lane: str, what: str, function, args: tuple, then):
        start = time.time()
        try:
            result = function(*args)
        finally:
            with self._lock:
                self.intervals.append({"what": what, "lane": lane, "start": start, "end": time.time()})
        if then is not None:
            then(result)
        return result
