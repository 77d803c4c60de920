"""Is an env what the tool was asked to make? The judgement over one probe (harness/sandbox/probe.py).

An env is proved when the tool installed what was asked and locked, exactly:
- every requested distribution is installed;
- with the mirror, every release of the project's install set (closure.json) is installed at
  that version, and a wheel's files are the mirror's wheel's (the digest of their RECORD
  hashes), and no package the mirror serves is installed at a release it does not serve (a
  package the env was seeded with that satisfies the project's own request on it excepted);
- every file each of those distributions' RECORD lists is there with its hash.
That shows a tool installed the env, and it is stronger than an import. Imports are still tried;
an import that fails in an env proved so is the package's own need (a module it does not
declare, Qt bindings nobody asked for), the same with every tool: it is recorded against the
package, never against the tool. A tool that installed something else, or nothing, fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.record.model import Mirror

# What `python -m venv` (and virtualenv) put in an env before any tool installs: a project that
# asks for one of them (Home Assistant asks for pip>=21.3.1) is served by the seeded copy when
# it satisfies the request, as pip leaves a satisfied requirement alone; the mirror's newer
# release is then not installed, and that is not the tool's fault.
SEEDS = frozenset({"pip", "setuptools", "wheel"})


def _seed_kept(name: str, found: str, dependencies, requests: list[str]) -> str | None:
    """Why a seeded NAME at version FOUND serves what asks for it, else None: the project's own
    dependencies on it, or (REQUESTS, "requester: line" from the probe) the env's packages' own
    (tensorflow asks for setuptools; pip keeps the seeded one that satisfies it)."""
    if name not in SEEDS:
        return None
    asked = [Requirement(text) for text in dependencies if canonicalize_name(Requirement(text).name) == name]
    by = [(who, Requirement(line)) for who, _, line in (r.partition(": ") for r in requests)]
    by = [(who, r) for who, r in by if r.marker is None or r.marker.evaluate({"extra": ""})]
    every = asked + [r for _, r in by]
    if every and all(r.specifier.contains(found, prereleases=True) for r in every):
        whom = [str(r) for r in asked] + [f"{r} ({who})" for who, r in by]
        return f"the env's seeded {name} {found} satisfies {', '.join(whom)}"
    return None


@dataclass(frozen=True)
class Expected:
    """What the mirror says a project's env holds on the target: name -> (version, digest or None)."""

    releases: dict[str, tuple[str, str | None]]
    served: dict[str, set[str]]  # every name the mirror serves -> its versions


@dataclass
class Verdict:
    proved: bool = True
    faults: list[str] = field(default_factory=list)  # the tool's: why the env is not proved
    import_needs: dict[str, str] = field(default_factory=dict)  # package -> its module's own import error
    clashes: dict[str, str] = field(default_factory=dict)  # package -> files another package overwrote
    kept_seeds: dict[str, str] = field(default_factory=dict)  # seeded package kept -> why it is accepted

    def fault(self, text: str) -> None:
        self.proved = False
        self.faults.append(text)


def expected_for(mirror: Mirror | None, dependencies, sources, python: str = "", constraints=()) -> Expected | None:
    """The install set the mirror resolved for a project with these dependencies, sources and
    Python (None: unknown)."""
    if mirror is None:
        return None
    served: dict[str, set[str]] = {}
    digests: dict[tuple[str, str], str | None] = {}
    by_file: dict[str, str | None] = {}
    for entry in mirror.files:
        # Build requirements are for the tools' build envs: an env's own setuptools (the one
        # venv seeds) at another version is not a package from elsewhere.
        if entry.kind != "build":
            served.setdefault(entry.name, set()).add(entry.version)
        if entry.installs:
            digests[(entry.name, entry.version)] = entry.record_digest
            if entry.filename:
                by_file[entry.filename] = entry.record_digest
    default_python = mirror.python or ""  # a closure.json's own Python
    for project in mirror.projects:
        same_python = not python or (project.python or default_python) in ("", python)
        same_input = list(project.dependencies) == list(dependencies) and dict(project.sources) == dict(sources)
        if same_input and list(project.constraints or []) == list(constraints) and same_python:
            chosen = project.files or [None] * len(project.installs)
            # Two Pythons install two wheels of one release (cp311, cp313): the digest of this one's.
            releases = {name: (version, by_file[filename] if filename in by_file else digests.get((name, version)))
                        for (name, version), filename in zip(project.installs, chosen, strict=True)}  # fmt: skip
            return Expected(releases, served)
    return Expected({}, served)  # a mirror from before install sets: versions only


