"""`envbench report RUN_DIR`: (re)write tables, CSV, charts and report.html from run.json alone."""

from __future__ import annotations

from pathlib import Path

from harness import report
from harness.cli.common import EXIT_OK, UsageError, print_main_table

HELP = "(re)write tables and charts from RUN_DIR/run.json"


def add_arguments(rep) -> None:
    rep.add_argument("run_dir")


def command(args) -> int:
    run_dir = Path(args.run_dir)
    if not (run_dir / "run.json").is_file():
        raise UsageError(f"{run_dir}: no run.json here")
    try:
        run = report.write_all(run_dir)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print_main_table(run)
    print(f"report: {run_dir / 'report.html'}, {run_dir / 'tables.md'}, {run_dir / 'charts'}/")
    return EXIT_OK
