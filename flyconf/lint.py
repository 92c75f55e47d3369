"""The lint pipeline: discover, read, check, filter, sort. Returns findings; never prints or exits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Iterable, Iterator, Sequence

from flyconf import registry
from flyconf.assemble import (
    COMPOSE,
    DOCKERFILE,
    FLYTOML,
    Workspace,
    app_for,
    failure_diagnostic,
    sibling_app,
)
from flyconf.config import Configuration, Overrides, Selection, Settings
from flyconf.diagnostics import Diagnostic, Severity
from flyconf.discover import Skipped, discover, kind_of
from flyconf.internal import collect, internal_error, should_raise
from flyconf.sources.base import (
    MAX_BYTES,
    Document,
    ReadFailure,
    decode,
    display,
    is_directory,
    lexists,
    real_path,
    too_large,
)
from flyconf.sources.flytoml import FlyToml

if TYPE_CHECKING:
    from flyconf.app import App


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # named explicitly but not a kind flyconf lints
    # What a directory walk did not enter, and why: "path: a symbolic link ... not followed".
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # display path -> text, for reporters
    # The `fail-on` in effect for each file with findings (each file has its configuration).
    fail_on: dict[str, Severity] = field(default_factory=dict)

    def failing(self) -> bool:
        """Whether a finding is at or above the `fail-on` of its file."""
        return any(d.severity.rank >= self.fail_on.get(d.path, Severity.WARNING).rank for d in self.diagnostics)


def lint_text(
    text: str,
    filename: str = "fly.toml",
    *,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
    settings: Settings | None = None,
    config: bool | str | os.PathLike[str] = False,
) -> list[Diagnostic]:
    """Lint the contents of one file. ``filename`` is used in findings and to pick the file's kind.

    A fly.toml linted from text is checked on its own (its Dockerfile is not read). Configuration
    as in :func:`lint_paths` (``filename`` is where a configuration file is looked for).
    """
    return _from_text(text, filename, configuration(select, ignore, settings=settings, config=config)).diagnostics


def lint_paths(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (".",),
    *,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
    settings: Settings | None = None,
    config: bool | str | os.PathLike[str] = False,
) -> list[Diagnostic]:
    """Lint files and directories (searched recursively). Unreadable paths become findings.

    ``paths`` is one path (``str`` or ``os.PathLike``) or a sequence of them; ``select`` and ``ignore``
    are one string (comma-separated keys allowed) or an iterable of codes, code prefixes or rule names.
    No configuration file is read unless asked, so the result depends only on the arguments:
    ``config=True`` finds the closest one for each file as the command line does, ``config=PATH``
    uses that file for every file, ``settings`` (:meth:`flyconf.config.Settings.from_mapping`) uses
    settings built in code. ``select`` and ``ignore`` override them as `--select` and `--ignore` do.
    A bad configuration raises :class:`flyconf.config.ConfigError`.
    """
    return run(_paths(paths), config=configuration(select, ignore, settings=settings, config=config)).diagnostics


def _paths(value: "str | os.PathLike[str] | Sequence[str | os.PathLike[str]]") -> list[str | os.PathLike[str]]:
    """One path (str or os.PathLike) or a sequence of them, as a list; a string is one path, not its characters."""
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)


def configuration(
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
    *,
    settings: Settings | None = None,
    config: bool | str | os.PathLike[str] = False,
    fail_on: Severity | None = None,
    exclude: Sequence[str] = (),
) -> Configuration:
    """The run's configuration from a library call's (or the command line's) arguments."""
    if settings is not None and config is not False:
        raise ValueError("give either settings or config, not both")
    overrides = Overrides(Selection.from_keys(select, ignore), fail_on, tuple(exclude))
    if config is True:
        return Configuration(discover=True, overrides=overrides)
    if config is not False:
        return Configuration(file=config, overrides=overrides)
    return Configuration(settings=settings, overrides=overrides)


def lint_bytes(data: bytes, filename: str, selection: Selection = Selection(), *,
               config: Configuration | None = None) -> list[Diagnostic]:
    """Lint raw bytes (standard input): decoding problems are findings too."""
    return report_bytes(data, filename, config or Configuration(overrides=Overrides(selection))).diagnostics


def report_bytes(data: bytes, filename: str, config: Configuration, *, beside: bool = False) -> Report:
    """Lint raw bytes read from standard input as the file ``filename``.

    With ``beside``, when ``filename``'s directory exists, the files beside it take part as they do for the
    file on disk (a fly.toml's Dockerfile, scripts and app configuration; a Dockerfile's fly.toml), so the
    findings are those of linting the file on disk with this text in it.
    """
    text = decode(data) if len(data) <= MAX_BYTES else too_large(len(data))
    kind = kind_of(filename, explicit=True) or FLYTOML
    if isinstance(text, ReadFailure):
        found, fail_on = _finish([failure_diagnostic(text, filename, kind)], config, {})
        return Report(found, [filename], fail_on=fail_on)
    path = Path(filename)
    if beside and kind in (FLYTOML, DOCKERFILE) and is_directory(path.parent) and not is_directory(path):
        return _from_text_beside(text, path, kind, config)
    return _from_text(text, filename, config)


def _from_text_beside(text: str, path: Path, kind: str, config: Configuration) -> Report:
    """`_from_text` for a file that stands in for ``path``: its companions are read from disk."""
    ws = Workspace()
    shown = display(path)
    found: list[Diagnostic] = []
    context: set[str] = set()
    collect(shown, found, partial(_beside_findings, text, path, kind, shown, ws, context))
    diagnostics, fail_on = _finish(found, config, ws.documents, context)
    sources = {p: doc.text for p, doc in ws.documents.items() if doc.quotable}
    return Report(diagnostics, files=[shown], sources=sources, fail_on=fail_on)


def _beside_findings(text: str, path: Path, kind: str, shown: str, ws: Workspace,
                     context: set[str]) -> Iterator[Diagnostic]:
    loaded = ws.substitute(path, kind, text, shown)
    yield from loaded.findings
    if isinstance(loaded.doc, FlyToml):
        app, more = app_for(loaded.doc, path, ws)
        yield from more
        yield from _check_app(app, ws)
    elif kind == DOCKERFILE and loaded.doc is not None:
        yield from _dockerfile_findings(path, loaded.doc, ws, context)


def _from_text(text: str, filename: str, config: Configuration) -> Report:
    ws = Workspace()
    found: list[Diagnostic] = []
    collect(filename, found, partial(_text_findings, text, filename, ws))
    diagnostics, fail_on = _finish(found, config, ws.documents)
    return Report(diagnostics, [filename], sources={filename: text}, fail_on=fail_on)


def _text_findings(text: str, filename: str, ws: Workspace) -> Iterator[Diagnostic]:
    kind = kind_of(filename, explicit=True) or FLYTOML
    loaded = ws.parse_text(text, kind, filename)
    yield from loaded.findings
    if loaded.doc is not None:
        from flyconf.app import App

        if kind == FLYTOML:
            assert isinstance(loaded.doc, FlyToml)
            yield from _check_app(App(loaded.doc), ws)
        elif kind == DOCKERFILE:
            yield from _check_app(App(None, dockerfile=loaded.doc), ws)
        elif kind == COMPOSE:
            from flyconf.compose.lint import lint_compose_document

            yield from lint_compose_document(loaded.doc, ws)  # type: ignore[arg-type]


def run(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], selection: Selection = Selection(), *,
        config: Configuration | None = None) -> Report:
    """Lint paths: every fly.toml with its Dockerfile and start scripts, and Dockerfiles on their own.

    ``config`` gives each file its settings (by default: none, with ``selection`` on top); files it
    excludes are not linted, whether found in a directory or named.
    """
    conf = config or Configuration(overrides=Overrides(selection))
    paths = _paths(paths)
    report = Report()
    ws = Workspace()
    ws.config = conf  # fix's `[*]` plan obeys the same selection and suppressions
    from flyconf.fileio import write_roots

    ws.roots = write_roots(paths)  # and writes only where `flyconf fix` pointed at the same paths would
    found: list[Diagnostic] = []
    walk_notes: list[Skipped] = []
    named = {Path(p) for p in paths}
    targets = [t for t in discover(paths, walk_notes, exclude=conf.walk_filter())
               if not (t.path in named and conf.excluded(t.path, False, explicit=True))]
    report.notes = [f"{display(n.path)}: {n.reason}" for n in walk_notes]
    consumed: set[Path] = set()  # Dockerfiles already linted as part of an app
    explicit_dockerfiles: list[Path] = []
    compose_files: list[Path] = []
    context: set[str] = set()  # documents read for context only: not all their findings are reported

    for target in targets:
        shown = display(target.path)
        if not lexists(target.path):
            found.append(failure_diagnostic(ReadFailure("io-error", "file or directory not found"), shown, FLYTOML))
            report.files.append(shown)
            continue
        if target.kind is None:
            report.skipped.append(shown)
            continue
        report.files.append(shown)
        if target.kind == DOCKERFILE:
            explicit_dockerfiles.append(target.path)
            continue
        if target.kind == COMPOSE:
            compose_files.append(target.path)
            continue
        # Each file on its own: an unexpected error in one is a finding on it (FC004), not the run's end.
        collect(shown, found, partial(_flytoml_file_findings, target.path, shown, ws, consumed))

    for path in explicit_dockerfiles:
        collect(display(path), found, partial(_explicit_dockerfile_findings, path, ws, consumed, context))

    if compose_files:  # each project with its services' Dockerfiles and app configuration
        found.extend(_compose_findings(compose_files, ws))

    report.diagnostics, report.fail_on = _finish(found, conf, ws.documents, context)
    report.sources = {path: doc.text for path, doc in ws.documents.items() if doc.quotable}
    return report


