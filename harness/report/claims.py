"""Published claims checked against runs: confirmed, refuted or not measured, and why.

A claims file (claims/*.yaml) names its source and lists claims; each claim has an
id, the quoted words, the published figure, the scenario it needs, a `measure` over named
run.json metrics and an `expect` with its tolerance:

    measure: {metric: env_mib, tool: uv}                       # one figure of one tool
    measure: {ratio: [{metric: time, tool: poetry, state: warm+locked, operation: install},
                      {metric: time, tool: uv-project, state: warm+locked, operation: install}]}
    expect: {at_least: 2} | {at_most: 0.05} | {between: [2, 6]} | {near: 17.1, factor: 2}
            | {descending: true}                               # with measure: {order: [metric, ...]}
    figure: 17.1        # optional: the published number the measured one is set against (ratio column)
    source: {...}       # optional: this claim's own source, when it is not the file's

Times are compared only as ratios between tools of one run; disk figures do not depend on the
machine and may come from any run of the scenario. A claim is never confirmed on missing data:
a tool that did not run, did not prove every env, or a scenario not among the runs gives
`not measured` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.record import conditions
from harness.record.model import Run
from harness.report.claim_metrics import METRICS, TIMES, NotMeasured
from harness.tools.conda_names import STAND_IN


@dataclass(frozen=True)
class Verdict:
    claim: dict
    source: dict
    measured: float | str | None
    verdict: str  # confirmed | refuted | differs in conditions | not measured
    why: str
    runs: tuple[str, ...] = ()
    differs: tuple[str, ...] = ()  # the source's conditions the run does not meet
    named: tuple[str, ...] = ()  # other differences, named only (versions, Python, machines)

    def explained(self, runs: bool = True) -> str:
        """The why, with what differs from the source's conditions (and the runs used)."""
        why = self.why.rstrip() + ("." if self.why.strip() and not self.why.rstrip().endswith(".") else "")
        why += f" Differs: {'; '.join(self.differs)}." if self.differs else ""
        why += f" Also: {'; '.join(self.named)}." if self.named else ""
        return why + (f" (runs: {', '.join(self.runs)})" if runs and self.runs else "")

    @property
    def stated(self) -> str:
        """The source's conditions, in a line."""
        return conditions_text(stated_conditions(self.claim, self.source))

    @property
    def ratio(self) -> float | None:
        """The measured figure over the published one, where both are numbers."""
        figure = self.claim.get("figure")
        if isinstance(self.measured, (int, float)) and isinstance(figure, (int, float)) and figure:
            return self.measured / figure
        return None


# -- evaluating a claim -----------------------------------------------------------------------
def fullness(run: Run) -> tuple:
    """How fully a run measured its scenario: projects, then repetitions, then tools that ran."""
    measured = sum(info.status == "ok" for info in run.tools.values())
    return len(run.projects), run.scenario.repetitions or 0, measured, run.finished or ""


def _runs_of(runs: list[Run], scenario: str, stated: dict | None = None, kind: str = "disk") -> list[Run]:
    """The runs of SCENARIO, those that meet most of the STATED conditions first, then the
    fullest (newest among equals): a figure comes from the run closest to its source's setup,
    never from a narrower experiment because it is newer (a harness-time run of two tools, one
    repetition; a scenario cut to two projects)."""
    found = [r for r in runs if r.scenario.name == scenario]
    if not found:
        raise NotMeasured(f"no run of scenario {scenario} among the runs given")
    by_fullness = sorted(found, key=fullness, reverse=True)
    return sorted(by_fullness, key=lambda run: len(conditions.differences(stated or {}, run, kind)[0]))


def kind_of(spec: dict) -> str:
    """time: the claim's figure is a time ratio (network, index, cache move it); disk otherwise."""
    items = spec.get("ratio") or spec.get("order") or [spec]
    return "time" if any(item.get("metric") in TIMES for item in items) else "disk"


def stated_conditions(claim: dict, source: dict) -> dict:
    """The conditions a claim's figure was measured under: its own where it states them (a
    headline of a README is not measured under its benchmark's setup), else its source's."""
    own = claim.get("conditions")
    return own if own is not None else (claim.get("source") or source).get("conditions") or {}


