"""The network a run's tools reach their index over (scenario key `network`).

Absent, the tools fetch from the mirror over the engine's bridge: no added latency, no cap.
Configured, the docker backend shapes the mirror's side of that link from the host
(harness/backends/shaping.py): bandwidth by the kernel's token bucket (tc tbf), latency by netem
where the kernel has it, else by a proxy in front of the index (harness/sandbox/latency.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# How the latency was made: the kernel's netem on the mirror's interface, or the proxy.
NETEM, PROXY = "netem", "proxy"


@dataclass(frozen=True)
class NetworkSpec:
    """The link to emulate: round trip, bandwidth cap (None: uncapped) and random loss."""

    rtt_ms: float = 0.0
    bandwidth_mbit: float | None = None
    loss_percent: float = 0.0

    def to_json(self) -> dict:
        out = {"rtt_ms": self.rtt_ms, "bandwidth_mbit": self.bandwidth_mbit}
        return out | ({"loss_percent": self.loss_percent} if self.loss_percent else {})

    def describe(self) -> str:
        parts = [f"{self.rtt_ms:g} ms round trip"]
        parts.append(f"{self.bandwidth_mbit:g} Mbit/s" if self.bandwidth_mbit else "no bandwidth cap")
        if self.loss_percent:
            parts.append(f"{self.loss_percent:g} % loss")
        return ", ".join(parts)
