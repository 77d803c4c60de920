"""Every malformed scenario is refused with exit 2 and one exact line FILE:LINE: field: why."""

from __future__ import annotations

import pytest

from harness.scenario.parse import load

from .conftest import write

VALID = """
name: demo
description: two projects
python: "3.11"
tools: [pip-venv, uv]
repetitions: 2
indexes:
  cpu: https://download.pytorch.org/whl/cpu
projects:
  - name: app
    count: 2
    dependencies: [numpy>=1.26, "requests[socks]"]
    sources: {NumPy: cpu}
  - name: solo
    dependencies: [attrs]
"""


def test_valid_scenario_expands_projects(tmp_path):
    scenario = load(write(tmp_path / "s.yaml", VALID))
    assert [p.name for p in scenario.projects] == ["app-01", "app-02", "solo"]
    assert scenario.projects[0].dependencies == ("numpy>=1.26", "requests[socks]")
    assert scenario.projects[0].index_of("numpy") == "cpu"
    assert scenario.index_url("cpu") == "https://download.pytorch.org/whl/cpu"
    assert scenario.tools == ("pip-venv", "uv")
    assert scenario.python == "3.11"
    assert scenario.repetitions == 2


def test_synthetic_packages_and_checkpoints(tmp_path):
    text = VALID.replace("projects:", "checkpoints: [1, 2]\nsynthetic:\n  - {name: big, files: 3, file_size: 1024, binary: true,"
                         " dependencies: [small]}\n  - {name: small, version: '2.0'}\nprojects:")  # fmt: skip
    scenario = load(write(tmp_path / "s.yaml", text))
    assert [(p.name, p.version, p.files, p.file_size, p.binary, p.dependencies) for p in scenario.synthetic] == [
        ("big", "1.0.0", 3, 1024, True, ("small",)),
        ("small", "2.0", 10, 4096, False, ()),
    ]
    assert scenario.checkpoints == (1, 2)
    assert scenario.with_overrides(projects=2).checkpoints == (1,)


def test_variants_are_tools_of_their_own(tmp_path):
    declared = 'tools: [uv, uv-copy]\nvariants:\n  uv-copy: {tool: uv, env: {UV_LINK_MODE: "copy"}}'
    text = VALID.replace("tools: [pip-venv, uv]", declared)
    scenario = load(write(tmp_path / "s.yaml", text))
    assert scenario.tools == ("uv", "uv-copy")
    assert scenario.variant("uv-copy").tool == "uv" and scenario.variant("uv-copy").env == (("UV_LINK_MODE", "copy"),)
    everything = load(write(tmp_path / "t.yaml", text.replace("tools: [uv, uv-copy]\n", "")))
    assert everything.tools[-1] == "uv-copy"  # no tools key: every tool and every variant


def test_shipped_scenarios_are_valid():
    seed = load("scenarios/seed.yaml")
    assert len(seed.projects) == 20
    assert seed.projects[0].index_of("torch") == "pytorch-cpu"
    smoke = load("scenarios/smoke.yaml")
    assert 2 <= len(smoke.projects) <= 3


PROJECT = 'name: x\npython: "3.11"\nprojects:\n  - {name: a, count: 3, dependencies: [big]}\n'

