"""The harness's own time: what a run spends beside the tools' steps, and what ran concurrently.

A run's wall time is the steps' (the tools' own, which the tables measure) plus the harness's
parts (mirror, setup, cell, probe, scan, reset, cleanup, other). The share — everything but the
steps over the steps — is what a user pays on top of what is measured; issue 15's target: 10 %.

Work the harness runs concurrently (proofs spread over the cores, trees removed while proofs run)
happens only while no step is timed. Every such job and every cell's steps leave an interval
(host wall clock, `time.time()`) in run.json, so that can be checked after the fact: `overlaps`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


def account(total_s: float, steps_s: float, timers: dict[str, float]) -> dict[str, float]:
    """run.json's `overhead`: the total, the steps, each part, `other` (the rest) and `share`."""
    parts = {f"{name}_s": value for name, value in sorted(timers.items())}
    other = max(0.0, total_s - steps_s - sum(timers.values()))
    spent = {"total_s": total_s, "steps_s": steps_s, **parts, "other_s": other}
    return {**spent, "share": share_of(spent) or 0.0}


def share_of(overhead: dict) -> float | None:
    """Harness time over step time; None when no step ran (runs recorded before `share` too)."""
    steps = overhead.get("steps_s") or 0.0
    if not steps or "total_s" not in overhead:
        return None
    return (overhead["total_s"] - steps) / steps


def parts_of(overhead: dict) -> dict[str, float]:
    """The harness's parts in seconds, largest first (steps, total and share left out)."""
    parts = {k.removesuffix("_s"): v for k, v in overhead.items() if k.endswith("_s") and k not in ("total_s", "steps_s")}
    return dict(sorted(parts.items(), key=lambda kv: -kv[1]))


def summary(overhead: dict) -> str:
    """One line for the end of a run: the harness's seconds beside the steps', and its parts."""
    share = share_of(overhead)
    if share is None:
        return "harness time: no step ran"
    spent = overhead["total_s"] - overhead["steps_s"]
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts_of(overhead).items() if seconds >= 0.05)
    return f"harness time: {spent:.1f} s beside {overhead['steps_s']:.1f} s of steps ({100 * share:.1f} %): {parts}"


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


def timed_spans(run: dict) -> list[dict]:
    """Every timed cell's host interval ({"start", "end"}), from the step records that carry one
    (a cell's steps share its span: each cell once)."""
    spans = {tuple(step["span"]) for info in run["tools"].values() for entry in info["layouts"].values()
             for step in entry["steps"] if "span" in step}  # fmt: skip
    return [{"start": start, "end": end} for start, end in sorted(spans)]


def overlaps(intervals: Iterable[dict], timed: Iterable[dict]) -> list[tuple[dict, dict]]:
    """Every pair (concurrent job, timed interval) whose spans intersect: none, in a sound run."""
    timed = list(timed)
    return [(job, span) for job in intervals for span in timed if job["start"] < span["end"] and span["start"] < job["end"]]
