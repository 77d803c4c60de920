"""`envbench merge`: runs of one scenario made tool by tool read as one run of every tool."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.record.logs import read_log
from harness.record.model import Run
from harness.report import package_rows
from harness.report.tables import report_tables
from harness.run.merge import MergeError, merged_record

TRIO = Path(__file__).resolve().parents[1] / "results" / "trio-20261124T150204Z"
TIME = re.compile(r"^\d[\d,.]* ± [\d,.]+( ⚠)?$|^\d[\d,.]* \(n=1\)$")
OWN_TABLES = {"Parts of this run", "Where the run's time went"}  # a merge adds the first; sums the second


def comparable(run: Run | dict, times: bool = True) -> list[tuple]:
    """Every table but the merge's own ones; with times=False, timing cells masked."""
    run = run if isinstance(run, Run) else Run.from_json(run)
    out = []
    for table in report_tables(run, package_rows(run)):
        if table.title in OWN_TABLES:
            continue
        rows = table.rows if times else tuple(tuple("<time>" if TIME.match(c) else c for c in row) for row in table.rows)
        out.append((table.title, table.headers, rows))
    return out


def split(run: dict, tools: list[str], run_id: str) -> Run:
    """The part of RUN an invocation with `--tools TOOLS` records."""
    return Run.from_json({
        **run,
        "run_id": run_id,
        "command": [*run["command"], "--tools", ",".join(tools)],
        "scenario": {**run["scenario"], "tools": tools},
        "tools": {name: info for name, info in run["tools"].items() if name in tools},
        "failures": [f for f in run["failures"] if f["tool"] in tools],
    })


def test_merge_of_a_runs_parts_gives_its_tables():
    """A measured run (trio, 9 tools) cut into per-tool parts and merged back reads the same."""
    whole = json.loads((TRIO / "run.json").read_text())
    names = list(whole["tools"])
    parts = [(Path(f"part{i}"), split(whole, names[i::3], f"part{i}")) for i in range(3)]
    merged = merged_record(parts, Path("merged"), ["envbench", "merge"])
    assert list(merged.tools) == names  # in envbench's tool order, whatever the parts' order
    assert comparable(merged) and comparable(merged) == comparable(whole)
    assert {info.part for info in merged.tools.values()} == {"part0", "part1", "part2"}
    assert [p.tools for p in merged.parts] == [names[i::3] for i in range(3)]


def test_merge_refuses_other_scenarios_closures_and_repeated_tools():
    whole = json.loads((TRIO / "run.json").read_text())
    a, b = split(whole, ["uv"], "a"), split(whole, ["poetry"], "b")
    other_scenario = replace(b, scenario=replace(b.scenario, repetitions=3))
    with pytest.raises(MergeError, match=r"^b: scenario trio \(hash \w+\) differs from a's"):
        merged_record([(Path("a"), a), (Path("b"), other_scenario)], Path("m"), [])
    files = [replace(f) for f in b.mirror.files]
    files[0].sha256 = "0" * 64
    other_closure = replace(b, mirror=replace(b.mirror, files=files))
    with pytest.raises(MergeError, match="^b: mirror closure .* differs from a's"):
        merged_record([(Path("a"), a), (Path("b"), other_closure)], Path("m"), [])
    with pytest.raises(MergeError, match=r"^b: tool uv \(same-volume\) is in a too"):
        merged_record([(Path("a"), a), (Path("b"), split(whole, ["uv"], "b"))], Path("m"), [])


def test_merge_cli_refusal_is_one_line_exit_2(tmp_path, cli):
    a, b = tmp_path / "a", tmp_path / "b"
    whole = json.loads((TRIO / "run.json").read_text())
    for folder, tools, repetitions in ((a, ["uv"], 5), (b, ["pdm"], 4)):
        folder.mkdir()
        part = split(whole, tools, folder.name)
        part.scenario = replace(part.scenario, repetitions=repetitions)
        (folder / "run.json").write_text(json.dumps(part.to_json()))
    status, out, err = cli("merge", a, b, "--out", tmp_path / "m")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"{b}: scenario trio") and not (tmp_path / "m").exists()


def test_merge_of_two_per_tool_runs_gives_the_tables_of_one_run(local_runs):
    both = json.loads((local_runs["both"] / "run.json").read_text())
    merged = json.loads((local_runs["merged"] / "run.json").read_text())
    # Everything but the seconds, measured anew by each invocation, is the same table for table.
    assert comparable(merged, times=False) == comparable(both, times=False)
    assert merged["conditions"] == both["conditions"]  # what verify sets a claim's source against
    # And the seconds of each tool are its part's own, untouched.
    for part in ("pip", "uv"):
        own = json.loads((local_runs[part] / "run.json").read_text())
        tool = next(iter(own["tools"]))
        layouts = merged["tools"][tool]["layouts"]
        assert {key: {k: v for k, v in e.items() if k != "part"} for key, e in layouts.items()} == own["tools"][tool]["layouts"]
        assert merged["tools"][tool]["part"] == own["run_id"] and {e["part"] for e in layouts.values()} == {own["run_id"]}


def test_merged_run_has_every_output_and_its_parts(local_runs):
    out = local_runs["merged"]
    for name in ("run.json", "tools.csv", "disk.csv", "timings.csv", "packages.csv", "timings.pyperf.json", "tables.md",
                 "report.html", "charts/disk.svg", "charts/disk.png", "charts/time.svg"):  # fmt: skip
        assert (out / name).is_file(), name
    merged = json.loads((out / "run.json").read_text())
    steps = [s for info in merged["tools"].values() for e in info["layouts"].values() for s in e["steps"]]
    assert steps and all(read_log(out, s["log"]) is not None for s in steps)  # logs travel with their tool
    assert (out / "logs.tar.gz").is_file() and not (out / "logs").exists()  # packed: every step passed
    tables = (out / "tables.md").read_text()
    assert "## Parts of this run" in tables
    for part in ("pip", "uv"):
        assert json.loads((local_runs[part] / "run.json").read_text())["run_id"] in tables
    assert main(["merge", str(local_runs["pip"]), str(local_runs["uv"]), "--out", str(out)]) == 2  # never overwritten
    shutil.rmtree(out / "charts")
    assert main(["report", str(out)]) == 0 and (out / "charts" / "disk.png").is_file()


def test_timings_from_machines_of_different_kinds_are_said_to_be():
    """Disk figures merge freely; a time table whose columns come from two kinds of machine says so."""
    from harness.report.answer import answer_table
    from harness.report.matrix import matrix_tables

    whole = json.loads((TRIO / "run.json").read_text())
    a, b = split(whole, ["uv"], "a"), split(whole, ["poetry"], "b")
    same = merged_record([(Path("a"), a), (Path("b"), b)], Path("m"), [])
    assert not any("⚠ These timings" in t.intro for t in matrix_tables(same))
    other = replace(b, machine={**b.machine, "cpu_model": "Other CPU 9000", "cpus": 64})
    mixed = merged_record([(Path("a"), a), (Path("b"), other)], Path("m"), [])
    [matrix] = matrix_tables(mixed)
    assert matrix.headers[2:] == ("uv [A]", "poetry [B]")
    assert "⚠ These timings come from machines of different kinds" in matrix.intro
    assert "**[B]** Other CPU 9000, 64 CPUs, docker" in matrix.intro
    answer = answer_table(mixed)
    assert {row[0] for row in answer.rows} == {"uv [A]", "poetry [B]"} and "[B]" in answer.intro
    # The disk columns are the same as in the merge of one kind.
    assert [row[1:6] for row in answer.rows] == [row[1:6] for row in answer_table(same).rows]
