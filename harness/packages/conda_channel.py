"""A local conda channel converted from the mirror's wheels: a stand-in, named as one.

No conda channel is reachable here, so the conda-side tools (rattler, micromamba, pixi) install
from packages made out of what every PyPI tool installs: each wheel of a project's install set
becomes a `.conda` whose files sit under `lib/pythonX.Y/site-packages` (its scripts and entry
points in `bin/`, holding the prefix, marked in `info/paths.json` as conda-build marks them), its
Requires-Dist (markers judged for the target, extras as `NAME-with-EXTRA` packages) as conda
dependencies; and a `python` package is made from the image's own interpreter and standard
library. The archives are written by conda-package-handling, the index by py-rattler.

What this cannot show: conda-forge's builds (their own compilers, shared libraries such as
libopenblas or libstdc++ as packages of their own, `noarch: python` packages). Every figure made
from it says "stand-in: converted channel". The channel is named by the hash of its inputs.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import os
import platform
import posixpath
import re
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.packages import closure
from harness.record.model import Mirror, MirrorFile
from harness.settings.home import envbench_home
from harness.tools.conda_names import PYPI, STAND_IN, build_string, conda_name, extra_package, specs_for, subdir

COMPRESSION_LEVEL = 3
CONVERTER = 2  # bump when what a conversion writes changes: the channel's name follows
# conda-build's classic placeholder: installers replace it with the env's prefix, in a copy.
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
DESCRIPTION = "a local channel converted from the mirror's PyPI wheels and the image's Python (not conda-forge's builds)"
# What the interpreter says of itself (run by the image's python, or the host's): its real
# executable, version, prefix, standard library and, when it is built shared, its libpython.
INFO_SCRIPT = (
    "import json, os, sys, sysconfig; v = sysconfig.get_config_var; "
    "lib = os.path.join(v('LIBDIR') or '', v('LDLIBRARY') or '') if v('Py_ENABLE_SHARED') else ''; "
    "print(json.dumps({'executable': os.path.realpath(sys.executable), 'version': '%d.%d.%d' % sys.version_info[:3], "
    "'prefix': sys.base_prefix, 'stdlib': sysconfig.get_path('stdlib'), "
    "'libpython': os.path.realpath(lib) if lib and os.path.exists(lib) else ''}))"
)
# Not part of a conda python: installed packages (pip, in pyenv's), Debian's pip refusal, and
# Debian's sitecustomize (a link into /etc); ours takes its place (below).
LEFT_OUT = ("site-packages", "dist-packages", "EXTERNALLY-MANAGED", "sitecustomize.py")
# Debian's site.py puts only dist-packages on sys.path outside a venv: the stand-in's
# sitecustomize adds the conda layout's site-packages (a no-op where site.py already did).
SITECUSTOMIZE = (
    "# envbench's stand-in python: the conda layout's site-packages on sys.path, .pth files included.\n"
    "import os, site, sys\n"
    "site.addsitedir(os.path.join(sys.prefix, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages'))\n"
)
ENTRY_POINT = """#!{placeholder}/bin/python
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {head}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
"""


class ChannelError(Exception):
    pass


@dataclass(frozen=True)
class Interpreter:
    """An interpreter's files as a tar archive of absolute paths, and what it said of itself."""

    info: dict
    archive: bytes  # members named by their absolute path without the leading "/"

    @property
    def python(self) -> str:
        return ".".join(self.info["version"].split(".")[:2])

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.archive).hexdigest()


def _python_spec(python: str) -> str:
    major, minor = (int(p) for p in python.split(".")[:2])
    return f"python >={major}.{minor},<{major}.{minor + 1}"


def _dependencies(metadata, python: str, extra: str = "") -> list[str]:
    """Requires-Dist of a wheel's METADATA for the target Python, for EXTRA or the base package."""
    target = {**closure.target_environment(python), "extra": extra}
    depends = []
    for text in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not marker.evaluate(target):
            continue
        in_extra = marker is not None and "extra" in str(marker)
        if bool(extra) != in_extra:
            continue
        requirement.marker = None
        depends += specs_for(str(requirement))
    return depends