CASES = [
    ("not-yaml", "name: x\nprojects: [\n", 3, "yaml", "not valid YAML"),
    ("not-mapping", "- a\n- b\n", 1, "scenario", "must be a mapping, not a list"),
    ("empty", "", 1, "scenario", "empty file"),
    ("unknown-key", 'name: x\npython: "3.11"\ncolour: red\nprojects: []\n', 3, "colour", "unknown key"),
    (
        "wrong-type",
        'name: x\npython: "3.11"\nrepetitions: many\nprojects: []\n',
        3,
        "repetitions",
        "must be an integer, not str 'many'",
    ),
    ("float-python", "name: x\npython: 3.10\nprojects: []\n", 2, "python", "YAML reads 3.10 as the float 3.1"),
    ("int-python", "name: x\npython: 3\nprojects: []\n", 2, "python", "must be a string, not int '3'"),
    (
        "group-float-python",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    python: 3.13\n    dependencies: [six]\n',
        5,
        "projects[0].python",
        "YAML reads 3.13 as the float 3.13",
    ),
    (
        "unknown-filesystem",
        'name: x\npython: "3.11"\nfilesystems: [xfs, zfs]\nprojects:\n  - name: a\n    dependencies: [six]\n',
        3,
        "filesystems[1]",
        "unknown file system 'zfs' (known: engine, ext4, xfs, btrfs)",
    ),
    (
        "count-zero",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    count: 0\n    dependencies: [six]\n',
        5,
        "projects[0].count",
        "must be at least 1, not 0",
    ),
    (
        "bad-requirement",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    dependencies:\n      - six\n      - "numpy>>1"\n',
        7,
        "projects[0].dependencies[1]",
        "'numpy>>1' is not a PEP 508 requirement",
    ),
    (
        "unknown-tool",
        'name: x\npython: "3.11"\ntools:\n  - uv\n  - npm\nprojects: []\n',
        5,
        "tools[1]",
        "unknown tool 'npm'",
    ),
    (
        "unknown-index",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    dependencies: [torch]\n    sources:\n      torch: cuda\n',
        7,
        "projects[0].sources.torch",
        "unknown index 'cuda' (indexes: none declared)",
    ),
    (
        "duplicate-project",
        'name: x\npython: "3.11"\nprojects:\n  - name: app\n    count: 2\n    dependencies: [six]\n'
        "  - name: app-02\n    dependencies: [six]\n",
        7,
        "projects[1].name",
        "project name 'app-02' repeats projects[0]",
    ),
    ("bad-name", 'name: My_Scenario\npython: "3.11"\nprojects: []\n', 1, "name", "'My_Scenario' must match [a-z0-9-]+"),
    (
        "bad-project-name",
        'name: x\npython: "3.11"\nprojects:\n  - name: App\n    dependencies: [six]\n',
        4,
        "projects[0].name",
        "'App' must match [a-z0-9-]+",
    ),
    (
        "missing-dependencies",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    count: 2\n',
        4,
        "projects[0].dependencies",
        "missing (required)",
    ),
    (
        "empty-dependencies",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    dependencies: []\n',
        5,
        "projects[0].dependencies",
        "empty list",
    ),
    ("missing-python", "name: x\nprojects: []\n", 1, "python", "missing (required)"),
    ("unknown-source", 'name: x\npython: "3.11"\nsource: cdn\nprojects: []\n', 3, "source", "unknown source 'cdn'"),
    ("duplicate-key", 'name: x\nname: y\npython: "3.11"\nprojects: []\n', 2, "name", "duplicate key"),
    (
        "bool-count",
        'name: x\npython: "3.11"\nprojects:\n  - name: a\n    count: yes\n    dependencies: [six]\n',
        5,
        "projects[0].count",
        "must be an integer, not bool",
    ),
    (
        "synthetic-bad-size",
        PROJECT + "synthetic:\n  - name: big\n    file_size: 0\n",
        7,
        "synthetic[0].file_size",
        "must be at least 1, not 0",
    ),
    (
        "synthetic-bad-binary",
        PROJECT + "synthetic:\n  - name: big\n    binary: 1\n",
        7,
        "synthetic[0].binary",
        "must be true or false, not int '1'",
    ),
    (
        "synthetic-bad-version",
        PROJECT + "synthetic:\n  - name: big\n    version: one\n",
        7,
        "synthetic[0].version",
        "'one' is not a PEP 440 version",
    ),
    (
        "synthetic-twice",
        PROJECT + "synthetic:\n  - name: big\n  - name: big\n",
        7,
        "synthetic[1].name",
        "synthetic package 'big' declared twice",
    ),
    (
        "synthetic-live",
        "source: live\n" + PROJECT + "synthetic:\n  - name: big\n",
        6,
        "synthetic",
        "served by the mirror, not with source: live",
    ),
    (
        "variant-unknown-tool",
        "variants:\n  uv-copy: {tool: uvx, env: {UV_LINK_MODE: copy}}\n" + PROJECT,
        2,
        "variants.uv-copy.tool",
        "unknown tool 'uvx'",
    ),
    (
        "variant-shadows-tool",
        "variants:\n  uv: {tool: uv, env: {UV_LINK_MODE: copy}}\n" + PROJECT,
        2,
        "variants.uv",
        "'uv' is already a tool's or another variant's name",
    ),
    (
        "variant-bool-value",
        "variants:\n  poetry-serial:\n    tool: poetry\n    env: {POETRY_INSTALLER_PARALLEL: false}\n" + PROJECT,
        4,
        "variants.poetry-serial.env.POETRY_INSTALLER_PARALLEL",
        "must be a string, not bool 'false'",
    ),
    (
        "variant-unknown-setting",
        "variants:\n  pdm-cache:\n    tool: pdm\n    settings: {install.cachee: \"true\"}\n" + PROJECT,
        4,
        "variants.pdm-cache.settings.install.cachee",
        "pdm has no setting 'install.cachee' envbench writes (settings: install.cache, install.cache_method)",
    ),
    (
        "variant-setting-value",
        "variants:\n  pdm-cache:\n    tool: pdm\n    settings: {install.cache_method: pth}\n" + PROJECT,
        4,
        "variants.pdm-cache.settings.install.cache_method",
        "'pth': one of symlink, hardlink",
    ),
    (
        "variant-setting-of-a-tool-without",
        "variants:\n  uv-x:\n    tool: uv\n    settings: {installer: uv}\n" + PROJECT,
        4,
        "variants.uv-x.settings.installer",
        "uv has no setting 'installer' envbench writes (settings: none)",
    ),
    (
        "variant-changes-nothing",
        "variants:\n  uv-same: {tool: uv}\n" + PROJECT,
        2,
        "variants.uv-same",
        "changes nothing: give env, settings or bytecode",
    ),
    (
        "variant-bytecode-without-option",
        "variants:\n  hatch-pyc: {tool: hatch, bytecode: skip}\n" + PROJECT,
        2,
        "variants.hatch-pyc.bytecode",
        "hatch has no option for 'skip' bytecode",
    ),
    (
        "clean-cache-not-bool",
        "clean_cache: yes please\n" + PROJECT,
        1,
        "clean_cache",
        "must be",
    ),
    (
        "tools-names-undeclared-variant",
        "tools: [uv, uv-copy]\n" + PROJECT,
        1,
        "tools[1]",
        "unknown tool 'uv-copy'",
    ),
    ("checkpoint-order", PROJECT + "checkpoints: [2, 1]\n", 5, "checkpoints[1]", "must be ascending: 1 follows 2"),
    ("checkpoint-all", PROJECT + "checkpoints: [1, 3]\n", 5, "checkpoints[1]", "must be below the 3 projects"),
]


