"""uv, pip interface: `uv venv`, then `uv pip install` into it from uv's global cache.

uv's default link mode on Linux is clone (a reflink of each cached file), in the pinned uv's own
words (`uv help pip install`, uv 0.13.9): "Defaults to `clone` (also known as Copy-on-Write) on
macOS and Linux, and `hardlink` on Windows." Where the file system cannot clone (ext4) it falls
back to hard links, and to copies when the cache and the env are on different file systems; the
scan records which one each env really got.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter

VERSION = "0.13.9"


class Uv(ToolAdapter):
    name = "uv"
    requirements = (f"uv=={VERSION}",)
    # `uv help pip install` (0.13.9): "--compile-bytecode  Compile Python files to bytecode after
    # installation"; uv compiles none by default.
    bytecode_options = {"compile": ("--compile-bytecode",), "skip": ()}  # noqa: RUF012

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        return {
            "UV_CACHE_DIR": str(PurePosixPath(sandbox.cache, "uv")),
            "UV_NO_CONFIG": "1",  # no uv.toml of the user's or the machine's changes what is measured
            "UV_PYTHON_DOWNLOADS": "never",  # envs use the scenario's interpreter, not a download
            "UV_NO_PROGRESS": "1",
        }

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", [sandbox.tool("uv"), "--version"])

    def parse_version(self, output: str) -> str:
        # "uv 0.13.9 (x86_64-unknown-linux-gnu)"
        return output.split()[1]

    def link_mode_configured(self) -> str:
        return "clone"  # then hardlink, then copy: what the file system allows (module docstring)

    @staticmethod
    def source_args(source: PackageSource) -> list[str]:
        if source.wheelhouse:
            return ["--offline", "--no-index", "--find-links", source.wheelhouse]
        args: list[str] = ["--default-index", source.index_url] if source.index_url else []
        for url in source.extra_indexes:
            # --index comes before PyPI; uv's first-index strategy takes a package from the
            # first index that has it, so the pinned package comes from its named index.
            args += ["--index", url]
        return args

    @staticmethod
    def source_env(source: PackageSource) -> dict[str, str]:
        """source_args as uv's variables (`uv help pip install`: UV_DEFAULT_INDEX, UV_INDEX, ...), for
        tools that run uv themselves."""
        if source.wheelhouse:
            return {"UV_OFFLINE": "1", "UV_NO_INDEX": "1", "UV_FIND_LINKS": source.wheelhouse}
        env = {"UV_DEFAULT_INDEX": source.index_url} if source.index_url else {}
        if source.extra_indexes:
            env["UV_INDEX"] = " ".join(source.extra_indexes)
        return env

    def install_steps(self, sandbox, project, requirements, source) -> list[Step]:
        cwd = sandbox.project_dir(project)
        env_dir = self.env_dir(sandbox, project)
        uv = sandbox.tool("uv")
        return [
            self.step(sandbox, "venv", [uv, "venv", "--python", sandbox.python, env_dir], cwd),
            self.step(
                sandbox,
                "install",
                [uv, "pip", "install", "--python", self.env_python(sandbox, project), *self.bytecode_args(),
                 *self.source_args(source), *requirements],  # fmt: skip
                cwd,
            ),
        ]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # `uv help cache` (0.13.9): prune "Prune dangling cache entries and cached environments",
        # clean "Clear the cache, removing all entries".
        uv = sandbox.tool("uv")
        return [CacheStep(self.step(sandbox, "cache", [uv, "cache", command]), "uv") for command in ("prune", "clean")]
