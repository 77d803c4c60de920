"""`envbench run --backend local`: real pip and uv install synthetic wheels, offline."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pyperf
import pytest

from harness.cli.main import main
from harness.record.logs import read_log
from harness.record.model import Run
from harness.record.overhead import overlaps, timed_spans
from harness.report import DISK_FIELDS, PACKAGE_FIELDS, TIMING_FIELDS, TOOL_FIELDS

from .conftest import sigint_as_a_terminal_sends_it, wait_for_first_step, write

PROJECTS = 3
REPETITIONS = 2


def scenario_text(wheelhouse: Path, dependencies: str = "[alpha, gamma]", extra: str = "") -> str:
    return f"""
    name: synth
    description: synthetic wheels, offline
    python: "3.11"
    repetitions: {REPETITIONS}
    wheelhouse: {wheelhouse}
    projects:
      - name: app
        count: {PROJECTS}
        dependencies: {dependencies}
    {extra}
    """


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, wheelhouse, tool_venvs) -> tuple[int, Path, Path]:
    base = tmp_path_factory.mktemp("run")
    scenario = write(base / "synth.yaml", scenario_text(wheelhouse))
    out, work = base / "out", base / "work"
    os.environ["ENVBENCH_WORK"] = str(work)
    try:
        status = main(["run", str(scenario), "--backend", "local", "--tools", "pip-venv,uv", "--out", str(out)])
    finally:
        del os.environ["ENVBENCH_WORK"]
    return status, out, work


def test_run_succeeds_and_proves_every_env(finished_run):
    status, out, work = finished_run
    assert status == 0
    run = json.loads((out / "run.json").read_text())
    assert run["schema"] == 1 and run["status"] == "complete"
    assert run["failures"] == []
    for tool in ("pip-venv", "uv"):
        assert run["tools"][tool]["status"] == "ok"
        info = run["tools"][tool]["layouts"]["same-volume"]
        assert info["status"] == "ok"
        assert sorted(info["envs"]) == ["app-01", "app-02", "app-03"]
        for env in info["envs"].values():
            assert env["proved"]
            assert env["imports"] == {"alpha": None, "gamma": None}
    assert not any(work.iterdir()), "the tool trees are removed after scanning"


def test_uv_shares_what_pip_venv_copies(finished_run):
    _, out, _ = finished_run
    run = json.loads((out / "run.json").read_text())
    pip, uv = (run["tools"][tool]["layouts"]["same-volume"] for tool in ("pip-venv", "uv"))
    assert uv["link_mode"] == "hardlink" and pip["link_mode"] == "copy"
    assert uv["disk"]["total"]["physical_bytes"] < pip["disk"]["total"]["physical_bytes"]

    def marginal(info):
        return [r["marginal_bytes"] for r in info["disk"]["roots"] if r["scope"].startswith("app-")]

    assert max(marginal(uv)) < min(marginal(pip))
    # The synthetic payload (about 1.3 MiB) sits in each pip env and only once for uv.
    assert min(marginal(pip)) > 1024 * 1024
    assert uv["disk"]["total"]["sharing_ratio"] > 1.5 > pip["disk"]["total"]["sharing_ratio"]


def test_each_env_records_the_bytecode_its_tool_compiled(finished_run):
    """pip compiles at install by default, uv does not: every env says how many .pyc it holds."""
    _, out, _ = finished_run
    run = json.loads((out / "run.json").read_text())
    pip, uv = (run["tools"][tool]["layouts"]["same-volume"]["envs"] for tool in ("pip-venv", "uv"))
    assert all(env["pyc_files"] > 0 and env["pyc_bytes"] > 0 for env in pip.values())
    assert all(env["pyc_files"] == 0 and env["pyc_bytes"] == 0 for env in uv.values())
    assert "## Bytecode in the envs" in (out / "tables.md").read_text()


def test_the_bytecode_key_turns_each_tools_own_option(finished_run, tmp_path, wheelhouse, isolated_work, cli):
    """bytecode: compile makes uv compile (--compile-bytecode), skip makes pip not compile
    (--no-compile): fewer .pyc than pip's default, where only the seeded pip's own remain."""
    _, default_out, _ = finished_run
    default = json.loads((default_out / "run.json").read_text())["tools"]["pip-venv"]["layouts"]["same-volume"]["envs"]
    found = {}
    for mode, tool in (("compile", "uv"), ("skip", "pip-venv")):
        scenario = write(tmp_path / f"{mode}.yaml", scenario_text(wheelhouse, extra=f"bytecode: {mode}"))
        status, _, err = cli("run", scenario, "--backend", "local", "--tools", tool, "--quick", "--out", tmp_path / mode)
        assert status == 0, err
        run = json.loads((tmp_path / mode / "run.json").read_text())
        found[mode] = run["tools"][tool]
    assert found["compile"]["bytecode"] == "compile: --compile-bytecode"
    assert all(env["pyc_files"] > 0 for env in found["compile"]["layouts"]["same-volume"]["envs"].values())
    assert found["skip"]["bytecode"] == "skip: --no-compile"
    skipped = found["skip"]["layouts"]["same-volume"]["envs"]
    assert max(env["pyc_files"] for env in skipped.values()) < min(env["pyc_files"] for env in default.values())


def test_outputs_have_the_contract_columns(finished_run):
    _, out, _ = finished_run
    fields, tools = read_csv(out / "tools.csv")
    assert fields == TOOL_FIELDS == ["tool", "version", "link_mode", "status", "reason"]
    assert {(r["tool"], r["status"]) for r in tools} == {("pip-venv", "ok"), ("uv", "ok")}
    assert next(r for r in tools if r["tool"] == "uv")["version"] == "0.13.9"

    fields, disk = read_csv(out / "disk.csv")
    assert fields == DISK_FIELDS
    scopes = {(r["tool"], r["scope"]) for r in disk}
    for tool in ("pip-venv", "uv"):
        assert {(tool, s) for s in ("total", "cache", "app-01", "app-02", "app-03")} <= scopes

    fields, timings = read_csv(out / "timings.csv")
    assert fields == TIMING_FIELDS
    # Each repetition: the first project cold and warm (no lock file: no locked states);
    # repetition 1 also makes the other projects (warm). Two steps each: venv, install.
    cells = REPETITIONS * 2 + (PROJECTS - 1)
    assert len(timings) == 2 * cells * 2  # tools × cells × (venv, install)
    assert {(r["state"], r["repetition"]) for r in timings if r["project"] == "app-01"} == {
        (state, str(rep)) for state in ("cold", "warm") for rep in range(1, REPETITIONS + 1)
    }
    assert {(r["state"], r["repetition"]) for r in timings if r["project"] != "app-01"} == {("warm", "1")}
    assert all(float(r["wall_s"]) > 0 and r["exit_code"] == "0" for r in timings)

    fields, packages = read_csv(out / "packages.csv")
    assert fields == PACKAGE_FIELDS
    digests = {}
    for row in packages:
        if row["name"] in ("alpha", "beta", "gamma"):
            digests.setdefault(row["name"], set()).add((row["version"], row["sha256"]))
            assert int(row["installed_bytes"]) > 0
    # Every tool installed the same wheels in every project: one digest per package.
    assert {name: len(found) for name, found in digests.items()} == {"alpha": 1, "beta": 1, "gamma": 1}

    suite = pyperf.BenchmarkSuite.load(str(out / "timings.pyperf.json"))
    names = set(suite.get_benchmark_names())
    assert "uv/same-volume/warm/install" in names
    # The time matrix is the first project's: one value per repetition.
    assert suite.get_benchmark("uv/same-volume/warm/install").get_nvalue() == REPETITIONS
    stats = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(out / "timings.pyperf.json")], capture_output=True, text=True
    )
    assert stats.returncode == 0, stats.stderr

    tables = (out / "tables.md").read_text()
    assert "| tool | layout | version | link mode |" in tables and "marginal MiB/project" in tables


def test_pyperf_compare_to_reads_two_runs(finished_run, tmp_path, wheelhouse, isolated_work, cli):
    _, first, _ = finished_run
    scenario = write(tmp_path / "s.yaml", scenario_text(wheelhouse))
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "uv", "--projects", "1", "--out", tmp_path / "b")
    assert status == 0, err
    compared = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", "--table", str(first / "timings.pyperf.json"),
         str(tmp_path / "b" / "timings.pyperf.json")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert "uv/same-volume/cold/install" in compared.stdout and "uv/same-volume/warm/install" in compared.stdout
    suite = json.loads((tmp_path / "b" / "timings.pyperf.json").read_text())
    assert suite["metadata"] == {"unit": "second"}  # seconds, and none of the host's facts (hostname, CPU, ...)
    assert all(set(bench["metadata"]) == {"name"} for bench in suite["benchmarks"])


def test_report_rewrites_outputs_from_run_json(finished_run, cli):
    _, out, _ = finished_run
    before = {name: (out / name).read_text() for name in ("tools.csv", "disk.csv", "timings.csv", "packages.csv", "tables.md")}
    for name in before:
        (out / name).unlink()
    status, stdout, _ = cli("report", out)
    assert status == 0
    assert {name: (out / name).read_text() for name in before} == before
    assert "pip-venv" in stdout and "uv" in stdout


def test_failed_install_is_recorded_and_the_run_goes_on(tmp_path, wheelhouse, tool_venvs, isolated_work, cli):
    text = scenario_text(
        wheelhouse,
        extra="""
      - name: broken
        dependencies: [alpha, delta]
    """,
    )
    scenario = write(tmp_path / "s.yaml", text)
    status, stdout, _ = cli(
        "run", scenario, "--backend", "local", "--tools", "uv", "--repetitions", "1", "--out", tmp_path / "out"
    )
    assert status == 1
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    [failure] = run["failures"]
    assert failure["tool"] == "uv" and failure["project"] == "broken" and failure["what"] == "install"
    assert "delta" in failure["tail"]
    assert sorted(run["tools"]["uv"]["layouts"]["same-volume"]["envs"]) == [
        "app-01",
        "app-02",
        "app-03",
    ]  # the others were measured
    _, tools = read_csv(tmp_path / "out" / "tools.csv")
    assert tools[0]["status"] == "failed" and "exited" in tools[0]["reason"]
    # 3 of 4 envs: no figure in the main table may make the tool look cheap.
    assert "3/4" in stdout
    row = next(
        line for line in (tmp_path / "out" / "tables.md").read_text().splitlines() if line.startswith("| uv | same-volume |")
    )
    assert row.count("not measured") == 6 and "| 3/4 |" in row
    # Each failure says where: the same install fails in each state, a row each.
    tables = (tmp_path / "out" / "tables.md").read_text()
    assert "| tool | layout | project | state | repetition | what | reason | last output |" in tables
    assert f"| uv | same-volume | broken | {failure['state']} | {failure['repetition']} | install |" in tables


@pytest.mark.parametrize(
    "source,said",
    [
        ("live", "index nowhere (http://127.0.0.1:9/simple/) is unreachable from here"),
        ("mirror", "the mirror could not be made: index nowhere (http://127.0.0.1:9/simple): resolving alpha failed"),
    ],
)
def test_unreachable_index_is_said_not_crashed(tmp_path, tool_venvs, isolated_work, cli, source, said):
    scenario = write(
        tmp_path / "s.yaml",
        f"""
    name: offline
    python: "3.11"
    source: {source}
    indexes:
      nowhere: http://127.0.0.1:9/simple
    projects:
      - name: app
        dependencies: [alpha]
        sources: {{alpha: nowhere}}
    """,
    )
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "uv", "--quick", "--out", tmp_path / "out")
    assert status == 1
    assert said in " ".join(err.split())
    if source == "mirror":  # no project can get its packages: nothing runs, the cause alone is said
        assert err.count("\n") == 1 and not (tmp_path / "out").exists()
        return
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["tools"]["uv"]["status"] == "failed"
    assert run["tools"]["uv"]["layouts"]["same-volume"]["steps"] == []
    row = next(
        line for line in (tmp_path / "out" / "tables.md").read_text().splitlines() if line.startswith("| uv | same-volume |")
    )
    assert "0.0" not in row and row.count("not measured") == 6


def test_unavailable_tool_is_said_not_failed(tmp_path, wheelhouse, tool_venvs, isolated_work, cli, monkeypatch):
    """Also: a relative --out and scenario path, as `nox -s bench` gives them."""
    write(tmp_path / "s.yaml", scenario_text(wheelhouse))
    monkeypatch.chdir(tmp_path)
    status, _, _ = cli("run", "s.yaml", "--backend", "local", "--tools", "uv,pixi", "--quick", "--out", "out")
    assert status == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["tools"]["uv"]["status"] == "ok"
    step_log = run["tools"]["uv"]["layouts"]["same-volume"]["steps"][0]["log"]
    assert step_log == "logs/uv/same-volume/r1-app-01-cold-venv.log" and not (tmp_path / "out" / step_log).exists()
    assert read_log(tmp_path / "out", step_log) is not None  # packed with every passing step's log into logs.tar.gz
    _, tools = read_csv(tmp_path / "out" / "tools.csv")
    pixi = next(r for r in tools if r["tool"] == "pixi")
    assert pixi["status"] == "unavailable" and "no pixi binary: set ENVBENCH_PIXI" in pixi["reason"]


def test_sigint_keeps_finished_cells_and_cleans_up(tmp_path, wheelhouse, tool_venvs):
    scenario = write(tmp_path / "s.yaml", scenario_text(wheelhouse))
    out, work = tmp_path / "out", tmp_path / "work"
    env = {**os.environ, "ENVBENCH_WORK": str(work)}
    child = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(scenario), "--backend", "local", "--tools", "pip-venv", "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_a_terminal_sends_it,
    )
    wait_for_first_step(out, "pip-venv")
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted"
    assert run["tools"]["pip-venv"]["layouts"]["same-volume"]["steps"], "the finished step is kept"
    assert (out / "timings.csv").exists()
    assert not work.exists() or not any(work.iterdir()), "the tool tree is removed"


SYNTHETIC_RUN = """
name: growth
python: "3.11"
repetitions: 1
checkpoints: [1, 2]
synthetic:
  - {name: heavy, files: 8, file_size: 262144, binary: true, dependencies: [light]}
  - {name: light, files: 20}
