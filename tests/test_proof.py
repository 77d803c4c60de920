"""The proof: what a tool installed against what was asked and locked, on a real venv.

Wheels are generated here; uv (envbench's own dependency) installs them offline into a venv,
and harness/sandbox/probe.py runs inside it as it does in a run. A package that imports a module it
never declared is the package's need, not the tool's fault; another version than the lock's,
or a file changed after install, is the tool's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from uv import find_uv_bin

from harness.packages import mirror, synth
from harness.record.model import Mirror
from harness.run import proof
from harness.sandbox import FOLDER as SANDBOX
from harness.sandbox import probe as probe_script

PROBE = SANDBOX / "probe.py"


def wheel(folder: Path, name: str, version: str, code: str) -> Path:
    module = name.replace("-", "_")
    files = {f"{module}/__init__.py": code.encode(), "METADATA": synth._metadata(name, version, [])}
    return synth._write_wheel(folder / f"{module}-{version}-py3-none-any.whl", files, name, version, "py3-none-any", module)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    wheel(folder, "plain", "1.0", "VALUE = 1\n")
    wheel(folder, "plain", "2.0", "VALUE = 2\n")
    wheel(folder, "needy", "1.0", "import undeclared_optional_dependency\n")
    return folder


def make_env(root: Path, wheels: Path, *requirements: str) -> Path:
    uv = find_uv_bin()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(root)], check=True)
    python = root / "bin" / "python"
    if requirements:
        # copies from a cache of the test's own: a test that edits an installed file edits no other env
        subprocess.run([uv, "pip", "install", "-q", "--python", str(python), "--offline", "--no-index", "--find-links",
                        str(wheels), "--link-mode", "copy", "--cache-dir", str(root.parent / "uv-cache"), *requirements],
                       check=True)  # fmt: skip
    return python


def probe(python: Path, *requested: str, scratch: Path | None = None) -> dict:
    scratch = scratch or python.parent.parent / "probe-scratch"
    done = subprocess.run([str(python), "-I", "-B", str(PROBE), str(scratch), *requested], check=True, capture_output=True)
    return json.loads(done.stdout)


def expected(wheels: Path, **versions: str) -> proof.Expected:
    """What a mirror holding WHEELS would say the project installs."""
    digests = {p.name.split("-")[0]: mirror.record_digest(p) for p in wheels.glob("*.whl") if
               p.name.split("-")[1] == versions.get(p.name.split("-")[0])}  # fmt: skip
    return proof.Expected({n: (v, digests[n]) for n, v in versions.items()}, {"plain": {"1.0", "2.0"}, "needy": {"1.0"}})


def test_a_packages_own_import_need_is_recorded_against_it(tmp_path, wheels):
    python = make_env(tmp_path / "env", wheels, "plain==1.0", "needy==1.0")
    report = probe(python, "plain", "needy")
    verdict = proof.judge(report, ["plain==1.0", "needy==1.0"], expected(wheels, plain="1.0", needy="1.0"))
    assert verdict.proved, verdict.faults
    assert list(verdict.import_needs) == ["needy"]
    assert verdict.import_needs["needy"].startswith("needy: ModuleNotFoundError")
    assert "undeclared_optional_dependency" in verdict.import_needs["needy"]


def test_another_version_than_the_lock_is_the_tools_fault(tmp_path, wheels):
    python = make_env(tmp_path / "env", wheels, "plain==2.0")
    verdict = proof.judge(probe(python, "plain"), ["plain"], expected(wheels, plain="1.0"))
    assert not verdict.proved
    assert verdict.faults == ["plain is 2.0, the lock asks for 1.0"]


def test_a_file_changed_after_install_breaks_the_proof(tmp_path, wheels):
    python = make_env(tmp_path / "env", wheels, "plain==1.0")
    installed = next((tmp_path / "env").glob("lib/python*/site-packages/plain/__init__.py"))
    installed.write_text("VALUE = 3\n")
    verdict = proof.judge(probe(python, "plain"), ["plain"], expected(wheels, plain="1.0"))
    assert not verdict.proved
    assert any("plain: 1 files differ from its RECORD" in fault for fault in verdict.faults), verdict.faults


def test_a_hard_linked_file_changed_after_an_earlier_probe_still_breaks_the_proof(tmp_path, wheels):
    # Probes of one sandbox share the hashes of the hard-linked files they read, by inode; a
    # write in place keeps the inode and the size but moves its mtime: the file is read again.
    python = make_env(tmp_path / "env", wheels, "plain==1.0")
    subprocess.run(["cp", "-al", str(tmp_path / "env"), str(tmp_path / "twin")], check=True)
    twin = tmp_path / "twin" / "bin" / "python"
    scratch = tmp_path / "scratch"
    assert proof.judge(probe(python, "plain", scratch=scratch), ["plain"], expected(wheels, plain="1.0")).proved
    assert list((scratch / "probe-hashes").glob("*.json")), "the hard-linked files' hashes are kept"
    assert proof.judge(probe(twin, "plain", scratch=scratch), ["plain"], expected(wheels, plain="1.0")).proved
    installed = next((tmp_path / "twin").glob("lib/python*/site-packages/plain/__init__.py"))
    with open(installed, "r+") as f:  # both envs' file: one inode
        f.write("VALUE = 3\n")
    for env in (python, twin):
        verdict = proof.judge(probe(env, "plain", scratch=scratch), ["plain"], expected(wheels, plain="1.0"))
        assert not verdict.proved
        assert any("plain: 1 files differ from its RECORD" in fault for fault in verdict.faults), verdict.faults


def test_nothing_installed_fails(tmp_path, wheels):
    python = make_env(tmp_path / "env", wheels)
    verdict = proof.judge(probe(python, "plain"), ["plain"], expected(wheels, plain="1.0"))
    assert not verdict.proved and "plain is not installed" in verdict.faults


def test_a_file_two_packages_ship_is_their_clash_not_the_tools_fault(tmp_path, wheels):
    # jupyter 1.0.0 and jupyter-core both install jupyter.py: whichever comes last wins.
    for name, text in (("ship-a", "A = 1\n"), ("ship-b", "B = 2\n")):
        module = name.replace("-", "_")
        files = {f"{module}/__init__.py": b"", "shared_top.py": text.encode(), "METADATA": synth._metadata(name, "1.0", [])}
        synth._write_wheel(wheels / f"{module}-1.0-py3-none-any.whl", files, name, "1.0", "py3-none-any", module)
    python = make_env(tmp_path / "env", wheels, "ship-a==1.0", "ship-b==1.0")
    verdict = proof.judge(probe(python, "ship-a", "ship-b"), ["ship-a", "ship-b"], None)
    assert verdict.proved, verdict.faults
    ((loser, text),) = verdict.clashes.items()
    winner = "ship-a" if loser == "ship-b" else "ship-b"
    assert text == f"shared_top.py is {winner}'s"


def test_build_requirements_of_the_mirror_do_not_judge_the_envs_seed_packages(tmp_path, wheels):
    # The mirror serves setuptools 84 to build an sdist; venv seeds its own older setuptools.
    record = {"files": [{"name": "plain", "version": "1.0", "role": "install"},
                        {"name": "setuptools", "version": "84.2.1", "role": "build"}],
              "projects": [{"dependencies": ["plain"], "sources": {}, "installs": [["plain", "1.0"]]}]}  # fmt: skip
    expected = proof.expected_for(Mirror.from_json(record), ["plain"], {})
    assert "setuptools" not in expected.served
    report = {"packages": [{"name": "plain", "version": "1.0", "sha256": "x"}, {"name": "setuptools", "version": "66.1.1"}],
              "imports": {"plain": None}}  # fmt: skip
    assert proof.judge(report, ["plain"], expected).proved


def test_a_seeded_pip_that_satisfies_the_projects_request_is_kept_not_a_fault(tmp_path):
    """Home Assistant asks for pip>=21.3.1: pip + venv keeps the pip venv seeded, the mirror serves a newer one."""
    root = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)  # seeds the interpreter's bundled pip
    report = probe(root / "bin" / "python", "pip")
    seeded = next(p["version"] for p in report["packages"] if p["name"] == "pip")
    newer = proof.Expected({"pip": ("999.0", "digest")}, {"pip": {"999.0"}})
    verdict = proof.judge(report, ["pip>=21.3.1"], newer)
    assert verdict.proved, verdict.faults
    assert verdict.kept_seeds == {"pip": f"the env's seeded pip {seeded} satisfies pip>=21.3.1"}
    # a request the seeded copy does not satisfy still needs the mirror's release
    strict = proof.judge(report, ["pip>=999"], newer)
    assert not strict.proved and strict.faults[0] == f"pip is {seeded}, the lock asks for 999.0"


def test_a_seeded_setuptools_another_package_asks_for_is_kept_where_it_satisfies_that_request(tmp_path):
    """tensorflow asks for setuptools: pip + venv keeps the setuptools venv seeded (Python 3.11's
    66.1.1), the mirror resolved a newer one. Kept where it satisfies every request on it."""
    root = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    python = root / "bin" / "python"
    report = probe(python)
    seeded = next((p["version"] for p in report["packages"] if p["name"] == "setuptools"), None)
    if seeded is None:
        pytest.skip("this Python's venv seeds no setuptools (3.12 and later)")
    for name, asks in (("asker", "setuptools"), ("strict", "setuptools>=999")):
        files = {f"{name}/__init__.py": b"", "METADATA": synth._metadata(name, "1.0", [asks])}
        built = synth._write_wheel(tmp_path / f"{name}-1.0-py3-none-any.whl", files, name, "1.0", "py3-none-any", name)
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(built)], check=True)
    newer = proof.Expected({"setuptools": ("999.0", "digest")}, {"setuptools": {"999.0"}})
    report = probe(python, "asker")
    assert report["seed_requests"]["setuptools"] == ["asker: setuptools", "strict: setuptools>=999"]
    verdict = proof.judge(report, ["asker"], newer)
    assert not verdict.proved and verdict.faults[0] == f"setuptools is {seeded}, the lock asks for 999.0"
    report["seed_requests"]["setuptools"] = ["asker: setuptools", "strict: setuptools>=999 ; extra == 'all'"]
    verdict = proof.judge(report, ["asker"], newer)  # a request under an extra nobody asked for does not count
    assert verdict.proved, verdict.faults
    assert verdict.kept_seeds == {"setuptools": f"the env's seeded setuptools {seeded} satisfies setuptools (asker)"}


def test_hard_linked_envs_share_bytecode_outside_every_env(tmp_path, wheels):
    # uv writes no __pycache__: the first probe compiles a shared source into the sandbox's
    # scratch folder, named by its inode; the twin's import reads it; no env gets a .pyc.
    python = make_env(tmp_path / "env", wheels, "plain==1.0")
    subprocess.run(["cp", "-al", str(tmp_path / "env"), str(tmp_path / "twin")], check=True)
    scratch = tmp_path / "scratch"
    first = probe(python, "plain", scratch=scratch)
    shared = list((scratch / "probe-pycache").glob("*.pyc"))
    assert first["imports"] == {"plain": None} and len(shared) == 1
    cached = shared[0].stat().st_mtime_ns
    assert probe(tmp_path / "twin" / "bin" / "python", "plain", scratch=scratch)["imports"] == {"plain": None}
    assert [p.stat().st_mtime_ns for p in (scratch / "probe-pycache").glob("*.pyc")] == [cached]  # read, not rewritten
    site = next((tmp_path / "env").glob("lib/python*/site-packages"))
    assert not list(site.glob("plain/**/*.pyc")) and not list((tmp_path / "twin").rglob("plain/__pycache__"))


def test_a_constraint_on_an_installed_package_is_asked_of_every_tool():
    """Home Assistant's anyio==3.7.1 constrains a package httpx brings; another group's closure
    serves anyio 4, so a tool not told of the constraint (Poetry, PDM take none) would take that."""
    from harness.scenario.model import Project

    project = Project("ha", ("httpx==0.24.1", "pyopenssl==23.2.0"), constraints=("anyio==3.7.1", "pyOpenSSL>=23.1.0",
                      "numpy==1.23.2"))  # fmt: skip
    record = Mirror.from_json({"files": [], "projects": [{"dependencies": list(project.dependencies), "sources": {}, "python": "",
                               "constraints": list(project.constraints), "installs": [["httpx", "0.24.1"], ["anyio", "3.7.1"],
                               ["pyopenssl", "23.2.0"]]}]})  # fmt: skip
    # anyio is installed: asked for; numpy is not: left out; pyOpenSSL's constraint narrows its dependency
    assert proof.asked_of(project, record, "3.11") == ("httpx==0.24.1", "pyopenssl==23.2.0,>=23.1.0", "anyio==3.7.1")
    assert proof.asked_of(Project("x", ("httpx",)), record, "3.11") == ("httpx",)  # no constraints: as given


def test_an_import_that_writes_to_home_leaves_nothing_in_the_scanned_trees(tmp_path, wheels):
    """Envs are proved before the scan: what an import writes (a font cache in HOME, a config
    under XDG_CONFIG_HOME) goes under the sandbox's tmp, never into HOME, the cache or an env."""
    from harness.backends.local import LocalBackend
    from harness.sandbox import scan
    from harness.tools.base import Sandbox

    code = ("import os\n"
            "for var in ('HOME', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME'):\n"
            "    os.makedirs(os.environ[var], exist_ok=True)\n"
            "    open(os.path.join(os.environ[var], 'written-on-import'), 'w').write('x')\n"
            "os.makedirs(os.path.expanduser('~/.cache/fontlist'), exist_ok=True)\n")  # fmt: skip
    wheel(wheels, "writer", "1.0", code)
    sandbox = Sandbox(root=str(tmp_path / "box"), python=sys.executable)
    for folder in (sandbox.home, sandbox.cache, sandbox.tmp):
        Path(folder).mkdir(parents=True)
    python = make_env(Path(sandbox.project_dir("app")) / ".venv", wheels, "writer==1.0")
    roots = [sandbox.home, sandbox.cache, sandbox.project_dir("app")]
    before = scan.scan(roots, [sandbox.cache])["total"]
    report = LocalBackend(tmp_path / "work", tmp_path / "logs").probe(sandbox, str(python), ["writer"])
    assert report["imports"] == {"writer": None}
    written = sorted(p.relative_to(sandbox.tmp).as_posix() for p in Path(sandbox.tmp).rglob("written-on-import"))
    assert written == ["probe-home/.cache/written-on-import", "probe-home/.config/written-on-import",
                       "probe-home/written-on-import"]  # fmt: skip
    assert scan.scan(roots, [sandbox.cache])["total"] == before  # the scanned trees: not an inode more


