"""Do the locks made through envbench's mirror equal locks made against the live index?

    python benchmarks/lock_equivalence.py RUN_DIR [--exclude-newer ISO-TIME]

A check with the network, not a test: for the first project of RUN_DIR's scenario it makes a
live universal lock with uv (envbench's pinned uv, the scenario's sources: PyPI and named
indexes) with `exclude-newer` set to the moment the run's mirror was resolved, so the live
index is read as it was then. Then it compares, package for package (name and version), every
lock file the run kept under RUN_DIR/locks/: universal lockers (uv.lock, poetry.lock, pdm.lock)
against the whole live lock, target-only lockers (pip-compile's requirements.txt, Pipfile.lock)
against the part of it the target installs. Exit 1 when any differs. Where the index gives no
upload time for some files (this machine's PyPI proxy, for some), `exclude-newer` cannot work:
the live lock is then made as of now, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import canonicalize_name
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from harness.packages import closure, mirror  # noqa: E402
from harness.record.model import Run  # noqa: E402
from harness.record.run import load  # noqa: E402
from harness.scenario import parse as scenarios  # noqa: E402

UNIVERSAL = {"uv.lock", "poetry.lock", "pdm.lock"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def _toml_packages(text: str, skip_virtual: bool) -> dict[str, str]:
    found = {}
    for package in tomllib.loads(text).get("package", []):
        source = package.get("source", {})
        if skip_virtual and isinstance(source, dict) and ("virtual" in source or "editable" in source):
            continue  # the project itself
        found[canonicalize_name(package["name"])] = package["version"]
    return found


def lock_packages(path: Path) -> dict[str, str]:
    """name -> version of every package a lock file pins."""
    text = path.read_text(encoding="utf-8")
    if path.name in UNIVERSAL:
        return _toml_packages(text, skip_virtual=path.name == "uv.lock")
    if path.name == "Pipfile.lock":
        data = json.loads(text)
        return {canonicalize_name(n): e["version"].removeprefix("==") for n, e in data.get("default", {}).items()}
    found = {}
    for line in text.splitlines():  # pip-compile's requirements.txt
        match = PIN.match(line.strip())
        if match:
            found[canonicalize_name(match.group(1))] = match.group(3)
    return found


def resolved_at(run_dir: Path, run: Run) -> str:
    mirror = run.mirror
    if mirror and mirror.resolved_at:
        return mirror.resolved_at
    closure_json = Path((mirror.folder if mirror else None) or "") / "closure.json"
    if closure_json.is_file():  # mirrors made before closure.json said when
        return datetime.fromtimestamp(closure_json.stat().st_mtime, UTC).isoformat(timespec="seconds")
    raise SystemExit(f"{run_dir}: the run's mirror does not say when it was resolved: give --exclude-newer")


def compare(mine: dict[str, str], live: dict[str, set[str]]) -> str:
    """What MINE lacks, adds, or pins at a version the live lock has for no environment.

    uv forks a universal lock where markers split (soupsieve 2.10 and 4.1.3 for different
    Python patch ranges); Poetry and PDM pick one version for all: any of the live versions
    is the same package.
    """
    missing = sorted(f"{n} {'/'.join(sorted(v))}" for n, v in live.items() if n not in mine)
    extra = sorted(f"{n} {v}" for n, v in mine.items() if n not in live)
    other = sorted(
        f"{n} {mine[n]} (live {'/'.join(sorted(live[n]))})" for n in mine.keys() & live.keys() if mine[n] not in live[n]
    )
    parts = [f"missing {', '.join(missing)}"] * bool(missing) + [f"extra {', '.join(extra)}"] * bool(extra)
    return "; ".join(parts + [f"other version {', '.join(other)}"] * bool(other))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--exclude-newer", help="ISO time; default: when the run's mirror was resolved")
    args = parser.parse_args()
    run = load(args.run_dir)
    scenario = scenarios.load(run.scenario.path)
    project = scenario.projects[0]
    when = args.exclude_newer or resolved_at(args.run_dir, run)
    print(f"live lock of {scenario.name}/{project.name} from the indexes as of {when} ...", flush=True)
    sources = mirror.sources_for(scenario, None)
    try:
        releases = closure.uv_lock(
            project.dependencies, sources, scenario.python, dict(project.sources), None, exclude_newer=when
        )
    except closure.MirrorError:
        # Where the index gives no upload time for some files (PEP 700), uv refuses them under
        # exclude-newer ("has no publish time"): lock the index as it is now, and say when.
        when = f"now, {datetime.now(UTC).isoformat(timespec='seconds')} (exclude-newer failed; mirror resolved {when})"
        print(f"live lock as of {when}", flush=True)
        releases = closure.uv_lock(project.dependencies, sources, scenario.python, dict(project.sources), None)
    live: dict[str, set[str]] = {}
    live_target: dict[str, set[str]] = {}
    for release in releases:
        live.setdefault(release.name, set()).add(release.version)
        if release.on_target:
            live_target.setdefault(release.name, set()).add(release.version)
    table = Table(title=f"{scenario.name}: locks through the mirror vs live (exclude-newer {when})")
    for header in ("tool", "lock file", "compared with", "packages", "live", "verdict"):
        table.add_column(header, overflow="fold")
    differs = 0
    for path in sorted((args.run_dir / "locks").glob("*/same-volume/*")):
        mine = lock_packages(path)
        universal = path.name in UNIVERSAL
        reference = live if universal else live_target
        difference = compare(mine, reference)
        differs += bool(difference)
        table.add_row(path.parts[-3], path.name, "universal lock" if universal else "target's part", str(len(mine)),
                      str(len(reference)), f"[red]{difference}[/]" if difference else "[green]equal[/]")  # fmt: skip
    Console(width=160).print(table)
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
