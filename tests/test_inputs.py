"""A project as it is: requirements files and pyproject.toml as scenario input (harness/scenario/inputs.py).

Parsing is checked exactly, every refusal with its exact line; then `envbench run --requirements`
runs real pip and uv on synthetic wheels served as PyPI from a folder (no network).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness.scenario.parse import load
from harness.scenario.yamlnodes import ScenarioError
from harness.settings.home import envbench_home

from .conftest import write

SCENARIO = """
name: own
python: "3.11"
projects:
  - name: svc
    count: 2
    {key}: {file}
"""


def scenario_with(tmp_path: Path, key: str, file: str, extra: str = "") -> Path:
    return write(tmp_path / "s.yaml", SCENARIO.format(key=key, file=file) + extra)


def test_requirements_with_includes_constraints_markers_extras_and_hashes(tmp_path):
    write(tmp_path / "base.txt", "numpy>=1.26  # the base\n")
    write(tmp_path / "constraints.txt", "pandas<2.3\nsix==1.16.0\n# one package twice narrows it, as pip reads it\npandas>=2.1\n")
    write(tmp_path / "requirements.txt", """
        -r base.txt
        -c constraints.txt
        --trusted-host mirror
        pandas[performance]>=2 ; python_version >= "3.9"
        requests==2.32.3 \\
            --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6
        tomli; python_version < "3.11"
        """)  # fmt: skip
    [first, second] = load(scenario_with(tmp_path, "requirements", "requirements.txt")).projects
    assert first.dependencies == second.dependencies == (
        "numpy>=1.26", 'pandas[performance]>=2; python_version >= "3.9"', "requests==2.32.3", 'tomli; python_version < "3.11"',
    )  # fmt: skip
    assert first.constraints == ("pandas<2.3,>=2.1", "six==1.16.0")
    assert first.hashes == (("requests", ("70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",)),)
    assert first.origin == "requirements: requirements.txt"


def test_an_extra_index_becomes_a_named_index_its_packages_are_pinned_to(tmp_path):
    write(tmp_path / "r.txt", "--extra-index-url https://download.pytorch.org/whl/cpu\ntorch==2.5.1\nnumpy\n")
    scenario = load(scenario_with(tmp_path, "requirements", "r.txt", "    sources: {torch: download-pytorch-org-whl-cpu}\n"))
    assert scenario.index_url("download-pytorch-org-whl-cpu") == "https://download.pytorch.org/whl/cpu"
    assert scenario.projects[0].index_of("torch") == "download-pytorch-org-whl-cpu"
    assert scenario.projects[0].index_of("numpy") is None


def test_pyproject_dependencies_with_optional_groups(tmp_path):
    write(tmp_path / "pyproject.toml", """
        [project]
        name = "My_App"
        version = "1.0"
        dependencies = ["fastapi>=0.110", "httpx"]

        [project.optional-dependencies]
        test = ["pytest>=8", "my-app[lint]"]
        lint = ["ruff"]
        docs-extra = ["mkdocs"]

        [dependency-groups]
        dev = [{include-group = "docs"}, "ipython"]
        docs = ["sphinx"]
        """)  # fmt: skip
    plain = load(scenario_with(tmp_path, "pyproject", "pyproject.toml")).projects[0]
    assert plain.dependencies == ("fastapi>=0.110", "httpx")
    grouped = load(scenario_with(tmp_path, "pyproject", "pyproject.toml", "    groups: [test, dev]\n")).projects[0]
    # test brings its own extra lint ("my-app[lint]"); dev includes the group docs (PEP 735)
    assert grouped.dependencies == ("fastapi>=0.110", "httpx", "pytest>=8", "sphinx", "ipython", "ruff")


REFUSED_REQUIREMENTS = [
    ("-e ./pkg", "r.txt:2: -e: '-e ./pkg': an editable install is a local tree, not a release"),
    ("git+https://github.com/a/b.git#egg=b",
     "r.txt:2: requirement: 'git+https://github.com/a/b.git#egg=b' is a VCS checkout: the mirror serves index releases only"),
    ("./local/pkg", "r.txt:2: requirement: './local/pkg' is a local path: the mirror serves index releases only"),
    ("b @ https://example.com/b-1.0.tar.gz",
     "r.txt:2: requirement: 'b @ https://example.com/b-1.0.tar.gz' is a direct URL: the mirror serves index releases only"),
    ("--index-url https://example.com/simple",
     "r.txt:2: --index-url: https://example.com/simple would replace PyPI for every package; set ENVBENCH_INDEX_PYPI to that "
     "URL instead (the mirror resolves from it)"),
    ("--pre", "r.txt:2: --pre: not honoured: every tool installs from envbench's mirror of the resolved releases"),
    ("numpy>>1", "r.txt:2: requirement: 'numpy>>1' is not a requirement: Expected semicolon (after name with no version "
     "specifier) or end"),
    ("numpy --hash=md5:0123", "r.txt:2: --hash: md5 digests are not checked; give sha256"),
    ("SIX>=1", "r.txt:2: requirement: 'SIX' listed twice"),
    ("--extra-index-url https://example.com/extra/simple",
     "r.txt:2: --extra-index-url: envbench takes each package from one index: name the packages that come from "
     "https://example.com/extra/simple in the group's sources ({package: example-com-extra-simple}) or with "
     "--source PACKAGE=example-com-extra-simple"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "error"), REFUSED_REQUIREMENTS, ids=[e.split(": ")[1] + str(i) for i, (_, e) in
                                                                      enumerate(REFUSED_REQUIREMENTS)])  # fmt: skip
def test_what_cannot_be_honoured_is_refused_at_its_line(tmp_path, line, error):
    write(tmp_path / "r.txt", f"six\n{line}\n")
    with pytest.raises(ScenarioError) as caught:
        load(scenario_with(tmp_path, "requirements", "r.txt"))
    assert str(caught.value) == f"{tmp_path}/{error}"


def test_refusals_of_the_group_itself(tmp_path):
    cases = [
        (SCENARIO.format(key="requirements", file="missing.txt"),
         f"s.yaml:6: projects[0].requirements: 'missing.txt' is not a file (resolved to {tmp_path / 'missing.txt'})"),
        (SCENARIO.format(key="requirements", file="r.txt") + "    dependencies: [six]\n",
         "s.yaml:7: projects[0].dependencies: give one of dependencies, requirements, pyproject, lock, not two"),
        (SCENARIO.format(key="requirements", file="r.txt") + "    groups: [dev]\n",
         "s.yaml:7: projects[0].groups: optional groups are a pyproject's or a lock's: give one"),
        (SCENARIO.format(key="pyproject", file="pyproject.toml") + "    groups: [nope]\n",
         "s.yaml:7: projects[0].groups[0]: the pyproject has no optional group 'nope' (groups: dev)"),
        ("name: own\npython: \"3.11\"\nprojects:\n  - name: svc\n",
         "s.yaml:4: projects[0].dependencies: missing (required): give dependencies, requirements, pyproject or lock"),
    ]  # fmt: skip
    write(tmp_path / "r.txt", "six\n")
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["six"]\n[dependency-groups]\ndev = ["ruff"]\n')
    for text, error in cases:
        with pytest.raises(ScenarioError) as caught:
            load(write(tmp_path / "s.yaml", text))
        assert str(caught.value).removeprefix(str(tmp_path) + "/") == error


def test_pyproject_refusals_name_their_line(tmp_path):
    cases = [
        ('[project]\nname = "x"\ndynamic = ["dependencies"]\n',
         "pyproject.toml:3: project.dynamic: dependencies are dynamic (a build backend computes them): give a requirements "
         "file"),
        ('[project]\nname = "x"\ndependencies = [\n  "six",\n  "numpy>>1",\n]\n',
         "pyproject.toml:5: project.dependencies: 'numpy>>1' is not a PEP 508 requirement: Expected semicolon (after name "
         "with no version specifier) or end"),
        ('[project]\nname = "x"\ndependencies = ["b @ https://example.com/b.whl"]\n',
         "pyproject.toml:3: project.dependencies: 'b @ https://example.com/b.whl' names a URL: the mirror serves index "
         "releases only"),
        ('[tool.poetry]\nname = "x"\n', "pyproject.toml:1: project: no [project] table (PEP 621): name the dependencies there"),
        ('[project\n',
         "pyproject.toml:1: toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)"),
    ]  # fmt: skip
    for text, error in cases:
        write(tmp_path / "pyproject.toml", text)
        with pytest.raises(ScenarioError) as caught:
            load(scenario_with(tmp_path, "pyproject", "pyproject.toml"))
        assert str(caught.value).removeprefix(str(tmp_path) + "/") == error


# -- a real run ------------------------------------------------------------------------------------
def test_run_requirements_prints_a_scenario_that_runs_to_the_same_packages(
    tmp_path, folder_as_pypi, tool_venvs, isolated_work, cli
):
    tooling = folder_as_pypi / "tooling-1.0.0-py3-none-any.whl"
    digest = hashlib.sha256(tooling.read_bytes()).hexdigest()
    write(tmp_path / "project" / "common.txt", f"tooling --hash=sha256:{digest}\n")
    write(tmp_path / "project" / "constraints.txt", "helper<2\n")
    requirements = write(tmp_path / "project" / "requirements.txt",
                         '-r common.txt\n-c constraints.txt\nweb-app[speed]\nwin-only; sys_platform == "win32"\n')  # fmt: skip
    first, second = tmp_path / "first", tmp_path / "second"
    status, _, err = cli("run", "--requirements", requirements, "--projects", "3", "--tools", "uv,pip-venv",
                         "--repetitions", "1", "--backend", "local", "--out", first)  # fmt: skip
    assert status == 0, err
    printed = next(line for line in err.splitlines() if line.startswith("scenario "))
    saved = Path(printed.split()[1])
    assert saved.parent == envbench_home() / "scenarios" and f"requirements: {requirements}" in saved.read_text()
    status, _, err = cli("run", saved, "--repetitions", "1", "--backend", "local", "--out", second)
    assert status == 0, err

    seeds = {"pip", "setuptools", "wheel"}  # what `python -m venv` puts in every env, asked for or not

    def package_sets(out: Path) -> dict:
        run = json.loads((out / "run.json").read_text())
        sets = {}
        for tool in ("uv", "pip-venv"):
            envs = run["tools"][tool]["layouts"]["same-volume"]["envs"]
            assert len(envs) == 3 and all(env["proved"] for env in envs.values()), envs
            sets[tool] = {
                project: sorted((p["name"], p["version"]) for p in env["packages"] if p["name"] not in seeds)
                for project, env in envs.items()
            }
        return sets

    wanted = [("fast-json", "1.0.0"), ("helper", "1.0"), ("tooling", "1.0.0"), ("web-app", "1.0.0")]
    sets = package_sets(first)
    # the extra's package is there, the Windows-only one is not, the constraint held helper below 2
    assert all(packages == wanted for tool in sets.values() for packages in tool.values()), sets
    assert package_sets(second) == sets


def test_a_constraint_twice_under_other_markers_is_refused_at_its_line(tmp_path):
    write(tmp_path / "c.txt", 'six<2\nsix>=1; python_version < "3.12"\n')
    write(tmp_path / "r.txt", "-c c.txt\nsix\n")
    with pytest.raises(ScenarioError) as caught:
        load(scenario_with(tmp_path, "requirements", "r.txt"))
    said = "c.txt:2: constraint: 'six' constrained twice, under other markers or extras: give one line"
    assert str(caught.value) == f"{tmp_path}/{said}"
