"""Building apps on disk for the database readers' tests, and reading what they found."""

from __future__ import annotations

import textwrap
from pathlib import Path

from flyconf.app import App
from flyconf.assemble import load_app
from flyconf.databases.model import Found


def write_app(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``; return ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def app_at(root: Path) -> App:
    """The App of ``root/fly.toml``, assembled as `flyconf lint` assembles it."""
    app, findings = load_app(root / "fly.toml")
    assert app is not None, findings
    return app


def found(root: Path, reader: str | None = None) -> list[Found]:
    """What discovery found for the app at ``root`` (only ``reader``'s, when given)."""
    dbs = app_at(root).discovery.databases
    return [d for d in dbs if reader is None or d.reader == reader]


def pos(db: Found) -> tuple[str, int, int]:
    """Where a database is declared: (file name relative to its app, line, column)."""
    return (db.declared.doc.display_path.replace("\\", "/").rsplit("/", 1)[-1], db.declared.span.line,
            db.declared.span.column)
