"""Machines of different kinds in one run: a merge of shards or parts measured on other machines.

Disk figures do not depend on the machine and merge freely; timings do. When a run's parts ran
on machines of more than one kind (CPU model, core count, engine version), every table of times
names each tool's kind in its column and says that columns of different kinds are not one
comparison.
"""

from __future__ import annotations

import string

from harness.record.facts import Part
from harness.record.model import Run


def kind_of(part: Part) -> tuple:
    machine, backend = part.machine, part.backend
    return (machine.get("cpu_model") or "unknown CPU", machine.get("cpus"), backend.get("name"),
            backend.get("engine_version") or "")  # fmt: skip


def describe(kind: tuple) -> str:
    cpu, cpus, backend, engine = kind
    return f"{cpu}, {cpus} CPUs, {backend}" + (f" {engine}" if engine else "")


def kinds(run: Run) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """({(tool, layout): letter}, {letter: description}) when the run's parts ran on more than one
    kind of machine; two empty dicts otherwise."""
    parts = {p.run_id: kind_of(p) for p in run.parts}
    if len(set(parts.values())) < 2:
        return {}, {}
    letters = {kind: string.ascii_uppercase[i] for i, kind in enumerate(dict.fromkeys(parts.values()))}
    of_unit = {}
    for tool, info in run.tools.items():
        for layout, unit in info.layouts.items():
            part = unit.part or info.part
            if part in parts:
                of_unit[(tool, layout)] = letters[parts[part]]
    return of_unit, {letter: describe(kind) for kind, letter in letters.items()}


def warning(legend: dict[str, str]) -> str:
    """The line above a table of times whose columns come from different kinds of machine."""
    named = "; ".join(f"**[{letter}]** {text}" for letter, text in legend.items())
    return (f"⚠ These timings come from machines of different kinds ({named}): compare tools only within one kind; "
            "the disk figures do not depend on the machine.")  # fmt: skip
