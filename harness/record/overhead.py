"""The harness's own time in run.json: what a run spent beside the tools' steps, part by part, and
the check that nothing it ran side by side fell inside a timed cell.

A run's wall time is the steps' (the tools' own, which the tables measure) plus the harness's
parts (mirror, setup, cell, probe, scan, reset, cleanup, other). The share, everything but the
steps over the steps, is what a user pays on top of what is measured. Every concurrent job and
every cell's steps leave an interval (host wall clock) in run.json: `overlaps` finds any pair.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.record.model import Run


def account(total_s: float, steps_s: float, timers: dict[str, float]) -> dict[str, float]:
    """run.json's `overhead`: the total, the steps, each part, `other` (the rest) and `share`."""
    parts = {f"{name}_s": value for name, value in sorted(timers.items())}
    other = max(0.0, total_s - steps_s - sum(timers.values()))
    spent = {"total_s": total_s, "steps_s": steps_s, **parts, "other_s": other}
    return {**spent, "share": share_of(spent) or 0.0}


def share_of(overhead: dict) -> float | None:
    """Harness time over step time; None when no step ran (runs recorded before `share` too)."""
    steps = overhead.get("steps_s") or 0.0
    if not steps or "total_s" not in overhead:
        return None
    return (overhead["total_s"] - steps) / steps


def combined(accounts: list[dict], once: tuple[str, ...] = ()) -> dict[str, float]:
    """ACCOUNTS added up part by part (the keys in ONCE taken from the first only), the share
    recomputed from the sums; {} when every account is empty."""
    out: dict[str, float] = {}
    for i, spent in enumerate(accounts):
        for key, value in spent.items():
            if key != "share" and not (i and key in once):
                out[key] = out.get(key, 0.0) + value
    return {**out, "share": share_of(out) or 0.0} if out else {}


def steps_of(overhead: dict) -> float:
    """The tools' steps' seconds (0 where no step ran)."""
    return overhead.get("steps_s") or 0.0


def total_of(overhead: dict) -> float | None:
    """The run's wall seconds, None for runs recorded before the total was."""
    return overhead.get("total_s")


def parts_of(overhead: dict) -> dict[str, float]:
    """The harness's parts in seconds, largest first (steps, total and share left out)."""
    parts = {k.removesuffix("_s"): v for k, v in overhead.items() if k.endswith("_s") and k not in ("total_s", "steps_s")}
    return dict(sorted(parts.items(), key=lambda kv: -kv[1]))


def summary(overhead: dict) -> str:
    """One line for the end of a run: the harness's seconds beside the steps', and its parts."""
    share = share_of(overhead)
    if share is None:
        return "harness time: no step ran"
    spent = overhead["total_s"] - overhead["steps_s"]
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts_of(overhead).items() if seconds >= 0.05)
    return f"harness time: {spent:.1f} s beside {overhead['steps_s']:.1f} s of steps ({100 * share:.1f} %): {parts}"


def timed_spans(run: Run) -> list[dict]:
    """Every timed cell's host interval ({"start", "end"}), from the step records that carry one
    (a cell's steps share its span: each cell once)."""
    spans = {tuple(step.span) for _, _, unit in run.units() for step in unit.steps if step.span}
    return [{"start": start, "end": end} for start, end in sorted(spans)]


def overlaps(intervals: Iterable[dict], timed: Iterable[dict]) -> list[tuple[dict, dict]]:
    """Every pair (concurrent job, timed interval) whose spans intersect: none, in a sound run."""
    timed = list(timed)
    return [(job, span) for job in intervals for span in timed if job["start"] < span["end"] and span["start"] < job["end"]]
