"""Every adapter, for real: each tool installs the same mirrored closure in every state.

Synthetic wheels only (no network): a stack served as the mirror's PyPI and one package pinned
to a named index, served from a folder as a user's private index would be.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.record.model import Run
from harness.report.matrix import matrix_tables
from harness.report.table import markdown

from .conftest import make_private_index, nix_here, write

SCENARIO = """
name: every-tool
python: "3.11"
repetitions: 1
indexes:
  private: https://private.example.invalid/simple
synthetic:
  - {name: stack, files: 6, file_size: 131072, binary: true, dependencies: [stack-base>=1]}
  - {name: stack-base, version: "1.2", files: 12}
projects:
  - name: app
    count: 2
    dependencies: [stack, inhouse>=2]
    sources: {inhouse: private}
"""
RUNNABLE = ("pip-venv", "virtualenv", "pip-tools", "uv", "uv-project", "poetry", "pdm", "pipenv", "hatch", "rattler", "nix")
LOCKING = ("pip-tools", "uv-project", "poetry", "pdm", "pipenv", "rattler", "nix")
LINKING = ("uv", "uv-project", "rattler")  # hard links from their caches (the engine's file systems cannot clone)
SYMLINKING = ("nix",)  # the project's GC root into the store


def check_every_tool(out, backend: str) -> None:
    run = json.loads((out / "run.json").read_text())
    statuses = {tool: info["status"] for tool, info in run["tools"].items()}
    unavailable = {"conda": "unavailable", "pixi": "unavailable"}
    if backend == "local" and not nix_here():
        unavailable["nix"] = "unavailable"
        assert "apt-get install nix-bin" in run["tools"]["nix"]["reason"]
    assert statuses == {**dict.fromkeys(RUNNABLE, "ok"), **unavailable}, run["failures"]
    assert "ENVBENCH_MICROMAMBA" in run["tools"]["conda"]["reason"] and "ENVBENCH_PIXI" in run["tools"]["pixi"]["reason"]
    assert "a stand-in" in run["tools"]["nix"].get("stand_in", "a stand-in")
    for tool in [t for t in RUNNABLE if t not in unavailable]:
        entry = run["tools"][tool]["layouts"]["same-volume"]
        assert all(env["proved"] for env in entry["envs"].values()) and len(entry["envs"]) == 2, tool
        ran = {(s["state"], s["operation"]) for s in entry["steps"] if s["project"] == "app-01"}
        if tool in LOCKING:
            assert {state for state, _ in ran} == {"cold", "warm", "locked", "warm+locked"}, tool
            assert ("locked", "lock") not in ran and ("warm+locked", "lock") not in ran  # the lock file is kept
            assert ("cold", "lock") in ran and ("warm", "lock") in ran
        else:
            assert {state for state, _ in ran} == {"cold", "warm"}, tool
        expected = "hardlink" if tool in LINKING else "symlink" if tool in SYMLINKING else "copy"
        assert entry["link_mode"] == expected, (tool, backend)
        # Nothing a step starts outlives it (virtualenv's periodic update did, under virtualenv,
        # Pipenv and Hatch, until VIRTUALENV_NO_PERIODIC_UPDATE): no step's work spills into the next.
        assert not [s["left_running"] for s in entry["steps"] if s.get("left_running")], tool
    # The same closure everywhere: each tool's envs hold the same files of the same packages.
    with open(out / "packages.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["name"] in ("stack", "stack-base", "inhouse")]
    by_tool: dict[str, set] = {}
    for row in rows:
        by_tool.setdefault(row["tool"], set()).add((row["name"], row["version"], row["sha256"]))
    assert set(by_tool) == set(RUNNABLE) - set(unavailable)
    assert len({frozenset(found) for found in by_tool.values()}) == 1
    assert {(name, version) for name, version, _ in next(iter(by_tool.values()))} == {
        ("stack", "1.0.0"), ("stack-base", "1.2"), ("inhouse", "2.1"),
    }  # fmt: skip
    check_time_matrix(run, (out / "tables.md").read_text(), [t for t in RUNNABLE if t not in unavailable])


def check_time_matrix(run: dict, tables_md: str, runnable: list[str]) -> None:
    """pnpm's pivot: a column per runnable tool, a row per (state, operation) some tool has."""
    (matrix,) = matrix_tables(Run.from_json(run))  # one layout
    assert markdown(matrix) in tables_md
    assert matrix.headers == ("state", "operation", *runnable)
    rows = {(state, operation): dict(zip(runnable, cells, strict=True)) for state, operation, *cells in matrix.rows}
    assert all(set(cells.values()) != {"n/a"} for cells in rows.values())
    # No tool locks again when its lock file is kept, so those rows are absent altogether.
    assert set(rows) == {(s, o) for s in ("cold", "warm", "locked", "warm+locked") for o in ("lock", "install")} - {
        ("locked", "lock"), ("warm+locked", "lock"),
    }  # fmt: skip
    timed = re.compile(r"^\d+\.\d\d \(n=1\)$")  # repetitions: 1
    for tool in runnable:
        assert timed.match(rows[("cold", "install")][tool]), (tool, rows[("cold", "install")])
        assert timed.match(rows[("locked", "install")][tool]) if tool in LOCKING else rows[("locked", "install")][tool] == "n/a"
        assert timed.match(rows[("cold", "lock")][tool]) if tool in LOCKING else rows[("cold", "lock")][tool] == "n/a"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, tool_venvs) -> tuple[Path, str]:
    """Every tool on the local backend, with bytecode: skip (the containers' run keeps each tool's
    default): its folder and what it said on stderr. The bytecode test sets compile against it."""
    base = tmp_path_factory.mktemp("every-tool-local")
    patch = pytest.MonkeyPatch()
    make_private_index(base / "private", patch)
    patch.setenv("ENVBENCH_WORK", str(base / "work"))
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            status = main(["run", str(write(base / "s.yaml", SCENARIO + "bytecode: skip\n")), "--backend", "local",
                           "--out", str(base / "out")])  # fmt: skip
    finally:
        patch.undo()
    assert status == 0, said.getvalue()[-3000:]
    return base / "out", said.getvalue()


