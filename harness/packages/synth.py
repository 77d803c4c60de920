"""Synthetic wheels: deterministic packages of a chosen size, file count and dependencies.

Tests install these offline (`--no-index --find-links`), so they need no network; the same
inputs always give byte-identical wheels (fixed timestamps, content derived from the name).
A `binary` package carries `.so`-named payload files, as compiled packages do; they are never
loaded, so any bytes do. A `platform` other than "any" tags the wheel for that platform only
(win_amd64: a dependency only Windows installs). An `sdist` package is published as a source
distribution only; building it needs BACKEND, a generated PEP 517 backend (standard library
only) that the mirror serves beside it as its build requirement, so every tool's build
isolation has to fetch it from the mirror, offline.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import random
import re
import tarfile
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name

from harness.scenario.model import SynthPackage

# Part of the name of every generated set: a change in how wheels are built gives new names.
GENERATOR = "envbench-synth 2"
EPOCH = (2020, 1, 1, 0, 0, 0)  # zip timestamps: fixed so the wheel's bytes are reproducible




def _payload(seed: str, size: int) -> bytes:
    """Deterministic, incompressible bytes, so sizes on disk are real.

    random.Random seeded with a string is stable across CPython versions (seed version 2) and
    writes a gigabyte in about a second, where a hash stream took a minute.
    """
    return random.Random(seed).randbytes(size)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _payload_files(package: SynthPackage) -> dict[str, bytes]:
    module = package.module
    init = f'"""Synthetic package {package.name} {package.version}."""\nVERSION = "{package.version}"\n'
    files: dict[str, bytes] = {f"{module}/__init__.py": init.encode()}
    for i in range(package.files):
        if package.binary:
            path = f"{module}/_native{i:04d}.cpython-311-x86_64-linux-gnu.so"
            files[path] = _payload(f"{package.name}-{package.version}-{i}", package.file_size)
        else:
            # A Python module whose body is a bytes literal of about file_size bytes.
            hex_body = _payload(f"{package.name}-{package.version}-{i}", max(1, package.file_size // 2)).hex()
            files[f"{module}/mod{i:04d}.py"] = f'DATA = bytes.fromhex("{hex_body}")\n'.encode()
    return files


def _metadata(name: str, version: str, dependencies) -> bytes:
    # An extra is the extras its dependencies' markers name (`light; extra == "fast"`).
    extras = dict.fromkeys(e for dep in dependencies for e in re.findall(r"""extra\s*==\s*['"]([^'"]+)['"]""", dep))
    provides = "".join(f"Provides-Extra: {extra}\n" for extra in extras)
    requires = "".join(f"Requires-Dist: {dep}\n" for dep in dependencies)
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{provides}{requires}".encode()


def _write_wheel(target: Path, files: dict[str, bytes], name: str, version: str, tag: str, top_level: str) -> Path:
    """A wheel of FILES with its dist-info (METADATA given in FILES), deterministic bytes."""
    dist_info = f"{canonicalize_name(name).replace('-', '_')}-{version}.dist-info"
    files = dict(files)
    files[f"{dist_info}/METADATA"] = files.pop("METADATA")
    files[f"{dist_info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: {GENERATOR}\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    files[f"{dist_info}/top_level.txt"] = f"{top_level}\n".encode()
    record_lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record_lines.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=EPOCH)
            info.external_attr = 0o644 << 16
            # Random payloads do not compress: storing them keeps building a 1 GB stack quick.
            info.compress_type = zipfile.ZIP_STORED if path.endswith(".so") else zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return target


def build_wheel(package: SynthPackage, out_dir: Path) -> Path:
    """Write the package's wheel into OUT_DIR and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _payload_files(package)
    files["METADATA"] = _metadata(package.name, package.version, package.dependencies)
    return _write_wheel(out_dir / package.wheel_name, files, package.name, package.version, package.wheel_tag,
                        package.module)  # fmt: skip


# -- sdists and the backend that builds them ---------------------------------------------------
BACKEND = SynthPackage("envbench-synth-backend", version="1.0")
# The backend's whole code: it zips the sdist's package folder into a wheel whose METADATA is
# the sdist's PKG-INFO. Standard library only, so it needs nothing but itself to build with.
BACKEND_SOURCE = """\
\"\"\"PEP 517 backend of envbench's synthetic sdists (standard library only).\"\"\"
import base64, hashlib, json, os, subprocess, zipfile

def _record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open("synth.json", encoding="utf-8") as f:
        spec = json.load(f)
    module, version = spec["module"], spec["version"]
    for program in spec.get("needs", []):  # as a real build runs autoconf or a compiler: fails without it
        subprocess.run([program, "--version"], check=True, stdout=subprocess.DEVNULL)
    files = {}
    for root, _, names in os.walk(module):
        for name in sorted(names):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[path.replace(os.sep, "/")] = f.read()
    dist_info = module + "-" + version + ".dist-info"
    with open("PKG-INFO", "rb") as f:
        files[dist_info + "/METADATA"] = f.read()
    wheel_file = "Wheel-Version: 1.0\\nGenerator: envbench-synth-backend\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files[dist_info + "/WHEEL"] = wheel_file.encode()
    files[dist_info + "/top_level.txt"] = (module + "\\n").encode()
    record = [p + "," + _record_hash(d) + "," + str(len(d)) for p, d in files.items()] + [dist_info + "/RECORD,,"]
    files[dist_info + "/RECORD"] = ("\\n".join(record) + "\\n").encode()
    wheel_name = module + "-" + version + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            wheel.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return wheel_name
"""


def build_backend_wheel(out_dir: Path) -> Path:
    """The wheel of envbench-synth-backend, which every synthetic sdist asks for to build."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {f"{BACKEND.module}.py": BACKEND_SOURCE.encode(), "METADATA": _metadata(BACKEND.name, BACKEND.version, ())}
    return _write_wheel(out_dir / BACKEND.wheel_name, files, BACKEND.name, BACKEND.version, "py3-none-any", BACKEND.module)


def build_sdist(package: SynthPackage, out_dir: Path) -> Path:
    """Write the package's sdist (PEP 625 name, PKG-INFO, pyproject.toml) into OUT_DIR."""
    out_dir.mkdir(parents=True, exist_ok=True)
    root = f"{package.module}-{package.version}"
    deps = json.dumps(list(package.dependencies))
    pyproject = (
        f'[build-system]\nrequires = ["{BACKEND.name}=={BACKEND.version}"]\nbuild-backend = "{BACKEND.module}"\n\n'
        f'[project]\nname = "{package.name}"\nversion = "{package.version}"\ndependencies = {deps}\n'
    )
    files = {
        "PKG-INFO": _metadata(package.name, package.version, package.dependencies),
        "pyproject.toml": pyproject.encode(),
        "synth.json": json.dumps({"module": package.module, "version": package.version}
                                 | ({"needs": list(package.build_needs)} if package.build_needs else {})).encode(),
        **_payload_files(package),
    }
    target = out_dir / package.sdist_name
    with open(target, "wb") as raw:
        # gzip with mtime 0 and no file name: the same inputs give the same bytes.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
            for path, data in sorted(files.items()):
                info = tarfile.TarInfo(f"{root}/{path}")
                info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
                tar.addfile(info, io.BytesIO(data))
    return target


def build(package: SynthPackage, out_dir: Path) -> Path:
    """The package as it is published: its sdist or its wheel."""
    return build_sdist(package, out_dir) if package.sdist else build_wheel(package, out_dir)
