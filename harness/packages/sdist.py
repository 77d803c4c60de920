"""What an sdist says about itself, read from the archive without building it."""

from __future__ import annotations

import tarfile
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from harness.packages.store import MirrorError

SETUPTOOLS_DEFAULT = ("setuptools>=40.8.0", "wheel")  # pip's and uv's build requirements without pyproject.toml


def _members(sdist: Path, wanted) -> dict[str, str]:
    """Text of the archive's members whose path (below the top folder) WANTED accepts."""
    found = {}
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                for name in archive.namelist():
                    inner = name.partition("/")[2]
                    if wanted(inner):
                        found[inner] = archive.read(name).decode("utf-8", "replace")
        else:
            with tarfile.open(sdist) as archive:
                for member in archive.getmembers():
                    inner = member.name.partition("/")[2]
                    if member.isfile() and wanted(inner):
                        found[inner] = archive.extractfile(member).read().decode("utf-8", "replace")
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise MirrorError(f"{sdist.name}: cannot read it as an sdist: {exc}") from None
    return found


def build_requirements(sdist: Path) -> tuple[str, ...]:
    """What building SDIST asks for up front: its build-system.requires, or setuptools' default."""
    text = _members(sdist, lambda inner: inner == "pyproject.toml").get("pyproject.toml")
    system = tomllib.loads(text).get("build-system", {}) if text else {}
    requires = tuple(system.get("requires", SETUPTOOLS_DEFAULT if "build-backend" not in system else ()))
    if system.get("build-backend", "setuptools").startswith("setuptools") and not any(
        canonicalize_name(Requirement(r).name) == "wheel" for r in requires
    ):
        requires += ("wheel",)  # setuptools before 70.1 asks for it through get_requires_for_build_wheel
    return requires


def _egg_info_requires(text: str) -> list[str]:
    """setuptools' requires.txt: bare lines, then [extra], [:marker] or [extra:marker] sections."""
    found, marker = [], ""
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            extra, _, marker = line.strip("[]").partition(":")
            marker = None if extra else marker  # an extra's requirements are not the package's own
            continue
        if marker is not None:
            found.append(f"{line}; {marker}" if marker else line)
    return found


def declared_requirements(sdist: Path) -> tuple[str, ...]:
    """The requirements the sdist's shipped metadata states (PKG-INFO, egg-info), as a reader sees them."""
    texts = _members(
        sdist, lambda inner: inner == "PKG-INFO" or (inner.count("/") == 1 and inner.endswith(".egg-info/requires.txt"))
    )
    found = []
    if "PKG-INFO" in texts:
        found += HeaderParser().parsestr(texts["PKG-INFO"]).get_all("Requires-Dist") or []
    for name, text in texts.items():
        if name.endswith("requires.txt"):
            found += _egg_info_requires(text)
    valid = []
    for text in dict.fromkeys(found):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue  # metadata from old tools can hold anything; what cannot be parsed is not asked for
        if requirement.marker is None or "extra" not in str(requirement.marker):
            valid.append(str(requirement))  # a requirement of an extra is not the package's own
    return tuple(valid)
