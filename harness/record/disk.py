"""The scanner's disk report (harness/sandbox/scan.py) as typed records, as run.json holds it:
the union of every root (`DiskTotal`), each root with the scope the harness gave it (`DiskRoot`:
the tool's cache, HOME or a project), its files by link class (`Links`), and the growth points
the checkpoints took. The scanner itself, a sandbox script, writes plain JSON; these records
read it. Definitions: docs/measurement.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.record.base import Record, nested, one, optional

HARDLINKED = ("hardlinked_cache", "hardlinked_roots", "hardlinked_elsewhere")
NOT_PROJECTS = ("cache", "home")


@dataclass
class Linked(Record):
    """Files of one link class: how many, and the bytes their blocks take."""

    count: int = 0
    bytes: int = 0


@dataclass
class Links(Record):
    """A root's files by link class; `reflinked` is None where the file system has no clones
    (the class was not looked for)."""

    unique: Linked | None = one(Linked)
    hardlinked_cache: Linked | None = one(Linked)
    hardlinked_roots: Linked | None = one(Linked)
    hardlinked_elsewhere: Linked | None = one(Linked)
    symlinks_out: Linked | None = one(Linked)
    symlinks_in: Linked | None = one(Linked)
    reflinked: Linked | None = one(Linked)

    def classes(self) -> list[tuple[str, Linked | None]]:
        """(class, its files) in the scanner's order."""
        return [(name, getattr(self, name)) for name in
                ("unique", *HARDLINKED, "symlinks_out", "symlinks_in", "reflinked")]  # fmt: skip

    def count(self, name: str) -> int:
        found = getattr(self, name)
        return found.count if found else 0

    def bytes_of(self, name: str) -> int:
        found = getattr(self, name)
        return found.bytes if found else 0

    @property
    def hardlinked(self) -> int:
        """Files with another link: into the cache, to another root, or elsewhere."""
        return sum(self.count(name) for name in HARDLINKED)


@dataclass
class DiskRoot(Record):
    """One scanned root: the cache, HOME or a project's folder (its `scope`)."""

    path: str = ""
    cache: bool = False
    physical_bytes: int = 0
    apparent_bytes: int = 0
    exclusive_bytes: int = 0
    exclusive_by_inodes_bytes: int | None = optional()  # beside extent figures (btrfs, XFS)
    marginal_bytes: int = 0
    marginal_by_inodes_bytes: int | None = optional()
    unique_physical_bytes: int | None = optional()  # older scans lack the extent figures
    shared_extent_bytes: int | None = optional()
    extents: str | None = optional()  # how extents were known: "fiemap", or why not
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    others: int = 0
    exclusive_inodes: int | None = optional()
    inodes: int | None = optional()  # each inode of the root once; older scans lack it
    links: Links = field(default_factory=Links, metadata={"nested": ("one", Links)})
    errors: list = field(default_factory=list)
    scope: str = ""

    @property
    def is_project(self) -> bool:
        return self.scope not in NOT_PROJECTS

    @property
    def unique(self) -> int:
        """What it occupies: the union of its extents where known (a clone once), else its inodes."""
        return self.unique_physical_bytes or self.physical_bytes


@dataclass
class GroupFigures(Record):
    """What one project group's roots hold (total.groups; sandbox/scan.py's group_figures)."""

    roots: int = 0
    physical_bytes: int = 0
    marginal_bytes: int = 0
    shared_bytes: int = 0
    shared_with: dict[str, int] = field(default_factory=dict)


@dataclass
class DistInGroup(Record):
    """One distribution's figures within one project group."""

    envs: int = 0
    installed_bytes: int = 0
    physical_bytes: int = 0


@dataclass
class ScannedDist(Record):
    """One distribution release over the envs that hold it (sandbox/dists.py)."""

    name: str = ""
    version: str = ""
    envs: int = 0
    installed_bytes: int = 0
    naive_bytes: int = 0
    physical_bytes: int = 0
    linked_out_bytes: int = 0
    groups: dict[str, DistInGroup] = nested("dict", DistInGroup, optional_key=True)
    cross_group_bytes: int | None = optional()  # where the scan was given groups


@dataclass
class CondaDist(Record):
    """One conda package over the prefixes that hold it (sandbox/dists.py); None: a scan before
    that figure was recorded."""

    name: str = ""
    version: str = ""
    envs: int = 0
    files: int | None = optional()
    installed_bytes: int | None = optional()
    prefix_files: int | None = optional()
    prefix_bytes: int | None = optional()
    linked_files: int | None = optional()
    linked_bytes: int | None = optional()
    physical_bytes: int | None = optional()
    linked_out_bytes: int | None = optional()


