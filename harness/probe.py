"""Env probe: what an env holds, and proof that it works.

Standard library only; run with the env's own interpreter, isolated and without writing
bytecode, so that probing changes nothing on disk:
    ENV/bin/python -I -B probe.py OUT.json NAME...
writes {"python", "packages": [...], "imports": {module: null or error}} to OUT.json
(not to stdout: some packages print when they are imported).

For each NAME (a requested distribution) the probe imports its top-level module: the one
named like the distribution when there is one, else every public top-level module it ships.

A package's sha256 is a digest of the file hashes its RECORD declares (sorted), leaving out
what installers write themselves (RECORD, INSTALLER, REQUESTED, direct_url.json, scripts in
bin/, bytecode), so the same wheel gives the same digest whichever tool installed it.
"""

import hashlib
import importlib
import importlib.metadata as metadata
import json
import os
import re
import sys

INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json"}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _installer_written(path):
    parts = path.replace("\\", "/").split("/")
    if parts[0] == ".." or "__pycache__" in parts or path.endswith(".pyc"):
        return True
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in INSTALLER_FILES


def describe(dist):
    files = dist.files or []
    digest = hashlib.sha256()
    installed = 0
    for entry in sorted(files, key=lambda f: str(f)):
        try:
            installed += os.lstat(entry.locate()).st_size
        except OSError:
            pass
        if entry.hash is not None and not _installer_written(str(entry)):
            digest.update(f"{entry}\0{entry.hash.mode}={entry.hash.value}\n".encode())
    return {
        "name": canonical(dist.metadata["Name"]),
        "version": dist.version,
        "sha256": digest.hexdigest(),
        "installed_bytes": installed,
    }


def top_level_modules(dist):
    text = dist.read_text("top_level.txt")
    names = set(text.split()) if text else set()
    if not names:
        for entry in dist.files or []:
            first = str(entry).replace("\\", "/").split("/")[0]
            if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
                continue
            names.add(first.split(".")[0])
    own = canonical(dist.metadata["Name"]).replace("-", "_")
    if own in names:
        return [own]
    return sorted(n for n in names if n and not n.startswith("_") and n not in ("test", "tests"))


def main(out_path, requested):
    dists = {}
    for dist in metadata.distributions():
        dists.setdefault(canonical(dist.metadata["Name"]), dist)
    imports = {}
    for name in requested:
        dist = dists.get(canonical(name))
        if dist is None:
            imports[name] = "distribution not installed"
            continue
        modules = top_level_modules(dist)
        if not modules:
            imports[name] = "no top-level module found"
        for module in modules:
            try:
                importlib.import_module(module)
                imports[module] = None
            except BaseException as exc:  # a failed import is data, whatever it raises
                imports[module] = f"{type(exc).__name__}: {exc}"[:500]
    report = {
        "python": sys.version.split()[0],
        "packages": sorted((describe(d) for d in dists.values()), key=lambda p: p["name"]),
        "imports": imports,
    }
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report, f)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
