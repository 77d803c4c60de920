"""The converted conda channel, for real: wheels and this machine's Python become .conda
packages, py-rattler indexes, solves and installs them, and the scanner reads what it linked.

Generated wheels only (no network); the interpreter is the host's Python 3.11.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.packages import conda_channel
from harness.packages.synth import _write_wheel
from harness.sandbox import FOLDER as SANDBOX
from harness.sandbox import scan
from harness.tools.conda_names import PYPI

DRIVER = SANDBOX / "rattler_driver.py"


def odd_wheel(folder: Path) -> Path:
    """A wheel with what a converter must not lose: markers, an extra, an entry point, a
    `#!python` script and a data file."""
    metadata = "\n".join([
        "Metadata-Version: 2.1", "Name: Odd.Name_Pkg", "Version: 1.0.post1",
        'Requires-Dist: plain>=1,<3', 'Requires-Dist: only-windows; sys_platform == "win32"',
        'Requires-Dist: old-python; python_version < "3.9"', "Provides-Extra: speed",
        'Requires-Dist: plain[fast]; extra == "speed"', "",
    ])  # fmt: skip
    files = {
        "METADATA": metadata.encode(),
        "odd_name_pkg/__init__.py": b"def main():\n    print('odd main')\n",
        "odd_name_pkg-1.0.post1.dist-info/entry_points.txt": b"[console_scripts]\nodd-tool = odd_name_pkg:main\n",
        "odd_name_pkg-1.0.post1.data/scripts/odd-script": b"#!python\nprint('script')\n",
        "odd_name_pkg-1.0.post1.data/data/share/odd/readme.txt": b"shared data\n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    return _write_wheel(folder / "odd_name_pkg-1.0.post1-py3-none-any.whl", files, "odd.name_pkg", "1.0.post1", "py3-none-any",
                        "odd_name_pkg")  # fmt: skip


def plain_wheel(folder: Path, name: str = "plain", version: str = "2.0") -> Path:
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nProvides-Extra: fast\n"
    files = {"METADATA": metadata.encode(), f"{name}/__init__.py": b"VALUE = 42\n"}
    folder.mkdir(parents=True, exist_ok=True)
    return _write_wheel(folder / f"{name}-{version}-py3-none-any.whl", files, name, version, "py3-none-any", name)


def package_info(package: Path, tmp_path: Path) -> tuple[dict, dict]:
    from conda_package_handling import api

    out = tmp_path / package.name
    api.extract(str(package), dest_dir=str(out), components="info")
    index = json.loads((out / "info" / "index.json").read_text())
    paths = {p["_path"]: p for p in json.loads((out / "info" / "paths.json").read_text())["paths"]}
    return index, paths


def test_a_wheel_becomes_a_conda_package_that_keeps_its_metadata(tmp_path):
    wheels = tmp_path / "wheels"
    made = conda_channel.convert_wheel(odd_wheel(wheels), "3.11", tmp_path / "out", index="private")
    assert [p.name for p in made] == ["odd-name-pkg-1.0.post1-py311_private_0.conda",
                                      "odd-name-pkg-with-speed-1.0.post1-py311_private_0.conda"]  # fmt: skip
    index, paths = package_info(made[0], tmp_path)
    # markers judged for Linux and Python 3.11: neither the Windows nor the old-Python dependency
    assert index["depends"] == ["python >=3.11,<3.12", "plain <3,>=1"]
    assert index["subdir"] == conda_channel.subdir() and index["build"] == "py311_private_0"
    site = "lib/python3.11/site-packages"
    assert f"{site}/odd_name_pkg/__init__.py" in paths and f"{site}/odd_name_pkg-1.0.post1.dist-info/RECORD" in paths
    assert "share/odd/readme.txt" in paths
    # scripts run the env's own interpreter: they hold the prefix, marked as conda-build marks them
    held = {path for path, entry in paths.items() if entry.get("prefix_placeholder") == conda_channel.PLACEHOLDER}
    assert held == {"bin/odd-tool", "bin/odd-script"}
    assert all(paths[path]["file_mode"] == "text" for path in held)
    extra, _ = package_info(made[1], tmp_path)
    assert extra["depends"] == ["odd-name-pkg ==1.0.post1 py311_private_0", "plain", "plain-with-fast"]


@pytest.fixture(scope="module")
def channel(tmp_path_factory, python311) -> Path:
    """A channel of the odd wheel, its dependency and the host's Python, indexed by py-rattler."""
    root = tmp_path_factory.mktemp("channel")
    wheels = root / "wheels"
    out = root / "channel" / conda_channel.subdir()
    (root / "channel" / "noarch").mkdir(parents=True)
    for wheel in (odd_wheel(wheels), plain_wheel(wheels)):
        conda_channel.convert_wheel(wheel, "3.11", out, PYPI)
    conda_channel.python_package(conda_channel.host_interpreter(python311), out)
    asyncio.run(conda_channel._index_channel(root / "channel"))
    return root / "channel"


