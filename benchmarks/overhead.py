"""The harness's time beside the tools' own: a benchmark (it prints figures), not a test.

    python benchmarks/overhead.py SCENARIO [envbench run options ...]   # run it, then report
    python benchmarks/overhead.py --run RESULTS_DIR [--run OTHER_DIR]   # report runs already made

It runs `envbench run SCENARIO ...` (every option after the scenario goes to envbench as given,
e.g. `--tools pip-venv,uv --repetitions 1 --backend docker`) and reads the run.json it wrote.
For each run it prints the steps' seconds (the tools' own wall time, what the tables measure),
each of the harness's parts and the harness in all, each as a share of the steps: issue 15's
target is at most 10 % in all. A run this script made also has its end-to-end wall time measured
here (overhead-command.json beside run.json): what the command took beyond run.json's account —
reaching the engine, its close, the reports written after the account is closed — is a part of
its own, "outside run.json", in the harness's time too. Two or more runs stand side by side
(e.g. before and after a change, on the same machine); the last line is their ratio of the
harness's seconds.

Work the harness ran side by side while nothing was timed (proofs, removals) is listed with
its seconds; the check that none of it overlapped a timed cell is printed too, and the floor the
proofs set: their own CPU seconds over the cores, the least time they take on this machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.record.model import Run  # noqa: E402
from harness.record.overhead import overlaps, parts_of, timed_spans  # noqa: E402
from harness.record.run import load  # noqa: E402

END_TO_END = "overhead-command.json"  # the envbench command's own wall time, as this script measured it


def run_envbench(argv: list[str]) -> Path:
    """`envbench run ARGV`; the results folder it wrote (given by --out or made up here)."""
    if "--out" not in argv:
        scenario = Path(argv[0]).stem
        out = Path("results") / f"overhead-{scenario}-{len(list(Path('results').glob(f'overhead-{scenario}-*'))) + 1}"
        argv = [*argv, "--out", str(out)]
    else:
        out = Path(argv[argv.index("--out") + 1])
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "run", *argv], check=False)
    wall = time.perf_counter() - began
    if not (out / "run.json").exists():
        sys.exit(f"overhead: envbench run exited {done.returncode} without {out / 'run.json'}")
    (out / END_TO_END).write_text(json.dumps({"schema": 1, "command_s": wall}) + "\n")
    return out


def outside_account(folder: Path, spent: dict) -> float | None:
    """Seconds the command took beyond run.json's total: its start (the engine reached, images
    checked), the engine's close and the reports written after the run's account is closed.
    Known only for runs this script made (END_TO_END)."""
    try:
        command_s = json.loads((folder / END_TO_END).read_text())["command_s"]
    except (OSError, ValueError, KeyError):
        return None
    return max(0.0, command_s - spent.get("total_s", 0.0))


def proof_floor(run: Run, spent: dict) -> str | None:
    """What proving alone costs: the probes' own CPU seconds (probe_timing's cpu_s, runs since
    2026-12-05) over the machine's cores — the least any schedule of those proofs takes while
    nothing is timed — as a share of the steps."""
    envs = [env for _, _, unit in run.units() for env in unit.envs.values()]
    cpu = [env.probe_timing["cpu_s"] for env in envs if "cpu_s" in (env.probe_timing or {})]
    cores, steps = run.machine.get("cpus") or 1, spent.get("steps_s") or 0.0
    if not cpu or not steps:
        return None
    least = sum(cpu) / cores
    return (
        f"{len(cpu)} proofs took {sum(cpu):,.1f} CPU-s: on {cores} cores at least {least:,.1f} s, "
        f"{100 * least / steps:.1f} % of the steps before anything else"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", default=[], help="a results folder to report (repeatable)")
    args, rest = parser.parse_known_args()
    folders = [Path(r) for r in args.run]
    if rest:
        folders.append(run_envbench(rest))
    if not folders:
        parser.error("give a scenario to run, or --run RESULTS_DIR")
    runs = [(folder, load(folder)) for folder in folders]

    table = Table(title="Harness time beside the steps' (s, and % of the steps)")
    table.add_column("part")
    for folder, run in runs:
        table.add_column(f"{folder.name}\n{', '.join(run.scenario.tools)}, {len(run.projects)} projects",
                         justify="right")  # fmt: skip
    names = list(dict.fromkeys(name for _, run in runs for name in parts_of(run.overhead or {})))

    def cell(spent: dict, seconds: float | None) -> str:
        steps = spent.get("steps_s") or 0.0
        if seconds is None:
            return "-"
        return f"{seconds:,.1f} ({100 * seconds / steps:.1f} %)" if steps else f"{seconds:,.1f}"

    spents = [run.overhead or {} for _, run in runs]
    outside = [outside_account(folder, s) for (folder, _), s in zip(runs, spents, strict=True)]
    table.add_row("steps", *(f"{s.get('steps_s', 0.0):,.1f}" for s in spents), end_section=True)
    for name in names:
        table.add_row(name, *(cell(s, parts_of(s).get(name)) for s in spents))
    table.add_row("outside run.json", *(cell(s, o) for s, o in zip(spents, outside, strict=True)))
    harness = [s["total_s"] - s["steps_s"] + (o or 0.0) if "total_s" in s else None for s, o in zip(spents, outside, strict=True)]
    table.add_row("[bold]harness in all[/]", *(cell(s, h) for s, h in zip(spents, harness, strict=True)), end_section=True)
    table.add_row("total", *(f"{s.get('total_s', 0.0) + (o or 0.0):,.1f}" for s, o in zip(spents, outside, strict=True)))
    console = Console(width=200)
    console.print(table)

    for (folder, run), spent, spent_all in zip(runs, spents, harness, strict=True):
        share = spent_all / spent["steps_s"] if spent_all is not None and spent.get("steps_s") else None
        jobs = run.concurrent or []
        busy = sum(job["end"] - job["start"] for job in jobs)
        clashes = overlaps(jobs, timed_spans(run))
        verdict = "within" if share is not None and share <= 0.10 else "over"
        console.print(
            f"{folder.name}: harness {100 * (share or 0):.1f} % of the steps ({verdict} the 10 % target); "
            f"{len(jobs)} jobs side by side ({busy:,.1f} s of work), "
            + (f"[red]{len(clashes)} overlap a timed cell[/]" if clashes else "none overlaps a timed cell"),
            highlight=False,
        )
        floor = proof_floor(run, spent)
        if floor:
            console.print(f"{folder.name}: {floor}", highlight=False)
    if len(runs) > 1 and harness[0] and harness[-1] is not None:
        console.print(f"harness seconds, last over first: {harness[-1] / harness[0]:.2f}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
