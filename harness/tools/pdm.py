"""PDM: a PEP 621 pyproject.toml (distribution false), `pdm lock`, `pdm install` into `.venv`.

`pdm venv create` makes the in-project env from the scenario's interpreter (a bare interpreter
in PDM_PYTHON would make PDM install into __pypackages__ instead). PDM's install cache is off
by default, so files are copied; a variant's settings `install.cache` and `install.cache_method`
go into the project's pdm.toml, as `pdm config --local` would write them.
The mirror replaces the source named "pypi"; a pinned package comes from its own source, which the mirror's source excludes.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools import toml
from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter

VERSION = "2.29.2"
# PDM's own dependencies move under it: 2.29.3 breaks with hishel 2, 2.29.4 asks for a certifi
# PyPI does not serve yet. These are the versions PyPI held on 2026-10-15 (uv --exclude-newer).
PINNED_DEPENDENCIES = ("hishel==1.4.0", "httpx==0.28.1", "httpcore==1.0.9", "unearth==0.18.3", "virtualenv==21.14.7")


class Pdm(ToolAdapter):
    name = "pdm"
    requirements = (f"pdm=={VERSION}", *PINNED_DEPENDENCIES)
    lock_file = "pdm.lock"
    env_paths = (".venv", ".pdm-python")
    # 2.29.2's project/config.py: install.cache a boolean; install.cache_method "symlink/hardlink"
    # (its installers.py links by symlink for any name holding "symlink", by hard link for one
    # holding "link", else copies: the older names symlink_individual and pth are not refused).
    setting_choices = {"install.cache": ("true", "false"), "install.cache_method": ("symlink", "hardlink")}  # noqa: RUF012

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "PDM_CACHE_DIR": str(PurePosixPath(sandbox.cache, "pdm")),
            "PDM_CHECK_UPDATE": "false",
            "PDM_NON_INTERACTIVE": "1",
        }

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("pdm"), "--version"])

    def parse_version(self, output: str) -> str:
        # "PDM, version 2.29.2"
        return output.strip().split()[-1]

    def link_mode_configured(self) -> str:
        if self.settings.get("install.cache") != "true":
            return "copy"
        return self.settings.get("install.cache_method", "symlink")

    def project_files(self, project, requirements, source: PackageSource, python: str) -> dict[str, str]:
        tables = [
            toml.project_table(project, requirements, python),
            toml.table("tool.pdm", {"distribution": False}),
        ]
        pins = source.pins(requirements)
        excluded = list(pins)
        if source.wheelhouse:
            main = {"name": "pypi", "url": "file://" + source.wheelhouse, "type": "find_links"}
        elif source.index_url:
            main = {"name": "pypi", "url": source.index_url, "verify_ssl": not source.index_url.startswith("http:")}
        else:
            main = {"name": "pypi", "url": "https://pypi.org/simple"}
        tables.append(toml.table("[tool.pdm.source]", main | ({"exclude_packages": excluded} if excluded else {})))
        for url in source.extra_indexes:
            names = [name for name, index in pins.items() if index == source.index_name(url)]
            entry = {"name": source.index_name(url), "url": url, "include_packages": names}
            tables.append(toml.table("[tool.pdm.source]", entry | ({"verify_ssl": False} if url.startswith("http:") else {})))
        files = {"pyproject.toml": toml.document(*tables)}
        if self.settings:
            install = {name.removeprefix("install."): value == "true" if name == "install.cache" else value
                       for name, value in self.settings.items()}  # fmt: skip
            files["pdm.toml"] = toml.table("install", install)
        return files

    def install_steps(self, sandbox: Sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        pdm = sandbox.tool("pdm")
        return [
            self.step(sandbox, "venv", [pdm, "venv", "create", sandbox.python], cwd),
            self.step(sandbox, "lock", [pdm, "lock"], cwd),
            self.step(sandbox, "install", [pdm, "install"], cwd),
        ]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # `pdm cache clear` (every type): files removed, and cached packages no env refers to.
        return [CacheStep(self.step(sandbox, "cache", [sandbox.tool("pdm"), "cache", "clear"], sandbox.project_dir(project)),
                          "pdm")]  # fmt: skip
