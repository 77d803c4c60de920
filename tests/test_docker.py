"""The docker backend, for real: images built locally, one container per (tool, layout)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import threading
import time

import pytest

from harness.backends import engine
from harness.backends.base import BACKGROUND_NICE
from harness.backends.docker import DockerBackend
from harness.record.model import Run
from harness.record.overhead import overlaps, timed_spans
from harness.tools.base import Step
from harness.tools.registry import ADAPTERS

from .conftest import no_route_out, sigint_as_a_terminal_sends_it, wait_for_first_step, write

pytestmark = pytest.mark.docker


def leftovers(docker_client, run_id: str) -> list[str]:
    """What the run RUN_ID left on the engine (its label's value), others' runs aside."""
    selector = {"label": f"{engine.LABEL}={run_id}"}
    containers = [c.name for c in docker_client.containers.list(all=True, filters=selector)]
    volumes = [v.name for v in docker_client.volumes.list(filters=selector)]
    networks = [n.name for n in docker_client.networks.list(filters=selector)]
    return containers + volumes + networks


def run_id_of(out) -> str:
    return json.loads((out / "run.json").read_text())["run_id"]


def scenario(tmp_path, wheelhouse, layouts="[same-volume, split-volume]"):
    return write(
        tmp_path / "s.yaml",
        f"""
    name: docker-synth
    python: "3.11"
    repetitions: 1
    wheelhouse: {wheelhouse}
    layouts: {layouts}
    projects:
      - name: app
        count: 2
        dependencies: [alpha, gamma]
    """,
    )


def test_both_layouts_in_containers(tmp_path, wheelhouse, docker_client, tools_image, cli):
    out = tmp_path / "out"
    status, stdout, err = cli(
        "run", scenario(tmp_path, wheelhouse), "--backend", "docker", "--tools", "pip-venv,uv", "--out", out
    )
    assert status == 0, err
    assert f"backend: docker, image {tools_image}" in err
    run = json.loads((out / "run.json").read_text())
    assert run["backend"]["name"] == "docker" and run["backend"]["network"] == "none"
    assert run["backend"]["user"] == "1000:1000" and run["backend"]["storage_driver"]
    for tool in ("pip-venv", "uv"):
        for layout in ("same-volume", "split-volume"):
            entry = run["tools"][tool]["layouts"][layout]
            assert entry["status"] == "ok"
            assert all(env["proved"] for env in entry["envs"].values()) and len(entry["envs"]) == 2
    uv = run["tools"]["uv"]["layouts"]
    assert uv["same-volume"]["link_mode"] == "hardlink"
    assert uv["split-volume"]["link_mode"] == "copy"  # links across two mounts fail: uv copies
    pip_total = run["tools"]["pip-venv"]["layouts"]["same-volume"]["disk"]["total"]["physical_bytes"]
    assert uv["same-volume"]["disk"]["total"]["physical_bytes"] < pip_total
    for root in uv["split-volume"]["disk"]["roots"]:
        if root["scope"].startswith("app-"):
            assert root["exclusive_bytes"] == root["physical_bytes"]  # deleting it frees all of it
            assert root["links"]["hardlinked_cache"]["count"] == 0
    for root in uv["same-volume"]["disk"]["roots"]:
        if root["scope"].startswith("app-"):
            assert root["exclusive_bytes"] < root["physical_bytes"] / 4
    with open(out / "tools.csv", newline="") as f:
        uv_row = next(r for r in csv.DictReader(f) if r["tool"] == "uv")
    assert uv_row["link_mode"] == "same-volume: hardlink; split-volume: copy"
    assert "| uv | split-volume | 0.13.9 | copy | ok |" in (out / "tables.md").read_text()
    assert "uv" in stdout
    # every env proved side by side (2 tools x 2 layouts x 2 envs), no job inside a timed cell
    jobs = run["concurrent"]
    assert sum(job["lane"] == "probe" for job in jobs) == 8 and overlaps(jobs, timed_spans(Run.from_json(run))) == []
    # each tool's sandbox removed (in one or more slices: removals.py), and nothing left behind
    assert len({job["what"] for job in jobs if job["what"].startswith("remove sandbox")}) == 4
    assert leftovers(docker_client, run["run_id"]) == []


def test_containers_are_unprivileged_and_offline(tmp_path, wheelhouse, docker_client, tools_image):
    backend = DockerBackend(docker_client, tools_image, "test-privileges", tmp_path / "logs", str(wheelhouse), {})
    adapter = ADAPTERS["uv"]
    sandbox = backend.sandbox(adapter, backend.python("3.11"), "split-volume")
    try:
        backend.reset(sandbox)
        checks = {
            "uid": ["id", "-u"],
            "caps": ["grep", "CapEff", "/proc/self/status"],
            "socket": ["test", "-e", "/var/run/docker.sock"],
            "wheels-ro": ["touch", "/wheels/x"],
            "mounts": ["grep", " /bench", "/proc/self/mountinfo"],
        }
        results = {name: backend._exec(sandbox, argv) for name, argv in checks.items()}
        assert results["uid"][1].decode().strip() == "1000"
        assert results["caps"][1].decode().split() == ["CapEff:", "0000000000000000"]
        assert results["socket"][0] != 0
        no_route_out(backend, sandbox)  # network "none": no route anywhere
        assert results["wheels-ro"][0] != 0
        assert len(results["mounts"][1].decode().splitlines()) == 2  # /bench and /bench/cache: two volumes
        assert adapter.parse_version(backend.run(sandbox, adapter.version_step(sandbox), "v").tail) == "0.13.9"
        # A step longer than the SDK's default 60 s read timeout (a CUDA torch install is minutes).
        long_step = backend.run(sandbox, Step("install", ("sleep", "61"), "/bench"), "long")
        assert long_step.ok and long_step.wall_s >= 61
    finally:
        backend.close()
    assert leftovers(docker_client, "test-privileges") == []


def test_a_read_only_tree_a_tool_left_is_removed_and_emptied(tmp_path, docker_client, tools_image):
    """virtualenv 21.15.13 leaves its seed image of pip read-only in the cache: the states that
    empty the cache or remove an env still do it, as the tools' user (root would not notice)."""
    backend = DockerBackend(docker_client, tools_image, "test-read-only", tmp_path / "logs", None, {})
    sandbox = backend.sandbox(ADAPTERS["uv"], backend.python("3.11"), "same-volume")
    try:
        backend.reset(sandbox)
        for top in (sandbox.cache, sandbox.project_dir("app")):
            folder = f"{top}/virtualenv/image/pip"
            make = ["sh", "-c", f"mkdir -p {folder}/unlistable && touch {folder}/__pip-runner__.py {folder}/unlistable/x && "
                    f"chmod 0500 {folder} && chmod 0000 {folder}/unlistable"]  # fmt: skip
            assert backend._exec(sandbox, make)[0] == 0
            assert backend._exec(sandbox, ["rm", "-rf", f"{top}/virtualenv"])[0] != 0  # what a plain rm -rf meets
        backend.prepare(sandbox, {"empty": [sandbox.cache], "remove": [sandbox.project_dir("app")]})
        assert backend._exec(sandbox, ["ls", "-A", sandbox.cache]) == (0, b"", b"")
        assert backend._exec(sandbox, ["test", "-e", sandbox.project_dir("app")])[0] == 1  # gone
    finally:
        backend.close()
    assert leftovers(docker_client, "test-read-only") == []


def in_slices(removal, most: int = 200) -> int:
    """Call REMOVAL (a slice, True once all is gone) until it is done: how many slices it took.
    A removal that never ends fails the test rather than loop for ever."""
    for slices in range(1, most + 1):
        if removal():
            return slices
    pytest.fail(f"not gone after {most} slices")


def test_a_removal_in_slices_stops_when_its_budget_runs_out_and_goes_on_later(tmp_path, docker_client, tools_image):
    """removals.py's slices: a tree too big for one slice is smaller after it, gone after more;
    a retired sandbox empties its trees in slices before the engine removes it."""
    backend = DockerBackend(docker_client, tools_image, "test-slices", tmp_path / "logs", None, {})
    sandbox = backend.sandbox(ADAPTERS["uv"], backend.python("3.11"), "same-volume")
    try:
        backend.reset(sandbox)
        env, copy = sandbox.project_dir("app"), sandbox.project_dir("copy")
        count = f"find {env} | wc -l"
        # 60,000 files in 1,200 folders: far more than a slice of 0.3 s unlinks, its interpreter's
        # start (about 60 ms here) included
        make = (f"mkdir -p {env} && cd {env} && for d in $(seq 1200); do mkdir $d; (cd $d && touch $(seq 50)); done"
                f" && cp -a {env} {copy}")  # fmt: skip
        assert backend._exec(sandbox, ["sh", "-c", make])[0] == 0
        before = int(backend._exec(sandbox, ["sh", "-c", count])[1])
        assert backend.remove_trees(sandbox, [env], budget_s=0.3) is False
        after = int(backend._exec(sandbox, ["sh", "-c", count])[1])
        assert 0 < after < before  # stopped midway, between two unlinks
        assert in_slices(lambda: backend.remove_trees(sandbox, [env], budget_s=0.5)) > 1
        assert backend._exec(sandbox, ["test", "-e", env])[0] == 1
        removal = backend.retire(sandbox)
        assert removal(0.3) is False  # the copy is still being emptied: the container stays
        assert leftovers(docker_client, "test-slices")
        in_slices(lambda: removal(0.5))
        assert leftovers(docker_client, "test-slices") == []
    finally:
        backend.close()
    assert leftovers(docker_client, "test-slices") == []


# The niceness of each process in the container whose argv holds the tag given, this one left out.
NICENESS_OF_TAGGED = """
import os, sys
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            tagged = sys.argv[1].encode() in f.read()
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        continue
    if tagged and int(pid) != os.getpid():
        print(fields[16])  # the 19th field of stat: the 17th after the command's name
"""


def test_stop_background_cuts_a_removal_slice_short_and_the_rest_stays(tmp_path, docker_client, tools_image):
    """A window's own work is done: the slice still running is stopped (SIGTERM between two
    unlinks) instead of running out its budget; it says the tree is not gone, and is smaller."""
    backend = DockerBackend(docker_client, tools_image, "test-slice-stop", tmp_path / "logs", None, {})
    sandbox = backend.sandbox(ADAPTERS["uv"], backend.python("3.11"), "same-volume")
    try:
        backend.reset(sandbox)
        env = sandbox.project_dir("app")
        # 80,000 files: many seconds of unlinks, stopped 0.3 s in
        make = f"mkdir -p {env} && cd {env} && for d in $(seq 800); do mkdir $d; (cd $d && touch $(seq 100)); done"
        assert backend._exec(sandbox, ["sh", "-c", make])[0] == 0
        result = {}
        slice_thread = threading.Thread(target=lambda: result.setdefault("gone", backend.remove_trees(sandbox, [env], 60)))
        started = time.monotonic()
        slice_thread.start()
        while not backend._slices and time.monotonic() - started < 10:
            time.sleep(0.01)
        time.sleep(0.3)
        # the slice's processes (timeout and cell.py: their argv holds its tag) run at nice 19,
        # beside proofs at 0
        (tag,) = backend._slices
        code, niceness, _ = backend._exec(sandbox, [sandbox.python, "-I", "-c", NICENESS_OF_TAGGED, tag])
        assert code == 0 and sorted(niceness.split()) == [str(BACKGROUND_NICE).encode()] * 2, niceness
        backend.stop_background()
        slice_thread.join(20)
        took = time.monotonic() - started
        left = int(backend._exec(sandbox, ["sh", "-c", f"find {env} | wc -l"])[1])
        assert result == {"gone": False} and took < 10 and 0 < left < 80801, (result, took, left)
        assert backend._slices == {} and backend._stopped == set()
        assert backend.remove_trees(sandbox, [env]) is True  # whole: the rest goes
        assert backend._exec(sandbox, ["test", "-e", env])[0] == 1
    finally:
        backend.close()
    assert leftovers(docker_client, "test-slice-stop") == []


def test_a_sliced_removal_of_a_sandbox_whose_container_stopped_leaves_it_to_the_engine(tmp_path, docker_client, tools_image):
    backend = DockerBackend(docker_client, tools_image, "test-slices-stopped", tmp_path / "logs", None, {})
    sandbox = backend.sandbox(ADAPTERS["uv"], backend.python("3.11"), "same-volume")
    try:
        backend.reset(sandbox)
        env = sandbox.project_dir("app")
        assert backend._exec(sandbox, ["sh", "-c", f"mkdir -p {env} && touch {env}/x"])[0] == 0
        removal = backend.retire(sandbox)
        backend._retired[sandbox.key].container.stop(timeout=1)  # nothing can exec in it now
        assert removal(0.05) is True
        assert leftovers(docker_client, "test-slices-stopped") == []
    finally:
        backend.close()


def test_sigint_mid_install_leaves_no_container_or_volume(tmp_path, wheelhouse, docker_client, tools_image):
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(scenario(tmp_path, wheelhouse, "[same-volume]")), "--backend", "docker",
         "--tools", "pip-venv", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_a_terminal_sends_it,
    )  # fmt: skip
    wait_for_first_step(out, "pip-venv")
    assert leftovers(docker_client, run_id_of(out)), "the run's container is up while it installs"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert leftovers(docker_client, run_id_of(out)) == []


def test_clean_removes_only_what_is_labelled(docker_client):
    mine = docker_client.volumes.create(name="envbench-test-clean", labels={engine.LABEL: "test-clean"})
    other = docker_client.volumes.create(name="not-envbench-test-clean")
    try:
        assert engine.clean(docker_client, "test-clean", images=False)["volumes"] == 1
        names = [v.name for v in docker_client.volumes.list()]
        assert mine.name not in names and other.name in names
    finally:
        other.remove(force=True)
