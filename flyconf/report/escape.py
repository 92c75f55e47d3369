"""Text from the files linted, made safe to print and to serialise.

A linted file can hold anything: an escape sequence in a quoted TOML key would recolour or rewrite the
terminal that shows the report, a newline or a U+2028 in a value would forge a second finding line in CI
logs, bidi controls reorder what is read (CVE-2021-42574, "Trojan Source"), and a lone surrogate (from
a file name that is not UTF-8, or a `lint_text` string) cannot be encoded at all.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# C0 controls, DEL, C1 controls, the line and paragraph separators, the bidi embeddings, overrides and
# isolates, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_BUT_TAB = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    if m.group() in _SHORT:
        return _SHORT[m.group()]
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` with every control, separator, bidi and lone-surrogate character written as an escape
    (``\\x1b``, ``\\u2028``), so that it prints as one inert line. Tabs stay with ``keep_tabs``."""
    return (_UNSAFE_BUT_TAB if keep_tabs else _UNSAFE).sub(_escape, text)


def json_text(value: Any, *, indent: int | None = 2, ensure_ascii: bool = False) -> str:
    """``value`` as a JSON document that is always valid and always encodable as UTF-8.

    Non-ASCII text stays readable (``ensure_ascii=False``) except lone surrogates, which become
    ``\\udcff`` escapes (valid JSON, the same string for a JSON reader); a float that is not finite,
    which JSON cannot hold, becomes its TOML spelling as a string ("inf", "-inf", "nan").
    """
    text = json.dumps(_finite(value), indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    return _SURROGATE.sub(_json_escape, text)


def _json_escape(m: re.Match[str]) -> str:
    return json_escape(m.group())


def json_escape(char: str) -> str:
    """One character as a JSON escape (a surrogate pair beyond the BMP): valid inside any JSON string."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def encodable(text: str, encoding: str, *, json_document: bool) -> str:
    """``text`` with what ``encoding`` cannot write escaped: as JSON escapes in a JSON document (where
    non-ASCII text only occurs inside strings), else as Python's backslash escapes."""
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    if not json_document:
        try:
            return text.encode(encoding, "backslashreplace").decode(encoding)
        except LookupError:
            return text.encode("ascii", "backslashreplace").decode("ascii")
    out = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
        except (UnicodeEncodeError, LookupError):
            out.append(json_escape(char))
    return "".join(out)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
