"""Run one cell where the tool runs: clear what its state says, then its steps under the shim.

Standard library only: in a container it runs with the image's Python, so a cell costs one
engine round trip however many steps it has (each round trip is about 60 ms, longer than many
of uv's steps). Usage:
    python cell.py '{"plan": {...}, "steps": [{"argv": [...], "env": {...}, "cwd": "...", "log": "..."}]}'
It prints a JSON list with one shim record per step run; it stops after the first step that
fails, as a user would.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out

import shim  # noqa: E402
import tree  # noqa: E402


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


if __name__ == "__main__":
    json.dump(run_cell(json.loads(sys.argv[1])), sys.stdout)
