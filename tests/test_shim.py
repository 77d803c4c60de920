"""The timing shim measures the command's whole process tree and keeps its output."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

from harness.sandbox import shim

BURN = textwrap.dedent("""
    import subprocess, sys, time
    # a grandchild that burns CPU and holds 200 MiB, waited for by the child
    code = "b = bytearray(200 * 1024 * 1024); t = __import__('time').process_time()\\n" \\
           "while __import__('time').process_time() - t < 0.6: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
    print("child done")
    sys.exit(3)
""")


def run_shim(tmp_path, *argv):
    result, log = tmp_path / "r.json", tmp_path / "log.txt"
    subprocess.run([sys.executable, shim.__file__, "--result", str(result), "--log", str(log), "--", *argv], check=True)
    return json.loads(result.read_text()), log.read_text()


def test_grandchildren_count_in_cpu_and_rss(tmp_path):
    data, log = run_shim(tmp_path, sys.executable, "-c", BURN)
    assert data["exit_code"] == 3
    assert data["user_s"] + data["sys_s"] >= 0.5
    assert data["wall_s"] >= data["user_s"] * 0.5
    assert data["max_rss_kib"] >= 200 * 1024
    assert "child done" in log
    assert data["tail"].endswith("child done")


def test_missing_command_is_exit_127(tmp_path):
    data, log = run_shim(tmp_path, "/no/such/tool", "--version")
    assert data["exit_code"] == 127
    assert "cannot start /no/such/tool" in data["tail"]


def test_killed_command_reports_128_plus_signal(tmp_path):
    data, _ = run_shim(tmp_path, sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert data["exit_code"] == 128 + 9


def test_tail_keeps_the_last_lines(tmp_path):
    data, _ = run_shim(tmp_path, sys.executable, "-c", "print('\\n'.join(f'line {i}' for i in range(1000)))")
    lines = data["tail"].splitlines()
    assert lines[-1] == "line 999"
    assert len(lines) == shim.TAIL_LINES


def test_what_the_command_leaves_running_is_named_and_killed(tmp_path):
    """A tool that returns with a detached helper still running (virtualenv's periodic update did):
    the helper is killed, so its work cannot land in the next timed step, and the record names it."""
    pid_file = tmp_path / "helper.pid"
    helper = "[sys.executable, '-c', 'import time; time.sleep(60)', 'envbench-helper']"
    leave = f"import subprocess, sys; p = subprocess.Popen({helper}); open({str(pid_file)!r}, 'w').write(str(p.pid))"
    data, log = run_shim(tmp_path, sys.executable, "-c", leave)
    assert data["exit_code"] == 0 and data["wall_s"] < 30
    assert len(data["left_running"]) == 1 and "envbench-helper" in data["left_running"][0]
    pid = int(pid_file.read_text())
    for _ in range(100):  # killed: gone, or a zombie until its new parent reaps it
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"the helper {pid} still runs")
    assert "left running after the command, killed" in log


def test_a_command_that_leaves_nothing_running_lists_nothing(tmp_path):
    data, _ = run_shim(tmp_path, sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'])")
    assert data["left_running"] == []
