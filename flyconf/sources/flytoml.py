"""fly.toml documents: the parsed value and the position of every key."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from flyconf.diagnostics import Span
from flyconf.sources.base import Document, ReadFailure, end_position
from flyconf.sources.tomlspan import KeyPath, TomlPositions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


@dataclass
class FlyToml(Document):
    """A parsed fly.toml. ``data`` is exactly what the file says (before flyctl's normalisation)."""

    data: dict[str, Any] = field(default_factory=dict)
    positions: TomlPositions | None = field(default=None, repr=False)

    def span_of(self, where: object) -> Span:
        if isinstance(where, tuple) and (not where or isinstance(where[0], str)):
            return self.value_span(where)
        return super().span_of(where)

    def value_span(self, path: KeyPath) -> Span:
        return self.positions.value_span(path) if self.positions else Span(1, 1)

    def key_span(self, path: KeyPath) -> Span:
        return self.positions.key_span(path) if self.positions else Span(1, 1)

    def get(self, path: KeyPath, default: Any = None) -> Any:
        node: Any = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node


def parse_flytoml(text: str, display_path: str, fs_path: Any = None) -> FlyToml | ReadFailure:
    """Parse TOML text. A syntax error is returned as a failure with the fault's line and column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _syntax_failure(exc, text)
    except RecursionError:
        return ReadFailure("syntax", "TOML is nested too deeply to read")
    except ValueError:
        # Not a TOMLDecodeError: Python refused to convert an integer of over 4300 digits
        # (sys.get_int_max_str_digits). Valid syntax otherwise, so the scanner can find it.
        line, col = _long_integer_at(text)
        return ReadFailure("syntax", _TOO_LARGE, line, col, _TOO_LARGE_HINT)
    try:
        positions = TomlPositions(text)
    except (ValueError, IndexError):  # pragma: no cover - a scanner bug; keep linting without positions
        positions = None
    outside = _first_int_outside_int64(data)
    if outside is not None:
        span = positions.value_span(outside) if positions else Span(1, 1)
        return ReadFailure("syntax", _TOO_LARGE, span.line, span.column, _TOO_LARGE_HINT)
    return FlyToml(display_path=display_path, text=text, fs_path=fs_path, data=data, positions=positions)


# TOML 1.0 (Integer): "If an integer cannot be represented losslessly, an error must be thrown";
# flyctl's parser, pelletier/go-toml v2, stops at a decimal integer that does not fit in an int64.
_TOO_LARGE = "invalid TOML: integer does not fit in a 64-bit signed integer"
_TOO_LARGE_HINT = "TOML integers range from -9223372036854775808 to 9223372036854775807"
_INT64 = range(-(2**63), 2**63)
_LONG_INTEGER = re.compile(r"[+-]?[0-9](?:_?[0-9])*")


def _first_int_outside_int64(node: Any, path: KeyPath = ()) -> KeyPath | None:
    """The path of the first integer TOML cannot hold, depth first (iterative: nesting may be deep)."""
    stack: list[tuple[KeyPath, Any]] = [(path, node)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, int) and not isinstance(value, bool):
            if value not in _INT64:
                return where
        elif isinstance(value, dict):
            stack.extend((where + (k,), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((where + (i,), v) for i, v in reversed(list(enumerate(value))))
    return None


def _long_integer_at(text: str) -> tuple[int, int]:
    """Line and column of the first value that is an integer literal too long for Python to convert."""
    try:
        positions = TomlPositions(text)
    except (ValueError, IndexError):  # a syntax error after the integer: tomllib stopped before it
        positions = None
    starts: set[tuple[int, int]] = set()
    if positions is not None:
        starts = {(e.value.line, e.value.column) for e in positions.entries.values() if e.value is not None}
    first: tuple[int, int] | None = None
    for m in _LONG_INTEGER.finditer(text):
        if len(m.group()) - m.group().count("_") - (m.group()[0] in "+-") <= 4300:
            continue
        if positions is None:
            return _position(text, m.start())
        at = positions.position(m.start())
        if at in starts:
            return at
        first = first or at
    return first or (1, 1)


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _syntax_failure(exc: Exception, text: str) -> ReadFailure:
    raw = str(exc.args[0]) if exc.args else str(exc)
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None)
    msg = getattr(exc, "msg", None) or raw
    m = _AT.search(raw)
    if m:
        line, col = int(m.group(1)), int(m.group(2))
        msg = raw[: m.start()]
    elif _AT_END.search(raw):
        msg = _AT_END.sub("", raw)
        line, col = end_position(text)
    msg = msg.strip().rstrip(".")
    hint = _syntax_hint(msg)
    return ReadFailure("syntax", f"invalid TOML: {msg[:1].lower()}{msg[1:]}", line or 1, col or 1, hint)


def _syntax_hint(msg: str) -> str | None:
    low = msg.lower()
    if "cannot declare" in low or "cannot overwrite" in low or "cannot mutate" in low:
        return ("a key or table is defined twice; note that [mounts] and [[mounts]] cannot be mixed, "
                "and `mounts = []` cannot be followed by a [[mounts]] table")
    if "expected '=' after a key" in low:
        return "each line is `key = value`; string values need quotes"
    if "invalid value" in low:
        return "strings need quotes: `key = \"value\"`"
    return None