def _flytoml_file_findings(path: Path, shown: str, ws: Workspace, consumed: set[Path]) -> Iterator[Diagnostic]:
    """A fly.toml's findings, with those of the Dockerfile and scripts it deploys."""
    loaded = ws.load(path, FLYTOML, shown)
    yield from loaded.findings
    if not isinstance(loaded.doc, FlyToml):
        return
    app, more = app_for(loaded.doc, path, ws)
    yield from more
    if app.dockerfile is not None and app.dockerfile.fs_path is not None:
        consumed.add(real_path(app.dockerfile.fs_path))
    yield from _check_app(app, ws)


def _explicit_dockerfile_findings(path: Path, ws: Workspace, consumed: set[Path],
                                  context: set[str]) -> Iterator[Diagnostic]:
    """A Dockerfile named or found on its own, unless a fly.toml of the run already deployed it."""
    if real_path(path) in consumed:
        return
    consumed.add(real_path(path))
    loaded = ws.load(path, DOCKERFILE)
    yield from loaded.findings
    if loaded.doc is not None:
        yield from _dockerfile_findings(path, loaded.doc, ws, context)


def _compose_findings(paths: list[Path], ws: Workspace) -> list[Diagnostic]:
    """The Compose files' findings. Their projects are read together; if that fails, each file is read
    alone, so that only the file that fails costs its findings (an FC004 on it)."""
    from flyconf.compose.lint import lint_compose

    try:
        return lint_compose(paths, ws)
    except Exception:  # noqa: BLE001 - retried file by file below, where the failure is attributed
        if should_raise():
            raise
    found: list[Diagnostic] = []
    for path in paths:
        collect(display(path), found, partial(lint_compose, [path], ws))
    return found


