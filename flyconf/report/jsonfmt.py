"""``--format json``: a JSON array of findings with a fixed set of keys."""

from __future__ import annotations

from typing import Any, Sequence

from flyconf.diagnostics import Diagnostic
from flyconf.report.escape import json_text


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json_text([with_url(d.to_dict()) for d in diagnostics]) + "\n"


def with_url(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding's JSON with `url`, its rule's documentation (null for a code the registry does not know)."""
    from flyconf import registry

    rule = registry.get(finding["code"])
    return {**finding, "url": rule.url if rule is not None else None}
