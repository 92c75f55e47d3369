"""Compose projects on disk for the tests, and what flyconf reports about them."""

from __future__ import annotations

from pathlib import Path

from flyconf.diagnostics import Diagnostic
from flyconf.lint import lint_paths
from tests.databases.helpers import write_app

NODE_DOCKERFILE = """
    FROM node:20-slim
    WORKDIR /app
    COPY . .
    CMD ["node", "server.js"]
"""


def lint_project(root: Path, files: dict[str, str], *, select: str = "FC41") -> list[Diagnostic]:
    """Write ``files`` under ``root`` and lint the directory with the Compose rules (or ``select``)."""
    write_app(root, files)
    return lint_paths([root], select=[select])


def where(diags: list[Diagnostic], rule: str) -> list[tuple[str, int, int]]:
    """(file name, line, column) of each finding of ``rule``."""
    return [(Path(d.path).name, d.line, d.column) for d in diags if d.rule == rule]
