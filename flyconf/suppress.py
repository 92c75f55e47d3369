"""Inline suppressions: `# flyconf: ignore[rule-or-code, ...]` and `# flyconf: ignore-file[...]`.

On a line of its own the comment silences what comes next: in fly.toml the next key (its whole
value) or table (up to the next header); in a Dockerfile the next instruction (all its lines); in
a script or an app configuration file (database.yml, settings.py, schema.prisma with `//`...) the
next line that is not a comment. At the end of a line (fly.toml, scripts and configuration files;
a Dockerfile has no trailing comments) it silences that line, or the key or table it ends.
`ignore-file[...]` anywhere silences the whole file. A reason may follow the bracket, after `--`
or not. Malformed comments and names that are not rules are `invalid-suppression`; a suppression
that silenced nothing is `unused-suppression`.
"""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterable

from flyconf import registry
from flyconf.diagnostics import Diagnostic, Span
from flyconf.registry import declare

INVALID_SUPPRESSION = declare(
    "FC901", "invalid-suppression", "warning",
    "A `# flyconf: ...` comment is malformed, or names a rule or code that does not exist.",
    """
    A suppression silences the findings it names on the next key, table,
    instruction or command. A misspelt name silences nothing, so the finding
    you meant to accept is still reported, or worse, a later rename goes
    unnoticed. Use rule names (`sqlite-not-on-volume`) or codes (`FC402`), as
    `flyconf rules` lists them, in brackets: `# flyconf: ignore[FC402]`. A
    comment that starts with `flyconf:` but is not `ignore[...]` or
    `ignore-file[...]` (`# flyconf: ignore FC402`, without brackets) is
    reported too, with the form it was probably meant to have.
    """,
    bad="# flyconf: ignore[sqlite-not-on-volum]\nDATABASE_URL = \"file:/tmp/cache.db\"\n",
    good="# flyconf: ignore[sqlite-not-on-volume] a cache, rebuilt on start\nDATABASE_URL = \"file:/tmp/cache.db\"\n",
    family="suppressions",
)

UNUSED_SUPPRESSION = declare(
    "FC902", "unused-suppression", "warning",
    "A `# flyconf: ignore[...]` comment silenced nothing.",
    """
    A suppression that silences nothing is left over: the finding it was
    written for was fixed, moved to another line, or never happened there.
    Left in place it hides the next real finding of that rule on that line
    without anyone deciding to. The finding points at the name that
    silenced nothing; remove it (or the whole comment). A suppression of a
    rule that is not selected (`--select`, `--ignore`, the configuration's
    `select`, `ignore`, `per-file-ignores`) is not reported, as ruff's
    RUF100 does not report one.
    """,
    bad="[env]\n# flyconf: ignore[sqlite-not-on-volume]\nPORT = \"8080\"\n",
    good="[env]\nPORT = \"8080\"\n",
    family="suppressions",
)

# Findings about suppressions themselves: never reported as unused (whether one was needed is
# decided only after the others have been judged).
_META = frozenset({INVALID_SUPPRESSION.code, UNUSED_SUPPRESSION.code})

_PRAGMA = re.compile(r"flyconf:\s*(ignore-file|ignore)\[([^\]]*)\]")
_LEADING = re.compile(r"\s*flyconf:\s*")
_DIRECTIVES = ("ignore", "ignore-file")


@dataclass(frozen=True)
class Name:
    """One rule named in a suppression, and where it is written."""

    code: str
    span: Span
    written: str


@dataclass(frozen=True)
class Suppression:
    """Lines ``first``..``last`` (inclusive; empty when ``last < first``) or the whole file."""

    first: int
    last: int
    names: tuple[Name, ...]
    whole_file: bool = False

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(n.code for n in self.names)

    def covers(self, line: int) -> bool:
        return self.whole_file or self.first <= line <= self.last


@dataclass(frozen=True)
class _Pragma:
    names: tuple[Name, ...]
    whole_file: bool


