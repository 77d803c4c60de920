"""The local package mirror, part one: a scenario's closure, resolved and downloaded once.

For every project, pip (with the host's own configuration, so local wheel folders and corporate
indexes work) resolves the full closure for the target platform (the scenario's Python,
manylinux) without installing anything (`pip install --dry-run --report`). Every wheel is
downloaded once into a content-addressed store (`<store>/<sha256>/<file>`), checked against the
hash its index gave, and laid out as one flat folder per index, the mirror, named by a hash of
the closure, with `closure.json` beside the folders.

A package pinned to a named index comes from that index's files: it is resolved there first
(alone), then the closure is resolved with it fixed to that exact file. Where a named index is
unreachable from here, `ENVBENCH_INDEX_<NAME>` (the name upper-cased, `-` as `_`) may name a URL
or a folder of wheels that serves the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from . import synth
from .backends.local import envbench_home, host_ca_bundle
from .images import wheel_platforms
from .scenario import Project, Scenario

PYPI = "pypi"


class MirrorError(Exception):
    """Resolution or download failed: one line, with what pip or the index said."""


@dataclass(frozen=True)
class Wheel:
    name: str  # canonical
    version: str
    filename: str
    sha256: str
    size: int
    index: str  # the scenario's index name it comes from, or "pypi"
    url: str  # where it was found

    def to_json(self) -> dict:
        return asdict(self)


def index_location(scenario: Scenario, name: str) -> str:
    """URL or wheel folder that serves the named index: the override, else the scenario's URL."""
    override = os.environ.get("ENVBENCH_INDEX_" + name.upper().replace("-", "_"))
    return override or scenario.index_url(name)


def _source_args(location: str) -> list[str]:
    if location.startswith(("http://", "https://", "file://")) and not Path(location.removeprefix("file://")).is_dir():
        return ["--index-url", location]
    return ["--no-index", "--find-links", location.removeprefix("file://")]


