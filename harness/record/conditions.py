"""The conditions a figure was measured under, on both sides of a verdict.

A claim's source states its own (claims/*.yaml, `conditions`); a run's are read from its record
(`of_run`). `differences` names each stated condition the run does not meet. Only conditions
that can move the kind of figure a claim is about count: OS, network, index, bytecode, page
cache and file system for times; OS, file system and bytecode for disk. Python, tool versions
and how many machines the source used are named beside a verdict, never held against it: a
claim is judged on the tools as they are now, on one machine.

Values a claims file may state:
    os: linux | macos | windows
    network: internet | local        (internet: met by a run over an emulated link, or live)
    index: pypi | pep503             (pypi: PEP 691 JSON and PEP 658 metadata, as PyPI serves)
    bytecode: default | compile | skip
    page_cache: kept | dropped       (before each cold step)
    filesystem: apfs | ext4 | xfs | btrfs | ...
    machines: one | one per tool
    python: "3.12"                   versions: {tool: version}
    stated: the source's own words about its setup (or that it states none)
"""

from __future__ import annotations

from harness.record.model import Run
from harness.settings.network import NetworkSpec

BLOCKING = {
    "time": ("os", "network", "index", "bytecode", "page_cache", "filesystem"),
    "disk": ("os", "filesystem", "bytecode"),
}
NAMED = ("machines", "python", "versions")
KEYS = {*BLOCKING["time"], *NAMED, "stated"}
VALUES = {"os": {"linux", "macos", "windows"}, "network": {"internet", "local"}, "index": {"pypi", "pep503"},
          "bytecode": {"default", "compile", "skip"}, "page_cache": {"kept", "dropped"},
          "machines": {"one", "one per tool"}}  # fmt: skip
PYPI_LIKE = {"pep691-json", "pep658-core-metadata"}
# envbench never drops the OS page cache before a cold step (uv's hyperfine runs do not either).
PAGE_CACHE = "kept"


def _network(run: Run) -> tuple[str, str]:
    """(class, description) of the link the tools fetched over."""
    if run.scenario.source == "live":
        return "internet", "live indexes over this machine's internet link"
    if run.network:
        measured = list(run.network.measured.values())
        seen = f", measured {min(m.rtt_ms for m in measured):.0f} ms" if measured else ""
        configured = NetworkSpec(**run.network.configured).describe()
        return "internet", f"an emulated link ({configured}{seen}, by {run.network.mechanism})"
    return "local", "a local mirror with no added latency or bandwidth cap"


def _index(run: Run) -> tuple[str, str]:
    if run.scenario.source == "live":
        return "pypi", "PyPI itself"
    server = (run.mirror.server if run.mirror else None) or {}
    if PYPI_LIKE <= set(server.get("features", [])):
        return "pypi", f"a mirror speaking PyPI's API ({server.get('server', '?')}: PEP 691, 658, 700, HTTPS)"
    return "pep503", f"a mirror speaking PEP 503 HTML only ({server.get('server') or 'pypiserver'}, plain HTTP)"


def of_run(run: Run) -> dict[str, tuple[str, str]]:
    """Each condition of RUN as (value, how a reader would say it)."""
    platform = str(run.machine.get("platform", ""))
    os_name = "linux" if platform.startswith("Linux") else "macos" if platform.startswith(("macOS", "Darwin")) else platform
    bytecode = run.scenario.bytecode or "default"
    versions = {name: tool.version for name, tool in run.tools.items() if tool.version}
    return {
        "os": (os_name, os_name.capitalize()),
        "network": _network(run),
        "index": _index(run),
        "bytecode": (bytecode, f"bytecode {bytecode}" + (" (each tool's own default)" if bytecode == "default" else "")),
        "page_cache": (PAGE_CACHE, "the page cache kept"),
        "filesystem": _filesystem(run),
        "machines": ("one", "every tool on one machine"),
        "python": (run.scenario.python, f"Python {run.scenario.python}"),
        "versions": (versions, ", ".join(f"{k} {v}" for k, v in versions.items())),
    }


def recorded(run: Run) -> dict[str, dict]:
    """The run's conditions as run.json keeps them: each as its value and how a reader says it."""
    return {key: {"value": value, "said": said} for key, (value, said) in of_run(run).items()}


def _filesystem(run: Run) -> tuple[str, str]:
    found = run.backend.get("volumes_fs") or run.backend.get("work_fs")  # docker's volumes; the local work folder
    return (found, found) if found else ("", "a file system not recorded")


def differences(stated: dict, run: Run, kind: str) -> tuple[list[str], list[str]]:
    """(what differs and counts against a verdict, what differs and is only named)."""
    have = of_run(run)
    blocking, named = [], []
    for key in (*BLOCKING[kind], *NAMED):
        if key not in stated:
            continue
        value, said = have[key]
        if key == "versions":
            other = {tool: str(v) for tool, v in stated[key].items() if str(value.get(tool, "")) != str(v)}
            if other:
                named.append("versions: source " + ", ".join(f"{t} {v}" for t, v in other.items()) + f"; run {said}")
            continue
        if str(value) != str(stated[key]):
            (blocking if key in BLOCKING[kind] else named).append(f"{key}: source {stated[key]}, run {said}")
    return blocking, named