def test_what_an_import_prints_stays_out_of_the_report_on_stdout(tmp_path, wheels):
    """A container's backend reads the report from the probe's standard output: a package that
    prints when imported must not break it."""
    wheel(wheels, "chatty", "1.0", "print('hello from chatty')\nimport sys\nsys.stdout.write('more')\n")
    python = make_env(tmp_path / "env", wheels, "chatty==1.0")
    done = subprocess.run([str(python), "-I", "-B", str(PROBE), str(tmp_path / "scratch"), "chatty"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    report = json.loads(done.stdout)
    assert report["imports"] == {"chatty": None}
    assert "hello from chatty" in done.stderr and "more" in done.stderr


def test_a_copy_is_compared_with_a_verified_copy_and_a_changed_one_still_breaks_the_proof(tmp_path):
    # Envs of copies (pip + venv): a large file whose hash an earlier probe verified is the
    # reference for its copies in later envs, compared byte for byte instead of hashed.
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    big = bytes(range(256)) * ((probe_script.COMPARED_MIN // 256) + 8)
    files = {"heavy/__init__.py": b"", "heavy/blob.bin": big, "METADATA": synth._metadata("heavy", "1.0", [])}
    synth._write_wheel(wheels / "heavy-1.0-py3-none-any.whl", files, "heavy", "1.0", "py3-none-any", "heavy")
    scratch = tmp_path / "scratch"
    first, second, third, fourth = (
        make_env(tmp_path / name, wheels, "heavy==1.0") for name in ("first", "second", "third", "fourth")
    )
    blob = {
        name: next((tmp_path / name).glob("lib/python*/site-packages/heavy/blob.bin")) for name in ("first", "second", "third")
    }
    wanted = expected(wheels, heavy="1.0")

    report = probe(first, "heavy", scratch=scratch)
    assert proof.judge(report, ["heavy"], wanted).proved
    assert report["timing"]["compared_bytes"] == 0 and report["timing"]["hashed_bytes"] >= len(big)
    report = probe(second, "heavy", scratch=scratch)
    assert proof.judge(report, ["heavy"], wanted).proved
    assert report["timing"]["compared_bytes"] == len(big), report["timing"]  # compared, not hashed

    with open(blob["second"], "r+b") as f:  # one byte changed in place: same size, same inode
        f.seek(len(big) // 2)
        f.write(b"\xff")
    verdict = proof.judge(probe(second, "heavy", scratch=scratch), ["heavy"], wanted)
    assert not verdict.proved
    assert any("heavy: 1 files differ from its RECORD" in fault for fault in verdict.faults), verdict.faults

    for name in ("first", "third"):  # the reference changed, and a copy changed alike: equal bytes, both wrong
        with open(blob[name], "r+b") as f:
            f.write(b"\xff")
    verdict = proof.judge(probe(third, "heavy", scratch=scratch), ["heavy"], wanted)
    assert not verdict.proved, "a reference that changed is one no more: the copy is hashed"
    with open(blob["third"], "r+b") as f:  # the copy as installed again: hashed in full, and right
        f.write(big[:1])
    report = probe(third, "heavy", scratch=scratch)
    assert proof.judge(report, ["heavy"], wanted).proved
    assert report["timing"]["compared_bytes"] == 0, report["timing"]

    shutil.rmtree(tmp_path / "third")  # the reference's env removed: the next copy is hashed
    report = probe(fourth, "heavy", scratch=scratch)
    assert proof.judge(report, ["heavy"], wanted).proved
    assert report["timing"]["compared_bytes"] == 0, report["timing"]


def test_the_probe_counts_the_bytecode_a_tool_compiled_into_the_env(tmp_path, wheels):
    """uv compiles nothing by default; compileall over the env stands for a tool that compiles:
    the count is of .pyc files in site-packages, and the probe's own imports add none."""
    python = make_env(tmp_path / "env", wheels, "plain==1.0")
    assert probe(python, "plain")["bytecode"] == {"pyc_files": 0, "pyc_bytes": 0}
    site = next((tmp_path / "env").glob("lib/python*/site-packages"))
    subprocess.run([str(python), "-m", "compileall", "-q", str(site)], check=True)
    compiled = [p for p in site.rglob("*.pyc")]
    assert compiled
    found = probe(python, "plain")["bytecode"]
    assert found == {"pyc_files": len(compiled), "pyc_bytes": sum(p.stat().st_size for p in compiled)}


def test_bytecode_a_wheel_ships_and_the_installer_compiles_anew_is_no_fault(tmp_path):
    """numpy 1.26 lists `numpy/distutils/__pycache__/conv_template.cpython-311.pyc` in its RECORD;
    pip compiles every module after unpacking and writes that file anew. The env is right."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    shipped = f"ships_pyc/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    files = {"ships_pyc/__init__.py": b"VALUE = 1\n", shipped: b"bytecode of the build machine",
             "METADATA": synth._metadata("ships-pyc", "1.0", [])}  # fmt: skip
    synth._write_wheel(folder / "ships_pyc-1.0-py3-none-any.whl", files, "ships-pyc", "1.0", "py3-none-any", "ships_pyc")
    root = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)  # pip + venv, as the tool does
    python = root / "bin" / "python"
    offline = {"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null"}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(folder),
                    "--no-cache-dir", "ships-pyc"], check=True, env=offline)  # fmt: skip
    [package] = [p for p in probe(python, "ships-pyc")["packages"] if p["name"] == "ships-pyc"]
    assert package["record_recompiled"] == 1 and package["record_bad_count"] == 0, package
    # Bytecode no interpreter wrote is still a changed file.
    installed = next((root / "lib").glob(f"python*/site-packages/{shipped}"))
    installed.write_bytes(b"not bytecode at all")
    [package] = [p for p in probe(python, "ships-pyc", scratch=tmp_path / "scratch2")["packages"] if p["name"] == "ships-pyc"]
    assert package["record_bad_count"] == 1 and package["record_recompiled"] == 0, package