@pytest.mark.parametrize("label,text,line,field,message", CASES, ids=[c[0] for c in CASES])
def test_malformed_scenario_exits_2_with_exact_line(tmp_path, cli, label, text, line, field, message):
    path = tmp_path / f"{label}.yaml"
    path.write_text(text)
    status, out, err = cli("run", path, "--backend", "local")
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    prefix = f"{path}:{line}: {field}: "
    assert lines[0].startswith(prefix), lines[0]
    assert message in lines[0][len(prefix) :]
    assert out == ""


def test_undecodable_bytes_name_their_line(tmp_path, cli):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b'name: x\npython: "3.11"\ndescription: caf\xe9\nprojects: []\n')
    status, _, err = cli("run", path)
    assert status == 2
    assert err.strip() == f"{path}:3: encoding: not UTF-8 (byte 0xe9)"


def test_missing_file_is_bad_input(tmp_path, cli):
    status, _, err = cli("run", tmp_path / "nope.yaml")
    assert status == 2
    assert err.strip() == f"{tmp_path / 'nope.yaml'}:1: file: No such file or directory"


def test_unknown_tool_on_command_line(tmp_path, cli):
    path = write(tmp_path / "s.yaml", VALID)
    status, _, err = cli("run", path, "--tools", "uv,npm")
    assert status == 2
    assert err.strip().startswith("--tools: unknown tool 'npm'")