def _one(runs: list[Run], spec: dict) -> tuple[float | str, str]:
    """A metric's value from the first run that has it, and that run's id."""
    reasons = []
    for run in runs:
        try:
            return METRICS[spec["metric"]](run, **spec), run.run_id
        except NotMeasured as exc:
            reasons.append(str(exc))
    raise NotMeasured("; ".join(dict.fromkeys(reasons)))


def measure(runs: list[Run], spec: dict) -> tuple[float | str | list, tuple[str, ...]]:
    if "metric" in spec:
        value, run_id = _one(runs, spec)
        return value, (run_id,)
    if "ratio" in spec:
        top, bottom = spec["ratio"]
        if {top["metric"], bottom["metric"]} & TIMES:
            reasons = []
            for run in runs:  # times from one run only: both tools measured side by side
                try:
                    a, b = METRICS[top["metric"]](run, **top), METRICS[bottom["metric"]](run, **bottom)
                    return a / b, (run.run_id,)
                except NotMeasured as exc:
                    reasons.append(str(exc))
            raise NotMeasured("; ".join(dict.fromkeys(reasons)))
        (a, run_a), (b, run_b) = _one(runs, top), _one(runs, bottom)
        return a / b, tuple(dict.fromkeys((run_a, run_b)))
    if "order" in spec:
        values = [_one(runs, item) for item in spec["order"]]
        return [v for v, _ in values], tuple(dict.fromkeys(r for _, r in values))
    raise ValueError(f"unknown measure {spec}")


def expectation_holds(value, expect: dict) -> bool:
    if "at_least" in expect:
        return value >= expect["at_least"]
    if "at_most" in expect:
        return value <= expect["at_most"]
    if "between" in expect:
        low, high = expect["between"]
        return low <= value <= high
    if "near" in expect:
        factor = expect.get("factor", 1.5)
        return expect["near"] / factor <= value <= expect["near"] * factor
    if "descending" in expect:
        return all(a > b for a, b in zip(value, value[1:], strict=False))
    raise ValueError(f"unknown expectation {expect}")


def verify(claim: dict, source: dict, runs: list[Run]) -> Verdict:
    source = claim.get("source", source)
    if claim.get("not_measurable"):
        return Verdict(claim, source, None, "not measured", claim["not_measurable"])
    stated, kind = stated_conditions(claim, source), kind_of(claim["measure"])
    try:
        chosen = _runs_of(runs, claim["scenario"], stated, kind)
    except NotMeasured as exc:
        return Verdict(claim, source, None, "not measured", str(exc))
    try:
        value, used = measure(chosen, claim["measure"])
    except NotMeasured as exc:
        if claim.get("stand_in"):
            return _on_stand_in(claim, source, chosen, str(exc))
        return Verdict(claim, source, None, "not measured", str(exc))
    holds = expectation_holds(value, claim["expect"])
    run = next(r for r in chosen if r.run_id == used[0])
    differs, named = conditions.differences(stated, run, kind)
    named = [*named, *_stand_ins(run, claim["measure"])]
    if differs:  # refuted only where the source's conditions are met: here, what it would say
        why = f"{'holds' if holds else 'does not hold'} under this run's conditions; " + claim.get("why", "")
        return Verdict(claim, source, value, "differs in conditions", why, used, tuple(differs), tuple(named))
    return Verdict(claim, source, value, "confirmed" if holds else "refuted", claim.get("why", ""), used, (), tuple(named))


def _stand_ins(run: Run, spec) -> list[str]:
    """Each tool SPEC names that is a stand-in in RUN (nix: packages from wheels), said beside the verdict."""
    if isinstance(spec, list):
        return list(dict.fromkeys(named for item in spec for named in _stand_ins(run, item)))
    info = run.tools.get(spec.get("tool", "")) if isinstance(spec, dict) else None
    own = [f"{spec['tool']} is a stand-in, {info.stand_in}"] if info and info.stand_in else []
    return own + _stand_ins(run, [v for k, v in spec.items() if k != "tool"]) if isinstance(spec, dict) else own