class _Staging:
    """A package's prefix tree being written, with paths.json's entries."""

    def __init__(self, root: Path):
        self.root = root
        self.paths: list[dict] = []

    def add(self, relative: str, data: bytes, mode: int = 0o644, prefix: str | None = None) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)
        entry = {"_path": relative, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
                 "size_in_bytes": len(data)}  # fmt: skip
        if prefix:
            entry.update(prefix_placeholder=prefix, file_mode="text")
        self.paths.append(entry)

    def symlink(self, relative: str, to: str) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(to)
        self.paths.append({"_path": relative, "path_type": "softlink", "sha256": hashlib.sha256(to.encode()).hexdigest(),
                           "size_in_bytes": len(to)})  # fmt: skip

    def finish(self, index: dict, out_dir: Path) -> Path:
        """The .conda of this tree: info/index.json, paths.json, files, has_prefix, then the archive."""
        info = self.root / "info"
        info.mkdir(exist_ok=True)
        self.paths.sort(key=lambda p: p["_path"])
        (info / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        (info / "paths.json").write_text(json.dumps({"paths": self.paths, "paths_version": 1}, indent=2) + "\n")
        (info / "files").write_text("".join(p["_path"] + "\n" for p in self.paths))
        marked = [p for p in self.paths if p.get("prefix_placeholder")]
        if marked:
            (info / "has_prefix").write_text("".join(f"{PLACEHOLDER} text {p['_path']}\n" for p in marked))
        stem = f"{index['name']}-{index['version']}-{index['build']}"
        files = sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if not p.is_dir())
        out_dir.mkdir(parents=True, exist_ok=True)
        from conda_package_handling import api

        # zstd level 3, not conda-build's 19: the same files unpacked, a somewhat larger archive, and
        # minutes less per channel
        api.create(str(self.root), files, f"{stem}.conda", out_folder=str(out_dir), compression_level=COMPRESSION_LEVEL)
        return out_dir / f"{stem}.conda"


def _index(name: str, version: str, depends: list[str], build: str) -> dict:
    machine = subdir()  # linux-64
    return {"name": name, "version": version, "build": build, "build_number": 0,
            "depends": depends, "subdir": machine, "platform": "linux", "arch": platform.machine(),
            "license": "converted from PyPI by envbench"}  # fmt: skip


def _entry_points(text: str) -> list[tuple[str, str]]:
    """(script name, "module:attr") of a wheel's console and GUI scripts."""
    import configparser

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return [(name.strip(), value.strip()) for section in ("console_scripts", "gui_scripts") if parser.has_section(section)
            for name, value in parser.items(section)]  # fmt: skip


def _script(data: bytes) -> tuple[bytes, bool]:
    """A wheel's script with `#!python` pointed at the env's interpreter (the placeholder)."""
    first, _, rest = data.partition(b"\n")
    if re.match(rb"^#!\s*python[\w.]*\s*$", first.rstrip(b"\r")):
        return f"#!{PLACEHOLDER}/bin/python".encode() + b"\n" + rest, True
    return data, False


