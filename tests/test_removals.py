"""Removals queued across windows: their order, and how a window takes them beside its own jobs."""

from __future__ import annotations

import threading
import time

from harness.run.concurrent import Concurrent
from harness.run.removals import Removals, room_to_defer


def test_a_sandbox_waits_for_the_removals_queued_before_it():
    done, said = [], []
    removals = Removals(said.append)
    for name in ("env-2", "env-3"):
        removals.add(name, lambda budget_s, name=name: (time.sleep(0.2), done.append(name)) and True)
    removals.add("sandbox", lambda budget_s: done.append(f"sandbox after {sorted(done)}") or True, last=True)
    concurrent = Concurrent({"remove": 4})
    with concurrent.window():
        removals.submit_all(concurrent)
    assert done[-1] == "sandbox after ['env-2', 'env-3']" and len(done) == 3 and said == []
    by_what = {job["what"]: job for job in concurrent.intervals}
    assert by_what["sandbox"]["start"] >= max(by_what["env-2"]["end"], by_what["env-3"]["end"])
    assert by_what["env-2"]["start"] < by_what["env-3"]["end"]  # the envs side by side


def test_a_window_takes_queued_removals_only_while_its_own_jobs_run():
    removals = Removals(lambda text: None)
    for i in range(50):
        removals.add(f"env-{i}", lambda budget_s: time.sleep(0.1) or True)
    concurrent = Concurrent({"probe": 2, "remove": 4})
    with concurrent.window(removals.next_job, fillers=2):
        concurrent.submit("probe", "prove", time.sleep, 0.35)
    own = next(job for job in concurrent.intervals if job["what"] == "prove")
    taken = [job for job in concurrent.intervals if job["what"].startswith("env-")]
    assert 2 <= len(taken) <= 12 and len(removals) == 50 - len(taken)  # the rest waits for later windows
    assert all(job["start"] <= own["end"] for job in taken)  # none started after the window's own work


def test_a_failed_removal_is_said_and_the_queue_goes_on():
    said, done = [], []
    removals = Removals(said.append)
    removals.add("broken", lambda budget_s: 1 / 0)
    removals.add("fine", lambda budget_s: done.append("fine") or True, last=True)
    removals.run_all_now()
    assert done == ["fine"] and len(said) == 1 and "removing broken failed" in said[0]


def test_trees_stay_only_with_room_for_the_next_tools_worst_case():
    assert room_to_defer(50, 40) and room_to_defer(40, 40)
    assert not room_to_defer(39, 40)
    assert not room_to_defer(None, 40) and not room_to_defer(50, None)  # unknown: removed now


class _Tree:
    """A removal that takes a budget: PARTS pieces of 0.05 s, as many as fit in one slice."""

    def __init__(self, parts: int):
        self.left, self.calls = parts, []

    def __call__(self, budget_s):
        self.calls.append(budget_s)
        deadline = None if budget_s is None else time.monotonic() + budget_s
        while self.left and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
            self.left -= 1
        return self.left == 0


def test_a_filler_takes_a_sliced_removal_a_slice_at_a_time_and_the_rest_waits_at_the_head():
    big, small = _Tree(40), _Tree(1)
    removals = Removals(lambda text: None, slice_s=0.1)
    removals.add("big", big)
    removals.add("small", small)
    concurrent = Concurrent({"probe": 1, "remove": 1})
    with concurrent.window(removals.next_slice, fillers=1):
        concurrent.submit("probe", "prove", time.sleep, 0.3)
    own = next(job for job in concurrent.intervals if job["what"] == "prove")
    slices = [job for job in concurrent.intervals if job["what"] == "big"]
    assert 2 <= len(slices) and all(call == 0.1 for call in big.calls)
    assert max(job["end"] for job in slices) <= own["end"] + 0.25  # the window outlasts its work by a slice
    assert 0 < big.left < 40 and small.calls == [] and len(removals) == 2  # big's rest first, then small
    with concurrent.window():  # the cleanup: whatever is left, whole
        removals.submit_all(concurrent)
    assert big.left == 0 and big.calls[-1] is None and small.left == 0 and len(removals) == 0


def test_a_sliced_removal_left_unfinished_still_holds_back_the_sandbox():
    env, done = _Tree(6), []
    removals = Removals(lambda text: None, slice_s=0.06)
    removals.add("env", env)
    removals.add("sandbox", lambda budget_s: done.append(env.left) or True, last=True)
    concurrent = Concurrent({"remove": 2})
    while len(removals):
        with concurrent.window(removals.next_slice, fillers=2):
            concurrent.submit("remove", "own work", time.sleep, 0.08)
    assert done == [0]  # the sandbox went only once the env was gone


def test_a_window_stops_its_fillers_once_its_own_work_is_done():
    # A filler job with a 3 s budget ends when the window calls stop_fillers, right after its own
    # 0.2 s job: the window closes then, not once the budget is out.
    stop = threading.Event()
    calls = []

    def removal(budget_s):
        calls.append(budget_s)
        stop.wait(budget_s)
        return False  # cut short or out of budget: the rest stays queued

    removals = Removals(lambda text: None, slice_s=3.0)
    removals.add("big", removal)
    concurrent = Concurrent({"probe": 1, "remove": 1})
    started = time.monotonic()
    with concurrent.window(removals.next_slice, fillers=1, stop_fillers=stop.set):
        concurrent.submit("probe", "prove", time.sleep, 0.2)
    assert stop.is_set() and calls == [3.0] and 0.2 <= time.monotonic() - started < 1.5
    assert len(removals) == 1  # the rest of it waits at the head of the queue
    stop.clear()
    started = time.monotonic()
    with concurrent.window(removals.next_slice, fillers=1):  # no stop_fillers: the budget runs out
        concurrent.submit("probe", "prove", time.sleep, 0.05)
    assert calls == [3.0, 3.0] and time.monotonic() - started >= 3.0
