"""rattler: py-rattler, the library pixi solves and installs envs with, as pixi uses it.

`lock` solves the project's specs against the conda channel and writes pixi.lock (rattler's
lock format, pixi's own); `install` makes `.pixi/envs/default` from the lock with rattler's
installer: packages extracted once into its package cache, then hard-linked (reflinked where
the file system clones) into each env, files that hold the prefix copied and rewritten. The
channel is envbench's converted one unless ENVBENCH_CONDA_CHANNEL names a real one, so its rows
say "pixi's installer (py-rattler X.Y) on a local channel converted from PyPI wheels".
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools.base import PackageSource, Sandbox, Step, ToolAdapter
from harness.tools.conda_names import NO_CHANNEL, STAND_IN, conda_specs, subdir

VERSION = "0.28.0"
DRIVER = "rattler_driver.py"  # harness/sandbox/rattler_driver.py: the command line over py-rattler


class Rattler(ToolAdapter):
    name = "rattler"
    requirements = (f"py-rattler=={VERSION}",)
    lock_file = "pixi.lock"
    env_paths = (".pixi",)
    conda_channel = True

    def unavailable(self, source: PackageSource, environ) -> str | None:
        return None if source.conda_channel else NO_CHANNEL

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {"RATTLER_CACHE_DIR": self.cache_dir(sandbox)}  # the driver is given it too (--cache-dir)

    def cache_dir(self, sandbox: Sandbox) -> str:
        return str(PurePosixPath(sandbox.cache, "rattler"))

    def env_dir(self, sandbox: Sandbox, project: str) -> str:
        return str(PurePosixPath(sandbox.project_dir(project), ".pixi", "envs", "default"))

    def driver(self, sandbox: Sandbox) -> list[str]:
        return [sandbox.tool("python"), str(PurePosixPath(sandbox.scripts, DRIVER))]

    def version_step(self, sandbox: Sandbox) -> Step:
        argv = [sandbox.tool("python"), "-c", "import importlib.metadata as m; print('py-rattler', m.version('py-rattler'))"]
        return self.step(sandbox, "version", argv)

    def parse_version(self, output: str) -> str:
        # "py-rattler 0.28.0"
        return output.strip().split()[-1]

    def measured_as(self, version: str) -> str:
        return f"pixi's installer (py-rattler {version}) on a local channel converted from PyPI wheels ({STAND_IN})"

    def link_mode_configured(self) -> str:
        return "hardlink"  # reflink first where the file system clones, copies for prefix files

    def install_steps(self, sandbox: Sandbox, project, requirements, source: PackageSource) -> list[Step]:
        cwd = sandbox.project_dir(project)
        common = ["--platform", subdir(), "--cache-dir", self.cache_dir(sandbox)]
        lock = [*self.driver(sandbox), "lock", "--channel", source.conda_channel or "", "--lock", self.lock_file, *common,
                *conda_specs(requirements, sandbox.python_version, source.pins(requirements))]  # fmt: skip
        prefix = self.env_dir(sandbox, project)
        install = [*self.driver(sandbox), "install", "--lock", self.lock_file, "--prefix", prefix, *common]
        return [self.step(sandbox, "lock", lock, cwd), self.step(sandbox, "install", install, cwd)]
