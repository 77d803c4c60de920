"""The nix stand-in's lock step (harness/tools/nix.py): pip resolves the requirements, and the
resolution is written as a Nix expression, default.nix, the project's lock.

  nix_driver.py lock --pip PIP --python PYTHON --builder BUILDER [--no-compile] -- PIP-ARGS...

default.nix holds one derivation per wheel of the resolution, its wheel fetched by nix itself
(`<nix/fetchurl.nix>`: a fixed-output derivation, the index's sha256), installed by BUILDER
(nix_builder.py, copied into the store as a path) with PYTHON, and an env derivation that joins
them as nixpkgs' python.withPackages does. nixpkgs pins a set the same way: URLs and hashes in
expressions, one store path per package and version. Standard library only.
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

LOCK = "default.nix"


def nix_string(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'


def resolve(pip, pip_args):
    """pip's resolution: [{name, version, url, sha256}], with no env made and nothing cached."""
    with tempfile.TemporaryDirectory(prefix="nix-lock-") as folder:
        report = os.path.join(folder, "report.json")
        argv = [pip, "install", "--dry-run", "--ignore-installed", "--no-cache-dir", "--quiet",
                "--disable-pip-version-check", "--report", report, *pip_args]
        done = subprocess.run(argv, stdout=sys.stdout, stderr=sys.stderr)
        if done.returncode != 0:
            raise SystemExit(f"pip's resolution failed (exit {done.returncode})")
        with open(report, encoding="utf-8") as held:
            items = json.load(held)["install"]
    found = []
    for item in items:
        info = item["download_info"]
        url, name = info["url"], item["metadata"]["name"]
        filename = urllib.parse.unquote(url.rsplit("/", 1)[-1].split("#")[0])
        if not filename.endswith(".whl"):
            raise SystemExit(f"{name}: {filename} is not a wheel; the nix stand-in installs wheels only")
        hashes = info.get("archive_info", {}).get("hashes") or {}
        if "sha256" not in hashes:
            raise SystemExit(f"{name}: the index gave no sha256 for {filename}; nix's fetchurl needs one")
        found.append({"name": name, "version": item["metadata"]["version"], "url": url, "file": filename,
                      "sha256": hashes["sha256"]})
    return sorted(found, key=lambda d: d["name"].lower())


def expression(wheels, python, builder, compile_bytecode):
    version = ".".join(str(part) for part in sys.version_info[:2])
    flags = "" if compile_bytecode else ' "--no-compile"'
    lines = [
        "# Written by envbench's nix stand-in (nix_driver.py lock) from pip's resolution.",
        "let",
        f"  python = {nix_string(python)};",
        f"  builder = builtins.path {{ path = {builder}; name = \"envbench-nix-builder.py\"; }};",
        "  wheel = name: file: url: sha256: derivation {",
        "    inherit name;",
        "    system = builtins.currentSystem;",
        "    builder = python;",
        f'    args = [ builder "wheel" python{flags} ];',
        "    src = import <nix/fetchurl.nix> { inherit url sha256; name = file; };",
        "  };",
        "  packages = [",
    ]
    for w in wheels:
        name = f"python{version}-{w['name']}-{w['version']}"
        lines.append(f"    (wheel {nix_string(name)} {nix_string(w['file'])} {nix_string(w['url'])} "
                     f"{nix_string(w['sha256'])})")
    lines += [
        "  ];",
        "in derivation {",
        f'  name = "python{version}-env";',
        "  system = builtins.currentSystem;",
        "  builder = python;",
        '  args = [ builder "env" python ];',
        "  inherit packages;",
        "}",
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    if not argv or argv[0] != "lock" or "--" not in argv:
        raise SystemExit("usage: nix_driver.py lock --pip PIP --python PYTHON --builder BUILDER [--no-compile] -- PIP-ARGS...")
    own, pip_args = argv[1:argv.index("--")], argv[argv.index("--") + 1:]
    options = {own[i]: own[i + 1] for i in range(0, len(own) - 1, 2) if own[i] in ("--pip", "--python", "--builder")}
    builder = os.path.abspath(options["--builder"])
    if any(c.isspace() for c in builder):
        raise SystemExit(f"{builder}: a Nix path literal cannot hold a space")
    wheels = resolve(options["--pip"], pip_args)
    text = expression(wheels, options["--python"], builder, "--no-compile" not in own)
    with open(LOCK + ".tmp", "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(LOCK + ".tmp", LOCK)
    print(f"{LOCK}: {len(wheels)} wheels")


if __name__ == "__main__":
    main(sys.argv[1:])
