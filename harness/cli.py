"""Command line (DESIGN.md, "Command line"): exit 0 success, 1 a measurement failed, 2 bad input."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import adhoc, costs, engine, filesystems, images, mirror, overhead, report, resume, scan
from .backends.base import BackendError
from .backends.docker import DockerBackend
from .backends.local import LocalBackend
from .diskspace import NotEnoughDisk
from .plan import plan
from .report import tables
from .report.answer import answer_table
from .results import RunRecord, write_atomic
from .resume import ResumeRefused
from .runner import Resumed, Runner, unit_unavailable
from .scenario import KNOWN_TOOLS, ScenarioError, load
from .settings import envbench_home
from .store import ROLES
from .units import ShardError, parse_shard, units_of

QUICK_PROJECTS = 2  # --quick: one cold and one warm project
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input on the command line: one line, exit 2."""


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="envbench", description="Measure the disk and time Python environment managers cost.")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialize a scenario with each tool and measure it")
    run.add_argument("scenario", nargs="?", help="a scenario file; or give one project's file below")
    for kind, what in (("requirements", "a pip requirements file"), ("pyproject", "a pyproject.toml"),
                       ("lock", "a uv.lock, poetry.lock or pylock.toml")):  # fmt: skip
        run.add_argument(f"--{kind}", metavar="FILE", help=f"run N copies (--projects, default 1) of the project in {what}")
    run.add_argument("--groups", help="with --pyproject or --lock: comma-separated optional groups to install too")
    run.add_argument("--source", action="append", metavar="PACKAGE=INDEX",
                     help="with a file: take PACKAGE from the named index (one of the file's --extra-index-url)")
    run.add_argument("--python", metavar="X.Y", help="with a file: the Python (default: 3.11, or what requires-python admits)")
    run.add_argument("--tools", help="comma-separated tools (default: the scenario's)")
    run.add_argument("--backend", choices=["auto", "docker", "local"], default="auto")
    run.add_argument("--projects", type=positive, help="only the first N projects")
    run.add_argument("--repetitions", type=positive, help="timing repetitions (default: the scenario's)")
    run.add_argument("--out", help="results folder (default: results/<run-id>)")
    run.add_argument("--quick", action="store_true", help=f"1 repetition and at most {QUICK_PROJECTS} projects, unless given")
    run.add_argument("--resume", metavar="RUN_DIR", help="go on with the stopped run in RUN_DIR: finished units are kept")
    run.add_argument("--shard", metavar="K/N", help="run the K-th of N shards of the units (envbench plan shows the split)")

    plan_cmd = sub.add_parser("plan", help="the units and cells of a run, with cost estimates; runs nothing")
    plan_cmd.add_argument("scenario")
    plan_cmd.add_argument("--shards", type=positive, default=1, metavar="N", help="split the units into N shards")
    plan_cmd.add_argument("--tools", help="comma-separated tools (default: the scenario's)")
    plan_cmd.add_argument("--projects", type=positive, help="only the first N projects, as run's")
    plan_cmd.add_argument("--repetitions", type=positive, help="timing repetitions, as run's")

    scan_cmd = sub.add_parser("scan", help="disk report of the trees at PATH...")
    scan_cmd.add_argument("--json", action="store_true", help="print one JSON object")
    scan_cmd.add_argument("paths", nargs="+", metavar="PATH")

    rep = sub.add_parser("report", help="(re)write tables and charts from RUN_DIR/run.json")
    rep.add_argument("run_dir")

    merge_cmd = sub.add_parser("merge", help="one run from runs of the same scenario and mirror made by separate invocations")
    merge_cmd.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    merge_cmd.add_argument("--out", required=True, metavar="DIR", help="where the merged run goes (must not hold a run)")

    verify_cmd = sub.add_parser("verify", help="check published claims against runs: confirmed / refuted / not measured")
    verify_cmd.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    verify_cmd.add_argument("--claims", nargs="+", metavar="FILE", help="claims files (default: results/published/*.yaml)")
    verify_cmd.add_argument("--out", help="where claims.md goes (default: RUN_DIR/claims.md for one run, else ./claims.md)")

    image = sub.add_parser("image", help="container images")
    image.add_argument("action", choices=["build"], help="build the base and tools images (reused while their inputs match)")
    image.add_argument("--python", action="append", default=None, metavar="X.Y",
                       help=f"the images of this Python too (known: {', '.join(images.SUITES)}; default {images.DEFAULT_PYTHON})")

    sub.add_parser("clean", help="remove every container, volume, network and image labelled envbench")

    mirror_cmd = sub.add_parser("mirror", help="resolve and fetch the scenario's packages into the local mirror")
    mirror_cmd.add_argument("scenario")
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    args.argv = argv  # recorded as the run's command (a resume reads its options back from it)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "scan":
            return cmd_scan(args)
        if args.command == "image":
            return cmd_image(args)
        if args.command == "clean":
            return cmd_clean(args)
        if args.command == "mirror":
            return cmd_mirror(args)
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "merge":
            return cmd_merge(args)
        if args.command == "plan":
            return cmd_plan(args)
        return cmd_report(args)
    except (ScenarioError, UsageError, BackendError, ResumeRefused, ShardError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE


def choose_backend(name: str, scenario, run_id: str, work_dir: Path, logs_dir: Path, console: Console):
    """The backend to run on, why, and the seconds spent making sure its images exist.

    --backend auto takes Docker when an engine answers.
    """
    if name in ("docker", "auto"):
        try:
            client = engine.connect()
        except BackendError as exc:
            if name == "docker":
                raise
            reason = f"auto: {exc}"
        else:
            started = time.perf_counter()
            tags = images.ensure(client, lambda text: console.print(text, highlight=False), scenario.pythons)
            image_s = time.perf_counter() - started
            reason = "asked for" if name == "docker" else "auto: a Docker engine answers"
            others = "".join(f", Python {v}: {t}" for v, t in tags["tools_by_python"].items() if t != tags["tools"])
            console.print(f"backend: docker, image {tags['tools']}{others} ({reason})", highlight=False)
            backend = DockerBackend(client, tags["tools"], run_id, logs_dir, scenario.wheelhouse, dict(os.environ),
                                    tags["tools_by_python"])  # fmt: skip
            return backend, reason, image_s
    else:
        reason = "asked for"
    console.print(f"backend: local ({reason})", highlight=False)
    return LocalBackend(work_dir, logs_dir), reason, 0.0


def _tools_of(args, scenario) -> tuple[str, ...] | None:
    if not args.tools:
        return None
    tools = tuple(t.strip() for t in args.tools.split(",") if t.strip())
    known = KNOWN_TOOLS + tuple(v.name for v in (scenario.variants if scenario else ()))
    unknown = [t for t in tools if t not in known]
    if unknown or not tools:
        raise UsageError(f"--tools: unknown tool {unknown[0] if unknown else '(none)'!r} (known: {', '.join(known)})")
    return tools


def scenario_of_run(args) -> str:
    """The scenario file `run` reads: the one given, or the one made of --requirements, --pyproject
    or --lock (printed, so it can be kept and run again)."""
    given = [kind for kind in adhoc.KINDS if getattr(args, kind)]
    if bool(args.scenario) + len(given) != 1:
        raise UsageError("run: give a scenario file, or one of --requirements FILE, --pyproject FILE and --lock FILE")
    if not given:
        for option in ("groups", "source", "python"):
            if getattr(args, option):
                raise UsageError(f"--{option}: only with --requirements, --pyproject or --lock (a scenario file says it itself)")
        return args.scenario
    kind = given[0]
    file = Path(getattr(args, kind))
    if not file.is_file():
        raise UsageError(f"--{kind} {file}: no such file")
    if args.groups and kind == "requirements":
        raise UsageError("--groups: optional groups are a pyproject's or a lock's (--pyproject, --lock)")
    sources = []
    for value in args.source or []:
        package, sep, index = value.partition("=")
        if not sep or not package.strip() or not index.strip():
            raise UsageError(f"--source {value!r}: not PACKAGE=INDEX")
        sources.append((package.strip(), index.strip()))
    groups = tuple(g.strip() for g in (args.groups or "").split(",") if g.strip())
    text = adhoc.scenario_text(kind, str(file), args.projects or 1, _tools_of(args, None), args.python, tuple(sources), groups)
    path = adhoc.save(text)
    print(f"scenario {path} (run it again with `envbench run {path}`):\n{text}", file=sys.stderr)
    args.scenario, args.tools, args.projects = str(path), None, None  # the file says them now
    return args.scenario


def cmd_run(args) -> int:
    scenario = load(scenario_of_run(args))
    began = resume.open_run(Path(args.resume)) if args.resume else None
    if began:  # the options the run began with, unless given again (the scenario's hash then says if they differ)
        first = parser().parse_args(began.data["command"][1:])
        for name in ("tools", "projects", "repetitions", "quick", "shard"):
            if not getattr(args, name):
                setattr(args, name, getattr(first, name, None))
    tools = _tools_of(args, scenario)
    repetitions = args.repetitions or (1 if args.quick else None)
    projects = args.projects or (QUICK_PROJECTS if args.quick else None)
    shard_text = args.shard
    scenario = scenario.with_overrides(tools=tools, projects=projects, repetitions=repetitions)
    shard = parse_shard(shard_text) if shard_text else None
    units = costs.shards(scenario, shard.count)[shard.index - 1] if shard else units_of(scenario)
    if began:
        resume.check_same(began, scenario.to_json(), str(shard) if shard else None)
        if args.out and Path(args.out).resolve() != began.out_dir.resolve():
            raise UsageError(f"--out {args.out}: a resumed run stays in {began.out_dir}")

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = f"-shard{shard.index}of{shard.count}" if shard else ""
    run_id = began.data["run_id"] if began else f"{scenario.name}-{stamp}{suffix}"
    out_dir = began.out_dir if began else Path(args.out or Path("results") / run_id)
    console = Console(stderr=True)
    # The local backend's trees: one folder per run, its name as long as any other run's, since
    # paths are written into envs (activate scripts, shebangs) and a longer one can cost a block.
    run_hash = hashlib.sha256(run_id.encode()).hexdigest()[:12]
    work_dir = Path(os.environ.get("ENVBENCH_WORK") or envbench_home() / "work") / f"run-{run_hash}"
    backend, reason, image_s = choose_backend(args.backend, scenario, run_id, work_dir, out_dir / "logs", console)
    command = ["envbench", *map(str, args.argv)]
    resumed = None
    if began:
        resume.check_image(began, backend.describe())
        versions, spent = resume.versions_of(began), dict(began.data.get("overhead") or {})
        closure = resume.closure_hash(began.data["mirror"]) if began.data.get("mirror") else None
        dropped, done = resume.begin(began, command, units)
        record = began
        console.print(f"resume: {len(done)} finished units kept" + (f"; measured again: {', '.join(dropped)}" if dropped else ""),
                      highlight=False)  # fmt: skip
        resumed = Resumed(frozenset(done), versions, closure, spent)
    else:
        record = RunRecord.start(out_dir, run_id, command, scenario.to_json(), {**backend.describe(), "reason": reason})
        if shard:
            record.data["shard"] = {"shard": str(shard), "index": shard.index, "count": shard.count,
                                    "units": [u.label() for u in units]}  # fmt: skip
            record.save()
            console.print(f"shard {shard}: {', '.join(u.label() for u in units) or 'no units'}", highlight=False)
    again = resume.resume_command(args.scenario, out_dir, backend.name)

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        status = Runner(scenario, backend, record, console, image_s=image_s, units=units, resumed=resumed).run()
    except NotEnoughDisk as exc:
        print(exc, file=sys.stderr)
        status = EXIT_USAGE
    except ResumeRefused as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.print(f"interrupted: the finished cells are in {out_dir / 'run.json'}; go on with: {again}", highlight=False)
        report.write_all(out_dir)
        return 130
    finally:
        # A second Ctrl-C or TERM must not stop the removal of containers and volumes half way.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            backend.close()
        except Exception as exc:  # the results are written; say what is left, do not hide it
            console.print(f"[red]cleanup failed[/]: {exc}; `envbench clean` removes what is left", highlight=False)
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous)
        _remove_empty(work_dir)
    run = report.write_all(out_dir)
    if run["status"] == "refused":
        return status
    print_main_table(run)
    console.print(overhead.summary(run.get("overhead") or {}), highlight=False)
    console.print(f"results: {out_dir}/ (tables.md, run.json, *.csv)", highlight=False)
    return status