def test_every_tool_locally(local_run):
    out, err = local_run
    check_every_tool(out, "local")
    said = " ".join(err.split())  # the console wraps its lines
    # The plan before the first step, then where the run stands as each unit begins.
    assert re.search(r"plan: 13 units \(13 run on this backend\), \d+ cells, about \d+ (min|s)[ ,]", said), said[:600]
    assert said.index("plan: ") < said.index("setting up") and "setting up; unit 13 of 13, " in said


@pytest.mark.docker
def test_every_tool_in_containers(tmp_path, private_index, docker_client, tools_image, cli):
    status, _, err = cli("run", write(tmp_path / "s.yaml", SCENARIO), "--backend", "docker", "--out", tmp_path / "out")
    assert status == 0, err
    check_every_tool(tmp_path / "out", "docker")
    check_index_traffic(tmp_path / "out")


def check_index_traffic(out) -> None:
    """What each step fetched, from the mirror's access log: a cold install at least the wheels
    it installs; a cold lock by uv only pages and PEP 658 metadata, far less than the wheels."""
    run = json.loads((out / "run.json").read_text())
    assert {"pep691-json", "pep658-core-metadata", "https"} <= set(run["mirror"]["server"]["features"])
    installed = [f for f in run["mirror"]["files"] if f["filename"].endswith(".whl") and f.get("role", "install") == "install"]
    wheels = sum(f["size"] for f in installed)
    with open(out / "timings.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["layout"] == "same-volume" and r["project"] == "app-01"]
    assert rows and all(r["requests"] != "" and r["fetched_bytes"] != "" for r in rows if r["tool"] != "rattler")
    fetched = {(r["tool"], r["state"], r["operation"]): int(r["fetched_bytes"] or 0) for r in rows}
    for tool in set(RUNNABLE) - {"rattler"}:  # rattler installs from the converted channel, not the index
        # (nix: its lock step is pip's resolution, its install nix's own fetchurl of each wheel)
        assert fetched[(tool, "cold", "install")] >= wheels or fetched.get((tool, "cold", "lock"), 0) >= wheels, tool
    assert 0 < fetched[("uv-project", "cold", "lock")] < wheels / 5, (fetched[("uv-project", "cold", "lock")], wheels)


COMPILING = ("pip-venv", "virtualenv", "pip-tools", "uv", "uv-project", "poetry", "nix")  # the tools with an option


def test_bytecode_compile_and_skip_turn_every_tools_own_option(local_run, tmp_path, private_index, isolated_work, cli):
    """bytecode: compile gives every env more .pyc than bytecode: skip (the every-tool run), for
    each tool that has an option (what is left under skip is the seeded pip's own bytecode,
    which no option reaches)."""
    pyc, said = {}, {}
    compiling = [tool for tool in COMPILING if tool != "nix" or nix_here()]
    scenario = write(tmp_path / "compile.yaml", SCENARIO + "bytecode: compile\n")
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", ",".join(compiling), "--quick",
                         "--projects", "1", "--out", tmp_path / "compile")  # fmt: skip
    assert status == 0, err
    for mode, out in (("compile", tmp_path / "compile"), ("skip", local_run[0])):
        run = json.loads((out / "run.json").read_text())
        for tool in compiling:
            envs = run["tools"][tool]["layouts"]["same-volume"]["envs"].values()
            pyc[(tool, mode)] = [env["pyc_files"] for env in envs]
            said[(tool, mode)] = run["tools"][tool]["bytecode"]
    for tool in compiling:
        assert min(pyc[(tool, "compile")]) > max(pyc[(tool, "skip")]), (tool, pyc[(tool, "compile")], pyc[(tool, "skip")])
        assert said[(tool, "compile")].startswith("compile: ") and "no option" not in said[(tool, "compile")], tool
        assert said[(tool, "skip")].startswith("skip: ") and "no option" not in said[(tool, "skip")], tool
