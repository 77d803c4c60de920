"""Never start over: a run stopped by Ctrl-C mid-fleet goes on with --resume, and shards of a run
merge into it; both end with the disk figures of one uninterrupted run and every cell once
(real runs with the local backend, synthetic packages, offline)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from harness.run import costs
from harness.run.units import Shard, ShardError, Unit, parse_shard, split, units_of
from harness.scenario.parse import parse

from .conftest import sigint_as_a_terminal_sends_it, wait_for_first_step, write
from .test_merge import comparable

SCENARIO = """
name: never-start-over
python: "3.11"
repetitions: 2
tools: [uv, pip-venv]
checkpoints: [2]
synthetic:
  - {name: heavy, files: 6, file_size: 262144, binary: true, dependencies: [light]}
  - {name: light, files: 120, file_size: 4096}
projects:
  - name: app
    count: 3
    dependencies: [heavy]
"""


def cells(run: dict) -> Counter:
    """Every step's cell (tool, layout, project, state, repetition, operation), counted."""
    return Counter(
        (s["tool"], s["layout"], s["project"], s["state"], s["repetition"], s["operation"])
        for info in run["tools"].values() for entry in info["layouts"].values() for s in entry["steps"]
    )  # fmt: skip


# disk.csv's columns that count blocks and files; apparent bytes differ by the length of paths
# written into envs (shebangs, pyvenv.cfg), and each run has its own work folder.
PHYSICAL = ("tool", "layout", "scope", "files", "physical_bytes", "naive_bytes", "exclusive_bytes", "hardlinked_files",
            "symlinked_files", "copied_files")  # fmt: skip


def physical(out: Path) -> list[tuple]:
    with open(out / "disk.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row["physical_bytes"] for row in rows)
    return sorted(tuple(row[c] for c in PHYSICAL) for row in rows)  # a merge lists tools in envbench's order


def load(out: Path) -> dict:
    return json.loads((out / "run.json").read_text())


def test_ctrl_c_mid_fleet_then_resume_equals_an_uninterrupted_run(local_runs, tmp_path, cli, monkeypatch):
    scenario, reference, work = local_runs["scenario"], local_runs["both"], local_runs["work"]
    monkeypatch.setenv("ENVBENCH_WORK", str(work))
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(scenario), "--backend", "local", "--tools", "uv,pip-venv",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_a_terminal_sends_it,
        env={**os.environ, "COLUMNS": "300"},
    )  # fmt: skip
    wait_for_first_step(out, "pip-venv")  # uv's unit is done; pip-venv's fleet has begun
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=180)
    assert child.returncode == 130, err
    stopped = load(out)
    assert stopped["status"] == "interrupted"
    assert stopped["tools"]["uv"]["layouts"]["same-volume"]["status"] == "ok"
    assert stopped["tools"]["pip-venv"]["layouts"]["same-volume"]["status"] == "running"
    # Ctrl-C says the exact command that goes on.
    again = f"envbench run {scenario} --resume {out} --backend local"
    assert again in " ".join(err.split()), err

    status, _, err = cli(*again.split()[1:])
    assert status == 0, err
    assert "resume: 1 finished units kept; measured again: pip-venv same-volume" in err
    resumed, expected = load(out), load(reference)
    assert resumed["status"] == "complete" and resumed["run_id"] == stopped["run_id"]
    [note] = resumed["resumes"]
    assert note["kept"] == ["uv same-volume"] and note["discarded"] == ["pip-venv same-volume"]
    # uv's unit was kept as it was, not measured again (its split-volume unit, unavailable on the
    # local backend, comes after pip-venv's same-volume one).
    assert resumed["tools"]["uv"]["layouts"]["same-volume"] == stopped["tools"]["uv"]["layouts"]["same-volume"]
    # Every cell once: the same cells as an uninterrupted run, none twice.
    assert cells(resumed) == cells(expected) and set(cells(resumed).values()) == {1}
    # The disk figures of an uninterrupted run, to the byte.
    assert physical(out) == physical(reference)
    # The run's options came back from its command: the same tools, in the same order.
    assert resumed["scenario"]["tools"] == ["uv", "pip-venv"] and list(resumed["tools"]) == ["uv", "pip-venv"]


