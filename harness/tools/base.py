"""What every tool adapter shares: the records it returns and the paths it is given.

Adapters know tools and nothing else: they turn a project into Steps (argv, env, cwd) as plain
data, never running anything, so they are tested by asserting on the steps they return.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Step:
    """One command to run: an argv list, extra environment, a working directory."""

    operation: str  # venv | install | lock | version
    argv: tuple[str, ...]
    cwd: str
    env: tuple[tuple[str, str], ...] = ()

    def display(self) -> str:
        return shlex.join(self.argv)

    def to_json(self) -> dict:
        return {"operation": self.operation, "argv": list(self.argv), "cwd": self.cwd, "env": dict(self.env)}


@dataclass(frozen=True)
class Sandbox:
    """Where one tool works: its own cache, HOME and projects, on paths the backend chose.

    The same tree is used by every backend (a host folder or a container volume); paths are
    POSIX strings because they may name places inside a container.
    """

    root: str
    python: str  # the interpreter projects' envs are made from
    tool_bin: str = ""  # bin folder of the tool's own pinned venv ("" when it needs none)
    ca_bundle: str = ""  # CA bundle for TLS (an intercepting proxy's CA is only there)
    key: str = ""  # which (tool, layout) the backend made it for

    @property
    def cache(self) -> str:
        return str(PurePosixPath(self.root, "cache"))

    @property
    def home(self) -> str:
        return str(PurePosixPath(self.root, "home"))

    @property
    def tmp(self) -> str:
        return str(PurePosixPath(self.root, "tmp"))

    @property
    def projects(self) -> str:
        return str(PurePosixPath(self.root, "projects"))

    def project_dir(self, project: str) -> str:
        return str(PurePosixPath(self.projects, project))

    def tool(self, executable: str) -> str:
        return str(PurePosixPath(self.tool_bin, executable)) if self.tool_bin else executable

    def base_env(self) -> dict[str, str]:
        """Environment that keeps every tool away from the user's real caches and config."""
        env = {
            "HOME": self.home,
            "XDG_CACHE_HOME": self.cache,
            "XDG_CONFIG_HOME": str(PurePosixPath(self.home, ".config")),
            "XDG_DATA_HOME": str(PurePosixPath(self.home, ".local", "share")),
            "XDG_STATE_HOME": str(PurePosixPath(self.home, ".local", "state")),
            "TMPDIR": self.tmp,
        }
        if self.ca_bundle:
            env["SSL_CERT_FILE"] = self.ca_bundle
        return env


@dataclass(frozen=True)
class PackageSource:
    """Where packages come from: a wheel folder (offline) or indexes besides PyPI."""

    wheelhouse: str | None = None
    # package (canonical name) -> index URL, for packages pinned to a named index
    pinned: tuple[tuple[str, str], ...] = ()
    index_url: str | None = None  # what replaces PyPI (envbench's mirror), None: PyPI itself
    trusted_hosts: tuple[str, ...] = ()  # plain-HTTP hosts (the mirror)

    @property
    def extra_indexes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(url for _, url in self.pinned))


class ToolAdapter:
    """Base of one adapter per tool (after uv's scripts/benchmark and asv's plugins)."""

    name: str = ""
    # Pinned requirements of the tool's own venv; empty when the tool ships with Python.
    requirements: tuple[str, ...] = ()

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        """Tool-specific variables on top of the sandbox's base environment."""
        return {}

    def version_step(self, sandbox: Sandbox) -> Step:
        raise NotImplementedError

    def parse_version(self, output: str) -> str:
        raise NotImplementedError

    def link_mode_configured(self) -> str:
        """How the tool is set to put files into envs (the scan shows what it really did)."""
        raise NotImplementedError

    def cache_dirs(self, sandbox: Sandbox) -> tuple[str, ...]:
        return (sandbox.cache,)

    def env_dir(self, sandbox: Sandbox, project: str) -> str:
        return str(PurePosixPath(sandbox.project_dir(project), ".venv"))

    def env_python(self, sandbox: Sandbox, project: str) -> str:
        return str(PurePosixPath(self.env_dir(sandbox, project), "bin", "python"))

    def install_steps(self, sandbox: Sandbox, project: str, requirements: tuple[str, ...], source: PackageSource) -> list[Step]:
        """Steps that make the project's env from nothing (cache state is the caller's)."""
        raise NotImplementedError

    def step(self, sandbox: Sandbox, operation: str, argv: list[str], cwd: str | None = None) -> Step:
        env = {**sandbox.base_env(), **self.env(sandbox)}
        return Step(operation, tuple(argv), cwd or sandbox.root, tuple(sorted(env.items())))