def _dockerfile_findings(path: Path, dockerfile: Document, ws: Workspace, partial: set[str]) -> list[Diagnostic]:
    """The findings of a Dockerfile linted on its own.

    A fly.toml beside it that builds this Dockerfile gives the context (pre-commit may pass the
    Dockerfile alone); only the Dockerfile's own findings (and its scripts') are reported then, and the
    documents read for that context go into ``partial``.
    """
    before = set(ws.documents)
    app = sibling_app(path, dockerfile, ws)
    own = {dockerfile.display_path}
    results = _check_app(app, ws)
    if app.has_flytoml:
        own.update(s.display_path for s in app.scripts)
        # flyconf's own failure is reported wherever it happened: the other findings of the app may be missing.
        results = [d for d in results if d.path in own or d.code == "FC004"]
        partial.update(set(ws.documents) - before - own)
    return results


def _check_app(app: "App", ws: Workspace) -> list[Diagnostic]:
    return _mark_fixable(app, _app_findings(app, ws), ws)


def _mark_fixable(app: "App", found: list[Diagnostic], ws: Workspace) -> list[Diagnostic]:
    """`[*]` on exactly the findings `flyconf fix` changes, as fix itself decides (flyconf.generate.fix)."""
    with_fix = {r.code for r in registry.all_rules() if r.fixable}
    if not any(d.code in with_fix for d in found):
        return found
    from flyconf.generate.fix import mark

    try:
        return mark(app, found, ws)
    except Exception as exc:  # noqa: BLE001 - the findings stand without their `[*]`
        if should_raise():
            raise
        return found + [internal_error(_app_path(app), exc, "planning the fixes of")]


