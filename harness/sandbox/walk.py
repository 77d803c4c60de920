"""Walk one root with lstat, never following a symlink: what scan.py accounts into a disk report.

Standard library only, and no import from the rest of envbench (it runs inside containers with
whatever Python the image has). A walk counts every entry by kind, sums the inodes that only
this root can hold (directories and files with one link), keeps every other inode for the
report's global view (a hard link may be found from another root), classes symlinks as pointing
inside or outside the root, reads each regular file's physical extents where the file system can
share them (FIEMAP), and notes each installed distribution's metadata folder. The only things it
opens are directories (through scandir) and, for FIEMAP, regular files, opened non-blocking and
without following links, so a FIFO or device can never hang it.
"""

import csv
import errno
import fcntl
import os
import stat
import struct

# Index of the fields of one tracked inode: [blocks, size, nlink, kind, seen_in_root]
BLOCKS, SIZE, NLINK, KIND, SEEN = range(5)
KINDS = ("files", "dirs", "symlinks", "others")
FILE, DIR, SYMLINK, OTHER = range(4)

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
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Extents(list):
    """A file's extents; `inline`: some of its data has no extent, being kept inline in the file
    system's metadata (btrfs's small files), where the file system's metadata figure counts it."""

    inline = False


class FiemapUnsupported(Exception):
    """The file system answers FIEMAP with EOPNOTSUPP (or ENOTTY): extents cannot be read here."""


def _fiemap_batch(fd, start, extents):
    """One FIEMAP call from logical offset START into EXTENTS: (the next offset, last batch)."""
    request = bytearray(_FIEMAP_HEADER.size + _FIEMAP_EXTENT.size * _FIEMAP_BATCH)
    _FIEMAP_HEADER.pack_into(request, 0, start, 2**64 - 1 - start, 0, 0, _FIEMAP_BATCH, 0)
    fcntl.ioctl(fd, _FS_IOC_FIEMAP, request, True)
    mapped = _FIEMAP_HEADER.unpack_from(request, 0)[3]
    last = mapped == 0
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
    return start, last


def file_extents(path, expect_dev_ino):
    """The physical extents of the regular file at PATH: [(physical, length, shared)], or None.

    Skips extents whose place is not known (FIEMAP_EXTENT_UNKNOWN, DELALLOC: not yet written;
    the caller syncs first) and data stored inline in metadata (DATA_INLINE, DATA_TAIL: it has
    no extent of its own and no block: `inline` is set, and the file system's own metadata figure
    counts it; btrfs still reports st_blocks for it). None when the file cannot be opened
    or is not the inode that was walked (it changed); FiemapUnsupported where the file system
    has no FIEMAP at all.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != expect_dev_ino or not stat.S_ISREG(st.st_mode):
            return None
        extents, start, last = Extents(), 0, False
        while not last:
            try:
                start, last = _fiemap_batch(fd, start, extents)
            except OSError as exc:
                if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY):
                    raise FiemapUnsupported(path) from None
                return None
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


def inside(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def real_root(root):
    """ROOT absolute, its parent's symlinks resolved (ROOT itself may be a symlink: not followed)."""
    absolute = os.path.abspath(root).rstrip("/") or "/"
    return absolute, os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))


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


class Walk:
    """One root walked: what scan.py's accounting reads (picklable: walks run in worker processes).

    counts, single_counts: entries walked, and of those the inodes not tracked (unique to this
    root), by kind (KINDS); single_blocks, single_size: what those untracked inodes hold;
    unique, links_out, links_in, reflinked: (count, blocks or bytes) of files with one link,
    symlinks pointing out of and into the root, files with shared extents (None: not asked);
    tracked: (dev, ino) -> [blocks, size, nlink, kind, seen_in_root] for every inode another root
    may hold too; extents: (dev, ino) -> [(physical, length, shared)] where FIEMAP was read;
    no_extents_blocks: blocks of inodes with no extent of their own; fiemap: "supported",
    "unsupported", "not asked" (or "platform", set by the accounting off Linux); dist_infos:
    metadata folders of installed distributions (and conda-meta); dist_files: each dist-info's
    RECORD files' stats, with records.
    """

    def __init__(self, root, track_all, check_reflinks):
        self.root, self.track_all = root, track_all
        self.error, self.errors = None, []
        self.counts, self.single_counts = [0, 0, 0, 0], [0, 0, 0, 0]
        self.single_blocks = self.single_size = 0
        self.unique = [0, 0]
        self.links_out, self.links_in = [0, 0], [0, 0]
        self.reflinked = [0, 0] if check_reflinks else None
        self.fiemap = "supported" if check_reflinks else "not asked"
        self.extents, self.no_extents_blocks = {}, 0
        self.tracked, self.dist_infos, self.dist_files = {}, [], {}
        self.is_cache, self.group_bit = 0, 1  # set by the accounting


