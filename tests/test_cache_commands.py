"""Variants' settings reach the tool; cache commands' words are read from recorded outputs; after
clean_cache, a symlinked env is told from a hard-linked one by a real run."""

from __future__ import annotations

import csv
import json
import tomllib

import pytest

from harness.run.cachecheck import halves
from harness.scenario.parse import parse
from harness.tools import said
from harness.tools.base import PackageSource, Sandbox
from harness.tools.registry import adapter_for

from .conftest import write
from .test_run_local import scenario_text

MIRROR = PackageSource(index_url="http://mirror:8080/simple/", trusted_hosts=("mirror",))
SANDBOX = Sandbox(root="/bench/t", python="/usr/bin/python3.11", tool_bin="/opt/tools/t/bin")
VARIANTS = """
name: v
python: "3.11"
tools: [pdm-hardlink, hatch-uv, pip-nocompile, uv-compile, uv-symlink]
variants:
  pdm-hardlink: {tool: pdm, settings: {install.cache: "true", install.cache_method: hardlink}}
  hatch-uv: {tool: hatch, settings: {installer: uv}}
  pip-nocompile: {tool: pip-venv, bytecode: skip}
  uv-compile: {tool: uv, bytecode: compile}
  uv-symlink: {tool: uv, env: {UV_LINK_MODE: symlink}}
projects:
  - {name: app, dependencies: [six]}
"""


def test_each_variants_setting_reaches_its_tool():
    scenario = parse(VARIANTS)
    pdm = adapter_for(scenario, "pdm-hardlink")
    files = pdm.project_files("app-01", ("six",), MIRROR, "3.11")
    assert tomllib.loads(files["pdm.toml"]) == {"install": {"cache": True, "cache_method": "hardlink"}}
    assert pdm.link_mode_configured() == "hardlink" and adapter_for(scenario, "pdm").link_mode_configured() == "copy"
    assert "pdm.toml" not in adapter_for(scenario, "pdm").project_files("app-01", ("six",), MIRROR, "3.11")

    hatch = adapter_for(scenario, "hatch-uv")
    table = tomllib.loads(hatch.project_files("app-01", ("six",), MIRROR, "3.11")["pyproject.toml"])
    assert table["tool"]["hatch"]["envs"]["default"]["installer"] == "uv"
    (install,) = hatch.install_steps(SANDBOX, "app-01", ("six",), MIRROR)
    env = dict(install.env)
    # uv reads its own variables, not pip's: the mirror and uv's cache in the sandbox reach it so
    assert env["UV_DEFAULT_INDEX"] == "http://mirror:8080/simple/" and env["UV_CACHE_DIR"] == "/bench/t/cache/uv"
    (plain,) = adapter_for(scenario, "hatch").install_steps(SANDBOX, "app-01", ("six",), MIRROR)
    assert "UV_DEFAULT_INDEX" not in dict(plain.env) and dict(plain.env)["PIP_INDEX_URL"] == "http://mirror:8080/simple/"
    assert [c.step.argv[-2:] for c in hatch.cache_steps(SANDBOX, "app-01")] == [("cache", "prune"), ("cache", "clean")]

    pip = adapter_for(scenario, "pip-nocompile").install_steps(SANDBOX, "app-01", ("six",), MIRROR)[-1]
    assert "--no-compile" in pip.argv
    uv = adapter_for(scenario, "uv-compile").install_steps(SANDBOX, "app-01", ("six",), MIRROR)[-1]
    assert "--compile-bytecode" in uv.argv
    assert dict(adapter_for(scenario, "uv-symlink").install_steps(SANDBOX, "app-01", ("six",), MIRROR)[-1].env)[
        "UV_LINK_MODE"] == "symlink"  # fmt: skip


# What the pinned tools printed in results/settings-20261207 (run.json's cache_check.commands[].said:
# uv 0.13.9, pip 23.0.1 in pip + venv's envs, pip 25 in pip-tools' venv and Hatch's envs, PDM
# 2.29.2, Poetry 2.5.1 without a terminal, Pipenv 2026.10.3), then outputs in the words their
# sources print for the other cases (PDM's cli/commands/cache.py, Poetry's cache/clear.py).
RECORDED = [
    (said.said_uv, "Clearing cache at: /bench/cache/uv\nRemoved 18806 files (856.7MiB)\n", 18806, round(856.7 * 2**20)),
    (said.said_uv, "Clearing cache at: /bench/cache/uv\nRemoved 18806 files (2.2MiB)\n", 18806, round(2.2 * 2**20)),
    (said.said_pip, "Files removed: 48\n", 48, None),
    (said.said_pip, "Files removed: 48 (235.3 MB)\n", 48, 235_300_000),
    (said.said_pip, "Files removed: 138 (234.8 MB)\n", 138, 234_800_000),
    (said.said_pdm, "24 packages and 26 files are removed\n", 26, None),
    (said.said_pdm, "26 files are removed\n", 26, None),
    (said.said_poetry, "", None, None),
    (said.said_nothing, "Clearing caches...\n", None, None),
    (said.said_uv, "Clearing cache at: /bench/cache/uv\nRemoved 1234 files (56.7MiB)\n", 1234, round(56.7 * 2**20)),
    (said.said_uv, "Pruning cache at: c\nRemoved 1 file (2.9MiB)\n", 1, round(2.9 * 2**20)),
    (said.said_uv, "Pruning cache at: c\nNo unused entries found\n", 0, 0),
    (said.said_uv, "Clearing cache at: c\nRemoved 3 files (912B)\n", 3, 912),
    (said.said_pip, "Files removed: 85\n", 85, None),
    (said.said_pip, "Files removed: 85 (13.4 MB)\nDirectories removed: 3\n", 85, 13_400_000),
    (said.said_pip, "WARNING: No matching packages\nFiles removed: 0\n", 0, None),
    (said.said_pdm, "Clearing all caches...\n3 packages and 120 files are removed\n", 120, None),
    (said.said_pdm, "4 files are removed\n", 4, None),
    (said.said_pdm, "2 packages are removed\n", 0, None),
    (said.said_poetry, "Delete 42 entries? (yes/no) [yes] yes\n", 42, None),
    (said.said_poetry, "No cache entries\n", 0, None),
    (said.said_nothing, "Clearing caches...\n", None, None),
]


