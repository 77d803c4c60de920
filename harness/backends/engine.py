"""The Docker engine: connecting to it, what it is, and removing what envbench made on it.

Every container, volume, network and image envbench creates carries the label `envbench`.
"""

from __future__ import annotations

import os

from harness.backends.base import BackendError

LABEL = "envbench"


def connect(timeout: int = 30):
    """A docker client whose engine answered a ping, or BackendError with one line to act on.

    Only the ping has a timeout: a step's exec and the removal of a large volume legitimately
    keep one request open for many minutes (the SDK's default 60 s would break them).
    """
    import docker
    import requests

    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        client.api.timeout = None
        return client
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendError(
            f"no Docker engine answers at {where} ({reason[:160]}): start one (as root: `dockerd &`), "
            "or point DOCKER_HOST at one, or use --backend local"
        ) from None


def facts(client) -> dict:
    """Engine facts for run.json: versions, storage driver, kernel."""
    version = client.version()
    info = client.info()
    return {
        "engine_version": version.get("Version"),
        "api_version": version.get("ApiVersion"),
        "os": version.get("Os"),
        "arch": version.get("Arch"),
        "kernel": version.get("KernelVersion"),
        "storage_driver": info.get("Driver"),
        "cgroup_version": info.get("CgroupVersion"),
        "docker_root": info.get("DockerRootDir"),
    }


def clean(client, value: str | None = None, images: bool = True) -> dict[str, int]:
    """Remove every container, volume and network labelled envbench (=VALUE), then images."""
    selector = {"label": LABEL if value is None else f"{LABEL}={value}"}
    removed = {"containers": 0, "volumes": 0, "networks": 0, "images": 0}
    for container in client.containers.list(all=True, filters=selector):
        container.remove(force=True)
        removed["containers"] += 1
    for volume in client.volumes.list(filters=selector):
        volume.remove(force=True)
        removed["volumes"] += 1
    for network in client.networks.list(filters=selector):
        network.remove()
        removed["networks"] += 1
    if images and value is None:
        # Tools images are built FROM the base: remove the children first.
        found = client.images.list(filters=selector)
        found.sort(key=lambda image: 0 if any(t.startswith("envbench-tools") for t in image.tags) else 1)
        for image in found:
            client.images.remove(image.id, force=True)
            removed["images"] += 1
    return removed