def _with_tools(spec, tools: dict[str, str]):
    """SPEC with each tool named in TOOLS replaced by its stand-in."""
    if isinstance(spec, dict):
        return {k: (tools.get(v, v) if k == "tool" else _with_tools(v, tools)) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_with_tools(item, tools) for item in spec]
    return spec


def _on_stand_in(claim: dict, source: dict, runs: list[Run], reason: str) -> Verdict:
    """A claim about a tool that cannot run here, measured on its stand-in (rattler on the
    converted channel for conda and pixi): still `not measured`, the stand-in's figure and what
    it would say given in the why, with why a stand-in cannot settle it."""
    stand_in = claim["stand_in"]
    spec = _with_tools(claim["measure"], dict.fromkeys(stand_in["for"], stand_in["tool"]))
    try:
        value, used = measure(runs, spec)
    except NotMeasured as exc:
        return Verdict(claim, source, None, "not measured", f"{reason}; its stand-in {stand_in['tool']}: {exc}")
    would = "confirm" if expectation_holds(value, claim["expect"]) else "refute"
    why = (f"{reason}. On the stand-in, {stand_in['tool']} ({STAND_IN}): {show(value)}, which would {would} it; "
           f"a stand-in cannot settle it: {stand_in['why']}")  # fmt: skip
    return Verdict(claim, source, None, "not measured", why, used)


# -- files and the table ----------------------------------------------------------------------
CLAIM_KEYS = {"id", "quote", "published", "figure", "scenario", "measure", "expect", "not_measurable", "why", "note", "source",
              "stand_in", "conditions"}  # fmt: skip
EXPECTATIONS = {"at_least", "at_most", "between", "near", "descending"}


class ClaimsError(Exception):
    """A claims file that cannot be read: FILE: field: what is wrong."""


def _check_measure(path: Path, i: int, claim: dict) -> None:
    where = f"{path}: claims[{i}] ({claim['id']})"
    if "not_measurable" in claim:
        return
    expect, spec = claim["expect"], claim["measure"]
    if not isinstance(expect, dict) or len(set(expect) & EXPECTATIONS) != 1:
        raise ClaimsError(f"{where}: expect: one of {', '.join(sorted(EXPECTATIONS))}")
    items = spec.get("ratio") or spec.get("order") or [spec] if isinstance(spec, dict) else None
    if not items or ("ratio" in spec and len(items) != 2):
        raise ClaimsError(f"{where}: measure: {{metric: ...}}, {{ratio: [a, b]}} or {{order: [...]}}")
    for item in items:
        if not isinstance(item, dict) or item.get("metric") not in METRICS:
            metric = item.get("metric") if isinstance(item, dict) else item
            raise ClaimsError(f"{where}: measure: unknown metric {metric} (known: {', '.join(METRICS)})")
        if "tool" not in item:
            raise ClaimsError(f"{where}: measure: {item['metric']} names no tool")


