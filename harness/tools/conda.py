"""conda, as micromamba: `micromamba create --prefix .conda` from one channel, no lock file.

micromamba is a single binary from GitHub or conda-forge, and packages come from a conda
channel; this machine reaches neither. ENVBENCH_MICROMAMBA names the binary (without
one the tool is `unavailable` with that reason); the channel is envbench's converted one
(harness/packages/conda_channel.py) unless ENVBENCH_CONDA_CHANNEL names a real one. Packages are
hard-linked from the package cache (pkgs_dirs). Requirements become match specs as
tools/conda_names.py says ("numpy >=1.26"; markers judged, extras and pinned indexes named).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools.base import PackageSource, Sandbox, Step, ToolAdapter
from harness.tools.conda_names import NO_CHANNEL, STAND_IN, conda_specs

BINARY_VARIABLE = "ENVBENCH_MICROMAMBA"
UNREACHABLE = "its binary and packages come from GitHub and conda channels, which this machine cannot reach"


class CondaChannelTool(ToolAdapter):
    """A tool given as one binary (a variable names it) that installs from a conda channel."""

    binary_variable = ""
    conda_channel = True

    def measured_as(self, version: str) -> str:
        return f"{self.executable} {version} on a local channel converted from PyPI wheels ({STAND_IN})"

    def external_binary(self, environ) -> str | None:
        return environ.get(self.binary_variable) or None

    def unavailable(self, source: PackageSource, environ) -> str | None:
        if not environ.get(self.binary_variable):
            return f"no {self.executable} binary: set {self.binary_variable} to one ({UNREACHABLE})"
        if not source.conda_channel:
            return NO_CHANNEL
        return None


class Conda(CondaChannelTool):
    name = "conda"
    executable = "micromamba"
    binary_variable = BINARY_VARIABLE
    env_paths = (".conda",)

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "MAMBA_ROOT_PREFIX": str(PurePosixPath(sandbox.home, "micromamba")),
            "CONDA_PKGS_DIRS": str(PurePosixPath(sandbox.cache, "conda-pkgs")),
            "MAMBARC": "/dev/null",
            "CONDARC": "/dev/null",
            "MAMBA_NO_BANNER": "1",
        }

    def env_dir(self, sandbox: Sandbox, project: str) -> str:
        return str(PurePosixPath(sandbox.project_dir(project), ".conda"))

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool(self.executable), "--version"])

    def parse_version(self, output: str) -> str:
        return output.strip().splitlines()[-1].strip()

    def link_mode_configured(self) -> str:
        return "hardlink"

    def install_steps(self, sandbox: Sandbox, project, requirements, source: PackageSource) -> list[Step]:
        argv = [
            sandbox.tool(self.executable), "create", "--yes", "--prefix", self.env_dir(sandbox, project),
            "--override-channels", "--channel", source.conda_channel or "",
            *conda_specs(requirements, sandbox.python_version, source.pins(requirements)),
        ]  # fmt: skip
        return [self.step(sandbox, "install", argv, sandbox.project_dir(project))]
