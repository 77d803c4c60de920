"""`envbench image build`: the base and tools images of each Python (reused while their inputs match)."""

from __future__ import annotations

from rich.console import Console

from harness.backends import engine, images
from harness.cli.common import EXIT_OK, system_packages_option
from harness.settings.target import DEFAULT_PYTHON, SUITES

HELP = "container images"


def add_arguments(image) -> None:
    image.add_argument("action", choices=["build"], help="build the base and tools images (reused while their inputs match)")
    image.add_argument("--python", action="append", default=None, metavar="X.Y",
                       help=f"the images of this Python too (known: {', '.join(SUITES)}; default {DEFAULT_PYTHON})")
    image.add_argument("--system-packages", metavar="PKGS", default="",
                       help="with these Debian packages in the base, comma-separated, as a scenario's system_packages")


def command(args) -> int:
    console = Console(stderr=True)
    client = engine.connect()
    pythons = tuple(args.python or (DEFAULT_PYTHON,))
    system = system_packages_option(args.system_packages)
    with console.status("building images"):
        tags = images.ensure(client, lambda text: console.print(text, highlight=False), pythons, system)
    print(f"base: {tags['base']} ({client.images.get(tags['base']).id[:19]})")
    for python, tag in tags["tools_by_python"].items():
        print(f"tools (Python {python}): {tag} ({client.images.get(tag).id[:19]})")
    return EXIT_OK
