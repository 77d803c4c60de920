"""Disk report of file trees: each inode counted once, links classified.

Standard library only, and no import from the rest of envbench: this folder is copied into
containers and run there with whatever Python the image has (`python scan.py --json ROOT...`).
walk.py walks each root (one per core); this module accounts the walks into the report, and
dists.py adds what each installed distribution costs.

Definitions (docs/measurement.md, "Measurement definitions"):
- physical_bytes: sum of st_blocks*512 over unique inodes; equals GNU `du -sc -B1 ROOT...`.
- apparent_bytes: sum of st_size over unique inodes; equals `du -sc -b ROOT...`.
- naive_bytes: sum over roots of each root's physical bytes measured alone.
- exclusive_bytes of a root: what `rm -rf ROOT` frees: directories, plus inodes whose st_nlink
  equals the number of their links found inside that root.
- marginal_bytes of a root: what the union of all roots loses without it: inodes found in no
  other root.
- link classes of a root count distinct inodes (files, dirs and symlinks count entries):
  unique (one link), hard-linked into a cache root, hard-linked to other roots only,
  hard-linked elsewhere (links outside the scan, or only inside this root), symlinks pointing
  inside or outside the root, and files with shared extents (reflinks, on btrfs/xfs only).
"""

import argparse
import json
import os
import sys

if __package__:  # imported on the host
    from .dists import conda_packages, packages
    from .walk import BLOCKS, DIR, FILE, KIND, KINDS, NLINK, REFLINK_FS, SEEN, SIZE, inside, mount_fs_type, real_root, walk_root
else:  # a script where the tools run: `python -I scan.py` leaves its own folder off sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from dists import conda_packages, packages
    from walk import BLOCKS, DIR, FILE, KIND, KINDS, NLINK, REFLINK_FS, SEEN, SIZE, inside, mount_fs_type, real_root, walk_root

SCHEMA = 1
# One record per inode that two roots may hold: [its walk entry, links seen in every root,
# roots holding it, cache roots holding it, bit mask of the groups whose roots hold it]
U_ENTRY, U_SEEN, U_ROOTS, U_CACHES, U_MASK = range(5)
_OUTSIDE = -1  # owner of extents whose inode has links outside the root walked
__all__ = ["mount_fs_type", "scan"]


def extent_union(walks):
    """Physical extent ranges of every root, swept once per device: (the length of their union,
    each root's own union, each root's exclusive extent bytes, what each alone holds), in bytes,
    by root index.

    A root's range is exclusive when no other root holds it, no inode with links outside the
    root holds it, and it is not flagged shared unless two inodes of the root itself hold it (a
    flagged range held once is shared with a file outside the scan, so deleting the root keeps it).
    """
    events = {}  # dev -> [(position, +1/-1, owner, shared)]
    for index, w in enumerate(walks):
        for key, found in w.extents.items():
            entry = w.tracked.get(key)
            owners = (index,) if entry is None or entry[SEEN] >= entry[NLINK] else (index, _OUTSIDE)
            out = events.setdefault(key[0], [])
            for physical, length, shared in found:
                for owner in owners:
                    out.append((physical, 1, owner, shared))
                    out.append((physical + length, -1, owner, shared))
    sums = [0, [0] * len(walks), [0] * len(walks), [0] * len(walks)]  # union, own, exclusive, alone
    for dev_events in events.values():
        _sweep(sorted(dev_events, key=lambda e: (e[0], e[1])), sums)
    return tuple(sums)


def _sweep(dev_events, sums):
    """One device's sorted events into SUMS (union, own, exclusive, alone)."""
    own, exclusive, alone = sums[1], sums[2], sums[3]
    active = {}  # owner -> ranges of it open here
    shared_open = 0
    previous = None
    for position, step, owner, shared in dev_events:
        if previous is not None and position > previous and active:
            length = position - previous
            real = [o for o in active if o != _OUTSIDE]
            if real:
                sums[0] += length
            for o in real:
                own[o] += length
            if len(real) == 1:
                alone[real[0]] += length
            if len(real) == 1 and _OUTSIDE not in active and (shared_open == 0 or active[real[0]] > 1):
                exclusive[real[0]] += length
        previous = position
        count = active.get(owner, 0) + step
        if count:
            active[owner] = count
        else:
            active.pop(owner, None)
        shared_open += step if shared else 0


