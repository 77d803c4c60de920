"""micromamba and pixi adapters, driven through a real run by fake binaries.

Neither binary can be downloaded here, so each test hands envbench a stand-in executable (as a
user hands it the real one, by ENVBENCH_MICROMAMBA or ENVBENCH_PIXI) that records every argv,
working directory and environment it is started with, then does what the real tool would with
py-rattler, the library pixi is built on, so the run's envs exist and are proved. The records
show the commands, the channel and the isolated caches are what the adapters intend.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.tools.registry import ADAPTERS

from .conftest import make_private_index, write
from .test_every_tool import SCENARIO

REPO = Path(__file__).resolve().parents[1]
FAKE = '''#!{python}
"""Fake {kind} for envbench's tests: records how it was started, then installs with py-rattler."""
import json, os, sys, tomllib
sys.path.insert(0, {repo!r})
from harness.sandbox import rattler_driver
from harness.tools.conda_names import subdir
with open({log!r}, "a") as f:
    f.write(json.dumps({{"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}}) + "\\n")
args = sys.argv[1:]
if args == ["--version"]:
    print({version!r})
    sys.exit(0)
platform = ["--platform", subdir()]
if {kind!r} == "micromamba":  # create --yes --prefix P --override-channels --channel C SPEC...
    prefix, channel = args[args.index("--prefix") + 1], args[args.index("--channel") + 1]
    specs, cache = args[args.index("--channel") + 2:], ["--cache-dir", os.environ["CONDA_PKGS_DIRS"]]
    lock = os.path.join(os.environ["TMPDIR"], "micromamba.lock")
    rattler_driver.main(["lock", "--channel", channel, "--lock", lock, *platform, *cache, *specs])
    rattler_driver.leave(rattler_driver.main(["install", "--lock", lock, "--prefix", prefix, *platform, *cache]))
cache = ["--cache-dir", os.environ["RATTLER_CACHE_DIR"]]
if args == ["lock"]:  # pixi.toml's channels and dependencies, as pixi reads them
    with open("pixi.toml", "rb") as f:
        manifest = tomllib.load(f)
    specs = [" ".join([name, spec]) if isinstance(spec, str) else " ".join([name, spec["version"], spec["build"]])
             for name, spec in manifest["dependencies"].items()]
    channel = manifest["workspace"]["channels"][0]
    rattler_driver.leave(rattler_driver.main(["lock", "--channel", channel, "--lock", "pixi.lock", *platform, *cache, *specs]))
if args == ["install"]:
    prefix = ".pixi/envs/default"
    rattler_driver.leave(rattler_driver.main(["install", "--lock", "pixi.lock", "--prefix", prefix, *platform, *cache]))
sys.exit("fake {kind}: unexpected arguments " + " ".join(args))
'''


def fake_binary(folder: Path, kind: str, version: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    binary, log = folder / kind, folder / f"{kind}.log"
    binary.write_text(FAKE.format(python=sys.executable, kind=kind, repo=str(REPO), log=str(log), version=version))
    binary.chmod(0o755)
    return binary, log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture(scope="module")
def run_with_fakes(tmp_path_factory, tool_venvs):
    """One run of both adapters with their fake binaries (the tests read what it recorded)."""
    from harness.cli.main import main

    base = tmp_path_factory.mktemp("fakes")
    micromamba, micromamba_log = fake_binary(base / "bin", "micromamba", "2.0.5")
    pixi, pixi_log = fake_binary(base / "bin", "pixi", "pixi 0.50.2")
    with pytest.MonkeyPatch.context() as patch:
        make_private_index(base / "private", patch)
        patch.setenv("ENVBENCH_MICROMAMBA", str(micromamba))
        patch.setenv("ENVBENCH_PIXI", str(pixi))
        patch.setenv("ENVBENCH_WORK", str(base / "work"))
        status = main(["run", str(write(base / "s.yaml", SCENARIO)), "--backend", "local", "--tools", "conda,pixi",
                       "--out", str(base / "out")])  # fmt: skip
    run = json.loads((base / "out" / "run.json").read_text())
    assert status == 0, run["failures"]
    return run, calls(micromamba_log), calls(pixi_log)


def sandbox_root(call: dict) -> Path:
    return Path(call["cwd"]).parents[1]  # steps run in ROOT/projects/PROJECT


def isolated(call: dict) -> None:
    """The tool saw its sandbox's HOME and caches, and nothing of the user's or the test's."""
    env, root = call["env"], sandbox_root(call)
    assert env["HOME"] == str(root / "home") and env["XDG_CACHE_HOME"] == str(root / "cache")
    assert env["TMPDIR"] == str(root / "tmp")
    assert not any(name.startswith(("PYTEST", "ENVBENCH", "VIRTUAL_ENV")) for name in env), sorted(env)


def test_micromamba_gets_the_channel_the_specs_and_its_own_package_cache(run_with_fakes):
    run, micromamba, _ = run_with_fakes
    channel = run["conda_channel"]["url"]
    assert channel.startswith("file:///") and run["conda_channel"]["stand_in"] == "stand-in: converted channel"
    info = run["tools"]["conda"]
    assert info["status"] == "ok" and info["version"] == "2.0.5", run["failures"]
    assert info["stand_in"] == "micromamba 2.0.5 on a local channel converted from PyPI wheels (stand-in: converted channel)"
    entry = info["layouts"]["same-volume"]
    assert all(env["proved"] for env in entry["envs"].values()) and len(entry["envs"]) == 2
    assert entry["link_mode"] == "hardlink"  # envs hard-linked from the package cache the adapter named
    creates = [c for c in micromamba if c["argv"][1:] != ["--version"]]
    # app-01 cold, app-02 warm (the fleet), app-01 warm (the matrix)
    assert len(creates) == len([s for s in entry["steps"] if s["operation"] == "install"]) == 3
    for call in creates:
        root = sandbox_root(call)
        project = Path(call["cwd"]).name
        assert call["argv"][1:] == [
            "create", "--yes", "--prefix", str(root / "projects" / project / ".conda"), "--override-channels",
            "--channel", channel, "python 3.11.*", "stack", "inhouse >=2 *_private_*",
        ]  # fmt: skip
        isolated(call)
        env = call["env"]
        assert env["CONDA_PKGS_DIRS"] == str(root / "cache" / "conda-pkgs")
        assert env["MAMBA_ROOT_PREFIX"] == str(root / "home" / "micromamba")
        assert env["MAMBARC"] == env["CONDARC"] == "/dev/null"  # no user's .condarc adds a channel
    # the recorded argv is the adapter's own, step for step
    assert [s["argv"][1:] for s in entry["steps"] if s["operation"] == "install"] == [c["argv"][1:] for c in creates]


def test_pixi_locks_from_its_manifest_then_installs_with_its_own_cache(run_with_fakes):
    run, _, pixi = run_with_fakes
    info = run["tools"]["pixi"]
    assert info["status"] == "ok" and info["version"] == "0.50.2", run["failures"]
    entry = info["layouts"]["same-volume"]
    assert all(env["proved"] for env in entry["envs"].values()) and len(entry["envs"]) == 2
    assert entry["link_mode"] == "hardlink"
    steps = [(s["project"], s["state"], s["operation"]) for s in entry["steps"]]
    assert ("app-01", "locked", "install") in steps and ("app-01", "locked", "lock") not in steps  # the lock is kept
    work = [c for c in pixi if c["argv"][1:] != ["--version"]]
    assert [c["argv"][1:] for c in work] == [[s["operation"]] for s in entry["steps"]]
    for call in work:
        isolated(call)
        root = sandbox_root(call)
        assert call["env"]["RATTLER_CACHE_DIR"] == str(root / "cache" / "rattler")
        assert call["env"]["PIXI_CACHE_DIR"] == str(root / "cache" / "pixi")
    assert (run["tools"]["pixi"]["layouts"]["same-volume"]["lock"]).endswith("pixi.lock")
    manifest = ADAPTERS["pixi"].project_files("app-01", ("stack", "inhouse>=2"), _source(run), "3.11")["pixi.toml"]
    assert run["conda_channel"]["url"] in manifest


def test_without_a_binary_both_stay_unavailable_with_the_reason(tmp_path, private_index, tool_venvs, isolated_work, cli):
    status, _, _ = cli("run", write(tmp_path / "s.yaml", SCENARIO), "--backend", "local", "--tools", "conda,pixi",
                       "--out", tmp_path / "out")  # fmt: skip
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert status == 1 and {t: i["status"] for t, i in run["tools"].items()} == {"conda": "unavailable", "pixi": "unavailable"}
    assert "ENVBENCH_MICROMAMBA" in run["tools"]["conda"]["reason"] and "ENVBENCH_PIXI" in run["tools"]["pixi"]["reason"]
    assert "conda_channel" not in run  # nothing converted for tools that cannot run


def _source(run: dict):
    from harness.tools.base import PackageSource

    return PackageSource(conda_channel=run["conda_channel"]["url"], names=(("u", "private"),), pinned=(("inhouse", "u"),))
