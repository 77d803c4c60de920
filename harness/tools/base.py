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
class CacheStep:
    """A cache command and how to read what it says it removed (a reader of tools/said.py)."""

    step: Step
    said: str  # uv | pip | pdm | poetry | nothing


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
    python_version: str = ""  # the scenario's, e.g. "3.11" (tools that bring their own Python need it)
    scripts: str = ""  # folder of envbench's own scripts where the tool runs (harness/sandbox/rattler_driver.py)

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
            # virtualenv (run by virtualenv, Poetry, PDM, Pipenv, Hatch) keeps seed wheels here.
            "VIRTUALENV_OVERRIDE_APP_DATA": str(PurePosixPath(self.cache, "virtualenv")),
            # and on a fresh app-data (every cold state) starts a "periodic update": pip downloads
            # of newer seed wheels, detached, that outlive the step and would run into the next.
            "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
        }
        if self.ca_bundle:
            env["SSL_CERT_FILE"] = self.ca_bundle
        return env

    def probe_env(self) -> dict[str, str]:
        """The probe's environment: HOME, caches and config under tmp (never scanned), so an
        import that writes (a font cache in HOME) leaves nothing the scan counts as the tool's,
        and envs can be proved before the trees are scanned."""
        home = str(PurePosixPath(self.tmp, "probe-home"))
        return {**self.base_env(), "HOME": home, "XDG_CACHE_HOME": str(PurePosixPath(home, ".cache")),
                "XDG_CONFIG_HOME": str(PurePosixPath(home, ".config")),
                "XDG_DATA_HOME": str(PurePosixPath(home, ".local", "share")),
                "XDG_STATE_HOME": str(PurePosixPath(home, ".local", "state"))}  # fmt: skip


@dataclass(frozen=True)
class PackageSource:
    """Where packages come from: a wheel folder (offline) or indexes besides PyPI."""

    wheelhouse: str | None = None
    # package (canonical name) -> index URL, for packages pinned to a named index
    pinned: tuple[tuple[str, str], ...] = ()
    index_url: str | None = None  # what replaces PyPI (envbench's mirror), None: PyPI itself
    trusted_hosts: tuple[str, ...] = ()  # plain-HTTP hosts (the mirror)
    names: tuple[tuple[str, str], ...] = ()  # index URL -> the scenario's name for it
    conda_channel: str | None = None  # conda packages (conda, pixi): a channel URL or folder

    @property
    def extra_indexes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(url for _, url in self.pinned))

    def index_name(self, url: str) -> str:
        """The scenario's name of a pinned index (tools that name their sources need one)."""
        return dict(self.names).get(url) or f"index-{self.extra_indexes.index(url) + 1}"

    def index_of(self, package: str) -> str | None:
        """URL of the index PACKAGE (a requirement's name) is pinned to, if any."""
        from packaging.utils import canonicalize_name

        return dict(self.pinned).get(canonicalize_name(package))

    def pins(self, requirements) -> dict[str, str]:
        """Requirement name (as written) -> name of the index it is pinned to, for those pinned."""
        from packaging.requirements import Requirement

        names = (Requirement(text).name for text in requirements)
        return {name: self.index_name(url) for name in names if (url := self.index_of(name))}


class ToolAdapter:
    """Base of one adapter per tool (after uv's scripts/benchmark and asv's plugins).

    install_steps() returns every step that makes an env from nothing, in order; a step whose
    operation is "lock" writes `lock_file`, and is left out when the lock file is already there
    (the `locked` states). A tool with no lock file has no lock operation and no locked states.
    """

    name: str = ""
    executable: str = ""  # the command's name, for a tool given as an external binary
    # Pinned requirements of the tool's own venv; empty when the tool ships with Python.
    requirements: tuple[str, ...] = ()
    lock_file: str | None = None  # relative to the project
    variant_of: str | None = None  # the tool a variant changes settings of (tools/variant.py)
    variant_env: dict[str, str] = {}  # noqa: RUF012 (never mutated: variants get their own dict)
    env_paths: tuple[str, ...] = (".venv",)  # what deleting the env removes, relative to the project
    conda_channel: bool = False  # installs from a conda channel (envbench converts one from the mirror)
    wheels_only: bool = False  # installs wheels and nothing else: an sdist in the install set makes it unavailable
    stand_in: bool = False  # every figure of it is a stand-in's (measured_as says of what), whatever the source
    debian_packages: tuple[str, ...] = ()  # what the tools image adds for it (the local backend: the machine's)
    # Bytecode at install (scenario key bytecode): the arguments each mode adds to the install
    # step, from the pinned tool's own help; a mode left out is one the tool has no option for.
    bytecode_options: dict[str, tuple[str, ...]] = {}  # noqa: RUF012 (never mutated)
    bytecode: str = "default"  # the mode asked: default | compile | skip
    # Settings a variant may give (variants.NAME.settings): name -> the values the pinned tool
    # accepts, from its own source or help; the adapter writes them where the tool reads them.
    setting_choices: dict[str, tuple[str, ...]] = {}  # noqa: RUF012 (never mutated)
    settings: dict[str, str] = {}  # noqa: RUF012 (never mutated: variants get their own dict)

    def bytecode_args(self) -> tuple[str, ...]:
        """What the install step adds for the mode asked (nothing where the tool has no option)."""
        return self.bytecode_options.get(self.bytecode, ())

    def bytecode_setting(self) -> str:
        """The mode asked and what carried it out, for run.json."""
        if self.bytecode not in self.bytecode_options:
            return f"{self.bytecode}: no option in {self.name}, its default used"
        args = self.bytecode_args()
        return f"{self.bytecode}: {' '.join(args)}" if args else f"{self.bytecode}: {self.name}'s default"

    def venv_name(self) -> str:
        """Whose pinned venv the tool runs from (a variant runs its base tool's)."""
        return self.variant_of or self.name

    def unavailable(self, source: PackageSource, environ: dict[str, str]) -> str | None:
        """Why the tool cannot run with SOURCE here (None: it can)."""
        return None

    def measured_as(self, version: str) -> str:
        """What its rows measured when the channel is envbench's converted one (conda-side tools)."""
        raise NotImplementedError

    def external_binary(self, environ: dict[str, str]) -> str | None:
        """A host file the tool's binary comes from (tools not installable from PyPI)."""
        return None

    def project_files(self, project: str, requirements: tuple[str, ...], source: PackageSource, python: str) -> dict[str, str]:
        """Files the project folder holds before any step (name -> text): pyproject.toml, Pipfile, ..."""
        return {}

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

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        """The tool's own commands that empty its cache, in the order a user tries them (prune
        before clean); PROJECT's env still exists (a pip run from the env needs one). None here:
        the tool has no such command envbench runs."""
        return []

    def step(self, sandbox: Sandbox, operation: str, argv: list[str], cwd: str | None = None, extra: dict | None = None) -> Step:
        env = {**sandbox.base_env(), **self.env(sandbox), **(extra or {})}
        return Step(operation, tuple(argv), cwd or sandbox.root, tuple(sorted(env.items())))
