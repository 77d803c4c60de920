"""nix: the real `nix` (Debian's nix-bin) and its store, with Python packages from PyPI wheels — a
stand-in, since nixpkgs and its binary cache cannot be reached here.

The lock step resolves with pip and writes default.nix (harness/sandbox/nix_driver.py): one
derivation per wheel, fetched by nix's own fetchurl and installed into its store path by the
image's Python, and an env derivation that joins them the way nixpkgs' python.withPackages does
(a tree of symbolic links, buildEnv's rule). `nix-build` builds it and leaves `.nix-env`, the
project's GC root, pointing into the store. The store (NIX_STORE_DIR) and its database live in
the sandbox's cache, so the store is what the tool's cache is: what each project adds, what
deleting its root frees after `nix-collect-garbage`, what `nix-store --optimise` links.
Builds run with `sandbox = false` and no build users (Nix's single-user mode), and substitute
nothing. What a user with nixpkgs sees differently: docs/nix.md.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from harness.tools.base import CacheStep, PackageSource, Sandbox, Step, ToolAdapter
from harness.tools.pip_tools import PIP
from harness.tools.pip_venv import PipVenv

DRIVER = "nix_driver.py"  # harness/sandbox: the lock step
BUILDER = "nix_builder.py"  # harness/sandbox: every derivation's builder
CONFIG = "sandbox = false\nbuild-users-group =\nsubstituters =\n"  # nix.conf's words, through NIX_CONFIG
STAND_IN = "a stand-in: the real nix store and builder, packages from PyPI wheels, no nixpkgs"


class Nix(ToolAdapter):
    name = "nix"
    requirements = (f"pip=={PIP}",)  # the lock step's resolver, as pip-tools pins it
    debian_packages = ("nix-bin",)  # in the tools image; the local backend uses the machine's own
    lock_file = "default.nix"
    env_paths = (".nix-env",)  # the GC root; the store keeps the env until nix-collect-garbage
    stand_in = True
    wheels_only = True  # the builder unpacks wheels; nixpkgs would build an sdist, this stand-in cannot
    # The builder byte-compiles as pip does (level 0), unless asked not to.
    bytecode_options = {"compile": (), "skip": ("--no-compile",)}  # noqa: RUF012

    def env(self, sandbox: Sandbox) -> dict[str, str]:
        state = PurePosixPath(sandbox.cache, "nix")
        env = {
            "NIX_STORE_DIR": str(state / "store"),
            "NIX_STATE_DIR": str(state / "var"),
            "NIX_LOG_DIR": str(state / "log"),
            "NIX_CONF_DIR": str(PurePosixPath(sandbox.home, ".config", "nix")),  # none there: NIX_CONFIG only
            "NIX_CONFIG": CONFIG,
            "NIX_REMOTE": "",  # the local store, no daemon
            "PIP_CONFIG_FILE": "/dev/null",
        }
        if sandbox.ca_bundle:
            env["PIP_CERT"] = sandbox.ca_bundle
        return env

    def measured_as(self, version: str) -> str:
        return f"nix {version} ({STAND_IN})"

    def env_dir(self, sandbox: Sandbox, project: str) -> str:
        return str(PurePosixPath(sandbox.project_dir(project), ".nix-env"))

    def version_step(self, sandbox: Sandbox) -> Step:
        return self.step(sandbox, "version", ["nix-store", "--version"])

    def parse_version(self, output: str) -> str:
        # "nix-store (Nix) 2.8.0"
        return output.strip().split()[-1]

    def link_mode_configured(self) -> str:
        return "symlink"  # the env is links into the store; the scan shows it

    def install_steps(self, sandbox: Sandbox, project, requirements, source: PackageSource) -> list[Step]:
        cwd = sandbox.project_dir(project)
        lock = [sandbox.tool("python"), str(PurePosixPath(sandbox.scripts, DRIVER)), "lock", "--pip", sandbox.tool("pip"),
                "--python", sandbox.python, "--builder", str(PurePosixPath(sandbox.scripts, BUILDER)),
                *self.bytecode_args(), "--", *PipVenv.source_args(source), *requirements]  # fmt: skip
        build = ["nix-build", self.lock_file, "--out-link", ".nix-env"]
        return [self.step(sandbox, "lock", lock, cwd), self.step(sandbox, "install", build, cwd)]

    def cache_steps(self, sandbox: Sandbox, project: str) -> list[CacheStep]:
        # `nix-collect-garbage`: deletes what no GC root reaches (the deleted projects' roots are
        # dangling); `nix-store --optimise`: hard-links identical files across store paths.
        return [CacheStep(self.step(sandbox, "cache", ["nix-collect-garbage"]), "nix"),
                CacheStep(self.step(sandbox, "cache", ["nix-store", "--optimise"]), "nix")]
