"""The disk estimate a run is refused by, and the watcher that checks it against the real peak."""

from __future__ import annotations

from harness.record.model import Mirror
from harness.run.diskspace import ENV_OVERHEAD, RESERVE, DiskWatch, estimate
from harness.scenario.model import Project


def mirror() -> Mirror:
    """Two groups' install sets, as closure.json records them: a shared package and two builds."""
    files = [
        {"name": "common", "version": "1", "filename": "c.whl", "size": 100, "unpacked_bytes": 1_000, "source_bytes": 300},
        {"name": "torch", "version": "1+cpu", "filename": "t-cpu.whl", "size": 200, "unpacked_bytes": 2_000, "source_bytes": 0},
        {"name": "torch", "version": "1", "filename": "t.whl", "size": 900, "unpacked_bytes": 9_000, "source_bytes": 0},
        {"name": "colorama", "version": "1", "filename": "co.whl", "size": 50, "role": "resolve"},  # never installed
    ]
    projects = [  # the first as closure.json records it now (each release's file), the second as before
        {"dependencies": ["common", "torch"], "sources": {"torch": "cpu"}, "installs": [["common", "1"], ["torch", "1+cpu"]],
         "files": ["c.whl", "t-cpu.whl"], "python": ""},
        {"dependencies": ["common", "torch"], "sources": {"torch": "cuda"}, "installs": [["common", "1"], ["torch", "1"]]},
    ]  # fmt: skip
    return Mirror.from_json({"files": files, "projects": projects})


def test_each_env_is_charged_its_own_install_set():
    cpu = Project("cpu-01", ("common", "torch"), (("torch", "cpu"),), "cpu")
    cuda = Project("cuda-01", ("common", "torch"), (("torch", "cuda"),), "cuda")
    found = estimate(mirror(), [cpu, cpu, cuda])
    cpu_env, cuda_env = 1_000 + 300 + 2_000 + ENV_OVERHEAD, 1_000 + 300 + 9_000 + ENV_OVERHEAD
    assert found.envs_bytes == 2 * cpu_env + cuda_env and found.largest_env_bytes == cuda_env
    assert found.cache_bytes == (1_000 + 100) + (2_000 + 200) + (9_000 + 900)  # every wheel and its unpacked files
    assert found.needed_bytes == found.envs_bytes + found.cache_bytes + RESERVE
    unknown = Project("other-01", ("something",), (), "other")  # not in closure.json: the whole closure
    assert estimate(mirror(), [unknown]).envs_bytes == 1_300 + 2_000 + 9_000 + ENV_OVERHEAD


def test_watch_keeps_each_sections_peak():
    readings = iter([10, 10, 15, 40, 12, 12, 50, 5, 5, 5])  # the first: when the watch is made
    watch = DiskWatch("/", interval=3600, used=lambda: next(readings))  # sampled by hand only
    start = watch.begin()  # 10
    watch.sample()  # 15
    watch.sample()  # 40: the section's peak
    assert watch.peak_since(start) == 30  # reads 12
    start = watch.begin()  # 12: a new section forgets the last one's peak
    watch.sample()  # 50
    assert watch.peak_since(start) == 38  # reads 5
    start = watch.begin()  # 5
    assert watch.peak_since(start) == 0  # nothing written since


def test_what_a_window_apart_changes_is_no_sections_figure():
    """An earlier tool's trees removed while this tool's envs are proved free space that would
    hide this tool's peak: the watch takes what changed inside apart() off every later reading."""
    used = {"now": 100}
    watch = DiskWatch("/", interval=3600, used=lambda: used["now"])
    start = watch.begin()  # 100 used, 60 of them the earlier tool's trees
    used["now"] = 130  # this tool writes 30
    with watch.apart():
        used["now"] = 70  # the earlier tool's 60 go
        watch.sample()  # not taken: inside the window
    used["now"] = 90  # this tool writes 20 more: 50 of its own in all
    watch.sample()
    assert watch.peak_since(start) == 50
    used["now"] = 75  # and frees 15 of them itself: its peak stays
    assert watch.peak_since(start) == 50
    assert watch.begin() == 75 - (70 - 130)  # the next section counts from the same frame
