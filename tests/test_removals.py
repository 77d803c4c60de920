"""Removals queued across windows: their order, and how a window takes them beside its own jobs."""

from __future__ import annotations

import time

from harness.overhead import Concurrent
from harness.removals import Removals, room_to_defer


def test_a_sandbox_waits_for_the_removals_queued_before_it():
    done, said = [], []
    removals = Removals(said.append)
    for name in ("env-2", "env-3"):
        removals.add(name, lambda name=name: (time.sleep(0.2), done.append(name)))
    removals.add("sandbox", lambda: done.append(f"sandbox after {sorted(done)}"), last=True)
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
        removals.add(f"env-{i}", lambda: time.sleep(0.1))
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
    removals.add("broken", lambda: 1 / 0)
    removals.add("fine", lambda: done.append("fine"), last=True)
    removals.run_all_now()
    assert done == ["fine"] and len(said) == 1 and "removing broken failed" in said[0]


def test_trees_stay_only_with_room_for_the_next_tools_worst_case():
    assert room_to_defer(50, 40) and room_to_defer(40, 40)
    assert not room_to_defer(39, 40)
    assert not room_to_defer(None, 40) and not room_to_defer(50, None)  # unknown: removed now

