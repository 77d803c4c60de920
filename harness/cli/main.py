"""`envbench COMMAND ...` (and `python -m harness`): the parser of every command, and dispatch."""

from __future__ import annotations

import argparse
import sys

from harness.backends.base import BackendError
from harness.cli import clean, image, merge, mirror, plan, report, run, scan, verify
from harness.cli.common import EXIT_USAGE, UsageError
from harness.run.resume import ResumeRefused
from harness.run.units import ShardError
from harness.scenario.yamlnodes import ScenarioError

# name -> module with HELP, add_arguments(parser) and command(args) -> exit status
COMMANDS = {"run": run, "plan": plan, "scan": scan, "report": report, "merge": merge, "verify": verify, "image": image,
            "clean": clean, "mirror": mirror}  # fmt: skip
REFUSALS = (ScenarioError, UsageError, BackendError, ResumeRefused, ShardError)  # one line, exit 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="envbench", description="Measure the disk and time Python environment managers cost.")
    sub = top.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP))
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv  # recorded as the run's command (a resume reads its options back from it)
    try:
        return COMMANDS[args.command].command(args)
    except REFUSALS as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
