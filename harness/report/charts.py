"""Charts of a run, with matplotlib's Agg backend: each one as PNG and SVG in RUN_DIR/charts/.

- disk: stacked bars of physical bytes per tool: the cache, bytes shared between envs (outside
  the cache), bytes exclusive to one env. The three add up to the run's physical total.
- growth: physical total against the number of projects, from the scenario's checkpoints.
- time: time to a ready env per state of the time matrix, mean with stdev error bars.
- settings: each tool beside its variants (a run with variants): disk, cold time, and whether
  the envs survived the tool's cache commands.
A tool keeps one colour in every chart (its place in envbench's tool list).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from harness.record.model import Run  # noqa: E402
from harness.record.states import STATES  # noqa: E402
from harness.report import duplication  # noqa: E402
from harness.report.answer import answers  # noqa: E402
from harness.report.cache import base_of, survival_of  # noqa: E402
from harness.report.stats import GIB, ready_env_samples  # noqa: E402
from harness.tools.registry import colour_of  # noqa: E402

DUPLICATION_BARS = 24  # distributions shown one by one (torch's CUDA build brings about 20)


def colour(tool: str):
    """A tool's colour: the registry's for a known tool (the same in every chart, whichever others
    ran); other names (variants) by a stable hash into tab20b."""
    return colour_of(tool) or plt.get_cmap("tab20b")(int(hashlib.sha256(tool.encode()).hexdigest(), 16) % 20)


@dataclass(frozen=True)
class Chart:
    name: str  # file stem in charts/
    title: str
    png: Path
    svg: Path


def _label(tool: str, layout: str, several_layouts: bool) -> str:
    return f"{tool} ({layout})" if several_layouts else tool


def _save(fig, folder: Path, name: str, title: str) -> Chart:
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=120, bbox_inches="tight")
    # Text as text, not paths: the SVG stays small and its labels searchable in report.html.
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        fig.savefig(svg, bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return Chart(name, title, png, svg)


def disk_chart(run: Run, folder: Path) -> Chart | None:
    measured = [a for a in answers(run) if a.measured]
    if not measured:
        return None
    several = len({a.summary.layout for a in measured}) > 1
    bars = []
    for a in reversed(measured):  # largest at the top
        roots = run.tools[a.summary.tool].layouts[a.summary.layout].disk.roots
        cache = sum(r.physical_bytes for r in roots if not r.is_project)
        exclusive = sum(r.marginal_bytes for r in roots if r.is_project)
        shared = max(a.summary.total_bytes - cache - exclusive, 0)
        bars.append((a.summary.tool, _label(a.summary.tool, a.summary.layout, several), cache, shared, exclusive))
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(bars) + 1.6))
    for y, (tool, _, cache, shared, exclusive) in enumerate(bars):
        c = colour(tool)
        ax.barh(y, cache / GIB, color=c, alpha=0.35, hatch="//", edgecolor="black", linewidth=0.5)
        ax.barh(y, shared / GIB, left=cache / GIB, color=c, alpha=0.65, edgecolor="black", linewidth=0.5)
        ax.barh(y, exclusive / GIB, left=(cache + shared) / GIB, color=c, edgecolor="black", linewidth=0.5)
        total = (cache + shared + exclusive) / GIB
        ax.text(total, y, f" {total:,.2f} GiB", va="center", fontsize=9)
    ax.set_yticks(range(len(bars)), [label for _, label, *_ in bars], fontsize=10)
    ax.set_xlabel("physical disk, GiB (hard links counted once)")
    ax.set_xlim(0, max(sum(b[2:]) for b in bars) / GIB * 1.25)
    projects = len(run.projects)
    ax.set_title(f"Disk for {projects} projects of '{run.scenario.name}', per tool")
    legend = [
        plt.Rectangle((0, 0), 1, 1, facecolor="grey", alpha=0.35, hatch="//", edgecolor="black", label="tool cache"),
        plt.Rectangle((0, 0), 1, 1, facecolor="grey", alpha=0.65, edgecolor="black", label="shared between envs"),
        plt.Rectangle((0, 0), 1, 1, facecolor="grey", edgecolor="black", label="exclusive to one env"),
    ]
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.1 - 1.0 / (len(bars) + 3)), ncol=3, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, folder, "disk", "Physical disk per tool: cache, shared between envs, exclusive to envs")


def growth_chart(run: Run, folder: Path) -> Chart | None:
    series = [(tool, layout, unit.growth) for tool, layout, unit in run.units() if len(unit.growth or []) > 1]
    if not series:
        return None
    several = len({layout for _, layout, _ in series}) > 1
    fig, ax = plt.subplots(figsize=(9, 5))
    ticks = set()
    for i, (tool, layout, points) in enumerate(series):
        xs = [p.projects for p in points]
        ys = [p.unique / GIB for p in points]
        ticks.update(xs)
        # Tools with the same figures draw on top of each other: markers and dashes keep both visible.
        ax.plot(xs, ys, marker="osD^v<>"[i % 7], linestyle=("-", "--", ":", "-.")[i % 4], markersize=7 - (i % 3),
                color=colour(tool), label=_label(tool, layout, several), linewidth=2)  # fmt: skip
    ax.set_xticks(sorted(ticks))
    ax.set_xlabel("projects installed")
    ax.set_ylabel("physical disk, GiB (cache and envs)")
    ax.set_title(f"How disk grows with the number of projects ('{run.scenario.name}')")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=9, ncol=2)
    return _save(fig, folder, "growth", "Disk against the number of projects (checkpoints)")


def time_chart(run: Run, folder: Path) -> Chart | None:
    samples = ready_env_samples(run)
    if not samples:
        return None
    keys = list(dict.fromkeys((tool, layout) for tool, layout, _ in samples))
    states = [s for s in STATES if any(state == s for _, _, state in samples)]
    several = len({layout for _, layout in keys}) > 1
    width = 0.8 / len(keys)
    fig, ax = plt.subplots(figsize=(11, 5))
    lowest = None
    for i, (tool, layout) in enumerate(keys):
        xs, means, errors = [], [], []
        for j, state in enumerate(states):
            values = samples.get((tool, layout, state))
            if not values:
                continue
            mean = sum(values) / len(values)
            stdev = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
            xs.append(j - 0.4 + width * (i + 0.5))
            means.append(mean)
            errors.append(stdev)
        ax.bar(xs, means, width, yerr=errors, capsize=2, color=colour(tool), label=_label(tool, layout, several))
        lowest = min([lowest, *means]) if lowest is not None else min(means)
    ax.set_xticks(range(len(states)), states)
    ax.set_yscale("log")
    # On a log axis a bar is drawn from the axis' floor: one whose top lies below it vanishes.
    ax.set_ylim(bottom=lowest / 2)
    bottom, top = ax.get_ylim()
    narrow = top / bottom < 30  # under about a decade and a half: label every minor tick too
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g} s"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if narrow or f"{value:g}"[0] in "25" else ""))
    ax.set_ylabel("wall seconds to a ready env (log scale)")
    ax.set_xlabel("state (first project; error bars: stdev over repetitions)")
    ax.set_title(f"Time to a ready env per state ('{run.scenario.name}')")
    ax.grid(axis="y", alpha=0.3, which="both")
    ax.legend(fontsize=9, ncol=min(len(keys), 5), loc="upper center", bbox_to_anchor=(0.5, -0.13))
    return _save(fig, folder, "time", "Time to a ready env per state, mean ± stdev")


def duplication_chart(run: Run, folder: Path) -> Chart | None:
    """One env of each project group side by side: the distributions that differ between the
    groups one by one (largest first), then everything identical in every group as one bar."""
    ref = duplication.reference(run) if duplication.project_groups(run) else None
    if ref is None:
        return None
    tool, _, first = ref
    groups = list(first)
    rows = [h for h in duplication.held(first) if h.kind != duplication.IDENTICAL][:DUPLICATION_BARS]
    same = [h for h in duplication.held(first) if h.kind == duplication.IDENTICAL]
    labels = [f"{h.name} ({h.kind})" for h in rows] + [f"identical in every group ({len(same)} distributions)"]
    sizes = [[h.releases.get(g, ("", "", 0))[2] / GIB for h in rows] + [sum(h.releases[g][2] for h in same) / GIB]
             for g in groups]  # fmt: skip
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(labels) * len(groups) + 1.8))
    height = 0.8 / len(groups)
    hatches = ("", "//", "..", "xx")
    for i, g in enumerate(groups):
        total = sum(p.installed_bytes for p in first[g].packages) / GIB
        ys = [y - 0.4 + height * (i + 0.5) for y in range(len(labels))]
        ax.barh(ys, sizes[i], height, color=plt.get_cmap("tab10")(i), hatch=hatches[i % 4], edgecolor="black",
                linewidth=0.4, label=f"{g}: one env, {total:,.2f} GiB in all")  # fmt: skip
    ax.set_yticks(range(len(labels)), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(f"installed GiB in one env (the files each distribution's RECORD lists; {tool}'s envs)")
    ax.set_title(f"Where one env's bytes go, per group ('{run.scenario.name}')")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    return _save(fig, folder, "duplication", "One env of each group: what differs between them, and what is identical")


def settings_chart(run: Run, folder: Path) -> Chart | None:
    """Each tool with variants in the run beside them, grouped: disk for the fleet, with the cold
    time and the survival of a cache clean written at the bar's end."""
    base = base_of(run)
    measured = [a for a in answers(run) if a.measured]
    variants = [a.summary.tool for a in measured if base.get(a.summary.tool, a.summary.tool) != a.summary.tool]
    families = sorted({base[tool] for tool in variants})
    if not families:
        return None
    several = len({a.summary.layout for a in measured}) > 1
    bars = [a for family in families for a in sorted((a for a in measured if base.get(a.summary.tool) == family),
                                                      key=lambda a: a.summary.total_bytes)]  # fmt: skip
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(bars) + 1.6))
    for y, a in enumerate(reversed(bars)):
        s = a.summary
        ax.barh(y, s.total_bytes / GIB, color=colour(base.get(s.tool, s.tool)), edgecolor="black", linewidth=0.5,
                hatch="" if base.get(s.tool) == s.tool else "//")  # fmt: skip
        cold = f", cold {s.cold.mean():,.1f} s" if s.cold else ""
        survived = survival_of(run, s.tool, s.layout)
        clean = f", survives cache clean: {survived}" if survived else ""
        ax.text(s.total_bytes / GIB, y, f" {s.total_bytes / GIB:,.2f} GiB{cold}{clean}", va="center", fontsize=8)
    ax.set_yticks(range(len(bars)), [_label(a.summary.tool, a.summary.layout, several) for a in reversed(bars)], fontsize=9)
    ax.set_xlim(0, max(a.summary.total_bytes for a in bars) / GIB * 1.9)
    ax.set_xlabel("physical disk for every project and the cache, GiB (hatched: a variant)")
    ax.set_title(f"Each tool's settings ('{run.scenario.name}', {len(run.projects)} projects)")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, folder, "settings", "Each tool beside its variants: disk, cold time, survival of a cache clean")


def write_charts(run: Run, folder: Path) -> list[Chart]:
    """Every chart the run has data for; stale ones from an earlier report are removed."""
    made = (disk_chart(run, folder), settings_chart(run, folder), growth_chart(run, folder), time_chart(run, folder),
            duplication_chart(run, folder))
    charts = [c for c in made if c]
    kept = {p for c in charts for p in (c.png, c.svg)}
    for old in folder.glob("*") if folder.exists() else ():
        if old.suffix in (".png", ".svg") and old not in kept:
            old.unlink()
    return charts
