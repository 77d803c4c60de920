"""report.html: one self-contained page (charts inlined as SVG, CSS inline, no script, no font or
file from the network), readable from file://. The answer first, then the charts, the tables,
the claims verdicts, the machine and engine facts, and how to reproduce the run.
"""

from __future__ import annotations

import html
import posixpath
import re
import shlex
from urllib.parse import unquote, urlparse

from markdown_it import MarkdownIt

from harness.record.facts import Part
from harness.record.model import Run
from harness.report.answer import answers
from harness.report.charts import Chart
from harness.report.claims import Verdict, show
from harness.report.stats import GIB
from harness.report.table import Table
from harness.settings.sources import index_variable

# Raw HTML in legends or data is shown as text, never interpreted.
_MD = MarkdownIt("commonmark", {"html": False})

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.lead { font-size: 1.15rem; background: #f3f7fb; border-left: 4px solid #2c6fbb; padding: .6rem 1rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: right; vertical-align: top; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
td { white-space: nowrap; } td.text { text-align: left; max-width: 36rem; white-space: normal; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1rem 0 2rem; } figcaption { color: #555; font-size: .9rem; }
figure svg { max-width: 100%; height: auto; }
.legend { color: #444; font-size: .88rem; } code, pre { background: #f4f4f4; }
pre { padding: .6rem; overflow-x: auto; }
.confirmed { color: #176f2c; font-weight: 600; } .refuted { color: #b3261e; font-weight: 600; }
.differs-in-conditions { color: #7a4f00; font-weight: 600; }
.not-measured { color: #8a6d00; font-weight: 600; }
"""

_NUMERIC = re.compile(r"^[-+]?[\d,.]+( ± [\d,.]+)?( ⚠)?( \(n=\d+\))?$|^\d+/\d+$|^n/a$|^-$")


def _md(text: str) -> str:
    return _MD.render(text) if text.strip() else ""


def _cell(text: str, tag: str = "td") -> str:
    classes = "" if tag == "th" or _NUMERIC.match(text) else ' class="text"'
    return f"<{tag}{classes}>{html.escape(text)}</{tag}>"


def table_html(table: Table, level: int = 2, anchor: str = "") -> str:
    ident = f' id="{anchor}"' if anchor else ""
    head = "".join(_cell(h, "th") for h in table.headers)
    body = "\n".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows)
    return (
        f"<section{ident}><h{level}>{html.escape(table.title)}</h{level}>\n{_md(table.intro)}"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>\n'
        f'<div class="legend">{_md(table.legend)}</div></section>'
    )


def _inline_svg(chart: Chart) -> str:
    """The chart's SVG without its XML declaration and DOCTYPE, its element ids (matplotlib
    numbers them per figure: figure_1, patch_1, ...) prefixed with the chart's name so that
    several charts inlined in one page never share one."""
    text = chart.svg.read_text(encoding="utf-8")
    text = text[text.index("<svg") :]
    prefix = f"{chart.name}-"
    text = re.sub(r'\bid="', f'id="{prefix}', text)
    text = re.sub(r"url\(#", f"url(#{prefix}", text)
    return re.sub(r'href="#', f'href="#{prefix}', text)


def headline(run: Run) -> str:
    """One sentence a reader takes away: cheapest and costliest fleet on disk, fastest warm env."""
    measured = [a for a in answers(run) if a.measured]
    projects = len(run.projects)
    if not measured:
        return f"No tool made and proved all {projects} envs of this run: nothing to compare (see Failures)."
    low, high = measured[0].summary, measured[-1].summary
    text = f"For {projects} projects, {low.tool} needs {low.total_bytes / GIB:,.2f} GiB in all"
    if high is not low:
        text += f"; {high.tool} needs {high.total_bytes / GIB:,.2f} GiB ({high.total_bytes / low.total_bytes:,.1f}× as much)"
    timed = [a.summary for a in measured if a.summary.warm is not None]
    if timed:
        fast = min(timed, key=lambda s: s.warm.mean())
        text += f". Fastest ready env with a warm cache: {fast.tool}, {fast.warm.mean():.2f} s"
    return text + "."


def claims_html(verdicts: list[Verdict]) -> str:
    if not verdicts:
        return ""
    rows = []
    for v in verdicts:
        css = v.verdict.replace(" ", "-")
        rows.append(
            "<tr>" + _cell(v.claim["id"]) + _cell(str(v.source.get("title", ""))) + _cell(v.stated)
            + _cell(f"“{v.claim['quote']}”") + _cell(str(v.claim["published"])) + _cell(show(v.measured)) + _cell(show(v.ratio))
            + f'<td class="text {css}">{html.escape(v.verdict)}</td>' + _cell(v.explained(runs=False)) + "</tr>"
        )  # fmt: skip
    head = "".join(_cell(h, "th") for h in ("claim", "source", "source's conditions", "quoted", "published", "measured",
                                             "measured / published", "verdict", "why"))  # fmt: skip
    return (
        '<section id="claims"><h2>Published claims, checked on this run</h2>'
        "<p>Claims that need this run's scenario (claims/*.yaml), judged on this run alone; "
        "`envbench verify` judges them over every run.</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _facts(run: Run) -> str:
    parts = run.parts or [Part(run_id=run.run_id, machine=run.machine, backend=run.backend, tools=list(run.tools))]
    blocks = []
    for part in parts:
        rows = [("tools", ", ".join(part.tools))]
        rows += [(f"machine: {k}", str(v)) for k, v in part.machine.items()]
        rows += [(f"backend: {k}", str(v)) for k, v in part.backend.items() if not isinstance(v, (dict, list))]
        body = "".join(f"<tr>{_cell(k)}{_cell(v)}</tr>" for k, v in rows)
        blocks.append(f"<h3>{html.escape(part.run_id)}</h3><table><tbody>{body}</tbody></table>")
    return '<section id="facts"><h2>Machine and engine</h2>' + "".join(blocks) + "</section>"


def _local_folders(run: Run) -> dict[str, set[str]]:
    """Index -> local folders its files came from. A named index served from a folder was set by
    ENVBENCH_INDEX_<NAME>; PyPI's files from a folder came from this host's pip find-links."""
    found: dict[str, set[str]] = {}
    for f in run.mirror.files if run.mirror else []:
        if f.url.startswith("file://"):
            found.setdefault(f.index, set()).add(posixpath.dirname(unquote(urlparse(f.url).path)))
    return found


def _reproduce(run: Run, run_dir: str) -> str:
    folders = _local_folders(run)
    named = {index: sorted(found)[0] for index, found in folders.items() if index != "pypi"}
    env = " ".join(f"{index_variable(index)}={shlex.quote(folder)}" for index, folder in sorted(named.items()))
    runs = [p.command for p in run.parts] or [run.command]
    commands = [f"{env} {shlex.join(c)}".strip() for c in runs]
    if run.parts:
        commands.append(shlex.join(run.command))
    mirror = run.mirror
    note = ""
    if mirror and mirror.folder:
        resolved = mirror.resolved_at if "resolved_at" in mirror.present or mirror.resolved_at else "-"
        note = (f"<p>Packages came from the local mirror {html.escape(str(mirror.folder))} "
                f"({len(mirror.files)} files, resolved {html.escape(str(resolved))}; "
                "closure.json lists each file's sha256).</p>")  # fmt: skip
    if folders.get("pypi"):
        note += (f"<p>Some PyPI files came from this host's pip find-links folders "
                 f"({html.escape(', '.join(sorted(folders['pypi'])))}; <code>pip config list</code>).</p>")  # fmt: skip
    steps = "\n".join(html.escape(c) for c in [*commands, f"envbench report {run_dir}"])
    return (
        '<section id="reproduce"><h2>How to reproduce</h2>'
        f"<pre>{steps}</pre>{note}"
        "<p><code>ENVBENCH_INDEX_&lt;NAME&gt;=FOLDER</code> serves a named index from a folder of wheels where the "
        "index is unreachable (README, “The local package mirror”).</p></section>"
    )


def report_html(run: Run, tables: list[Table], charts: list[Chart], verdicts: list[Verdict], run_dir: str = "RUN_DIR") -> str:
    scenario = run.scenario
    answer, rest = tables[0], tables[1:]
    figures = "\n".join(
        f'<figure id="chart-{c.name}">{_inline_svg(c)}<figcaption>{html.escape(c.title)} '
        f"(charts/{c.name}.png, charts/{c.name}.svg)</figcaption></figure>"
        for c in charts
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>envbench · {html.escape(scenario.name)} · {html.escape(run.run_id)}</title>
<style>{STYLE}</style></head>
<body>
<header><h1>envbench: {html.escape(scenario.name)}</h1>
<p>Run {html.escape(run.run_id)} · {len(scenario.projects)} projects · Python {html.escape(scenario.python)} ·
status {html.escape(run.status)} · {html.escape(str(run.started))} – {html.escape(str(run.finished))}</p>
<p>{html.escape(scenario.description.strip())}</p></header>
<p class="lead">{html.escape(headline(run))}</p>
{table_html(answer, anchor="answer")}
<section id="charts"><h2>Charts</h2>{figures or "<p>No chart: no tool was measured.</p>"}</section>
{"".join(table_html(t) for t in rest)}
{claims_html(verdicts)}
{_facts(run)}
{_reproduce(run, run_dir)}
</body></html>
"""
