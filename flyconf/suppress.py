"""Inline suppressions: `# flyconf: ignore[rule-or-code, ...]` on the line before what it silences.

In fly.toml the comment sits before a key (silencing that key/value) or a table
header (silencing the whole table); in a Dockerfile before an instruction
(all its lines); in a script before a command line; in an app configuration
file (database.yml, settings.py, schema.prisma with `//`...) before the line. A
reason may follow the bracket. Names that are not rules are findings themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from flyconf import registry
from flyconf.diagnostics import Diagnostic, Span
from flyconf.registry import declare

INVALID_SUPPRESSION = declare(
    "FC901", "invalid-suppression", "warning",
    "A `# flyconf: ignore[...]` comment names a rule or code that does not exist.",
    """
    A suppression silences the findings it names on the next key, table,
    instruction or command. A misspelt name silences nothing, so the finding
    you meant to accept is still reported, or worse, a later rename goes
    unnoticed. Use rule names (`sqlite-not-on-volume`) or codes (`FC402`), as
    `flyconf rules` lists them.
    """,
    bad="# flyconf: ignore[sqlite-not-on-volum]\nDATABASE_URL = \"file:/tmp/cache.db\"\n",
    good="# flyconf: ignore[sqlite-not-on-volume] a cache, rebuilt on start\nDATABASE_URL = \"file:/tmp/cache.db\"\n",
    family="suppressions",
)

_PRAGMA = re.compile(r"flyconf:\s*ignore\[([^\]]*)\]")


@dataclass(frozen=True)
class Suppression:
    first: int  # lines it silences, inclusive
    last: int
    codes: frozenset[str]


def _parse(doc: Any, line: int, column: int, text: str) -> tuple[list[str], list[Diagnostic]]:
    """Rule codes named by a pragma in comment ``text`` (starting at ``column``), and findings for bad names."""
    m = _PRAGMA.search(text)
    if m is None:
        return [], []
    codes: list[str] = []
    bad: list[Diagnostic] = []
    offset = column + m.start(1)
    for part in m.group(1).split(","):
        lead = len(part) - len(part.lstrip())
        name = part.strip()
        if name:
            rule = registry.get(name)
            if rule is None:
                col = offset + lead
                bad.append(INVALID_SUPPRESSION.diagnostic(
                    doc, Span(line, col, line, col + len(name)),
                    f"`{name}` in a flyconf suppression is not a rule name or code; it silences nothing",
                    hint="`flyconf rules` lists the rule names and codes",
                ))
            else:
                codes.append(rule.code)
        offset += len(part) + 1
    return codes, bad


def suppressions(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    """Every suppression in a document, with findings for names that are not rules."""
    kind = type(doc).__name__
    if kind == "FlyToml":
        return _flytoml(doc)
    if kind == "Dockerfile":
        return _dockerfile(doc)
    if hasattr(doc, "comments"):
        return _script(doc)
    prefixes = _comment_prefixes(getattr(doc, "display_path", ""))
    if prefixes:
        return _config(doc, prefixes)
    return [], []


# Line comments of the app configuration files that database readers read.
_HASH = (".yml", ".yaml", ".py", ".rb", ".rake", ".exs", ".ex", ".toml", ".cfg", ".ini", ".conf", ".sh")
_SLASHES = (".prisma", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx", ".go", ".rs")


def _comment_prefixes(path: str) -> tuple[str, ...]:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name.endswith(_HASH) or name in ("Gemfile", "Rakefile") or name.startswith(".env") or name.endswith(".env"):
        return ("#",)
    if name.endswith(_SLASHES):
        return ("//",)
    if name.endswith(".php"):
        return ("//", "#")
    return ()


def _config(doc: Any, prefixes: tuple[str, ...]) -> tuple[list[Suppression], list[Diagnostic]]:
    """Own-line `# flyconf: ignore[...]` (or `//`) comments silence the next line that is not a comment."""
    out: list[Suppression] = []
    bad: list[Diagnostic] = []

    def is_comment(text: str) -> bool:
        return text.lstrip().startswith(prefixes)

    for lineno, line in enumerate(doc.lines, start=1):
        stripped = line.lstrip()
        prefix = next((p for p in prefixes if stripped.startswith(p)), None)
        if prefix is None or "flyconf:" not in stripped:
            continue
        column = len(line) - len(stripped) + len(prefix) + 1
        codes, problems = _parse(doc, lineno, column, stripped[len(prefix):])
        bad.extend(problems)
        target = next((n for n in range(lineno + 1, len(doc.lines) + 1)
                       if doc.line_text(n).strip() and not is_comment(doc.line_text(n))), None)
        if target is not None and codes:
            out.append(Suppression(target, target, frozenset(codes)))
    return out, bad


def _flytoml(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    pos = doc.positions
    if pos is None:
        return [], []
    out: list[Suppression] = []
    bad: list[Diagnostic] = []
    statement_lines = sorted(pos.statements)
    header_lines = [ln for ln in statement_lines if pos.entries.get(pos.statements[ln]) is not None
                    and pos.entries[pos.statements[ln]].header and _is_header_line(doc, ln)]
    for c in pos.comments:
        if not c.own_line or "flyconf:" not in c.text:
            continue
        codes, problems = _parse(doc, c.line, c.column + 1, c.text)
        bad.extend(problems)
        target = next((ln for ln in statement_lines if ln > c.line), None)
        if target is None or not codes:
            continue
        if target in header_lines:
            later = [h for h in header_lines if h > target]
            last = later[0] - 1 if later else len(doc.lines)
        else:
            entry = pos.entries.get(pos.statements[target])
            last = entry.value.end_line if entry is not None and entry.value is not None and entry.value.end_line else target
        out.append(Suppression(target, last, frozenset(codes)))
    return out, bad


def _is_header_line(doc: Any, line: int) -> bool:
    return doc.line_text(line).lstrip().startswith("[")


def _dockerfile(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    inside: set[int] = set()
    for ins in doc.instructions:
        inside.update(range(ins.start_line + 1, ins.end_line + 1))
    out: list[Suppression] = []
    bad: list[Diagnostic] = []
    for lineno, line in enumerate(doc.lines, start=1):
        stripped = line.lstrip()
        if lineno in inside or not stripped.startswith("#") or "flyconf:" not in stripped:
            continue
        column = len(line) - len(stripped) + 2  # the text after "#"
        codes, problems = _parse(doc, lineno, column, stripped[1:])
        bad.extend(problems)
        target = next((ins for ins in doc.instructions if ins.start_line > lineno), None)
        if target is not None and codes:
            out.append(Suppression(target.start_line, target.end_line, frozenset(codes)))
    return out, bad


def _script(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    out: list[Suppression] = []
    bad: list[Diagnostic] = []
    for line, column, text in doc.comments:
        if "flyconf:" not in text:
            continue
        if doc.line_text(line)[: column - 1].strip():
            continue  # a trailing comment; only own-line pragmas count
        codes, problems = _parse(doc, line, column + 1, text)
        bad.extend(problems)
        target = next((n for n in range(line + 1, len(doc.lines) + 1)
                       if doc.line_text(n).strip() and not doc.line_text(n).lstrip().startswith("#")), None)
        if target is not None and codes:
            out.append(Suppression(target, target, frozenset(codes)))
    return out, bad


def apply(diagnostics: Iterable[Diagnostic], documents: dict[str, Any]) -> list[Diagnostic]:
    """Drop suppressed findings; add findings for suppressions that name no rule."""
    table: dict[str, list[Suppression]] = {}
    extra: list[Diagnostic] = []
    for path, doc in documents.items():
        sups, bad = suppressions(doc)
        table[path] = sups
        extra.extend(bad)
    kept = []
    for d in diagnostics:
        if any(s.first <= d.line <= s.last and d.code in s.codes for s in table.get(d.path, ())):
            continue
        kept.append(d)
    return kept + extra