def _report(
    scenario: Scenario, requirements: list[str], source: list[str], extra: list[str], isolated: bool = False
) -> list[dict]:
    """pip's install report for REQUIREMENTS on the target platform (nothing is installed).

    isolated: only SOURCE counts; the host's pip configuration and PIP_* variables, which may
    add other indexes or wheel folders, are left out (for packages pinned to a named index).
    """
    env = dict(os.environ)
    if isolated:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        if host_ca_bundle():
            source = [*source, "--cert", host_ca_bundle()]
    with tempfile.TemporaryDirectory(prefix="envbench-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                "--disable-pip-version-check", "--report", str(report), "--target", str(Path(tmp) / "target"),
                "--only-binary=:all:", "--python-version", scenario.python, "--implementation", "cp",
                *source, *extra]  # fmt: skip
        for platform_tag in wheel_platforms():
            argv += ["--platform", platform_tag]
        done = subprocess.run(argv + requirements, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            said = [line for line in (done.stderr or done.stdout).splitlines() if line.startswith("ERROR")] or ["no output"]
            raise MirrorError(f"resolving {' '.join(requirements)} failed: {said[-1]}")
        return json.loads(report.read_text())["install"]


def _wheel(entry: dict, index: str) -> Wheel:
    info = entry["download_info"]
    url = info["url"]
    digest = info.get("archive_info", {}).get("hashes", {}).get("sha256")
    if not digest:
        raise MirrorError(f"{url}: the index gave no sha256, so the mirror cannot check the file")
    return Wheel(
        name=canonicalize_name(entry["metadata"]["name"]),
        version=entry["metadata"]["version"],
        filename=unquote(url.rsplit("/", 1)[-1].split("#")[0]),
        sha256=digest,
        size=0,
        index=index,
        url=url,
    )


def _synthetic_only(scenario: Scenario, project: Project) -> bool:
    """Whether the project's whole closure is synthetic, so resolving it needs no index."""
    names = {canonicalize_name(p.name) for p in scenario.synthetic}
    requirements = [*project.dependencies, *(dep for p in scenario.synthetic for dep in p.dependencies)]
    return all(canonicalize_name(Requirement(text).name) in names for text in requirements)


def resolve_project(scenario: Scenario, project: Project, synthetic: Path | None = None) -> list[Wheel]:
    """The closure of one project: pinned packages from their index, the rest from PyPI.

    SYNTHETIC is the folder of the scenario's generated wheels; pip finds them there beside the
    indexes (and only there when nothing else is needed).
    """
    base = ["--no-index", "--find-links", scenario.wheelhouse] if scenario.wheelhouse else []
    if synthetic is not None and _synthetic_only(scenario, project):
        base = ["--no-index"]
    local = ["--find-links", str(synthetic)] if synthetic is not None else []
    pinned: dict[str, Wheel] = {}
    for requirement in project.dependencies:
        index = project.index_of(Requirement(requirement).name)
        if index is None:
            continue
        location = index_location(scenario, index)
        try:
            entry = _report(scenario, [requirement], base or _source_args(location), ["--no-deps"], isolated=True)[0]
        except MirrorError as exc:
            variable = "ENVBENCH_INDEX_" + index.upper().replace("-", "_")
            raise MirrorError(
                f"index {index} ({location}): {exc}; where it is unreachable, {variable} may name a mirror URL "
                "or a folder of wheels that serves the same files"
            ) from None
        pinned[canonicalize_name(entry["metadata"]["name"])] = _wheel(entry, index)
    extra: list[str] = []
    with tempfile.TemporaryDirectory(prefix="envbench-pins-") as pins:
        if pinned:
            # The closure is resolved with each pinned package fixed to the file its index gave.
            constraints = Path(pins) / "constraints.txt"
            constraints.write_text("".join(f"{w.name}=={w.version}\n" for w in pinned.values()))
            for wheel in pinned.values():
                _download(wheel, Path(pins) / wheel.filename)
            extra = ["--constraint", str(constraints), "--find-links", pins]
        entries = _report(scenario, list(project.dependencies), base, extra + local)
    closure = []
    for entry in entries:
        name = canonicalize_name(entry["metadata"]["name"])
        closure.append(pinned.get(name) or _wheel(entry, PYPI))
    return closure


def resolve(scenario: Scenario, synthetic: Path | None = None) -> list[Wheel]:
    """Every wheel any project of the scenario needs, once (projects often share their closure)."""
    seen: dict[tuple[str, str], Wheel] = {}
    done: set[tuple] = set()
    for project in scenario.projects:
        key = (project.dependencies, project.sources)
        if key in done:
            continue
        done.add(key)
        for wheel in resolve_project(scenario, project, synthetic):
            seen.setdefault((wheel.index, wheel.sha256), wheel)
    if synthetic is not None:
        _check_synthetic(seen.values(), synthetic)
    return sorted(seen.values(), key=lambda w: (w.index, w.name, w.version))


def build_synthetic(scenario: Scenario, root: Path, say=lambda text: None) -> Path | None:
    """The scenario's synthetic wheels, built once into a folder named by their specification."""
    if not scenario.synthetic:
        return None
    spec = json.dumps([synth.GENERATOR, *(asdict(p) for p in scenario.synthetic)], sort_keys=True)
    folder = root / hashlib.sha256(spec.encode()).hexdigest()[:12]
    for package in scenario.synthetic:
        if not (folder / package.wheel_name).exists():
            say(f"generating {package.wheel_name} ({package.files} × {package.file_size:,} B)")
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix=".building-", dir=root) as tmp:
                os.replace(synth.build_wheel(package, Path(tmp)), folder / package.wheel_name)
    return folder


def _check_synthetic(wheels, folder: Path) -> None:
    """A synthetic name that resolved to some index's file instead of ours is a collision."""
    ours = {canonicalize_name(path.name.split("-")[0]): path for path in folder.glob("*.whl")}
    for wheel in wheels:
        if wheel.name in ours and not wheel.url.startswith(Path(folder).resolve().as_uri()):
            raise MirrorError(f"synthetic package {wheel.name} collides with {wheel.url}: give it a name no index uses")