def cmd_plan(args) -> int:
    """The units of a run, their cells and estimated wall time, split into --shards N."""
    scenario = load(args.scenario)
    scenario = scenario.with_overrides(tools=_tools_of(args, scenario), projects=args.projects, repetitions=args.repetitions)
    sizes = costs.project_sizes(scenario)
    split = costs.shards(scenario, args.shards)
    table = Table(title=f"envbench plan {scenario.name}: {len(scenario.projects)} projects, {args.shards} shard(s)")
    for header in ("shard", "tool", "unit", "cells", "estimate min", "here"):
        table.add_column(header, justify="right" if header in ("cells", "estimate min") else "left")
    totals, here = [], []
    for number, units in enumerate(split, start=1):
        total = runs_here = 0.0
        for unit in units:
            lockable = costs.lockable(scenario, unit.tool)
            seconds = costs.unit_cost(scenario, unit, sizes, lockable)
            reason = unit_unavailable(scenario, unit)
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
        "Estimates, not measurements: each cell is charged by its tool's fixed and per-GiB seconds fitted to committed runs "
        f"(smoke, seed; harness/costs.py), project sizes from {where}. The split uses the scenario alone, so every machine "
        "computes the same shards.",
        highlight=False,
    )
    return EXIT_OK


def stdout_console() -> Console:
    """Tables keep their columns when stdout is a file or a CI log, not only in a terminal."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def print_main_table(run: dict) -> None:
    """The answer table: what each tool cost for the whole fleet, cheapest first."""
    answer = answer_table(run)
    table = Table(title=f"envbench {run['scenario']['name']}: {len(run['scenario']['projects'])} projects")
    for header in answer.headers:
        table.add_column(header, justify="left" if header in ("tool", "layout") else "right")
    for row in answer.rows:
        table.add_row(*row)
    stdout_console().print(table)


def cmd_scan(args) -> int:
    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or directory")
    result = scan.scan(args.paths)
    if args.json:
        print(json.dumps(result))
    else:
        table = Table()
        for header in (
            "path",
            "physical MiB",
            "apparent MiB",
            "exclusive MiB",
            "marginal MiB",
            "files",
            "hard-linked",
            "symlinks",
        ):
            table.add_column(header, justify="left" if header == "path" else "right")
        for root in result["roots"]:
            linked = sum(root["links"][k]["count"] for k in ("hardlinked_cache", "hardlinked_roots", "hardlinked_elsewhere"))
            table.add_row(
                root["path"],
                tables.mib(root["physical_bytes"]),
                tables.mib(root["apparent_bytes"]),
                tables.mib(root["exclusive_bytes"]),
                tables.mib(root["marginal_bytes"]),
                f"{root['files']:,}",
                f"{linked:,}",
                f"{root['symlinks']:,}",
            )
        total = result["total"]
        table.add_row(
            "total (each inode once)",
            tables.mib(total["physical_bytes"]),
            tables.mib(total["apparent_bytes"]),
            tables.mib(total["exclusive_bytes"]),
            "",
            f"{total['files']:,}",
            f"{total['hardlinked_files']:,}",
            f"{total['symlinks']:,}",
        )
        console = stdout_console()
        console.print(table)
        console.print(
            f"naive sum {tables.mib(total['naive_bytes'])} MiB; sharing ratio {total['sharing_ratio'] or 0:.2f}", highlight=False
        )
    for error in result["errors"]:
        print(f"envbench scan: {error}", file=sys.stderr)
    return EXIT_FAILED if result["errors"] else EXIT_OK


def cmd_image(args) -> int:
    console = Console(stderr=True)
    client = engine.connect()
    pythons = tuple(args.python or (images.DEFAULT_PYTHON,))
    with console.status("building images"):
        tags = images.ensure(client, lambda text: console.print(text, highlight=False), pythons)
    print(f"base: {tags['base']} ({client.images.get(tags['base']).id[:19]})")
    for python, tag in tags["tools_by_python"].items():
        print(f"tools (Python {python}): {tag} ({client.images.get(tag).id[:19]})")
    return EXIT_OK


def cmd_clean(args) -> int:
    removed = engine.clean(engine.connect())
    removed["private file systems"] = filesystems.clean()  # what a killed run left mounted
    print(", ".join(f"{count} {kind}" for kind, count in removed.items()) + " removed")
    return EXIT_OK


def cmd_mirror(args) -> int:
    scenario = load(args.scenario)
    console = Console(stderr=True)
    try:
        with console.status(f"resolving {len(scenario.projects)} projects for Python {scenario.python}"):
            folder = mirror.prepare(scenario, lambda text: console.print(text, highlight=False))
    except mirror.MirrorError as exc:
        print(f"envbench mirror: {exc}", file=sys.stderr)
        return EXIT_FAILED
    files = mirror.files_of(json.loads((folder / "closure.json").read_text()))
    installed = [f for f in files if f.get("role", "install") == "install"]
    counts = Counter(f.get("role", "install") for f in files)
    roles = ", ".join(f"{counts[r]} {r}" for r in ROLES if counts[r])
    size = sum(f["size"] for f in installed) / 2**20
    table = Table(title=f"{scenario.name}: {len(files)} files ({roles}); the target installs {size:,.1f} MiB")
    for header in ("name", "version", "file", "role", "index", "MiB", "sha256"):
        table.add_column(header, justify="right" if header == "MiB" else "left")
    for entry in files:
        role = entry.get("role", "install")
        table.add_row(entry["name"], entry["version"], entry["filename"], role, entry["index"], tables.mib(entry["size"]),
                      entry["sha256"][:16])  # fmt: skip
    stdout_console().print(table)
    print(f"mirror: {folder}")
    return EXIT_OK


def published_claims() -> list[Path]:
    from .report.claims import published_files

    files = published_files()
    if not files:
        raise UsageError("no results/published/ folder here: name claims files with --claims")
    return files


def cmd_verify(args) -> int:
    from .report import claims
    from .results import load as load_run

    runs = []
    for run_dir in args.run_dirs:
        if not (Path(run_dir) / "run.json").is_file():
            if Path(run_dir).name == "published" and any(Path(run_dir).glob("*.yaml")):
                continue  # `envbench verify results/*/` names the claims folder too
            raise UsageError(f"{run_dir}: no run.json here")
        try:
            runs.append(load_run(Path(run_dir)))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    files = [Path(f) for f in args.claims] if args.claims else published_claims()
    try:
        verdicts = claims.verify_all(files, runs)
    except claims.ClaimsError as exc:
        raise UsageError(str(exc)) from None
    text = claims.markdown(verdicts)
    out = Path(args.out) if args.out else (Path(args.run_dirs[0]) / "claims.md" if len(args.run_dirs) == 1 else Path("claims.md"))
    write_atomic(out, text)
    table = Table(title=text.splitlines()[2])
    for header in ("claim", "published", "measured", "measured / published", "verdict", "why"):
        table.add_column(header, overflow="fold")
    colours = {"confirmed": "green", "refuted": "red", "not measured": "yellow"}
    for v in verdicts:
        table.add_row(v.claim["id"], str(v.claim["published"]), claims.show(v.measured), claims.show(v.ratio),
                      f"[{colours[v.verdict]}]{v.verdict}[/]", v.why[:200])  # fmt: skip
    stdout_console().print(table)
    print(f"claims: {out}")
    return EXIT_OK


def cmd_merge(args) -> int:
    from .merge import MergeError, merge

    out = Path(args.out)
    command = ["envbench", "merge", *args.run_dirs, "--out", args.out]
    try:
        run = merge([Path(d) for d in args.run_dirs], out, command)
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    report.write_all(out)
    print_main_table(run)
    print(f"merged {len(run['parts'])} parts: {out}/ (report.html, tables.md, run.json, *.csv, charts/)")
    failed = any(t["status"] == "failed" for t in run["tools"].values())
    return 1 if failed or run["status"] != "complete" else EXIT_OK


def cmd_report(args) -> int:
    run_dir = Path(args.run_dir)
    if not (run_dir / "run.json").is_file():
        raise UsageError(f"{run_dir}: no run.json here")
    try:
        run = report.write_all(run_dir)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print_main_table(run)
    print(f"report: {run_dir / 'report.html'}, {run_dir / 'tables.md'}, {run_dir / 'charts'}/")
    return EXIT_OK
