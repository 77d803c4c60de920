"""Lock files as scenario input (harness/scenario/locks.py): a uv.lock, poetry.lock and pylock.toml made in
the test by the real tools from synthetic wheels (served by the mirror's own index server, no
network), read back to the exact pinned set; every refusal with its exact line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.backends.images import tool_requirements
from harness.scenario import adhoc
from harness.scenario.parse import load
from harness.scenario.yamlnodes import ScenarioError
from harness.settings.home import pinned_venv

from .conftest import write

SCENARIO = """
name: own
python: "3.11"
projects:
  - name: svc
    lock: {file}
"""

PYPROJECT = """
[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["web-app[speed]", "helper<2", "win-only; sys_platform == 'win32'"]

[project.optional-dependencies]
cli = ["tooling"]
"""

PLAIN = ("fast-json==1.0.0", "helper==1.0", "web-app==1.0.0")  # the extra's package in, the Windows one out


def tool(name: str, python311: str) -> str:
    return str(pinned_venv(name, tool_requirements()[name], python311) / name)


def digests(folder: Path, *names: str) -> tuple:
    """(name, (sha256,)) of each wheel in FOLDER whose name starts with NAME-VERSION: what a lock records."""
    found = []
    for name in names:
        project, _, version = name.partition("==")
        [wheel] = folder.glob(f"{project.replace('-', '_')}-{version}-*.whl")
        found.append((project, (hashlib.sha256(wheel.read_bytes()).hexdigest(),)))
    return tuple(found)


def read(tmp_path: Path, file: str, groups: str = ""):
    text = SCENARIO.format(file=file) + (f"    groups: [{groups}]\n" if groups else "")
    return load(write(tmp_path / "s.yaml", text)).projects[0]


def clean_env(tmp_path: Path) -> dict:
    home = tmp_path / "tool-home"
    return {**os.environ, "UV_CACHE_DIR": str(home / "uv"), "POETRY_CACHE_DIR": str(home / "poetry"),
            "POETRY_CONFIG_DIR": str(home / "poetry-config"), "POETRY_VIRTUALENVS_PATH": str(home / "venvs"),
            "UV_NO_CONFIG": "1"}  # fmt: skip


def uv_export(uv: str, project: Path, tmp_path: Path, *flags: str) -> tuple[str, ...]:
    """The pinned set uv's own export of the lock gives, its markers evaluated for the target."""
    from packaging.requirements import Requirement

    from harness.settings.target import target_environment

    done = subprocess.run([uv, "export", "--frozen", "--format", "requirements.txt", "--no-hashes", "--no-default-groups",
                           "--no-emit-project", "--no-header", "--no-annotate", *flags], cwd=project,
                          env=clean_env(tmp_path), check=True, capture_output=True, text=True)  # fmt: skip
    found = [Requirement(line) for line in done.stdout.splitlines() if line.strip() and not line.startswith("#")]
    environment = target_environment("3.11")
    return tuple(sorted(f"{r.name}=={next(iter(r.specifier)).version}" for r in found
                        if r.marker is None or r.marker.evaluate(environment)))  # fmt: skip


def test_uv_lock_made_by_uv_gives_what_the_target_installs(tmp_path, served_pypi, folder_as_pypi, python311):
    project = tmp_path / "svc"
    write(project / "pyproject.toml", PYPROJECT + '\n[dependency-groups]\ndev = ["tooling"]\n')
    subprocess.run([tool("uv", python311), "lock", "--index-url", served_pypi, "--python", python311], cwd=project,
                   env=clean_env(tmp_path), check=True, capture_output=True)  # fmt: skip
    plain = read(tmp_path, "svc/uv.lock")
    assert plain.dependencies == PLAIN == uv_export(uv_bin := tool("uv", python311), project, tmp_path)
    for flags, group in ((["--extra", "cli"], "cli"), (["--group", "dev"], "dev")):  # what uv itself would install
        assert read(tmp_path, "svc/uv.lock", group).dependencies == uv_export(uv_bin, project, tmp_path, *flags)
    assert plain.hashes == digests(folder_as_pypi, *PLAIN)  # the index's sha256, as uv recorded them
    assert plain.sources == () and plain.origin == "lock: svc/uv.lock"
    assert read(tmp_path, "svc/uv.lock", "cli").dependencies == tuple(sorted((*PLAIN, "tooling==1.0.0")))
    assert read(tmp_path, "svc/uv.lock", "dev").dependencies == tuple(sorted((*PLAIN, "tooling==1.0.0")))
    with pytest.raises(ScenarioError) as caught:
        read(tmp_path, "svc/uv.lock", "docs")
    said = "s.yaml:6: projects[0].groups[0]: the lock has no optional group 'docs' (groups: cli, dev)"
    assert str(caught.value) == f"{tmp_path}/{said}"
    # the one-file command names the project as the lock does and takes Python from requires-python
    assert adhoc.project_name("lock", project / "uv.lock") == "svc"
    assert adhoc.python_for("lock", project / "uv.lock") == "3.11"


def test_poetry_lock_made_by_poetry(tmp_path, served_pypi, folder_as_pypi, python311, monkeypatch):
    project = tmp_path / "svc"
    write(project / "pyproject.toml", PYPROJECT + textwrap.dedent(f"""
        [tool.poetry]
        package-mode = false

        [tool.poetry.group.dev.dependencies]
        tooling = "*"

        [[tool.poetry.source]]
        name = "local"
        url = "{served_pypi}/"
        priority = "primary"
        """))  # fmt: skip
    subprocess.run([tool("poetry", python311), "lock", "--no-interaction"], cwd=project, env=clean_env(tmp_path),
                   check=True, capture_output=True)  # fmt: skip
    assert 'lock-version = "2.1"' in (project / "poetry.lock").read_text()
    plain = read(tmp_path, "svc/poetry.lock")
    assert plain.dependencies == PLAIN and plain.hashes == digests(folder_as_pypi, *PLAIN)
    assert plain.sources == ()  # the lock's index is the one standing in for PyPI
    assert read(tmp_path, "svc/poetry.lock", "cli").dependencies == tuple(sorted((*PLAIN, "tooling==1.0.0")))
    assert read(tmp_path, "svc/poetry.lock", "dev").dependencies == tuple(sorted((*PLAIN, "tooling==1.0.0")))
    # Another index than PyPI's: a named index, every package the lock takes from it pinned to it.
    monkeypatch.setenv("ENVBENCH_INDEX_PYPI", str(folder_as_pypi))
    scenario = load(write(tmp_path / "s.yaml", SCENARIO.format(file="svc/poetry.lock")))
    assert scenario.index_url("127-0-0-1-simple") == served_pypi
    assert {scenario.projects[0].index_of(name.partition("==")[0]) for name in PLAIN} == {"127-0-0-1-simple"}


def test_pylock_made_by_uv_export(tmp_path, served_pypi, folder_as_pypi, python311):
    project = tmp_path / "svc"
    write(project / "pyproject.toml", PYPROJECT)
    uv = tool("uv", python311)
    for argv in (["lock"], ["export", "--format", "pylock.toml", "--extra", "cli", "-o", "pylock.toml"]):
        subprocess.run([uv, *argv, "--index-url", served_pypi, "--python", python311], cwd=project,
                       env=clean_env(tmp_path), check=True, capture_output=True)  # fmt: skip
    lock = read(tmp_path, "svc/pylock.toml")
    assert lock.dependencies == tuple(sorted((*PLAIN, "tooling==1.0.0")))
    assert lock.hashes == digests(folder_as_pypi, *lock.dependencies)


UV_HEAD = 'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n[[package]]\nname = "app"\nversion = "0.1.0"\n'
ROOT = UV_HEAD + 'source = {{ virtual = "." }}\ndependencies = [{{ name = "lib"{marker} }}]\n\n'
LIB = '[[package]]\nname = "lib"\nversion = "1.0"\nsource = {source}\n'
PYPI_LIB = LIB.format(source='{ registry = "https://pypi.org/simple" }')
POETRY_LIB = """[[package]]
name = "lib"
version = "1.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []
{source}
[metadata]
lock-version = "{version}"
python-versions = ">=3.11"
content-hash = "0"
"""

REFUSED = [
    ("uv.lock", ROOT.format(marker="") + LIB.format(source='{ git = "https://github.com/a/lib?rev=1#1" }'),
     "uv.lock:14: source: lib comes from a git checkout: the mirror serves index releases only"),
    ("uv.lock", ROOT.format(marker="") + LIB.format(source='{ editable = "packages/lib" }'),
     "uv.lock:14: source: lib comes from a local tree (editable): the mirror serves index releases only"),
    ("uv.lock", ROOT.format(marker="") + LIB.format(source='{ url = "https://example.com/lib-1.0.tar.gz" }'),
     "uv.lock:14: source: lib comes from a direct URL: the mirror serves index releases only"),
    ("uv.lock", UV_HEAD + 'source = { registry = "https://pypi.org/simple" }\n',
     "uv.lock:1: package: no project at '.' (source = { virtual = \".\" } or { editable = \".\" })"),
    ("uv.lock", ROOT.format(marker=', marker = "os_name =! \'nt\'"') + PYPI_LIB,
     "uv.lock:5: dependencies.marker: \"os_name =! 'nt'\" is not a PEP 508 marker: Expected marker operator, "
     "one of <=, <, !=, ==, >=, >, ~=, ===, in, not in"),
    ("uv.lock", ROOT.format(marker=', marker = "sys_platform == \'win32\'"') + PYPI_LIB,
     "uv.lock:1: package: the lock installs no package on this target"),
    ("uv.lock", ROOT.format(marker="") + PYPI_LIB.replace('"lib"', '"other"'),
     "uv.lock:5: dependencies: lib is not a package of the lock"),
    ("poetry.lock", POETRY_LIB.format(source="", version="2.0"),
     "poetry.lock:11: metadata.lock-version: 2.0 records no groups per package: run `poetry lock` with Poetry 2 "
     "(lock-version 2.1)"),
    ("poetry.lock", POETRY_LIB.format(source='\n[package.source]\ntype = "directory"\nurl = "../lib"\n', version="2.1"),
     "poetry.lock:11: package.source: lib comes from a local directory: the mirror serves index releases only"),
    ("pylock.toml", 'lock-version = "1.0"\ncreated-by = "me"\n\n[[packages]]\nname = "lib"\n'
     '[packages.vcs]\ntype = "git"\nurl = "https://github.com/a/lib"\ncommit-id = "1"\n',
     "pylock.toml:4: packages: lib comes from a VCS checkout: the mirror serves index releases only"),
    ("pylock.toml", 'lock-version = "2.0"\ncreated-by = "me"\npackages = []\n',
     "pylock.toml:1: pylock: not a valid pylock.toml (PEP 751): pylock version 2.0 is not supported"),
    ("Pipfile.lock.toml", 'title = "not a lock"\n',
     "Pipfile.lock.toml:1: lock: not a lock envbench reads: give a uv.lock, poetry.lock or pylock.toml"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "error"), REFUSED, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(REFUSED)])
def test_what_a_lock_cannot_have_honoured_is_refused_at_its_line(tmp_path, name, text, error):
    write(tmp_path / name, text)
    with pytest.raises(ScenarioError) as caught:
        read(tmp_path, name)
    assert str(caught.value) == f"{tmp_path}/{error}"
