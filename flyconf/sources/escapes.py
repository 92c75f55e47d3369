"""Backslash escapes in string literals, for the languages flyconf reads (TOML, JavaScript, Go, Rust).

One decoder, told each language's rules: its single-character escapes, its fixed-width hex forms
(`\\xHH`, `\\uHHHH`, `\\UHHHHHHHH`), `\\u{...}`, Go's octal `\\NNN`, and what a backslash before a
line break does. Unknown escapes keep the character after the backslash (what the languages'
lenient readers do, and all flyconf needs to read a path).
"""

from __future__ import annotations

import re
from typing import Mapping

_HEX = re.compile(r"[0-9A-Fa-f]+\Z")

TOML = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
JS = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
GO = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}
RUST = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}


def unescape(body: str, simple: Mapping[str, str], *, fixed: Mapping[str, int] | None = None, braced: bool = False,
             octal: bool = False, continuation: str | None = None) -> str:
    """The value of a string literal's body (between its quotes).

    ``fixed``: letter -> number of hex digits (`{"x": 2, "u": 4}`); ``braced``: `\\u{1F600}`; ``octal``:
    Go's three-digit `\\NNN`; ``continuation``: "line" drops a backslash-newline (JavaScript), "space" also
    the white space after it (Rust), None keeps the newline as the escaped character.
    """
    if "\\" not in body:
        return body
    fixed = fixed or {}
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if continuation and nxt in "\r\n":
            i += 3 if body[i + 1:i + 3] == "\r\n" else 2
            if continuation == "space":
                while i < n and body[i] in " \t\r\n":
                    i += 1
            continue
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
            continue
        if braced and nxt == "u" and body[i + 2:i + 3] == "{":
            close = body.find("}", i + 3)
            digits = body[i + 3:close].replace("_", "") if close != -1 else ""
            if 1 <= len(digits) <= 6 and _HEX.match(digits) and int(digits, 16) <= 0x10FFFF:
                out.append(chr(int(digits, 16)))
                i = close + 1
                continue
        width = fixed.get(nxt)
        if width and _HEX.match(body[i + 2:i + 2 + width]) and len(body[i + 2:i + 2 + width]) == width:
            code = int(body[i + 2:i + 2 + width], 16)
            out.append(chr(code) if code <= 0x10FFFF else "\ufffd")
            i += 2 + width
            continue
        if octal and re.fullmatch(r"[0-7]{3}", body[i + 1:i + 4]):
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
            continue
        out.append(nxt)
        i += 2
    return "".join(out)