class _Walker:
    """Walks one root into a Walk. Most entries are files with one link: outside track_all and
    reflink checks they are summed inline in `_directory` (no call per entry); every other entry
    goes through `account`."""

    def __init__(self, root, track_all, check_reflinks, records):
        self.walk = Walk(root, track_all, check_reflinks)
        self.root_abs, self.root_real = real_root(root)
        self.check_reflinks, self.records = check_reflinks, records
        self.fast = not track_all and not check_reflinks
        self.seen_stats = {}  # path -> (dev, ino, size, blocks, nlink) of each non-directory, with records

    def run(self):
        w = self.walk
        try:
            root_stat = os.lstat(self.root_abs)
        except OSError as exc:
            w.error = f"{w.root}: {exc.strerror}"
            return w
        self.account(self.root_abs, root_stat)
        stack = [self.root_abs] if stat.S_ISDIR(root_stat.st_mode) else []
        while stack:
            self._directory(stack.pop(), stack)
        if self.records:
            w.dist_files = {d: record_stats(d, self.seen_stats) for d in w.dist_infos if d.endswith(".dist-info")}
        if w.fiemap != "supported":
            w.extents = {}
        return w

    def account(self, path, st):
        """One entry that is not summed inline: its kind, link class, extents and inode."""
        w, mode = self.walk, st.st_mode
        if stat.S_ISDIR(mode):
            kind = DIR
        elif stat.S_ISREG(mode):
            kind = FILE
            if st.st_nlink == 1:
                w.unique[0] += 1
                w.unique[1] += st.st_blocks
            if w.fiemap == "supported" and st.st_blocks and (st.st_dev, st.st_ino) not in w.extents:
                self._extents(path, st)
        elif stat.S_ISLNK(mode):
            kind = SYMLINK
            self._symlink(path, st)
        else:
            kind = OTHER
        if kind != FILE and self.check_reflinks:
            w.no_extents_blocks += st.st_blocks
        w.counts[kind] += 1
        if w.track_all or (kind != DIR and st.st_nlink > 1):
            self._track(st, kind)
        else:
            w.single_counts[kind] += 1
            w.single_blocks += st.st_blocks
            w.single_size += st.st_size

    def _track(self, st, kind):
        key = (st.st_dev, st.st_ino)
        entry = self.walk.tracked.get(key)
        if entry is None:
            self.walk.tracked[key] = [st.st_blocks, st.st_size, st.st_nlink, kind, 1]
        else:
            entry[SEEN] += 1

    def _extents(self, path, st):
        w, key = self.walk, (st.st_dev, st.st_ino)
        try:
            found = file_extents(path, key)
        except FiemapUnsupported:
            w.fiemap, found = "unsupported", None
        if found is not None and not found and found.inline:
            pass  # all its data inline in metadata, which the file system counts: no block of its own
        elif found is None or (not found and st.st_blocks):
            w.no_extents_blocks += st.st_blocks  # the file changed under the walk: its inode's blocks
            found = found or []
        w.extents[key] = found
        shared = sum(length for _, length, is_shared in found if is_shared)
        if shared:
            w.reflinked[0] += 1
            w.reflinked[1] += shared

    def _symlink(self, path, st):
        w = self.walk
        try:
            target = os.readlink(path)
        except OSError as exc:
            w.errors.append(f"{path}: {exc.strerror}")
            target = ""
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
        where = w.links_in if inside(resolved, self.root_abs) or inside(resolved, self.root_real) else w.links_out
        where[0] += 1
        where[1] += st.st_blocks

    def _directory(self, directory, stack):
        """Every entry of DIRECTORY; folders found go on STACK. scandir on a descriptor makes
        DirEntry.stat an fstatat() relative to the folder, as du does, instead of resolving the
        whole path again for every entry."""
        w, fast, records, seen = self.walk, self.fast, self.records, self.seen_stats
        S_ISDIR, S_ISREG = stat.S_ISDIR, stat.S_ISREG
        try:
            fd = os.open(directory, _DIR_FLAGS)
        except OSError as exc:
            w.errors.append(f"{directory}: {exc.strerror}")
            return
        files = blocks = size = dirs = dir_blocks = dir_size = linked = 0
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError as exc:
                        w.errors.append(f"{directory}/{entry.name}: {exc.strerror}")
                        continue
                    mode = st.st_mode
                    is_dir = S_ISDIR(mode)
                    if records and not is_dir:
                        seen[directory + "/" + entry.name] = (st.st_dev, st.st_ino, st.st_size, st.st_blocks, st.st_nlink)
                    if fast and is_dir:
                        dirs += 1
                        dir_blocks += st.st_blocks
                        dir_size += st.st_size
                    elif fast and S_ISREG(mode):
                        if st.st_nlink == 1:
                            files += 1
                            blocks += st.st_blocks
                            size += st.st_size
                        else:  # a hard-linked file: tracked for the global view, as account() does
                            self._track(st, FILE)
                            linked += 1
                        continue
                    else:
                        self.account(directory + "/" + entry.name, st)
                    if is_dir:
                        path = directory + "/" + entry.name
                        stack.append(path)
                        if entry.name.endswith(".dist-info") or entry.name == "conda-meta":
                            w.dist_infos.append(path)
        except OSError as exc:
            w.errors.append(f"{directory}: {exc.strerror}")
        finally:
            os.close(fd)
        self._add_summed(files, blocks, size, dirs, dir_blocks, dir_size, linked)

    def _add_summed(self, files, blocks, size, dirs, dir_blocks, dir_size, linked):
        """What `_directory` summed inline: single-link files and folders (never shared)."""
        w = self.walk
        w.counts[FILE] += files + linked
        w.counts[DIR] += dirs
        w.single_counts[FILE] += files
        w.single_counts[DIR] += dirs
        w.unique[0] += files
        w.unique[1] += blocks
        w.single_blocks += blocks + dir_blocks
        w.single_size += size + dir_size


def walk_root(job):
    """Walk one root: job = (root, track_all, check_reflinks, records). Inodes that cannot be
    shared with another root (directories and files with one link) are only summed, unless
    track_all (roots nest, so one inode can be reached from two roots) asks to keep every inode.
    With records (an env, not a cache), each dist-info's RECORD is resolved here from the walk's
    own lstat results, so the packages' figures need no second lstat per file."""
    return _Walker(*job).run()
