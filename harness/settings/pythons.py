"""Python interpreters on this host, by version: for the local backend's envs and the mirror's resolver.

Looked for as `pythonX.Y` on PATH, this very interpreter, `python3`, and the version folders of
pyenv (its shims run only the versions it is set to, so a pyenv-built 3.13 beside a global
3.11 is found in $PYENV_ROOT/versions, not on PATH).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path


class NoPython(Exception):
    """No interpreter of the version asked for on this host: one line naming where it looked."""


def _candidates(major_minor: str) -> list[str]:
    found = [shutil.which(f"python{major_minor}"), sys.executable, shutil.which("python3")]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    found += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{major_minor}*", "bin", f"python{major_minor}")),
                    reverse=True)  # fmt: skip
    return list(dict.fromkeys(c for c in found if c))


def find_python(version: str) -> tuple[str, str]:
    """The real interpreter (not a pyenv shim) whose version starts with VERSION, and its version."""
    major_minor = ".".join(version.split(".")[:2])
    probe = "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])"
    for candidate in _candidates(major_minor):
        try:
            out = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, timeout=60, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        executable, found = out.split()[:2]
        if found == version or found.startswith(version + "."):
            return executable, found
    raise NoPython(
        f"no Python {version} on this machine (looked for python{major_minor} on PATH, {sys.executable} and pyenv's "
        "versions); install it or change the scenario's python"
    )
