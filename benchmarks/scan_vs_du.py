"""Scanner throughput beside GNU du on the same tree of real venvs (a benchmark, not a test).

    python benchmarks/scan_vs_du.py [--tree DIR] [--entries 200000] [--runs 7]

Without --tree it builds, once, a tree of real venvs (numpy, pandas and their dependencies,
installed by pip with this machine's pip configuration), copied until it holds at least
--entries entries: half as plain copies, half as hard-linked copies (cp -al), so the scanner's
link tracking is exercised. Each venv is one root, as in `du -sc venv-*`.

Both programs run as fresh processes on a warm page cache, alternating; the figures are the
median of --runs runs, with the ratio scan/du (below 1.0: the scanner is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyperf

HERE = Path(__file__).resolve().parent
SCAN = HERE.parent / "harness" / "sandbox" / "scan.py"
DEFAULT_TREE = Path(os.environ.get("ENVBENCH_HOME") or Path.home() / ".cache" / "envbench") / "bench-tree"
PACKAGES = ["numpy", "pandas"]


def build_tree(tree: Path, entries: int) -> list[Path]:
    marker = tree / f".complete-{entries}"
    if marker.exists():
        return sorted(p for p in tree.iterdir() if p.name.startswith("venv-"))
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    first = tree / "venv-000"
    print(f"building {first} with {', '.join(PACKAGES)} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(first)], check=True)
    subprocess.run([str(first / "bin" / "python"), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    per_venv = count_entries(first)
    copies = -(-entries // per_venv)
    print(f"{per_venv:,} entries per venv; making {copies} venvs", flush=True)
    for i in range(1, copies):
        flag = "-al" if i % 2 else "-a"  # alternate hard-linked and plain copies
        subprocess.run(["cp", flag, str(first), str(tree / f"venv-{i:03d}")], check=True)
    marker.touch()
    return sorted(p for p in tree.iterdir() if p.name.startswith("venv-"))


def count_entries(root: Path) -> int:
    total = 0
    for _, dirs, files in os.walk(root):
        total += len(dirs) + len(files)
    return total + 1


def timed(argv: list[str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    out = subprocess.run(argv, check=True, capture_output=True).stdout
    return time.perf_counter() - start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="an existing folder whose subfolders are the roots")
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    if args.tree:
        roots = sorted(p for p in args.tree.iterdir() if p.is_dir() and not p.is_symlink())
    else:
        roots = build_tree(DEFAULT_TREE, args.entries)
    names = [str(r) for r in roots]
    commands = {
        "du -sc -B1": ["du", "-sc", "-B1", *names],
        f"scan.py ({os.cpu_count()} jobs)": [sys.executable, str(SCAN), "--json", *names],
        "scan.py (1 job)": [sys.executable, str(SCAN), "--json", "--jobs", "1", *names],
    }
    # Warm the page cache and check that both agree before timing anything.
    _, du_out = timed(commands["du -sc -B1"])
    _, scan_out = timed(commands[f"scan.py ({os.cpu_count()} jobs)"])
    report = json.loads(scan_out)
    du_total = int(du_out.splitlines()[-1].split()[0])
    if report["total"]["physical_bytes"] != du_total:
        print(f"MISMATCH: scan {report['total']['physical_bytes']} != du {du_total}")
        return 1
    entries = sum(
        report["roots"][i]["files"] + report["roots"][i]["dirs"] + report["roots"][i]["symlinks"] for i in range(len(roots))
    )

    values: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            values[name].append(timed(argv)[0])

    print(
        f"\ntree: {len(roots)} venvs, {entries:,} entries walked, {report['total']['inodes']:,} distinct inodes, "
        f"{du_total / 2**20:,.0f} MiB physical (scan == du to the byte)"
    )
    print(f"{'command':<22} {'median s':>9} {'mean ± stdev s':>16} {'entries/s':>12} {'time / du':>10}")
    du_median = None
    for name, times in values.items():
        bench = pyperf.Benchmark(
            [pyperf.Run([t], metadata={"name": name, "unit": "second"}, collect_metadata=False) for t in times]
        )
        median = bench.median()
        du_median = du_median or median
        print(
            f"{name:<22} {median:9.3f} {bench.mean():8.3f} ± {bench.stdev():5.3f} {entries / median:12,.0f} "
            f"{median / du_median:10.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
