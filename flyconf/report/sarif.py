"""``--format sarif``: SARIF 2.1.0 with rule metadata, real columns and stable fingerprints."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import PurePath
from typing import Any, Mapping, Sequence

from flyconf import registry
from flyconf._version import __version__
from flyconf.diagnostics import Diagnostic, Severity
from flyconf.report.escape import json_text
from flyconf.sources.base import split_lines

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# The PyPI distribution is flyconf-lint (`flyconf` there is an unrelated project).
INFORMATION_URI = "https://pypi.org/project/flyconf-lint/"


def render_sarif(diagnostics: Sequence[Diagnostic], *, sources: Mapping[str, str]) -> str:
    rules = registry.all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    seen: Counter[tuple[str, str, str]] = Counter()
    results: list[dict[str, Any]] = []
    for d in diagnostics:
        lines = split_lines(sources.get(d.path, ""))
        line_text = lines[d.line - 1].strip() if 1 <= d.line <= len(lines) else ""
        key = (d.code, d.path, line_text)
        seen[key] += 1
        # surrogatepass: a path from a file name that is not UTF-8 holds lone surrogates.
        data = "\0".join((*key, str(seen[key]))).encode("utf-8", "surrogatepass")
        fingerprint = hashlib.sha256(data).hexdigest()[:32]
        region: dict[str, Any] = {"startLine": d.line, "startColumn": d.column}
        if d.end_line is not None:
            region["endLine"] = d.end_line
        if d.end_column is not None:
            region["endColumn"] = d.end_column
        text = f"{d.message} (hint: {d.hint})" if d.hint else d.message
        results.append({
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _LEVEL[d.severity],
            "message": {"text": text},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(d.path)},
                    "region": region,
                }
            }],
            "partialFingerprints": {"flyconf/v1": fingerprint},
        })
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "flyconf",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(r) for r in rules],
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json_text(log) + "\n"


def _uri(path: str) -> str:
    return PurePath(path).as_posix() if path != "-" else "stdin"


def _rule(rule: registry.Rule) -> dict[str, Any]:
    help_md = rule.explanation
    if rule.bad:
        help_md += f"\n\nBad:\n\n```\n{rule.bad}\n```"
    if rule.good:
        help_md += f"\n\nGood:\n\n```\n{rule.good}\n```"
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "helpUri": rule.url,
        "fullDescription": {"text": " ".join(rule.explanation.split())[:1000]},
        "help": {"text": " ".join(rule.explanation.split()), "markdown": help_md},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": [t for t in (rule.family, "fly.io") if t]},
    }
