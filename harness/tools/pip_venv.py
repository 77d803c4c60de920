"""pip + venv: `python -m venv .venv`, then the env's own pip installs the requirements.

The pip is the one `venv` seeds from ensurepip, as users get it, so its version is fixed by
the Python the scenario names; pip copies every file into each env.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter


class PipVenv(ToolAdapter):
    name = "pip-venv"
    # pip compiles at install by default; `pip install --help`: "--no-compile  Do not compile
    # Python source files to bytecode".
    bytecode_options = {"compile": (), "skip": ("--no-compile",)}  # noqa: RUF012

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        env = {
            "PIP_CACHE_DIR": str(PurePosixPath(sandbox.cache, "pip")),
            "PIP_CONFIG_FILE": "/dev/null",  # no site or user pip.conf changes what is measured
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
        }
        if sandbox.ca_bundle:
            env["PIP_CERT"] = sandbox.ca_bundle
        return env

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.python, "-c", "import ensurepip; print(ensurepip.version())"])

    def parse_version(self, output: str) -> str:
        return output.strip().splitlines()[-1]

    def link_mode_configured(self) -> str:
        return "copy"

    @staticmethod
    def source_args(source: PackageSource) -> list[str]:
        if source.wheelhouse:
            return ["--no-index", "--find-links", source.wheelhouse]
        args: list[str] = ["--index-url", source.index_url] if source.index_url else []
        for host in source.trusted_hosts:
            args += ["--trusted-host", host]  # plain HTTP: allowed (and cached) for trusted hosts only
        for url in source.extra_indexes:
            # pip has no per-package index: the named index joins PyPI and the best version wins
            # (a local label such as 2.13.0+cpu sorts above 2.13.0), as users do it.
            args += ["--extra-index-url", url]
        return args

    @staticmethod
    def source_env(source: PackageSource) -> dict[str, str]:
        """The same choices as source_args, as pip's variables (for tools that run pip themselves)."""
        if source.wheelhouse:
            return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": source.wheelhouse}
        env = {"PIP_INDEX_URL": source.index_url} if source.index_url else {}
        if source.trusted_hosts:
            env["PIP_TRUSTED_HOST"] = " ".join(source.trusted_hosts)
        if source.extra_indexes:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(source.extra_indexes)
        return env

    def install_steps(self, sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        return [
            self.step(sandbox, "venv", [sandbox.python, "-m", "venv", self.env_dir(sandbox, project)], cwd),
            self.step(
                sandbox,
                "install",
                [self.env_python(sandbox, project), "-m", "pip", "install", *self.bytecode_args(), *self.source_args(source),
                 *requirements],  # fmt: skip
                cwd,
            ),
        ]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # The pip that filled the cache: the env's own (`pip cache purge`: "Remove all items from the cache").
        argv = [self.env_python(sandbox, project), "-m", "pip", "cache", "purge"]
        return [CacheStep(self.step(sandbox, "cache", argv), "pip")]
