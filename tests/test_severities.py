"""`flyconf rules` tells the truth about severities: every severity a finding is emitted with is declared
on its rule (``Rule.severities``), checked over the corpus, the test fixtures, the example app and the
rules' own bad examples."""

from __future__ import annotations

import json

import pytest

from flyconf import registry
from flyconf.cli import main
from flyconf.lint import lint_text, run
from tests.conftest import CORPUS, REPO, needs_shared


def _undeclared(diagnostics) -> list[tuple[str, str, str, int, int]]:
    out = []
    for d in diagnostics:
        rule = registry.get(d.code)
        assert rule is not None, d.code
        if d.severity not in rule.emitted:
            out.append((d.code, d.severity.value, d.path, d.line, d.column))
    return out


@needs_shared(CORPUS)
def test_every_severity_emitted_on_the_corpus_is_declared():
    report = run([CORPUS])
    assert len(report.diagnostics) > 100
    assert _undeclared(report.diagnostics) == []


def test_every_severity_emitted_on_the_fixtures_and_examples_is_declared():
    report = run([REPO / "tests" / "fixtures", REPO / "examples"])
    assert report.diagnostics
    assert _undeclared(report.diagnostics) == []


@pytest.mark.parametrize("rule", registry.all_rules(), ids=lambda r: r.code)
def test_every_severity_of_a_rule_example_is_declared(rule):
    for example in (rule.bad, rule.good):
        if example and not example.lstrip().startswith("#"):
            assert _undeclared(lint_text(example)) == []


def test_rules_show_every_severity_a_rule_emits(capsys):
    duration = registry.get("duration-unit")
    assert duration is not None and [s.value for s in duration.emitted] == ["warning", "info"]
    # A whole number of seconds for kill_timeout is what the docs show: reported as info, not warning.
    (finding,) = lint_text("kill_timeout = 5\n", select="duration-unit")
    assert (finding.line, finding.column, finding.severity.value) == (1, 16, "info")

    assert main(["rules"]) == 0
    listing = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "  warning, info  " in listing["FC505"]
    assert "  error          " in listing["FC402"]  # one severity: shown alone, columns aligned
    assert main(["rules", "FC505"]) == 0
    assert capsys.readouterr().out.startswith("FC505 duration-unit (warning, info)")
    assert main(["rules", "--format", "json"]) == 0
    rules = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert rules["FC505"]["severity"] == "warning" and rules["FC505"]["severities"] == ["warning", "info"]
    assert all(r["severity"] in r["severities"] for r in rules.values())
