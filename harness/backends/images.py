"""Images: a base with Python, and a tools image with each tool pinned in its own venv.

Both are named by a hash of their inputs, so an image is reused exactly while its inputs match.
- base: `python:3.11-slim-bookworm` where a registry answers; otherwise a Debian root file
  system made with debootstrap from Debian's packages and imported (needs root).
- tools: FROM base; the host downloads the pinned tools' wheels first (with its own pip
  configuration, so local wheel folders and proxies work), and the build installs them with no
  network. The Dockerfile suits the legacy builder the SDK drives (no RUN --mount, no heredocs).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from harness.backends.base import BackendError
from harness.backends.engine import LABEL
from harness.sandbox import FOLDER as SANDBOX
from harness.sandbox import SCRIPTS
from harness.settings.home import envbench_home, locked
from harness.settings.pythons import NoPython, find_python
from harness.settings.target import DEFAULT_PYTHON, GLIBC_MINORS, SUITES
from harness.tools.registry import ADAPTERS

SERVER_REQUIREMENTS = ("pypiserver==2.4.2", "waitress==3.0.2")  # the mirror's index server

UID = 1000  # the unprivileged user tools run as
REGISTRY_BASE = "python:3.11-slim-bookworm"
# What tools need to build sdists with C code (pyuwsgi in scenarios/sentry.yaml), as a
# developer's machine has it: a C compiler, libc's headers, Python's headers.
BUILD_PACKAGES = ["gcc", "libc6-dev", "python3-dev"]
# The mirror's web server (harness/packages/site.py): HTTPS, keep-alive, range requests and an
# access log with each answer's bytes, as PyPI's CDN serves; -light is its smallest build with TLS.
SERVER_PACKAGES = ["nginx-light"]
DEBOOTSTRAP = {
    "suite": "bookworm",
    "variant": "minbase",
    "include": ["python3", "python3-venv", "ca-certificates", *BUILD_PACKAGES, *SERVER_PACKAGES],
    "mirror": "http://deb.debian.org/debian",
}


def suite_of(python: str) -> str:
    major_minor = ".".join(python.split(".")[:2])
    if major_minor not in SUITES:
        known = ", ".join(f"{version} (Debian {suite})" for version, suite in SUITES.items())
        raise BackendError(f"no base image has Python {python}: the images know {known}")
    return SUITES[major_minor]


def debootstrap_spec(python: str) -> dict:
    """What debootstrap makes the base of PYTHON from (bookworm's spec is the one images were
    always named by, so its tag stays as it was)."""
    suite = suite_of(python)
    return DEBOOTSTRAP if suite == DEBOOTSTRAP["suite"] else {**DEBOOTSTRAP, "suite": suite}


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def _exists(client, tag: str) -> bool:
    import docker

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def base_image(client, say, python: str = DEFAULT_PYTHON) -> str:
    """Tag of the base image of PYTHON, made if missing: from the registry, else with debootstrap."""
    import docker

    spec = debootstrap_spec(python)
    registry_base = REGISTRY_BASE if spec is DEBOOTSTRAP else f"python:{python}-slim-{spec['suite']}"
    pulled_tag = f"envbench-base:{_hash({'from': registry_base, 'build': ['gcc', 'libc6-dev', *SERVER_PACKAGES]})}"
    built_tag = f"envbench-base:{_hash({'debootstrap': spec})}"
    for tag in (pulled_tag, built_tag):
        if _exists(client, tag):
            return tag
    try:
        say(f"base image: pulling {registry_base}")
        client.images.pull(registry_base)
        # python:*-slim has Python's headers in /usr/local but no compiler: Debian's, as above.
        packages = " ".join(["gcc", "libc6-dev", *SERVER_PACKAGES])
        install = f"apt-get install -y --no-install-recommends {packages} && rm -rf /var/lib/apt/lists/*"
        dockerfile = f"FROM {registry_base}\nRUN apt-get update && {install}\nLABEL {LABEL}=base\n"
        _build(client, {"Dockerfile": dockerfile.encode()}, pulled_tag, "base", network=True)
        return pulled_tag
    except (docker.errors.APIError, docker.errors.DockerException) as exc:
        registry_error = str(exc).splitlines()[0][:200]
    say(f"base image: no registry ({registry_error}); building Debian {spec['suite']} with debootstrap")
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        raise BackendError(
            f"cannot make a base image: pulling {registry_base} failed ({registry_error}), and building one "
            "locally needs root and debootstrap (apt-get install debootstrap)"
        )
    _debootstrap_import(client, built_tag, say, spec)
    return built_tag


def with_system_packages(client, tools: str, packages: tuple[str, ...], say) -> str:
    """The tools image TOOLS with Debian's PACKAGES installed from its base's own apt sources (the
    build has the network, as the base's does): a layer on top, so a set of packages costs an
    apt-get, not a second tools image, and an image named by the tools image and the packages.
    Each package name is one argv item (exec form; the scenario checked the names)."""
    if not packages:
        return tools
    tag = f"envbench-tools:{_hash({'tools': client.images.get(tools).id, 'system_packages': list(packages)})}"
    if _exists(client, tag):
        return tag
    say(f"tools image: adding {', '.join(packages)} (system_packages) as {tag}")
    steps = [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]]
    text = (f"FROM {tools}\nUSER root\n" + "".join(f"RUN {json.dumps(argv)}\n" for argv in steps)
            + f"USER {UID}:{UID}\nLABEL {LABEL}=tools\n")  # fmt: skip
    _build(client, {"Dockerfile": text.encode()}, tag, "tools", network=True)
    return tag


def _debootstrap_import(client, tag: str, say, spec: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="envbench-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        argv = [
            "debootstrap",
            f"--variant={spec['variant']}",
            f"--include={','.join(spec['include'])}",
            spec["suite"],
            str(rootfs),
            spec["mirror"],
        ]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
            raise BackendError(f"debootstrap failed (exit {done.returncode}): {last[0]}")
        # Debian keeps apt lists and caches out of a minimal image anyway; drop them from ours.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        archive = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(archive), "."], check=True)
        say(f"base image: importing {archive.stat().st_size / 2**20:,.0f} MiB as {tag}")
        repository, version = tag.split(":")
        client.api.import_image_from_file(
            str(archive), repository=repository, tag=version, changes=[f"LABEL {LABEL}=base", 'CMD ["/bin/bash"]']
        )


def tool_requirements() -> dict[str, tuple[str, ...]]:
    """Each tool that needs its own venv, with its pinned requirements, and the mirror's server."""
    tools = {name: adapter.requirements for name, adapter in ADAPTERS.items() if adapter.requirements}
    return {**tools, "pypiserver": SERVER_REQUIREMENTS}


def dockerfile(base: str, tools: dict[str, tuple[str, ...]]) -> str:
    lines = [
        f"FROM {base}",
        f"RUN useradd --uid {UID} --create-home --shell /bin/sh bench",
        "COPY wheels /tmp/wheels",
    ]
    for name, requirements in tools.items():
        venv = f"/opt/tools/{name}"
        pins = " ".join(requirements)
        lines.append(
            f"RUN python3 -m venv {venv} && {venv}/bin/python -m pip install --no-index --find-links /tmp/wheels "
            f"--disable-pip-version-check -q {pins}"
        )
    lines += [
        "RUN rm -rf /tmp/wheels",
        "COPY envbench /opt/envbench",
        # The volumes mounted here start as copies of these folders: owned by the tools' user.
        f"RUN mkdir -p /bench/cache /bench/.envbench && chown -R {UID}:{UID} /bench",
        f"LABEL {LABEL}=tools",
        f"USER {UID}:{UID}",
        "WORKDIR /bench",
    ]
    return "\n".join(lines) + "\n"


def tools_image(client, base: str, say, python: str = DEFAULT_PYTHON) -> str:
    """Tag of the tools image for BASE (whose python3 is PYTHON), built if missing (no network inside the build)."""
    tools = tool_requirements()
    scripts = {name: (SANDBOX / name).read_text() for name in SCRIPTS}
    base_id = client.images.get(base).id
    text = dockerfile(base, tools)
    tag = f"envbench-tools:{_hash({'base': base_id, 'dockerfile': text, 'scripts': scripts, 'machine': platform.machine()})}"
    if _exists(client, tag):
        return tag
    say(f"tools image: downloading {', '.join(p for pins in tools.values() for p in pins)} on the host")
    with tempfile.TemporaryDirectory(prefix="envbench-wheels-") as wheels:
        _download(tools, Path(wheels), python)
        files = {f"wheels/{p.name}": p.read_bytes() for p in Path(wheels).iterdir()}
    files.update({f"envbench/{name}": content.encode() for name, content in scripts.items()})
    files["Dockerfile"] = text.encode()
    say(f"tools image: building {tag}")
    _build(client, files, tag, "tools")
    return tag


def wheel_platforms() -> list[str]:
    """Platform tags of the wheels a bookworm image on this machine's architecture can install."""
    machine = platform.machine()
    return [f"manylinux_2_{minor}_{machine}" for minor in GLIBC_MINORS] + [f"manylinux2014_{machine}", f"linux_{machine}"]


def _downloader(python: str) -> str:
    """The interpreter whose pip downloads for PYTHON: one of that version where the host has it.

    `pip download --python-version 3.13` from another Python leaves markers such as
    `python_full_version >= "3.13"` to the running interpreter (pypiserver's legacy-cgi is lost).
    """
    if sys.version_info[:2] == tuple(int(p) for p in python.split(".")[:2]):
        return sys.executable
    try:
        return find_python(python)[0]
    except NoPython:
        return sys.executable  # --python-version still picks the wheels; markers may be misjudged


def _download(tools: dict[str, tuple[str, ...]], dest: Path, python: str = DEFAULT_PYTHON) -> None:
    """Each tool's closure for PYTHON, resolved on its own: two tools may pin one package differently."""
    argv = [_downloader(python), "-m", "pip", "download", "--disable-pip-version-check", "-q", "--only-binary=:all:",
            "--python-version", python, "--implementation", "cp", "-d", str(dest)]  # fmt: skip
    for name in wheel_platforms():
        argv += ["--platform", name]
    for name, pins in tools.items():
        done = subprocess.run([*argv, *pins], capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise BackendError(f"downloading the wheels of {name} ({' '.join(pins)}) failed: {last[0]}")


def _build(client, files: dict[str, bytes], tag: str, kind: str, network: bool = False) -> None:
    """Build from an in-memory context with the legacy builder, with no network unless asked."""
    import docker

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            labels={LABEL: kind},
            rm=True,
            forcerm=True,
            network_mode=None if network else "none",
        )
    except docker.errors.BuildError as exc:
        log = "".join(chunk.get("stream", "") for chunk in exc.build_log if isinstance(chunk, dict))
        raise BackendError(f"building {tag} failed: {exc.msg}; last output: {log.strip()[-300:]}") from None


def ensure(client, say, pythons: tuple[str, ...] = (DEFAULT_PYTHON,), system_packages: tuple[str, ...] = ()) -> dict:
    """The base and tools images of each Python (built when missing): {"base": tag, "tools": tag}
    of the first, and "tools_by_python": {"3.11": tag, ...} for all of them. SYSTEM_PACKAGES
    (a scenario's Debian packages for building sdists) go on top of each tools image."""
    by_python, first = {}, None
    for python in dict.fromkeys(".".join(p.split(".")[:2]) for p in pythons):
        with locked(envbench_home() / ".images.lock"):  # two runs starting together build each image once
            base = base_image(client, say, python)
            by_python[python] = with_system_packages(client, tools_image(client, base, say, python), system_packages, say)
        first = first or {"base": base, "tools": by_python[python]}
    return {**first, "tools_by_python": by_python}
