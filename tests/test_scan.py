"""The scanner agrees with GNU du to the byte, and its link classes and exclusive bytes hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.run.diskspace import settled_used
from harness.sandbox import scan as scan_module
from harness.sandbox.scan import scan

DEEP = 120


def du(*roots, apparent: bool = False) -> int:
    flag = "-b" if apparent else "-B1"
    out = subprocess.run(["du", "-sc", flag, *map(str, roots)], capture_output=True, check=True).stdout
    return int(out.splitlines()[-1].split()[0])


def fill(path: Path, size: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes((seed + i) % 251 for i in range(size)))
    return path


@pytest.fixture
def tree(tmp_path) -> dict[str, Path]:
    """Two roots and an outside folder with every kind of entry the scanner must handle."""
    a, b, outside = tmp_path / "a", tmp_path / "b", tmp_path / "outside"
    for folder in (a, b, outside):
        folder.mkdir()
    shared = fill(a / "pkg" / "shared.so", 50_000, 1)
    os.link(shared, b / "shared-link.so")  # hard link across roots
    to_outside = fill(a / "pkg" / "outside.py", 9_000, 2)
    os.link(to_outside, outside / "kept.py")  # hard link to a folder not scanned
    inner = fill(a / "pkg" / "inner.txt", 3_000, 3)
    os.link(inner, a / "inner-again.txt")  # two links, both inside a
    three = fill(b / "three.bin", 20_000, 4)
    os.link(three, a / "three-a.bin")
    os.link(three, outside / "three-out.bin")  # one inode in a, b and outside
    fill(a / "unique.dat", 12_345, 5)
    (a / "empty").touch()
    with open(a / "sparse", "wb") as f:  # 16 MiB apparent, a few blocks physical
        f.seek(16 * 1024 * 1024)
        f.write(b"end")
    os.symlink("pkg/shared.so", a / "link-in")
    os.symlink("/etc/hostname", a / "link-out-abs")
    os.symlink("../b/three.bin", a / "link-out-rel")
    os.symlink("does/not/exist", a / "dangling")
    os.symlink(str(b), a / "dir-link")  # a symlink to a directory is never followed
    os.mkfifo(a / "fifo")
    for name in ("with space", "new\nline", "-dash", "ünïcödé"):
        fill(a / "odd" / name, 100, 6)
    fill(Path(os.fsdecode(bytes(a / "odd") + b"/latin1-\xe9")), 200, 7)
    deep = a / "deep"
    for level in range(DEEP):
        deep = deep / f"d{level}"
    fill(deep / "leaf.txt", 777, 8)
    for i in range(300):
        fill(b / "many" / f"f{i:03d}", 1 + i * 10, i)
    return {"a": a, "b": b, "outside": outside}


def test_totals_equal_du_to_the_byte(tree):
    a, b = tree["a"], tree["b"]
    report = scan([a, b])
    assert report["total"]["physical_bytes"] == du(a, b)
    assert report["total"]["apparent_bytes"] == du(a, b, apparent=True)
    by_path = {r["path"]: r for r in report["roots"]}
    for root in (a, b):
        assert by_path[str(root)]["physical_bytes"] == du(root)
        assert by_path[str(root)]["apparent_bytes"] == du(root, apparent=True)
    assert report["total"]["naive_bytes"] == du(a) + du(b)
    assert report["total"]["naive_bytes"] > report["total"]["physical_bytes"]
    assert report["errors"] == []


def test_serial_and_parallel_walks_agree(tree):
    roots = [tree["a"], tree["b"], tree["outside"]]
    assert scan(roots, jobs=1) == scan(roots, jobs=3)


def test_counts_and_link_classes(tree):
    a, b = tree["a"], tree["b"]
    report = scan([a, b], cache_roots=[b])
    root_a = next(r for r in report["roots"] if r["path"] == str(a))
    links = root_a["links"]
    # shared.so and three-a.bin have links in b, the cache
    assert links["hardlinked_cache"]["count"] == 2
    # Link classes count distinct inodes: outside.py (a link outside the scan) and inner.txt,
    # whose two links are both inside a.
    assert links["hardlinked_elsewhere"]["count"] == 2
    assert links["hardlinked_roots"]["count"] == 0
    # Targets are judged by their path, lexically: the dangling link points inside a.
    assert links["symlinks_in"]["count"] == 2  # link-in, dangling
    assert links["symlinks_out"]["count"] == 3  # absolute, relative out of a, dir-link
    assert root_a["symlinks"] == 5
    assert root_a["others"] == 1  # the FIFO
    assert links["reflinked"] is None or links["reflinked"]["count"] == 0
    # regular files in a: 3 pkg + inner-again + three-a + unique + empty + sparse + 5 odd + leaf
    assert root_a["files"] == 14
    assert links["unique"]["count"] == 14 - 5
    # The same inode hard-linked twice inside a counts once in a's physical bytes.
    assert root_a["physical_bytes"] == du(a)


def test_exclusive_bytes_are_what_rm_rf_frees(tree):
    a, b, outside = tree["a"], tree["b"], tree["outside"]
    report = scan([a, b])
    exclusive_a = next(r for r in report["roots"] if r["path"] == str(a))["exclusive_bytes"]
    everything_before = du(a, b, outside)
    shutil.rmtree(a)
    assert everything_before - du(b, outside) == exclusive_a


def test_marginal_bytes_are_what_the_union_loses(tree):
    a, b = tree["a"], tree["b"]
    report = scan([a, b])
    marginal_b = next(r for r in report["roots"] if r["path"] == str(b))["marginal_bytes"]
    assert du(a, b) - du(a) == marginal_b


def test_total_exclusive_and_file_kinds(tree):
    a, b, outside = tree["a"], tree["b"], tree["outside"]
    total = scan([a, b])["total"]
    before = du(a, b, outside)
    shutil.rmtree(a)
    shutil.rmtree(b)
    assert before - du(outside) == total["exclusive_bytes"]
    # distinct regular files: 14 in a (inner twice = 1 inode, three shared with b, shared.so too)
    assert total["hardlinked_files"] == 4  # shared.so, outside.py, inner.txt, three.bin
    assert total["files"] == total["hardlinked_files"] + total["single_files"]


def test_nested_and_repeated_roots_count_once(tree):
    a = tree["a"]
    nested = [a, a / "pkg", a / "odd"]
    assert scan(nested)["total"]["physical_bytes"] == du(*nested)
    assert scan([a, a])["total"]["physical_bytes"] == du(a, a)
    assert scan(nested)["total"]["apparent_bytes"] == du(*nested, apparent=True)


def test_symlink_and_file_roots_are_not_followed(tree):
    a = tree["a"]
    roots = [a / "dir-link", a / "unique.dat", a / "link-out-abs"]
    report = scan(roots)
    assert report["total"]["physical_bytes"] == du(*roots)
    assert report["total"]["apparent_bytes"] == du(*roots, apparent=True)
    assert report["total"]["dirs"] == 0


def test_cli_json_shape_and_fifo_does_not_hang(tree):
    """Through the command line, with a timeout: opening the FIFO would block forever."""
    a, b = tree["a"], tree["b"]
    done = subprocess.run(
        [sys.executable, "-m", "harness", "scan", "--json", str(a), str(b)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    total = report["total"]
    for key in ("physical_bytes", "apparent_bytes", "files", "dirs", "symlinks", "inodes"):
        assert isinstance(total[key], int)
    assert total["physical_bytes"] == du(a, b)
    assert [r["path"] for r in report["roots"]] == [str(a), str(b)]
    for root in report["roots"]:
        for key in ("physical_bytes", "exclusive_bytes", "links"):
            assert key in root
    assert total["inodes"] == total["files"] + total["dirs"] + total["symlinks"] + total["others"]


def test_cli_table_and_missing_path(tree, cli):
    status, out, _ = cli("scan", tree["a"])
    assert status == 0
    assert "total (each inode once)" in out
    status, _, err = cli("scan", tree["a"] / "nope")
    assert status == 2
    assert err.strip() == f"{tree['a'] / 'nope'}: no such file or directory"


def test_unreadable_directory_is_reported():
    """An unreadable folder is an error in the report and exit 1, not a silent undercount."""
    base = Path(tempfile.mkdtemp(prefix="envbench-scan-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        fill(locked / "x", 10)
        locked.chmod(0)
        # Root reads every folder, so the scan runs as nobody when the tests run as root, with
        # a copy of scan.py and a system Python that nobody may read (as in a container).
        script = shutil.copytree(Path(scan_module.__file__).parent, base / "sandbox") / "scan.py"
        python = sys.executable
        demote = None
        if os.geteuid() == 0:
            python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
            demote = lambda: (os.setgid(65534), os.setuid(65534))  # noqa: E731
        done = subprocess.run(
            [python, "-I", str(script), "--json", str(locked.parent / "locked"), str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=demote,
        )
        assert done.returncode == 1, done.stderr
        errors = json.loads(done.stdout)["errors"]  # the locked folder itself is counted
        assert errors == [f"{locked}: Permission denied"]
    finally:
        (base / "locked").chmod(0o755)
        shutil.rmtree(base)


MKFS = {"xfs": ["mkfs.xfs", "-q", "-m", "reflink=1"], "btrfs": ["mkfs.btrfs", "-q"], "ext4": ["mkfs.ext4", "-q", "-F"]}


def _loop_mount(tmp_path: Path, fs: str = "xfs") -> Path | None:
    """A private FS file system in a loop file (root only), or None when it cannot be made."""
    if os.geteuid() != 0 or not shutil.which(MKFS[fs][0]):
        return None
    image, mount = tmp_path / f"{fs}.img", tmp_path / "mnt"
    mount.mkdir()
    with open(image, "wb") as f:
        f.truncate(400 * 1024 * 1024)
    if subprocess.run([*MKFS[fs], str(image)], capture_output=True).returncode:
        return None
    if subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True).returncode:
        return None
    return mount


def _mounted(tmp_path: Path, fs: str) -> Path:
    mount = _loop_mount(tmp_path, fs)
    if mount is None:
        if os.environ.get("HARNESS_REQUIRE_REFLINK"):
            pytest.fail(f"HARNESS_REQUIRE_REFLINK is set but no {fs} loop mount could be made (root, mkfs, loop devices)")
        pytest.skip(f"needs root, mkfs for {fs} and loop devices")
    return mount


def _xfs_mount(tmp_path: Path) -> Path | None:
    return _loop_mount(tmp_path, "xfs")


def _used(mount: Path) -> int:
    """What the file system itself says it spends, settled: the ground truth."""
    return settled_used(str(mount))


# Tolerance against statvfs: the file system's own metadata (btrfs keeps it twice, DUP; XFS and
# ext4 allocate inode and directory blocks in chunks) is spent too but is in no file's blocks.
METADATA_SLACK = 4 * 2**20


@pytest.mark.reflink
@pytest.mark.parametrize("fs", ["xfs", "btrfs"])
def test_reflinked_copies_count_once_as_the_file_system_does(tmp_path, fs, cli):
    """Two `cp --reflink=always` copies of a 50 MB file: du counts 100 MB, they occupy 50 MB."""
    mount = _mounted(tmp_path, fs)
    try:
        a, b = mount / "a", mount / "b"
        before = _used(mount)
        fill(a / "big.bin", 50 * 10**6, 11)
        b.mkdir()
        subprocess.run(["cp", "--reflink=always", str(a / "big.bin"), str(b / "big.bin")], check=True)
        own = fill(b / "own.bin", 20 * 10**6, 12)  # b's alone: far above the tolerance, so a miss shows
        spent = _used(mount) - before
        status, out, err = cli("scan", "--json", a, b)
        assert status == 0, err
        report = json.loads(out)
        total = report["total"]
        roots = {Path(r["path"]).name: r for r in report["roots"]}
        assert total["physical_bytes"] == du(a, b) >= 120 * 10**6  # du counts the clone in full
        assert 70 * 10**6 <= total["unique_physical_bytes"] < 70 * 10**6 + 2**20  # what the two really occupy
        assert total["shared_extent_bytes"] >= 2 * 50 * 10**6  # both files' extents are flagged shared
        assert abs(spent - total["unique_physical_bytes"]) < METADATA_SLACK, (spent, total["unique_physical_bytes"])
        assert roots["a"]["extents"] == roots["b"]["extents"] == "fiemap"
        own_blocks = os.lstat(own).st_blocks * 512
        # Deleting b frees its own file (and its directory), not the clone a still holds.
        assert own_blocks <= roots["b"]["exclusive_bytes"] < own_blocks + 64 * 1024
        assert roots["a"]["exclusive_bytes"] < 64 * 1024
        assert roots["b"]["exclusive_by_inodes_bytes"] >= 70 * 10**6  # what an inode count would claim
        held = _used(mount)
        shutil.rmtree(b)
        freed = held - _used(mount)
        assert abs(freed - roots["b"]["exclusive_bytes"]) < METADATA_SLACK, (freed, roots["b"]["exclusive_bytes"])
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.reflink
def test_without_reflinks_the_extent_keys_hold_the_inode_figures(tmp_path):
    mount = _mounted(tmp_path, "ext4")
    try:
        a = mount / "a"
        fill(a / "big.bin", 3 * 10**6, 13)
        os.link(a / "big.bin", a / "again.bin")
        report = scan([a])
        assert report["total"]["unique_physical_bytes"] == report["total"]["physical_bytes"] == du(a)
        assert report["total"]["shared_extent_bytes"] == 0
        assert report["roots"][0]["extents"].startswith("none (no reflinks")
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.reflink
def test_shared_extents_on_xfs(tmp_path):
    mount = _xfs_mount(tmp_path)
    if mount is None:
        if os.environ.get("HARNESS_REQUIRE_REFLINK"):
            pytest.fail("HARNESS_REQUIRE_REFLINK is set but no XFS loop mount could be made (root, mkfs.xfs, loop devices)")
        pytest.skip("needs root, mkfs.xfs and loop devices")
    try:
        cache, env = mount / "cache", mount / "env"
        original = fill(cache / "lib.so", 1_000_000, 9)
        env.mkdir()
        subprocess.run(["cp", "--reflink=always", str(original), str(env / "lib.so")], check=True)
        fill(env / "own.py", 50_000, 10)
        report = scan([cache, env], cache_roots=[cache])
        env_report = next(r for r in report["roots"] if r["path"] == str(env))
        assert env_report["links"]["reflinked"]["count"] == 1
        assert env_report["links"]["reflinked"]["bytes"] == 1_003_520  # 245 blocks of 4 KiB
        assert env_report["links"]["unique"]["count"] == 2  # a clone is its own inode
        assert report["total"]["physical_bytes"] == du(cache, env)
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _install(site: Path, name: str, version: str, files: dict[str, Path | int]) -> None:
    """A dist-info with a RECORD listing FILES: a fresh file of N bytes, or a hard link to a path."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    record = []
    for relative, content in files.items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            os.link(content, target)
        else:
            fill(target, content, len(relative))
        record.append(f"{relative},,")
    record.append(f"{dist_info.name}/RECORD,,")
    (dist_info / "RECORD").write_text("\n".join(record) + "\n")


