"""The whole corpus gives the same findings with flyconf's Dockerfile parser as with BuildKit's own."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

import pytest

from flyconf.lint import run
from flyconf.sources import dockersyntax
from tests.buildkit_oracle import buildkit_instructions, needs_buildkit
from tests.conftest import CORPUS, needs_shared

pytestmark = [needs_shared(CORPUS), needs_buildkit]

T = TypeVar("T")


def _with_buildkit(monkeypatch: pytest.MonkeyPatch, lint: Callable[[], T]) -> tuple[T, int]:
    calls = 0

    def counting(text: str):
        nonlocal calls
        calls += 1
        return buildkit_instructions(text)

    monkeypatch.setattr(dockersyntax, "parse_instructions", counting)
    try:
        return lint(), calls
    finally:
        monkeypatch.undo()


def test_corpus_findings_are_the_same_with_buildkits_parser(monkeypatch: pytest.MonkeyPatch):
    ours = run([CORPUS])
    theirs, calls = _with_buildkit(monkeypatch, lambda: run([CORPUS]))
    dockerfiles = [f for f in ours.files if "ockerfile" in Path(f).name]
    assert len(dockerfiles) >= 200 and calls >= len(dockerfiles)  # BuildKit really read every one
    assert ours.files == theirs.files
    in_dockerfiles = [d for d in ours.diagnostics if "ockerfile" in Path(d.path).name]
    assert len(in_dockerfiles) > 50  # the comparison covers real Dockerfile findings, not an empty list
    assert ours.diagnostics == theirs.diagnostics


def test_each_corpus_dockerfile_named_alone_gives_the_same_findings(monkeypatch: pytest.MonkeyPatch):
    """The pre-commit path: a Dockerfile named on the command line, linted with the fly.toml beside it."""
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and (
        p.name.startswith(("Dockerfile", "Containerfile")) or p.name.endswith(".Dockerfile")))
    assert len(paths) >= 200
    ours = [run([p]).diagnostics for p in paths]
    theirs, _ = _with_buildkit(monkeypatch, lambda: [run([p]).diagnostics for p in paths])
    assert sum(map(len, ours)) > 50
    for path, a, b in zip(paths, ours, theirs, strict=True):
        assert a == b, path