def _download(wheel: Wheel, target: Path) -> None:
    """Fetch WHEEL to TARGET, checking its sha256; a folder or file:// URL is copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    url = wheel.url.split("#")[0]
    if url.startswith("file://") and _link_local(Path(urllib.request.url2pathname(url.removeprefix("file://"))), wheel, target):
        return
    try:
        if url.startswith("file://"):
            source = open(urllib.request.url2pathname(url.removeprefix("file://")), "rb")
        else:
            source = urllib.request.urlopen(url, timeout=300)
    except OSError as exc:
        raise MirrorError(f"cannot fetch {url}: {exc}") from None
    with source, open(partial, "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != wheel.sha256:
        partial.unlink()
        raise MirrorError(f"{url}: sha256 {digest.hexdigest()} is not the {wheel.sha256} its index gave")
    os.replace(partial, target)


def _link_local(source: Path, wheel: Wheel, target: Path) -> bool:
    """A local wheel with the expected digest hard-linked into place (no second copy)."""
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != wheel.sha256:
            return False
        os.link(source, target)
    except OSError:
        return False
    return True


def fetch(wheels: list[Wheel], store: Path, say=lambda text: None) -> list[Wheel]:
    """Each wheel in the content-addressed STORE (downloaded only when missing), with its size."""
    fetched = []
    for wheel in wheels:
        path = store / wheel.sha256 / wheel.filename
        if not path.exists():
            say(f"{'storing' if wheel.url.startswith('file://') else 'downloading'} {wheel.filename}")
            _download(wheel, path)
        fetched.append(Wheel(**{**wheel.to_json(), "size": path.stat().st_size}))
    return fetched


def closure_id(wheels: list[Wheel]) -> str:
    return hashlib.sha256("".join(f"{w.index} {w.sha256} {w.filename}\n" for w in wheels).encode()).hexdigest()[:12]


def lay_out(wheels: list[Wheel], store: Path, mirrors: Path, scenario: Scenario) -> Path:
    """The mirror folder for WHEELS: one folder of wheels per index, hard-linked from the store."""
    target = mirrors / f"{scenario.name}-{closure_id(wheels)}"
    if (target / "closure.json").exists():
        return target
    building = target.with_name(target.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    for wheel in wheels:
        source = store / wheel.sha256 / wheel.filename
        destination = building / wheel.index / wheel.filename
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
    record = {"schema": 1, "scenario": scenario.name, "python": scenario.python, "wheels": [w.to_json() for w in wheels]}
    (building / "closure.json").write_text(json.dumps(record, indent=1) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    return target


def unpacked_bytes(folder: Path) -> tuple[int, int]:
    """What the mirror's wheels hold uncompressed, and how much of it is Python source (.py).

    Read from each zip's directory, nothing extracted. The source counts twice in an env made
    by an installer that compiles it (pip writes a .pyc beside each .py).
    """
    total = source = 0
    for wheel in folder.glob("*/*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                total += info.file_size
                source += info.file_size if info.filename.endswith(".py") else 0
    return total, source


# -- serving ---------------------------------------------------------------------------------
# pypiserver (SERVER_REQUIREMENTS): a well-kept PEP 503 server for a plain folder of wheels, nothing to set up; it
# sends Cache-Control on files as PyPI does, so pip's and uv's caches behave as against PyPI
# (this machine's proxy strips PyPI's own). waitress (which its "auto" server picks first) answers downloads in parallel.
SERVER_PORT = 8080


def server_argv(bin_dir: str, folder: str, port: int = SERVER_PORT, host: str = "0.0.0.0") -> list[str]:
    return [
        f"{bin_dir}/pypi-server", "run", "--port", str(port), "--host", host, "--server", "auto",
        "--disable-fallback", "--hash-algo", "sha256", "--cache-control", "31536000",
        "--authenticate", ".", "--passwords", ".", "--log-stream", "stderr", folder,
    ]  # fmt: skip


def indexes_of(folder: Path) -> list[str]:
    """The index folders a laid-out mirror holds (pypi and the scenario's named indexes)."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def prepare(scenario: Scenario, say=lambda text: None) -> Path:
    """The scenario's mirror folder: resolved, fetched and laid out (reused while it matches)."""
    home = envbench_home()
    synthetic = build_synthetic(scenario, home / "synthetic", say)
    wheels = fetch(resolve(scenario, synthetic), home / "wheels", say)
    return lay_out(wheels, home / "wheels", home / "mirrors", scenario)
