"""Env probe: what an env holds, and proof that it works.

Standard library only; run with the env's own interpreter, isolated and without writing
bytecode, so that probing changes nothing on disk:
    ENV/bin/python -I -B probe.py OUT.json NAME...
writes {"python", "packages": [...], "imports": {module: null or error}} to OUT.json
(not to stdout: some packages print when they are imported).

For each NAME (a requested distribution) the probe imports its top-level module: the one
named like the distribution when there is one, else every top-level module it ships, private
ones too (argon2-cffi-bindings ships only `_argon2_cffi_bindings`).

Every installed distribution's RECORD is checked: each file it lists with a hash must be there
with that hash (files outside site-packages, such as scripts, are left out).

A package's sha256 is a digest of the file hashes its RECORD declares (sorted), leaving out
what installers write themselves (RECORD, INSTALLER, REQUESTED, direct_url.json, scripts in
bin/, bytecode), so the same wheel gives the same digest whichever tool installed it.
"""

import base64
import csv
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


def _digest(entries):
    """sha256 over (path, hash mode, hash value) of the entries installers do not write."""
    digest = hashlib.sha256()
    for path, mode, value in sorted(entries):
        if not _installer_written(path):
            digest.update(f"{path}\0{mode}={value}\n".encode())
    return digest.hexdigest()


def wheel_record_digest(record_text):
    """The digest an env's copy of a wheel gets, from the wheel's own RECORD (run on the host).

    Installers move `NAME.data/purelib|platlib/` files into site-packages and everything else
    under `.data/` out of it (bin, include: `..` paths in the env's RECORD, left out).
    """
    entries = []
    for row in csv.reader(record_text.splitlines()):
        if len(row) < 2 or not row[1]:
            continue
        path = row[0]
        parts = path.split("/")
        if parts[0].endswith(".data"):
            if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                continue
            path = "/".join(parts[2:])
        mode, _, value = row[1].partition("=")
        entries.append((path, mode, value))
    return _digest(entries)


def _file_hash(path, mode):
    digest = hashlib.new(mode)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def record_claims(dists):
    """Installed path -> {(hash mode, hash value): distribution name} over every RECORD."""
    claims = {}
    for dist in dists:
        for entry in dist.files or []:
            if entry.hash is not None:
                claims.setdefault(str(entry.locate()), {})[(entry.hash.mode, entry.hash.value)] = canonical(dist.metadata["Name"])
    return claims


def describe(dist, claims=None):
    files = dist.files or []
    installed = 0
    checked, bad, clashes = 0, [], []
    for entry in files:
        path = entry.locate()
        try:
            installed += os.lstat(path).st_size
        except OSError:
            pass
        if entry.hash is None or str(entry).startswith(".."):
            continue
        checked += 1
        try:
            actual = _file_hash(path, entry.hash.mode)
            if actual != entry.hash.value:
                # Two distributions that ship the same file: the one installed last wins, with
                # any installer. The file is the other's, intact: the packages clash, not the tool.
                owner = (claims or {}).get(str(path), {}).get((entry.hash.mode, actual))
                if owner and owner != canonical(dist.metadata["Name"]):
                    clashes.append(f"{entry} is {owner}'s")
                else:
                    bad.append(f"{entry}: hash differs")
        except (OSError, ValueError) as exc:
            bad.append(f"{entry}: {type(exc).__name__}")
    entries = [(str(e), e.hash.mode, e.hash.value) for e in files if e.hash is not None]
    return {
        "name": canonical(dist.metadata["Name"]),
        "version": dist.version,
        "sha256": _digest(entries),
        "installed_bytes": installed,
        "record_files": checked,
        "record_bad": bad[:5],
        "record_bad_count": len(bad),
        "record_clashes": clashes[:5],
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
    return sorted(n for n in names if n and n.isidentifier() and n not in ("test", "tests"))


def main(out_path, requested):
    dists = {}
    for dist in metadata.distributions():
        dists.setdefault(canonical(dist.metadata["Name"]), dist)
    imports = {}
    modules_of = {}  # requested package -> the modules tried for it
    for name in requested:
        dist = dists.get(canonical(name))
        if dist is None:
            imports[name] = "distribution not installed"
            continue
        modules = top_level_modules(dist)
        modules_of[name] = modules
        if not modules:
            stubs = sorted({str(e).split("/")[0] for e in dist.files or [] if str(e).split("/")[0].endswith("-stubs")})
            imports[name] = f"only type stubs ({', '.join(stubs)}): nothing to import" if stubs else "no top-level module found"
        for module in modules:
            try:
                importlib.import_module(module)
                imports[module] = None
            except BaseException as exc:  # a failed import is data, whatever it raises
                imports[module] = f"{type(exc).__name__}: {exc}"[:500]
    claims = record_claims(dists.values())
    report = {
        "python": sys.version.split()[0],
        "packages": sorted((describe(d, claims) for d in dists.values()), key=lambda p: p["name"]),
        "imports": imports,
        "modules": modules_of,
    }
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report, f)
    os.replace(tmp, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
