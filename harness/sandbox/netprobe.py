"""What the link to the index gives a tool container: its round trip and its throughput.

Standard library only: it runs in a tool container, at the start of each unit of a run whose
scenario shapes the network. Usage:
    python netprobe.py INDEX_URL PROBE_URL BYTES
INDEX_URL: a small page of the index (its root); PROBE_URL: the mirror's probe
(harness/sandbox/latency.py), which serves BYTES zero bytes at PROBE_URL + BYTES. Prints JSON:
connect_ms (TCP connect), first_byte_ms (first request on the new connection: with the proxy it
holds the handshake's round trip), rtt_ms (the least time to the first byte of five requests on
that kept-alive connection: one round trip plus what the server takes), bandwidth_mbit (BYTES
from their first byte to their last) and bytes.
"""

import http.client
import json
import sys
import time
import urllib.parse

REQUESTS = 5


def connection(url):
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return kind(parts.hostname, parts.port, timeout=300), parts.path or "/"


def first_byte(conn, path):
    """Seconds from the request to the answer's head, and the answer read whole."""
    started = time.perf_counter()
    conn.request("GET", path)
    answer = conn.getresponse()
    took = time.perf_counter() - started
    body = answer.read()
    if answer.status != 200:
        raise SystemExit(f"GET {path}: HTTP {answer.status}")
    return took, body


def round_trip(url):
    conn, path = connection(url)
    started = time.perf_counter()
    conn.connect()
    connect = time.perf_counter() - started
    first, _ = first_byte(conn, path)
    again = min(first_byte(conn, path)[0] for _ in range(REQUESTS))
    conn.close()
    return connect, first, again


def throughput(url, size):
    conn, path = connection(url + str(size))
    conn.request("GET", path)
    answer = conn.getresponse()
    started = time.perf_counter()
    got = len(answer.read())
    took = time.perf_counter() - started
    conn.close()
    if got != size:
        raise SystemExit(f"GET {path}: {got} bytes of {size}")
    return got * 8 / took / 1e6 if took > 0 else None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or not argv[2].isdigit():
        print("usage: netprobe.py INDEX_URL PROBE_URL BYTES", file=sys.stderr)
        return 2
    index_url, probe_url, size = argv[0], argv[1], int(argv[2])
    connect, first, rtt = round_trip(index_url)
    found = {"connect_ms": round(connect * 1000, 2), "first_byte_ms": round(first * 1000, 2),
             "rtt_ms": round(rtt * 1000, 2), "bandwidth_mbit": None, "bytes": size}  # fmt: skip
    if size:
        found["bandwidth_mbit"] = round(throughput(probe_url, size), 2)
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
