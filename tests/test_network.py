"""The scenario key `network`: read and refused like every key, refused where the link cannot be
shaped, and, in Docker, the mirror's link shaped from the host and measured from a tool container
(harness/backends/shaping.py, harness/sandbox/latency.py, harness/sandbox/netprobe.py)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from harness.backends import shaping
from harness.scenario.parse import parse
from harness.scenario.yamlnodes import ScenarioError
from harness.settings.network import NETEM, PROXY, NetworkSpec

from .conftest import write

BASE = 'name: s\npython: "3.11"\nrepetitions: 1\nprojects:\n  - name: app\n    count: 2\n    dependencies: [alpha, gamma]\n'


def test_the_key_is_read_and_bad_values_are_refused_with_their_line():
    assert parse(BASE + "network: {rtt_ms: 40, bandwidth_mbit: 100}\n").network == NetworkSpec(40.0, 100.0)
    assert parse(BASE + "network: none\n").network is None and parse(BASE).network is None
    for text, said in (("network: {rtt_ms: -1}", "network.rtt_ms: must be between 0 and 10000, not -1"),
                       ("network: {loss_percent: 1}", "network: give rtt_ms, bandwidth_mbit or both"),
                       ("network: {rtt_ms: fast}", "network.rtt_ms: must be a number, not str 'fast'"),
                       ("network: {rtt: 3}", "network.rtt: unknown key"),
                       ("network: home", "named profiles are not shipped yet")):  # fmt: skip
        with pytest.raises(ScenarioError) as caught:
            parse(BASE + text + "\n", "s.yaml")
        assert str(caught.value).startswith("s.yaml:8: ") and said in str(caught.value)


def test_the_scenario_records_the_network_only_when_it_has_one():
    assert "network" not in parse(BASE).to_json()  # runs before the key hash as they did
    assert parse(BASE + "network: {rtt_ms: 40}\n").to_json()["network"] == {"rtt_ms": 40.0, "bandwidth_mbit": None}


def test_tc_commands_put_the_bucket_under_the_delay():
    spec = NetworkSpec(rtt_ms=40, bandwidth_mbit=100)
    netem, tbf = shaping.commands(spec, NETEM)
    assert netem[:7] == ["tc", "qdisc", "add", "dev", "eth0", "root", "handle"] and netem[8:] == ["netem", "delay", "40ms"]
    assert tbf[5:7] == ["parent", "1:"] and tbf[tbf.index("rate") + 1] == "100mbit"
    [alone] = shaping.commands(spec, PROXY)  # the proxy delays: tc only caps
    assert alone[5] == "root" and "tbf" in alone
    assert shaping.commands(NetworkSpec(rtt_ms=40), PROXY) == []


def test_the_local_backend_refuses_a_network_in_one_line(tmp_path, cli):
    scenario = write(tmp_path / "s.yaml", BASE + "network: {rtt_ms: 40}\n")
    status, _, err = cli("run", scenario, "--backend", "local", "--tools", "uv", "--out", tmp_path / "out")
    assert status == 2 and err.strip().splitlines()[-1].endswith("no network namespace of its own to shape; use --backend docker")
    assert not (tmp_path / "out").exists()


def test_netem_delays_where_the_kernel_has_it():
    why = shaping.netem_missing()
    if why:
        pytest.skip(f"this kernel has no netem: {why}")
    argv = shaping.commands(NetworkSpec(rtt_ms=200), NETEM)[0]
    script = f"ip link set lo up && {' '.join(argv).replace('eth0', 'lo')} && ping -c 2 -q 127.0.0.1"
    done = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    rtt_avg = float(done.stdout.rsplit("=", 1)[1].split("/")[1])
    assert rtt_avg >= 200 * 2  # lo: the delay on the way out and on the way back


@pytest.fixture
def offline_host_pip(wheelhouse, monkeypatch):
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))


@pytest.mark.docker
def test_a_shaped_mirror_gives_tools_the_round_trip_and_the_cap(tmp_path, offline_host_pip, cli, docker_client, tools_image):
    scenario = write(tmp_path / "s.yaml", BASE + "network: {rtt_ms: 40, bandwidth_mbit: 100}\n")
    status, _, err = cli("run", scenario, "--backend", "docker", "--tools", "uv", "--out", tmp_path / "out")
    assert status == 0, err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    network = run["network"]
    assert network["configured"] == {"rtt_ms": 40.0, "bandwidth_mbit": 100.0}
    latency = "netem" if shaping.netem_missing() is None else "proxy"
    assert network["mechanism"] == f"{latency} (latency), tbf (bandwidth)"
    [measured] = network["measured"].values()
    assert measured["rtt_ms"] >= 35 and measured["bandwidth_mbit"] <= 110, measured
    assert measured["bytes"] == 50_000_000
    assert all(env["proved"] for env in run["tools"]["uv"]["layouts"]["same-volume"]["envs"].values())
    said = (tmp_path / "out" / "tables.md").read_text()
    assert f"Network: 40 ms round trip, 100 Mbit/s configured, shaped by {latency} (latency), tbf (bandwidth)" in said
