"""pixi: a pixi.toml workspace, `pixi lock`, `pixi install` into `.pixi/envs/default`.

Like conda, pixi is a binary from GitHub, not reachable here: ENVBENCH_PIXI names it (without
one the tool is `unavailable` with that reason); packages come from envbench's converted
channel unless ENVBENCH_CONDA_CHANNEL names a real one. pixi links packages from its cache (rattler's:
hard links, or reflinks where the file system has them).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools import toml
from harness.tools.base import PackageSource, Sandbox, Step
from harness.tools.conda import CondaChannelTool
from harness.tools.conda_names import conda_specs

BINARY_VARIABLE = "ENVBENCH_PIXI"


class Pixi(CondaChannelTool):
    name = "pixi"
    executable = "pixi"
    binary_variable = BINARY_VARIABLE
    lock_file = "pixi.lock"
    env_paths = (".pixi",)

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "PIXI_CACHE_DIR": str(PurePosixPath(sandbox.cache, "pixi")),
            "RATTLER_CACHE_DIR": str(PurePosixPath(sandbox.cache, "rattler")),
            "PIXI_HOME": str(PurePosixPath(sandbox.home, ".pixi")),
            "PIXI_NO_PROGRESS": "1",
        }

    def env_dir(self, sandbox: Sandbox, project: str) -> str:
        return str(PurePosixPath(sandbox.project_dir(project), ".pixi", "envs", "default"))

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool(self.executable), "--version"])

    def parse_version(self, output: str) -> str:
        # "pixi 0.50.0"
        return output.strip().split()[-1]

    def link_mode_configured(self) -> str:
        return "hardlink"

    def project_files(self, project, requirements, source: PackageSource, python: str) -> dict[str, str]:
        dependencies = {}
        for spec in conda_specs(requirements, python, source.pins(requirements)):
            name, version, build = (spec.split(" ", 2) + ["", ""])[:3]
            # pixi.toml's forms: "VERSION", or { version, build } for a build pattern
            dependencies[name] = {"version": version or "*", "build": build} if build else version or "*"
        workspace = {"name": project, "channels": [source.conda_channel or ""], "platforms": ["linux-64"]}
        return {"pixi.toml": toml.document(toml.table("workspace", workspace), toml.table("dependencies", dependencies))}

    def install_steps(self, sandbox: Sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        pixi = sandbox.tool(self.executable)
        return [self.step(sandbox, "lock", [pixi, "lock"], cwd), self.step(sandbox, "install", [pixi, "install"], cwd)]