def test_a_resume_with_a_changed_scenario_is_refused(local_runs, tmp_path, cli):
    scenario, reference = local_runs["scenario"], local_runs["both"]
    out = tmp_path / "copy"
    out.mkdir()
    run = load(reference)
    run["status"] = "interrupted"
    (out / "run.json").write_text(json.dumps(run))
    changed = write(tmp_path / "s.yaml", scenario.read_text().replace("repetitions: 2", "repetitions: 3"))
    status, _, err = cli("run", changed, "--resume", out, "--backend", "local")
    assert status == 2
    assert err.strip().count("\n") == 0  # one line
    assert err.startswith(f"--resume {out}: the scenario changed since the run began (repetitions; hash ")
    status, _, err = cli("run", scenario, "--resume", tmp_path / "nowhere", "--backend", "local")
    assert (status, err.strip()) == (2, f"--resume {tmp_path / 'nowhere'}: no run.json there")
    status, _, err = cli("run", scenario, "--resume", out, "--backend", "local", "--shard", "1/2")
    assert (status, err.strip()) == (2, f"--resume {out}: the run began as shard none, not 1/2")


def test_shards_merged_equal_one_run(local_runs, tmp_path, cli, monkeypatch):
    scenario, reference = local_runs["scenario"], local_runs["both"]
    monkeypatch.setenv("ENVBENCH_WORK", str(local_runs["work"]))
    parts = []
    for k in (1, 2):
        parts.append(tmp_path / f"shard{k}")
        status, _, err = cli("run", scenario, "--backend", "local", "--tools", "pip-venv,uv", "--shard", f"{k}/2",
                             "--out", parts[-1])  # fmt: skip
        assert status == 0, err  # a shard is judged as the whole run is
        assert load(parts[-1])["shard"]["shard"] == f"{k}/2"
    # Two units the local backend runs, two shards: each runs one whole unit (a tool's fleet is
    # never cut in two); the split-volume units it cannot run are recorded by the first.
    statuses = [sorted((tool, key, entry["status"]) for tool, info in load(p)["tools"].items()
                       for key, entry in info["layouts"].items()) for p in parts]  # fmt: skip
    assert [sum(status == "ok" for *_, status in shard) for shard in statuses] == [1, 1]
    assert {(tool, key) for tool, key, status in statuses[0] if status == "unavailable"} == {
        ("pip-venv", "split-volume"), ("uv", "split-volume")}  # fmt: skip
    status, _, err = cli("merge", *parts, "--out", tmp_path / "merged")
    assert status == 0, err
    merged, expected = load(tmp_path / "merged"), load(reference)
    assert cells(merged) == cells(expected) and set(cells(merged).values()) == {1}
    assert physical(tmp_path / "merged") == physical(reference)
    assert comparable(merged, times=False) == comparable(expected, times=False)
    assert {p["shard"] for p in merged["parts"]} == {"1/2", "2/2"}


