"""Shaping the mirror's link, from the host: the kernel's shapers in the mirror container's
network namespace, entered with nsenter. Tool containers and the mirror stay unprivileged; only
the host (root) touches a qdisc.

Egress of the mirror's interface: what the tools download (answers, wheels) waits there.
Bandwidth: a token bucket (tc tbf). Latency: netem's delay, where the kernel has netem, of one
whole round trip on the mirror's side (a handshake's SYN-ACK and every answer wait for it); else
the proxy in the mirror container (harness/sandbox/latency.py). What the tools upload (requests)
is not capped: it is a few KB per request.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from harness.backends.base import BackendError
from harness.settings.network import NETEM, PROXY, NetworkSpec

TOOLS = ("tc", "nsenter", "unshare")
LINK = "eth0"  # the mirror container's one interface on the run's network


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


@functools.cache  # the kernel's modules do not change within a run: asked once, not per check
def netem_missing() -> str | None:
    """Why the kernel cannot delay with netem (tried in a network namespace of its own), or None."""
    done = _run(["unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"])
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[0]


def refused(network: NetworkSpec) -> str | None:
    """Why this host cannot shape NETWORK (one line), or None."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"network: cannot shape the link: {', '.join(missing)} not found on this host (iproute2, util-linux)"
    if network.loss_percent and netem_missing():
        return f"network.loss_percent: needs the kernel's netem, which this kernel lacks ({netem_missing()})"
    return None


def mechanism(network: NetworkSpec) -> str | None:
    """How the latency is made: netem, the proxy, or None (no latency asked)."""
    if not network.rtt_ms:
        return None
    return PROXY if netem_missing() else NETEM


def commands(network: NetworkSpec, how: str | None) -> list[list[str]]:
    """The tc commands that shape the mirror's egress: netem (delay, loss) then tbf under it."""
    out, parent = [], ["root"]
    if how == NETEM or network.loss_percent:
        netem = ["netem", "delay", f"{network.rtt_ms:g}ms"] if how == NETEM else ["netem"]
        netem += ["loss", f"{network.loss_percent:g}%"] if network.loss_percent else []
        out.append(["tc", "qdisc", "add", "dev", LINK, "root", "handle", "1:", *netem])
        parent = ["parent", "1:"]
    if network.bandwidth_mbit:
        rate = network.bandwidth_mbit * 1e6 / 8  # bytes per second
        burst = max(int(rate / 100), 16 * 1024)  # 10 ms of the rate: a burst no timer tick outruns
        out.append(["tc", "qdisc", "add", "dev", LINK, *parent, "handle", "10:", "tbf",
                    "rate", f"{network.bandwidth_mbit:g}mbit", "burst", str(burst), "latency", "50ms"])  # fmt: skip
    return out


def apply(pid: int, network: NetworkSpec, how: str | None) -> None:
    """Shape the link of the container whose main process is PID."""
    for argv in commands(network, how):
        done = _run(["nsenter", "-t", str(pid), "-n", *argv])
        if done.returncode != 0:
            raise BackendError(f"`{' '.join(argv)}` in the mirror's namespace failed: {done.stderr.strip()[-300:]}")