def _app_path(app: "App") -> str:
    """The file an app's own failure is reported on: its fly.toml, else its Dockerfile."""
    doc = app.flytoml or app.dockerfile
    return doc.display_path if doc is not None else "fly.toml"


def _app_findings(app: "App", ws: Workspace) -> list[Diagnostic]:
    """Every finding the rules report for ``app`` (`fixable` not yet decided)."""
    out: list[Diagnostic] = []
    from flyconf.rules.files import EMPTY_CONFIG

    flytoml = app.flytoml
    if flytoml is not None:
        if not flytoml.data:
            text = flytoml.text
            what = "is empty" if not text.strip() else "has only comments"
            out.append(EMPTY_CONFIG.diagnostic(
                flytoml, (1, 1), f"{os.path.basename(flytoml.display_path) or 'fly.toml'} {what}: there is no "
                "configuration to deploy",
                hint='start with `app = "<name>"` and `primary_region = "<region>"`, or run `fly launch`',
            ))
            return out
        # One check's failure costs only its findings (FC004 on the app's file), not the other checks'.
        for fn in registry.checks("flytoml"):
            collect(flytoml.display_path, out, partial(fn, flytoml))
        for fn in registry.checks("app"):
            collect(flytoml.display_path, out, partial(fn, app))
    if app.dockerfile is not None:
        for fn in registry.checks("image"):
            collect(_app_path(app), out, partial(fn, app))
    return out


def _finish(found: list[Diagnostic], config: Configuration, documents: dict[str, Document],
            partial: Collection[str] = ()) -> tuple[list[Diagnostic], dict[str, Severity]]:
    """The filter: exclusions, rule selection (configuration, then `--select`/`--ignore`, then
    `per-file-ignores`), inline suppressions, severity overrides. Returns the findings, sorted, and
    the `fail-on` in effect for each file that has one."""
    from flyconf.assemble import redact
    from flyconf.suppress import apply

    found = redact(found, documents)  # nothing of a file not named as what it is read as is quoted

    def allows(path: str, code: str) -> bool:
        return config.policy(path).allows(code)

    unique = list(dict.fromkeys(found))  # a Dockerfile shared by two fly.toml files is checked twice
    selected = [d for d in unique if allows(d.path, d.code)]
    kept: list[Diagnostic] = []
    for d in apply(selected, documents, allows=allows, partial=partial):
        severity = config.policy(d.path).severity.get(d.code)
        kept.append(replace(d, severity=severity) if severity is not None and severity != d.severity else d)
    kept.sort(key=Diagnostic.sort_key)
    return kept, {d.path: config.policy(d.path).fail_on for d in kept}