def _installed_record(text: str, placed: dict, site: str) -> bytes:
    """The wheel's RECORD as an installer writes it (pip's way): each file at the path it was
    installed to, relative to site-packages (`../../../bin/x` for scripts and data), with the
    hash of what was written where the installer changed it, and the entry points it made."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(text.splitlines()):
        if not row:
            continue
        path = row[0]
        target, data = placed.pop(path, (f"{site}/{path}", None))
        relative = posixpath.relpath(target, site)
        if data is not None and len(row) >= 3 and row[1] and _record_hash(data) != row[1]:
            row = [relative, _record_hash(data), str(len(data))]
        else:
            row = [relative, *row[1:]]
        writer.writerow(row)
    for target, _ in placed.values():  # entry points: made at install, recorded without a hash, as pip does
        if target.startswith("bin/"):
            writer.writerow([posixpath.relpath(target, site), "", ""])
    return out.getvalue().encode()


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def convert_wheel(wheel: Path, python: str, out_dir: Path, index: str = PYPI) -> list[Path]:
    """WHEEL (from INDEX) as conda packages for PYTHON: the package and one per extra it declares."""
    site = f"lib/python{python}/site-packages"
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory(prefix="envbench-conda-") as tmp:
        names = archive.namelist()
        dist_info = next((n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")), None)
        if dist_info is None:
            raise ChannelError(f"{wheel.name}: no .dist-info/METADATA")
        metadata = Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode("utf-8"))
        name, version = conda_name(metadata["Name"]), metadata["Version"]
        data_dir = dist_info[: -len(".dist-info")] + ".data/"
        staging = _Staging(Path(tmp) / "pkg")
        placed = {}  # the wheel's path -> (where it went, relative to the prefix; its bytes there)
        record = f"{dist_info}/RECORD"
        for info in archive.infolist():
            if info.is_dir() or info.filename == record:
                continue
            data = archive.read(info)
            mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
            prefix = None
            if info.filename.startswith(data_dir):
                kind, _, rest = info.filename[len(data_dir) :].partition("/")
                if kind == "scripts":
                    data, marked = _script(data)
                    target, mode, prefix = f"bin/{rest}", 0o755, PLACEHOLDER if marked else None
                elif kind in ("purelib", "platlib"):
                    target = f"{site}/{rest}"
                elif kind == "headers":
                    target = f"include/python{python}/{name}/{rest}"
                else:  # data: relative to the prefix
                    target = rest
            else:
                target = f"{site}/{info.filename}"
            staging.add(target, data, mode, prefix)
            placed[info.filename] = (target, data)
        entry_points = f"{dist_info}/entry_points.txt"
        if entry_points in names:
            for script, target in _entry_points(archive.read(entry_points).decode("utf-8")):
                module, _, attr = target.partition(":")
                attr = attr.split("[")[0].strip() or "main"
                text = ENTRY_POINT.format(placeholder=PLACEHOLDER, module=module.strip(), head=attr.split(".")[0], call=attr)
                staging.add(f"bin/{script}", text.encode(), 0o755, PLACEHOLDER)
                placed[f"bin/{script}"] = (f"bin/{script}", None)
        if record in names:
            staging.add(f"{site}/{record}", _installed_record(archive.read(record).decode("utf-8"), placed, site))
        depends = [_python_spec(python), *_dependencies(metadata, python)]
        build = build_string(python, index)
        made = [staging.finish(_index(name, version, depends, build), out_dir)]
        for extra in metadata.get_all("Provides-Extra") or []:
            meta = _Staging(Path(tmp) / f"extra-{canonicalize_name(extra)}")
            meta.root.mkdir()
            extra_depends = [f"{name} =={version} {build}", *_dependencies(metadata, python, canonicalize_name(extra))]
            made.append(meta.finish(_index(extra_package(name, extra), version, extra_depends, build), out_dir))
        return made


def python_package(interpreter: Interpreter, out_dir: Path) -> Path:
    """The `python` package of INTERPRETER: its executable, standard library and libpython.

    Its sysconfig data holds the interpreter's prefix: written with the placeholder, so each env
    gets a copy naming its own prefix, as conda-forge's python does.
    """
    info, python = interpreter.info, interpreter.python
    stdlib = info["stdlib"].lstrip("/")
    with tempfile.TemporaryDirectory(prefix="envbench-conda-") as tmp:
        staging = _Staging(Path(tmp) / "pkg")
        with tarfile.open(fileobj=io.BytesIO(interpreter.archive)) as tar:
            for member in tar.getmembers():
                name = member.name.lstrip("/")
                if name == info["executable"].lstrip("/"):
                    relative = f"bin/python{python}"
                elif info["libpython"] and name == info["libpython"].lstrip("/"):
                    relative = f"lib/{PurePosixPath(name).name}"
                elif name.startswith(stdlib + "/"):
                    inner = name[len(stdlib) + 1 :]
                    if inner.split("/")[0] in LEFT_OUT:
                        continue
                    relative = f"lib/python{python}/{inner}"
                else:
                    continue
                if member.issym():
                    staging.symlink(relative, member.linkname)
                elif member.isfile() or member.islnk():
                    data = tar.extractfile(member).read()
                    prefix = None
                    if PurePosixPath(relative).name.startswith("_sysconfigdata") and relative.endswith(".py"):
                        data = data.replace(f"'{info['prefix']}".encode(), f"'{PLACEHOLDER}".encode())
                        prefix = PLACEHOLDER
                    staging.add(relative, data, member.mode & 0o777 or 0o644, prefix)
        if not any(p["_path"] == f"bin/python{python}" for p in staging.paths):
            raise ChannelError(f"the interpreter's archive has no {info['executable']}")
        staging.add(f"lib/python{python}/sitecustomize.py", SITECUSTOMIZE.encode())
        for alias in ("python3", "python"):
            staging.symlink(f"bin/{alias}", f"python{python}")
        index = _index("python", info["version"], [], build="envbench_0")
        return staging.finish(index, out_dir)


def combine_archives(parts: list[tuple[str, bytes]]) -> bytes:
    """One archive of absolute paths from the engine's archives of PATHS (each names its members
    from the path's last component: /usr/lib/python3.11 gives python3.11/os.py)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as out:
        for path, data in parts:
            parent = str(PurePosixPath(path).parent).lstrip("/")
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar.getmembers():
                    content = tar.extractfile(member) if member.isfile() else None
                    member.name = f"{parent}/{member.name}" if parent else member.name
                    if member.islnk():
                        member.linkname = f"{parent}/{member.linkname}" if parent else member.linkname
                    out.addfile(member, content)
    return buffer.getvalue()


