"""The one list of the tools envbench knows: every fact about a tool that is not in its adapter.

An entry holds the tool's adapter (name, commands, lock file, conda or PyPI side), its colour in
every chart, and its cost model for `envbench plan`; the entries' order is the display order of
every table and chart. Scenario validation, the plan's estimates, the images' pinned venvs and the
charts all read this list: adding a tool is one adapter file and one entry here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from harness.tools.base import ToolAdapter
from harness.tools.conda import Conda
from harness.tools.hatch import Hatch
from harness.tools.nix import Nix
from harness.tools.pdm import Pdm
from harness.tools.pip_tools import PipTools
from harness.tools.pip_venv import PipVenv
from harness.tools.pipenv import Pipenv
from harness.tools.pixi import Pixi
from harness.tools.poetry import Poetry
from harness.tools.rattler import Rattler
from harness.tools.uv import Uv
from harness.tools.uv_project import UvProject
from harness.tools.variant import variant
from harness.tools.virtualenv import Virtualenv


@dataclass(frozen=True)
class ToolCost:
    """Wall seconds of one cell's steps: a fixed part and a part per GiB of the install set.

    Estimates for `envbench plan`, not measurements: fitted through two committed runs of this
    machine kind, a small and a large install set (smoke, 2.2 MiB, with trio's 75 MiB for
    pip-tools; the seed, 0.79 GiB), as means over every cell of each kind (docs/running.md).
    """

    cold_s: float  # install with an empty cache (cold, locked): fixed ...
    cold_s_per_gib: float  # ... and per GiB
    warm_s: float  # install with the cache filled (warm, warm+locked)
    warm_s_per_gib: float
    lock_s: float  # one lock step
    other_s: float  # the cell's other steps (making the venv)


# A tool never measured here (no binary, no channel) is charged as a copying tool, the dearer guess.
UNMEASURED = ToolCost(1.0, 36.2, 1.0, 30.54, 2.00, 1.00)


@dataclass(frozen=True)
class Tool:
    adapter: ToolAdapter
    colour: str  # in every chart (a hex colour: tab10 first, then Dark2)
    cost: ToolCost = UNMEASURED
    # Its envs hold the wheels' files and nothing else (no bytecode, no seed packages): what one
    # env's bytes are, distribution by distribution, is read from its envs first.
    plain_envs: bool = False

    @property
    def name(self) -> str:
        return self.adapter.name


TOOLS: tuple[Tool, ...] = (
    Tool(PipVenv(), "#1f77b4", ToolCost(0.91, 36.2, 0.85, 30.54, 0.00, 3.27)),
    Tool(Virtualenv(), "#ff7f0e", ToolCost(1.62, 27.6, 1.51, 24.37, 0.00, 0.85)),
    Tool(PipTools(), "#2ca02c", ToolCost(4.97, 37.5, 5.21, 28.63, 1.33, 3.32)),
    Tool(Uv(), "#d62728", ToolCost(0.14, 5.7, 0.06, 0.33, 0.00, 0.02), plain_envs=True),
    Tool(UvProject(), "#9467bd", ToolCost(0.18, 5.5, 0.06, 0.12, 0.12, 0.00), plain_envs=True),
    Tool(Poetry(), "#8c564b", ToolCost(0.89, 13.0, 0.83, 10.62, 0.86, 1.18)),
    Tool(Pdm(), "#e377c2", ToolCost(0.80, 11.8, 0.81, 10.08, 0.97, 0.42)),
    Tool(Pipenv(), "#7f7f7f", ToolCost(2.91, 28.0, 1.81, 25.71, 2.57, 0.00)),
    Tool(Hatch(), "#bcbd22", ToolCost(3.37, 26.9, 2.48, 25.92, 0.00, 0.00)),
    Tool(Conda(), "#17becf"),
    Tool(Pixi(), "#d95f02"),
    Tool(Rattler(), "#ce6dbd"),
    Tool(Nix(), "#5254a3"),
)
BY_NAME: dict[str, Tool] = {tool.name: tool for tool in TOOLS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
ADAPTERS: dict[str, ToolAdapter] = {tool.name: tool.adapter for tool in TOOLS}


def adapter_for(scenario, name: str) -> ToolAdapter:
    """The adapter of a scenario's tool name: a declared variant of a tool, or the tool's own
    (scenario validation admits no other name)."""
    declared = scenario.variant(name)
    adapter = ADAPTERS.get(name)
    if declared:
        adapter = variant(declared.name, ADAPTERS[declared.tool], dict(declared.env), dict(declared.settings),
                          declared.bytecode)  # fmt: skip
    if scenario.bytecode != "default" and adapter.bytecode == "default":  # a copy: the registry's adapters stay as they are
        adapter = copy.copy(adapter)
        adapter.bytecode = scenario.bytecode
    return adapter


def cost_of(adapter: ToolAdapter) -> ToolCost:
    """A tool's cost model (a variant is charged as its base tool)."""
    found = BY_NAME.get(adapter.venv_name())
    return found.cost if found else UNMEASURED


def plain_envs(name: str) -> bool:
    found = BY_NAME.get(name)
    return bool(found and found.plain_envs)


def colour_of(name: str) -> str | None:
    """A known tool's chart colour, None for other names (variants: the charts pick one)."""
    found = BY_NAME.get(name)
    return found.colour if found else None
