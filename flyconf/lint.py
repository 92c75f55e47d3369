"""The lint pipeline: discover, read, check, filter, sort. Returns findings; never prints or exits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from flyconf import registry
from flyconf.assemble import (
    DOCKERFILE,
    FLYTOML,
    Workspace,
    app_for,
    failure_diagnostic,
    sibling_app,
)
from flyconf.diagnostics import Diagnostic
from flyconf.discover import Skipped, discover, kind_of
from flyconf.sources.base import Document, ReadFailure, decode, display
from flyconf.sources.flytoml import FlyToml

if TYPE_CHECKING:
    from flyconf.app import App


@dataclass(frozen=True)
class Selection:
    """Which rules run. ``select`` None means every rule."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()

    @classmethod
    def from_keys(cls, select: str | Iterable[str] | None = None, ignore: str | Iterable[str] | None = None) -> "Selection":
        """From codes, code prefixes or rule names; raises ValueError naming an unknown one.

        Each may be one string (``"FC1"``, or comma-separated as on the command line) or an iterable of them.
        """
        return cls(
            select=None if select is None else frozenset(r.code for r in _resolve(_keys(select))),
            ignore=frozenset(r.code for r in _resolve(_keys(ignore or ()))),
        )

    def enabled(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select


def _keys(value: str | Iterable[str]) -> list[str]:
    """Rule keys from one string (comma-separated, as `--select` takes them) or an iterable of strings.

    A single string is never iterated character by character.
    """
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"rule keys must be strings, not {type(item).__name__}")
        out.extend(part.strip() for part in item.split(",") if part.strip())
    return out


def _paths(value: "str | os.PathLike[str] | Sequence[str | os.PathLike[str]]") -> list[str | os.PathLike[str]]:
    """One path (str or os.PathLike) or a sequence of them, as a list; a string is one path, not its characters."""
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)


def _resolve(keys: Iterable[str]) -> list[registry.Rule]:
    try:
        return list(registry.iter_selected(keys))
    except KeyError as exc:
        raise ValueError(f"unknown rule or code: {exc.args[0]}") from None


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # named explicitly but not a kind flyconf lints
    # What a directory walk did not enter, and why: "path: a symbolic link ... not followed".
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # display path -> text, for reporters


