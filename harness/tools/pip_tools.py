"""pip-tools: `pip-compile` locks requirements.in into requirements.txt, `pip-sync` installs it.

The lock workflow of plain pip users, and a row of both uv's benchmark chart and the
python-package-manager-shootout. The env is a `python -m venv` env (pip seeded by ensurepip, as
for pip-venv); pip-sync drives that env's own pip (`--python-executable`), so files are copied.
pip-compile resolves with the pip of pip-tools' own venv, pinned here beside it.

pip-compile is asked `--allow-unsafe`, pip-tools' own recommendation (`pip-compile --help` of
7.6.2: "Future versions of pip-tools will enable this behavior by default ... It is recommended to
pass the --allow-unsafe now"): without it a project that pins pip or setuptools gets a lock
without them, pip-sync leaves the venv's seeded copies, and the env is not the one asked for.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter
from harness.tools.pip_venv import PipVenv

VERSION = "7.6.2"
PIP = "26.3"  # pip-compile's resolver is the pip of its own venv: pinned too


class PipTools(ToolAdapter):
    name = "pip-tools"
    requirements = (f"pip-tools=={VERSION}", f"pip=={PIP}")
    lock_file = "requirements.txt"
    # pip-sync passes --pip-args to pip install; pip compiles by default (`pip install --help`:
    # "--no-compile  Do not compile Python source files to bytecode").
    bytecode_options = {"compile": (), "skip": ("--pip-args", "--no-compile")}  # noqa: RUF012

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return PipVenv().env(sandbox)  # pip's cache, no pip.conf, the CA bundle: as for pip-venv

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("pip-compile"), "--version"])

    def parse_version(self, output: str) -> str:
        # "pip-compile, version 7.6.2"
        return output.strip().split()[-1]

    def link_mode_configured(self) -> str:
        return "copy"

    def project_files(self, project, requirements, source: PackageSource, python: str) -> dict[str, str]:
        return {"requirements.in": "".join(f"{requirement}\n" for requirement in requirements)}

    def install_steps(self, sandbox: Sandbox, project, requirements, source: PackageSource) -> list[Step]:
        cwd = sandbox.project_dir(project)
        sources = PipVenv.source_args(source)
        # pip-tools keeps its own cache of resolved metadata beside pip's.
        cache = ["--cache-dir", str(PurePosixPath(sandbox.cache, "pip-tools"))]
        compile_argv = [sandbox.tool("pip-compile"), "--quiet", "--strip-extras", "--allow-unsafe", *cache, *sources,
                        "--output-file", self.lock_file, "requirements.in"]  # fmt: skip
        sync_argv = [sandbox.tool("pip-sync"), "--python-executable", self.env_python(sandbox, project), *self.bytecode_args(),
                     *sources, self.lock_file]  # fmt: skip
        return [
            self.step(sandbox, "venv", [sandbox.python, "-m", "venv", self.env_dir(sandbox, project)], cwd),
            self.step(sandbox, "lock", compile_argv, cwd),
            self.step(sandbox, "install", sync_argv, cwd),
        ]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # pip-sync installs with the pinned pip beside it: that pip's cache is the one filled.
        # pip-tools' own cache (resolved metadata) has no command that clears it.
        return [CacheStep(self.step(sandbox, "cache", [sandbox.tool("pip"), "cache", "purge"]), "pip")]
