"""envbench mirror: closures resolved for the target platform, wheels stored once, offline."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from harness.synth import SynthPackage, build_wheel

from .conftest import write


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVBENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def closure(folder):
    return {w["name"]: w for w in json.loads((folder / "closure.json").read_text())["wheels"]}


def test_wheelhouse_closure_is_stored_once_and_laid_out(tmp_path, wheelhouse, home, cli):
    scenario = write(
        tmp_path / "s.yaml",
        f"""
    name: offline
    python: "3.11"
    wheelhouse: {wheelhouse}
    projects:
      - name: app
        count: 3
        dependencies: [alpha, gamma]
    """,
    )
    status, out, err = cli("mirror", scenario)
    assert status == 0, err
    folder = home / "mirrors" / out.strip().splitlines()[-1].split("/")[-1]
    wheels = closure(folder)
    assert sorted(wheels) == ["alpha", "beta", "gamma"]  # beta comes with alpha
    for wheel in wheels.values():
        source = wheelhouse / wheel["filename"]
        assert wheel["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
        assert wheel["size"] == source.stat().st_size and wheel["index"] == "pypi"
        stored = home / "wheels" / wheel["sha256"] / wheel["filename"]
        laid = folder / "pypi" / wheel["filename"]
        assert os.path.samefile(stored, laid)  # the mirror links the store, no second copy
    assert err.count("downloading") == 3

    status, out_again, err_again = cli("mirror", scenario)
    assert status == 0 and "downloading" not in err_again
    assert out_again.strip().splitlines()[-1] == out.strip().splitlines()[-1]  # same closure, same name


def test_pinned_package_comes_only_from_its_index(tmp_path, home, cli, monkeypatch):
    host, fast = tmp_path / "host", tmp_path / "fast"
    for package in (SynthPackage("alpha", dependencies=("gamma",)), SynthPackage("gamma", version="1.0"),
                    SynthPackage("gamma", version="2.0")):  # fmt: skip
        build_wheel(package, host)
    build_wheel(SynthPackage("gamma", version="1.5"), fast)
    # The host's own pip configuration, as a user's would be: no index, a folder of wheels.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(host))
    scenario = write(
        tmp_path / "s.yaml",
        """
    name: pinned
    python: "3.11"
    indexes:
      fast: https://fast.invalid/simple
    projects:
      - name: app
        dependencies: [alpha, gamma]
        sources: {gamma: fast}
    """,
    )
    status, _, err = cli("mirror", scenario)
    assert status == 1
    [line] = err.strip().splitlines()
    assert line.startswith("envbench mirror: index fast (https://fast.invalid/simple): resolving gamma failed")
    assert "ENVBENCH_INDEX_FAST may name" in line

    monkeypatch.setenv("ENVBENCH_INDEX_FAST", str(fast))
    status, out, err = cli("mirror", scenario)
    assert status == 0, err
    wheels = closure(home / "mirrors" / out.strip().splitlines()[-1].split("/")[-1])
    # 2.0 is newer and in the host's folder, but gamma is pinned to `fast`, which has 1.5 only.
    assert (wheels["gamma"]["version"], wheels["gamma"]["index"]) == ("1.5", "fast")
    assert (wheels["alpha"]["version"], wheels["alpha"]["index"]) == ("1.0.0", "pypi")