def test_shards_split_whole_units_and_balance_them():
    scenario = parse(SCENARIO.replace("tools: [uv, pip-venv]", "tools: [uv, pip-venv, pip-tools, poetry, pdm, hatch]")
                     .replace("python: \"3.11\"", "python: \"3.11\"\nlayouts: [same-volume, split-volume]"))  # fmt: skip
    units = units_of(scenario)
    assert len(units) == 12
    for count in (1, 2, 3, 5, 12, 20):
        shards = costs.shards(scenario, count)
        assert len(shards) == count
        assert sorted(u for shard in shards for u in shard) == sorted(units)  # every unit once
        assert shards == costs.shards(scenario, count)  # the same split every time
    # Balanced: the dearest shard is at most the dearest unit above the mean.
    weights = costs.split_costs(scenario)
    loads = [sum(weights[u] for u in shard) for shard in costs.shards(scenario, 3)]
    assert max(loads) - sum(loads) / 3 <= max(weights.values())
    # Copying tools weigh more than linking ones.
    assert weights[Unit("pip-venv", "same-volume")] > 3 * weights[Unit("uv", "same-volume")]
    a, b = Unit("a", "x"), Unit("b", "x")
    assert split([a, b], {a: 1.0, b: 1.0}, 2) == [[a], [b]]  # ties: run order, lower shard first


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_one_line(text):
    with pytest.raises(ShardError, match=r"^--shard "):
        parse_shard(text)
    assert parse_shard(" 2/3 ") == Shard(2, 3)


BOTH_LAYOUTS = SCENARIO.replace('python: "3.11"', 'python: "3.11"\nlayouts: [same-volume, split-volume]')


def test_a_local_split_gives_each_shard_what_the_local_backend_runs(cli, tmp_path):
    scenario = parse(BOTH_LAYOUTS)
    local = costs.shards(scenario, 2, ("same-volume",))
    assert [[u.label() for u in shard if u.layout == "same-volume"] for shard in local] == [["pip-venv same-volume"],
                                                                                           ["uv same-volume"]]  # fmt: skip
    assert {u.label() for u in local[0] if u.layout == "split-volume"} == {"uv split-volume", "pip-venv split-volume"}
    assert all(len(shard) == 2 for shard in costs.shards(scenario, 2))  # docker runs all four: two each
    status, out, _ = cli("plan", write(tmp_path / "s.yaml", BOTH_LAYOUTS), "--shards", "2", "--backend", "local")
    assert status == 0 and out.count("unavailable: the local backend has no split-volume layout") == 2


def test_plan_prints_the_split_and_runs_nothing(cli, tmp_path, isolated_work):
    scenario = write(tmp_path / "s.yaml", SCENARIO)
    status, out, _ = cli("plan", scenario, "--shards", "2")
    assert status == 0
    assert "1/2" in out and "2/2" in out and "uv" in out and "pip-venv" in out
    assert "One machine: about" in out and "Estimates, not measurements" in out
    assert not isolated_work.exists() and not list(tmp_path.glob("results*"))


def test_a_resume_is_refused_when_tools_image_version_or_closure_changed(tmp_path):
    from harness.record.model import Mirror, Run
    from harness.record.run import RunRecord, closure_hash
    from harness.run import resume

    record = RunRecord(tmp_path, Run.from_json({"backend": {"name": "docker", "image": "envbench-tools:aaaa"}, "tools": {}}))
    resume.check_image(record, {"name": "docker", "image": "envbench-tools:aaaa"})  # the same: goes on
    with pytest.raises(resume.ResumeRefused, match=r"tools image changed since the run began \(envbench-tools:aaaa → "):
        resume.check_image(record, {"name": "docker", "image": "envbench-tools:bbbb"})
    with pytest.raises(resume.ResumeRefused, match="began on the docker backend, not local: pass --backend docker"):
        resume.check_image(record, {"name": "local"})
    resume.check_version(record, "uv", "0.13.9", {"uv": "0.13.9"})
    with pytest.raises(resume.ResumeRefused, match="uv is 0.14.0 now, the run began with 0.13.9"):
        resume.check_version(record, "uv", "0.14.0", {"uv": "0.13.9"})
    files = Mirror.from_json({"files": [{"filename": "a-1-py3-none-any.whl", "sha256": "0" * 64}]})
    resume.check_closure(record, closure_hash(files), files)
    other = Mirror.from_json({"files": [{"filename": "a-2-py3-none-any.whl", "sha256": "1" * 64}]})
    with pytest.raises(resume.ResumeRefused, match="the mirror closure changed since the run began"):
        resume.check_closure(record, closure_hash(files), other)
