"""conda, as micromamba: `micromamba create --prefix .conda` from one channel, no lock file.

micromamba is a single binary from GitHub or conda-forge, and packages come from a conda
channel; this machine reaches neither. ENVBENCH_MICROMAMBA names the binary and
ENVBENCH_CONDA_CHANNEL the channel (a URL or a local channel folder); without both, the tool is
`unavailable` with that reason. Packages are hard-linked from the package cache (pkgs_dirs).
Requirements keep their names and specifiers as conda match specs ("numpy>=1.26").
"""

from __future__ import annotations

from pathlib import PurePosixPath

from packaging.requirements import Requirement

from .base import PackageSource, Sandbox, Step, ToolAdapter

BINARY_VARIABLE = "ENVBENCH_MICROMAMBA"
CHANNEL_VARIABLE = "ENVBENCH_CONDA_CHANNEL"
UNREACHABLE = "its binary and packages come from GitHub and conda channels, which this machine cannot reach"


def match_spec(text: str) -> str:
    requirement = Requirement(text)
    return f"{requirement.name}{requirement.specifier}"


class CondaChannelTool(ToolAdapter):
    """A tool given as one binary (a variable names it) that installs from a conda channel."""

    binary_variable = ""

    def external_binary(self, environ) -> str | None:
        return environ.get(self.binary_variable) or None

    def unavailable(self, source: PackageSource, environ) -> str | None:
        if not environ.get(self.binary_variable):
            return f"no {self.executable} binary: set {self.binary_variable} to one ({UNREACHABLE})"
        if not source.conda_channel:
            return f"no conda channel: set {CHANNEL_VARIABLE} to a channel URL or folder ({UNREACHABLE})"
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
            "--override-channels", "--channel", source.conda_channel or "", f"python={sandbox.python_version}",
            *(match_spec(text) for text in requirements),
        ]  # fmt: skip
        return [self.step(sandbox, "install", argv, sandbox.project_dir(project))]
