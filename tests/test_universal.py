"""The mirror serves what lockers ask for: other platforms' dependencies, sdists and what builds them.

Synthetic packages only, so the whole run is offline: a dependency only Windows installs (a
win_amd64 wheel behind `sys_platform == "win32"`) must reach every lock file through the mirror,
and a package published only as an sdist must be built by every tool from the mirror alone,
with its build backend (itself a synthetic package) as its one build requirement.
"""

from __future__ import annotations

import json
import tomllib

import pytest

from .conftest import write

SCENARIO = """
name: universal
python: "3.11"
repetitions: 1
synthetic:
  - {name: app-core, dependencies: ["win-helper; sys_platform == 'win32'", "from-source>=1"]}
  - {name: win-helper, platform: win_amd64}
  - {name: from-source, version: "1.1", sdist: true, files: 3}
projects:
  - name: app
    count: 2
    dependencies: [app-core]
"""
RUNNABLE = ("pip-venv", "virtualenv", "pip-tools", "uv", "uv-project", "poetry", "pdm", "pipenv", "hatch")


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://192.0.2.1:9/simple")  # an index would fail: none may be asked
    for name in ("ENVBENCH_MICROMAMBA", "ENVBENCH_PIXI", "ENVBENCH_CONDA_CHANNEL"):
        monkeypatch.delenv(name, raising=False)


def test_mirror_holds_other_platforms_releases_and_build_requirements(tmp_path, offline, cli, monkeypatch):
    monkeypatch.setenv("ENVBENCH_HOME", str(tmp_path / "home"))
    status, out, err = cli("mirror", write(tmp_path / "s.yaml", SCENARIO))
    assert status == 0, err
    folder = tmp_path / "home" / "mirrors" / out.strip().splitlines()[-1].split("/")[-1]
    record = json.loads((folder / "closure.json").read_text())
    roles = {(f["name"], f["filename"]): f["role"] for f in record["files"]}
    assert roles == {
        ("app-core", "app_core-1.0.0-py3-none-any.whl"): "install",
        ("win-helper", "win_helper-1.0.0-py3-none-win_amd64.whl"): "resolve",  # only lockers read it
        ("from-source", "from_source-1.1.tar.gz"): "install",
        ("envbench-synth-backend", "envbench_synth_backend-1.0-py3-none-any.whl"): "build",
    }
    [project] = record["projects"]
    assert project["installs"] == [["app-core", "1.0.0"], ["from-source", "1.1"]]  # not win-helper on Linux
    assert sorted(p.name for p in (folder / "pypi").iterdir()) == sorted(name for _, name in roles)


def locked_names(run_dir, tool: str) -> set[str]:
    text = (run_dir / "locks" / tool / "same-volume" / {"uv-project": "uv.lock", "poetry": "poetry.lock",
                                                       "pdm": "pdm.lock"}[tool]).read_text()  # fmt: skip
    return {package["name"] for package in tomllib.loads(text)["package"]}


def test_every_tool_locks_for_windows_and_builds_the_sdist_offline(tmp_path, offline, tool_venvs, isolated_work, cli):
    out = tmp_path / "out"
    status, _, err = cli("run", write(tmp_path / "s.yaml", SCENARIO), "--backend", "local", "--out", out)
    assert status == 0, err
    run = json.loads((out / "run.json").read_text())
    assert {tool: info["status"] for tool, info in run["tools"].items() if tool in RUNNABLE} == dict.fromkeys(RUNNABLE, "ok"), (
        run["failures"]
    )
    for tool in RUNNABLE:
        for env in run["tools"][tool]["layouts"]["same-volume"]["envs"].values():
            assert env["proved"] and not env["import_needs"], (tool, env["faults"])
            names = {p["name"]: p["version"] for p in env["packages"]}
            assert names.get("from-source") == "1.1" and "win-helper" not in names, tool
    # The lockers resolve for every platform: the Windows-only dependency is in their locks.
    for tool in ("uv-project", "poetry", "pdm"):
        assert {"app-core", "from-source", "win-helper"} <= locked_names(out, tool), tool
