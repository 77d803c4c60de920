"""Poetry 2: a PEP 621 pyproject.toml in package-mode false, `poetry lock`, `poetry install`.

The env lives in the project (`virtualenvs.in-project`), made from the scenario's interpreter
by `poetry env use`. Poetry's installer unpacks wheels from its artifact cache into the env:
copies. The mirror is a primary source, which turns PyPI off; a package pinned to a named index
gets an explicit source of its own. Poetry reads indexes only, never a folder of wheels.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools import toml
from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter

VERSION = "2.5.1"


class Poetry(ToolAdapter):
    name = "poetry"
    requirements = (f"poetry=={VERSION}",)
    lock_file = "poetry.lock"
    # `poetry install --help` (2.5.1): "--compile  Compile Python source files to bytecode"; without
    # it Poetry's wheel installer compiles nothing.
    bytecode_options = {"compile": ("--compile",), "skip": ()}  # noqa: RUF012

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "POETRY_CACHE_DIR": str(PurePosixPath(sandbox.cache, "poetry")),
            "POETRY_CONFIG_DIR": str(PurePosixPath(sandbox.home, ".config", "pypoetry")),
            "POETRY_DATA_DIR": str(PurePosixPath(sandbox.home, ".local", "share", "pypoetry")),
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
            "POETRY_NO_INTERACTION": "1",
            **({"REQUESTS_CA_BUNDLE": sandbox.ca_bundle} if sandbox.ca_bundle else {}),
        }

    def unavailable(self, source: PackageSource, environ) -> str | None:
        if source.wheelhouse:
            return "Poetry installs from package indexes only, not from a folder of wheels: use source: mirror"
        return None

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("poetry"), "--version"])

    def parse_version(self, output: str) -> str:
        # "Poetry (version 2.5.1)"
        return output.strip().split()[-1].rstrip(")")

    def link_mode_configured(self) -> str:
        return "copy"

    def project_files(self, project, requirements, source: PackageSource, python: str) -> dict[str, str]:
        tables = [
            toml.project_table(project, requirements, python),
            toml.table("tool.poetry", {"package-mode": False}),
        ]
        pins = source.pins(requirements)
        if pins:
            tables.append(toml.table("tool.poetry.dependencies", {name: {"source": index} for name, index in pins.items()}))
        sources = [{"name": "mirror", "url": source.index_url, "priority": "primary"}] if source.index_url else []
        sources += [{"name": source.index_name(url), "url": url, "priority": "explicit"} for url in source.extra_indexes]
        tables += [toml.table("[tool.poetry.source]", entry) for entry in sources]
        return {"pyproject.toml": toml.document(*tables)}

    def install_steps(self, sandbox: Sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        poetry = sandbox.tool("poetry")
        return [
            self.step(sandbox, "venv", [poetry, "env", "use", sandbox.python], cwd),
            self.step(sandbox, "lock", [poetry, "lock"], cwd),
            self.step(sandbox, "install", [poetry, "install", *self.bytecode_args()], cwd),
        ]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # `poetry cache clear --all` without a cache name clears every repository cache (2.5.1's
        # cache/clear.py); it asks first, and POETRY_NO_INTERACTION takes the default, yes.
        argv = [sandbox.tool("poetry"), "cache", "clear", "--all", "--no-interaction"]
        return [CacheStep(self.step(sandbox, "cache", argv, sandbox.project_dir(project)), "poetry")]