def _parse(doc: Any, line: int, column: int, text: str) -> tuple[_Pragma | None, list[Diagnostic]]:
    """The pragma in comment ``text`` (its first character at ``column``), and findings for what is wrong."""
    m = _PRAGMA.search(text)
    if m is None:
        lead = _LEADING.match(text)
        found = _malformed(doc, line, column + lead.end(), text[lead.end():]) if lead else None
        return None, [found] if found is not None else []
    names: list[Name] = []
    bad: list[Diagnostic] = []
    offset = column + m.start(2)
    for part in m.group(2).split(","):
        lead_blank = len(part) - len(part.lstrip())
        name = part.strip()
        if name:
            col = offset + lead_blank
            span = Span(line, col, line, col + len(name))
            rule = registry.get(name)
            if rule is None:
                hint = _did_you_mean(name)
                bad.append(INVALID_SUPPRESSION.diagnostic(
                    doc, span,
                    f"`{name}` in a flyconf suppression is not a rule name or code, so it silences nothing"
                    + (f"; {hint}" if hint else ""),
                    hint="`flyconf rules` lists the rule names and codes",
                ))
            else:
                names.append(Name(rule.code, span, name))
        offset += len(part) + 1
    if not m.group(2).strip():
        start = column + m.start()
        bad.append(INVALID_SUPPRESSION.diagnostic(
            doc, Span(line, start, line, column + m.end()),
            f"`flyconf: {m.group(1)}[]` names no rule, so it silences nothing",
            hint=f"name the rules: `# flyconf: {m.group(1)}[sqlite-not-on-volume]` (`flyconf rules` lists them)",
        ))
    return _Pragma(tuple(names), m.group(1) == "ignore-file"), bad


_CODE_LIKE = re.compile(r"^FC\d+$", re.IGNORECASE)


def _did_you_mean(name: str) -> str | None:
    """A rule the misspelt ``name`` probably meant; none for a code (FC999 is not "near" FC902)."""
    from flyconf.suggest import did_you_mean

    if _CODE_LIKE.match(name):
        return None
    rules = registry.all_rules()
    return did_you_mean(name, [r.name for r in rules] + [r.code for r in rules])


def _malformed(doc: Any, line: int, column: int, rest: str) -> Diagnostic | None:
    """A comment that starts with `flyconf:` but is not `ignore[...]` or `ignore-file[...]`."""
    body = rest.rstrip()
    span = Span(line, column, line, column + max(1, len(body)))
    m = re.match(r"([A-Za-z_-]*)\s*[:=]?\s*(.*)", body)
    word, tail = (m.group(1), m.group(2)) if m else ("", body)
    if word.lower() in _DIRECTIVES:
        directive = word.lower()
        if tail.startswith("["):
            return INVALID_SUPPRESSION.diagnostic(
                doc, span, "the `[` of this flyconf suppression is not closed, so it silences nothing",
                hint=f"write `# flyconf: {directive}[RULE, ...]`")
        wanted = re.split(r"\s+--|\s#", tail, maxsplit=1)[0]
        words = [w for w in re.split(r"[,\s]+", wanted) if w]
        fixed = [_known_or_closest(w) for w in words]
        if not words:
            return INVALID_SUPPRESSION.diagnostic(
                doc, span, f"`flyconf: {directive}` names no rule, so it silences nothing",
                hint=f"name the rules in brackets: `# flyconf: {directive}[sqlite-not-on-volume]`")
        return INVALID_SUPPRESSION.diagnostic(
            doc, span, f"a flyconf suppression takes its rules in brackets, so this one silences nothing; "
                       f"did you mean `flyconf: {directive}[{', '.join(fixed)}]`?",
            hint="the form is `# flyconf: ignore[RULE, ...]`, then an optional reason after `--`")
    from flyconf.suggest import did_you_mean

    hint = did_you_mean(word, _DIRECTIVES) if word else None
    if hint is None and (tail or not word):
        return None  # prose that starts with "flyconf:" (the note `flyconf fix` leaves in fly.toml), not a pragma
    return INVALID_SUPPRESSION.diagnostic(
        doc, span, f"`flyconf: {word or body}` is not a flyconf suppression" + (f"; {hint}" if hint else ""),
        hint="the forms are `# flyconf: ignore[RULE, ...]` and `# flyconf: ignore-file[RULE, ...]`")


def _known_or_closest(word: str) -> str:
    if registry.get(word) is not None or _CODE_LIKE.match(word):
        return word
    from flyconf.suggest import closest

    rules = registry.all_rules()
    return closest(word, [r.name for r in rules] + [r.code for r in rules]) or word


