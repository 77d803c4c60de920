"""Where a scenario's packages come from, as pip on this host sees them.

Sources: pip's configuration's index-url, extra-index-url, find-links and no-index (`pip config
list`, PIP_* variables), with pip's rule that the best version across indexes wins;
`ENVBENCH_INDEX_PYPI` replaces PyPI itself. A package pinned to a named index of the scenario
comes from that index alone, and `ENVBENCH_INDEX_<NAME>` (the name upper-cased, `-` as `_`) may
serve that index from a URL or a folder of files where the index itself cannot be reached.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PYPI = "pypi"
PYPI_URL = "https://pypi.org/simple"


def index_variable(name: str) -> str:
    return "ENVBENCH_INDEX_" + name.upper().replace("-", "_")


def index_location(scenario, name: str) -> str:
    """URL or folder that serves the named index: the override, else the scenario's URL."""
    return os.environ.get(index_variable(name)) or scenario.index_url(name)


@dataclass(frozen=True)
class Sources:
    """Where the resolver looks: the default index, pip's extras and folders, named indexes."""

    default: str | None  # URL or folder standing for PyPI; None: no index (pip's no-index)
    extra: tuple[str, ...] = ()  # more indexes whose best version wins, as pip's extra-index-url
    folders: tuple[str, ...] = ()  # folders of files (find-links, a wheelhouse, synthetic packages)
    named: tuple[tuple[str, str], ...] = ()  # (scenario's index name, URL or folder)

    def index_of(self, registry: str, pinned_to: str | None = None) -> str:
        """The mirror folder a lock entry's registry belongs in: a named index's, else PyPI's.

        PINNED_TO is the named index the package is pinned to, if any. A named index may have
        PyPI's own URL (to keep a local CPU wheel of torch from winning over PyPI's CUDA build):
        it then serves only what is pinned to it, and everything else from there is PyPI's.
        """
        if pinned_to and any(name == pinned_to and same_place(registry, loc) for name, loc in self.named):
            return pinned_to
        if self.default and same_place(registry, self.default):
            return PYPI
        for name, location in self.named:
            if same_place(registry, location):
                return name
        return PYPI


def same_place(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return text.removeprefix("file://").rstrip("/")

    return norm(a) == norm(b)


def is_folder(location: str) -> bool:
    return not location.startswith(("http://", "https://")) and Path(location.removeprefix("file://")).is_dir()


def pip_configuration(environ: dict[str, str] | None = None) -> dict[str, str]:
    """pip's own view of its settings here (`pip config list`: files, then PIP_* variables)."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                          env=dict(os.environ if environ is None else environ))  # fmt: skip
    files: dict[str, str] = {}
    variables: dict[str, str] = {}  # PIP_* variables, printed as ":env:.key", override every file
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            try:
                (variables if key.startswith(":env:") else files)[key.rsplit(".", 1)[-1]] = str(ast.literal_eval(value))
            except (ValueError, SyntaxError):
                continue
    return files | variables


def host_sources(environ: dict[str, str] | None = None) -> Sources:
    """The indexes and folders pip on this host would use, PyPI replaced by ENVBENCH_INDEX_PYPI."""
    environ = dict(os.environ if environ is None else environ)
    config = pip_configuration(environ)
    override = environ.get("ENVBENCH_INDEX_PYPI")
    no_index = config.get("no-index", "").lower() in ("1", "true", "yes", "on")
    default = override or (None if no_index else config.get("index-url") or PYPI_URL)
    extra = () if (no_index or override) else tuple(config.get("extra-index-url", "").split())
    return Sources(default=default, extra=extra, folders=tuple(config.get("find-links", "").split()))
