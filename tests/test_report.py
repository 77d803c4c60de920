"""`envbench report`: charts (PNG and SVG) and a self-contained report.html, rendered by a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pytest

from harness.record.model import Run
from harness.report import package_rows
from harness.report.claims import published_files, verdicts_for_run
from harness.report.tables import report_tables

RESULTS = Path(__file__).resolve().parents[1] / "results"
TRIO = RESULTS / "trio-20261124T150204Z"
SEED = RESULTS / "seed-20261201"  # the seed question, every tool that runs here, merged from per-tool runs


def _report_copy(tmp_path_factory, run_dir: Path) -> Path:
    """`envbench report` on a copy of a committed run's run.json alone."""
    from harness.cli.main import main

    out = tmp_path_factory.mktemp("report") / run_dir.name
    out.mkdir()
    shutil.copy(run_dir / "run.json", out / "run.json")
    assert main(["report", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> Path:
    """The trio run (9 tools, 2 projects), reported again."""
    return _report_copy(tmp_path_factory, TRIO)


@pytest.fixture(scope="module")
def reported_seed(tmp_path_factory) -> Path:
    return _report_copy(tmp_path_factory, SEED)


COMMITTED = sorted(p.parent for p in RESULTS.glob("*/run.json"))
OUTPUTS = ("tables.md", "tools.csv", "disk.csv", "timings.csv", "packages.csv", "timings.pyperf.json", "report.html")


@pytest.mark.parametrize("run_dir", COMMITTED, ids=[p.name for p in COMMITTED])
def test_every_committed_run_reports_again_byte_for_byte(run_dir, tmp_path, monkeypatch):
    """`envbench report results/NAME` from its run.json alone gives every output committed beside
    it, byte for byte (report.html names the folder it was written from and judges claims/)."""
    from harness.cli.main import main

    (tmp_path / "results" / run_dir.name).mkdir(parents=True)
    shutil.copy(run_dir / "run.json", tmp_path / "results" / run_dir.name / "run.json")
    (tmp_path / "claims").symlink_to(RESULTS.parent / "claims")
    monkeypatch.chdir(tmp_path)
    assert main(["report", f"results/{run_dir.name}"]) == 0
    out = tmp_path / "results" / run_dir.name
    charts = sorted(p.name for p in (run_dir / "charts").iterdir())
    made = [name for name in OUTPUTS if (run_dir / name).exists()] + [f"charts/{name}" for name in charts]
    assert "tables.md" in made and sorted(p.name for p in (out / "charts").iterdir()) == charts
    assert [name for name in made if (out / name).read_bytes() != (run_dir / name).read_bytes()] == []


def test_the_readme_answer_is_the_seed_runs_own_table():
    """README's answer table is the committed seed run's, as `envbench report` writes it (one unit
    each, its figures measured): it changes only with the run."""
    readme = (RESULTS.parent / "README.md").read_text()
    answer = (SEED / "tables.md").read_text().split("## The answer", 1)[1].split("\n## ", 1)[0]
    table = [line for line in answer.splitlines() if line.startswith("|")]
    assert len(table) > 3 and "\n".join(table) in readme


def test_committed_seed_run_reports_again(reported_seed):
    """report.html, tables.md and every chart come back from the committed run.json alone."""
    assert (reported_seed / "tables.md").read_text() == (SEED / "tables.md").read_text()
    charts = sorted(p.name for p in (reported_seed / "charts").iterdir())
    assert charts == sorted(p.name for p in (SEED / "charts").iterdir()) == [
        "disk.png", "disk.svg", "growth.png", "growth.svg", "time.png", "time.svg"]  # fmt: skip
    for png in (reported_seed / "charts").glob("*.png"):
        assert matplotlib.image.imread(png).std() > 0.05, png  # not blank
    page = (reported_seed / "report.html").read_text()
    assert page.count("<svg") == 3 and "<script" not in page.lower() and "Parts of this run" in page
    reproduce = page[page.index('id="reproduce"'):]
    # Each part's command, with the local index folder it used, then the merge.
    assert reproduce.count("ENVBENCH_INDEX_PYTORCH_CPU=/opt/wheels envbench run scenarios/seed.yaml --backend docker") == 11
    assert "envbench merge" in reproduce


def test_charts_are_png_and_svg_with_units(reported):
    charts = reported / "charts"
    assert sorted(p.name for p in charts.iterdir()) == ["disk.png", "disk.svg", "time.png", "time.svg"]
    for png in charts.glob("*.png"):
        pixels = matplotlib.image.imread(png)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 600 and pixels.std() > 0.05, png
    disk = ET.parse(charts / "disk.svg").getroot()
    assert disk.tag.endswith("svg")
    text = (charts / "disk.svg").read_text()
    assert "GiB" in text and "pip-venv" in text and "uv-project" in text and "tool cache" in text
    assert "seconds" in (charts / "time.svg").read_text()


def test_growth_chart_comes_from_checkpoints(reported, tmp_path):
    run = json.loads((reported / "run.json").read_text())
    entry = run["tools"]["uv"]["layouts"]["same-volume"]
    entry["growth"] = [{"projects": 1, "physical_bytes": 2**30, "cache_physical_bytes": 2**29, "naive_bytes": 2**30},
                       {"projects": 2, "physical_bytes": 2**31, "cache_physical_bytes": 2**29, "naive_bytes": 2**31}]  # fmt: skip
    from harness.report.charts import growth_chart

    chart = growth_chart(Run.from_json(run), tmp_path)
    assert chart is not None and chart.png.is_file() and "projects installed" in chart.svg.read_text()
    del entry["growth"]
    assert growth_chart(Run.from_json(run), tmp_path / "none") is None  # no checkpoints: no chart, not an empty one


def test_report_html_is_self_contained(reported):
    page = (reported / "report.html").read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page), "nothing may load from the network"
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # only the SVGs' own #ids
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "two inlined charts must not share an element id"
    assert page.index('id="answer"') < page.index('id="charts"') < page.index("Time matrix") < page.index('id="facts"')
    assert page.count("<svg") == 2 and "How to reproduce" in page and "envbench run scenarios/trio.yaml" in page
    assert "trio-20261124T150204Z" in page and "engine_version" in page


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("HARNESS_REQUIRE_BROWSER"):
            pytest.fail("HARNESS_REQUIRE_BROWSER is set and no chromium is installed (apt-get install chromium)")
        pytest.skip("no chromium here")
    return found


def _headless(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    # No network at all: every host name fails to resolve and any proxy is a closed port.
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--no-first-run", *args]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, check=True)


@pytest.mark.browser
@pytest.mark.parametrize("run", ["reported", "reported_seed"])
def test_browser_renders_every_table_and_chart(run, request, tmp_path):
    chromium = _chromium()
    reported = request.getfixturevalue(run)
    url = (reported / "report.html").as_uri()
    dom = _headless(chromium, tmp_path / "profile", "--dump-dom", url).stdout
    run = Run.from_json(json.loads((reported / "run.json").read_text()))
    tables = report_tables(run, package_rows(run))
    facts = len(run.parts or [run])
    judged = verdicts_for_run(run, published_files(RESULTS.parent / "claims"))
    assert judged, "claims/ has claims about this run's scenario: the page must show them"
    assert dom.count("<table") == len(tables) + 1 + facts  # every table, the claims', the facts'
    claims = dom[dom.index('<section id="claims">'):]
    claims = claims[:claims.index("</section>")]
    assert claims.count("<tr>") == len(judged) + 1  # a row per claim under the header
    for verdict in judged:
        assert f">{verdict.claim['id']}<" in claims and f">{verdict.verdict}<" in claims
    for table in tables:
        assert f">{table.title}</h2>" in dom.replace("&#x27;", "'").replace("&amp;", "&"), table.title
    figures = re.findall(r'<figure id="chart-(\w+)">\s*<svg', dom)
    assert sorted(figures) == sorted(p.stem for p in (reported / "charts").glob("*.svg"))

    shot = tmp_path / "shot.png"
    _headless(chromium, tmp_path / "profile2", "--window-size=1280,5000", f"--screenshot={shot}", url)
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (5000, 1280)
    ink = (pixels < 0.9).any(axis=-1).mean()  # text, rules and bars: not a blank page
    colour = (pixels.max(axis=-1) - pixels.min(axis=-1) > 0.3).mean()  # the charts' coloured bars
    assert ink > 0.02 and colour > 0.005, (ink, colour)