def test_packages_count_each_inode_once_across_envs(tmp_path):
    cache, one, two = tmp_path / "cache", tmp_path / "one" / "site", tmp_path / "two" / "site"
    big = fill(cache / "big.so", 200_000, 1)  # a cache file both envs hard-link
    _install(one, "Big-Pkg", "1.0", {"big/big.so": big, "big/__init__.py": 5_000})
    _install(two, "Big-Pkg", "1.0", {"big/big.so": big, "big/__init__.py": 5_000})
    _install(two, "small", "2.0", {"small.py": 3_000, "../bin/small": 100})
    report = scan([cache, one.parent, two.parent], [cache])
    rows = {(p["name"], p["version"]): p for p in report["packages"]}
    assert set(rows) == {("big-pkg", "1.0"), ("small", "2.0")}
    blocks = {path: os.lstat(path).st_blocks * 512 for path in (big, one / "big/__init__.py", two / "big/__init__.py")}
    record_one = os.lstat(one / "Big_Pkg-1.0.dist-info" / "RECORD").st_blocks * 512
    record_two = os.lstat(two / "Big_Pkg-1.0.dist-info" / "RECORD").st_blocks * 512
    big_row = rows[("big-pkg", "1.0")]
    assert big_row["envs"] == 2
    # Each env's copy counted alone, then the hard-linked file once: what sharing saves.
    small_files = blocks[one / "big/__init__.py"] + blocks[two / "big/__init__.py"] + record_one + record_two
    assert big_row["naive_bytes"] == 2 * blocks[big] + small_files
    assert big_row["physical_bytes"] == big_row["naive_bytes"] - blocks[big]
    assert big_row["linked_out_bytes"] == blocks[big]  # the cache holds a third link
    assert big_row["installed_bytes"] == 2 * (200_000 + 5_000) + 2 * os.lstat(one / "Big_Pkg-1.0.dist-info" / "RECORD").st_size
    small = rows[("small", "2.0")]
    assert small["envs"] == 1 and small["linked_out_bytes"] == 0
    small_paths = (two / "small.py", two.parent / "bin" / "small", two / "small-2.0.dist-info" / "RECORD")
    assert small["physical_bytes"] == small["naive_bytes"] == sum(os.lstat(p).st_blocks * 512 for p in small_paths)
    assert report["packages"][0]["name"] == "big-pkg"  # largest first


