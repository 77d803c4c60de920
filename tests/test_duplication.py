"""Duplication you cannot avoid: a CPU and a CUDA build of one name, side by side, measured.

Synthetic stand-ins only (no network, no torch): `torchish` 1.0+cpu from one named index and
`torchish` 1.0 from another, the second depending on synthetic `nvidia-fake-*` libraries; both
groups beside the same `numpyish`. uv (links from its cache) and pip (copies) install them.
"""

from __future__ import annotations

import zipfile
from dataclasses import replace

import pytest

from harness.packages.synth import SynthPackage, build_wheel
from harness.record.model import MirrorFile
from harness.record.run import load
from harness.report import duplication
from harness.report.claims import METRICS

from .conftest import write

MIB = 2**20
SCENARIO = """
name: builds
python: "3.11"
repetitions: 1
tools: [uv, pip-venv]
indexes:
  cpu: https://cpu.invalid/simple
  gpu: https://gpu.invalid/simple
synthetic:
  - {name: numpyish, files: 4, file_size: 262144, binary: true}
  - {name: nvidia-fake-blas, files: 3, file_size: 524288, binary: true}
  - {name: nvidia-fake-dnn, files: 2, file_size: 262144, binary: true}
projects:
  - name: cpu
    count: 2
    dependencies: [numpyish, torchish==1.0]
    sources: {torchish: cpu}
  - name: gpu
    count: 2
    dependencies: [numpyish, torchish==1.0]
    sources: {torchish: gpu}
"""
CPU_BUILD = SynthPackage("torchish", version="1.0+cpu", files=3, file_size=131072, binary=True)
GPU_BUILD = SynthPackage("torchish", version="1.0", files=5, file_size=393216, binary=True,
                         dependencies=("nvidia-fake-blas", "nvidia-fake-dnn"))  # fmt: skip


def wheel_bytes(package: SynthPackage) -> int:
    """What installing the wheel writes: every file of the zip (the installer adds a few bytes of metadata)."""
    with zipfile.ZipFile(package_folder[package.version] / package.wheel_name) as archive:
        return sum(info.file_size for info in archive.infolist())


package_folder: dict[str, object] = {}


@pytest.fixture(scope="module")
def measured(tmp_path_factory, tool_venvs):
    """One local run of the scenario (uv and pip + venv, 2 CPU and 2 CUDA projects each)."""
    from harness.cli.main import main

    tmp = tmp_path_factory.mktemp("duplication")
    patch = pytest.MonkeyPatch()
    for index, package in (("cpu", CPU_BUILD), ("gpu", GPU_BUILD)):
        build_wheel(package, tmp / index)
        package_folder[package.version] = tmp / index
        patch.setenv(f"ENVBENCH_INDEX_{index.upper()}", str(tmp / index))
    patch.setenv("PIP_CONFIG_FILE", "/dev/null")  # the host's pip: no index, nothing to download
    patch.setenv("PIP_NO_INDEX", "1")
    patch.delenv("PIP_FIND_LINKS", raising=False)
    patch.setenv("ENVBENCH_WORK", str(tmp / "work"))
    try:
        assert main(["run", str(write(tmp / "s.yaml", SCENARIO)), "--backend", "local", "--out", str(tmp / "out")]) == 0
    finally:
        patch.undo()
    return tmp / "out", load(tmp / "out")


def test_where_one_envs_bytes_go(measured):
    _, run = measured
    assert duplication.project_groups(run) == {"cpu-01": "cpu", "cpu-02": "cpu", "gpu-01": "gpu", "gpu-02": "gpu"}
    tool, _, first = duplication.reference(run)
    assert tool == "uv"
    kinds = {h.name: h.kind for h in duplication.held(first)}
    assert kinds == {"torchish": "different builds", "numpyish": "identical",
                     "nvidia-fake-blas": "only in some groups", "nvidia-fake-dnn": "only in some groups"}  # fmt: skip
    torch = next(h for h in duplication.held(first) if h.name == "torchish")
    (cpu_version, _, cpu_bytes), (gpu_version, _, gpu_bytes) = torch.releases["cpu"], torch.releases["gpu"]
    assert (cpu_version, gpu_version) == ("1.0+cpu", "1.0")
    # The installed files are the wheel's, give or take the installer's few bytes of metadata.
    assert 0 <= cpu_bytes - wheel_bytes(CPU_BUILD) < 4096 and 0 <= gpu_bytes - wheel_bytes(GPU_BUILD) < 4096
    # Every generated payload embeds its version; only the dist-info's WHEEL (87 B) and
    # top_level.txt (9 B) are alike, under two dist-info names: content counts, not paths.
    (builds,) = [b for b in run.mirror.builds if b["name"] == "torchish"]
    assert (builds["identical_files"], builds["identical_bytes"]) == (2, 87 + 9)
    (env_rows,) = [t for t in duplication.duplication_tables(run) if t.title.endswith("where one env's bytes go")]
    assert next(r for r in env_rows.rows if r[0] == "torchish")[-1] == "0.0"  # 96 B, in MiB
    nvidia = 3 * 524288 + 2 * 262144
    build = METRICS["build_gb"](run, "uv", group="gpu") * 1e9
    assert gpu_bytes + nvidia <= build < gpu_bytes + nvidia + 16384  # torchish (CUDA) and what only it brings
    assert METRICS["build_gb"](run, "uv", group="cpu") * 1e9 == cpu_bytes


