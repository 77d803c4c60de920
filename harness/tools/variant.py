"""Tool variants: a tool under another name with settings changed through its environment.

Scenarios declare them (`variants: {uv-copy: {tool: uv, env: {UV_LINK_MODE: copy}}}`), so that
a tool's defaults, as users get them, stay what the plain name measures, and a changed setting
is a separate, named row. A variant runs the base tool's own pinned venv and steps; besides
variables it may set the tool's bytecode option (`bytecode: skip`) and settings the adapter
writes into the tool's own configuration (`settings: {install.cache: "true"}` for PDM).
"""

from __future__ import annotations

from harness.tools.base import Sandbox, ToolAdapter


def variant(name: str, base: ToolAdapter, env: dict[str, str], settings: dict[str, str] | None = None,
            bytecode: str = "default") -> ToolAdapter:
    """An adapter that is BASE in every way but its name, the variables ENV adds, its SETTINGS
    and its BYTECODE mode."""

    class Variant(type(base)):
        def env(self, sandbox: Sandbox) -> dict[str, str]:
            return {**super().env(sandbox), **self.variant_env}

    Variant.__name__ = f"Variant_{type(base).__name__}"
    adapter = Variant()
    adapter.name = name
    adapter.variant_of = base.name
    adapter.variant_env = dict(env)
    adapter.settings = dict(settings or {})
    adapter.bytecode = bytecode
    return adapter