def test_a_checkpoint_scan_without_packages_has_the_same_totals_and_roots(tmp_path):
    """Growth checkpoints skip the RECORD files (`--no-packages`): their figures must not move."""
    cache, one, two = tmp_path / "cache", tmp_path / "one" / "site", tmp_path / "two" / "site"
    big = fill(cache / "big.so", 200_000, 1)
    _install(one, "Big-Pkg", "1.0", {"big/big.so": big, "big/__init__.py": 5_000})
    _install(two, "odd", "1.0", {"odd/./x.py": 10, "odd//y.py": 20, "../bin/odd": 30, "odd/.hidden": 40})
    roots = [str(cache), str(one.parent), str(two.parent)]
    full = scan(roots, [str(cache)])
    odd = next(p for p in full["packages"] if p["name"] == "odd")
    odd_paths = [two / "odd/x.py", two / "odd/y.py", two.parent / "bin/odd", two / "odd/.hidden",
                 two / "odd-1.0.dist-info/RECORD"]  # fmt: skip
    assert odd["installed_bytes"] == sum(os.lstat(p).st_size for p in odd_paths)  # odd RECORD paths resolved
    for report in (scan(roots, [str(cache)], with_packages=False),
                   json.loads(subprocess.run([sys.executable, scan_module.__file__, "--json", "--no-packages", "--cache",
                                              str(cache), *roots], capture_output=True, check=True).stdout)):  # fmt: skip
        assert "packages" not in report
        assert report["total"] == full["total"]
        assert report["roots"] == full["roots"]


