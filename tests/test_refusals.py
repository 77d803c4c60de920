"""Bad input on every own-project path (--requirements, --pyproject, --lock, a scenario naming
them) is refused as a user reads it: exit 2 (1 where an index cannot be reached), one line naming
the user's file and line, values cut to a readable length, no traceback, no results folder.

Each case is a file as a user would get it wrong; the resolver cases resolve against a folder
that stands in for PyPI (no network).
"""

from __future__ import annotations

import hashlib

import pytest

from .conftest import write

HUGE = "x" * 100_000


def refused(cli, tmp_path, *args) -> tuple[int, str]:
    """Run envbench, then check what every refusal shares: one line, no traceback, no folder."""
    out = tmp_path / "out"
    status, stdout, err = cli("run", *args, "--tools", "uv", "--backend", "local", "--out", out)
    assert err.count("\n") == 1 and "Traceback" not in err and stdout == "", err[:2000]
    assert len(err) < 1200, f"{len(err):,} characters: {err[:300]}"
    assert not out.exists()
    return status, err.strip()


FILES = {  # name -> (files to write, the option and file given, what the one line starts with, says)
    "include-missing": ({"req.txt": "alpha\n-r more/missing.txt\n"}, "req.txt", "req.txt:2: -r: no such file: "),
    "include-loop": ({"req.txt": "alpha\n-r b.txt\n", "b.txt": "-c req.txt\n"}, "req.txt",
                     "b.txt:1: -c: includes itself again (req.txt → b.txt → req.txt)"),
    "include-url": ({"req.txt": "--requirement=https://example.invalid/r.txt\n"}, "req.txt", "req.txt:1: --requirement: "),
    "include-directory": ({"req.txt": "-r sub\n", "sub/keep.txt": "alpha\n"}, "req.txt", "req.txt:1: -r: "),
    "not-utf8": ({"req.txt": "alpha\ncaf\xe9==1\n"}, "req.txt", "req.txt:2: encoding: not UTF-8 (byte 0xe9)"),
    "not-utf8-included": ({"req.txt": "-r inc.txt\n", "inc.txt": "\xff\n"}, "req.txt", "inc.txt:1: encoding: not UTF-8"),
    "huge-line": ({"req.txt": f"alpha\n{HUGE}==\n"}, "req.txt", "req.txt:2: requirement: "),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_a_malformed_requirements_file_is_refused_at_its_own_line(case, tmp_path, cli):
    files, given, start = FILES[case]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(text.encode("latin-1") if "not-utf8" in case else text.encode())
    status, line = refused(cli, tmp_path, "--requirements", tmp_path / given)
    assert status == 2 and line.startswith(f"{tmp_path}/{start}"), line
    if case == "huge-line":
        assert "xxx… (100,00" in line and " characters)" in line  # the value cut, its length said
    if case == "include-directory":
        assert line.endswith(f"{tmp_path / 'sub'}: a directory, not a file")


def test_a_scenario_naming_a_bad_file_is_refused_at_that_file(tmp_path, cli):
    (tmp_path / "req.txt").write_bytes(b"alpha\n\xe9\n")
    scenario = write(tmp_path / "s.yaml", 'name: s\npython: "3.11"\nprojects:\n  - name: app\n    requirements: req.txt\n')
    status, line = refused(cli, tmp_path, scenario)
    assert status == 2 and line == f"{tmp_path / 'req.txt'}:2: encoding: not UTF-8 (byte 0xe9)"


@pytest.mark.parametrize(("option", "made", "said"), [
    ("--requirements", "dir", "a directory, not a file"),
    ("--requirements", "", "no such file"),
    ("--pyproject", "dir", "a directory, not a file"),
    ("--lock", "", "no such file"),
])  # fmt: skip
def test_a_path_that_is_no_file_is_said_to_be_what_it_is(option, made, said, tmp_path, cli):
    given = tmp_path / "given"
    if made:
        given.mkdir()
    status, line = refused(cli, tmp_path, option, given)
    assert status == 2 and line == f"{option} {given}: {said}"


LOCKS = {
    "3.0": "metadata.lock-version: 3.0 is newer than the lock-version 2.x envbench reads",
    "two": "metadata.lock-version: 'two' is not a version",
    "2.0": "metadata.lock-version: 2.0 records no groups per package",
}


@pytest.mark.parametrize("version", sorted(LOCKS))
def test_a_poetry_lock_version_is_named_as_the_file_gives_it(version, tmp_path, cli):
    lock = write(tmp_path / "poetry.lock", f'[[package]]\nname = "alpha"\nversion = "1.0"\n\n'
                                           f'[metadata]\nlock-version = "{version}"\npython-versions = ">=3.11"\n')  # fmt: skip
    status, line = refused(cli, tmp_path, "--lock", lock)
    assert status == 2 and line.startswith(f"{lock}:6: {LOCKS[version]}"), line


def test_a_poetry_lock_without_its_version_says_so(tmp_path, cli):
    lock = write(tmp_path / "poetry.lock", '[[package]]\nname = "alpha"\nversion = "1.0"\n\n[metadata]\ncontent-hash = "0"\n')
    status, line = refused(cli, tmp_path, "--lock", lock)
    assert status == 2 and line == f"{lock}:5: metadata.lock-version: missing: a poetry.lock says its format there"


# -- what no index can satisfy, and an index that does not answer ---------------------------------
def test_what_no_index_has_is_refused_with_the_resolvers_reason_whole(tmp_path, folder_as_pypi, cli):
    requirements = write(tmp_path / "req.txt", "helper\nno-such-package==1.0\n")
    status, line = refused(cli, tmp_path, "--requirements", requirements)
    assert status == 2 and line.startswith("the mirror could not be made: resolving "), line
    # uv's cause, not only its headline: the package, and why the set cannot be resolved
    assert "no-such-package was not found" in line and "requirements are unsatisfiable." in line, line


def test_a_pinned_hash_no_file_matches_is_refused(tmp_path, folder_as_pypi, cli):
    wrong = hashlib.sha256(b"not the wheel").hexdigest()
    requirements = write(tmp_path / "req.txt", f"helper==2.0 --hash=sha256:{wrong}\n")
    status, line = refused(cli, tmp_path, "--requirements", requirements)
    assert status == 2 and "pins the hashes of helper 2.0" in line and "is not among them" in line, line


def test_an_index_that_does_not_answer_is_a_failure_said_first(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("ENVBENCH_INDEX_PYPI", "http://127.0.0.1:9/simple")  # nothing listens on port 9
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    requirements = write(tmp_path / "req.txt", "helper\n")
    status, line = refused(cli, tmp_path, "--requirements", requirements)
    assert status == 1 and line.startswith("the mirror could not be made: ") and "127.0.0.1:9" in line, line