def test_what_each_tool_shares_across_groups(measured):
    out, run = measured
    numpy_payload = 4 * 262144
    uv_numpy = METRICS["cross_group_mib"](run, "uv", distribution="numpyish") * MIB
    assert numpy_payload <= uv_numpy < numpy_payload + 64 * 1024  # one copy of every file serves both groups
    assert METRICS["cross_group_mib"](run, "pip-venv", distribution="numpyish") == 0  # copies: nothing shared
    for tool in ("uv", "pip-venv"):
        assert METRICS["cross_group_mib"](run, tool, distribution="torchish") == 0  # different builds never are

    (share,) = [t for t in duplication.duplication_tables(run) if t.title == "What each tool shares across groups"]
    rows = {row[0]: dict(zip(share.headers, row, strict=True)) for row in share.rows}
    assert float(rows["uv"]["identical: shared across groups MiB"]) >= numpy_payload / MIB
    assert rows["pip-venv"]["identical: shared across groups MiB"] == "0.0"
    # pip keeps 4 copies of numpyish, uv about one (its cache's, linked into every env).
    assert float(rows["pip-venv"]["identical: physical MiB"]) >= 4 * numpy_payload / MIB
    assert float(rows["uv"]["identical: physical MiB"]) < 1.2 * numpy_payload / MIB
    # What only the CUDA build brings: one copy for uv, one per CUDA env for pip (its own pip and
    # setuptools are in every env of both groups: identical, not "only in some groups").
    nvidia = (3 * 524288 + 2 * 262144) / MIB
    assert nvidia <= float(rows["uv"]["only in some groups: physical MiB"]) < nvidia + 0.2
    assert 2 * nvidia <= float(rows["pip-venv"]["only in some groups: physical MiB"]) < 2 * nvidia + 0.4
    disk = {tool: {r.scope: r for r in run.tools[tool].layouts["same-volume"].disk.roots} for tool in rows}
    for tool, row in rows.items():  # one env of each group, as du sees its project folder
        assert row["one gpu env MiB (du)"] == f"{disk[tool]['gpu-01'].physical_bytes / MIB:,.1f}"
        assert float(row["one gpu env MiB (du)"]) > float(row["one cpu env MiB (du)"]) > 0
    for row in rows.values():
        assert row["different builds: shared MiB"] == "0.0"
        assert float(row["different builds: gpu MiB"]) > float(row["different builds: cpu MiB"]) > 0

    tables = (out / "tables.md").read_text()
    assert "## Duplication you cannot avoid: where one env's bytes go" in tables
    assert "the build of torchish (cpu: index cpu, gpu: index gpu)" in tables
    chart = out / "charts" / "duplication.svg"
    assert chart.is_file() and "nvidia-fake-blas" in chart.read_text() and "installed GiB" in chart.read_text()
    assert "Duplication you cannot avoid" in (out / "report.html").read_text()


def test_no_groups_no_section(measured):
    _, run = measured
    one_group = replace(run, scenario=replace(run.scenario, projects=[replace(p, group="app") for p in run.projects]))
    assert duplication.project_groups(one_group) == {} and duplication.duplication_tables(one_group) == []
    older = replace(run, scenario=replace(run.scenario, projects=[replace(p, group=None) for p in run.projects]))
    assert duplication.duplication_tables(older) == []  # runs made before groups were recorded


def _wheel(path, files: dict[str, bytes]) -> dict:
    """A wheel holding FILES, its RECORD with each file's sha256 and size, as the mirror lists it."""
    import base64
    import hashlib

    record = []
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append("pkg-1.0.dist-info/RECORD,,")
        archive.writestr("pkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return MirrorFile(name="pkg", filename=path.name, index=path.parent.name, sha256=path.name, role="install")


def test_builds_hold_alike_what_their_records_hash_alike(tmp_path):
    from harness.packages.contents import compare_builds

    (tmp_path / "cpu").mkdir(), (tmp_path / "cuda").mkdir()
    common = b"def f():\n    return 1\n" * 100  # a Python source both builds ship unchanged
    files = [
        _wheel(tmp_path / "cpu" / "pkg-1.0+cpu-py3-none-any.whl", {"pkg/__init__.py": common, "pkg/_c.so": b"c" * 5000}),
        _wheel(tmp_path / "cuda" / "pkg-1.0-py3-none-any.whl",
               {"pkg/__init__.py": common, "pkg/_c.so": b"g" * 9000, "pkg/copy_of_init.py": common}),
        MirrorFile(name="other", filename="other-1.whl", index="cpu", sha256="x", role="install"),  # one build only
    ]  # fmt: skip
    [found] = compare_builds(tmp_path, files)
    assert found["name"] == "pkg" and found["identical_files"] == 1  # one hash, listed twice in the CUDA wheel
    assert found["identical_bytes"] == len(common)
    assert found["bytes"] == [len(common) + 5000, len(common) + 9000]  # each hash once per wheel
