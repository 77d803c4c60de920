"""The builder of the nix stand-in's derivations (harness/tools/nix.py): nix-build runs it with the
image's Python as `builder`, so it has its arguments, the derivation's variables and $out only.

  wheel PYTHON [--no-compile]   install the wheel in $src into $out as an installer does:
      purelib and platlib into lib/pythonX.Y/site-packages, .data/scripts and console scripts into
      bin, .data/data into $out; byte-compiled at level 0 as pip does, each .pyc in RECORD (the
      store is read-only and nix sets every mtime to 1: unchecked-hash .pyc, as the store needs)
  env PYTHON                    join the store paths in $packages as nixpkgs' python.withPackages
      does with buildEnv: a tree of symbolic links, a folder linked whole where one package alone
      has it; bin/python and pyvenv.cfg make $out a prefix that Python starts in

Standard library only.
"""

import base64
import csv
import hashlib
import io
import os
import py_compile
import sys
import sysconfig
import zipfile

SCRIPT = """#!/usr/bin/env python
import sys
from {module} import {attribute}
if __name__ == "__main__":
    sys.exit({call}())
"""


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _site(root, python_version):
    return os.path.join(root, "lib", f"python{python_version}", "site-packages")


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)
    os.chmod(path, mode)


def _target(name, out, site):
    """Where a wheel's member goes: .data/<scheme>/... by its scheme, the rest into site-packages."""
    first, _, rest = name.partition("/")
    if first.endswith(".data") and rest:
        scheme, _, inner = rest.partition("/")
        return {"scripts": os.path.join(out, "bin", inner), "data": os.path.join(out, inner),
                "headers": os.path.join(out, "include", inner)}.get(scheme, os.path.join(site, inner))
    return os.path.join(site, name)


def _console_scripts(text):
    """(name, module, attribute) of each [console_scripts] entry of entry_points.txt."""
    section, found = None, []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
        elif section in ("console_scripts", "gui_scripts") and "=" in line:
            name, _, target = (part.strip() for part in line.partition("="))
            module, _, attribute = target.split()[0].partition(":")
            found.append((name, module, attribute or "main"))
    return found


def install_wheel(wheel, out, python_version, compile_bytecode):
    site = _site(out, python_version)
    written = []  # absolute paths, for RECORD
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        for name in names:
            if name == f"{dist_info}/RECORD":
                continue
            data = archive.read(name)
            path = _target(name, out, site)
            executable = (archive.getinfo(name).external_attr >> 16) & 0o111
            if path.startswith(os.path.join(out, "bin") + os.sep) and data.startswith(b"#!python"):
                data = b"#!/usr/bin/env python" + data[len(b"#!python"):]
                executable = 0o111
            _write(path, data, 0o755 if executable else 0o644)
            written.append(path)
        entry_points = f"{dist_info}/entry_points.txt"
        scripts = _console_scripts(archive.read(entry_points).decode()) if entry_points in names else []
    for name, module, attribute in scripts:
        path = os.path.join(out, "bin", name)
        call = attribute.split(".")[0]
        _write(path, SCRIPT.format(module=module, attribute=call, call=attribute).encode(), 0o755)
        written.append(path)
    _write(os.path.join(site, dist_info, "INSTALLER"), b"envbench-nix\n")
    written.append(os.path.join(site, dist_info, "INSTALLER"))
    if compile_bytecode:
        for path in [p for p in written if p.endswith(".py") and p.startswith(site + os.sep)]:
            try:
                compiled = py_compile.compile(path, doraise=True,
                                              invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError:
                continue  # as pip: a file that does not compile stays source only
            written.append(compiled)
    _record(site, dist_info, written)


def _record(site, dist_info, written):
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    for path in written:
        with open(path, "rb") as held:
            data = held.read()
        writer.writerow([os.path.relpath(path, site), _digest(data), len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    _write(os.path.join(site, dist_info, "RECORD"), rows.getvalue().encode())


def _same(a, b):
    with open(a, "rb") as first, open(b, "rb") as second:
        return first.read() == second.read()


def _join(target, sources):
    """buildEnv's rule: an entry one source alone has is linked whole; folders several have are
    made and joined inside; the same file from two sources must hold the same bytes."""
    entries = {}
    for source in sources:
        for name in sorted(os.listdir(source)):
            entries.setdefault(name, []).append(os.path.join(source, name))
    os.makedirs(target, exist_ok=True)
    for name, paths in entries.items():
        there = os.path.join(target, name)
        folders = [p for p in paths if os.path.isdir(p) and not os.path.islink(p)]
        if len(paths) == 1:
            os.symlink(paths[0], there)
        elif folders and len(folders) != len(paths):
            raise SystemExit(f"collision between {paths[0]} and {paths[1]}: a folder and a file")
        elif len(folders) == len(paths):
            _join(there, folders)
        elif all(_same(paths[0], p) for p in paths[1:]):
            os.symlink(paths[0], there)
        else:
            raise SystemExit(f"collision between {paths[0]} and {paths[1]}")


def join_env(out, python, packages):
    _join(out, packages)
    bin_folder = os.path.join(out, "bin")
    if os.path.islink(bin_folder):  # one package alone has bin: the env's python goes in a folder of its own
        linked = os.readlink(bin_folder)
        os.unlink(bin_folder)
        _join(bin_folder, [linked])
    os.makedirs(bin_folder, exist_ok=True)
    real = os.path.realpath(python)
    version = sysconfig.get_python_version()
    for name in ("python", "python3", f"python{version}"):
        if not os.path.lexists(os.path.join(bin_folder, name)):
            os.symlink(real, os.path.join(bin_folder, name))
    config = f"home = {os.path.dirname(real)}\ninclude-system-site-packages = false\nversion = {sys.version.split()[0]}\n"
    _write(os.path.join(out, "pyvenv.cfg"), config.encode())
    os.makedirs(_site(out, version), exist_ok=True)


def main(argv):
    out = os.environ["out"]
    kind, python = argv[0], argv[1]
    if kind == "wheel":
        install_wheel(os.environ["src"], out, sysconfig.get_python_version(), "--no-compile" not in argv[2:])
    elif kind == "env":
        join_env(out, python, os.environ.get("packages", "").split())
    else:
        raise SystemExit(f"nix_builder.py: unknown kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
