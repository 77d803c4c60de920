"""The content-addressed store: every distribution file downloaded once, checked by sha256.

`<store>/<sha256>/<file>`; a local file with the expected digest is hard-linked, not copied.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROLES = ("install", "resolve", "build", "sdist-metadata")


class MirrorError(Exception):
    """Resolution or download failed: one line, with what the resolver or the index said.

    unreachable: an index could not be reached (a run's failure, exit 1), rather than the input
    asking for what no index has (the user's to change, exit 2).
    """

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Dist:
    """One distribution file (a wheel or an sdist) the mirror serves."""

    name: str  # canonical
    version: str
    filename: str
    sha256: str
    size: int
    index: str  # the scenario's index name it comes from, or "pypi"
    url: str  # where it was found (file:// for local files)
    # install: the target installs it; resolve: only lockers read it (a release other platforms
    # install); build: what building one of the mirror's sdists asks for; sdist-metadata: what an
    # sdist's shipped metadata declares beyond the resolution (tools reading it install it)
    role: str = "install"

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    def to_json(self) -> dict:
        return asdict(self)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def local_path(url: str) -> Path | None:
    return Path(urllib.request.url2pathname(url.split("#")[0].removeprefix("file://"))) if url.startswith("file://") else None


def _download(dist: Dist, target: Path) -> None:
    """Fetch DIST to TARGET, checking its sha256; a local file is linked when it can be."""
    target.parent.mkdir(parents=True, exist_ok=True)
    url = dist.url.split("#")[0]
    source_path = local_path(url)
    if source_path is not None and _link_local(source_path, dist, target):
        return
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        source = open(source_path, "rb") if source_path is not None else urllib.request.urlopen(url, timeout=300)
    except OSError as exc:
        raise MirrorError(f"cannot fetch {url}: {exc}", unreachable=True) from None
    with source, open(partial, "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != dist.sha256:
        partial.unlink()
        raise MirrorError(f"{url}: sha256 {digest.hexdigest()} is not the {dist.sha256} its index gave")
    os.replace(partial, target)


def _link_local(source: Path, dist: Dist, target: Path) -> bool:
    """A local file with the expected digest hard-linked into place (no second copy)."""
    try:
        if sha256_of(source) != dist.sha256:
            return False
        os.link(source, target)
    except OSError:
        return False
    return True


def path_of(dist: Dist, store: Path) -> Path:
    return store / dist.sha256 / dist.filename


def fetch(dists, store: Path, say=lambda text: None) -> list[Dist]:
    """Each distribution in the content-addressed STORE (downloaded only when missing), with its size."""
    fetched = []
    for dist in dists:
        path = path_of(dist, store)
        if not path.exists():
            say(f"{'storing' if dist.url.startswith('file://') else 'downloading'} {dist.filename}")
            _download(dist, path)
        fetched.append(replace(dist, size=path.stat().st_size))
    return fetched
