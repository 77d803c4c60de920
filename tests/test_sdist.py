"""Reading an sdist without building it: build requirements and the metadata it ships."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from harness.packages.sdist import build_requirements, declared_requirements
from harness.packages.store import MirrorError

# python-u2flib-server 5.0.1's egg-info, made on Python 2: enum34 with no marker.
REQUIRES_TXT = """cryptography>=1.2
six
enum34

[:python_version < "3.8"]
importlib-metadata

[u2f_server]
WebOb
"""
PKG_INFO = """Metadata-Version: 2.1
Name: odd-pkg
Version: 1.0
Requires-Dist: attrs>=20
Requires-Dist: pytest; extra == "test"
Requires-Dist: not a requirement ((
"""


def tar_sdist(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{path.name.removesuffix('.tar.gz')}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_egg_info_requirements_with_markers_and_without_extras(tmp_path):
    sdist = tar_sdist(tmp_path / "python-u2flib-server-5.0.1.tar.gz",
                      {"setup.py": "", "python_u2flib_server.egg-info/requires.txt": REQUIRES_TXT})  # fmt: skip
    assert declared_requirements(sdist) == ("cryptography>=1.2", "six", "enum34", 'importlib-metadata; python_version < "3.8"')
    assert build_requirements(sdist) == ("setuptools>=40.8.0", "wheel")


def test_pkg_info_requirements_skip_extras_and_garbage(tmp_path):
    files = {
        "PKG-INFO": PKG_INFO,
        "pyproject.toml": '[build-system]\nrequires = ["flit_core>=3.2"]\nbuild-backend = "flit_core.buildapi"\n',
    }
    sdist = tar_sdist(tmp_path / "odd-pkg-1.0.tar.gz", files)
    assert declared_requirements(sdist) == ("attrs>=20",)
    assert build_requirements(sdist) == ("flit_core>=3.2",)


def test_zip_sdist(tmp_path):
    path = tmp_path / "zipped-1.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("zipped-1.0/PKG-INFO", PKG_INFO)
        archive.writestr(
            "zipped-1.0/pyproject.toml", '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        )
    assert declared_requirements(path) == ("attrs>=20",)
    assert build_requirements(path) == ("hatchling",)


def test_a_broken_archive_is_one_line(tmp_path):
    path = tmp_path / "broken-1.0.tar.gz"
    path.write_bytes(b"not a tar file")
    with pytest.raises(MirrorError, match="broken-1.0.tar.gz: cannot read it as an sdist"):
        declared_requirements(path)