def judge(probe: dict, dependencies, expected: Expected | None) -> Verdict:
    verdict = Verdict()
    if "error" in probe:
        verdict.fault(f"the probe failed: {probe['error'][-300:]}")
        return verdict
    installed = {p["name"]: p for p in probe.get("packages", [])}
    for path in probe.get("unreadable", [])[:5]:
        verdict.fault(f"{path}: its METADATA cannot be read (a link to a file that is gone?)")
    requested = [canonicalize_name(Requirement(text).name) for text in dependencies]
    for name in requested:
        if name not in installed:
            verdict.fault(f"{name} is not installed")
    judged = set(requested)
    if expected is not None:
        for name, (version, digest) in expected.releases.items():
            found = installed.get(name)
            if found is None:
                verdict.fault(f"{name} {version} is not installed")
            elif found["version"] != version and (why := _seed_kept(name, found["version"], dependencies,
                                                                                 probe.get("seed_requests", {}).get(name, []))):
                verdict.kept_seeds[name] = why
            elif found["version"] != version:
                verdict.fault(f"{name} is {found['version']}, the lock asks for {version}")
            elif digest and found["sha256"] != digest:
                verdict.fault(f"{name} {version} holds other files than the mirror's wheel")
        judged |= set(expected.releases)
        for name, package in installed.items():
            versions = expected.served.get(name)
            # a seed the project's install set does not hold (another group asked for pip) is the env's own
            seed_only = name in SEEDS and name not in expected.releases
            if versions and package["version"] not in versions and name not in verdict.kept_seeds and not seed_only:
                verdict.fault(f"{name}=={package['version']} is not a release the mirror serves")
    for name in sorted(judged & set(installed)):
        package = installed[name]
        if package.get("record_bad_count"):
            shown = "; ".join(package["record_bad"])
            verdict.fault(f"{name}: {package['record_bad_count']} files differ from its RECORD ({shown})")
        if package.get("record_clashes"):
            verdict.clashes[name] = "; ".join(package["record_clashes"])
    errors = {module: error for module, error in probe.get("imports", {}).items() if error}
    if verdict.proved:
        # Against the package whose module failed, as `module: error`.
        owner = {module: package for package, modules in probe.get("modules", {}).items() for module in modules}
        verdict.import_needs = {owner.get(module, module): f"{module}: {error}" if module in owner else error
                                for module, error in errors.items()}  # fmt: skip
    elif errors:
        verdict.faults.append("imports failing: " + "; ".join(f"{m}: {e}" for m, e in errors.items()))
    return verdict


def asked_of(project, mirror: Mirror | None, python: str) -> tuple[str, ...]:
    """What a tool is asked to install for PROJECT: its dependencies, with each of its constraints
    on a package its install set holds made a requirement (narrowing the dependency that names it).

    Not every tool takes constraints (pip and uv do, Poetry and PDM do not), and when another
    group's closure serves a second release of a constrained package (Home Assistant's anyio==3.7.1
    beside Starlette's anyio 4), a tool that was not told would take that one. A constraint on a
    package the env installs anyway is, for that env, a requirement; one on a package it does not
    install asks for nothing and is left out."""
    if not project.constraints:
        return tuple(project.dependencies)
    expected = expected_for(mirror, project.dependencies, dict(project.sources), python, project.constraints)
    held = set(expected.releases) if expected else set()
    constraints = {canonicalize_name(Requirement(c).name): Requirement(c) for c in project.constraints}
    asked = []
    for text in project.dependencies:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name in constraints and constraints[name].marker is None:
            requirement.specifier &= constraints.pop(name).specifier
        asked.append(str(requirement))
    asked += [str(c) for name, c in constraints.items() if name in held]
    return tuple(asked)
