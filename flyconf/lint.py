"""The lint pipeline: read, check, filter, sort. Returns findings; never prints or exits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from flyconf import registry
from flyconf.diagnostics import Diagnostic, Severity
from flyconf.discover import FLYTOML, discover, kind_of
from flyconf.sources.base import Document, ReadFailure, decode, display, read_bytes


@dataclass(frozen=True)
class Selection:
    """Which rules run. ``select`` None means every rule."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()

    @classmethod
    def from_keys(cls, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> "Selection":
        """From codes, code prefixes or rule names; raises ValueError naming an unknown one."""
        return cls(
            select=None if select is None else frozenset(r.code for r in _resolve(select)),
            ignore=frozenset(r.code for r in _resolve(ignore or ())),
        )

    def enabled(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select


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


def lint_text(
    text: str,
    filename: str = "fly.toml",
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Lint the contents of one file. ``filename`` is used in findings and to pick the file's kind."""
    selection = Selection.from_keys(select, ignore)
    kind = kind_of(filename, explicit=True) or FLYTOML
    found = _lint_text(text, filename, None, kind)
    return _finish(found, selection)


def lint_paths(
    paths: Sequence[str | os.PathLike[str]] = (".",),
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Lint files and directories (searched recursively). Unreadable paths become findings."""
    return run(paths, Selection.from_keys(select, ignore)).diagnostics


def run(paths: Sequence[str | os.PathLike[str]], selection: Selection = Selection()) -> Report:
    report = Report()
    found: list[Diagnostic] = []
    for target in discover(paths):
        shown = display(target.path)
        if not target.path.exists() and not target.path.is_symlink():
            found.append(_failure_diagnostic(ReadFailure("io-error", "file or directory not found"), shown, FLYTOML))
            report.files.append(shown)
            continue
        if target.kind is None:
            report.skipped.append(shown)
            continue
        report.files.append(shown)
        data = read_bytes(target.path)
        if isinstance(data, ReadFailure):
            found.append(_failure_diagnostic(data, shown, target.kind))
            continue
        text = decode(data)
        if isinstance(text, ReadFailure):
            found.append(_failure_diagnostic(text, shown, target.kind))
            continue
        found.extend(_lint_text(text, shown, target.path, target.kind))
    report.diagnostics = _finish(found, selection)
    return report


def lint_bytes(data: bytes, filename: str, selection: Selection = Selection()) -> list[Diagnostic]:
    """Lint raw bytes (standard input): decoding problems are findings too."""
    kind = kind_of(filename, explicit=True) or FLYTOML
    text = decode(data)
    if isinstance(text, ReadFailure):
        return _finish([_failure_diagnostic(text, filename, kind)], selection)
    return _finish(_lint_text(text, filename, None, kind), selection)


def _lint_text(text: str, shown: str, fs_path: Path | None, kind: str) -> list[Diagnostic]:
    from flyconf.rules.files import EMPTY_CONFIG
    from flyconf.sources.flytoml import parse_flytoml

    parsed = parse_flytoml(text, shown, fs_path)
    if isinstance(parsed, ReadFailure):
        return [_failure_diagnostic(parsed, shown, kind, text)]
    out: list[Diagnostic] = []
    if not parsed.data:
        what = "is empty" if not text.strip() else "has only comments"
        out.append(EMPTY_CONFIG.diagnostic(
            parsed, (1, 1), f"{os.path.basename(shown) or 'fly.toml'} {what}: there is no configuration to deploy",
            hint='start with `app = "<name>"` and `primary_region = "<region>"`, or run `fly launch`',
        ))
        return out
    for fn in registry.checks("flytoml"):
        out.extend(fn(parsed))
    from flyconf.app import App

    app = App(parsed, directory=fs_path.parent if fs_path is not None else None)
    for fn in registry.checks("app"):
        out.extend(fn(app))
    return out


def _failure_diagnostic(failure: ReadFailure, shown: str, kind: str, text: str = "") -> Diagnostic:
    rule_name = "io-error" if failure.rule == "io-error" else "toml-syntax"
    rule = registry.get(rule_name)
    assert rule is not None
    doc = Document(display_path=shown, text=text)
    return rule.diagnostic(doc, (failure.line, failure.column), failure.message, hint=failure.hint)


def _finish(found: list[Diagnostic], selection: Selection) -> list[Diagnostic]:
    kept = [d for d in found if selection.enabled(d.code)]
    kept.sort(key=Diagnostic.sort_key)
    return kept


def worst(diagnostics: Iterable[Diagnostic]) -> Severity | None:
    top: Severity | None = None
    for d in diagnostics:
        if top is None or d.severity.rank > top.rank:
            top = d.severity
    return top
