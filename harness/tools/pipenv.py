"""Pipenv: a Pipfile, `pipenv lock` (which also makes the env), `pipenv sync` into `.venv`.

Pipenv installs with pip, which copies files. Sources are indexes ([[source]]); a pinned
package names its index. Pipenv reads indexes only, never a folder of wheels.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from packaging.requirements import Requirement

from harness.tools import toml
from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter

VERSION = "2026.10.3"


def pipfile_entry(requirement: Requirement, index: str | None):
    """How a Pipfile spells a requirement: "*", a specifier, or a table with extras/markers/index."""
    version = str(requirement.specifier) or "*"
    extra: dict = {}
    if requirement.extras:
        extra["extras"] = sorted(requirement.extras)
    if requirement.marker:
        extra["markers"] = str(requirement.marker)
    if index:
        extra["index"] = index
    return {"version": version, **extra} if extra else version


class Pipenv(ToolAdapter):
    name = "pipenv"
    requirements = (f"pipenv=={VERSION}",)
    lock_file = "Pipfile.lock"

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "PIPENV_VENV_IN_PROJECT": "1",
            "PIPENV_CACHE_DIR": str(PurePosixPath(sandbox.cache, "pipenv")),
            "PIP_CACHE_DIR": str(PurePosixPath(sandbox.cache, "pip")),
            "PIP_CONFIG_FILE": "/dev/null",
            "PIPENV_PYTHON": sandbox.python,
            "PIPENV_YES": "1",
            "PIPENV_NOSPIN": "1",
            "PIPENV_IGNORE_VIRTUALENVS": "1",
            "PIPENV_DONT_LOAD_ENV": "1",
            **({"REQUESTS_CA_BUNDLE": sandbox.ca_bundle, "PIP_CERT": sandbox.ca_bundle} if sandbox.ca_bundle else {}),
        }

    def unavailable(self, source: PackageSource, environ) -> str | None:
        if source.wheelhouse:
            return "Pipenv installs from package indexes only, not from a folder of wheels: use source: mirror"
        return None

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("pipenv"), "--version"])

    def parse_version(self, output: str) -> str:
        # "pipenv, version 2026.10.3"
        return output.strip().split()[-1]

    def link_mode_configured(self) -> str:
        return "copy"

    def project_files(self, project, requirements, source: PackageSource, python: str) -> dict[str, str]:
        indexes = [("mirror", source.index_url or "https://pypi.org/simple")]
        indexes += [(source.index_name(url), url) for url in source.extra_indexes]
        tables = [
            toml.table("[source]", {"name": name, "url": url, "verify_ssl": not url.startswith("http:")}) for name, url in indexes
        ]
        pins = source.pins(requirements)
        parsed = [Requirement(text) for text in requirements]
        packages = {requirement.name: pipfile_entry(requirement, pins.get(requirement.name)) for requirement in parsed}
        tables.append(toml.table("packages", packages))
        tables.append(toml.table("requires", {"python_version": ".".join(python.split(".")[:2])}))
        return {"Pipfile": toml.document(*tables)}

    def install_steps(self, sandbox: Sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        pipenv = sandbox.tool("pipenv")
        return [
            self.step(sandbox, "lock", [pipenv, "lock"], cwd),
            self.step(sandbox, "install", [pipenv, "sync"], cwd),
        ]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # `pipenv --help`: "--clear  Clears caches (pipenv, pip)."; it prints no figure.
        return [CacheStep(self.step(sandbox, "cache", [sandbox.tool("pipenv"), "--clear"], sandbox.project_dir(project)),
                          "nothing")]  # fmt: skip
