"""`envbench verify`: published claims against runs, confirmed / refuted / not measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.record import conditions
from harness.record.run import load as load_run
from harness.report import claim_metrics, claims

ROOT = Path(__file__).resolve().parents[1]
# A run measured by envbench and committed with the repository: smoke, every tool, both layouts.
# (results/smoke-conda-* ran three tools only: not it)
EVERY_PIP_TOOL = {"pip-venv", "virtualenv", "uv", "uv-project", "poetry", "pdm", "pipenv", "hatch"}  # as smoke had them first
SMOKE = sorted(
    p.parent for p in (ROOT / "results").glob("smoke-*/run.json")
    if (run := json.loads(p.read_text()))["scenario"]["name"] == "smoke" and EVERY_PIP_TOOL <= set(run["tools"])
)[-1]
SOURCE = {"title": "A test source", "url": "https://example.invalid/post", "date": "2026-11",
          "conditions": {"stated": "none stated"}}


def write_claims(path: Path, items: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"source": SOURCE, "claims": items}), encoding="utf-8")
    return path


LINKS = {"metric": "cache_link_share", "tool": "uv"}
SOURCE_WITHOUT_CONDITIONS = {"title": "t", "url": "https://example.invalid/x", "date": "2026"}
TIME = {"metric": "time", "state": "warm+locked", "operation": "install"}


@pytest.fixture()
def claims_file(tmp_path):
    return write_claims(
        tmp_path / "c.yaml",
        [
            {"id": "links-high", "quote": "q", "published": "most", "scenario": "smoke", "measure": LINKS,
             "expect": {"at_least": 0.5}},
            {"id": "links-none", "quote": "q", "published": "none", "scenario": "smoke", "measure": LINKS,
             "expect": {"at_most": 0.01}},
            {"id": "poetry-slower", "quote": "q", "published": "17x", "figure": 17, "scenario": "smoke",
             "measure": {"ratio": [{**TIME, "tool": "poetry"}, {**TIME, "tool": "uv-project"}]},
             "expect": {"at_least": 1}},
            {"id": "conda", "quote": "q", "published": "heavy", "scenario": "smoke",
             "measure": {"metric": "env_mib", "tool": "conda"}, "expect": {"at_least": 1}},
            {"id": "other-scenario", "quote": "q", "published": "x", "scenario": "trio", "measure": LINKS,
             "expect": {"at_least": 0.5}},
            {"id": "cuda", "quote": "q", "published": "2-6 GB", "scenario": "cuda", "not_measurable": "needs CUDA"},
        ],
    )  # fmt: skip


def test_verdicts_from_a_measured_run(claims_file):
    run = load_run(SMOKE)
    verdicts = {v.claim["id"]: v for v in claims.verify_all([claims_file], [run])}
    # uv hard-links from its cache on one volume: the same measured share confirms one claim
    # and refutes its opposite, so neither verdict can come from the claim alone.
    assert verdicts["links-high"].verdict == "confirmed"
    assert verdicts["links-none"].verdict == "refuted"
    assert verdicts["links-high"].measured == verdicts["links-none"].measured > 0.5
    assert verdicts["links-high"].runs == (run.run_id,)
    ratio = verdicts["poetry-slower"]
    assert ratio.verdict == "confirmed" and ratio.measured > 1
    assert ratio.ratio == pytest.approx(ratio.measured / 17)
    # Never confirmed on missing data, and always with why.
    assert verdicts["conda"].verdict == "not measured" and "conda" in verdicts["conda"].why
    assert "unavailable" in verdicts["conda"].why
    assert verdicts["other-scenario"].verdict == "not measured"
    assert "no run of scenario trio" in verdicts["other-scenario"].why
    assert verdicts["cuda"].verdict == "not measured" and verdicts["cuda"].why == "needs CUDA"


def test_cli_writes_claims_md(cli, claims_file, tmp_path):
    out = tmp_path / "claims.md"
    status, stdout, _ = cli("verify", SMOKE, "--claims", claims_file, "--out", out)
    assert status == 0
    text = out.read_text(encoding="utf-8")
    assert "6 claims: 2 confirmed, 1 refuted, 0 differs in conditions, 3 not measured." in text
    assert "| links-none | [A test source](https://example.invalid/post) (2026-11) |  (none stated) |" in text
    assert "claims.md" in stdout


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"id": "a", "quote": "q", "published": "p", "scenario": "s", "measure": {"metric": "speed", "tool": "uv"},
          "expect": {"at_least": 1}}, "claims[0] (a): measure: unknown metric speed"),
        ({"id": "a", "quote": "q", "published": "p", "scenario": "s", "measure": LINKS, "expect": {"roughly": 1}},
         "claims[0] (a): expect: one of"),
        ({"id": "a", "quote": "q", "published": "p", "scenario": "s"}, "needs measure and expect"),
        ({"id": "a", "quote": "q", "scenario": "s", "not_measurable": "x"}, "claims[0]: missing published"),
        ({"id": "a", "quote": "q", "published": "p", "scenario": "s", "measure": LINKS, "expect": {"at_least": 1},
          "conditions": {"os": "beos"}}, "claims[0] (a): conditions: os: 'beos' is not one of linux, macos, windows"),
        ({"id": "a", "quote": "q", "published": "p", "scenario": "s", "measure": LINKS, "expect": {"at_least": 1},
          "conditions": {"weather": "fine"}}, "claims[0] (a): conditions: unknown condition weather"),
        ({"id": "a", "quote": "q", "published": "p", "scenario": "s", "measure": LINKS, "expect": {"at_least": 1},
          "source": SOURCE_WITHOUT_CONDITIONS}, "claims[0] (a): source.conditions: missing"),
    ],
)  # fmt: skip
def test_bad_claims_file_exits_2_naming_file_and_claim(cli, tmp_path, claim, message):
    path = write_claims(tmp_path / "bad.yaml", [claim])
    status, _, stderr = cli("verify", SMOKE, "--claims", path)
    assert status == 2
    assert str(path) in stderr and message in stderr


def test_a_folder_without_run_json_is_bad_input(cli, tmp_path, claims_file):
    status, _, stderr = cli("verify", tmp_path / "nothing", "--claims", claims_file)
    assert status == 2 and "no run.json" in stderr


def test_published_claims_are_well_formed():
    files = sorted((ROOT / "claims").glob("*.yaml"))
    assert {f.stem for f in files} >= {"seed", "uv", "shootout", "krabarena"}
    for path in files:
        source, items = claims.load_claims(path)
        assert source["title"] and items
        assert len({c["id"] for c in items}) == len(items)


@pytest.mark.parametrize(
    ("value", "expect", "holds"),
    [
        (17.0, {"near": 17.1, "factor": 2}, True), (8.6, {"near": 17.1, "factor": 2}, True),
        (8.5, {"near": 17.1, "factor": 2}, False), (34.3, {"near": 17.1, "factor": 2}, False),
        (11.0, {"near": 17.1}, False), (12.0, {"near": 17.1}, True),  # the default factor is 1.5
        (2.0, {"between": [2, 6]}, True), (6.0, {"between": [2, 6]}, True), (6.1, {"between": [2, 6]}, False),
        ([3.0, 2.0, 1.0], {"descending": True}, True), ([3.0, 3.0, 1.0], {"descending": True}, False),
        ([1.0, 2.0], {"descending": True}, False),
    ],
)  # fmt: skip
def test_each_expectation_holds_and_fails_where_it_should(value, expect, holds):
    assert claims.expectation_holds(value, expect) is holds


def test_freed_share_reads_statvfs_on_a_private_file_system_and_the_scan_elsewhere():
    """On a private file system the share is what statvfs saw freed (the file system's own count);
    elsewhere the scanner's exclusive bytes, mean over projects."""
    run = load_run(ROOT / "results" / "seed-filesystems-20261202")
    unit = run.tools["uv"].layouts["same-volume@btrfs"]
    delete = unit.statvfs.delete
    [deleted] = unit.disk.scoped(delete.project)
    share = claim_metrics.freed_share(run, "uv", layout="same-volume@btrfs")
    assert share == delete.freed_bytes / deleted.physical_bytes
    assert share != deleted.exclusive_bytes / deleted.physical_bytes  # not the scanner's figure
    smoke = load_run(SMOKE)
    roots = smoke.tools["uv"].layouts["same-volume"].project_roots()
    assert claim_metrics.freed_share(smoke, "uv") == sum(r.exclusive_bytes / r.physical_bytes for r in roots) / len(roots)


def test_a_stand_in_gives_its_figure_and_never_a_verdict(tmp_path):
    """conda cannot run here: its claim is measured on rattler (the converted channel) and stays
    not measured, the stand-in's figure and what it would say in the why."""
    run = load_run(ROOT / "results" / "seed-conda-20261202")
    stand_in = {"tool": "rattler", "for": ["conda"], "why": "a converted channel is not conda-forge"}
    claim = {"id": "heavy", "quote": "q", "published": "conda env > uv env", "scenario": "seed", "stand_in": stand_in,
             "measure": {"ratio": [{"metric": "env_mib", "tool": "conda"}, {"metric": "env_mib", "tool": "uv"}]},
             "expect": {"at_least": 2}}  # fmt: skip
    verdict = claims.verify(claim, SOURCE, [run])
    figure = claim_metrics.env_mib(run, "rattler") / claim_metrics.env_mib(run, "uv")
    assert verdict.verdict == "not measured" and verdict.measured is None and verdict.runs == (run.run_id,)
    assert f"{claims.show(figure)}, which would refute it" in verdict.why and "not conda-forge" in verdict.why
    assert "stand-in: converted channel" in verdict.why
    lenient = claims.verify({**claim, "expect": {"at_least": 1}}, SOURCE, [run])
    assert lenient.verdict == "not measured" and "which would confirm it" in lenient.why


def test_committed_claims_md_is_what_the_committed_runs_give():
    """results/claims.md, as `envbench verify results/*/ --out results/claims.md` writes it, is
    what the committed runs and claims/ give now: not a table older than the runs it reads."""
    runs = [load_run(p.parent) for p in sorted((ROOT / "results").glob("*/run.json"))]
    files = claims.published_files(ROOT / "claims")
    assert claims.markdown(claims.verify_all(files, runs)) == (ROOT / "results" / "claims.md").read_text()


def test_verify_takes_the_fullest_run_not_the_newest():
    """The seed's claims are judged on the seed run (20 projects, 3 repetitions, 9 tools), not on
    the newer harness-time experiment of the same scenario (2 tools, 1 repetition)."""
    runs = [load_run(ROOT / "results" / name) for name in ("seed-20261201", "overhead-seed-20261206-after")]
    assert runs[1].finished > runs[0].finished
    [claim] = [c for c in yaml.safe_load((ROOT / "claims" / "seed.yaml").read_text())["claims"]
               if c["id"] == "seed-uv-faster-than-pip"]  # fmt: skip
    verdict = claims.verify(claim, SOURCE, runs)
    assert verdict.runs == ("seed-20261201",) and verdict.ratio is None  # no figure was published: no ratio


def test_a_claim_is_refuted_only_where_the_conditions_it_states_are_met():
    """The same measured figure: refuted on a run that meets what the source states, "differs in
    conditions" (with what differs) on one that does not; a condition that cannot move the kind
    of figure (the network, for a disk figure) is not held against it."""
    run = load_run(SMOKE)  # Linux, a local mirror with no added latency, PEP 503 over HTTP
    links_none = {"id": "links-none", "quote": "q", "published": "none", "scenario": "smoke", "measure": LINKS,
                  "expect": {"at_most": 0.01}}  # fmt: skip
    on_linux = claims.verify({**links_none, "conditions": {"os": "linux", "network": "internet"}}, SOURCE, [run])
    assert on_linux.verdict == "refuted" and not on_linux.differs
    on_macos = claims.verify({**links_none, "conditions": {"os": "macos"}}, SOURCE, [run])
    assert on_macos.verdict == "differs in conditions" and on_macos.measured == on_linux.measured
    assert on_macos.differs == ("os: source macos, run Linux",) and on_macos.why.startswith("does not hold")
    slower = {"id": "poetry-slower", "quote": "q", "published": "17x", "figure": 17, "scenario": "smoke",
              "measure": {"ratio": [{**TIME, "tool": "poetry"}, {**TIME, "tool": "uv-project"}]}, "expect": {"at_least": 100},
              "conditions": {"network": "internet", "index": "pypi", "python": "3.12", "machines": "one per tool"}}  # fmt: skip
    timed = claims.verify(slower, SOURCE, [run])
    assert timed.verdict == "differs in conditions" and [d.split(":")[0] for d in timed.differs] == ["network", "index"]
    assert [n.split(":")[0] for n in timed.named] == ["machines", "python"]  # named, not held against it
    assert "Differs: network: source internet" in claims.markdown([timed])


def test_verify_takes_the_run_that_meets_the_conditions_before_the_fuller_one():
    from harness.record.facts import LinkMeasured, Network
    from harness.record.model import Run

    run = load_run(SMOKE)
    shaped = Run.from_json(run.to_json())
    shaped.run_id, shaped.scenario.repetitions = "shaped", 1  # narrower than the run it copies
    shaped.network = Network({"rtt_ms": 40, "bandwidth_mbit": 100}, "proxy (latency), tbf (bandwidth)",
                             {"uv same-volume": LinkMeasured(rtt_ms=42.5, bandwidth_mbit=95.2)})  # fmt: skip
    claim = {"id": "c", "quote": "q", "published": "p", "scenario": "smoke", "expect": {"at_least": 1},
             "measure": {"ratio": [{**TIME, "tool": "poetry"}, {**TIME, "tool": "uv-project"}]}}  # fmt: skip
    shaped.mirror.server = {"server": "nginx/1.22.1", "features": ["pep503-html", "pep691-json", "pep658-core-metadata"]}
    like_pypi = {"network": "internet", "index": "pypi"}
    over_internet = claims.verify({**claim, "conditions": like_pypi}, SOURCE, [run, shaped])
    assert over_internet.runs == ("shaped",) and not over_internet.differs and over_internet.verdict == "confirmed"
    said = conditions.recorded(shaped)["network"]["said"]
    assert said.startswith("an emulated link (40 ms round trip, 100 Mbit/s, measured 42 ms")
    on_the_fuller = claims.verify({**claim, "conditions": like_pypi}, SOURCE, [run])
    assert [d.split(":")[0] for d in on_the_fuller.differs] == ["network", "index"]
    assert claims.verify(claim, SOURCE, [run, shaped]).runs == (run.run_id,)  # no condition stated: the fullest


def test_a_time_can_leave_out_the_steps_its_source_did_not_time():
    """uv's hyperfine makes the venv in `prepare`: `leave_out: [venv]` times the install step
    alone, shorter than the whole cell by exactly the venv steps, never by more."""
    from harness.report.stats import matrix_samples

    run = load_run(SMOKE)
    cell = {"tool": "poetry", "state": "warm+locked", "operation": "install"}
    whole = claim_metrics.time(run, **cell)
    alone = claim_metrics.time(run, **cell, leave_out=["venv"])
    assert 0 < alone < whole and matrix_samples(run)[("poetry", "same-volume", "warm+locked", "install")]
    steps = [s for _, _, unit in run.units() for s in unit.steps if s.tool == "poetry" and s.state == "warm+locked"
             and s.project == run.projects[0].name and s.layout == "same-volume"]  # fmt: skip
    made = [s.wall_s for s in steps if s.operation == "venv"]
    assert made and whole - alone == pytest.approx(sum(made) / len(made), rel=1e-6)