projects:
  - name: app
    count: 3
    dependencies: [heavy]
"""


def test_synthetic_stack_through_the_mirror_with_growth_checkpoints(tmp_path, tool_venvs, isolated_work, cli):
    scenario = write(tmp_path / "s.yaml", SYNTHETIC_RUN)
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "pip-venv,uv", "--out", tmp_path / "out")
    assert status == 0, err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert {w["name"] for w in run["mirror"]["files"]} == {"heavy", "light"}
    assert run["mirror"]["estimate"]["needed_bytes"] > 4 * run["mirror"]["unpacked_bytes"]
    for tool in ("pip-venv", "uv"):  # the real peak, the file system's own count, beside the estimate
        entry = run["tools"][tool]["layouts"]["same-volume"]
        # Sampled when every env existed, before the scan: at least what the scan then counted
        # (more when something else writes to that file system meanwhile).
        assert entry["disk"]["total"]["physical_bytes"] <= entry["disk_peak_bytes"]
    for tool in ("pip-venv", "uv"):
        entry = run["tools"][tool]["layouts"]["same-volume"]
        assert all(env["proved"] for env in entry["envs"].values()) and len(entry["envs"]) == 3
        growth = entry["growth"]
        assert [p["projects"] for p in growth] == [1, 2, 3]
        assert growth[-1]["physical_bytes"] == entry["disk"]["total"]["physical_bytes"]
        sizes = [p["physical_bytes"] for p in growth]
        assert sizes[0] < sizes[1] < sizes[2]
    pip_growth = run["tools"]["pip-venv"]["layouts"]["same-volume"]["growth"]
    uv_growth = run["tools"]["uv"]["layouts"]["same-volume"]["growth"]
    # Each pip env holds its own 2 MiB payload; a uv env links it from the cache.
    assert pip_growth[2]["physical_bytes"] - pip_growth[1]["physical_bytes"] > 2 * 1024 * 1024
    assert uv_growth[2]["physical_bytes"] - uv_growth[1]["physical_bytes"] < 1024 * 1024
    # With room on the disk, pip's envs stay while uv's fleet is made and go beside uv's
    # proofs and scans (never in a timed cell); uv's peak above still counts only uv's own
    # writes (the removals' frees are taken off it: diskspace.DiskWatch.apart).
    uv_fleet = [s["span"] for s in run["tools"]["uv"]["layouts"]["same-volume"]["steps"] if s["fleet"]]
    pip_removals = [j for j in run["concurrent"] if j["what"].startswith("remove pip-venv/same-volume/")]
    assert len(pip_removals) == 2 and min(j["start"] for j in pip_removals) < max(end for _, end in uv_fleet)
    assert overlaps(run["concurrent"], timed_spans(Run.from_json(run))) == []
    payload = 8 * 262144  # what each pip env's copy of heavy holds: freed inside uv's windows
    assert run["tools"]["uv"]["layouts"]["same-volume"]["disk_apart_bytes"] <= -2 * payload
    tables = (tmp_path / "out" / "tables.md").read_text()
    assert "## How disk grows with projects" in tables and "| uv | same-volume | 3 |" in tables
    assert "## Disk the run needed" in tables


def test_run_that_would_fill_the_disk_is_refused(tmp_path, tool_venvs, isolated_work, cli, monkeypatch):
    from harness.backends.local import LocalBackend

    monkeypatch.setattr(LocalBackend, "free_space", lambda self: ("/somewhere", 10**9))
    scenario = write(tmp_path / "s.yaml", SYNTHETIC_RUN)
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "uv", "--out", tmp_path / "out")
    assert status == 2
    [line] = [line for line in err.splitlines() if "needs about" in line]
    assert line.startswith(f"{scenario}: needs about ") and "GB free at /somewhere" in line and "1.0 GB are free" in line
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["status"] == "refused" and run["tools"] == {}


def test_a_variant_is_measured_under_its_own_name(tmp_path, wheelhouse, tool_venvs, isolated_work, cli):
    extra = "variants:\n      uv-copy: {tool: uv, env: {UV_LINK_MODE: copy}}"
    scenario = write(tmp_path / "s.yaml", scenario_text(wheelhouse, extra=extra))
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "uv,uv-copy", "--quick", "--out", tmp_path / "out")
    assert status == 0, err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["tools"]["uv-copy"]["variant"] == {"of": "uv", "env": {"UV_LINK_MODE": "copy"}}
    assert run["tools"]["uv-copy"]["version"] == run["tools"]["uv"]["version"] == "0.13.9"
    modes = {tool: run["tools"][tool]["layouts"]["same-volume"]["link_mode"] for tool in ("uv", "uv-copy")}
    assert modes == {"uv": "hardlink", "uv-copy": "copy"}  # the setting, seen by the scan


def test_proofs_run_side_by_side_and_never_overlap_a_timed_cell(finished_run):
    _, out, _ = finished_run
    run = json.loads((out / "run.json").read_text())
    jobs = run["concurrent"]
    spans = timed_spans(Run.from_json(run))
    assert spans and all(span["start"] <= span["end"] for span in spans)
    proofs = {job["what"]: job for job in jobs if job["lane"] == "probe"}
    removals = {job["what"]: job for job in jobs if job["lane"] == "remove" and "sandbox" not in job["what"]}
    sandboxes = {job["what"]: job for job in jobs if job["lane"] == "remove" and "sandbox" in job["what"]}
    tools = ("pip-venv", "uv")
    assert sorted(proofs) == sorted(f"prove {t}/same-volume/app-0{i}" for t in tools for i in range(1, PROJECTS + 1))
    # each env is proved while the fleet goes on, right after the cells that made it (one per
    # core at a time), before the next fleet cell starts
    width = min(8, os.cpu_count() or 1)
    for tool in tools:
        fleet = [s for s in run["tools"][tool]["layouts"]["same-volume"]["steps"] if s["fleet"]]
        for i in range(1, PROJECTS + 1):
            last = min(PROJECTS, ((i - 1) // width + 1) * width)  # the batch's last project
            proved = proofs[f"prove {tool}/same-volume/app-0{i}"]
            assert proved["start"] >= max(s["span"][1] for s in fleet if s["project"] == f"app-0{last}")
            if last < PROJECTS:
                assert proved["end"] <= min(s["span"][0] for s in fleet if s["project"] == f"app-0{last + 1}")
    # every env but the first (the matrix's) is removed after its tool's fleet, so after its
    # proof; each tool's sandbox once its envs are gone and its last step is over (the queue's
    # order: removals.py), the last one's at the run's end
    assert sorted(removals) == sorted(f"remove {t}/same-volume/app-0{i}" for t in tools for i in range(2, PROJECTS + 1))
    assert sorted(sandboxes) == [f"remove sandbox {t}/same-volume" for t in tools]
    for tool in tools:
        steps = run["tools"][tool]["layouts"]["same-volume"]["steps"]
        fleet_end = max(s["span"][1] for s in steps if s["fleet"])
        sandbox = sandboxes[f"remove sandbox {tool}/same-volume"]
        for i in range(2, PROJECTS + 1):
            job = removals[f"remove {tool}/same-volume/app-0{i}"]
            assert job["start"] >= max(fleet_end, proofs[f"prove {tool}/same-volume/app-0{i}"]["end"])
            assert job["end"] <= sandbox["start"]
        assert sandbox["start"] >= max(s["span"][1] for s in steps)
    last_step = max(span["end"] for span in spans)
    assert sandboxes["remove sandbox uv/same-volume"]["start"] >= last_step
    assert overlaps(jobs, spans) == []
    if (os.cpu_count() or 1) >= 2:  # one proof per core: the first two of a tool start together
        first, second = (proofs[f"prove uv/same-volume/app-0{i}"] for i in (1, 2))
        assert first["start"] < second["end"] and second["start"] < first["end"]
    spent = run["overhead"]
    assert spent["share"] == pytest.approx((spent["total_s"] - spent["steps_s"]) / spent["steps_s"])
    assert spent["probe_s"] > 0 and spent["remove_s"] > 0 and "reset_s" not in spent  # removals: in their window


def test_overlaps_finds_a_job_inside_a_timed_cell():
    cell = {"start": 10.0, "end": 20.0}
    assert overlaps([{"what": "inside", "start": 12.0, "end": 13.0}], [cell])
    assert overlaps([{"what": "across the start", "start": 5.0, "end": 10.5}], [cell])
    assert overlaps([{"what": "before", "start": 5.0, "end": 10.0}, {"what": "after", "start": 20.0, "end": 30.0}], [cell]) == []


def test_the_overhead_benchmark_counts_what_the_command_took_beyond_run_json(tmp_path):
    # benchmarks/overhead.py times the command from outside: what run.json's account does not
    # hold (the engine's start and close, the reports) is the harness's time too.
    folder = tmp_path / "run"
    folder.mkdir()
    run = {"schema": 1, "scenario": {"tools": ["uv"], "projects": [{}]}, "machine": {"cpus": 2}, "tools": {}, "concurrent": [],
           "overhead": {"total_s": 110.0, "steps_s": 100.0, "probe_s": 6.0, "other_s": 4.0, "share": 0.1}}  # fmt: skip
    (folder / "run.json").write_text(json.dumps(run))
    (folder / "overhead-command.json").write_text(json.dumps({"schema": 1, "command_s": 113.5}))
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "overhead.py"
    done = subprocess.run([sys.executable, str(script), "--run", str(folder)], capture_output=True, text=True, check=True)
    assert re.search(r"outside run\.json\s*│\s*3\.5 \(3\.5 %\)", done.stdout), done.stdout
    assert "harness 13.5 % of the steps (over the 10 % target)" in done.stdout, done.stdout
