"""Disk report of file trees: each inode counted once, links classified.

Standard library only, and no import from the rest of envbench: this file is copied into
containers and run there with whatever Python the image has (`python scan.py --json ROOT...`).

Definitions (DESIGN.md, "Measurement definitions"):
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

The walk uses lstat only and never follows symlinks; the only things it opens are directories
(through scandir) and, on file systems with reflinks, regular files for the FIEMAP ioctl,
opened non-blocking and without following links, so a FIFO or device can never hang it.
"""

import argparse
import csv
import json
import os
import stat
import struct
import sys

SCHEMA = 1

# Index of the fields of one tracked inode: [blocks, size, nlink, kind, seen_in_root]
_BLOCKS, _SIZE, _NLINK, _KIND, _SEEN = range(5)
KINDS = ("files", "dirs", "symlinks", "others")
_FILE, _DIR, _SYMLINK, _OTHER = range(4)

# File systems whose files can share extents (reflinks); elsewhere FIEMAP is not asked.
REFLINK_FS = frozenset({"btrfs", "xfs", "bcachefs", "ocfs2"})

_FS_IOC_FIEMAP = 0xC020660B
_FIEMAP_EXTENT_LAST = 0x1
_FIEMAP_EXTENT_SHARED = 0x2000
# Extents without a place of their own: UNKNOWN (0x2), DELALLOC (0x4), DATA_INLINE (0x200), DATA_TAIL (0x400).
_FIEMAP_SKIP = 0x2 | 0x4 | 0x200 | 0x400
_FIEMAP_INLINE = 0x200 | 0x400
_FIEMAP_HEADER = struct.Struct("=QQLLLL")
_FIEMAP_EXTENT = struct.Struct("=QQQQQLLLL")
_FIEMAP_BATCH = 64


class Extents(list):
    """A file's extents; `inline`: some of its data has no extent, being kept inline in the file
    system's metadata (btrfs's small files), where the file system's metadata figure counts it."""

    inline = False


class FiemapUnsupported(Exception):
    """The file system answers FIEMAP with EOPNOTSUPP (or ENOTTY): extents cannot be read here."""


def file_extents(path, expect_dev_ino):
    """The physical extents of the regular file at PATH: [(physical, length, shared)], or None.

    Skips extents whose place is not known (FIEMAP_EXTENT_UNKNOWN, DELALLOC: not yet written;
    the caller syncs first) and data stored inline in metadata (DATA_INLINE, DATA_TAIL: it has
    no extent of its own and no block: `inline` is set, and the file system's own metadata figure
    counts it; btrfs still reports st_blocks for it). None when the file cannot be opened
    or is not the inode that was walked (it changed); FiemapUnsupported where the file system
    has no FIEMAP at all.
    """
    import errno
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != expect_dev_ino or not stat.S_ISREG(st.st_mode):
            return None
        extents = Extents()
        start = 0
        while True:
            request = bytearray(_FIEMAP_HEADER.size + _FIEMAP_EXTENT.size * _FIEMAP_BATCH)
            _FIEMAP_HEADER.pack_into(request, 0, start, 2**64 - 1 - start, 0, 0, _FIEMAP_BATCH, 0)
            try:
                fcntl.ioctl(fd, _FS_IOC_FIEMAP, request, True)
            except OSError as exc:
                if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY):
                    raise FiemapUnsupported(path) from None
                return None
            mapped = _FIEMAP_HEADER.unpack_from(request, 0)[3]
            if mapped == 0:
                return extents
            last = False
            for i in range(mapped):
                logical, physical, length, _r1, _r2, flags, _a, _b, _c = _FIEMAP_EXTENT.unpack_from(
                    request, _FIEMAP_HEADER.size + i * _FIEMAP_EXTENT.size
                )
                if not flags & _FIEMAP_SKIP:
                    extents.append((physical, length, bool(flags & _FIEMAP_EXTENT_SHARED)))
                elif flags & _FIEMAP_INLINE:
                    extents.inline = True
                start = logical + length
                last = last or bool(flags & _FIEMAP_EXTENT_LAST)
            if last:
                return extents
    finally:
        os.close(fd)