def lint_text(
    text: str,
    filename: str = "fly.toml",
    *,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Lint the contents of one file. ``filename`` is used in findings and to pick the file's kind.

    A fly.toml linted from text is checked on its own (its Dockerfile is not read).
    """
    return _from_text(text, filename, Selection.from_keys(select, ignore)).diagnostics


def lint_paths(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (".",),
    *,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Lint files and directories (searched recursively). Unreadable paths become findings.

    ``paths`` is one path (``str`` or ``os.PathLike``) or a sequence of them; ``select`` and ``ignore``
    are one string (comma-separated keys allowed) or an iterable of codes, code prefixes or rule names.
    """
    return run(_paths(paths), Selection.from_keys(select, ignore)).diagnostics


def lint_bytes(data: bytes, filename: str, selection: Selection = Selection()) -> list[Diagnostic]:
    """Lint raw bytes (standard input): decoding problems are findings too."""
    return lint_stdin(data, filename, selection).diagnostics


def lint_stdin(data: bytes, filename: str, selection: Selection = Selection(), *, beside: bool = False) -> Report:
    """Lint raw bytes read from standard input as the file ``filename``.

    With ``beside``, when ``filename``'s directory exists, the files beside it take part as they do for the
    file on disk (a fly.toml's Dockerfile, scripts and app configuration; a Dockerfile's fly.toml), so the
    findings are those of linting the file on disk with this text in it.
    """
    text = decode(data)
    kind = kind_of(filename, explicit=True) or FLYTOML
    if isinstance(text, ReadFailure):
        return Report(_finish([failure_diagnostic(text, filename, kind)], selection, {}), [filename])
    path = Path(filename)
    if beside and path.parent.is_dir() and not path.is_dir():
        return _from_text_beside(text, path, kind, selection)
    return _from_text(text, filename, selection)


def _from_text_beside(text: str, path: Path, kind: str, selection: Selection) -> Report:
    """`_from_text` for a file that stands in for ``path``: its companions are read from disk."""
    ws = Workspace()
    shown = display(path)
    loaded = ws.substitute(path, kind, text, shown)
    found = list(loaded.findings)
    if isinstance(loaded.doc, FlyToml):
        app, more = app_for(loaded.doc, path, ws)
        found.extend(more)
        found.extend(_check_app(app, ws))
    elif kind == DOCKERFILE and loaded.doc is not None:
        found.extend(_dockerfile_findings(path, loaded.doc, ws))
    sources = {p: doc.text for p, doc in ws.documents.items()}
    return Report(_finish(found, selection, ws.documents), files=[shown], sources=sources)


def _from_text(text: str, filename: str, selection: Selection) -> Report:
    ws = Workspace()
    kind = kind_of(filename, explicit=True) or FLYTOML
    loaded = ws.parse_text(text, kind, filename)
    found = list(loaded.findings)
    if loaded.doc is not None:
        from flyconf.app import App

        if kind == FLYTOML:
            assert isinstance(loaded.doc, FlyToml)
            found.extend(_check_app(App(loaded.doc), ws))
        elif kind == DOCKERFILE:
            found.extend(_check_app(App(None, dockerfile=loaded.doc), ws))
    return Report(_finish(found, selection, ws.documents), files=[filename], sources={filename: text})


def run(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], selection: Selection = Selection()) -> Report:
    """Lint paths: every fly.toml with its Dockerfile and start scripts, and Dockerfiles on their own."""
    report = Report()
    ws = Workspace()
    found: list[Diagnostic] = []
    walk_notes: list[Skipped] = []
    targets = list(discover(_paths(paths), walk_notes))
    report.notes = [f"{display(n.path)}: {n.reason}" for n in walk_notes]
    consumed: set[Path] = set()  # Dockerfiles already linted as part of an app
    explicit_dockerfiles: list[Path] = []

    for target in targets:
        shown = display(target.path)
        if not target.path.exists() and not target.path.is_symlink():
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
        loaded = ws.load(target.path, FLYTOML, shown)
        found.extend(loaded.findings)
        if not isinstance(loaded.doc, FlyToml):
            continue
        app, more = app_for(loaded.doc, target.path, ws)
        found.extend(more)
        if app.dockerfile is not None and app.dockerfile.fs_path is not None:
            consumed.add(app.dockerfile.fs_path.resolve())
        found.extend(_check_app(app, ws))

    for path in explicit_dockerfiles:
        if path.resolve() in consumed:
            continue
        consumed.add(path.resolve())
        loaded = ws.load(path, DOCKERFILE)
        found.extend(loaded.findings)
        if loaded.doc is None:
            continue
        found.extend(_dockerfile_findings(path, loaded.doc, ws))

    report.diagnostics = _finish(found, selection, ws.documents)
    report.sources = {path: doc.text for path, doc in ws.documents.items()}
    return report


def _dockerfile_findings(path: Path, dockerfile: Document, ws: Workspace) -> list[Diagnostic]:
    """The findings of a Dockerfile linted on its own.

    A fly.toml beside it that builds this Dockerfile gives the context (pre-commit may pass the
    Dockerfile alone); only the Dockerfile's own findings (and its scripts') are reported then.
    """
    app = sibling_app(path, dockerfile, ws)
    own = {dockerfile.display_path}
    results = _check_app(app, ws)
    if app.has_flytoml:
        own.update(s.display_path for s in app.scripts)
        results = [d for d in results if d.path in own]
    return results


def _check_app(app: "App", ws: Workspace) -> list[Diagnostic]:
    return _mark_fixable(app, _app_findings(app, ws), ws)


def _mark_fixable(app: "App", found: list[Diagnostic], ws: Workspace) -> list[Diagnostic]:
    """`[*]` on exactly the findings `flyconf fix` changes, as fix itself decides (flyconf.generate.fix)."""
    with_fix = {r.code for r in registry.all_rules() if r.fixable}
    if not any(d.code in with_fix for d in found):
        return found
    from flyconf.generate.fix import mark

    return mark(app, found, ws)


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
        for fn in registry.checks("flytoml"):
            out.extend(fn(flytoml))
        for fn in registry.checks("app"):
            out.extend(fn(app))
    if app.dockerfile is not None:
        for fn in registry.checks("image"):
            out.extend(fn(app))
    return out


def _finish(found: list[Diagnostic], selection: Selection, documents: dict[str, Document]) -> list[Diagnostic]:
    from flyconf.suppress import apply

    unique = list(dict.fromkeys(found))  # a Dockerfile shared by two fly.toml files is checked twice
    kept = [d for d in apply(unique, documents) if selection.enabled(d.code)]
    kept.sort(key=Diagnostic.sort_key)
    return kept
