"""`envbench merge RUN_DIR... --out DIR`: one run from runs or shards of one scenario and mirror."""

from __future__ import annotations

from pathlib import Path

from harness import report
from harness.cli.common import UsageError, print_main_table
from harness.record.run import exit_status
from harness.run.merge import MergeError, merge

HELP = "one run from runs of the same scenario and mirror made by separate invocations"


def add_arguments(merge_cmd) -> None:
    merge_cmd.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    merge_cmd.add_argument("--out", required=True, metavar="DIR", help="where the merged run goes (must not hold a run)")


def command(args) -> int:
    out = Path(args.out)
    command = ["envbench", "merge", *args.run_dirs, "--out", args.out]
    try:
        run = merge([Path(d) for d in args.run_dirs], out, command)
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    report.write_all(out)
    print_main_table(run)
    print(f"merged {len(run.parts)} parts: {out}/ (report.html, tables.md, run.json, *.csv, charts/)")
    return exit_status(run)
