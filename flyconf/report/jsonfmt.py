"""``--format json``: a JSON array of findings with a fixed set of keys."""

from __future__ import annotations

import json
from typing import Any, Sequence

from flyconf.diagnostics import Diagnostic


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([with_url(d.to_dict()) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def with_url(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding's JSON with `url`, its rule's documentation (null for a code the registry does not know)."""
    from flyconf import registry

    rule = registry.get(finding["code"])
    return {**finding, "url": rule.url if rule is not None else None}
