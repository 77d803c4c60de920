"""`envbench scan PATH...`: the disk report of the trees at PATH (harness/sandbox/scan.py), each
inode once."""

from __future__ import annotations

import json
import os
import sys

from rich.table import Table

from harness.cli.common import EXIT_FAILED, EXIT_OK, UsageError, stdout_console
from harness.record.disk import DiskReport
from harness.report import tables
from harness.sandbox import scan

HELP = "disk report of the trees at PATH..."


def add_arguments(scan_cmd) -> None:
    scan_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    scan_cmd.add_argument("paths", nargs="+", metavar="PATH")


def command(args) -> int:
    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or directory")
    result = scan.scan(args.paths)
    report = DiskReport.from_json(result)
    if args.json:
        print(json.dumps(result))
    else:
        table = Table()
        for header in (
            "path",
            "physical MiB",
            "apparent MiB",
            "exclusive MiB",
            "marginal MiB",
            "files",
            "hard-linked",
            "symlinks",
        ):
            table.add_column(header, justify="left" if header == "path" else "right")
        for root in report.roots:
            table.add_row(
                root.path,
                tables.mib(root.physical_bytes),
                tables.mib(root.apparent_bytes),
                tables.mib(root.exclusive_bytes),
                tables.mib(root.marginal_bytes),
                f"{root.files:,}",
                f"{root.links.hardlinked:,}",
                f"{root.symlinks:,}",
            )
        total = report.total
        table.add_row(
            "total (each inode once)",
            tables.mib(total.physical_bytes),
            tables.mib(total.apparent_bytes),
            tables.mib(total.exclusive_bytes),
            "",
            f"{total.files:,}",
            f"{total.hardlinked_files:,}",
            f"{total.symlinks:,}",
        )
        console = stdout_console()
        console.print(table)
        ratio = total.sharing_ratio or 0
        console.print(f"naive sum {tables.mib(total.naive_bytes)} MiB; sharing ratio {ratio:.2f}", highlight=False)
    for error in report.errors:
        print(f"envbench scan: {error}", file=sys.stderr)
    return EXIT_FAILED if report.errors else EXIT_OK
