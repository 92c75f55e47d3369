"""Reporters: findings to text, JSON, SARIF or GitHub annotations. They know rules only by the registry."""

from __future__ import annotations

from typing import Mapping, Sequence

from flyconf.diagnostics import Diagnostic


def render(fmt: str, diagnostics: Sequence[Diagnostic], *, sources: Mapping[str, str], color: bool = False,
           files: int = 0) -> str:
    if fmt in ("text", "concise"):
        from flyconf.report.text import render_text

        return render_text(diagnostics, sources=sources, color=color, files=files, concise=fmt == "concise")
    if fmt == "json":
        from flyconf.report.jsonfmt import render_json

        return render_json(diagnostics)
    if fmt == "sarif":
        from flyconf.report.sarif import render_sarif

        return render_sarif(diagnostics, sources=sources)
    if fmt == "github":
        from flyconf.report.github import render_github

        return render_github(diagnostics)
    raise ValueError(f"unknown format {fmt!r}")
