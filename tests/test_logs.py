"""A run's step logs: a failed step's stays a plain file, the others are packed into one archive
that read_log (and a merge) still reads, the same bytes for the same logs."""

from __future__ import annotations

import json
from pathlib import Path

from harness.record.logs import ARCHIVE, pack, read_log, unpack


def _run(folder: Path, steps: dict[str, int]) -> Path:
    """A run folder whose run.json has one step per log (its exit code), each log written."""
    records = []
    for log, code in steps.items():
        (folder / log).parent.mkdir(parents=True, exist_ok=True)
        (folder / log).write_text(f"output of {log}\n")
        records.append({"log": log, "exit_code": code})
    run = {"tools": {"uv": {"layouts": {"same-volume": {"steps": records}}}}}
    (folder / "run.json").write_text(json.dumps(run))
    return folder


def test_passing_logs_are_packed_and_a_failed_one_stays(tmp_path):
    ok, failed = "logs/uv/same-volume/r1-app-01-cold-install.log", "logs/uv/same-volume/r1-app-01-warm-install.log"
    run_dir = _run(tmp_path / "run", {ok: 0, failed: 1})
    (run_dir / "logs" / "mirror-pypi.log").write_text("server\n")  # no step's: packed too
    assert pack(run_dir) == 2
    assert not (run_dir / ok).exists() and (run_dir / failed).read_text() == f"output of {failed}\n"
    assert read_log(run_dir, ok) == f"output of {ok}\n".encode() and read_log(run_dir, failed) == f"output of {failed}\n".encode()
    assert read_log(run_dir, "logs/mirror-pypi.log") == b"server\n" and read_log(run_dir, "logs/none.log") is None
    assert pack(run_dir) == 0  # nothing plain left to pack but the failed step's


def test_packing_again_keeps_what_the_archive_held_and_is_reproducible(tmp_path):
    first, later = "logs/uv/a.log", "logs/uv/b.log"
    one, two = (_run(tmp_path / name, {first: 0}) for name in ("one", "two"))
    pack(one)
    pack(two)
    assert (one / ARCHIVE).read_bytes() == (two / ARCHIVE).read_bytes()  # no times, no owners in it
    _run(one, {first: 0, later: 0}).joinpath(first).unlink()  # a resumed run: one log packed, one new
    assert pack(one) == 1 and read_log(one, first) and read_log(one, later)
    unpack(one, tmp_path / "merged", "logs/uv/")
    assert sorted(p.name for p in (tmp_path / "merged" / "logs" / "uv").iterdir()) == ["a.log", "b.log"]
