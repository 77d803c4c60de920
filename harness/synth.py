"""Synthetic wheels: deterministic packages of a chosen size, file count and dependencies.

Tests install these offline (`--no-index --find-links`), so they need no network; the same
inputs always give byte-identical wheels (fixed timestamps, content derived from the name).
A `binary` package carries `.so`-named payload files, as compiled packages do; they are never
loaded, so any bytes do.
"""

from __future__ import annotations

import base64
import hashlib
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

# Part of the name of every generated set: a change in how wheels are built gives new names.
GENERATOR = "envbench-synth 2"
EPOCH = (2020, 1, 1, 0, 0, 0)  # zip timestamps: fixed so the wheel's bytes are reproducible


@dataclass(frozen=True)
class SynthPackage:
    name: str
    version: str = "1.0.0"
    files: int = 10  # payload modules besides __init__.py
    file_size: int = 4096  # bytes per payload file
    dependencies: tuple[str, ...] = ()
    binary: bool = False

    @property
    def module(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def wheel_name(self) -> str:
        return f"{self.module}-{self.version}-py3-none-any.whl"


def _payload(seed: str, size: int) -> bytes:
    """Deterministic, incompressible bytes, so sizes on disk are real.

    random.Random seeded with a string is stable across CPython versions (seed version 2) and
    writes a gigabyte in about a second, where a hash stream took a minute.
    """
    return random.Random(seed).randbytes(size)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(package: SynthPackage, out_dir: Path) -> Path:
    """Write the package's wheel into OUT_DIR and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    module = package.module
    dist_info = f"{module}-{package.version}.dist-info"
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
    requires = "".join(f"Requires-Dist: {dep}\n" for dep in package.dependencies)
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {package.name}\nVersion: {package.version}\n{requires}"
    ).encode()
    wheel_file = f"Wheel-Version: 1.0\nGenerator: {GENERATOR}\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist_info}/WHEEL"] = wheel_file.encode()
    files[f"{dist_info}/top_level.txt"] = f"{module}\n".encode()
    record_lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record_lines.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()

    target = out_dir / package.wheel_name
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=EPOCH)
            info.external_attr = 0o644 << 16
            # Random payloads do not compress: storing them keeps building a 1 GB stack quick.
            info.compress_type = zipfile.ZIP_STORED if path.endswith(".so") else zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return target
