"""`envbench mirror SCENARIO`: resolve and fetch the scenario's packages into the local mirror."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from harness.cli.common import EXIT_FAILED, EXIT_OK, stdout_console
from harness.packages import mirror
from harness.report import tables
from harness.scenario.parse import load

HELP = "resolve and fetch the scenario's packages into the local mirror"


def add_arguments(mirror_cmd) -> None:
    mirror_cmd.add_argument("scenario")


def command(args) -> int:
    scenario = load(args.scenario)
    console = Console(stderr=True)
    try:
        with console.status(f"resolving {len(scenario.projects)} projects for Python {scenario.python}"):
            folder = mirror.prepare(scenario, lambda text: console.print(text, highlight=False))
    except mirror.MirrorError as exc:
        print(f"envbench mirror: {exc}", file=sys.stderr)
        return EXIT_FAILED
    found = mirror.summary(folder)
    roles = ", ".join(f"{count} {role}" for role, count in found.roles.items())
    title = f"{scenario.name}: {len(found.files)} files ({roles}); the target installs {found.bytes / 2**20:,.1f} MiB"
    table = Table(title=title)
    for header in ("name", "version", "file", "role", "index", "MiB", "sha256"):
        table.add_column(header, justify="right" if header == "MiB" else "left")
    for entry in found.files:
        table.add_row(entry.name, entry.version, entry.filename, entry.kind, entry.index, tables.mib(entry.size),
                      entry.sha256[:16])  # fmt: skip
    stdout_console().print(table)
    print(f"mirror: {folder}")
    return EXIT_OK
