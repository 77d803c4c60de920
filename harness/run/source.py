"""The packages, reachable where the tools run: the mirror made and served (or a live scenario's
indexes checked), the converted conda channel, and what each project's steps install from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from harness.backends.base import BackendError
from harness.packages import conda_channel
from harness.scenario.model import Scenario
from harness.settings.sources import PYPI
from harness.tools.base import PackageSource


def unreachable_indexes(scenario: Scenario, timeout: float = 15.0) -> dict[str, str]:
    """Named indexes that do not answer from here (source: live): name -> one-line reason."""
    used = {index for project in scenario.projects for _, index in project.sources}
    failures = {}
    for name in sorted(used):
        url = scenario.index_url(name) + "/"
        try:
            with urllib.request.urlopen(url, timeout=timeout):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                failures[name] = f"index {name} ({url}) answered HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            failures[name] = f"index {name} ({url}) is unreachable from here: {reason}"
    return failures


def given_channel() -> str | None:
    """A real conda channel the user named, which takes the converted one's place."""
    return os.environ.get("ENVBENCH_CONDA_CHANNEL") or None


def provide_channel(backend, folder: Path, pythons: list[str], say=lambda text: None) -> dict:
    """The converted channel of the mirror FOLDER for PYTHONS, made or reused and served by
    BACKEND: what run.json records of it (its URL where tools run), or the error that stopped it."""
    try:
        channel = conda_channel.prepare(folder, [backend.interpreter(python) for python in pythons], say)
        url = backend.serve_channel(channel)
    except (conda_channel.ChannelError, BackendError, OSError, RuntimeError, ValueError) as exc:
        error = f"the conda channel could not be made: {exc}"[:500]
        say(f"[yellow]warning:[/] {error}")
        return {"error": error}
    manifest = json.loads((channel / "channel.json").read_text())
    say(f"conda channel ({conda_channel.STAND_IN}): {len(manifest['converted'])} wheels converted, "
        f"{manifest['bytes'] / 2**20:,.1f} MiB, served at {url}")  # fmt: skip
    found = {"url": url, "folder": str(channel), **manifest}
    if manifest["skipped"]:  # a conda tool cannot make those projects: say so once, run none of it
        files = ", ".join(sorted({s["file"] for s in manifest["skipped"]}))
        found["error"] = f"the converted conda channel lacks {files}: {manifest['skipped'][0]['why']}"
    return found


def package_source(scenario: Scenario, project, urls: dict[str, str], wheelhouse: str | None,
                   channel: str | None) -> PackageSource:  # fmt: skip
    """Where PROJECT's steps install from: the mirror's URLS (every index of the scenario has its
    folder there), else the scenario's own indexes or WHEELHOUSE (as the tools see it)."""
    if urls:
        pinned = tuple((package, urls[index]) for package, index in project.sources)
        # pip caches plain-HTTP downloads only from trusted hosts, loopback included (the local
        # backend's pypiserver; the docker backend's mirror speaks HTTPS).
        hosts = {urlparse(url).hostname for url in urls.values() if urlparse(url).scheme == "http"}
        default = urls.get(PYPI) or next(iter(urls.values()))
        names = tuple((urls[index], index) for _, index in project.sources)
        found = PackageSource(pinned=pinned, index_url=default, trusted_hosts=tuple(sorted(hosts)), names=names)
    else:
        pinned = tuple((package, scenario.index_url(index)) for package, index in project.sources)
        names = tuple((scenario.index_url(index), index) for _, index in project.sources)
        found = PackageSource(wheelhouse=wheelhouse, pinned=pinned, names=names)
    return dataclasses.replace(found, conda_channel=channel)


def wheels_only_reason(tool: str, mirror) -> str | None:
    """Why TOOL, which installs wheels only (the nix stand-in's builder), cannot make the envs:
    the first sdist of the mirror's install set; None when every file it installs is a wheel."""
    installed = [f.filename for f in (mirror.files if mirror else []) if f.role in (None, "install")]
    sdists = [name for name in installed if not name.endswith(".whl")]
    return f"{tool} installs wheels only (a stand-in's builder): the install set holds {sdists[0]}, an sdist" if sdists else None
