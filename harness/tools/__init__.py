"""One adapter per tool; `ADAPTERS` maps the scenario's tool names to them."""

from .base import PackageSource, Sandbox, Step, ToolAdapter
from .conda import Conda
from .hatch import Hatch
from .pdm import Pdm
from .pip_tools import PipTools
from .pip_venv import PipVenv
from .pipenv import Pipenv
from .pixi import Pixi
from .poetry import Poetry
from .rattler import Rattler
from .uv import Uv
from .uv_project import UvProject
from .virtualenv import Virtualenv

ADAPTERS: dict[str, ToolAdapter] = {
    adapter.name: adapter
    for adapter in (
        PipVenv(),
        Virtualenv(),
        PipTools(),
        Uv(),
        UvProject(),
        Poetry(),
        Pdm(),
        Pipenv(),
        Hatch(),
        Conda(),
        Pixi(),
        Rattler(),
    )  # fmt: skip
}

__all__ = ["ADAPTERS", "PackageSource", "Sandbox", "Step", "ToolAdapter"]
