"""The default human output: ``path:line:col: severity: CODE [rule] message``, the source line and a caret."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Mapping, Sequence

from flyconf.diagnostics import Diagnostic, Severity
from flyconf.report.escape import visible
from flyconf.sources.base import split_lines

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_COLOR = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}


def render_text(
    diagnostics: Sequence[Diagnostic],
    *,
    sources: Mapping[str, str],
    color: bool = False,
    files: int = 0,
    concise: bool = False,
) -> str:
    out: list[str] = []
    lines_cache: dict[str, list[str]] = {}

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    for d in diagnostics:
        out.append(headline(d, paint))
        if concise:
            continue
        if d.path not in lines_cache:
            lines_cache[d.path] = split_lines(sources.get(d.path, ""))
        src = lines_cache[d.path]
        if 1 <= d.line <= len(src):
            raw = src[d.line - 1].replace("\t", " ")
            # Controls in the line are shown escaped (visible), so the caret is placed by escaped widths.
            text = visible(raw)
            start = len(visible(raw[:d.column - 1])) + max(0, d.column - 1 - len(raw))
            gutter = " " * len(str(d.line))
            if d.end_line == d.line and d.end_column is not None and d.end_column > d.column:
                spanned = raw[d.column - 1:d.end_column - 1]
                width = len(visible(spanned)) + (d.end_column - d.column - len(spanned))
            elif d.end_line is not None and d.end_line > d.line:
                width = max(1, len(text) - start)
            else:
                width = 1
            caret = " " * start + "^" * width
            out.append(paint(_DIM, f"{gutter} |"))
            out.append(f"{paint(_DIM, f'{d.line} |')} {text}")
            out.append(f"{paint(_DIM, f'{gutter} |')} {paint(_COLOR[d.severity], caret)}")
            if d.hint:
                out.append(f"{gutter} = hint: {visible(d.hint)}")
        else:
            gutter = " "
            if d.hint:
                out.append(f"  = hint: {visible(d.hint)}")
        url = _url(d.code)
        if url:
            out.append(f"{gutter} = see: {url}")
        out.append("")
    out.append(summary(diagnostics, files))
    return "\n".join(out) + "\n"


def _url(code: str) -> str | None:
    """The rule's documentation (its section of docs/rules.md)."""
    from flyconf import registry

    rule = registry.get(code)
    return rule.url if rule is not None else None
def headline(d: Diagnostic, paint: Callable[[str, str], str]) -> str:
    """`path:line:col: severity: CODE [rule] message`, the compiler form that editors and CI matchers read.

    `[*]` after the rule, as in ruff: `flyconf fix` changes this one.
    """
    fix = " [*]" if d.fixable else ""
    # The path and the message can quote the file (keys, values, file names): escaped, so that they
    # cannot colour the terminal or forge a second finding line.
    return (f"{paint(_BOLD, f'{visible(d.path)}:{d.line}:{d.column}:')} "
            f"{paint(_COLOR[d.severity], d.severity.value + ':')} "
            f"{paint(_COLOR[d.severity] + _BOLD, d.code)} [{d.rule}]{fix} {visible(d.message)}")


def summary(diagnostics: Sequence[Diagnostic], files: int) -> str:
    where = f" in {files} file{'s' if files != 1 else ''}" if files else ""
    if not diagnostics:
        return f"No problems found{where}."
    counts = Counter(d.severity for d in diagnostics)
    parts = []
    for sev, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info")):
        n = counts.get(sev, 0)
        if n:
            parts.append(f"{n} {word}{'s' if n != 1 and word != 'info' else ''}")
    n = len(diagnostics)
    fixable = sum(1 for d in diagnostics if d.fixable)
    tail = f"; {fixable} marked [*] can be fixed with `flyconf fix`" if fixable else ""
    return f"Found {n} problem{'s' if n != 1 else ''} ({', '.join(parts)}){where}{tail}."
