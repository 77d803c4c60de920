"""The mirror as PyPI serves it: a static tree of simple-API pages, made once per mirror folder.

PyPI answers PEP 691 JSON beside PEP 503 HTML, with each file's sha256, size and upload time
(PEP 700) and, for wheels, a core-metadata file (PEP 658/714) a locker reads instead of the
wheel. This tree holds the same, per index of a laid-out mirror (harness/packages/mirror.py):

    .site/<index>/simple/index.{html,json}            the project list
    .site/<index>/simple/<project>/index.{html,json}  a project's files
    .site/<index>/files/<file>, <file>.metadata      hard links to the mirror's files, METADATA

The pages are written by simple-repository's serializers (the model and writers CERN's index
server uses), not by hand. The web server (nginx, harness/backends/docker_sources.py) picks
JSON or HTML by the request's Accept header and answers range requests on the files.

upload-time is when the file entered envbench's store (its mtime there), not PyPI's upload
time: the closure is fetched once, and PyPI's times are not part of what it keeps.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import tarfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version
from simple_repository import model
from simple_repository.serializer import SerializerHtmlV1, SerializerJsonV1

SITE = ".site"
API_VERSION = "1.1"  # PEP 700: size, upload-time and versions
FORMAT = 1  # bump when the tree's layout or pages change: an older tree is made again


def project_of(filename: str) -> tuple[str, str] | None:
    """A file's project name (normalized) and version, from its name as the specs define it."""
    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
        return canonicalize_name(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _headers(text: bytes) -> email.message.Message:
    return email.parser.BytesHeaderParser().parsebytes(text)


def core_metadata(path: Path) -> bytes | None:
    """A wheel's METADATA, or an sdist's PKG-INFO (read for Requires-Python only); None if absent."""
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
                return archive.read(names[0]) if len(names) == 1 else None
        if path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as archive:
                for member in archive:
                    if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                        return archive.extractfile(member).read()
    except (OSError, zipfile.BadZipFile, tarfile.TarError, KeyError):
        return None
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_entry(path: Path, files: Path, known: dict[str, str]) -> model.File:
    """PATH linked into FILES (with its METADATA beside it, for a wheel): its entry on the pages."""
    os.link(path, files / path.name)
    metadata = core_metadata(path)
    requires_python = _headers(metadata).get("Requires-Python") if metadata else None
    metadata_hash = None
    if metadata is not None and path.name.endswith(".whl"):
        (files / f"{path.name}.metadata").write_bytes(metadata)
        metadata_hash = {"sha256": hashlib.sha256(metadata).hexdigest()}
    stat = path.stat()
    return model.File(
        filename=path.name, url=f"../../files/{quote(path.name)}",
        hashes={"sha256": known.get(path.name) or _sha256(path)},
        requires_python=str(requires_python).strip() or None if requires_python else None,
        dist_info_metadata=metadata_hash, size=stat.st_size,
        upload_time=datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None),
    )  # fmt: skip


def _write_pages(folder: Path, page) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(page, model.ProjectDetail):
        html, data = SerializerHtmlV1().serialize_project_page(page), SerializerJsonV1().serialize_project_page(page)
    else:
        html, data = SerializerHtmlV1().serialize_project_list(page), SerializerJsonV1().serialize_project_list(page)
    (folder / "index.html").write_text(html)
    (folder / "index.json").write_text(data)


def build_index(source: Path, target: Path, known: dict[str, str]) -> int:
    """The simple-API tree of one index folder SOURCE at TARGET: how many files it lists."""
    files = target / "files"
    files.mkdir(parents=True)
    projects: dict[str, list[tuple[str, model.File]]] = {}
    for path in sorted(p for p in source.iterdir() if p.is_file()):
        named = project_of(path.name)
        if named is not None:
            projects.setdefault(named[0], []).append((named[1], _file_entry(path, files, known)))
    meta = model.Meta(API_VERSION)
    for name, entries in projects.items():
        versions = tuple(sorted({version for version, _ in entries}, key=Version))  # the serializer keeps this order
        page = model.ProjectDetail(meta, name, files=tuple(f for _, f in entries), versions=versions)
        _write_pages(target / "simple" / name, page)
    listing = model.ProjectList(meta, tuple(model.ProjectListElement(name) for name in sorted(projects)))
    _write_pages(target / "simple", listing)
    return sum(len(entries) for entries in projects.values())


def build(folder: Path, indexes: list[str]) -> Path:
    """FOLDER/.site, made (once per FORMAT) from the mirror folder's INDEXES and its closure.json."""
    site = folder / SITE
    marker = site / "site.json"
    if marker.exists() and json.loads(marker.read_text()).get("format") == FORMAT:
        return site
    closure = json.loads((folder / "closure.json").read_text()) if (folder / "closure.json").exists() else {}
    known = {f["filename"]: f["sha256"] for f in closure.get("files", []) if f.get("filename") and f.get("sha256")}
    building = folder / (SITE + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    counts = {index: build_index(folder / index, building / index, known) for index in indexes}
    (building / "site.json").write_text(json.dumps({"format": FORMAT, "api_version": API_VERSION, "files": counts}) + "\n")
    shutil.rmtree(site, ignore_errors=True)
    os.replace(building, site)
    return site
