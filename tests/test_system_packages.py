"""The scenario key `system_packages` (and `--system-packages`): Debian packages an sdist needs to
build, added on top of the tools image and named by its hash; refused with one line where they cannot be
had (a bad name, the local backend on a machine without them).

The sdist is synthetic: its build runs `m4 --version`, as a real one runs autoconf or a compiler,
and fails without it. The image with m4 is made by `nox -s images` (setup, where Debian's package
may be fetched); the test itself fetches nothing.
"""

from __future__ import annotations

import json

import pytest

from harness.backends.local import missing_system_packages
from harness.scenario.parse import parse
from harness.scenario.yamlnodes import ScenarioError

from .conftest import write

SCENARIO = """
name: builds-with-m4
python: "3.11"
repetitions: 1
synthetic:
  - {name: needs-m4, sdist: true, files: 2, build_needs: [m4]}
projects:
  - name: app
    count: 1
    dependencies: [needs-m4]
"""


def test_the_key_is_read_and_bad_names_are_refused_at_their_line():
    assert parse(SCENARIO + "system_packages: [m4, libpq-dev]\n").system_packages == ("m4", "libpq-dev")
    assert "system_packages" not in parse(SCENARIO).to_json()  # runs before the key hash as they did
    for text, said in (("system_packages: [M4]", "system_packages[0]: 'M4' is not a Debian package name"),
                       ("system_packages: [m4, m4]", "system_packages[1]: 'm4' listed twice"),
                       ("system_packages: ['m4; rm -rf /']", "is not a Debian package name")):  # fmt: skip
        with pytest.raises(ScenarioError) as caught:
            parse(SCENARIO + text + "\n", "s.yaml")
        assert str(caught.value).startswith("s.yaml:11: ") and said in str(caught.value), caught.value
    with pytest.raises(ScenarioError, match="build_needs: only an sdist is built"):
        parse(SCENARIO.replace("sdist: true, ", ""))


def test_the_local_backend_refuses_packages_this_machine_lacks(tmp_path, cli):
    lacking = "envbench-no-such-package"
    assert missing_system_packages(("dpkg", lacking)) == [lacking]  # dpkg is on every Debian system
    scenario = write(tmp_path / "s.yaml", SCENARIO + f"system_packages: [{lacking}]\n")
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "pip-venv", "--out", tmp_path / "out")
    assert status == 2 and err.strip().splitlines()[-1].startswith(f"system_packages: {lacking} not installed here")
    assert not (tmp_path / "out").exists()


def test_requirements_take_system_packages_into_their_scenario(tmp_path, cli):
    requirements = write(tmp_path / "req.txt", "six\n")
    status, _, err = cli("run", "--requirements", requirements, "--system-packages", "Bad_Name", "--backend", "local",
                         "--out", tmp_path / "out")  # fmt: skip
    assert status == 2 and err == "--system-packages: 'Bad_Name' is not a Debian package name (a-z, 0-9, + - .)\n"
    status, _, err = cli("run", write(tmp_path / "s.yaml", SCENARIO), "--system-packages", "m4")
    assert status == 2 and err.strip() == "--system-packages: only with --requirements, --pyproject or --lock " \
                                          "(a scenario file says it itself)"  # fmt: skip


@pytest.mark.docker
def test_an_sdist_needing_a_debian_program_builds_when_the_scenario_names_it(tmp_path, cli, docker_client, tools_image):
    without, named = tmp_path / "without", tmp_path / "named"
    status, _, err = cli("run", write(tmp_path / "a.yaml", SCENARIO), "--backend", "docker", "--tools", "pip-venv",
                         "--quick", "--out", without)  # fmt: skip
    assert status == 1, err  # the build's own failure, as any tool would meet it
    run = json.loads((without / "run.json").read_text())
    assert run["failures"] and all("m4" in (f.get("tail") or "") for f in run["failures"] if f["what"] == "install")
    scenario = write(tmp_path / "b.yaml", SCENARIO + "system_packages: [m4]\n")
    status, _, err = cli("run", scenario, "--backend", "docker", "--tools", "pip-venv", "--quick", "--out", named)
    assert status == 0, err
    run = json.loads((named / "run.json").read_text())
    assert run["scenario"]["system_packages"] == ["m4"]
    assert run["backend"]["image"] != tools_image  # the tools image built on the base with m4, named by it
    envs = run["tools"]["pip-venv"]["layouts"]["same-volume"]["envs"]
    assert envs and all(env["proved"] for env in envs.values())
