"""Settings every part of envbench uses: its home folder, the host's CA bundle, pinned venvs.

Kept out of the backends: the mirror (on the host) needs them as much as the local backend.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

COMPLETE_MARK = ".envbench-complete"


class PinnedVenvError(Exception):
    """A pinned venv could not be installed: one line with pip's last word."""


def envbench_home() -> Path:
    """$ENVBENCH_HOME, default ~/.cache/envbench (tools, wheels, mirrors, synthetic, work)."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "envbench"
    return Path(os.environ.get("ENVBENCH_HOME") or default)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file PATH (made if missing) until the block ends.

    Two envbench processes on one home (shards on one machine, the test workers) then build a
    shared folder (a pinned venv, a mirror, an image) once, not over each other's half-made one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def host_ca_bundle() -> str:
    """The system CA bundle (an intercepting proxy's CA is only there), or "" when none."""
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    return ""


def pinned_venv(name: str, requirements: tuple[str, ...], python: str, tools_dir: Path | None = None) -> Path:
    """bin folder of a venv holding REQUIREMENTS, made once and named by a hash of its inputs."""
    tools_dir = tools_dir or envbench_home() / "tools"
    key = hashlib.sha256(json.dumps([list(requirements), python]).encode()).hexdigest()[:12]
    venv = tools_dir / f"{name}-{key}"
    if (venv / COMPLETE_MARK).exists():
        return venv / "bin"
    with locked(tools_dir / f".{name}-{key}.lock"):
        _make_venv(venv, requirements, python)
    return venv / "bin"


def _make_venv(venv: Path, requirements: tuple[str, ...], python: str) -> None:
    """The venv of pinned_venv, unless another process made it while this one waited."""
    if not (venv / COMPLETE_MARK).exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        commands = [
            [python, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements],
        ]
        for argv in commands:
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise PinnedVenvError(f"installing {' '.join(requirements)} failed: {last[0]}")
        (venv / COMPLETE_MARK).write_text("\n".join(requirements) + "\n")
