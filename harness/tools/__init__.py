"""One adapter per tool; `ADAPTERS` maps the scenario's tool names to them."""

from .base import PackageSource, Sandbox, Step, ToolAdapter
from .pip_venv import PipVenv
from .uv import Uv

ADAPTERS: dict[str, ToolAdapter] = {adapter.name: adapter for adapter in (PipVenv(), Uv())}

__all__ = ["ADAPTERS", "PackageSource", "Sandbox", "Step", "ToolAdapter"]
