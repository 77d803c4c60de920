"""What each step asked of the index: requests answered and bytes sent, from the mirror's access
log (harness/backends/web.py). A locker that reads PEP 658 metadata fetches kilobytes where one
that reads wheels fetches their megabytes."""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from harness.record.model import Run
from harness.report.table import Table, mib

TRAFFIC_LEGEND = """Medians over the repetitions and projects of each state. **requests**: answers the
index server sent during the step (pages, metadata files, files, 304s); **MiB fetched**: their bytes,
headers included, as they left the server (over HTTPS: before encryption). Steps of runs whose
server logs no sizes (pypiserver, the local backend) are not counted."""


def traffic_table(run: Run) -> Table | None:
    """Per tool, layout, state and operation: the median requests and bytes of its steps."""
    groups = defaultdict(list)
    for tool, layout, unit in run.units():
        for step in unit.steps:
            if step.requests is not None and step.ok:
                groups[(tool, layout, step.state, step.operation)].append(step)
    if not groups:
        return None
    rows = [
        (tool, layout, state, operation, str(len(steps)), f"{median(s.requests for s in steps):,.0f}",
         mib(median(s.fetched_bytes for s in steps)))
        for (tool, layout, state, operation), steps in groups.items()
    ]  # fmt: skip
    headers = ("tool", "layout", "state", "operation", "steps", "requests", "MiB fetched")
    return Table.of("What each step fetched from the index", headers, rows, TRAFFIC_LEGEND, index_line(run))


def index_line(run: Run) -> str:
    """What served the mirror and which parts of PyPI's API it speaks."""
    server = (run.mirror.server if run.mirror else None) or {}
    if not server:
        return "Index: not recorded (runs before 2026-12-07 served pypiserver: PEP 503 HTML over plain HTTP)."
    pages = f", pages by {server['pages']}" if server.get("pages") else ""
    return f"Index: {server['server']}{pages}; speaks {', '.join(server.get('features', []))}."
