"""Timing shim: run one command and report wall, user, sys and peak RSS of its process tree.

Standard library only: it runs inside containers with their Python. Usage:
    python shim.py --result OUT.json --log LOG.txt -- ARGV...
The command's stdout and stderr go to LOG.txt; OUT.json (or stdout, for `--result -`) gets
{"exit_code", "wall_s", "user_s", "sys_s", "max_rss_kib", "tail"}.

user_s and sys_s come from wait4(): the command plus every descendant it waited for.
max_rss_kib is ru_maxrss, the peak of the largest single process in that tree (the kernel
keeps no peak of the sum).

left_running: processes of the command's session still alive when it returned (virtualenv's
"periodic update" used to leave two `pip download`s behind). Their work is no part of the
step's figures, and left alone it would land in the next timed step: they are killed, and the
record names them (on Linux; elsewhere the list stays empty).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

TAIL_LINES = 30
TAIL_BYTES = 4000


def tail(path, lines=TAIL_LINES, limit=TAIL_BYTES):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit * 4))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])[-limit:]


def session_members(sid):
    """(pid, command line) of every process in session SID, read from /proc."""
    members = []
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return members
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()  # after "(comm)", which may hold spaces
            if int(fields[3]) != sid:  # state, ppid, pgrp, session
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        members.append((pid, " ".join(command.split())[:300]))
    return members


def stop_left_running(sid):
    """Kill what the command's session left running; their command lines."""
    left = session_members(sid)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return [command for _, command in left]


def run(argv, log_path, env=None, cwd=None):
    """Run ARGV with its output in LOG_PATH; its record (no tail). ENV None: this process's.

    The command gets its own session, so that stopping it (Ctrl-C in the caller) stops its whole
    process tree, never only the first process.
    """
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    with open(log_path, "ab") as log:
        start, started_at = time.perf_counter(), time.time()
        try:
            child = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
            )
        except OSError as exc:
            log.write(f"envbench shim: cannot start {argv[0]}: {exc}\n".encode())
            return {"exit_code": 127, "wall_s": 0.0, "user_s": 0.0, "sys_s": 0.0, "max_rss_kib": 0, "left_running": []}
        while True:
            try:
                _, status, usage = os.wait4(child.pid, 0)
                break
            except InterruptedError:
                continue
            except BaseException:
                os.killpg(child.pid, 9)
                child.wait()
                raise
        wall, ended_at = time.perf_counter() - start, time.time()
        child.returncode = os.waitstatus_to_exitcode(status)
        left = stop_left_running(child.pid)
        if left:
            log.write(f"envbench shim: {len(left)} processes left running after the command, killed: {left}\n".encode())
    code = child.returncode if child.returncode >= 0 else 128 - child.returncode
    return {
        "exit_code": code,
        "wall_s": wall,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "max_rss_kib": usage.ru_maxrss,
        "left_running": left,
        # the host's clock (containers share it): the index server's log is matched to steps by it
        "started_at": started_at,
        "ended_at": ended_at,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="shim.py")
    parser.add_argument("--result", required=True, help="JSON file to write, or - for stdout")
    parser.add_argument("--log", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command after --")
    result = run(command, args.log)
    result["tail"] = tail(args.log)
    if args.result == "-":  # to stdout: a container's caller reads it without a second round trip
        json.dump(result, sys.stdout)
        return 0
    tmp = args.result + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, args.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
