"""`envbench clean`: remove every container, volume, network and image labelled envbench, and the
private file systems a killed run left mounted."""

from __future__ import annotations

from harness.backends import engine
from harness.cli.common import EXIT_OK
from harness.run import filesystems

HELP = "remove every container, volume, network and image labelled envbench"


def add_arguments(parser) -> None:
    pass


def command(args) -> int:
    removed = engine.clean(engine.connect())
    removed["private file systems"] = filesystems.clean()  # what a killed run left mounted
    print(", ".join(f"{count} {kind}" for kind, count in removed.items()) + " removed")
    return EXIT_OK
