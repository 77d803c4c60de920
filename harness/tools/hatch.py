"""Hatch: the project's default environment, kept in the project as `.venv`.

Users list an environment's dependencies in pyproject.toml and run `hatch env create`; Hatch
makes the env with virtualenv and installs with pip (its default installer), so packages are
copied; with the setting `installer: uv` (a variant's) it makes the env and installs with the
uv it ships with, which reads uv's variables, not pip's. Hatch has no lock file.
The project itself is not installed (`skip-install`): the
scenario's projects are sets of dependencies, not packages.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools import toml
from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter
from harness.tools.pip_venv import PipVenv
from harness.tools.uv import Uv

VERSION = "1.18.2"


class Hatch(ToolAdapter):
    name = "hatch"
    requirements = (f"hatch=={VERSION}",)
    # 1.18.2's env/virtual.py: `installer` is "pip" unless set; "uv" runs `uv pip install`.
    setting_choices = {"installer": ("pip", "uv")}  # noqa: RUF012

    @property
    def uses_uv(self) -> bool:
        return self.settings.get("installer") == "uv"

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "HATCH_DATA_DIR": str(PurePosixPath(sandbox.home, ".local", "share", "hatch")),
            "HATCH_CACHE_DIR": str(PurePosixPath(sandbox.cache, "hatch")),
            "HATCH_INTERACTIVE": "0",
            "HATCH_PYTHON": sandbox.python,  # the scenario's interpreter, not one Hatch downloads
            **PipVenv().env(sandbox),  # Hatch installs with pip: pip's cache and no pip.conf, as for pip-venv
            **(Uv().env(sandbox) if self.uses_uv else {}),
        }

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("hatch"), "--version"])

    def parse_version(self, output: str) -> str:
        # "Hatch, version 1.18.2"
        return output.split()[-1]

    def link_mode_configured(self) -> str:
        return Uv().link_mode_configured() if self.uses_uv else "copy"

    def project_files(self, project, requirements, source, python) -> dict[str, str]:
        default_env = {"path": ".venv", "skip-install": True, "dependencies": list(requirements), **self.settings}
        project_table = toml.table("project", {"name": project, "version": "0.0.0"})
        return {"pyproject.toml": toml.document(project_table, toml.table("tool.hatch.envs.default", default_env))}

    def install_steps(self, sandbox, project, requirements, source: PackageSource) -> list[Step]:
        # Hatch runs pip itself: the source reaches it through pip's variables.
        argv = [sandbox.tool("hatch"), "env", "create"]
        source_env = Uv.source_env(source) if self.uses_uv else PipVenv.source_env(source)
        return [self.step(sandbox, "install", argv, sandbox.project_dir(project), source_env)]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # Hatch has no cache command of its own: its installer's is the one users run.
        if self.uses_uv:
            return Uv().cache_steps(sandbox, project)
        return PipVenv().cache_steps(sandbox, project)
