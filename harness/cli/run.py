"""`envbench run`: materialize a scenario (or one project's own file, as an N-copy fleet) with each
tool, measure it, and write run.json and every report of it."""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from harness import report
from harness.backends import engine, images
from harness.backends.base import BackendError
from harness.backends.docker import DockerBackend
from harness.backends.local import LocalBackend, missing_system_packages
from harness.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    UsageError,
    backend_layouts,
    positive,
    print_main_table,
    system_packages_option,
    tools_of,
)
from harness.packages import mirror
from harness.packages.store import MirrorError
from harness.record import logs, overhead
from harness.record.run import RunRecord
from harness.run import costs, resume
from harness.run.diskspace import NotEnoughDisk
from harness.run.resume import ResumeRefused
from harness.run.runner import Resumed, Runner
from harness.run.units import Shard, Unit, parse_shard, units_of
from harness.scenario import adhoc
from harness.scenario.model import Scenario
from harness.scenario.parse import load
from harness.scenario.yamlnodes import ScenarioError, readable
from harness.settings.home import envbench_home
from harness.tools.registry import adapter_for

HELP = "materialize a scenario with each tool and measure it"
QUICK_PROJECTS = 2  # --quick: one cold and one warm project
RESUMED_OPTIONS = ("tools", "projects", "repetitions", "quick", "shard")  # taken from the run's own command


def add_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument("scenario", nargs="?", help="a scenario file; or give one project's file below")
    for kind, what in (("requirements", "a pip requirements file"), ("pyproject", "a pyproject.toml"),
                       ("lock", "a uv.lock, poetry.lock or pylock.toml")):  # fmt: skip
        run.add_argument(f"--{kind}", metavar="FILE", help=f"run N copies (--projects, default 1) of the project in {what}")
    run.add_argument("--groups", help="with --pyproject or --lock: comma-separated optional groups to install too")
    run.add_argument("--source", action="append", metavar="PACKAGE=INDEX",
                     help="with a file: take PACKAGE from the named index (one of the file's --extra-index-url)")
    run.add_argument("--python", metavar="X.Y", help="with a file: the Python (default: 3.11, or what requires-python admits)")
    run.add_argument("--system-packages", metavar="PKGS",
                     help="with a file: Debian packages its sdists need to build, comma-separated (autoconf,libpq-dev)")
    run.add_argument("--tools", help="comma-separated tools (default: the scenario's)")
    run.add_argument("--backend", choices=["auto", "docker", "local"], default="auto")
    run.add_argument("--projects", type=positive, help="only the first N projects")
    run.add_argument("--repetitions", type=positive, help="timing repetitions (default: the scenario's)")
    run.add_argument("--out", help="results folder (default: results/<run-id>)")
    run.add_argument("--quick", action="store_true", help=f"1 repetition and at most {QUICK_PROJECTS} projects, unless given")
    run.add_argument("--resume", metavar="RUN_DIR", help="go on with the stopped run in RUN_DIR: finished units are kept")
    run.add_argument("--shard", metavar="K/N", help="run the K-th of N shards of the units (envbench plan shows the split)")


def tool_packages(scenario) -> list[str]:
    """Debian packages the scenario's tools need in the tools image (nix: nix-bin)."""
    return [p for name in scenario.tools for p in adapter_for(scenario, name).debian_packages]


