"""The local backend's sandbox: a clean environment, and no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from harness.backends.base import BACKGROUND_NICE
from harness.backends.local import LocalBackend
from harness.tools.base import Sandbox, Step


@pytest.fixture
def backend(tmp_path):
    return LocalBackend(tmp_path / "work", tmp_path / "logs", tools_dir=tmp_path / "tools")


def test_steps_see_only_the_sandbox_environment(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("UV_INDEX_URL", "http://example.invalid")
    sandbox = Sandbox(root=str(tmp_path / "work" / "t"), python=sys.executable)
    backend.reset(sandbox)
    step = Step(
        "probe",
        (sys.executable, "-c", "import os, json; print(json.dumps(dict(os.environ)))"),
        sandbox.root,
        tuple(sandbox.base_env().items()),
    )
    result = backend.run(sandbox, step, "env")
    env = __import__("json").loads(result.tail)
    assert env["HOME"] == sandbox.home and env["XDG_CACHE_HOME"] == sandbox.cache
    assert "PIP_FIND_LINKS" not in env and "UV_INDEX_URL" not in env
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"


def test_interrupt_kills_the_whole_step_tree(backend, tmp_path):
    """Ctrl-C during a step stops the tool and its children, not only the timing shim."""
    marker = f"envbench-test-{uuid.uuid4().hex}"
    grandchild = f"import time; time.sleep(60)  # {marker}"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    step = Step("install", (sys.executable, "-c", child), str(tmp_path))

    def running() -> list[str]:  # the grandchild alone: the child's argv holds the marker too, quoted
        return subprocess.run(["pgrep", "-f", "--", f"-c import time; time.sleep\\(60\\)  # {marker}"], capture_output=True,
                              text=True).stdout.split()  # fmt: skip

    before = []

    def interrupt(signum, frame):
        before.extend(running())  # the grandchild is there when the interrupt comes
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(2)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            backend.run(Sandbox(root=str(tmp_path), python=sys.executable), step, "sleeper")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert before, "the grandchild never ran: nothing was there to kill"
    assert time.monotonic() - started < 20, "the step was waited out (60 s), not stopped"
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running() == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own niceness is Linux's")
def test_a_background_removal_runs_at_the_lowest_cpu_priority_and_a_whole_one_does_not(backend, tmp_path):
    """A removal with a budget is a filler's, beside proofs: its thread drops to nice 19 before
    it removes; one without (the cleanup window, nothing beside it) keeps the harness's priority."""
    sandbox = Sandbox(root=str(tmp_path / "work" / "t"), python=sys.executable)
    backend.reset(sandbox)
    seen = {}

    def remove(name, budget_s):
        env = tmp_path / "work" / "t" / name
        (env / "lib").mkdir(parents=True)
        (env / "lib" / "f.py").write_text("x = 1\n")
        gone = backend.remove_trees(sandbox, [str(env)], budget_s)
        seen[name] = (gone, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), env.exists())

    for name, budget in (("filler", 1.0), ("whole", None)):
        thread = threading.Thread(target=remove, args=(name, budget))
        thread.start()
        thread.join()
    assert seen["filler"] == (True, BACKGROUND_NICE, False)
    harness_nice = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen["whole"] == (True, harness_nice, False) and BACKGROUND_NICE > harness_nice
