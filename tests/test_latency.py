"""The latency proxy (harness/sandbox/latency.py), in front of a real HTTP server: a new
connection costs the handshake's round trip and the request's, a request on a kept-alive
connection one round trip, and every byte arrives unchanged."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "harness" / "sandbox" / "latency.py"
RTT = 0.3
BODY = os.urandom(3 * 1024 * 1024)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as pip and uv use the index

    def do_GET(self):  # noqa: N802 (the standard library's name)
        body = BODY if self.path == "/big" else b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxied():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"127.0.0.1:{server.server_address[1]}"
    proxy = subprocess.Popen([sys.executable, str(SCRIPT), "--listen", "127.0.0.1:0", "--upstream", upstream,
                              "--rtt-ms", str(RTT * 1000)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = proxy.stdout.readline()
        assert line.startswith("listening "), line
        host, port = line.split()[1].rsplit(":", 1)
        yield host, int(port)
    finally:
        proxy.terminate()
        proxy.wait(10)
        server.shutdown()


def timed_get(connection, path):
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    return time.perf_counter() - started, response.status, body


def test_a_new_connection_pays_two_round_trips_a_kept_one_one(proxied):
    connection = http.client.HTTPConnection(*proxied, timeout=30)
    first, status, body = timed_get(connection, "/small")
    assert status == 200 and body == b"ok"
    again, _, _ = timed_get(connection, "/small")  # the same connection: no handshake
    connection.close()
    assert first >= 2 * RTT
    assert RTT <= again < 2 * RTT, again


def test_every_byte_arrives_unchanged(proxied):
    connection = http.client.HTTPConnection(*proxied, timeout=30)
    _, status, body = timed_get(connection, "/big")
    connection.close()
    assert status == 200 and body == BODY


def test_bad_arguments_are_one_line_exit_2():
    done = subprocess.run([sys.executable, str(SCRIPT), "--listen", "nohost", "--upstream", "127.0.0.1:1", "--rtt-ms", "5"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2 and "want HOST:PORT" in done.stderr


def test_the_proxy_starts_its_server_serves_a_probe_and_netprobe_measures_the_link(tmp_path):
    """The mirror's arrangement: the proxy starts the index server (here Python's http.server) and
    serves the probe over the same link; netprobe.py, as a tool container runs it, sees the round
    trip (at least the one configured) and every byte of the probe."""
    (tmp_path / "simple").mkdir()
    (tmp_path / "simple" / "index.html").write_text("<html></html>")
    inner = 8700 + os.getpid() % 200
    proxy = subprocess.Popen([sys.executable, str(SCRIPT), "--listen", "127.0.0.1:0", "--upstream", f"127.0.0.1:{inner}",
                              "--rtt-ms", "100", "--probe", "127.0.0.1:0", "--", sys.executable, "-m", "http.server",
                              str(inner), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        port = int(proxy.stdout.readline().split(":")[-1])
        probe = proxy.stdout.readline()
        assert probe.startswith("probe "), probe
        probe_port = int(probe.split(":")[-1])
        netprobe = SCRIPT.parent / "netprobe.py"
        for _ in range(50):  # the index server may still be starting
            done = subprocess.run([sys.executable, str(netprobe), f"http://127.0.0.1:{port}/simple/",
                                   f"http://127.0.0.1:{probe_port}/bytes/", str(2_000_000)],
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            if done.returncode == 0:
                break
            time.sleep(0.2)
        found = json.loads(done.stdout)
        assert found["rtt_ms"] >= 100 and found["first_byte_ms"] >= 200  # the new connection's handshake too
        assert found["bytes"] == 2_000_000 and found["bandwidth_mbit"] > 0
    finally:
        proxy.terminate()
        assert proxy.wait(10) is not None

