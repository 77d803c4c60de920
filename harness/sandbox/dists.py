"""What each installed distribution costs across the scanned envs: PyPI-style envs from each
dist-info's RECORD, conda envs from their conda-meta records.

Standard library only, and no import from the rest of envbench: scan.py runs it inside containers.
"""

import json
import os
import stat

if __package__:  # imported on the host
    from .walk import record_stats
else:  # beside scan.py where the tools run, which puts its folder on sys.path
    from walk import record_stats


def dist_name(folder):
    """(name, version) from a `NAME-VERSION.dist-info` folder name, the name normalized (PEP 503)."""
    stem = os.path.basename(folder)[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-")), version


def _tally(found, dist_info, group, files):
    """Add one env's distribution at DIST_INFO (its RECORD files' stats, or None to read them)."""
    entry = found.setdefault(dist_name(dist_info), {"envs": 0, "installed_bytes": 0, "naive_bytes": 0, "inodes": {},
                                                    "groups": {}})  # fmt: skip
    entry["envs"] += 1
    per_group = None
    if group is not None:
        per_group = entry["groups"].setdefault(group, {"envs": 0, "installed_bytes": 0, "inodes": set()})
        per_group["envs"] += 1
    in_env = set()
    for dev, inode, size, blocks, nlink in record_stats(dist_info) if files is None else files:
        ino = (dev, inode)
        if ino in in_env:
            continue
        in_env.add(ino)
        entry["installed_bytes"] += size
        entry["naive_bytes"] += blocks * 512
        held = entry["inodes"].get(ino)
        if held is None:
            held = entry["inodes"][ino] = [blocks * 512, nlink, 0, set()]
        held[2] += 1
        if per_group is not None:
            per_group["installed_bytes"] += size
            per_group["inodes"].add(ino)
            held[3].add(group)


def _row(name, version, entry):
    inodes, groups = entry.pop("inodes"), entry.pop("groups")
    physical = sum(blocks for blocks, _, _, _ in inodes.values())
    linked_out = sum(blocks for blocks, nlink, seen, _ in inodes.values() if nlink > seen)
    row = {"name": name, "version": version, **entry, "physical_bytes": physical, "linked_out_bytes": linked_out}
    if groups:
        row["groups"] = {
            label: {"envs": g["envs"], "installed_bytes": g["installed_bytes"],
                    "physical_bytes": sum(inodes[ino][0] for ino in g["inodes"])}
            for label, g in sorted(groups.items())
        }  # fmt: skip
        row["cross_group_bytes"] = sum(blocks for blocks, _, _, held in inodes.values() if len(held) > 1)
    return row


def packages(dist_infos):
    """What each installed distribution costs across the scanned envs, from its RECORD files.

    DIST_INFOS: (dist-info folder, group, files) triples; group is the env's project group, or
    None; files its record_stats, or None to read them now.
    Per (name, version): envs holding it, installed_bytes (st_size summed over every env),
    naive_bytes (each env's copy counted alone), physical_bytes (each inode once, across all
    envs: what the distribution costs the fleet after sharing) and linked_out_bytes (of those
    inodes, the ones with links outside the envs' RECORD files too, as in a tool's cache).
    When envs carry groups: `groups` (per group: envs, installed_bytes, physical_bytes, each
    inode once within the group) and cross_group_bytes (inodes that envs of two or more groups
    hold: bytes the groups really share).
    """
    found = {}
    for dist_info, group, files in dist_infos:
        _tally(found, dist_info, group, files)
    rows = [_row(name, version, entry) for (name, version), entry in found.items()]
    rows.sort(key=lambda row: (-row["physical_bytes"], row["name"], row["version"]))
    return rows


def _conda_records(meta):
    """(name, version, [(path, holds the prefix)]) of each package a conda env's conda-meta lists."""
    try:
        names = sorted(n for n in os.listdir(meta) if n.endswith(".json"))
    except OSError:
        return
    prefix = os.path.dirname(meta)
    for name in names:
        try:
            with open(os.path.join(meta, name), encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        paths = (record.get("paths_data") or {}).get("paths")
        if paths is None:
            paths = [{"_path": p} for p in record.get("files", [])]
        yield (
            record.get("name", name),
            record.get("version", ""),
            [(os.path.join(prefix, p["_path"]), bool(p.get("prefix_placeholder"))) for p in paths],
        )


def _conda_tally(entry, paths):
    for path, holds_prefix in paths:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        entry["files"] += 1
        entry["installed_bytes"] += st.st_size
        if holds_prefix:
            entry["prefix_files"] += 1
            entry["prefix_bytes"] += st.st_size
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            entry["linked_files"] += 1
            entry["linked_bytes"] += st.st_size
        held = entry["inodes"].setdefault((st.st_dev, st.st_ino), [st.st_blocks * 512, st.st_nlink, 0])
        held[2] += 1


def conda_packages(metas):
    """What each conda package costs across the scanned conda envs, from their conda-meta records.

    Per (name, version): envs holding it, files and installed_bytes (st_size summed over every
    env), linked_files / linked_bytes (of those, files with more than one link: hard-linked from
    the package cache or another env), physical_bytes (each inode once across the envs),
    linked_out_bytes (of those, inodes with links outside the envs' records: the package
    cache's), and prefix_files / prefix_bytes (files that hold the prefix: the installer writes
    each env its own rewritten copy).
    """
    found = {}
    for meta in metas:
        for name, version, paths in _conda_records(meta):
            entry = found.setdefault((name, version), {"envs": 0, "files": 0, "installed_bytes": 0, "prefix_files": 0,
                                                       "prefix_bytes": 0, "linked_files": 0, "linked_bytes": 0,
                                                       "inodes": {}})  # fmt: skip
            entry["envs"] += 1
            _conda_tally(entry, paths)
    rows = []
    for (name, version), entry in found.items():
        inodes = entry.pop("inodes")
        rows.append({"name": name, "version": version, **entry,
                     "physical_bytes": sum(blocks for blocks, _, _ in inodes.values()),
                     "linked_out_bytes": sum(blocks for blocks, nlink, seen in inodes.values() if nlink > seen)})  # fmt: skip
    rows.sort(key=lambda row: (-row["physical_bytes"], row["name"], row["version"]))
    return rows
