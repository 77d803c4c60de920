"""Latency in front of the index, where the kernel has no netem: a TCP proxy that delays.

Standard library only: it runs in the mirror's container, in front of the index server. Usage:
    python latency.py --listen 0.0.0.0:8080 --upstream 127.0.0.1:8081 --rtt-ms 40 \
        [--probe 0.0.0.0:8090] [-- SERVER ARGV...]
It prints `listening HOST:PORT` (and `probe HOST:PORT`) once it accepts connections. With ARGV it starts the index server
itself and ends with it. `--probe` serves `GET /bytes/N` (N zero bytes) over the same delayed
link: what a tool container measures the round trip and the throughput it gets with.

The link it emulates, after pnpm's benchmarks/latencyProxy.js: every chunk, in either direction,
waits one one-way delay (half the round trip) before it is passed on, in order, so a request and
its answer cost one round trip; and a new connection first waits one round trip, the TCP
handshake a client pays before its first byte. It does not model TCP slow start, loss, or a
bandwidth cap (the kernel's shaper, tc, caps bandwidth on the mirror's link).
"""

import argparse
import asyncio
import http.server
import subprocess
import sys
import threading
import time

CHUNK = 64 * 1024
IN_FLIGHT = 4 * 1024 * 1024  # bytes held per direction before the sender waits: bounds memory


def address(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: want HOST:PORT")
    return host, int(port)


class Link:
    """One direction of one connection: chunks released one-way delay after they arrived."""

    def __init__(self, reader, writer, one_way_s):
        self.reader, self.writer, self.one_way_s = reader, writer, one_way_s
        self.queue = asyncio.Queue()
        self.held = 0
        self.room = asyncio.Event()
        self.room.set()

    async def read(self):
        try:
            while True:
                await self.room.wait()
                chunk = await self.reader.read(CHUNK)
                self.queue.put_nowait((time.monotonic() + self.one_way_s, chunk))
                if not chunk:
                    return
                self.held += len(chunk)
                if self.held >= IN_FLIGHT:
                    self.room.clear()
        except (ConnectionError, OSError):
            self.queue.put_nowait((time.monotonic(), b""))

    async def write(self):
        try:
            while True:
                release, chunk = await self.queue.get()
                wait = release - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()  # half-close: the other direction may still carry data
                    return
                self.writer.write(chunk)
                await self.writer.drain()
                self.held -= len(chunk)
                if self.held < IN_FLIGHT:
                    self.room.set()
        except (ConnectionError, OSError):
            return


async def serve_one(client_reader, client_writer, upstream, rtt_s):
    await asyncio.sleep(rtt_s)  # the handshake: SYN out, SYN-ACK back
    try:
        up_reader, up_writer = await asyncio.open_connection(*upstream)
    except OSError:
        client_writer.close()
        return
    links = (Link(client_reader, up_writer, rtt_s / 2), Link(up_reader, client_writer, rtt_s / 2))
    try:
        await asyncio.gather(*(part for link in links for part in (link.read(), link.write())))
    finally:
        for writer in (up_writer, client_writer):
            writer.close()


class Probe(http.server.BaseHTTPRequestHandler):
    """GET /bytes/N: N zero bytes, written a chunk at a time."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (the standard library's name)
        size = self.path.removeprefix("/bytes/")
        if not size.isdigit() or int(size) > 2**31:
            self.send_error(404)
            return
        left = int(size)
        self.send_response(200)
        self.send_header("Content-Length", str(left))
        self.end_headers()
        zeros = bytes(CHUNK)
        while left:
            self.wfile.write(zeros[: min(left, CHUNK)])
            left -= min(left, CHUNK)

    def log_message(self, *args):
        pass


def start_probe():
    """The probe's own server on a loopback port, in a thread: the proxy puts the link in front."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[:2]


async def listen(where, upstream, rtt_s):
    async def handle(reader, writer):
        await serve_one(reader, writer, upstream, rtt_s)

    return await asyncio.start_server(handle, *where, reuse_address=True)


async def main_async(args, child):
    rtt_s = args.rtt_ms / 1000
    servers = [await listen(args.listen, args.upstream, rtt_s)]
    if args.probe:
        servers.append(await listen(args.probe, start_probe(), rtt_s))
    for label, server in zip(("listening", "probe"), servers):
        host, port = server.sockets[0].getsockname()[:2]
        print(f"{label} {host}:{port}", flush=True)
    forever = [asyncio.create_task(s.serve_forever()) for s in servers]
    if child is None:
        await asyncio.gather(*forever)
        return 0
    while child.poll() is None:  # the index server ended: so does its link
        await asyncio.sleep(0.5)
    return child.returncode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--upstream", type=address, required=True)
    parser.add_argument("--rtt-ms", type=float, required=True)
    parser.add_argument("--probe", type=address, help="serve GET /bytes/N here, over the same link")
    parser.add_argument("server", nargs="*", help="the index server's argv, after --")
    args = parser.parse_args(argv)
    if args.rtt_ms < 0:
        parser.error("--rtt-ms: must be 0 or more")
    child = subprocess.Popen(args.server) if args.server else None
    try:
        return asyncio.run(main_async(args, child))
    except KeyboardInterrupt:
        return 0
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