def test_packages_per_group_and_what_groups_share(tmp_path):
    """Two CPU envs and one CUDA env: a shared file counts once per group and once across groups."""
    cache = tmp_path / "cache"
    common = fill(cache / "common.so", 300_000, 2)  # the same release in every env, hard-linked
    cpu_build = fill(cache / "cpu.so", 100_000, 3)
    envs = {name: tmp_path / name / "site" for name in ("cpu-1", "cpu-2", "cuda-1")}
    for name, site in envs.items():
        _install(site, "common", "1.0", {"common/common.so": common})
        if name.startswith("cpu"):
            _install(site, "torchish", "1.0+cpu", {"torchish/t.so": cpu_build})
        else:
            _install(site, "torchish", "1.0", {"torchish/t.so": 700_000})
    groups = {str(site.parent): name.split("-")[0] for name, site in envs.items()}
    report = scan([cache, *(site.parent for site in envs.values())], [cache], groups=groups)
    rows = {(p["name"], p["version"]): p for p in report["packages"]}
    blocks = {name: os.lstat(next(site.glob("common-*.dist-info")) / "RECORD").st_blocks * 512 for name, site in envs.items()}
    sizes = {name: os.lstat(next(site.glob("common-*.dist-info")) / "RECORD").st_size for name, site in envs.items()}
    shared = os.lstat(common).st_blocks * 512
    common_row = rows[("common", "1.0")]
    # Per group each inode once: the hard-linked file once, each env's own RECORD file apart.
    assert common_row["groups"] == {
        "cpu": {"envs": 2, "installed_bytes": 2 * 300_000 + sizes["cpu-1"] + sizes["cpu-2"],
                "physical_bytes": shared + blocks["cpu-1"] + blocks["cpu-2"]},
        "cuda": {"envs": 1, "installed_bytes": 300_000 + sizes["cuda-1"], "physical_bytes": shared + blocks["cuda-1"]},
    }  # fmt: skip
    assert common_row["cross_group_bytes"] == os.lstat(common).st_blocks * 512  # one inode in both groups' envs
    cpu_row, cuda_row = rows[("torchish", "1.0+cpu")], rows[("torchish", "1.0")]
    assert set(cpu_row["groups"]) == {"cpu"} and set(cuda_row["groups"]) == {"cuda"}
    assert cpu_row["cross_group_bytes"] == cuda_row["cross_group_bytes"] == 0
    assert "groups" not in scan([envs["cpu-1"].parent])["packages"][0]  # no groups given: no group figures


