"""The target every env is made for: the scenario's CPython on Linux (manylinux, glibc 2.36, as the
bookworm image has it), on this machine's architecture. Markers are evaluated, and wheels chosen,
for it alone; lockers resolve for more (harness/packages/closure.py).
"""

from __future__ import annotations

import platform

from packaging import tags

# Each Python a scenario may ask for, from the Debian release that ships it as python3 (the base
# images): a second Python is a second base image, whose containers mount the same volumes.
SUITES = {"3.11": "bookworm", "3.13": "trixie"}
DEFAULT_PYTHON = "3.11"
# Wheel platforms of a bookworm (glibc 2.36) image, newest first (trixie's 2.41 runs them too).
GLIBC_MINORS = range(36, 4, -1)


def target_tags(python: str) -> list[tags.Tag]:
    """Wheel tags the target installs, best first: CPython X.Y on manylinux (glibc 2.36)."""
    version = tuple(int(part) for part in python.split(".")[:2])
    machine = platform.machine()
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in GLIBC_MINORS]
    platforms += [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}", f"linux_{machine}"]
    return [*tags.cpython_tags(version, platforms=platforms), *tags.compatible_tags(version, platforms=platforms)]


def target_environment(python: str) -> dict[str, str]:
    """PEP 508 marker values of the target (the image's CPython on Linux)."""
    full = python if python.count(".") == 2 else python + ".0"
    return {
        "implementation_name": "cpython", "implementation_version": full, "os_name": "posix",
        "platform_machine": platform.machine(), "platform_python_implementation": "CPython", "platform_release": "",
        "platform_system": "Linux", "platform_version": "", "python_full_version": full,
        "python_version": ".".join(python.split(".")[:2]), "sys_platform": "linux",
    }  # fmt: skip
