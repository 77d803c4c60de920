"""One fleet on two Pythons: what a cp311 and a cp313 env share, measured.

Synthetic wheels only (no network): `fastish` 1.0 built once per CPython ABI (cp311, cp313: one
release, two wheels) and `pureish` 1.0 (py3-none-any: one wheel for both). Locally the 3.13
projects use the host's 3.13 (pyenv's, as on these machines); in containers, a second image
(Debian trixie's Python 3.13) whose container mounts the same volumes as the 3.11 one.
"""

from __future__ import annotations

import csv
import json
import os
import platform

import pytest

from harness.packages.synth import SynthPackage, build_wheel
from harness.record.model import Run
from harness.report import duplication
from harness.report.claims import METRICS
from harness.settings.pythons import NoPython, find_python

from .conftest import write

MIB = 2**20
SCENARIO = """
name: two-pythons
python: "3.11"
repetitions: 1
tools: [uv, pip-venv]
projects:
  - name: old
    count: 2
    dependencies: [fastish, pureish]
  - name: new
    count: 2
    python: "3.13"
    dependencies: [fastish, pureish]
"""
MANYLINUX = f"manylinux_2_17_{platform.machine()}"
FAST = [SynthPackage("fastish", version="1.0", files=4, file_size=262144, binary=True, abi=abi, platform=MANYLINUX)
        for abi in ("cp311-cp311", "cp313-cp313")]  # fmt: skip
PURE = SynthPackage("pureish", version="1.0", files=6, file_size=131072)


def host_python_313() -> None:
    """The local backend makes the 3.13 envs with the host's own 3.13: skip without one, unless
    HARNESS_REQUIRE_PYTHONS says this machine must have it (CI: pyenv's 3.13)."""
    try:
        find_python("3.13")
    except NoPython as exc:
        if os.environ.get("HARNESS_REQUIRE_PYTHONS"):
            pytest.fail(f"HARNESS_REQUIRE_PYTHONS is set and {exc}")
        pytest.skip(f"no Python 3.13 on this machine for the local backend: {exc}")


@pytest.fixture
def two_pythons(tmp_path, monkeypatch):
    """The scenario, its wheels served as the host's pip configuration names them; the docker
    variant needs no host 3.13 (the trixie image has it), so nothing here skips."""
    folder = tmp_path / "index"
    for package in (*FAST, PURE):
        build_wheel(package, folder)
    # The host's pip configuration, as a user's might be: no index, only a folder of wheels.
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return write(tmp_path / "s.yaml", SCENARIO)


def check_two_pythons(out) -> None:
    run = json.loads((out / "run.json").read_text())
    typed = Run.from_json(run)
    assert {tool: info["status"] for tool, info in run["tools"].items()} == {"uv": "ok", "pip-venv": "ok"}, run["failures"]
    assert [p["python"] for p in run["scenario"]["projects"]] == ["3.11", "3.11", "3.13", "3.13"]
    for tool in ("uv", "pip-venv"):
        envs = run["tools"][tool]["layouts"]["same-volume"]["envs"]
        assert all(env["proved"] for env in envs.values()) and len(envs) == 4
        assert {name: env["python"][:4] for name, env in envs.items()} == {
            "old-01": "3.11", "old-02": "3.11", "new-01": "3.13", "new-02": "3.13"}  # fmt: skip
    with open(out / "packages.csv", newline="") as f:
        digests = {(r["tool"], r["project"]): r["sha256"] for r in csv.DictReader(f) if r["name"] == "fastish"}
    assert digests[("uv", "old-01")] != digests[("uv", "new-01")]  # one release, two ABIs, two wheels
    assert digests[("uv", "old-01")] == digests[("pip-venv", "old-02")]

    tool, _, first = duplication.reference(typed)
    assert tool == "uv" and {h.name: h.kind for h in duplication.held(first)} == {
        "fastish": "different builds", "pureish": "identical"}  # fmt: skip
    assert "Python ABI (old: Python 3.11, new: Python 3.13)" in duplication.cause(typed)
    pure = 6 * 131072
    # One cache serves both Pythons: uv links the pure wheel's files into every env of both.
    assert pure <= METRICS["cross_group_mib"](typed, "uv", distribution="pureish") * MIB < pure + 64 * 1024
    assert METRICS["cross_group_mib"](typed, "uv", distribution="fastish") == 0
    assert METRICS["cross_group_mib"](typed, "uv", kind="different builds") == 0  # the seed's claim, as verify reads it
    assert pure <= METRICS["cross_group_mib"](typed, "uv", kind="identical") * MIB
    assert METRICS["cross_group_mib"](typed, "pip-venv", distribution="pureish") == 0
    assert "## What each tool shares across groups" in (out / "tables.md").read_text()


def test_two_pythons_locally(two_pythons, tmp_path, tool_venvs, isolated_work, cli):
    host_python_313()
    status, _, err = cli("run", two_pythons, "--backend", "local", "--out", tmp_path / "out")
    assert status == 0, err
    check_two_pythons(tmp_path / "out")


@pytest.mark.docker
def test_two_pythons_in_containers(tools_images, two_pythons, tmp_path, docker_client, cli):
    """The 3.13 projects run in a trixie container on the 3.11 container's volumes."""
    status, _, err = cli("run", two_pythons, "--backend", "docker", "--out", tmp_path / "out")
    assert status == 0, err
    assert f"Python 3.13: {tools_images['3.13']}" in " ".join(err.split())  # the console wraps long lines
    check_two_pythons(tmp_path / "out")
    run_id = json.loads((tmp_path / "out" / "run.json").read_text())["run_id"]
    assert not docker_client.containers.list(all=True, filters={"label": f"envbench={run_id}"}), "no container is left"