def suppressions(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    """Every suppression in a document, with findings for malformed ones and names that are not rules."""
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


def _collect(doc: Any, line: int, column: int, text: str, out: list[Suppression], bad: list[Diagnostic],
             lines: Callable[[], tuple[int, int] | None]) -> None:
    """Parse one comment and add its suppression; ``lines()`` gives what a line pragma covers."""
    pragma, problems = _parse(doc, line, column, text)
    bad.extend(problems)
    if pragma is None or not pragma.names:
        return
    if pragma.whole_file:
        out.append(Suppression(1, len(doc.lines), pragma.names, whole_file=True))
        return
    covered = lines()
    first, last = covered if covered is not None else (line, line - 1)  # nothing follows: covers nothing
    out.append(Suppression(first, last, pragma.names))


def _config(doc: Any, prefixes: tuple[str, ...]) -> tuple[list[Suppression], list[Diagnostic]]:
    """`# flyconf: ...` (or `//`) comments: on their own line they silence the next line that is not a
    comment; after code (the marker preceded by a blank) they silence their own line."""
    out: list[Suppression] = []
    bad: list[Diagnostic] = []
    marker = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(p) for p in prefixes) + r")(?=\s*flyconf:)")

    def is_comment(text: str) -> bool:
        return text.lstrip().startswith(prefixes)

    following = _next_lines(doc, lambda text: bool(text.strip()) and not is_comment(text))
    for lineno, line in enumerate(doc.lines, start=1):
        if "flyconf:" not in line:
            continue
        stripped = line.lstrip()
        prefix = next((p for p in prefixes if stripped.startswith(p)), None)
        if prefix is not None:  # a comment line: the pragma may stand anywhere in it
            start = len(line) - len(stripped) + len(prefix)
            own_line = True
        else:
            m = marker.search(line)
            if m is None:
                continue
            start, own_line = m.end(), False
        column = start + 1

        def covered(lineno: int = lineno, own_line: bool = own_line) -> tuple[int, int] | None:
            if not own_line:
                return lineno, lineno
            target = following(lineno)
            return None if target is None else (target, target)

        _collect(doc, lineno, column, line[start:], out, bad, covered)
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
    headers = set(header_lines)
    # Lines are looked up by bisection: a file of many suppressions and statements stays linear-logarithmic.

    def extent(target: int) -> tuple[int, int]:
        """The lines of the statement starting at ``target``: a table up to the next header, a key's value."""
        if target in headers:
            k = bisect.bisect_right(header_lines, target)
            return target, (header_lines[k] - 1 if k < len(header_lines) else len(doc.lines))
        entry = pos.entries.get(pos.statements[target])
        end = entry.value.end_line if entry is not None and entry.value is not None and entry.value.end_line else target
        return target, max(end, target)

    for c in pos.comments:
        if "flyconf:" not in c.text:
            continue

        def covered(c: Any = c) -> tuple[int, int] | None:
            if c.own_line:
                k = bisect.bisect_right(statement_lines, c.line)
                return None if k == len(statement_lines) else extent(statement_lines[k])
            # A trailing comment: the statement it ends (a key with a multi-line value ends on a later line).
            k = bisect.bisect_right(statement_lines, c.line)
            if k == 0:
                return c.line, c.line
            start = statement_lines[k - 1]
            first, last = extent(start)
            if start == c.line or (start not in headers and last >= c.line):
                return first, max(last, c.line)
            return c.line, c.line

        _collect(doc, c.line, c.column + 1, c.text, out, bad, covered)
    return out, bad


def _is_header_line(doc: Any, line: int) -> bool:
    text: str = doc.line_text(line)
    return text.lstrip().startswith("[")