def _extent_figures(w, physical, exclusive, marginal, sweep, extent_index):
    """A root's exclusive, marginal, unique physical and shared-extent bytes, and how they are known.

    With extents, exclusive and marginal bytes are the extent figures (a clone is not a copy) and
    the inode figures stay beside them as *_by_inodes_bytes."""
    if w.fiemap == "supported":
        _, own, extent_exclusive, alone = sweep
        i = extent_index[id(w)]
        blocks = w.no_extents_blocks * 512  # directories, symlinks, inline data: never shared
        return {
            "exclusive_bytes": extent_exclusive[i] + blocks,
            "exclusive_by_inodes_bytes": exclusive,
            "marginal_bytes": alone[i] + blocks,
            "marginal_by_inodes_bytes": marginal,
            "unique_physical_bytes": own[i] + blocks,
            "shared_extent_bytes": w.reflinked[1],
            "extents": "fiemap",
        }
    known = {"exclusive_bytes": exclusive, "marginal_bytes": marginal}
    if w.fiemap == "platform":  # not Linux: clones (APFS) would be counted as copies, so no figure
        why = f"not supported on this platform ({sys.platform}): inode figures only, a clone counted in full"
        return {**known, "unique_physical_bytes": None, "shared_extent_bytes": None, "extents": why}
    if w.fiemap == "unsupported":  # a file system with reflinks whose extents cannot be read: no guess
        why = "unsupported (FIEMAP refused): inode figures only"
        return {**known, "unique_physical_bytes": None, "shared_extent_bytes": None, "extents": why}
    return {**known, "unique_physical_bytes": physical, "shared_extent_bytes": 0,
            "extents": "none (no reflinks on this file system): inode figures"}  # fmt: skip


def _total_extents(walked, with_extents, union_length, total):
    if any(w.fiemap in ("unsupported", "platform") for w in walked):
        return {"unique_physical_bytes": None, "shared_extent_bytes": None}
    if not with_extents:
        return {"unique_physical_bytes": total["physical_bytes"], "shared_extent_bytes": 0}
    inodes = {}
    for w in with_extents:
        inodes.update(w.extents)
    shared = sum(length for found in inodes.values() for _, length, is_shared in found if is_shared)
    blocks = sum(w.no_extents_blocks for w in with_extents) * 512
    # Roots on a file system without reflinks beside them (a rare mixed scan): their inode
    # figures, each root alone (two file systems share no blocks, and roots of one share them
    # only by hard links, which such a scan does not pair up).
    others = sum(_inode_blocks(w) for w in walked if w.fiemap == "not asked") * 512
    return {"unique_physical_bytes": union_length + blocks + others, "shared_extent_bytes": shared}


def _inode_blocks(w):
    return w.single_blocks + sum(entry[BLOCKS] for entry in w.tracked.values())


def _nested(roots):
    """True when one root lies inside another (or is given twice): inodes can then repeat."""
    resolved = [real_root(root)[1] for root in roots]
    return any(i != j and inside(b, a) for i, a in enumerate(resolved) for j, b in enumerate(resolved))


def _pair(count, blocks):
    return {"count": count, "bytes": blocks * 512}


def _walk_all(job_list, workers):
    """Walk results in the order of job_list, in worker processes when workers > 1."""
    if workers <= 1:
        for job in job_list:
            yield walk_root(job)
        return
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(walk_root, job_list)


def _join(walks, cache_set, groups, bits):
    """The walks that succeeded, their errors, and the union of their tracked inodes: built as
    walks finish, while others still run. With groups, each record carries a bit mask of the
    groups whose roots hold it (bit 0: a root of no group, such as a cache)."""
    union, walked, errors = {}, [], []
    for w in walks:
        if w.error:
            errors.append(w.error)
            continue
        w.is_cache = 1 if os.path.abspath(w.root) in cache_set else 0
        w.group_bit = bits.get(groups.get(os.path.abspath(w.root)), 1)
        walked.append(w)
        for key, entry in w.tracked.items():
            held = union.get(key)
            if held is None:
                union[key] = [entry, entry[SEEN], 1, w.is_cache, w.group_bit]
            else:
                held[U_SEEN] += entry[SEEN]
                held[U_ROOTS] += 1
                held[U_CACHES] += w.is_cache
                held[U_MASK] |= w.group_bit
    return walked, errors, union