def driver(*args) -> None:
    subprocess.run([sys.executable, str(DRIVER), *map(str, args)], check=True, capture_output=True, text=True)


def test_rattler_installs_two_envs_from_one_cache_and_the_scan_tells_what_each_holds(channel, tmp_path):
    cache = tmp_path / "cache"
    envs = [tmp_path / "a" / ".pixi" / "envs" / "default", tmp_path / "b" / ".pixi" / "envs" / "default"]
    for env in envs:
        lock = env.parents[2] / "pixi.lock"
        env.parents[2].mkdir(parents=True)
        common = ("--platform", conda_channel.subdir(), "--cache-dir", cache)
        driver("lock", "--channel", channel.as_uri(), "--lock", lock, *common, "python 3.11.*", "odd-name-pkg", "plain-with-fast")
        driver("install", "--lock", lock, "--prefix", env, *common)
        done = subprocess.run([env / "bin" / "python", "-c", "import odd_name_pkg, plain, sys; print(sys.prefix, plain.VALUE)"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert done.stdout.split() == [str(env), "42"]  # the env's own interpreter finds its site-packages
        assert subprocess.run([env / "bin" / "odd-tool"], capture_output=True, text=True).stdout == "odd main\n"
        # RECORD as an installer writes it: every file where it was installed (data, scripts too)
        missing = ("import importlib.metadata as m; "
                   "print([str(f) for f in m.distribution('odd.name_pkg').files if not f.locate().exists()])")
        assert subprocess.run([env / "bin" / "python", "-c", missing], capture_output=True, text=True).stdout == "[]\n"
        sysconfig = next((env / "lib" / "python3.11").glob("_sysconfigdata_*.py"))
        assert str(env) in sysconfig.read_text() and conda_channel.PLACEHOLDER not in sysconfig.read_text()
    # the standard library is one set of inodes in the cache, hard-linked into both envs
    first, second = (os.stat(env / "lib" / "python3.11" / "os.py") for env in envs)
    assert (first.st_ino, first.st_nlink) == (second.st_ino, 3)
    report = scan.scan([*envs, cache], [cache])
    python = next(row for row in report["conda_packages"] if row["name"] == "python")
    assert python["envs"] == 2 and python["prefix_files"] == 2  # each env's own sysconfig data
    listed = [env / p["_path"] for env in envs for p in _python_record(env)["paths_data"]["paths"]]
    linked = [path for path in listed if path.is_file() and not path.is_symlink() and path.stat().st_nlink > 1]
    assert python["files"] == len(listed) and python["linked_files"] == len(linked) > 0.95 * len(listed)
    # what the envs hold of it beyond the cache's inodes: the rewritten copies (and any .pyc
    # the interpreter wrote anew), a sliver of the interpreter
    own = python["physical_bytes"] - python["linked_out_bytes"]
    assert python["prefix_bytes"] <= own < 0.02 * python["installed_bytes"]
    assert {row["name"] for row in report["conda_packages"]} == {"python", "odd-name-pkg", "plain", "plain-with-fast"}
    assert {row["name"] for row in report["packages"]} == {"odd-name-pkg", "plain"}  # their dist-info, as for pip's envs


def _python_record(env: Path) -> dict:
    return json.loads(next((env / "conda-meta").glob("python-*.json")).read_text())