def _dockerfile(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    inside: set[int] = set()
    for ins in doc.instructions:
        inside.update(range(ins.start_line + 1, ins.end_line + 1))
    starts = [ins.start_line for ins in doc.instructions]  # in order: instructions follow each other
    out: list[Suppression] = []
    bad: list[Diagnostic] = []
    for lineno, line in enumerate(doc.lines, start=1):
        stripped = line.lstrip()
        if lineno in inside or not stripped.startswith("#") or "flyconf:" not in stripped:
            continue
        column = len(line) - len(stripped) + 2  # the text after "#"

        def covered(lineno: int = lineno) -> tuple[int, int] | None:
            k = bisect.bisect_right(starts, lineno)
            if k == len(starts):
                return None
            target = doc.instructions[k]
            return target.start_line, target.end_line

        _collect(doc, lineno, column, stripped[1:], out, bad, covered)
    return out, bad


def _script(doc: Any) -> tuple[list[Suppression], list[Diagnostic]]:
    out: list[Suppression] = []
    bad: list[Diagnostic] = []
    following = _next_lines(doc, lambda text: bool(text.strip()) and not text.lstrip().startswith("#"))
    for line, column, text in doc.comments:
        if "flyconf:" not in text:
            continue
        own_line = not doc.line_text(line)[: column - 1].strip()

        def covered(line: int = line, own_line: bool = own_line) -> tuple[int, int] | None:
            if not own_line:
                return line, line
            target = following(line)
            return None if target is None else (target, target)

        _collect(doc, line, column + 1, text, out, bad, covered)
    return out, bad


def _next_lines(doc: Any, wanted: Callable[[str], bool]) -> Callable[[int], int | None]:
    """``after(n)``: the first line after line ``n`` that is ``wanted``, or None; the table behind it is built
    once, on first use, so many comments in a row cost one pass and not one scan each."""
    table: list[int | None] = []

    def after(line: int) -> int | None:
        if not table:
            count = len(doc.lines)
            table.extend([None] * (count + 2))
            for n in range(count, 0, -1):
                table[n] = n if wanted(doc.line_text(n)) else table[n + 1]
        return table[line + 1] if 0 <= line < len(table) - 1 else None

    return after


def apply(
    diagnostics: Iterable[Diagnostic],
    documents: dict[str, Any],
    *,
    allows: Callable[[str, str], bool] = lambda path, code: True,
    partial: Collection[str] = (),
) -> list[Diagnostic]:
    """Drop suppressed findings; add `invalid-suppression` and `unused-suppression` findings.

    ``allows(path, code)`` says whether a rule runs for a file: a suppression of a rule that does not
    run is not unused, and the findings added here obey it too. ``partial`` names documents read only
    for context, whose findings are not all reported: their suppressions are not judged.
    """
    table: dict[str, list[Suppression]] = {}
    meta: list[Diagnostic] = []
    for path, doc in documents.items():
        sups, bad = suppressions(doc)
        table[path] = sups
        if path not in partial:
            meta.extend(bad)
    index = _Index(table)
    diagnostics = list(diagnostics)
    used = index.used(diagnostics)
    kept = [d for d in diagnostics if not index.covers(d)]
    for path, sups in table.items():
        if path in partial:
            continue
        for i, s in enumerate(sups):
            for name in s.names:
                if name.code in _META or (path, i, name.code) in used or not allows(path, name.code):
                    continue
                meta.append(_unused(documents[path], s, name))
    for d in meta:
        if allows(d.path, d.code) and not index.covers(d):
            kept.append(d)
    return kept


class _Index:
    """The suppressions of each (file, code) as line intervals sorted by their first line.

    Whether a finding is silenced is a bisection, and which suppressions silenced something is one sweep
    over the findings in line order: thousands of suppressions and findings cost n log n, not n * m.
    """

    def __init__(self, table: dict[str, list[Suppression]]) -> None:
        spans: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        for path, sups in table.items():
            for i, s in enumerate(sups):
                first, last = (1, sys.maxsize) if s.whole_file else (s.first, s.last)
                if last < first:
                    continue  # covers nothing
                for code in s.codes:
                    spans.setdefault((path, code), []).append((first, last, i))
        self._spans = {key: sorted(items) for key, items in spans.items()}
        self._firsts = {key: [first for first, _, _ in items] for key, items in self._spans.items()}
        self._reach: dict[tuple[str, str], list[int]] = {}  # the furthest last line among the first k intervals
        for key, items in self._spans.items():
            reach, furthest = [], 0
            for _, last, _ in items:
                furthest = max(furthest, last)
                reach.append(furthest)
            self._reach[key] = reach

    def covers(self, d: Diagnostic) -> bool:
        key = (d.path, d.code)
        firsts = self._firsts.get(key)
        if not firsts:
            return False
        k = bisect.bisect_right(firsts, d.line)
        return k > 0 and self._reach[key][k - 1] >= d.line

    def used(self, diagnostics: list[Diagnostic]) -> set[tuple[str, int, str]]:
        """(path, suppression index, code) of every suppression that covers at least one of ``diagnostics``."""
        lines: dict[tuple[str, str], list[int]] = {}
        for d in diagnostics:
            if (d.path, d.code) in self._spans:
                lines.setdefault((d.path, d.code), []).append(d.line)
        out: set[tuple[str, int, str]] = set()
        for key, found in lines.items():
            items = self._spans[key]
            k = 0
            waiting: list[tuple[int, int]] = []  # (last, index) of intervals started and not yet used
            for line in sorted(set(found)):
                while k < len(items) and items[k][0] <= line:
                    waiting.append((items[k][1], items[k][2]))
                    k += 1
                # An interval that ends before this line can cover no later one either: each leaves once.
                for last, i in waiting:
                    if last >= line:
                        out.add((key[0], i, key[1]))
                waiting = []
        return out


def _unused(doc: Any, s: Suppression, name: Name) -> Diagnostic:
    if s.whole_file:
        where = "in this file, which has no such finding"
    elif s.last < s.first:
        where = "but nothing follows it"
    elif s.first == s.last:
        where = f"on line {s.first}, which has no such finding"
    else:
        where = f"on lines {s.first}-{s.last}, which have no such finding"
    return UNUSED_SUPPRESSION.diagnostic(
        doc, name.span, f"`{name.written}` is suppressed {where}; the suppression silences nothing",
        hint=f"remove `{name.written}` from the comment (or the whole comment)",
    )
