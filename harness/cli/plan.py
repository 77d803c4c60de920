"""`envbench plan`: the units and cells of a run, with cost estimates; runs nothing."""

from __future__ import annotations

from rich.table import Table

from harness.cli.common import EXIT_OK, backend_layouts, positive, stdout_console, tools_of
from harness.run import costs
from harness.run.plan import plan
from harness.run.runner import unit_unavailable
from harness.scenario.parse import load

HELP = "the units and cells of a run, with cost estimates; runs nothing"


def add_arguments(plan_cmd) -> None:
    plan_cmd.add_argument("scenario")
    plan_cmd.add_argument("--shards", type=positive, default=1, metavar="N", help="split the units into N shards")
    plan_cmd.add_argument("--tools", help="comma-separated tools (default: the scenario's)")
    plan_cmd.add_argument("--projects", type=positive, help="only the first N projects, as run's")
    plan_cmd.add_argument("--repetitions", type=positive, help="timing repetitions, as run's")
    plan_cmd.add_argument("--backend", choices=("auto", "docker", "local"), default="auto",
                          help="the backend the run will name: its layouts decide what runs and how shards split")  # fmt: skip


def command(args) -> int:
    """The units of a run, their cells and estimated wall time, split into --shards N."""
    scenario = load(args.scenario)
    scenario = scenario.with_overrides(tools=tools_of(args, scenario), projects=args.projects, repetitions=args.repetitions)
    sizes = costs.project_sizes(scenario)
    layouts = backend_layouts(args.backend)
    split = costs.shards(scenario, args.shards, layouts)
    table = Table(title=f"envbench plan {scenario.name}: {len(scenario.projects)} projects, {args.shards} shard(s)")
    for header in ("shard", "tool", "unit", "cells", "estimate min", "here"):
        table.add_column(header, justify="right" if header in ("cells", "estimate min") else "left")
    totals, here = [], []
    for number, units in enumerate(split, start=1):
        total = runs_here = 0.0
        for unit in units:
            lockable = costs.lockable(scenario, unit.tool)
            seconds = costs.unit_cost(scenario, unit, sizes, lockable) if unit.layout in layouts else 0.0
            reason = unit_unavailable(scenario, unit)
            if unit.layout not in layouts:  # recorded unavailable at once, by any machine
                reason = f"the {args.backend} backend has no {unit.layout} layout: it needs the docker backend"
            total += seconds
            runs_here += 0.0 if reason else seconds
            cells = len(plan(scenario, unit.tool, unit.key, lockable))
            table.add_row(f"{number}/{args.shards}", unit.tool, unit.key, str(cells), f"{seconds / 60:.1f}",
                          f"unavailable: {reason.split(':')[0]}" if reason else "runs")  # fmt: skip
        totals.append(total)
        here.append(runs_here)
        table.add_row(f"{number}/{args.shards}", "[bold]in all[/]", "", "", f"[bold]{total / 60:.1f}[/]", "", end_section=True)
    out = stdout_console()
    out.print(table)
    where = sizes.source if sizes.source != "guessed" else "a guess per dependency (no local mirror yet: `envbench mirror`)"
    out.print(
        f"One machine: about {sum(totals) / 60:.0f} min for every unit, {sum(here) / 60:.0f} min for the units that run "
        f"here. {args.shards} shard(s) on machines of this kind: about {max(totals, default=0) / 60:.0f} min (the largest), "
        "plus each machine's setup (images, mirror).\n"
        "Estimates, not measurements: each cell is charged by its tool's fixed and per-GiB seconds fitted to committed "
        f"runs (smoke, seed; harness/tools/registry.py), project sizes from {where}. The split uses the scenario and the "
        "backend named alone, so every machine computes the same shards.",
        highlight=False,
    )
    return EXIT_OK
