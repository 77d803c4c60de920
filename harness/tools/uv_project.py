"""uv, project interface: pyproject.toml, `uv lock`, then `uv sync --locked` into `.venv`.

The way uv's own documentation has projects work. Files come from uv's cache by hard link,
as with the pip interface. The mirror is the project's default index; a package pinned to a
named index gets an explicit index and a `tool.uv.sources` entry, so it comes from there only.
"""

from __future__ import annotations

from harness.tools import toml
from harness.tools.base import PackageSource, Sandbox, Step
from harness.tools.uv import Uv


class UvProject(Uv):
    name = "uv-project"
    lock_file = "uv.lock"

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        # UV_NO_CONFIG would also make uv skip the project's own [tool.uv] table (its indexes):
        # user configuration is kept out by the sandbox's XDG_CONFIG_HOME instead.
        return {key: value for key, value in super().env(sandbox).items() if key != "UV_NO_CONFIG"}

    def project_files(self, project, requirements, source: PackageSource, python: str) -> dict[str, str]:
        tables = [toml.project_table(project, requirements, python)]
        settings: dict = {"package": False}
        if source.wheelhouse:
            settings |= {"no-index": True, "find-links": [source.wheelhouse]}
        tables.append(toml.table("tool.uv", settings))
        if source.index_url and not source.wheelhouse:
            tables.append(toml.table("[tool.uv.index]", {"name": "mirror", "url": source.index_url, "default": True}))
        for url in source.extra_indexes:
            tables.append(toml.table("[tool.uv.index]", {"name": source.index_name(url), "url": url, "explicit": True}))
        pins = source.pins(requirements)
        if pins:
            tables.append(toml.table("tool.uv.sources", {name: {"index": index} for name, index in pins.items()}))
        return {"pyproject.toml": toml.document(*tables)}

    def install_steps(self, sandbox: Sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        uv = sandbox.tool("uv")
        return [
            self.step(sandbox, "lock", [uv, "lock", "--python", sandbox.python], cwd),
            self.step(sandbox, "install", [uv, "sync", "--locked", "--python", sandbox.python, *self.bytecode_args()], cwd),
        ]