def test_group_figures_what_groups_share_and_what_each_adds(tmp_path):
    """Three groups of a fleet: api and web share a file by a hard link, every env links one cache
    file, each group has files of its own. A group's physical bytes are `du` of its roots together."""
    cache = tmp_path / "cache"
    everyone = fill(cache / "everyone.so", 200_000, 1)  # in the cache and in every env
    roots = {name: tmp_path / name for name in ("api-1", "api-2", "web-1", "jobs-1")}
    pair = fill(roots["api-1"] / "pair.so", 120_000, 2)  # api's and web's, no cache
    os.link(pair, fill(roots["api-2"] / "x", 1).with_name("pair.so"))
    os.link(pair, fill(roots["web-1"] / "x", 1).with_name("pair.so"))
    fill(roots["api-1"] / "own.py", 30_000, 3)
    fill(roots["jobs-1"] / "own.py", 50_000, 4)
    for root in roots.values():
        os.link(everyone, root / "everyone.so")
    groups = {str(root): name.split("-")[0] for name, root in roots.items()}
    report = scan([cache, *roots.values()], [cache], groups=groups)
    figures = report["total"]["groups"]
    assert set(figures) == {"api", "jobs", "web"}
    mine = {g: [root for name, root in roots.items() if name.startswith(g)] for g in figures}
    for group, held in mine.items():
        assert figures[group]["roots"] == len(held)
        assert figures[group]["physical_bytes"] == du(*held)
    block = {name: os.lstat(path).st_blocks * 512 for name, path in (("pair", pair), ("everyone", everyone))}
    # Without a group the scan loses what no root outside it holds: never the cache's file.
    assert figures["api"]["marginal_bytes"] == du(*mine["api"]) - block["pair"] - block["everyone"]
    assert figures["web"]["marginal_bytes"] == du(*mine["web"]) - block["pair"] - block["everyone"]
    assert figures["jobs"]["marginal_bytes"] == du(*mine["jobs"]) - block["everyone"]
    assert figures["api"]["shared_with"] == {"web": block["pair"] + block["everyone"], "jobs": block["everyone"]}
    assert figures["jobs"]["shared_with"] == {"api": block["everyone"], "web": block["everyone"]}
    assert figures["web"]["shared_bytes"] == block["pair"] + block["everyone"]
    assert report["total"]["cross_group_bytes"] == block["pair"] + block["everyone"]
    assert "groups" not in scan([roots["api-1"]])["total"]  # no groups given: no group figures


