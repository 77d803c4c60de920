"""Run one cell where the tool runs: clear what its state says, then its steps under the shim.

Standard library only: in a container it runs with the image's Python, so a cell costs one
engine round trip however many steps it has (each round trip is about 60 ms, longer than many
of uv's steps). Usage:
    python cell.py '{"plan": {...}, "steps": [{"argv": [...], "env": {...}, "cwd": "...", "log": "..."}]}'
It prints a JSON list with one shim record per step run; it stops after the first step that
fails, as a user would. `python cell.py --serve` reads one such spec per line of its standard
input and answers each with a line (harness/backends/cell_driver.py keeps one running).
"""

import json
import os
import sys
import traceback

if __package__:  # imported on the host (the local backend runs cells in its own process)
    from . import shim, tree
else:  # a script where the tool runs: `python -I cell.py` leaves its own folder off sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import shim
    import tree


def run_cell(spec):
    tree.apply(spec.get("plan", {}))
    results = []
    for step in spec["steps"]:
        result = shim.run(step["argv"], step["log"], env=step["env"], cwd=step["cwd"])
        result["tail"] = shim.tail(step["log"])
        results.append(result)
        if result["exit_code"] != 0:
            break
    return results


def serve(lines, out):
    """One cell per line of LINES, each answered with one line on OUT: {"results": [...]}, or
    {"error": the traceback} when clearing its trees failed (the driver goes on)."""
    for line in lines:
        try:
            reply = {"results": run_cell(json.loads(line))}
        except Exception:
            reply = {"error": traceback.format_exc()[-3000:]}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve(sys.stdin, sys.stdout)
    else:
        json.dump(run_cell(json.loads(sys.argv[1])), sys.stdout)
