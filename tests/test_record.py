"""run.json's typed records: every committed run reads and writes back unchanged, an older run's
missing keys read as defaults and stay missing, and a key no record names is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.record.model import Env, Run, Step, Unit
from harness.record.run import exit_status, load

RESULTS = Path(__file__).resolve().parents[1] / "results"
COMMITTED = sorted(p.parent for p in RESULTS.glob("*/run.json"))


@pytest.mark.parametrize("run_dir", COMMITTED, ids=[p.name for p in COMMITTED])
def test_every_committed_run_round_trips(run_dir):
    data = json.loads((run_dir / "run.json").read_text())
    run = Run.from_json(data)
    if "wheels" in (data.get("mirror") or {}):  # the one migration: the mirror's files were `wheels` before 2026-11-24
        data["mirror"] = {("files" if key == "wheels" else key): value for key, value in data["mirror"].items()}
    assert run.to_json() == data
    names = {k for t in run.tools.values() for k in t.extra} | {k for _, _, u in run.units() for k in u.extra}
    names |= {k for _, _, u in run.units() for s in u.steps for k in s.extra} | set(run.extra)
    disks = [u.disk for _, _, u in run.units() if u.disk]
    parts = [d for d in disks] + [d.total for d in disks] + [r for d in disks for r in d.roots]
    parts += [r.links for d in disks for r in d.roots] + [p for d in disks for p in d.packages or []]
    parts += [p for _, _, u in run.units() for p in u.growth] + [u.statvfs for _, _, u in run.units() if u.statvfs]
    parts += [run.scenario, *run.scenario.projects, *run.parts]
    names |= {k for part in parts for k in part.extra}
    assert names == set(), f"keys no record names: {sorted(names)}"


def test_an_older_run_reads_its_missing_keys_as_defaults_and_leaves_them_out():
    older = {"schema": 1, "run_id": "old", "status": "complete", "tools": {"uv": {"status": "ok", "layouts": {
        "same-volume": {"status": "ok", "steps": [{"tool": "uv", "state": "cold", "operation": "install", "exit_code": 0,
                                                   "wall_s": 1.5}],
                        "envs": {"app-01": {"proved": True, "packages": []}}}}}}, "failures": []}  # fmt: skip
    run = Run.from_json(older)
    unit = run.tools["uv"].layouts["same-volume"]
    step, env = unit.steps[0], unit.envs["app-01"]
    assert isinstance(unit, Unit) and isinstance(step, Step) and isinstance(env, Env)
    assert step.fleet is None and step.span is None and step.ok and unit.states is None and env.import_needs is None
    written = run.to_json()["tools"]["uv"]["layouts"]["same-volume"]
    assert "fleet" not in written["steps"][0] and "states" not in written and "import_needs" not in written["envs"]["app-01"]
    assert exit_status(run) == 0


def test_a_key_no_record_names_is_kept(tmp_path):
    data = {"schema": 1, "run_id": "x", "status": "complete", "tools": {}, "failures": [], "future_key": {"a": 1}}
    (tmp_path / "run.json").write_text(json.dumps(data))
    run = load(tmp_path)
    assert run.extra == {"future_key": {"a": 1}} and run.to_json()["future_key"] == {"a": 1}


def test_another_schema_is_refused_in_one_line(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"schema": 99}))
    with pytest.raises(ValueError, match=r"run.json: schema 99, this envbench reads schema 1$"):
        load(tmp_path)