def shared_extent_bytes(path, expect_dev_ino):
    """Bytes of the regular file at PATH in extents it shares with another file, or None."""
    try:
        extents = file_extents(path, expect_dev_ino)
    except FiemapUnsupported:
        return None
    return None if extents is None else sum(length for _, length, shared in extents if shared)


def mount_fs_type(path):
    """File system type of the mount holding PATH, from /proc/self/mountinfo ('' if unknown)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    target = os.path.realpath(path)
    best, best_type = "", ""
    for line in lines:
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5:
            continue
        mount_point = fields[4].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, right.split()[0]
    return best_type


def _inside(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def walk_root(job):
    """Walk one root; return its counts, summed sizes and the inodes that need a global view.

    job = (root, track_all, check_reflinks, records). Inodes that cannot be shared with another
    root (directories and files with one link) are only summed, unless track_all (roots nest, so
    one inode can be reached from two roots) asks to keep every inode. With records (an env, not
    a cache), each dist-info's RECORD is resolved here from the walk's own lstat results
    (`dist_files`), so packages() needs no second lstat per file, and roots do it side by side.
    """
    root, track_all, check_reflinks, records = job
    root_abs = os.path.abspath(root).rstrip("/") or "/"
    root_real = os.path.join(os.path.realpath(os.path.dirname(root_abs)), os.path.basename(root_abs))
    lstat, scandir = os.lstat, os.scandir
    S_ISDIR, S_ISREG, S_ISLNK = stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK

    counts = [0, 0, 0, 0]  # entries walked, by kind
    single_counts = [0, 0, 0, 0]  # of those, inodes not tracked (unique to this root), by kind
    single_blocks = single_size = 0
    unique_files = unique_blocks = 0
    links_out = links_out_blocks = links_in = links_in_blocks = 0
    reflinked = reflinked_bytes = 0
    extents = {}  # (dev, ino) -> [(physical, length, shared)]: regular files, where extents are read
    no_extents_blocks = 0  # blocks of inodes with no extent of their own (dirs, symlinks, inline data)
    fiemap = "supported" if check_reflinks else "not asked"
    errors = []
    tracked = {}  # (dev, ino) -> [blocks, size, nlink, kind, seen_in_root]
    # installed distributions' metadata folders: packages() reads their RECORD; conda_packages()
    # a conda env's conda-meta records
    dist_infos = []
    seen_stats = {}  # path -> (dev, ino, size, blocks, nlink) of each non-directory, with records

    def account(path, st):
        nonlocal single_blocks, single_size
        nonlocal unique_files, unique_blocks, links_out, links_out_blocks, links_in, links_in_blocks
        nonlocal reflinked, reflinked_bytes, no_extents_blocks, fiemap
        mode = st.st_mode
        if S_ISDIR(mode):
            kind = _DIR
        elif S_ISREG(mode):
            kind = _FILE
            if st.st_nlink == 1:
                unique_files += 1
                unique_blocks += st.st_blocks
            key = (st.st_dev, st.st_ino)
            if fiemap == "supported" and st.st_blocks and key not in extents:
                try:
                    found = file_extents(path, key)
                except FiemapUnsupported:
                    fiemap, found = "unsupported", None
                if found is not None and not found and found.inline:
                    pass  # all its data inline in metadata, which the file system counts: no block of its own
                elif found is None or (not found and st.st_blocks):
                    no_extents_blocks += st.st_blocks  # the file changed under the walk: its inode's blocks
                    found = found or []
                extents[key] = found
                shared = sum(length for _, length, is_shared in found if is_shared)
                if shared:
                    reflinked += 1
                    reflinked_bytes += shared
        elif S_ISLNK(mode):
            kind = _SYMLINK
            try:
                target = os.readlink(path)
            except OSError as exc:
                errors.append(f"{path}: {exc.strerror}")
                target = ""
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
            if _inside(resolved, root_abs) or _inside(resolved, root_real):
                links_in += 1
                links_in_blocks += st.st_blocks
            else:
                links_out += 1
                links_out_blocks += st.st_blocks
        else:
            kind = _OTHER
        if kind != _FILE and check_reflinks:
            no_extents_blocks += st.st_blocks
        counts[kind] += 1
        if track_all or (kind != _DIR and st.st_nlink > 1):
            key = (st.st_dev, st.st_ino)
            entry = tracked.get(key)
            if entry is None:
                tracked[key] = [st.st_blocks, st.st_size, st.st_nlink, kind, 1]
            else:
                entry[_SEEN] += 1
        else:
            single_counts[kind] += 1
            single_blocks += st.st_blocks
            single_size += st.st_size

    try:
        root_stat = lstat(root_abs)
    except OSError as exc:
        return {"root": root, "error": f"{root}: {exc.strerror}"}
    account(root_abs, root_stat)
    stack = [root_abs] if S_ISDIR(root_stat.st_mode) else []
    # Files with one link, outside track_all and reflink checks, are most entries: they are
    # summed inline (no call per entry) and merged into the counters after the walk.
    fast = not track_all and not check_reflinks
    fast_files = fast_blocks = fast_size = linked_files = 0
    fast_dirs = fast_dir_blocks = fast_dir_size = 0
    open_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    while stack:
        directory = stack.pop()
        # scandir on a descriptor makes DirEntry.stat an fstatat() relative to the directory,
        # as du does, instead of resolving the whole path again for every entry.
        try:
            fd = os.open(directory, open_flags)
        except OSError as exc:
            errors.append(f"{directory}: {exc.strerror}")
            continue
        try:
            with scandir(fd) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError as exc:
                        errors.append(f"{directory}/{entry.name}: {exc.strerror}")
                        continue
                    mode = st.st_mode
                    if fast and S_ISDIR(mode):
                        path = directory + "/" + entry.name
                        stack.append(path)
                        if entry.name.endswith(".dist-info") or entry.name == "conda-meta":
                            dist_infos.append(path)
                        fast_dirs += 1
                        fast_dir_blocks += st.st_blocks
                        fast_dir_size += st.st_size
                        continue
                    if records and not S_ISDIR(mode):
                        seen_stats[directory + "/" + entry.name] = (st.st_dev, st.st_ino, st.st_size, st.st_blocks,
                                                                    st.st_nlink)  # fmt: skip
                    if fast and S_ISREG(mode):
                        nlink = st.st_nlink
                        if nlink == 1:
                            fast_files += 1
                            fast_blocks += st.st_blocks
                            fast_size += st.st_size
                            continue
                        # A hard-linked file: tracked for the global view, as account() does.
                        key = (st.st_dev, st.st_ino)
                        known = tracked.get(key)
                        if known is None:
                            tracked[key] = [st.st_blocks, st.st_size, nlink, _FILE, 1]
                        else:
                            known[_SEEN] += 1
                        linked_files += 1
                        continue
                    path = directory + "/" + entry.name
                    account(path, st)
                    if S_ISDIR(mode):
                        stack.append(path)
                        if entry.name.endswith(".dist-info") or entry.name == "conda-meta":
                            dist_infos.append(path)
        except OSError as exc:
            errors.append(f"{directory}: {exc.strerror}")
        finally:
            os.close(fd)
    counts[_FILE] += fast_files + linked_files
    counts[_DIR] += fast_dirs
    single_counts[_DIR] += fast_dirs
    single_blocks += fast_dir_blocks
    single_size += fast_dir_size
    single_counts[_FILE] += fast_files
    unique_files += fast_files
    unique_blocks += fast_blocks
    single_blocks += fast_blocks
    single_size += fast_size

    return {
        "root": root,
        "error": None,
        "errors": errors,
        "counts": counts,
        "single_counts": single_counts,
        "single_blocks": single_blocks,
        "single_size": single_size,
        "unique": (unique_files, unique_blocks),
        "links_out": (links_out, links_out_blocks),
        "links_in": (links_in, links_in_blocks),
        "reflinked": (reflinked, reflinked_bytes) if check_reflinks else None,
        "fiemap": fiemap,
        "extents": extents if fiemap == "supported" else {},
        "no_extents_blocks": no_extents_blocks,
        "tracked": tracked,
        "dist_infos": dist_infos,
        "dist_files": {d: record_stats(d, seen_stats) for d in dist_infos if records and d.endswith(".dist-info")},
    }


def _dist_name(folder):
    """(name, version) from a `NAME-VERSION.dist-info` folder name, the name normalized (PEP 503)."""
    stem = os.path.basename(folder)[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-")), version


def _record_paths(dist_info):
    site = os.path.dirname(dist_info)
    try:
        with open(os.path.join(dist_info, "RECORD"), newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    # RECORD paths are relative to site-packages; only odd ones (`..` parts for scripts in bin/,
    # absolute paths) need join and normpath, which cost more than the rest over 27,000 rows.
    prefix = site.rstrip("/") + "/"
    return [os.path.normpath(os.path.join(site, path)) if "/." in "/" + path or "//" in path or path[0] == "/"
            else prefix + path for path in (row[0] for row in rows if row and row[0])]  # fmt: skip


def record_stats(dist_info, seen=None):
    """(dev, ino, size, blocks, nlink) of each file DIST_INFO's RECORD lists that exists: from
    SEEN (the walk's lstat results by path) where the walk met it, else lstat now (a path
    outside the walked root)."""
    found = []
    for path in _record_paths(dist_info):
        st = seen.get(path) if seen else None
        if st is None:
            try:
                raw = os.lstat(path)
            except OSError:
                continue
            st = (raw.st_dev, raw.st_ino, raw.st_size, raw.st_blocks, raw.st_nlink)
        found.append(st)
    return found


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
        key = _dist_name(dist_info)
        entry = found.setdefault(key, {"envs": 0, "installed_bytes": 0, "naive_bytes": 0, "inodes": {}, "groups": {}})
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
    rows = []
    for (name, version), entry in found.items():
        inodes = entry.pop("inodes")
        groups = entry.pop("groups")
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
        rows.append(row)
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
    rows = []
    for (name, version), entry in found.items():
        inodes = entry.pop("inodes")
        rows.append({"name": name, "version": version, **entry,
                     "physical_bytes": sum(blocks for blocks, _, _ in inodes.values()),
                     "linked_out_bytes": sum(blocks for blocks, nlink, seen in inodes.values() if nlink > seen)})  # fmt: skip
    rows.sort(key=lambda row: (-row["physical_bytes"], row["name"], row["version"]))
    return rows


_OUTSIDE = -1  # owner of extents whose inode has links outside the root walked


def extent_union(walks):
    """Physical extent ranges of every root, swept once per device: (the length of their union,
    each root's own union, each root's exclusive extent bytes), in bytes, by root index.

    A root's range is exclusive when no other root holds it, no inode with links outside the
    root holds it, and it is not flagged shared unless two inodes of the root itself hold it (a
    flagged range held once is shared with a file outside the scan, so deleting the root keeps it).
    """
    events = {}  # dev -> [(position, +1/-1, owner, shared)]
    for index, w in enumerate(walks):
        tracked = w["tracked"]
        for key, found in w["extents"].items():
            entry = tracked.get(key)
            owners = (index,) if entry is None or entry[_SEEN] >= entry[_NLINK] else (index, _OUTSIDE)
            out = events.setdefault(key[0], [])
            for physical, length, shared in found:
                for owner in owners:
                    out.append((physical, 1, owner, shared))
                    out.append((physical + length, -1, owner, shared))
    union = 0
    own = [0] * len(walks)
    exclusive = [0] * len(walks)
    alone = [0] * len(walks)  # held by no other root: what the union of the roots loses without it
    for dev_events in events.values():
        dev_events.sort(key=lambda e: (e[0], e[1]))
        active = {}  # owner -> ranges of it open here
        shared_open = 0
        previous = None
        for position, step, owner, shared in dev_events:
            if previous is not None and position > previous and active:
                length = position - previous
                real = [o for o in active if o != _OUTSIDE]
                if real:
                    union += length
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
    return union, own, exclusive, alone


def _extent_figures(w, physical, exclusive, marginal, sweep, extent_index):
    """A root's exclusive, marginal, unique physical and shared-extent bytes, and how they are known.

    With extents, exclusive and marginal bytes are the extent figures (a clone is not a copy) and
    the inode figures stay beside them as *_by_inodes_bytes."""
    if w["fiemap"] == "supported":
        own, extent_exclusive, alone = sweep
        i = extent_index[id(w)]
        blocks = w["no_extents_blocks"] * 512  # directories, symlinks, inline data: never shared
        return {
            "exclusive_bytes": extent_exclusive[i] + blocks,
            "exclusive_by_inodes_bytes": exclusive,
            "marginal_bytes": alone[i] + blocks,
            "marginal_by_inodes_bytes": marginal,
            "unique_physical_bytes": own[i] + blocks,
            "shared_extent_bytes": w["reflinked"][1],
            "extents": "fiemap",
        }
    if w["fiemap"] == "platform":  # not Linux: clones (APFS) would be counted as copies, so no figure
        return {
            "exclusive_bytes": exclusive,
            "marginal_bytes": marginal,
            "unique_physical_bytes": None,
            "shared_extent_bytes": None,
            "extents": f"not supported on this platform ({sys.platform}): inode figures only, a clone counted in full",
        }
    if w["fiemap"] == "unsupported":  # a file system with reflinks whose extents cannot be read: no guess
        return {
            "exclusive_bytes": exclusive,
            "marginal_bytes": marginal,
            "unique_physical_bytes": None,
            "shared_extent_bytes": None,
            "extents": "unsupported (FIEMAP refused): inode figures only",
        }
    return {
        "exclusive_bytes": exclusive,
        "marginal_bytes": marginal,
        "unique_physical_bytes": physical,
        "shared_extent_bytes": 0,
        "extents": "none (no reflinks on this file system): inode figures",
    }


def _total_extents(walked_ok, with_extents, union, total):
    if any(w["fiemap"] in ("unsupported", "platform") for w in walked_ok):
        return {"unique_physical_bytes": None, "shared_extent_bytes": None}
    if not with_extents:
        return {"unique_physical_bytes": total["physical_bytes"], "shared_extent_bytes": 0}
    inodes = {}
    for w in with_extents:
        inodes.update(w["extents"])
    shared = sum(length for found in inodes.values() for _, length, is_shared in found if is_shared)
    blocks = sum(w["no_extents_blocks"] for w in with_extents) * 512
    # Roots on a file system without reflinks beside them (a rare mixed scan): their inode
    # figures, each root alone (two file systems share no blocks, and roots of one share them
    # only by hard links, which such a scan does not pair up).
    others = sum(_inode_blocks(w) for w in walked_ok if w["fiemap"] == "not asked") * 512
    return {"unique_physical_bytes": union + blocks + others, "shared_extent_bytes": shared}


def _inode_blocks(w):
    return w["single_blocks"] + sum(entry[_BLOCKS] for entry in w["tracked"].values())


def _nested(roots):
    """True when one root lies inside another (or is given twice): inodes can then repeat."""
    resolved = []
    for root in roots:
        absolute = os.path.abspath(root)
        resolved.append(os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute)))
    for i, a in enumerate(resolved):
        for j, b in enumerate(resolved):
            if i != j and _inside(b, a):
                return True
    return False


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


def group_figures(walked_ok, union, bits):
    """Per project group (inode figures, each inode once): physical_bytes of the group's roots
    together; marginal_bytes, what the scan loses without the group (inodes no root outside it
    holds: the cache keeps what it links); shared_bytes, of its physical bytes those another
    group's roots hold too; shared_with, those bytes by the other group. And cross_group_bytes:
    inodes roots of two or more groups hold, each once."""
    figures = {label: {"roots": 0, "physical_bytes": 0, "marginal_bytes": 0, "shared_bytes": 0,
                       "shared_with": {other: 0 for other in bits if other != label}} for label in bits}  # fmt: skip
    by_bit = {bit: label for label, bit in bits.items()}
    cross = 0
    for w in walked_ok:
        label = by_bit.get(w["group_bit"])
        if label is not None:
            figures[label]["roots"] += 1
            figures[label]["physical_bytes"] += w["single_blocks"] * 512  # single-link inodes: this root's alone
            figures[label]["marginal_bytes"] += w["single_blocks"] * 512
    for entry, _, _, _, mask in union.values():
        holders = [label for bit, label in by_bit.items() if mask & bit]
        size = entry[_BLOCKS] * 512
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
    fs_types = [mount_fs_type(r) for r in roots]
    job_list = [(r, track_all, fs in REFLINK_FS, with_packages and os.path.abspath(r) not in cache_set)
                for r, fs in zip(roots, fs_types)]  # fmt: skip
    # macOS: APFS clones files too, but it has no FIEMAP and no /proc to tell the file system by:
    # the figures there are inode figures, which count a clone in full, so the report says so.
    unsupported_platform = sys.platform != "linux"
    if any(check for _, _, check, _ in job_list):
        os.sync()  # delayed allocation gets its extents: FIEMAP then reports where data really is
    workers = min(len(roots), jobs or os.cpu_count() or 1)

    # One table of every tracked inode: its record, links seen in all roots, how many roots
    # hold it and how many of those are caches. Built as walks finish, while others still run.
    # With groups, each record also carries a bit mask of the groups whose roots hold it (bit 0:
    # a root of no group, such as a cache), for what the groups share and what each adds.
    union = {}
    bits = {label: 1 << i for i, label in enumerate(sorted(set(groups.values())), 1)}
    walked_ok, errors = [], []
    for w in _walk_all(job_list, workers):
        if w["error"]:
            errors.append(w["error"])
            continue
        is_cache = 1 if os.path.abspath(w["root"]) in cache_set else 0
        w["is_cache"] = is_cache
        w["group_bit"] = bits.get(groups.get(os.path.abspath(w["root"])), 1)
        walked_ok.append(w)
        for key, entry in w["tracked"].items():
            held = union.get(key)
            if held is None:
                union[key] = [entry, entry[_SEEN], 1, is_cache, w["group_bit"]]
            else:
                held[1] += entry[_SEEN]
                held[2] += 1
                held[3] += is_cache
                held[4] |= w["group_bit"]

    total = {"physical_bytes": 0, "apparent_bytes": 0, "files": 0, "dirs": 0, "symlinks": 0, "others": 0}
    # Extents (btrfs, XFS): what the set really occupies, beyond inodes. Elsewhere the inode figures.
    if unsupported_platform:
        for w in walked_ok:
            w["fiemap"] = "platform"
    with_extents = [w for w in walked_ok if w["fiemap"] == "supported"]
    extent_total, own, extent_exclusive, alone = extent_union(with_extents)
    extent_index = {id(w): i for i, w in enumerate(with_extents)}
    root_reports = []
    for w in walked_ok:
        is_cache = w["is_cache"]
        physical = w["single_blocks"]
        apparent = w["single_size"]
        exclusive = w["single_blocks"]
        marginal = w["single_blocks"]
        to_cache = [0, 0]
        to_roots = [0, 0]
        elsewhere = [0, 0]
        # Inodes deleting the root frees (a file system that allocates inodes as it goes, XFS,
        # gives their space back): untracked single-link ones, and tracked ones held only here.
        exclusive_inodes = sum(w["single_counts"]) if not track_all else 0
        for key, entry in w["tracked"].items():
            blocks = entry[_BLOCKS]
            physical += blocks
            apparent += entry[_SIZE]
            if entry[_KIND] == _DIR or entry[_SEEN] == entry[_NLINK]:
                exclusive += blocks
                exclusive_inodes += 1
            _, _, roots_holding, caches_holding, _ = union[key]
            if roots_holding == 1:
                marginal += blocks
            if entry[_KIND] != _FILE or entry[_NLINK] == 1:
                continue
            if caches_holding - is_cache > 0:
                bucket = to_cache
            elif roots_holding > 1:
                bucket = to_roots
            else:
                bucket = elsewhere
            bucket[0] += 1
            bucket[1] += blocks
        if not track_all:
            # Single-link inodes of disjoint roots are never shared: add them to the union here.
            total["physical_bytes"] += w["single_blocks"] * 512
            total["apparent_bytes"] += w["single_size"]
        extents_of = _extent_figures(w, physical * 512, exclusive * 512, marginal * 512, (own, extent_exclusive, alone),
                                     extent_index)  # fmt: skip
        root_reports.append(
            {
                "path": w["root"],
                "cache": bool(is_cache),
                "physical_bytes": physical * 512,
                "apparent_bytes": apparent,
                **extents_of,
                **dict(zip(KINDS, w["counts"])),
                "exclusive_inodes": exclusive_inodes,
                "links": {
                    "unique": _pair(*w["unique"]),
                    "hardlinked_cache": _pair(*to_cache),
                    "hardlinked_roots": _pair(*to_roots),
                    "hardlinked_elsewhere": _pair(*elsewhere),
                    "symlinks_out": _pair(*w["links_out"]),
                    "symlinks_in": _pair(*w["links_in"]),
                    "reflinked": ({"count": w["reflinked"][0], "bytes": w["reflinked"][1]} if w["reflinked"] else None),
                },
                "errors": w["errors"],
            }
        )
        errors.extend(w["errors"])

    # Union over all roots: every tracked inode once; untracked ones are unique to their root.
    unique_kinds = [0, 0, 0, 0]
    exclusive_blocks = 0
    linked_files = single_files = 0
    if not track_all:
        for w in walked_ok:
            exclusive_blocks += w["single_blocks"]
            single_files += w["single_counts"][_FILE]
            for kind, count in enumerate(w["single_counts"]):
                unique_kinds[kind] += count
    for entry, seen, _, _, _ in union.values():
        total["physical_bytes"] += entry[_BLOCKS] * 512
        total["apparent_bytes"] += entry[_SIZE]
        unique_kinds[entry[_KIND]] += 1
        if entry[_KIND] == _DIR or seen >= entry[_NLINK]:
            exclusive_blocks += entry[_BLOCKS]
        if entry[_KIND] == _FILE:
            if entry[_NLINK] > 1:
                linked_files += 1
            else:
                single_files += 1
    total.update(zip(KINDS, unique_kinds))
    total["inodes"] = sum(unique_kinds)
    total["exclusive_bytes"] = exclusive_blocks * 512
    total["hardlinked_files"] = linked_files  # distinct files with more than one link
    total["single_files"] = single_files  # distinct files with one link: copies, not shared
    total["naive_bytes"] = sum(r["physical_bytes"] for r in root_reports)
    total["sharing_ratio"] = total["naive_bytes"] / total["physical_bytes"] if total["physical_bytes"] else None
    total.update(_total_extents(walked_ok, with_extents, extent_total, total))
    env_dist_infos = [(path, groups.get(os.path.abspath(w["root"])), w["dist_files"].get(path))
                      for w in walked_ok if not w["is_cache"] for path in w["dist_infos"]]  # fmt: skip
    conda_metas = [path for path, _, _ in env_dist_infos if os.path.basename(path) == "conda-meta"]
    if bits:
        total["groups"], total["cross_group_bytes"] = group_figures(walked_ok, union, bits)
    report = {"schema": SCHEMA, "total": total, "roots": root_reports, "errors": errors}
    if not with_packages:
        return report
    report["packages"] = packages([d for d in env_dist_infos if d[0] not in conda_metas])
    if conda_metas:
        report["conda_packages"] = conda_packages(conda_metas)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scan.py", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--cache", action="append", default=[], help="a root that is a tool cache")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--skip-missing", action="store_true", help="leave out roots that do not exist")
    parser.add_argument(
        "--group",
        nargs=2,
        action="append",
        default=[],
        metavar=("LABEL", "ROOT"),
        help="ROOT is an env of group LABEL (what groups share, per distribution)",
    )
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
