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


# -- wherever flyctl reports an error, flyconf reports the same problem -------------------------

def _found(diags, rule):
    return [(d.line, d.column) for d in diags if d.rule == rule]


@needs_shared(FIXTURES)
def test_validate_groups_canary_with_mounts(tmp_path: Path):
    """flyctl's test sets strategy=canary on validate-groups.toml: "canary ... not supported when using mounted volumes"."""
    text = (FIXTURES / "validate-groups.toml").read_text().replace(
        'primary_region = "ord"\n', 'primary_region = "ord"\n\n[deploy]\nstrategy = "canary"\n', 1)
    (tmp_path / "fly.toml").write_text(text)
    diags = lint_paths([tmp_path / "fly.toml"])
    assert _found(diags, "volume-deploy-strategy") == [(5, 12)]
    # flyctl does not notice the relative mount destination `bar`; flyconf does.
    assert _found(diags, "mount-destination-not-absolute") == [(39, 15)]


@needs_shared(FIXTURES)
def test_validate_mounts():
    """flyctl: initial_size '15Mb' smaller than 1GB; 'unparseable'; group 'app' has more than one [[mounts]]."""
    diags = lint_paths([FIXTURES / "validate-mounts.toml"])
    sizes = [d for d in diags if d.rule == "mount-size-invalid"]
    assert [(d.line, d.column) for d in sizes] == [(12, 16), (18, 16)]
    assert "15Mb" in sizes[0].message and "less than 1 GB" in sizes[0].message
    assert "unparseable" in sizes[1].message and "not a size" in sizes[1].message
    assert _found(diags, "multiple-mounts-per-process") == [(26, 3)]


@needs_shared(FIXTURES)
def test_validate_services():
    """flyctl: "Service has no processes set" (error) and "Service must expose at least one port" (warning)."""
    diags = lint_paths([FIXTURES / "validate-services.toml"])
    assert _found(diags, "service-missing-processes") == [(12, 3)]
    (ports,) = [d for d in diags if d.rule == "port-invalid"]
    assert (ports.line, ports.column, ports.severity.value) == (12, 3, "warning")
    assert "no public port" in ports.message


@needs_shared(FIXTURES)
def test_always_invalid_concurrency():
    """flyctl: "Unknown type for service concurrency: int64"."""
    diags = lint_paths([FIXTURES / "always-invalid-v2.toml"])
    (d,) = [d for d in diags if d.rule == "invalid-type"]
    assert (d.line, d.column) == (24, 17) and "concurrency" in d.message
