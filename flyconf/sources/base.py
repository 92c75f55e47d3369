"""What every source document has: a path, its text, and a way to place findings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from flyconf.diagnostics import Span

# Files larger than this are not configuration files; reading them would only waste time.
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Document:
    """A file read once: its text and how to turn a location into a span."""

    display_path: str
    text: str
    fs_path: Path | None = None
    lines: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def span_of(self, where: object) -> Span:
        if isinstance(where, Span):
            return where
        if isinstance(where, tuple) and len(where) == 2 and all(isinstance(x, int) for x in where):
            return Span(where[0], where[1])
        raise TypeError(f"cannot place a finding at {where!r} in {type(self).__name__}")

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""


@dataclass(frozen=True)
class ReadFailure:
    """Why a file could not be turned into text, and where (for syntax-like faults)."""

    rule: str  # "io-error" or the syntax rule of the file's kind
    message: str
    line: int = 1
    column: int = 1
    hint: str | None = None


def decode(data: bytes) -> str | ReadFailure:
    """Bytes to text: UTF-8 (a BOM is dropped); binary or invalid UTF-8 is a failure at its first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
        if nul != -1 and nul < bad:
            return _binary(data, nul)
        line, col = _byte_position(data, bad)
        return ReadFailure(
            "syntax",
            f"file is not valid UTF-8: byte 0x{data[bad]:02x} at line {line}, column {col}",
            line,
            col,
            hint="save the file as UTF-8",
        )
    if nul != -1:
        return _binary(data, nul)
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> ReadFailure | None:
    """A failure at the first lone surrogate of ``text``, else None.

    Text read from a file is decoded strictly and has none, but a ``str`` handed to the library
    (``lint_text``) may: such text cannot be encoded, so no part of flyconf may have to read it.
    """
    m = _SURROGATE.search(text)
    if m is None:
        return None
    offset = m.start()
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return ReadFailure(
        "syntax",
        f"text is not valid Unicode: lone surrogate U+{ord(m.group()):04X} at line {line}, column {col}",
        line,
        col,
        hint="pass text decoded from valid UTF-8",
    )


def _binary(data: bytes, offset: int) -> ReadFailure:
    line, col = _byte_position(data, offset)
    return ReadFailure("syntax", "file looks binary: it contains a NUL byte", line, col,
                       hint="a configuration file must be UTF-8 text")


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    # Columns count characters: decode what precedes the fault on its line.
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


def read_bytes(path: Path) -> bytes | ReadFailure:
    """Read a file, turning every OS error into a message a user can act on."""
    try:
        if path.is_dir():
            return ReadFailure("io-error", f"{path} is a directory, not a file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            return ReadFailure("io-error", f"file is too large to be a configuration file ({size} bytes)")
        with open(path, "rb") as fh:
            return fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return ReadFailure("io-error", "file not found")
    except PermissionError:
        return ReadFailure("io-error", "permission denied")
    except IsADirectoryError:
        return ReadFailure("io-error", "is a directory, not a file")
    except OSError as exc:
        return ReadFailure("io-error", f"cannot read file: {exc.strerror or exc}")


def display(path: Path) -> str:
    """A path as users expect to see it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith(".." + os.sep) else rel
