"""A fleet of different projects (issue 16, part 3): three groups from a requirements file, a
pyproject and a uv.lock, run with real uv and pip on synthetic wheels (no network); the report
shows what the groups share and what each costs on top, per tool, from the disk scan."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from harness.backends.images import tool_requirements
from harness.settings.home import pinned_venv

from .conftest import write

FLEET = """
name: fleet
python: "3.11"
projects:
  - name: api
    requirements: api/requirements.txt
  - name: web
    count: 2
    pyproject: web/pyproject.toml
  - name: jobs
    lock: jobs/uv.lock
"""


def test_three_groups_from_three_kinds_of_file_report_what_they_share(
    tmp_path, folder_as_pypi, tool_venvs, isolated_work, cli, python311
):
    write(tmp_path / "api" / "common.txt", "tooling\n")
    write(tmp_path / "api" / "requirements.txt", "-r common.txt\nweb-app[speed]\n")
    write(tmp_path / "web" / "pyproject.toml", '[project]\nname = "web"\ndependencies = ["web-app", "helper<2"]\n')
    write(tmp_path / "jobs" / "pyproject.toml", '[project]\nname = "jobs"\nversion = "1"\nrequires-python = ">=3.11"\n'
          'dependencies = ["helper<2", "tooling", "win-only; sys_platform == \'win32\'"]\n')  # fmt: skip
    uv = str(pinned_venv("uv", tool_requirements()["uv"], python311) / "uv")
    subprocess.run([uv, "lock", "--no-index", "--find-links", str(folder_as_pypi), "--python", python311],
                   cwd=tmp_path / "jobs", check=True, capture_output=True)  # fmt: skip
    scenario = write(tmp_path / "fleet.yaml", FLEET)
    out = tmp_path / "run"
    status, _, err = cli("run", scenario, "--tools", "uv,pip-venv", "--repetitions", "1", "--backend", "local", "--out", out)
    assert status == 0, err
    run = json.loads((out / "run.json").read_text())
    sets = {}
    for tool in ("uv", "pip-venv"):
        envs = run["tools"][tool]["layouts"]["same-volume"]["envs"]
        assert all(env["proved"] for env in envs.values()), envs
        sets[tool] = {p: sorted(k["name"] for k in env["packages"] if k["name"] not in ("pip", "setuptools", "wheel"))
                      for p, env in envs.items()}  # fmt: skip
    assert sets["uv"] == sets["pip-venv"] == {
        "api": ["fast-json", "helper", "tooling", "web-app"], "web-01": ["helper", "web-app"],
        "web-02": ["helper", "web-app"], "jobs": ["helper", "tooling"],
    }  # fmt: skip
    disk = {tool: run["tools"][tool]["layouts"]["same-volume"]["disk"]["total"] for tool in ("uv", "pip-venv")}
    for total in disk.values():
        assert set(total["groups"]) == {"api", "jobs", "web"}
        assert total["groups"]["web"]["roots"] == 2
        # a group's figures never exceed the fleet's, and what it adds never exceeds what it holds
        for figures in total["groups"].values():
            assert 0 < figures["marginal_bytes"] <= figures["physical_bytes"] <= total["physical_bytes"]
    # uv links every env's files to its one cache: helper's files serve all three groups;
    # pip copies into each env, so its groups share nothing at all.
    assert disk["uv"]["cross_group_bytes"] > 0 and disk["uv"]["groups"]["api"]["shared_with"]["jobs"] > 0
    assert disk["pip-venv"]["cross_group_bytes"] == 0
    tables = (out / "tables.md").read_text()
    assert "## What each group costs on top, and what the groups share" in tables
    assert "**jobs**: 1 project (lock: jobs/uv.lock)" in tables
    shared = tables.split("## Packages the groups share", 1)[1].split("\n## ", 1)[0]
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in shared.splitlines() if line.startswith("| ")}
    # api names no bound on helper: it gets 2.0, the others 1.0, and no tool can share those files
    assert rows["helper"][1:4] == ["api, web, jobs", "api: 2.0, web: 1.0, jobs: 1.0", "no"]
    assert rows["tooling"][1:4] == ["api, jobs", "1.0.0", "yes"]
    assert float(rows["tooling"][5]) > 0 and float(rows["tooling"][6].strip(" |")) == 0  # uv shares it; pip cannot


def test_run_lock_refuses_a_group_the_lock_lacks_in_one_line(tmp_path, folder_as_pypi, cli, python311):
    write(tmp_path / "jobs" / "pyproject.toml", '[project]\nname = "jobs"\nversion = "1"\ndependencies = ["helper"]\n')
    uv = str(pinned_venv("uv", tool_requirements()["uv"], python311) / "uv")
    subprocess.run([uv, "lock", "--no-index", "--find-links", str(folder_as_pypi), "--python", python311],
                   cwd=tmp_path / "jobs", check=True, capture_output=True)  # fmt: skip
    lock = Path(tmp_path / "jobs" / "uv.lock")
    status, _, err = cli("run", "--lock", lock, "--projects", "2", "--groups", "docs", "--backend", "local")
    assert status == 2  # said of the option, in one line; the scenario is printed once it runs
    assert err == "--groups: the lock has no optional group 'docs' (groups: none)\n"
