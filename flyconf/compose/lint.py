"""Linting Compose files: group them into projects, read each project with its services' Apps, run the checks.

An override file (compose.override.yaml) is merged into the base file beside it, as Compose does by
default; it is never a project of its own, and an override with no base is only checked for syntax.
A `-f` variant (`docker-compose.prod.yml`) is a project of its own, unless it is an overlay: a variant
that defines a service with neither `image`, `build` nor `extends`, or depends on a service, that only
the base file beside it defines, is used as `docker compose -f <base> -f <variant>`, so flyconf merges
it into the base.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from flyconf.compose.apps import ComposeUnit, service_apps
from flyconf.compose.names import BASE_NAMES
from flyconf.compose.project import Project, group_projects, load_project
from flyconf.diagnostics import Diagnostic
from flyconf.sources.base import is_regular_file, project_root, real_path
from flyconf.sources.compose import ComposeFile

if TYPE_CHECKING:
    from flyconf.assemble import Workspace


def load_units(paths: Sequence[Path], ws: "Workspace") -> tuple[list[ComposeUnit], list[Diagnostic]]:
    """The Compose projects of ``paths`` (Compose files), ready for the rules, and the findings of reading them."""
    from flyconf.assemble import COMPOSE

    findings: list[Diagnostic] = []
    projects, fragments = group_projects(paths)
    for path in fragments:
        loaded = ws.load(path, COMPOSE)
        findings.extend(loaded.findings)
        if isinstance(loaded.doc, ComposeFile):
            findings.extend(_problems(loaded.doc))
    units: list[ComposeUnit] = []
    seen: set[tuple[Path, ...]] = set()
    for group in projects:
        docs: list[ComposeFile] = []
        for path in group:
            # A file found beside the one named (the base, the override) must not lead out of the project.
            loaded = ws.load(path, COMPOSE, within=None if path in paths else project_root(path.parent))
            findings.extend(loaded.findings)
            if isinstance(loaded.doc, ComposeFile):
                docs.append(loaded.doc)
        if len(docs) != len(group):
            for doc in docs:  # a file of the project does not parse: report what the others have, no rules
                findings.extend(_problems(doc))
            continue
        project = _load(docs, ws)
        base = _overlay_base(project, group[0], ws)
        if base is not None:
            key = tuple(real_path(p) for p in (base.fs_path, group[0]) if p is not None)
            if key in seen:
                continue
            seen.add(key)
            project = _load([base] + docs, ws)
        units.append(unit_of(project, ws, findings))
    return units, findings


def unit_of(project: Project, ws: "Workspace", findings: list[Diagnostic]) -> ComposeUnit:
    services = service_apps(project, ws)
    for sa in services:
        findings.extend(sa.findings)
    return ComposeUnit(project, services)


def _load(docs: list[ComposeFile], ws: "Workspace") -> Project:
    from flyconf.assemble import COMPOSE

    # `include`, `extends` and `env_file` name files by value: they are read inside the project only.
    first = docs[0].fs_path if docs else None
    root = project_root(first.parent) if first is not None else None

    def read(path: Path) -> ComposeFile | None:
        doc = ws.load(path, COMPOSE, within=root).doc
        return doc if isinstance(doc, ComposeFile) else None

    return load_project(docs, read, ws.reader(root))


def _overlay_base(project: Project, path: Path, ws: "Workspace") -> ComposeFile | None:
    """The base file a `-f` variant is merged into, when the variant is an overlay of it."""
    from flyconf.assemble import COMPOSE

    if len(project.files) != 1 or project.label is None or path.name in BASE_NAMES:
        return None
    winner = next((path.parent / n for n in BASE_NAMES if is_regular_file(path.parent / n)), None)
    if winner is None:
        return None
    base = ws.load(winner, COMPOSE, within=project_root(path.parent)).doc
    if not isinstance(base, ComposeFile):
        return None
    defined: set[str] = set()
    for root in base.documents:
        services = root.get("services") if root.is_map else None
        if services is not None:
            defined.update(name for name, _node in services.items())
    own: set[str] = set()
    needed: set[str] = set()
    for doc in project.files:
        for root in doc.documents:
            services = root.get("services") if root.is_map else None
            for name, node in (services.items() if services is not None else ()):
                own.add(name)
                if node.is_map and name in defined and not any(node.get(k) is not None
                                                              for k in ("image", "build", "extends")):
                    return base
                depends = node.get("depends_on") if node.is_map else None
                if depends is not None and depends.is_seq:
                    needed.update(d.text for d in depends.value if d.text)
                elif depends is not None:
                    needed.update(dep for dep, _node in depends.items())
    # A service it depends on that only the base defines: it is used together with the base.
    return base if (needed - own) & defined else None


def _problems(doc: ComposeFile) -> list[Diagnostic]:
    from flyconf.rules.compose import COMPOSE_SYNTAX

    return [COMPOSE_SYNTAX.diagnostic(doc, span, message) for message, span in doc.problems]


def check_units(units: Sequence[ComposeUnit]) -> list[Diagnostic]:
    from flyconf import registry

    out: list[Diagnostic] = []
    for unit in units:
        for fn in registry.checks("compose"):
            out.extend(fn(unit))
    return out


def lint_compose(paths: Sequence[Path], ws: "Workspace") -> list[Diagnostic]:
    """Every finding of the Compose files ``paths`` (their projects, services, Dockerfiles)."""
    units, findings = load_units(paths, ws)
    out: list[Diagnostic] = []
    seen: set[tuple[str, int, int, str]] = set()
    for d in findings + check_units(units):
        # A base file is read alone and with an overlay: one finding per place and rule.
        key = (d.path, d.line, d.column, d.code)
        if key not in seen:
            seen.add(key)
            out.append(d)
    if any(d.fixable for d in out):  # `[*]` on exactly what `flyconf fix` changes, as fix itself decides
        from dataclasses import replace

        from flyconf.compose.fix import plan_compose_fixes

        fixed = plan_compose_fixes(paths, ws, units).fixed
        out = [replace(d, fixable=(d.path, d.line, d.column, d.code) in fixed) if d.fixable else d for d in out]
    return out


def lint_compose_document(doc: ComposeFile, ws: "Workspace") -> list[Diagnostic]:
    """A Compose file given as text (standard input): one project, with nothing on disk around it."""
    project = load_project([doc], lambda _p: None, lambda _p: None)
    findings: list[Diagnostic] = []
    unit = unit_of(project, ws, findings)
    return findings + check_units([unit])