def host_interpreter(executable: str) -> Interpreter:
    """INTERPRETER's files on this machine (the local backend's envs run it)."""
    import subprocess

    done = subprocess.run([executable, "-c", INFO_SCRIPT], capture_output=True, text=True, check=True)
    info = json.loads(done.stdout)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in (info["executable"], info["libpython"], info["stdlib"]):
            if path:
                tar.add(path, arcname=path.lstrip("/"), filter=_no_site_packages(info))
    return Interpreter(info, buffer.getvalue())


def _no_site_packages(info: dict):
    """A tar filter that leaves out what LEFT_OUT names (pyenv's site-packages is big)."""
    stdlib = info["stdlib"].lstrip("/")

    def keep(member: tarfile.TarInfo):
        name = member.name.lstrip("/")
        if name.startswith(stdlib + "/") and name[len(stdlib) + 1 :].split("/")[0] in LEFT_OUT:
            return None
        return member

    return keep


def channel_id(record: Mirror, folder: Path, interpreters: list[Interpreter]) -> str:
    inputs = {"converter": CONVERTER, "subdir": subdir(), "pythons": sorted(i.digest for i in interpreters),
              "installs": sorted({(f.index, f.sha256) for f in _installed(record)})}  # fmt: skip
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=list).encode()).hexdigest()[:12]


def _installed(record: Mirror) -> list[MirrorFile]:
    wanted = {name for s in record.projects for name in s.files or []}
    return [f for f in record.installed if not wanted or f.filename in wanted]


def prepare(folder: Path, interpreters: list[Interpreter], say=lambda text: None) -> Path:
    """The channel of the mirror FOLDER's install sets for each of INTERPRETERS' Pythons (reused
    while its inputs match): subdir/*.conda, repodata.json, and channel.json saying what it holds."""
    record = Mirror.from_json(json.loads((folder / "closure.json").read_text()))
    root = envbench_home() / "channels"
    target = root / f"{record.scenario or 'channel'}-{channel_id(record, folder, interpreters)}"
    if (target / "channel.json").exists():
        return target
    building = target.with_name(target.name + ".partial")
    shutil.rmtree(building, ignore_errors=True)
    out = building / subdir()
    (building / "noarch").mkdir(parents=True)
    by_python = {i.python: i for i in interpreters}
    converted, skipped, pythons = [], [], {}
    for python, interpreter in sorted(by_python.items()):
        say(f"conda channel: python {interpreter.info['version']} from {interpreter.info['executable']}")
        made = python_package(interpreter, out)
        pythons[python] = {"package": made.name, **_prefix_files(made)}
    files = {f.filename: f for f in _installed(record)}
    for project_set in record.projects:
        python = ".".join((project_set.python or record.python or "").split(".")[:2])
        if python not in by_python:
            continue
        for filename in project_set.files or []:
            entry = files.get(filename)
            if entry is None or any(c["wheel"] == filename and c["python"] == python for c in converted):
                continue
            if not filename.endswith(".whl"):
                skipped.append({"file": filename, "python": python, "why": "an sdist: the converter takes wheels only"})
                continue
            say(f"conda channel: converting {filename} for Python {python}")
            made = convert_wheel(folder / entry.index / filename, python, out, entry.index)
            converted.append({"wheel": filename, "python": python, "packages": [p.name for p in made]})
    asyncio.run(_index_channel(building))
    manifest = {"schema": 1, "stand_in": STAND_IN, "description": DESCRIPTION, "converter": CONVERTER,
                "subdir": subdir(), "mirror": folder.name, "pythons": pythons, "converted": converted,
                "skipped": skipped, "bytes": sum(p.stat().st_size for p in out.glob("*.conda"))}  # fmt: skip
    (building / "channel.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    return target


def _prefix_files(package: Path) -> dict:
    """How many of a package's files hold the prefix (each env gets its own rewritten copy)."""
    from conda_package_handling import api

    with tempfile.TemporaryDirectory(prefix="envbench-conda-") as tmp:
        api.extract(str(package), dest_dir=tmp, components="info")
        paths = json.loads((Path(tmp) / "info" / "paths.json").read_text())["paths"]
    marked = [p for p in paths if p.get("prefix_placeholder")]
    return {"files": len(paths), "bytes": sum(p.get("size_in_bytes", 0) for p in paths),
            "prefix_files": len(marked), "prefix_bytes": sum(p.get("size_in_bytes", 0) for p in marked)}  # fmt: skip


async def _index_channel(channel: Path) -> None:
    from rattler.index import index_fs

    await index_fs(channel, write_zst=False, write_shards=False, force=True)


__all__ = ["STAND_IN", "ChannelError", "Interpreter", "prepare", "specs_for"]
