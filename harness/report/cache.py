"""What cleaning a tool's cache did (scenario key clean_cache; harness/run/cachecheck.py): the tool's
words beside what the file system freed and what the scan predicted, and whether the envs left
still work."""

from __future__ import annotations

from harness.record.model import Run
from harness.report.table import Table, mib

SAID_LEGEND = """After the fleet, the later half of the projects was deleted, then each command ran
alone on the cache the fleet filled. **said**: the line it printed; **said MiB**: the size in it
(— where it names none); **freed MiB**: what the file system's own count (statvfs) went down by,
on the tool's private file system (— elsewhere: a shared disk's count says nothing of one
command); **predicted MiB**: the cache's exclusive bytes (what no env still links to) before the
command less after it; **cache MiB**: the cache's bytes before → after, each inode once;
**inodes**: the cache's inodes before → after."""

SURVIVAL_LEGEND = """The envs left after the cache commands, proved again as after the fleet
(installed set, every RECORD file, imports). A hard link or a copy keeps the file when the cache
lets go of it; a symbolic link does not, unless the tool keeps what an env still refers to."""


def _said_mib(value: int | None) -> str:
    return "—" if value is None else mib(value)


def said_table(run: Run) -> Table | None:
    rows = []
    for tool, layout, unit in run.units():
        check = unit.cache_check
        if check is None:
            continue
        if not check.commands:
            rows.append((tool, layout, check.note or "no command", "", "", "", "", "", ""))
        for c in check.commands:
            fault = "" if c.exit_code == 0 else f" (exit {c.exit_code})"
            inodes = f"{c.cache_inodes_before:,} → {c.cache_inodes_after:,}" if c.cache_inodes_before is not None else "—"
            rows.append((tool, layout, f"`{c.command.split('/')[-1]}`{fault}", c.said or "(nothing)", _said_mib(c.said_bytes),
                         _said_mib(c.freed_bytes), mib(c.predicted_bytes),
                         f"{mib(c.cache_bytes_before)} → {mib(c.cache_bytes_after)}", inodes))  # fmt: skip
    if not rows:
        return None
    headers = ("tool", "layout", "command", "said", "said MiB", "freed MiB", "predicted MiB", "cache MiB", "inodes")
    return Table.of("Cache commands: said vs freed", headers, rows, SAID_LEGEND)


def survival_table(run: Run) -> Table | None:
    rows = []
    for tool, layout, unit in run.units():
        check = unit.cache_check
        if check is None:
            continue
        commands = ", ".join(f"`{c.command.split('/')[-1]}`" for c in check.commands) or "none"
        kept = sum(check.survived.values())
        why = next(iter(check.faults.values()), [""])[0][:160]
        rows.append((tool, layout, unit.link_mode or "—", commands, check.verdict, f"{kept}/{len(check.survived)}", why))
    if not rows:
        return None
    headers = ("tool", "layout", "link mode", "after", "envs", "proved again", "first fault")
    return Table.of("Does the env survive its cache?", headers, rows, SURVIVAL_LEGEND)


def survival_of(run: Run, tool: str, layout: str) -> str | None:
    """'yes', 'no' or 'partly' for TOOL's envs in LAYOUT after its cache commands; None if not checked."""
    for name, where, unit in run.units():
        if (name, where) == (tool, layout) and unit.cache_check and unit.cache_check.survived:
            return {"survived": "yes", "broken": "no"}.get(unit.cache_check.verdict, "partly")
    return None


def base_of(run: Run) -> dict[str, str]:
    """Each tool of the run -> the tool it is a variant of (itself for a base tool)."""
    return {name: (info.variant or {}).get("of", name) for name, info in run.tools.items()}