@dataclass
class DiskTotal(Record):
    """Every root together, each inode (and with extents, each extent) once."""

    physical_bytes: int = 0
    apparent_bytes: int = 0
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    others: int = 0
    inodes: int | None = optional()
    exclusive_bytes: int = 0
    hardlinked_files: int = 0
    single_files: int = 0
    naive_bytes: int = 0
    sharing_ratio: float | None = None
    unique_physical_bytes: int | None = optional()
    shared_extent_bytes: int | None = optional()
    groups: dict[str, GroupFigures] = nested("dict", GroupFigures, optional_key=True)  # where groups were given
    cross_group_bytes: int | None = optional()

    @property
    def unique(self) -> int:
        """What the trees occupy: the union of their extents where known, else the inodes."""
        return self.unique_physical_bytes or self.physical_bytes


@dataclass
class DiskReport(Record):
    """The scanner's report of one unit's trees."""

    schema: int = 1
    total: DiskTotal = field(default_factory=DiskTotal, metadata={"nested": ("one", DiskTotal)})
    roots: list[DiskRoot] = nested("list", DiskRoot)
    errors: list = field(default_factory=list)
    packages: list[ScannedDist] | None = optional(nested=("list", ScannedDist))  # growth scans have none
    conda_packages: list[CondaDist] | None = optional(nested=("list", CondaDist))

    def project_roots(self) -> list[DiskRoot]:
        """The roots that are project folders (not the cache or HOME)."""
        return [r for r in self.roots if r.is_project]

    def scoped(self, scope: str) -> list[DiskRoot]:
        return [r for r in self.roots if r.scope == scope]

    def cache_bytes(self, unique: bool = False) -> int:
        """The cache's roots together (each root's extents once with UNIQUE)."""
        return sum(r.unique if unique else r.physical_bytes for r in self.scoped("cache"))


@dataclass
class Deleted(Record):
    """The last project deleted on a private file system: what statvfs saw freed, beside the scan's
    prediction (its exclusive bytes) and the file system's own metadata it freed."""

    project: str = ""
    freed_bytes: int = 0
    predicted_bytes: int = 0
    metadata_bytes: int | None = None


@dataclass
class CellSpent(Record):
    """What one cell of the time matrix spent, by statvfs."""

    project: str = ""
    state: str = ""
    repetition: int = 0
    spent_bytes: int = 0


@dataclass
class Statvfs(Record):
    """A private file system's own count of bytes (harness/run/filesystems.py): at the start, per
    cell, for the fleet, and for one project deleted."""

    start_bytes: int = 0
    start_metadata_bytes: int | None = optional()
    cells: list[CellSpent] = nested("list", CellSpent, optional_key=True)
    fleet_bytes: int | None = optional()
    fleet_metadata_bytes: int | None = optional()
    delete: Deleted | None = one(Deleted)


@dataclass
class GrowthPoint(Record):
    """The disk after the first `projects` projects (a checkpoint), the cache apart."""

    projects: int = 0
    physical_bytes: int = 0
    apparent_bytes: int = 0
    naive_bytes: int = 0
    files: int = 0
    cache_physical_bytes: int = 0
    unique_physical_bytes: int | None = optional()  # btrfs, XFS: the extents' union; older points lack it

    @property
    def unique(self) -> int:
        """Its bytes: the extents' union where the scan had them (btrfs, XFS), else the inodes'."""
        return self.unique_physical_bytes or self.physical_bytes

    @classmethod
    def of(cls, projects: int, report: DiskReport) -> GrowthPoint:
        total = report.total
        return cls(projects=projects, physical_bytes=total.physical_bytes, apparent_bytes=total.apparent_bytes,
                   naive_bytes=total.naive_bytes, files=total.files, cache_physical_bytes=report.cache_bytes(),
                   unique_physical_bytes=total.unique_physical_bytes)  # fmt: skip


@dataclass
class CacheCommand(Record):
    """One of a tool's cache commands run after the fleet: what it said it removed, what the file
    system freed (statvfs: on a private file system only, else None) and what the scan predicted
    (the cache's exclusive bytes before the command less after it)."""

    command: str = ""
    exit_code: int = 0
    wall_s: float = 0.0
    said: str = ""
    said_files: int | None = None
    said_bytes: int | None = None
    freed_bytes: int | None = None
    predicted_bytes: int = 0
    cache_bytes_before: int = 0  # the cache's physical bytes (each inode once)
    cache_bytes_after: int = 0
    cache_inodes_before: int | None = None
    cache_inodes_after: int | None = None


@dataclass
class CacheCheck(Record):
    """After the fleet: half the projects deleted, the tool's cache commands run, the other envs
    proved again (harness/run/cachecheck.py). `survived`: project -> proved again."""

    deleted: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    commands: list[CacheCommand] = nested("list", CacheCommand)
    survived: dict = field(default_factory=dict)
    faults: dict = field(default_factory=dict)  # project -> why its env is no longer what was asked
    note: str | None = optional()  # why no command ran

    @property
    def verdict(self) -> str:
        """survived | broken | partly (some envs) | not checked."""
        if not self.survived:
            return "not checked"
        kept = sum(self.survived.values())
        return "survived" if kept == len(self.survived) else "broken" if kept == 0 else "partly"
