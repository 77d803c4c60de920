"""The plan's order of cells, and what each state clears: exactly what it says, no more."""

from __future__ import annotations

import pytest

from harness.run.plan import plan, tree_plan
from harness.sandbox import tree
from harness.scenario.parse import parse

SCENARIO = parse('name: p\npython: "3.11"\nrepetitions: 2\nprojects:\n  - {name: app, count: 3, dependencies: [six]}\n')


def test_cells_in_order_with_the_fleet_in_the_first_repetition():
    cells = plan(SCENARIO, "uv-project", "same-volume", lockable=True)
    assert [(c.repetition, c.project.name, c.state, c.fleet) for c in cells] == [
        (1, "app-01", "cold", True),
        (1, "app-02", "warm", True),
        (1, "app-03", "warm", True),
        (1, "app-01", "warm", False),
        (1, "app-01", "locked", False),
        (1, "app-01", "warm+locked", False),
        (2, "app-01", "cold", False),
        (2, "app-01", "warm", False),
        (2, "app-01", "locked", False),
        (2, "app-01", "warm+locked", False),
    ]
    lockless = plan(SCENARIO, "pip-venv", "same-volume", lockable=False)
    assert {c.state for c in lockless} == {"cold", "warm"}


@pytest.fixture
def tree_of(tmp_path):
    """A tool's tree after an install: cache, HOME, a project with its files, lock and env."""
    cache, home, project = tmp_path / "cache", tmp_path / "home", tmp_path / "projects" / "app-01"
    for path in (cache / "wheels" / "a.whl", home / ".config" / "tool.toml", project / "pyproject.toml",
                 project / "uv.lock", project / ".venv" / "bin" / "python", project / ".pdm-python"):  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")

    def survivors(state: str, index: int = 0) -> set[str]:
        cell = next(c for c in plan(SCENARIO, "t", "same-volume", True) if c.state == state and c.index == index)
        apply = tree_plan(cell, str(project), (str(cache),), str(home), (".venv", ".pdm-python"), "uv.lock",
                          {"pyproject.toml": "new"})  # fmt: skip
        tree.apply(apply)
        return {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}

    return survivors


CACHE, HOME = "cache/wheels/a.whl", "home/.config/tool.toml"
FILES, LOCK, ENV = "projects/app-01/pyproject.toml", "projects/app-01/uv.lock", "projects/app-01/.venv/bin/python"


@pytest.mark.parametrize(
    "state,kept",
    [
        ("cold", {FILES}),  # nothing but the project's files, written anew
        ("warm", {CACHE, HOME, FILES}),  # the cache kept; lock file and env gone
        ("locked", {HOME, FILES, LOCK}),  # the lock file kept; cache and env gone
        ("warm+locked", {CACHE, HOME, FILES, LOCK}),  # only the env gone
    ],
)
def test_each_state_clears_exactly_what_it_says(tree_of, tmp_path, state, kept):
    assert tree_of(state) == kept
    assert (tmp_path / "cache").is_dir()  # a cache folder is emptied, never removed (it may be a mount point)
    if state != "cold":
        assert (tmp_path / FILES).read_text() == "x"  # an existing project's files are not rewritten


def test_progress_scales_the_estimate_left_by_how_the_done_work_compared(monkeypatch):
    from harness.run import progress as module
    from harness.run.progress import RunProgress
    from harness.run.units import units_of

    scenario = SCENARIO.with_overrides(tools=("pip-venv", "uv"), projects=None, repetitions=None)
    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(module, "EVIDENCE_S", 1.0)  # the scenario is small: trust a second's evidence
    run = RunProgress.of(scenario, units_of(scenario), ("same-volume",))
    first, second = run.units
    assert run.cells == 2 * len(plan(scenario, "pip-venv", "same-volume", lockable=False)) and run.cells_done == 0
    assert run.left_s() > 0
    assert run.plan_text(3 * 2**30).startswith(f"plan: 2 units (2 run on this backend), {run.cells} cells, about ")
    run.start_unit(first)
    while run.done_estimate_s <= 1.0:
        run.cell_done(first)
    left_as_planned = sum(e.left_s for e in run.estimates.values())
    clock[0] += 2 * run.done_estimate_s  # the work took twice its estimate
    assert run.left_s() == pytest.approx(2 * left_as_planned)
    assert run.line().startswith(f"unit 1 of 2, {run.cells_done} of {run.cells} cells done, about ")
    run.skip_unit(second)  # a unit that will not run leaves nothing of its estimate
    assert run.estimates[second].left_s == 0
    skipped = RunProgress.of(scenario, units_of(scenario), ("split-volume",))  # a backend without the layout
    assert skipped.cells == 0 and skipped.plan_text(None).startswith("plan: 2 units (0 run on this backend), 0 cells")
