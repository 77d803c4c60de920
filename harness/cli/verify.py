"""`envbench verify RUN_DIR...`: published claims judged against runs (docs/claims.md)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from harness.cli.common import EXIT_OK, UsageError, stdout_console
from harness.record.run import load as load_run
from harness.record.run import write_atomic
from harness.report import claims
from harness.report.claims import published_files

HELP = "check published claims against runs: confirmed / refuted / not measured"


def add_arguments(verify_cmd) -> None:
    verify_cmd.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    verify_cmd.add_argument("--claims", nargs="+", metavar="FILE", help="claims files (default: claims/*.yaml here)")
    verify_cmd.add_argument("--out", help="where claims.md goes (default: RUN_DIR/claims.md for one run, else ./claims.md)")


def published_claims() -> list[Path]:
    files = published_files()
    if not files:
        raise UsageError("no claims/ folder here: name claims files with --claims, or run where claims/ is")
    return files


def command(args) -> int:
    runs = []
    for run_dir in args.run_dirs:
        if not (Path(run_dir) / "run.json").is_file():
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
    table = Table(title=claims.counts_line(verdicts))
    for header in ("claim", "published", "measured", "measured / published", "verdict", "why"):
        table.add_column(header, overflow="fold")
    colours = {"confirmed": "green", "refuted": "red", "differs in conditions": "magenta", "not measured": "yellow"}
    for v in verdicts:
        table.add_row(v.claim["id"], str(v.claim["published"]), claims.show(v.measured), claims.show(v.ratio),
                      f"[{colours[v.verdict]}]{v.verdict}[/]", v.explained(runs=False)[:300])  # fmt: skip
    stdout_console().print(table)
    print(f"claims: {out}")
    return EXIT_OK