def choose_backend(name: str, scenario, run_id: str, work_dir: Path, logs_dir: Path, console: Console):
    """The backend to run on, why, the seconds spent making sure its images exist, and the line
    that says which (printed once the mirror is made: a refusal is its own line alone).

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
            packages = tuple(dict.fromkeys([*scenario.system_packages, *tool_packages(scenario)]))
            tags = images.ensure(client, lambda text: console.print(text, highlight=False), scenario.pythons, packages)
            image_s = time.perf_counter() - started
            reason = "asked for" if name == "docker" else "auto: a Docker engine answers"
            others = "".join(f", Python {v}: {t}" for v, t in tags["tools_by_python"].items() if t != tags["tools"])
            said = f"backend: docker, image {tags['tools']}{others} ({reason})"
            backend = DockerBackend(client, tags["tools"], run_id, logs_dir, scenario.wheelhouse, dict(os.environ),
                                    tags["tools_by_python"])  # fmt: skip
            return backend, reason, image_s, said
    else:
        reason = "asked for"
    missing = missing_system_packages(scenario.system_packages)
    if missing:
        raise UsageError(f"system_packages: {', '.join(missing)} not installed here, and the local backend builds with this "
                         f"machine's own (apt-get install {' '.join(missing)}), or use --backend docker")  # fmt: skip
    return LocalBackend(work_dir, logs_dir), reason, 0.0, f"backend: local ({reason})"


def scenario_of_run(args) -> str:
    """The scenario file `run` reads: the one given, or the one made of --requirements, --pyproject
    or --lock (printed, so it can be kept and run again)."""
    given = [kind for kind in adhoc.KINDS if getattr(args, kind)]
    if bool(args.scenario) + len(given) != 1:
        raise UsageError("run: give a scenario file, or one of --requirements FILE, --pyproject FILE and --lock FILE")
    if not given:
        for option in ("groups", "source", "python", "system_packages"):
            if getattr(args, option):
                raise UsageError(f"--{option.replace('_', '-')}: only with --requirements, --pyproject or --lock "
                                 "(a scenario file says it itself)")  # fmt: skip
        return args.scenario
    kind = given[0]
    file = Path(getattr(args, kind))
    if not file.is_file():
        raise UsageError(f"--{kind} {file}: {'a directory, not a file' if file.is_dir() else 'no such file'}")
    if args.groups and kind == "requirements":
        raise UsageError("--groups: optional groups are a pyproject's or a lock's (--pyproject, --lock)")
    sources = []
    for value in args.source or []:
        package, sep, index = value.partition("=")
        if not sep or not package.strip() or not index.strip():
            raise UsageError(f"--source {value!r}: not PACKAGE=INDEX")
        sources.append((package.strip(), index.strip()))
    groups = tuple(g.strip() for g in (args.groups or "").split(",") if g.strip())
    system = system_packages_option(args.system_packages)
    text = adhoc.scenario_text(kind, str(file), args.projects or 1, tools_of(args, None), args.python, tuple(sources), groups,
                               system)  # fmt: skip
    path = adhoc.save(text)
    # Said once the scenario loads and its mirror is made: a refusal is its one line alone.
    args.generated = f"scenario {path} (run it again with `envbench run {path}`):\n{text}"
    args.scenario, args.tools, args.projects = str(path), None, None  # the file says them now
    return args.scenario


# A field of the scenario made of a project's file, and the option it came from.
OPTION_OF_FIELD = {"projects[0].groups": "--groups", "projects[0].sources": "--source", "python": "--python",
                   "system_packages": "--system-packages", "tools": "--tools"}  # fmt: skip


def load_given(path: str, generated: str | None) -> Scenario:
    """The scenario; where envbench made it of a project's file, a fault in what an option put in
    it is said of the option, not of the made file the user never wrote."""
    try:
        return load(path)
    except ScenarioError as exc:
        option = next((o for f, o in OPTION_OF_FIELD.items() if exc.field.startswith(f)), None) if generated else None
        if option is None or exc.path != path:
            raise
        raise UsageError(f"{option}: {exc.message}") from None


@dataclass
class Setup:
    """What a run measures, and where its record goes: before any backend is chosen."""

    scenario: Scenario
    shard: Shard | None
    units: list[Unit]
    began: RunRecord | None  # the run a --resume goes on with
    run_id: str
    out_dir: Path


def setup(args) -> Setup:
    """The scenario narrowed by the options (a resumed run's own, unless given again: the
    scenario's hash then says whether they differ), the units of the shard, the run's folder."""
    scenario = load_given(scenario_of_run(args), getattr(args, "generated", None))
    began = resume.open_run(Path(args.resume)) if args.resume else None
    if began:
        first = argparse.ArgumentParser()
        add_arguments(first)
        recorded = first.parse_args(began.run.command[2:])  # after "envbench run"
        for name in RESUMED_OPTIONS:
            if not getattr(args, name):
                setattr(args, name, getattr(recorded, name, None))
    repetitions = args.repetitions or (1 if args.quick else None)
    projects = args.projects or (QUICK_PROJECTS if args.quick else None)
    scenario = scenario.with_overrides(tools=tools_of(args, scenario), projects=projects, repetitions=repetitions)
    shard = parse_shard(args.shard) if args.shard else None
    units = costs.shards(scenario, shard.count, backend_layouts(args.backend))[shard.index - 1] if shard else units_of(scenario)
    if began:
        resume.check_same(began, scenario.to_json(), str(shard) if shard else None)
        if args.out and Path(args.out).resolve() != began.out_dir.resolve():
            raise UsageError(f"--out {args.out}: a resumed run stays in {began.out_dir}")
        return Setup(scenario, shard, units, began, began.run.run_id, began.out_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{scenario.name}-{stamp}" + (f"-shard{shard.index}of{shard.count}" if shard else "")
    return Setup(scenario, shard, units, None, run_id, Path(args.out or Path("results") / run_id))


def open_record(plan: Setup, backend, reason: str, command: list[str], console: Console) -> tuple[RunRecord, Resumed | None]:
    """A new run.json, or the resumed one with what did not finish discarded."""
    if plan.began:
        began = plan.began
        resume.check_image(began, backend.describe())
        versions, spent = resume.versions_of(began), dict(began.run.overhead or {})
        closure = resume.closure_hash(began.run.mirror) if began.run.mirror else None
        dropped, done = resume.begin(began, command, plan.units)
        console.print(f"resume: {len(done)} finished units kept" + (f"; measured again: {', '.join(dropped)}" if dropped else ""),
                      highlight=False)  # fmt: skip
        return began, Resumed(frozenset(done), versions, closure, spent)
    facts = {**backend.describe(), "reason": reason}
    record = RunRecord.start(plan.out_dir, plan.run_id, command, plan.scenario.to_json(), facts)
    if plan.shard:
        shard = plan.shard
        record.run.shard = {"shard": str(shard), "index": shard.index, "count": shard.count,
                                "units": [u.label() for u in plan.units]}  # fmt: skip
        record.save()
        console.print(f"shard {shard}: {', '.join(u.label() for u in plan.units) or 'no units'}", highlight=False)
    return record, None


def prepare_mirror(scenario: Scenario, console: Console) -> tuple[Path | None, float]:
    """The scenario's mirror, made before anything else (seconds it took), or None where the
    tools read no mirror. Its error leaves no results folder: nothing could run without it."""
    if scenario.source != "mirror":
        return None, 0.0
    started = time.perf_counter()
    folder = mirror.prepare(scenario, lambda text: console.print(text, highlight=False))
    return folder, time.perf_counter() - started


def command(args) -> int:
    plan = setup(args)
    console = Console(stderr=True)
    # The local backend's trees: one folder per run, its name as long as any other run's, since
    # paths are written into envs (activate scripts, shebangs) and a longer one can cost a block.
    run_hash = hashlib.sha256(plan.run_id.encode()).hexdigest()[:12]
    work_dir = Path(os.environ.get("ENVBENCH_WORK") or envbench_home() / "work") / f"run-{run_hash}"
    backend, reason, image_s, said = choose_backend(args.backend, plan.scenario, plan.run_id, work_dir, plan.out_dir / "logs",
                                                    console)  # fmt: skip
    refused = backend.shape(plan.scenario.network)  # never a run unshaped under a network's name
    if refused:
        raise UsageError(refused)
    try:
        folder, mirror_s = prepare_mirror(plan.scenario, console)
    except MirrorError as exc:  # the resolver's reason whole, its values cut to be read
        print(f"the mirror could not be made: {readable(str(exc))}", file=sys.stderr)
        return EXIT_FAILED if exc.unreachable else EXIT_USAGE
    if getattr(args, "generated", None):
        print(args.generated, file=sys.stderr)
    console.print(said, highlight=False)
    record, resumed = open_record(plan, backend, reason, ["envbench", *map(str, args.argv)], console)
    again = resume.resume_command(args.scenario, plan.out_dir, backend.name)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        status = Runner(plan.scenario, backend, record, console, image_s=image_s, units=plan.units, resumed=resumed,
                        mirror=(folder, mirror_s)).run()  # fmt: skip
    except NotEnoughDisk as exc:
        print(exc, file=sys.stderr)
        status = EXIT_USAGE
    except ResumeRefused as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.print(f"interrupted: the finished cells are in {plan.out_dir / 'run.json'}; go on with: {again}", highlight=False)
        report.write_all(plan.out_dir)
        return 130
    finally:
        _close(backend, previous, console)
        _remove_empty(work_dir)
    run = report.write_all(plan.out_dir)
    logs.pack(plan.out_dir)  # a failed step's log stays a plain file, the others go into logs.tar.gz
    if run.status == "refused":
        return status
    print_main_table(run)
    console.print(overhead.summary(run.overhead or {}), highlight=False)
    console.print(f"results: {plan.out_dir}/ (tables.md, run.json, *.csv)", highlight=False)
    return status


def _close(backend, previous_term, console: Console) -> None:
    """Remove the backend's containers and volumes; a second Ctrl-C or TERM must not stop that
    half way."""
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        backend.close()
    except Exception as exc:  # the results are written; say what is left, do not hide it
        console.print(f"[red]cleanup failed[/]: {exc}; `envbench clean` removes what is left", highlight=False)
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
