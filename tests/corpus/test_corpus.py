"""Every real fly.toml in the shared corpus lints without a crash."""

from __future__ import annotations

from flyconf.diagnostics import Diagnostic
from flyconf.lint import run
from tests.conftest import CORPUS, needs_shared


@needs_shared(CORPUS)
def test_every_corpus_file_lints_without_a_crash():
    files = {p.resolve() for p in CORPUS.rglob("fly*.toml")}
    assert len(files) > 200
    report = run([CORPUS])  # an exception here is the failure this test exists for
    from pathlib import Path

    assert {Path(f).resolve() for f in report.files if Path(f).name.endswith(".toml")} == files
    for d in report.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.line >= 1 and d.column >= 1
        assert d.message and d.code.startswith("FC")


@needs_shared(CORPUS)
def test_corpus_files_named_explicitly_lint_one_by_one():
    """The pre-commit path: files passed one at a time, hidden directories included."""
    for path in sorted(CORPUS.rglob("fly*.toml")):
        report = run([path])
        assert report.files == [report.files[0]] and not report.skipped