def test_off_linux_the_extent_figures_are_refused_not_guessed(tmp_path, monkeypatch):
    """macOS clones files (APFS) but has no FIEMAP: no unique figure rather than a wrong one."""
    fill(tmp_path / "a" / "f.bin", 10_000, 14)
    monkeypatch.setattr(scan_module.sys, "platform", "darwin")
    report = scan([tmp_path / "a"])
    assert report["total"]["unique_physical_bytes"] is None and report["total"]["shared_extent_bytes"] is None
    assert report["roots"][0]["extents"].startswith("not supported on this platform (darwin)")
    assert report["total"]["physical_bytes"] == du(tmp_path / "a")  # the inode figures stay


def test_a_root_that_does_not_exist_is_left_out_when_asked(tmp_path):
    """The runner passes every root a tool may have (a cache it never made included) and lets
    the scanner leave out the missing ones: no round trip per root into the container."""
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "f").write_bytes(b"x" * 5000)
    roots = [tmp_path / "env", tmp_path / "no-cache"]
    left_out = scan_module.scan(roots, [tmp_path / "no-cache"], skip_missing=True)
    assert [r["path"] for r in left_out["roots"]] == [str(tmp_path / "env")] and left_out["errors"] == []
    assert scan_module.scan(roots)["errors"]  # not asked: a missing root is an error
