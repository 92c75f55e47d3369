"""Source positions for TOML documents.

``tomllib`` parses TOML correctly but keeps no positions. This module scans a
document that ``tomllib`` has already accepted and records, for every key path
(``("mounts", 0, "destination")``), where its key and its value are. It is a
lexer, not a second parser: it never decides whether the document is valid,
so it needs to be right only on valid TOML, which the tests check against
``tomllib`` on generated documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from flyconf.diagnostics import Span
from flyconf.sources.base import LineIndex

PathPart = Union[str, int]
KeyPath = tuple[PathPart, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = frozenset(" \t\r\n,]}#")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}$")
_TIME_AFTER_SPACE = re.compile(r" \d{2}:")


@dataclass
class Entry:
    """Where one key path appears: its key, its value, and whether a ``[header]`` made it."""

    key: Span | None = None
    value: Span | None = None
    header: bool = False


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str  # without the leading "#"
    own_line: bool  # nothing but blanks before it on its line


class _Marker:
    """Shadow-tree stand-in for a value that headers cannot extend."""


_LEAF = _Marker()


class TomlPositions:
    """Positions of keys and values in a TOML text, by key path."""

    def __init__(self, text: str) -> None:
        self.text = text
        # TOML ends a line at "\n" (or "\r\n"): flyconf's line model, shared with every other source.
        self.lines = LineIndex(text)
        self.entries: dict[KeyPath, Entry] = {}
        self.comments: list[Comment] = []
        # Lines that hold a key/value pair or a table header: where each starts.
        self.statements: dict[int, KeyPath] = {}
        _Scanner(self).run()

    # -- offsets to positions -------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        return self.lines.position(offset)

    def span(self, start: int, end: int) -> Span:
        return self.lines.span(start, end)

    # -- lookups --------------------------------------------------------------
    def value_span(self, path: KeyPath) -> Span:
        """The value at ``path``, else its key, else the nearest ancestor that has a position."""
        for i in range(len(path), 0, -1):
            entry = self.entries.get(tuple(path[:i]))
            if entry is not None:
                span = entry.value if i == len(path) else (entry.key or entry.value)
                span = span or entry.key
                if span is not None:
                    return span
        return Span(1, 1)

    def key_span(self, path: KeyPath) -> Span:
        """The key of ``path`` (the table header for tables), else as :meth:`value_span`."""
        entry = self.entries.get(tuple(path))
        if entry is not None and entry.key is not None:
            return entry.key
        return self.value_span(path)


class _Scanner:
    def __init__(self, owner: TomlPositions) -> None:
        self.o = owner
        self.s = owner.text
        self.n = len(self.s)
        self.i = 0
        self.shadow: dict[str, object] = {}
        self.table: KeyPath = ()
        self.table_node: dict[str, object] = self.shadow

    # -- helpers ----------------------------------------------------------------
    def record(self, path: KeyPath, *, key: Span | None = None, value: Span | None = None,
               header: bool = False) -> None:
        entry = self.o.entries.get(path)
        if entry is None:
            self.o.entries[path] = Entry(key, value, header)
            return
        if key is not None and entry.key is None:
            entry.key = key
        if value is not None and entry.value is None:
            entry.value = value
        entry.header = entry.header or header

    def skip_blanks(self) -> None:
        s, n = self.s, self.n
        while self.i < n and s[self.i] in " \t":
            self.i += 1

    def skip_comment(self) -> None:
        if self.i < self.n and self.s[self.i] == "#":
            start = self.i
            end = self.s.find("\n", start)
            if end == -1:
                end = self.n
            line, col = self.o.position(start)
            before = self.s[self.o.lines.line_start(line) : start]
            text = self.s[start + 1 : end].rstrip("\r")
            self.o.comments.append(Comment(line, col, text, own_line=not before.strip()))
            self.i = end

    def skip_space_comments_newlines(self) -> None:
        s, n = self.s, self.n
        while self.i < n:
            ch = s[self.i]
            if ch in " \t\r\n":
                self.i += 1
            elif ch == "#":
                self.skip_comment()
            else:
                return

    # -- document ---------------------------------------------------------------
    def run(self) -> None:
        while True:
            self.skip_space_comments_newlines()
            if self.i >= self.n:
                return
            if self.s[self.i] == "[":
                self.header()
            else:
                start = self.i
                path = self.keyval(self.table, self.table_node)
                self.o.statements.setdefault(self.o.position(start)[0], path)

    def header(self) -> None:
        start = self.i
        array = self.s.startswith("[[", self.i)
        self.i += 2 if array else 1
        self.skip_blanks()
        parts = self.key_parts()
        self.skip_blanks()
        self.i += 2 if array else 1
        header_span = self.o.span(start, self.i)
        node: dict[str, object] = self.shadow
        path: KeyPath = ()
        for idx, (name, kstart, kend) in enumerate(parts):
            last = idx == len(parts) - 1
            key_span = self.o.span(kstart, kend)
            if last and array:
                lst = node.get(name)
                if not isinstance(lst, list):
                    lst = []
                    node[name] = lst
                    self.record(path + (name,), key=key_span, value=header_span, header=True)
                lst.append({})
                path = path + (name, len(lst) - 1)
                node = lst[-1]
                self.record(path, key=key_span, value=header_span, header=True)
                break
            child = node.get(name)
            if isinstance(child, list):
                path = path + (name, len(child) - 1)
                self.record(path[:-1], key=key_span)
                node = child[-1]
                continue
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            path = path + (name,)
            node = child
            if last:
                self.record(path, key=key_span, value=header_span, header=True)
            else:
                self.record(path, key=key_span)
        self.table = path
        self.table_node = node
        self.o.statements.setdefault(header_span.line, path)

    # -- keys -------------------------------------------------------------------
    def key_parts(self) -> list[tuple[str, int, int]]:
        parts: list[tuple[str, int, int]] = []
        while True:
            self.skip_blanks()
            start = self.i
            ch = self.s[self.i] if self.i < self.n else ""
            if ch == '"':
                self.i = self.basic_string_end(self.i)
                name = _unescape_basic(self.s[start + 1 : self.i - 1])
            elif ch == "'":
                end = self.s.index("'", self.i + 1)
                name = self.s[self.i + 1 : end]
                self.i = end + 1
            else:
                m = _BARE_KEY.match(self.s, self.i)
                if m is None:  # not valid TOML; stop rather than loop
                    raise ValueError(f"unexpected character at offset {self.i}")
                name = m.group(0)
                self.i = m.end()
            parts.append((name, start, self.i))
            self.skip_blanks()
            if self.i < self.n and self.s[self.i] == ".":
                self.i += 1
                continue
            return parts

    def keyval(self, table: KeyPath, node: dict[str, object]) -> KeyPath:
        parts = self.key_parts()
        self.skip_blanks()
        self.i += 1  # "="
        self.skip_blanks()
        path = table
        for idx, (name, kstart, kend) in enumerate(parts):
            path = path + (name,)
            last = idx == len(parts) - 1
            if last:
                node[name] = _LEAF
                key_span = self.o.span(kstart, kend)
                vstart = self.i
                self.value(path)
                self.o.entries.setdefault(path, Entry())
                entry = self.o.entries[path]
                entry.key = entry.key or key_span
                entry.value = self.o.span(vstart, self.i)
            else:
                child = node.get(name)
                if not isinstance(child, dict):
                    child = {}
                    node[name] = child
                node = child
                self.record(path, key=self.o.span(kstart, kend))
        return path

    # -- values -----------------------------------------------------------------
    def value(self, path: KeyPath) -> None:
        s = self.s
        ch = s[self.i] if self.i < self.n else ""
        if ch == '"':
            if s.startswith('"""', self.i):
                self.i = self.multiline_end(self.i, '"""', escapes=True)
            else:
                self.i = self.basic_string_end(self.i)
        elif ch == "'":
            if s.startswith("'''", self.i):
                self.i = self.multiline_end(self.i, "'''", escapes=False)
            else:
                self.i = s.index("'", self.i + 1) + 1
        elif ch == "[":
            self.array(path)
        elif ch == "{":
            self.inline_table(path)
        else:
            self.scalar()

    def scalar(self) -> None:
        s, n = self.s, self.n
        start = self.i
        while self.i < n and s[self.i] not in _SCALAR_END:
            self.i += 1
        # A date-time may use a space between date and time: "1979-05-27 07:32:00".
        if _DATE_ONLY.match(s, start, self.i) and _TIME_AFTER_SPACE.match(s, self.i):
            self.i += 1
            while self.i < n and s[self.i] not in _SCALAR_END:
                self.i += 1
        if self.i == start:
            raise ValueError(f"empty value at offset {start}")

    def array(self, path: KeyPath) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_space_comments_newlines()
            if self.i >= self.n:
                raise ValueError("unterminated array")
            if self.s[self.i] == "]":
                self.i += 1
                return
            if self.s[self.i] == ",":
                self.i += 1
                continue
            start = self.i
            item = path + (index,)
            self.value(item)
            entry = self.o.entries.setdefault(item, Entry())
            entry.value = self.o.span(start, self.i)
            index += 1

    def inline_table(self, path: KeyPath) -> None:
        self.i += 1
        node: dict[str, object] = {}
        while True:
            self.skip_space_comments_newlines()
            if self.i >= self.n:
                raise ValueError("unterminated inline table")
            ch = self.s[self.i]
            if ch == "}":
                self.i += 1
                return
            if ch == ",":
                self.i += 1
                continue
            self.keyval(path, node)

    # -- strings ----------------------------------------------------------------
    def basic_string_end(self, start: int) -> int:
        s = self.s
        i = start + 1
        while True:
            ch = s[i]
            if ch == "\\":
                i += 2
            elif ch == '"':
                return i + 1
            else:
                i += 1

    def multiline_end(self, start: int, delim: str, *, escapes: bool) -> int:
        s = self.s
        i = start + 3
        while True:
            ch = s[i]
            if escapes and ch == "\\":
                i += 2
                continue
            if s.startswith(delim, i):
                end = i + 3
                # Up to two quote characters may sit right before the closing delimiter.
                extra = 0
                while extra < 2 and end < self.n and s[end] == delim[0]:
                    end += 1
                    extra += 1
                return end
            i += 1


def _unescape_basic(raw: str) -> str:
    from flyconf.sources.escapes import TOML, unescape

    return unescape(raw, TOML, fixed={"u": 4, "U": 8, "x": 2})


