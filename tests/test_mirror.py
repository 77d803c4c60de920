"""envbench mirror: closures resolved for the target platform, wheels stored once, offline."""

from __future__ import annotations

import csv
import hashlib
import json
import os

import pytest

from harness.packages.synth import SynthPackage, build_wheel

from .conftest import no_route_out, write


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVBENCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def closure(folder):
    return {w["name"]: w for w in json.loads((folder / "closure.json").read_text())["files"]}


def test_wheelhouse_closure_is_stored_once_and_laid_out(tmp_path, wheelhouse, home, cli):
    scenario = write(
        tmp_path / "s.yaml",
        f"""
    name: offline
    python: "3.11"
    wheelhouse: {wheelhouse}
    projects:
      - name: app
        count: 3
        dependencies: [alpha, gamma]
    """,
    )
    status, out, err = cli("mirror", scenario)
    assert status == 0, err
    folder = home / "mirrors" / out.strip().splitlines()[-1].split("/")[-1]
    wheels = closure(folder)
    assert sorted(wheels) == ["alpha", "beta", "gamma"]  # beta comes with alpha
    for wheel in wheels.values():
        source = wheelhouse / wheel["filename"]
        assert wheel["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
        assert wheel["size"] == source.stat().st_size and wheel["index"] == "pypi"
        stored = home / "wheels" / wheel["sha256"] / wheel["filename"]
        laid = folder / "pypi" / wheel["filename"]
        assert os.path.samefile(stored, laid)  # the mirror links the store, no second copy
    assert err.count("storing") == 3

    status, out_again, err_again = cli("mirror", scenario)
    assert status == 0 and "storing" not in err_again
    assert out_again.strip().splitlines()[-1] == out.strip().splitlines()[-1]  # same closure, same name


def test_pinned_package_comes_only_from_its_index(tmp_path, home, cli, monkeypatch):
    host, fast = tmp_path / "host", tmp_path / "fast"
    for package in (SynthPackage("alpha", dependencies=("gamma",)), SynthPackage("gamma", version="1.0"),
                    SynthPackage("gamma", version="2.0")):  # fmt: skip
        build_wheel(package, host)
    build_wheel(SynthPackage("gamma", version="1.5"), fast)
    # The host's own pip configuration, as a user's would be: no index, a folder of wheels.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(host))
    scenario = write(
        tmp_path / "s.yaml",
        """
    name: pinned
    python: "3.11"
    indexes:
      fast: https://fast.invalid/simple
    projects:
      - name: app
        dependencies: [alpha, gamma]
        sources: {gamma: fast}
    """,
    )
    status, _, err = cli("mirror", scenario)
    assert status == 1
    [line] = err.strip().splitlines()
    assert line.startswith("envbench mirror: index fast (https://fast.invalid/simple): resolving gamma failed")
    assert "ENVBENCH_INDEX_FAST may name" in line

    monkeypatch.setenv("ENVBENCH_INDEX_FAST", str(fast))
    status, out, err = cli("mirror", scenario)
    assert status == 0, err
    wheels = closure(home / "mirrors" / out.strip().splitlines()[-1].split("/")[-1])
    # 2.0 is newer and in the host's folder, but gamma is pinned to `fast`, which has 1.5 only.
    assert (wheels["gamma"]["version"], wheels["gamma"]["index"]) == ("1.5", "fast")
    assert (wheels["alpha"]["version"], wheels["alpha"]["index"]) == ("1.0.0", "pypi")


def test_named_index_at_pypis_url_serves_only_what_is_pinned_to_it(tmp_path, home, cli, monkeypatch):
    """scenarios/torch-cpu-vs-cuda.yaml's case: the host's folder holds a better-sorting CPU build
    (1.0+cpu), so the CUDA group pins torch to PyPI itself under a name of its own."""
    pypi, local = tmp_path / "pypi", tmp_path / "local"
    for package in (SynthPackage("alpha"), SynthPackage("torchish", version="1.0", dependencies=("nv-lib",)),
                    SynthPackage("nv-lib")):  # fmt: skip
        build_wheel(package, pypi)
    build_wheel(SynthPackage("torchish", version="1.0+cpu"), local)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_FIND_LINKS", str(local))
    monkeypatch.setenv("ENVBENCH_INDEX_PYPI", str(pypi))
    monkeypatch.setenv("ENVBENCH_INDEX_PYPI_CUDA", str(pypi))  # the same place as the default index
    scenario = write(
        tmp_path / "s.yaml",
        """
    name: same-url
    python: "3.11"
    indexes:
      pypi-cuda: https://pypi.org/simple
    projects:
      - name: cuda
        dependencies: [alpha, torchish==1.0]
        sources: {torchish: pypi-cuda}
    """,
    )
    status, out, err = cli("mirror", scenario)
    assert status == 0, err
    folder = home / "mirrors" / out.strip().splitlines()[-1].split("/")[-1]
    wheels = closure(folder)
    assert {name: (w["version"], w["index"]) for name, w in wheels.items()} == {
        "torchish": ("1.0", "pypi-cuda"), "alpha": ("1.0.0", "pypi"), "nv-lib": ("1.0.0", "pypi"),
    }  # fmt: skip
    assert sorted(p.name for p in (folder / "pypi-cuda").iterdir()) == ["torchish-1.0-py3-none-any.whl"]


@pytest.fixture
def offline_host_pip(wheelhouse, monkeypatch):
    """The host's pip configuration, as a user's might be: no index, only a folder of wheels."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))


def mirror_scenario(tmp_path):
    return write(
        tmp_path / "s.yaml",
        """
    name: mirrored
    python: "3.11"
    repetitions: 1
    projects:
      - name: app
        count: 2
        dependencies: [alpha, gamma]
    """,
    )


def packages(out):
    with open(out / "packages.csv", newline="") as f:
        return sorted(tuple(row.values()) for row in csv.DictReader(f))


def test_local_runs_install_the_mirrored_closure(tmp_path, offline_host_pip, tool_venvs, isolated_work, cli):
    scenario = mirror_scenario(tmp_path)
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "pip-venv,uv", "--out", tmp_path / "a")
    assert status == 0, err
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["scenario"]["source"] == "mirror"
    assert sorted(w["name"] for w in run["mirror"]["files"]) == ["alpha", "beta", "gamma"]
    assert run["mirror"]["urls"]["pypi"].startswith("http://127.0.0.1:")
    # Both tools installed exactly the mirrored files: the same digests as the closure's wheels.
    rows = packages(tmp_path / "a")
    assert {(r[0], r[2]) for r in rows if r[2] in ("alpha", "beta", "gamma")} == {
        (tool, name) for tool in ("pip-venv", "uv") for name in ("alpha", "beta", "gamma")
    }
    # pip caches what the mirror serves (it caches plain HTTP from trusted hosts only).
    pip_cache = next(r for r in run["tools"]["pip-venv"]["layouts"]["same-volume"]["disk"]["roots"] if r["scope"] == "cache")
    assert pip_cache["apparent_bytes"] > 1024 * 1024


@pytest.mark.docker
def test_two_docker_runs_install_byte_identical_sets_offline(tmp_path, offline_host_pip, cli, docker_client, tools_image):
    from harness.backends import engine

    client = docker_client
    scenario = mirror_scenario(tmp_path)
    for out in ("a", "b"):
        status, _, err = cli("run", scenario, "--backend", "docker", "--tools", "pip-venv,uv", "--out", tmp_path / out)
        assert status == 0, err
    assert packages(tmp_path / "a") == packages(tmp_path / "b")
    assert len(packages(tmp_path / "a")) >= 2 * 2 * 3  # tools × projects × (alpha, beta, gamma)
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["backend"]["network"].endswith("-mirror")  # the internal network, set when served
    # The same trees to the block, caches included: the mirror's URL is the same in every run.
    assert run["mirror"]["urls"] == json.loads((tmp_path / "b" / "run.json").read_text())["mirror"]["urls"]
    physical = [[row.split(",")[:4] + row.split(",")[5:] for row in (tmp_path / out / "disk.csv").read_text().splitlines()]
                for out in ("a", "b")]  # fmt: skip
    assert physical[0] == physical[1] and len(physical[0]) > 6
    for out in ("a", "b"):  # each run removed its network (other runs' on this engine aside)
        run_id = json.loads((tmp_path / out / "run.json").read_text())["run_id"]
        assert not client.networks.list(filters={"label": f"{engine.LABEL}={run_id}"})


@pytest.mark.docker
def test_mirror_network_has_no_route_out(tmp_path, offline_host_pip, docker_client, tools_image):
    from harness.backends import engine
    from harness.backends.docker import DockerBackend
    from harness.packages import mirror
    from harness.scenario.parse import load
    from harness.tools.registry import ADAPTERS

    client, image = docker_client, tools_image
    folder = mirror.prepare(load(mirror_scenario(tmp_path)))
    backend = DockerBackend(client, image, "test-mirror-net", tmp_path / "logs", None, {})
    # what a hard-killed earlier sitting of the same run id leaves: a network of the same name
    client.networks.create("envbench-test-mirror-net-mirror", internal=True, labels={engine.LABEL: "test-mirror-net"})
    try:
        urls = backend.serve(folder, "")
        sandbox = backend.sandbox(ADAPTERS["uv"], backend.python("3.11"), "same-volume")
        fetch = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)"
        assert backend._exec(sandbox, [sandbox.python, "-c", fetch, urls["pypi"] + "alpha/"])[0] == 0
        no_route_out(backend, sandbox)  # the mirror's internal network: nothing else
    finally:
        backend.close()
    assert not client.networks.list(filters={"label": f"{engine.LABEL}=test-mirror-net"})


# Run in a tool container: what a client of the mirror sees, checked against its own trust store.
CLIENT_VIEW = """
import hashlib, json, sys, urllib.request
index = sys.argv[1]
def get(url, **headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
        return answer.status, answer.headers, answer.read()
JSON = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_, head, body = get(index, Accept=JSON)
listing = json.loads(body)
_, head_page, body = get(index + "alpha/", Accept=JSON)
page = json.loads(body)
wheel = next(f for f in page["files"] if f["filename"].endswith(".whl"))
url = urllib.parse.urljoin(index + "alpha/", wheel["url"])
_, _, metadata = get(url + ".metadata")
_, _, html = get(index + "alpha/")
status, range_head, part = get(url, Range="bytes=0-99")
print(json.dumps({"type": head["Content-Type"], "api": listing["meta"]["api-version"],
                  "projects": sorted(p["name"] for p in listing["projects"]), "file": wheel,
                  "metadata_sha256": hashlib.sha256(metadata).hexdigest(), "metadata": metadata.decode(),
                  "html": html.decode(), "range": [status, len(part), range_head["Content-Range"]],
                  "versions": page["versions"], "vary": head_page["Vary"]}))
"""


@pytest.mark.docker
def test_mirror_speaks_what_pypi_speaks(tmp_path, offline_host_pip, docker_client, tools_image):
    """PEP 691 JSON by Accept, PEP 658/714 core metadata whose hash the page gives, PEP 700 size
    and upload time, a 206 to a range request, over HTTPS a tool container verifies."""
    from harness.backends.docker import DockerBackend
    from harness.packages import mirror
    from harness.scenario.parse import load
    from harness.tools.registry import ADAPTERS

    folder = mirror.prepare(load(mirror_scenario(tmp_path)))
    backend = DockerBackend(docker_client, tools_image, "test-mirror-pep", tmp_path / "logs", None, {})
    try:
        urls = backend.serve(folder, "")
        assert urls["pypi"].startswith("https://")
        sandbox = backend.sandbox(ADAPTERS["uv"], backend.python("3.11"), "same-volume")
        code, out, err = backend._exec(sandbox, [sandbox.python, "-c", CLIENT_VIEW, urls["pypi"]])
        assert code == 0, err.decode()[-600:]
        seen = json.loads(out)
        facts = backend.index_facts()
    finally:
        backend.close()
    wheel = seen["file"]
    stored = closure(folder)["alpha"]
    assert seen["type"] == "application/vnd.pypi.simple.v1+json" and seen["api"] == "1.1" and seen["vary"] == "Accept"
    assert "alpha" in seen["projects"] and seen["versions"] == [stored["version"]]
    assert wheel["hashes"]["sha256"] == stored["sha256"] and wheel["size"] == stored["size"]
    assert wheel["core-metadata"] == {"sha256": seen["metadata_sha256"]}
    assert seen["metadata"].startswith("Metadata-Version:") and "Name: alpha" in seen["metadata"]
    assert wheel["upload-time"].endswith("Z")
    assert f'data-core-metadata="sha256={seen["metadata_sha256"]}"' in seen["html"]
    assert seen["range"] == [206, 100, f"bytes 0-99/{stored['size']}"]
    assert facts["server"].startswith("nginx/") and "pep691-json" in facts["features"]


SYNTHETIC = """
name: synth
python: "3.11"
checkpoints: [1]
synthetic:
  - {name: stack, files: 4, file_size: 65536, binary: true, dependencies: [stack-base>=1]}
  - {name: stack-base, version: "1.2", files: 3}
projects:
  - name: app
    count: 2
    dependencies: [stack]
"""


def test_synthetic_packages_are_generated_and_mirrored_offline(tmp_path, home, cli, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://192.0.2.1:9/simple")  # an index would fail: none is asked
    scenario = write(tmp_path / "s.yaml", SYNTHETIC)
    status, out, err = cli("mirror", scenario)
    assert status == 0, err
    folder = home / "mirrors" / out.strip().splitlines()[-1].split("/")[-1]
    wheels = closure(folder)
    assert {(w["name"], w["version"]) for w in wheels.values()} == {("stack", "1.0.0"), ("stack-base", "1.2")}
    built = build_wheel(SynthPackage("stack", files=4, file_size=65536, binary=True, dependencies=("stack-base>=1",)),
                        tmp_path / "again")  # fmt: skip
    assert wheels["stack"]["sha256"] == hashlib.sha256(built.read_bytes()).hexdigest()  # deterministic
    assert wheels["stack"]["size"] > 4 * 65536
    stored = home / "wheels" / wheels["stack"]["sha256"] / wheels["stack"]["filename"]
    assert os.path.samefile(stored, folder / "pypi" / wheels["stack"]["filename"])
    assert err.count("generating") == 2

    status, _, err_again = cli("mirror", scenario)
    assert status == 0 and "generating" not in err_again  # the generated set is kept by its specification


def test_synthetic_name_taken_by_an_index_is_refused(tmp_path, home, cli, monkeypatch):
    other = tmp_path / "other"
    build_wheel(SynthPackage("stack", version="9.0"), other)
    monkeypatch.setenv("PIP_FIND_LINKS", str(other))  # the host's configuration offers another "stack"
    status, _, err = cli("mirror", write(tmp_path / "s.yaml", SYNTHETIC))
    assert status == 1
    assert "synthetic package stack collides with file://" in err and "stack-9.0" in err
