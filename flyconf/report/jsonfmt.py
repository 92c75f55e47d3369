"""``--format json``: a JSON array of findings with a fixed set of keys."""

from __future__ import annotations

import json
from typing import Sequence

from flyconf.diagnostics import Diagnostic


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