def load_claims(path: Path) -> tuple[dict, list[dict]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ClaimsError(f"{path}: not a readable YAML file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("source"), dict) or not isinstance(data.get("claims"), list):
        raise ClaimsError(f"{path}: must hold `source` (title, url, date) and a list `claims`")
    for key in ("title", "url", "date", "conditions"):
        if key not in data["source"]:
            hint = " (what the source measured under; `stated:` quotes where it says so, or that it does not)"
            raise ClaimsError(f"{path}: source.{key}: missing" + (hint if key == "conditions" else ""))
    _check_conditions(f"{path}: source.conditions", data["source"]["conditions"])
    for i, claim in enumerate(data["claims"]):
        unknown = set(claim) - CLAIM_KEYS
        missing = {"id", "quote", "published", "scenario"} - set(claim)
        if unknown or missing:
            what = f"unknown key {sorted(unknown)[0]}" if unknown else f"missing {sorted(missing)[0]}"
            raise ClaimsError(f"{path}: claims[{i}]: {what}")
        if "not_measurable" not in claim and not {"measure", "expect"} <= set(claim):
            raise ClaimsError(f"{path}: claims[{i}] ({claim['id']}): needs measure and expect, or not_measurable")
        _check_measure(path, i, claim)
        if "conditions" in claim:
            _check_conditions(f"{path}: claims[{i}] ({claim['id']}): conditions", claim["conditions"])
        elif isinstance(claim.get("source"), dict):
            if "conditions" not in claim["source"]:
                raise ClaimsError(f"{path}: claims[{i}] ({claim['id']}): source.conditions: missing")
            _check_conditions(f"{path}: claims[{i}] ({claim['id']}): source.conditions", claim["source"]["conditions"])
    return data["source"], data["claims"]


def _check_conditions(where: str, stated) -> None:
    if not isinstance(stated, dict):
        raise ClaimsError(f"{where}: a mapping of {', '.join(sorted(conditions.KEYS))}")
    for key, value in stated.items():
        if key not in conditions.KEYS:
            raise ClaimsError(f"{where}: unknown condition {key} (known: {', '.join(sorted(conditions.KEYS))})")
        if key in conditions.VALUES and value not in conditions.VALUES[key]:
            raise ClaimsError(f"{where}: {key}: {value!r} is not one of {', '.join(sorted(conditions.VALUES[key]))}")
        if key == "versions" and not isinstance(value, dict):
            raise ClaimsError(f"{where}: versions: a mapping of tool to version")


def show(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return " > ".join(show(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


VERDICTS = ("confirmed", "refuted", "differs in conditions", "not measured")


def conditions_text(stated: dict) -> str:
    """A source's conditions in a line: the named ones, then its own words."""
    named = [f"{key} {value}" if key != "versions" else "versions " + ", ".join(f"{t} {v}" for t, v in value.items())
             for key, value in stated.items() if key != "stated"]  # fmt: skip
    return "; ".join(named) + (f" ({stated['stated']})" if stated.get("stated") else "") if stated else "none stated"


def counts_line(verdicts: list[Verdict]) -> str:
    counts = {v: sum(1 for x in verdicts if x.verdict == v) for v in VERDICTS}
    return f"{len(verdicts)} claims: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + "."


def markdown(verdicts: list[Verdict]) -> str:
    lines = [
        "# Published claims, checked",
        "",
        f"{counts_line(verdicts)} Times are ratios between tools of one run; disk is bytes. A claim is refuted only "
        "where the run meets the conditions its source states; otherwise its verdict is “differs in conditions”, "
        "with the measured figure and what differs.",
        "",
        "| claim | source | source's conditions | quoted | published | measured | measured / published | verdict | why / runs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        title = str(v.source["title"]).replace("|", "\\|")
        url = str(v.source["url"])
        source = f"[{title}]({url}) ({v.source['date']})" if url.startswith("http") else f"{title} {url} ({v.source['date']})"
        quote = str(v.claim["quote"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {v.claim['id']} | {source} | {v.stated.replace('|', '/')} | “{quote}” | {v.claim['published']} | "
                     f"{show(v.measured)} | {show(v.ratio)} | **{v.verdict}** | {v.explained().replace('|', '/')} |")  # fmt: skip
    notes = [v for v in verdicts if v.claim.get("note")]
    if notes:
        lines += ["", "Notes:", ""] + [f"- **{v.claim['id']}**: {v.claim['note']}" for v in notes]
    return "\n".join(lines) + "\n"


CLAIMS = Path("claims")  # published claims are inputs: claims/*.yaml in the folder envbench runs in


def published_files(folder: Path = CLAIMS) -> list[Path]:
    """claims/*.yaml under the current folder (the repository's root); [] where there is none."""
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def verdicts_for_run(run: Run, claim_files: list[Path]) -> list[Verdict]:
    """The claims that need this run's scenario, judged on this run alone (report.html)."""
    verdicts = []
    for path in claim_files:
        source, claims = load_claims(path)
        verdicts += [verify(claim, source, [run]) for claim in claims if claim.get("scenario") == run.scenario.name]
    return verdicts


def verify_all(claim_files: list[Path], runs: list[Run]) -> list[Verdict]:
    verdicts = []
    for path in claim_files:
        source, claims = load_claims(path)
        verdicts += [verify(claim, source, runs) for claim in claims]
    return verdicts


__all__ = ["ClaimsError", "Verdict", "markdown", "published_files", "verdicts_for_run", "verify_all"]
