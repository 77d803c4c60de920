"""The nix tool: the real nix (Debian's nix-bin) building a store from generated wheels, offline.

Skipped where nix is absent, except in CI (HARNESS_REQUIRE_NIX).
"""

from __future__ import annotations

import json

import pytest

from harness.record.model import Mirror
from harness.run.source import wheels_only_reason
from harness.tools import said
from harness.tools.base import PackageSource, Sandbox
from harness.tools.nix import Nix

from .conftest import nix_here, write
from .test_run_local import scenario_text

SANDBOX = Sandbox(root="/bench/t", python="/usr/bin/python3.11", tool_bin="/opt/tools/nix/bin", scripts="/opt/envbench")
MIRROR = PackageSource(index_url="http://mirror:8080/simple/", trusted_hosts=("mirror",))


def test_the_lock_is_pips_resolution_and_the_install_is_nix_build():
    lock, build = Nix().install_steps(SANDBOX, "app-01", ("numpy>=2",), MIRROR)
    assert lock.operation == "lock" and build.operation == "install"
    assert lock.argv[:3] == ("/opt/tools/nix/bin/python", "/opt/envbench/nix_driver.py", "lock")
    assert lock.argv[lock.argv.index("--builder") + 1] == "/opt/envbench/nix_builder.py"
    assert lock.argv[lock.argv.index("--") + 1:] == ("--index-url", "http://mirror:8080/simple/", "--trusted-host",
                                                     "mirror", "numpy>=2")  # fmt: skip
    assert build.argv == ("nix-build", "default.nix", "--out-link", ".nix-env") and build.cwd == "/bench/t/projects/app-01"
    env = dict(build.env)
    assert env["NIX_STORE_DIR"] == "/bench/t/cache/nix/store" and env["NIX_STATE_DIR"] == "/bench/t/cache/nix/var"
    assert "sandbox = false" in env["NIX_CONFIG"] and "substituters =\n" in env["NIX_CONFIG"] and env["NIX_REMOTE"] == ""
    gc, optimise = Nix().cache_steps(SANDBOX, "app-01")
    assert (gc.step.argv, optimise.step.argv) == (("nix-collect-garbage",), ("nix-store", "--optimise"))


@pytest.mark.parametrize("output,files,size", [
    ("finding garbage collector roots...\ndeleting '/bench/cache/nix/store/x-a.whl'\ndeleting unused links...\n"
     "note: currently hard linking saves -0.00 MiB\n6 store paths deleted, 0.71 MiB freed\n", 6, round(0.71 * 2**20)),
    ("0.00 MiB freed by hard-linking 14 files\n", 0, 0),
    ("35.20 MiB freed by hard-linking 1204 files\n", 0, round(35.2 * 2**20)),
])  # fmt: skip
def test_what_nix_says_it_freed(output, files, size):
    words = said.read("nix", output)
    assert (words.files, words.bytes) == (files, size) and "\n" not in words.text


def test_nix_builds_a_store_proves_every_env_and_frees_only_after_gc(tmp_path, wheelhouse, tool_venvs, isolated_work, cli):
    if not nix_here():
        pytest.skip("no nix here (apt-get install nix-bin)")
    scenario = write(tmp_path / "s.yaml", scenario_text(wheelhouse, extra="clean_cache: true").replace(
        "repetitions: 2", "repetitions: 1"))  # fmt: skip
    out = tmp_path / "out"
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "nix,uv", "--out", out)
    assert status == 0, err
    run = json.loads((out / "run.json").read_text())
    info = run["tools"]["nix"]
    assert info["status"] == "ok" and info["stand_in"].startswith("nix 2.") and "a stand-in" in info["stand_in"]
    unit = info["layouts"]["same-volume"]
    assert len(unit["envs"]) == 3 and all(env["proved"] for env in unit["envs"].values())
    assert unit["link_mode"] == "symlink"  # each project holds its GC root, a link into the store
    # the store is the cache: the projects hold links and default.nix, the packages are in the store
    roots = {r["scope"]: r for r in unit["disk"]["roots"]}
    cache = sum(r["physical_bytes"] for scope, r in roots.items() if scope.startswith("cache"))
    projects = [r for scope, r in roots.items() if scope.startswith("app")]
    assert cache > 1_000_000 and all(r["physical_bytes"] < 64 * 1024 for r in projects)
    # the lock: one derivation per wheel of pip's resolution, each fetched by nix itself
    (lock,) = (out / "locks").rglob("default.nix")
    assert "import <nix/fetchurl.nix>" in lock.read_text()
    assert sorted(line.split('"')[1] for line in lock.read_text().splitlines() if line.strip().startswith("(wheel ")) == [
        "python3.11-alpha-1.0.0", "python3.11-beta-1.0.0", "python3.11-gamma-1.0.0"]  # fmt: skip
    check = unit["cache_check"]
    assert check["survived"] == {"app-01": True, "app-02": True}
    gc, optimise = check["commands"]
    assert gc["command"] == "nix-collect-garbage" and optimise["command"] == "nix-store --optimise"
    # nothing roots the fetched wheels once the env is built: the collector takes them (and nix's
    # 8 MiB reserve file, which the store makes again on its next open)
    assert gc["said_files"] > 0 and gc["said_bytes"] > 0
    assert gc["cache_bytes_after"] < gc["cache_bytes_before"]
    tables = (out / "tables.md").read_text()
    assert "| `nix-collect-garbage` |" in tables and "† **nix**: nix 2." in tables


def test_an_sdist_in_the_install_set_makes_the_wheels_only_stand_in_unavailable():
    files = [{"name": "app-core", "version": "1.0", "filename": "app_core-1.0-py3-none-any.whl", "role": "install"},
             {"name": "backend", "version": "1.0", "filename": "backend-1.0.tar.gz", "role": "build"}]  # fmt: skip
    assert Nix().wheels_only and wheels_only_reason("nix", Mirror.from_json({"files": files})) is None
    files.append({"name": "from-source", "version": "1.1", "filename": "from_source-1.1.tar.gz", "role": "install"})
    reason = wheels_only_reason("nix", Mirror.from_json({"files": files}))
    assert reason == "nix installs wheels only (a stand-in's builder): the install set holds from_source-1.1.tar.gz, an sdist"

