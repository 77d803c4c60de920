"""How PyPI names, extras and indexes become conda names, builds and match specs.

Shared by the converted channel (harness/packages/conda_channel.py), which names its packages so, and
the conda-side adapters, which ask for them so. Pure functions of strings.
"""

from __future__ import annotations

import platform
import re

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.settings.sources import PYPI
from harness.settings.target import target_environment

STAND_IN = "stand-in: converted channel"  # how every figure made from the converted channel is named
NO_CHANNEL = "no conda channel: envbench converts one from the mirror (source: mirror), or set ENVBENCH_CONDA_CHANNEL"


def subdir() -> str:
    """The conda platform of this machine (the image's architecture is the host's)."""
    machine = platform.machine()
    return {"x86_64": "linux-64", "aarch64": "linux-aarch64", "ppc64le": "linux-ppc64le"}.get(machine, f"linux-{machine}")


def conda_name(name: str) -> str:
    return canonicalize_name(name)


def extra_package(name: str, extra: str) -> str:
    """The package that stands for NAME[EXTRA] (conda has no extras)."""
    return f"{conda_name(name)}-with-{canonicalize_name(extra)}"


def build_string(python: str, index: str = PYPI) -> str:
    """A converted package's build: its Python, and the named index its wheel came from (so a
    project pinned to pytorch-cpu asks for `torch * *pytorch_cpu*`, as conda users ask for
    `pytorch * *cuda*`)."""
    tag = "" if index == PYPI else "_" + re.sub(r"[^a-z0-9]+", "_", index.lower())
    return f"py{python.replace('.', '')}{tag}_0"


def match_spec(requirement: Requirement, index: str | None = None) -> str:
    """A PEP 508 requirement (its marker judged already) as a conda match spec: NAME SPECIFIERS,
    and the build of INDEX's packages when it is pinned to a named index."""
    specifier = ",".join(sorted(str(s) for s in requirement.specifier if s.operator != "==="))  # sorted: a set
    if index and index != PYPI:
        return f"{conda_name(requirement.name)} {specifier or '*'} *{build_string('', index)[2:-2]}_*"
    return f"{conda_name(requirement.name)} {specifier}".strip()


def specs_for(requirement_text: str, index: str | None = None) -> list[str]:
    """The match specs that install REQUIREMENT_TEXT: the package, and one per extra asked for."""
    requirement = Requirement(requirement_text)
    specs = [match_spec(requirement, index)]
    specs += [extra_package(requirement.name, extra) for extra in sorted(requirement.extras)]
    return specs


def conda_specs(requirements, python: str, pins: dict[str, str] | None = None) -> list[str]:
    """Match specs of REQUIREMENTS for PYTHON: markers judged here (conda has none), extras as
    the converted channel's NAME-with-EXTRA packages, a package pinned to a named index (PINS:
    requirement name -> index) as that index's builds, and the interpreter itself."""
    target = target_environment(python)
    specs = [f"python {'.'.join(python.split('.')[:2])}.*"]
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(target):
            requirement.marker = None
            specs += specs_for(str(requirement), (pins or {}).get(requirement.name))
    return specs
