"""What real requirement sets hold, and the proof must take as the tool makes it.

A compiled requirements file often pins pip and setuptools themselves (`pip-compile
--allow-unsafe` writes them). pip-tools calls those unsafe and leaves them out of its lock
unless asked; envbench asks (`--allow-unsafe`, pip-tools' own advice), so pip-sync installs the
versions pinned and the env is the one the project asked for. Synthetic wheels named pip and
setuptools stand in for the real ones (no network); the env's seeded pip installs them.
"""

from __future__ import annotations

import json

from .conftest import write

SCENARIO = """
name: pins-pip
python: "3.11"
repetitions: 1
synthetic:
  - {name: pip, version: "99.0", files: 2}
  - {name: setuptools, version: "99.0", files: 2}
  - {name: app-lib, files: 2, dependencies: [setuptools]}
projects:
  - name: app
    count: 1
    dependencies: ["pip==99.0", "setuptools==99.0", app-lib]
"""


def test_a_set_pinning_pip_and_setuptools_is_proved_with_pip_tools(tmp_path, tool_venvs, isolated_work, cli):
    out = tmp_path / "out"
    status, _, err = cli("run", write(tmp_path / "s.yaml", SCENARIO), "--backend", "local", "--tools", "pip-tools",
                         "--quick", "--out", out)  # fmt: skip
    assert status == 0, err
    run = json.loads((out / "run.json").read_text())
    [env] = run["tools"]["pip-tools"]["layouts"]["same-volume"]["envs"].values()
    assert env["proved"], env.get("faults")
    versions = {p["name"]: p["version"] for p in env["packages"]}
    assert versions["pip"] == "99.0" and versions["setuptools"] == "99.0"  # the pins, not venv's seeds
    lock = next((out / "locks" / "pip-tools").rglob("requirements.txt")).read_text()
    assert "pip==99.0" in lock and "setuptools==99.0" in lock