def group_figures(walked, union, bits):
    """Per project group (inode figures, each inode once): physical_bytes of the group's roots
    together; marginal_bytes, what the scan loses without the group (inodes no root outside it
    holds: the cache keeps what it links); shared_bytes, of its physical bytes those another
    group's roots hold too; shared_with, those bytes by the other group. And cross_group_bytes:
    inodes roots of two or more groups hold, each once."""
    figures = {label: {"roots": 0, "physical_bytes": 0, "marginal_bytes": 0, "shared_bytes": 0,
                       "shared_with": {other: 0 for other in bits if other != label}} for label in bits}  # fmt: skip
    by_bit = {bit: label for label, bit in bits.items()}
    cross = 0
    for w in walked:
        label = by_bit.get(w.group_bit)
        if label is not None:
            figures[label]["roots"] += 1
            figures[label]["physical_bytes"] += w.single_blocks * 512  # single-link inodes: this root's alone
            figures[label]["marginal_bytes"] += w.single_blocks * 512
    for held in union.values():
        mask = held[U_MASK]
        holders = [label for bit, label in by_bit.items() if mask & bit]
        size = held[U_ENTRY][BLOCKS] * 512
        cross += size if len(holders) > 1 else 0
        for label in holders:
            figures[label]["physical_bytes"] += size
            if mask == bits[label]:
                figures[label]["marginal_bytes"] += size
            if len(holders) > 1:
                figures[label]["shared_bytes"] += size
                for other in holders:
                    if other != label:
                        figures[label]["shared_with"][other] += size
    return figures, cross


def _link_buckets(w, union):
    """A root's physical, apparent, exclusive and marginal blocks (bytes for apparent), its
    exclusive inodes, and its hard-linked files by where their other links are."""
    physical = exclusive = marginal = w.single_blocks
    apparent = w.single_size
    buckets = {"hardlinked_cache": [0, 0], "hardlinked_roots": [0, 0], "hardlinked_elsewhere": [0, 0]}
    # Inodes deleting the root frees (a file system that allocates inodes as it goes, XFS,
    # gives their space back): untracked single-link ones, and tracked ones held only here.
    exclusive_inodes = sum(w.single_counts) if not w.track_all else 0
    for key, entry in w.tracked.items():
        blocks = entry[BLOCKS]
        physical += blocks
        apparent += entry[SIZE]
        if entry[KIND] == DIR or entry[SEEN] == entry[NLINK]:
            exclusive += blocks
            exclusive_inodes += 1
        held = union[key]
        if held[U_ROOTS] == 1:
            marginal += blocks
        if entry[KIND] != FILE or entry[NLINK] == 1:
            continue
        if held[U_CACHES] - w.is_cache > 0:
            bucket = buckets["hardlinked_cache"]
        elif held[U_ROOTS] > 1:
            bucket = buckets["hardlinked_roots"]
        else:
            bucket = buckets["hardlinked_elsewhere"]
        bucket[0] += 1
        bucket[1] += blocks
    return physical, apparent, exclusive, marginal, exclusive_inodes, buckets


def _root_report(w, union, sweep, extent_index):
    physical, apparent, exclusive, marginal, exclusive_inodes, buckets = _link_buckets(w, union)
    return {
        "path": w.root,
        "cache": bool(w.is_cache),
        "physical_bytes": physical * 512,
        "apparent_bytes": apparent,
        **_extent_figures(w, physical * 512, exclusive * 512, marginal * 512, sweep, extent_index),
        **dict(zip(KINDS, w.counts)),
        "exclusive_inodes": exclusive_inodes,
        # each inode of the root once (hard links within it counted once): what a quota counts
        "inodes": (0 if w.track_all else sum(w.single_counts)) + len(w.tracked),
        "links": {
            "unique": _pair(*w.unique),
            **{name: _pair(*bucket) for name, bucket in buckets.items()},
            "symlinks_out": _pair(*w.links_out),
            "symlinks_in": _pair(*w.links_in),
            "reflinked": {"count": w.reflinked[0], "bytes": w.reflinked[1]} if w.reflinked else None,
        },
        "errors": w.errors,
    }


