"""What every command shares: exit statuses, the one-line usage error, option readers, consoles."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from harness.backends.docker import DockerBackend
from harness.backends.local import LocalBackend
from harness.record.model import Run
from harness.report.answer import answer_table
from harness.scenario.fields import debian_package_fault
from harness.tools.registry import NAMES as TOOL_NAMES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input on the command line: one line, exit 2."""


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def tools_of(args, scenario) -> tuple[str, ...] | None:
    """--tools as names the scenario knows (its variants too), None when not given."""
    if not args.tools:
        return None
    tools = tuple(t.strip() for t in args.tools.split(",") if t.strip())
    known = TOOL_NAMES + tuple(v.name for v in (scenario.variants if scenario else ()))
    unknown = [t for t in tools if t not in known]
    if unknown or not tools:
        raise UsageError(f"--tools: unknown tool {unknown[0] if unknown else '(none)'!r} (known: {', '.join(known)})")
    return tools


def backend_layouts(name: str) -> tuple[str, ...]:
    """The layouts the backend a command names can run: what a shard split and a plan count on.
    auto counts as docker, so the split does not hang on what this machine has: name
    --backend local for a split of the local backend's units."""
    return LocalBackend.layouts if name == "local" else DockerBackend.layouts


def stdout_console() -> Console:
    """Tables keep their columns when stdout is a file or a CI log, not only in a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def print_main_table(run: Run) -> None:
    """The answer table: what each tool cost for the whole fleet, cheapest first."""
    answer = answer_table(run)
    table = Table(title=f"envbench {run.scenario.name}: {len(run.projects)} projects")
    for header in answer.headers:
        table.add_column(header, justify="left" if header in ("tool", "layout") else "right")
    for row in answer.rows:
        table.add_row(*row)
    stdout_console().print(table)


def system_packages_option(text: str | None) -> tuple[str, ...]:
    """--system-packages a,b as names, each a Debian package's name (else a UsageError)."""
    system = tuple(p.strip() for p in (text or "").split(",") if p.strip())
    fault = next((f for f in map(debian_package_fault, system) if f), None)
    if fault:
        raise UsageError(f"--system-packages: {fault}")
    return system
