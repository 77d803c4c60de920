"""One table of a report, as data: rendered to Markdown (tables.md) and to HTML (report.html)."""

from __future__ import annotations

from dataclasses import dataclass

import pyperf

from harness.report.stats import MIB, NOISY


def mib(value: float | None) -> str:
    return "not measured" if value is None else f"{value / MIB:,.1f}"


def seconds(bench: pyperf.Benchmark | None) -> str:
    """mean ± stdev of a pyperf benchmark; ⚠ when the stdev is above NOISY of the mean."""
    if bench is None:
        return "not measured"
    mean = bench.mean()
    if bench.get_nvalue() < 2:
        return f"{mean:.2f} (n=1)"
    stdev = bench.stdev()
    flag = " ⚠" if mean and stdev / mean > NOISY else ""
    return f"{mean:.2f} ± {stdev:.2f}{flag}"


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    legend: str = ""  # Markdown: what each column means, units, flags
    intro: str = ""  # Markdown: one line before the table

    @classmethod
    def of(cls, title: str, headers, rows, legend: str = "", intro: str = "") -> Table:
        return cls(title, tuple(headers), tuple(tuple(str(cell) for cell in row) for row in rows), legend, intro)


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_grid(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown(table: Table, level: int = 2) -> str:
    parts = [f"{'#' * level} {table.title}\n"]
    if table.intro:
        parts.append(table.intro.rstrip() + "\n")
    parts.append(markdown_grid(table.headers, table.rows))
    if table.legend:
        parts.append(table.legend.rstrip() + "\n")
    return "\n".join(parts)
