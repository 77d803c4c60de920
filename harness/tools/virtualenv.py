"""virtualenv + pip: `virtualenv .venv`, then the env's pip installs the requirements.

virtualenv seeds pip from its app-data folder (under the sandbox's cache), copying the seed
wheels' files into each env by default; the packages themselves are installed by pip, which
copies every file.
"""

from __future__ import annotations

from harness.tools.base import Sandbox, Step
from harness.tools.pip_venv import PipVenv

VERSION = "21.15.8"


class Virtualenv(PipVenv):
    name = "virtualenv"
    requirements = (f"virtualenv=={VERSION}",)

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("virtualenv"), "--version"])

    def parse_version(self, output: str) -> str:
        # "virtualenv 21.15.8 from /opt/tools/virtualenv/lib/..."
        return output.split()[1]

    def install_steps(self, sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        venv = [sandbox.tool("virtualenv"), "--python", sandbox.python, self.env_dir(sandbox, project)]
        return [self.step(sandbox, "venv", venv, cwd), *super().install_steps(sandbox, project, requirements, source)[1:]]