def _total(walked, union, track_all, root_reports):
    """The union over all roots: every tracked inode once; untracked ones are unique to their root."""
    total = {"physical_bytes": 0, "apparent_bytes": 0, "files": 0, "dirs": 0, "symlinks": 0, "others": 0}
    kinds, exclusive_blocks, linked_files, single_files = [0, 0, 0, 0], 0, 0, 0
    if not track_all:  # single-link inodes of disjoint roots are never shared
        for w in walked:
            total["physical_bytes"] += w.single_blocks * 512
            total["apparent_bytes"] += w.single_size
            exclusive_blocks += w.single_blocks
            single_files += w.single_counts[FILE]
            kinds = [a + b for a, b in zip(kinds, w.single_counts)]
    for held in union.values():
        entry = held[U_ENTRY]
        total["physical_bytes"] += entry[BLOCKS] * 512
        total["apparent_bytes"] += entry[SIZE]
        kinds[entry[KIND]] += 1
        if entry[KIND] == DIR or held[U_SEEN] >= entry[NLINK]:
            exclusive_blocks += entry[BLOCKS]
        if entry[KIND] == FILE:
            linked_files += entry[NLINK] > 1
            single_files += entry[NLINK] == 1
    total.update(zip(KINDS, kinds))
    total["inodes"] = sum(kinds)
    total["exclusive_bytes"] = exclusive_blocks * 512
    total["hardlinked_files"] = linked_files  # distinct files with more than one link
    total["single_files"] = single_files  # distinct files with one link: copies, not shared
    total["naive_bytes"] = sum(r["physical_bytes"] for r in root_reports)
    total["sharing_ratio"] = total["naive_bytes"] / total["physical_bytes"] if total["physical_bytes"] else None
    return total


def scan(roots, cache_roots=(), jobs=None, groups=None, skip_missing=False, with_packages=True):
    """Disk report of ROOTS as a JSON-ready dict (see the module docstring for definitions).

    cache_roots: those of ROOTS that are a tool's cache; hard links from other roots into them
    are classed `hardlinked_cache`. jobs: worker processes (default: one per core, at most one
    per root). groups: root -> label (a project's group), for what envs of different groups
    share, distribution by distribution. skip_missing: roots that do not exist (a tool that
    made no cache) are left out, not reported as errors. with_packages=False: the totals and
    roots only, no `packages` (a growth checkpoint: the RECORD files are not read).
    """
    groups = {os.path.abspath(os.fspath(r)): label for r, label in (groups or {}).items()}
    roots = [os.fspath(r) for r in roots if not skip_missing or os.path.lexists(r)]
    cache_set = {os.path.abspath(os.fspath(c)) for c in cache_roots}
    track_all = _nested(roots)
    job_list = [(r, track_all, mount_fs_type(r) in REFLINK_FS, with_packages and os.path.abspath(r) not in cache_set)
                for r in roots]  # fmt: skip
    if any(check for _, _, check, _ in job_list):
        os.sync()  # delayed allocation gets its extents: FIEMAP then reports where data really is
    bits = {label: 1 << i for i, label in enumerate(sorted(set(groups.values())), 1)}
    walked, errors, union = _join(_walk_all(job_list, min(len(roots), jobs or os.cpu_count() or 1)), cache_set, groups, bits)
    # macOS: APFS clones files too, but it has no FIEMAP and no /proc to tell the file system by:
    # the figures there are inode figures, which count a clone in full, so the report says so.
    if sys.platform != "linux":
        for w in walked:
            w.fiemap = "platform"
    with_extents = [w for w in walked if w.fiemap == "supported"]
    sweep = extent_union(with_extents)
    extent_index = {id(w): i for i, w in enumerate(with_extents)}
    root_reports = [_root_report(w, union, sweep, extent_index) for w in walked]
    errors += [error for w in walked for error in w.errors]
    total = _total(walked, union, track_all, root_reports)
    total.update(_total_extents(walked, with_extents, sweep[0], total))
    if bits:
        total["groups"], total["cross_group_bytes"] = group_figures(walked, union, bits)
    report = {"schema": SCHEMA, "total": total, "roots": root_reports, "errors": errors}
    if with_packages:
        env_dist_infos = [(path, groups.get(os.path.abspath(w.root)), w.dist_files.get(path))
                          for w in walked if not w.is_cache for path in w.dist_infos]  # fmt: skip
        metas = [path for path, _, _ in env_dist_infos if os.path.basename(path) == "conda-meta"]
        report["packages"] = packages([d for d in env_dist_infos if d[0] not in metas])
        if metas:
            report["conda_packages"] = conda_packages(metas)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scan.py", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--cache", action="append", default=[], help="a root that is a tool cache")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--skip-missing", action="store_true", help="leave out roots that do not exist")
    parser.add_argument("--group", nargs=2, action="append", default=[], metavar=("LABEL", "ROOT"),
                        help="ROOT is an env of group LABEL (what groups share, per distribution)")  # fmt: skip
    parser.add_argument("--no-packages", action="store_true", help="totals and roots only: no RECORD read")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    groups = {root: label for label, root in args.group}
    report = scan(args.paths + [c for c in args.cache if c not in args.paths], args.cache, args.jobs, groups,
                  args.skip_missing, not args.no_packages)  # fmt: skip
    json.dump(report, sys.stdout, indent=None if args.json else 2)
    sys.stdout.write("\n")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
