"""Hatch: the project's default environment, kept in the project as `.venv`.

Users list an environment's dependencies in pyproject.toml and run `hatch env create`; Hatch
makes the env with virtualenv and installs with pip (its default installer), so packages are
copied. Hatch has no lock file. The project itself is not installed (`skip-install`): the
scenario's projects are sets of dependencies, not packages.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools import toml
from harness.tools.base import PackageSource, Sandbox, Step, ToolAdapter
from harness.tools.pip_venv import PipVenv

VERSION = "1.18.2"


class Hatch(ToolAdapter):
    name = "hatch"
    requirements = (f"hatch=={VERSION}",)

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "HATCH_DATA_DIR": str(PurePosixPath(sandbox.home, ".local", "share", "hatch")),
            "HATCH_CACHE_DIR": str(PurePosixPath(sandbox.cache, "hatch")),
            "HATCH_INTERACTIVE": "0",
            "HATCH_PYTHON": sandbox.python,  # the scenario's interpreter, not one Hatch downloads
            **PipVenv().env(sandbox),  # Hatch installs with pip: pip's cache and no pip.conf, as for pip-venv
        }

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("hatch"), "--version"])

    def parse_version(self, output: str) -> str:
        # "Hatch, version 1.18.2"
        return output.split()[-1]

    def link_mode_configured(self) -> str:
        return "copy"

    def project_files(self, project, requirements, source, python) -> dict[str, str]:
        default_env = {"path": ".venv", "skip-install": True, "dependencies": list(requirements)}
        project_table = toml.table("project", {"name": project, "version": "0.0.0"})
        return {"pyproject.toml": toml.document(project_table, toml.table("tool.hatch.envs.default", default_env))}

    def install_steps(self, sandbox, project, requirements, source: PackageSource) -> list[Step]:
        # Hatch runs pip itself: the source reaches it through pip's variables.
        argv = [sandbox.tool("hatch"), "env", "create"]
        return [self.step(sandbox, "install", argv, sandbox.project_dir(project), PipVenv.source_env(source))]
