"""flyctl's own fly.toml fixtures: what flyctl loads, flyconf must load without structural findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyconf import lint_paths
from tests.conftest import PEER, needs_shared

FIXTURES = PEER / "flyctl-testdata"
STRUCTURAL = {"toml-syntax", "unknown-key", "invalid-type"}

# Fixtures that flyctl itself rejects or that are not meant to be valid, with the reason.
EXCEPTIONS = {
    # flyctl records the decode error "Unknown type for service concurrency: int64".
    "always-invalid-v2.toml": {("invalid-type", 24, 17)},
}


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.toml")) if FIXTURES.is_dir() else []


@needs_shared(FIXTURES)
def test_there_are_fixtures():
    assert len(fixture_files()) >= 40


@needs_shared(FIXTURES)
@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name)
def test_fixtures_flyctl_loads_have_no_structural_findings(path: Path):
    diags = lint_paths([path])
    structural = {(d.rule, d.line, d.column) for d in diags if d.rule in STRUCTURAL}
    assert structural == EXCEPTIONS.get(path.name, set()), [(d.rule, d.line, d.column, d.message) for d in diags]


@needs_shared(FIXTURES)
def test_full_reference_fails_only_on_its_deliberately_invalid_values():
    """full-reference.toml is a parser fixture with nonsense values flyctl never validates."""
    diags = lint_paths([FIXTURES / "full-reference.toml"])
    values = sorted((d.rule, d.line, d.message.split(" must")[0]) for d in diags if d.rule == "invalid-value")
    assert [v[2] for v in values] == ["`deploy.strategy`", "`http_service.concurrency.type`"]