@pytest.mark.parametrize("reader,output,files,size", RECORDED)
def test_what_a_cache_command_says_it_removed(reader, output, files, size):
    words = reader(output)
    assert (words.files, words.bytes) == (files, size)
    assert "\n" not in words.text and (words.text or not output.strip())


def test_the_later_half_of_the_projects_goes_first():
    assert halves([1, 2, 3, 4, 5]) == ([1, 2, 3], [4, 5])
    assert halves([1]) == ([1], [])


def test_a_symlinked_env_breaks_when_its_cache_is_cleaned_a_hard_linked_one_survives(tmp_path, wheelhouse, tool_venvs,
                                                                                     isolated_work, cli):  # fmt: skip
    extra = """clean_cache: true
    variants:
      uv-symlink: {tool: uv, env: {UV_LINK_MODE: symlink}}
      uv-hardlink: {tool: uv, env: {UV_LINK_MODE: hardlink}}
      pdm-symlink: {tool: pdm, settings: {install.cache: "true", install.cache_method: symlink}}"""
    scenario = write(tmp_path / "s.yaml", scenario_text(wheelhouse, extra=extra).replace("repetitions: 2", "repetitions: 1"))
    out = tmp_path / "out"
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "uv-symlink,uv-hardlink,pdm-symlink", "--out", out)
    assert status == 0, err  # an env the cache clean broke is a finding, not a failure of the run
    run = json.loads((out / "run.json").read_text())
    unit = {tool: run["tools"][tool]["layouts"]["same-volume"] for tool in ("uv-symlink", "uv-hardlink", "pdm-symlink")}
    check = {tool: u["cache_check"] for tool, u in unit.items()}
    for tool in unit:  # three projects: the third deleted, the first two proved again
        assert (check[tool]["kept"], check[tool]["deleted"]) == (["app-01", "app-02"], ["app-03"])
        assert all(env["proved"] for env in unit[tool]["envs"].values()), tool  # every env proved after the fleet
    # the setting reached the tool: the scan sees what each link mode made
    links = {tool: sum(r["links"]["symlinks_out"]["count"] for r in u["disk"]["roots"] if r["scope"].startswith("app"))
             for tool, u in unit.items()}  # fmt: skip
    # (a venv's own bin/python links to the interpreter outside it, whatever the mode)
    assert links["uv-symlink"] > 50 * links["uv-hardlink"] and links["pdm-symlink"] > 50 * links["uv-hardlink"]
    assert unit["uv-hardlink"]["link_mode"] == "hardlink"
    assert check["uv-symlink"]["survived"] == {"app-01": False, "app-02": False}
    assert "METADATA cannot be read" in check["uv-symlink"]["faults"]["app-01"][0]
    assert check["uv-hardlink"]["survived"] == {"app-01": True, "app-02": True}
    # PDM keeps a cached package an env still refers to: `pdm cache clear` spares the linked ones
    assert check["pdm-symlink"]["survived"] == {"app-01": True, "app-02": True}
    prune, clean = check["uv-hardlink"]["commands"]
    assert clean["command"].endswith("uv cache clean") and clean["said_files"] > 0 and clean["said_bytes"] > 0
    assert clean["freed_bytes"] is None  # no private file system: statvfs is not read
    assert clean["cache_bytes_after"] < clean["cache_bytes_before"] and clean["cache_inodes_after"] < clean["cache_inodes_before"]
    # hard links: the files the envs still hold free nothing, and the scan says so
    assert clean["predicted_bytes"] < clean["cache_bytes_before"] - clean["cache_bytes_after"]
    # the fleet came after repetition 1's matrix, so no timed cell ran on a cleaned cache
    order = [(s["project"], s["state"]) for s in unit["uv-hardlink"]["steps"] if s["operation"] == "install"]
    assert order == [("app-01", "cold"), ("app-01", "warm"), ("app-02", "warm"), ("app-03", "warm")]
    tables = (out / "tables.md").read_text()
    assert "## Cache commands: said vs freed" in tables and "## Does the env survive its cache?" in tables
    assert "| uv-symlink | same-volume |" in tables.split("## Does the env survive its cache?")[1]
    html = (out / "report.html").read_text()
    assert "Cache commands: said vs freed" in html and (out / "charts" / "settings.svg").exists()
    assert "survives cache clean: no" in (out / "charts" / "settings.svg").read_text()  # uv-symlink's bar
    with open(out / "disk.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(int(row["inodes"]) > 0 for row in rows if row["scope"] in ("total", "cache", "app-01"))
