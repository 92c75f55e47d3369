"""What every source document has: a path, its text, and a way to place findings."""

from __future__ import annotations

import bisect
import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from flyconf.diagnostics import Span

# Files larger than this are not configuration files; reading them would only waste time.
MAX_BYTES = 2 * 1024 * 1024


# -- the line model ---------------------------------------------------------------------------------
# One model for every source, because TOML, BuildKit and sh all end a line at "\n" only ("\r\n" is one
# ending: the "\r" is dropped when a line is shown). str.splitlines() also breaks at "\r", "\f", "\v",
# "\x1c"-"\x1e", "\x85", U+2028 and U+2029, which are ordinary characters (or a syntax error) to those
# parsers: a finding numbered with it points at the wrong line, or past the end of the file.
# Lines are numbered from 1; a column counts characters (code points) from 1, so a column can be one
# past the last character of its line (the end of a span, or the "\r" of a "\r\n").


def split_lines(text: str) -> list[str]:
    r"""The lines of ``text`` as flyconf numbers them: split at "\n" only, one trailing "\r" dropped.

    A final "\n" ends the last line rather than starting an empty one (as str.splitlines does).
    """
    lines = text.split("\n")
    last = lines.pop()  # what follows the last "\n": a line only when not empty
    out = [line[:-1] if line.endswith("\r") else line for line in lines]
    if last:
        out.append(last)  # no "\n" after it: a "\r" at its end is not a line ending
    return out


def lines_with_ends(text: str) -> list[str]:
    r"""``text`` cut after each "\n" (what str.splitlines(keepends=True) gives under flyconf's line model).

    Joining the pieces gives ``text`` back; piece i is line i+1 with its line ending.
    """
    pieces = text.split("\n")
    out = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        out.append(pieces[-1])
    return out


class LineIndex:
    """Character offsets of a text to 1-based (line, column), under the line model above."""

    __slots__ = ("length", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, column) of the character at ``offset`` (the end of the text for a larger one)."""
        offset = max(0, min(offset, self.length))
        line = bisect.bisect_right(self.starts, offset)
        start = self.starts[line - 1]
        column = offset - start + 1
        # The "\n" of a "\r\n" is where its "\r" is, just after the line's text as split_lines shows it: a CRLF
        # file gives the columns of its LF twin.
        if line < len(self.starts) and offset == self.starts[line] - 1 and offset > start \
                and self.text[offset - 1] == "\r":
            column -= 1
        return line, column

    def span(self, start: int, end: int) -> Span:
        """The span of the characters from ``start`` to ``end`` (exclusive)."""
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(line, column, end_line, end_column)

    def line_start(self, line: int) -> int:
        """The offset of the first character of ``line`` (clamped to the lines there are)."""
        return self.starts[max(1, min(line, len(self.starts))) - 1]



def end_position(text: str) -> tuple[int, int]:
    r"""Where "the end of the document" is shown: after the last character, not on a line a final "\n" opens."""
    lines = split_lines(text) or [""]
    return len(lines), len(lines[-1]) + 1


@dataclass
class Document:
    """A file read once: its text and how to turn a location into a span."""

    display_path: str
    text: str
    fs_path: Path | None = None
    # Whether reporters may show this file's lines: False for a file read as a kind its name does not
    # say (`[build] dockerfile = ".netrc"`), whose text may be anything, a secret included.
    quotable: bool = field(default=True, compare=False, repr=False)
    lines: list[str] = field(init=False, repr=False)  # split_lines(text): line n is lines[n - 1]
    _index: LineIndex | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.lines = split_lines(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset in the text."""
        return self.line_index.position(offset)

    @property
    def line_index(self) -> LineIndex:
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index

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


def read_bytes(path: Path, *, head: int | None = None) -> bytes | ReadFailure:
    """Read a file, turning every OS error into a message a user can act on.

    The one way flyconf reads a file it lints or follows. Only a regular file is read: a FIFO would
    block and a device (`/dev/zero`) never ends, so the path is stat'ed before it is opened and the
    opened descriptor again (the file may be swapped in between). The open never blocks (O_NONBLOCK)
    nor adopts a terminal (O_NOCTTY). At most :data:`MAX_BYTES` are read: a larger file is refused,
    even one that grows while it is read. With ``head``, only the first ``head`` bytes are wanted
    (a shebang, a header), whatever the file's size.
    """
    limit = MAX_BYTES if head is None else head
    try:
        refused = _not_regular(os.stat(path).st_mode)
        if refused is not None:
            return ReadFailure("io-error", refused)
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
        try:
            st = os.fstat(fd)
            refused = _not_regular(st.st_mode)
            if refused is not None:
                return ReadFailure("io-error", refused)
            if head is None and st.st_size > MAX_BYTES:
                return ReadFailure("io-error", _too_large(st.st_size))
            chunks: list[bytes] = []
            size = 0
            while size <= limit:
                chunk = os.read(fd, min(1 << 16, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except ValueError:  # a NUL character in the path: no such file can exist
        return ReadFailure("io-error", "file not found (the path contains a NUL character)")
    except FileNotFoundError:
        return ReadFailure("io-error", "file not found")
    except PermissionError:
        return ReadFailure("io-error", "permission denied")
    except IsADirectoryError:
        return ReadFailure("io-error", "is a directory, not a file")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ReadFailure("io-error", "a symbolic link loop: the file cannot be read")
        return ReadFailure("io-error", f"cannot read file: {exc.strerror or exc}")
    data = b"".join(chunks)
    if head is not None:
        return data[:head]
    if len(data) > MAX_BYTES:
        return ReadFailure("io-error", _too_large(len(data)))
    return data


# O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal never becomes ours.
_OPEN_FLAGS = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "a special file")
    return f"not a regular file ({kind}): not read"


def _too_large(size: int) -> str:
    return f"file is too large to be a configuration file ({size} bytes or more; the limit is {MAX_BYTES})"


def too_large(size: int) -> ReadFailure:
    """The failure of text over the size limit (standard input, which is not read past it)."""
    return ReadFailure("io-error", _too_large(size))


def read_text(path: Path) -> str | ReadFailure:
    """:func:`read_bytes` then :func:`decode`."""
    data = read_bytes(path)
    return data if isinstance(data, ReadFailure) else decode(data)


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` is (or links to) a regular file; False, never an exception, for a NUL in the path,
    a symbolic link loop or a directory that cannot be searched."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def is_directory(path: Path) -> bool:
    """``path.is_dir()`` that never raises."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def exists(path: Path) -> bool:
    """``path.exists()`` that never raises (a NUL in the path, a loop, a directory that cannot be searched)."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def lexists(path: Path) -> bool:
    """Whether anything is at ``path``, a broken or looping symbolic link included; never raises."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def real_path(path: Path) -> Path:
    """Where ``path`` really is (symbolic links followed as far as they go), never raising.

    Path.resolve raises on a loop of links (RuntimeError before Python 3.13); a NUL in the path
    cannot name a file: the path is then made absolute and cleaned lexically, which is good enough
    for a key or a containment check of a file that cannot be read anyway.
    """
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.normpath(os.path.abspath(path)))


def project_root(directory: Path) -> Path:
    """The directory tree flyconf reads in for a file in ``directory``: the outermost of the git work tree that
    holds it (a directory with `.git`) and the working directory, when it holds it (`flyconf lint .` at the top
    of a monorepo whose apps name `../Dockerfile`, pre-commit at the top of the repository), or else
    ``directory`` itself. The file system's root and the home directory never count as a working directory
    here. Files followed from a fly.toml or a Dockerfile (the Dockerfile `[build] dockerfile` names, scripts,
    app configuration) are read only when their real path is inside it."""
    real = real_path(directory)
    root = real
    for candidate in (real, *real.parents):
        if exists(candidate / ".git"):
            root = candidate
            break
    try:
        cwd = real_path(Path.cwd())
        home: Path | None = real_path(Path.home())
    except OSError:  # the working directory was removed
        return root
    except RuntimeError:  # no home directory
        home = None
    if cwd in root.parents and cwd != Path(cwd.anchor) and cwd != home:
        return cwd
    return root


def inside(path: Path, root: Path) -> bool:
    """Whether the real path of ``path`` (links followed) is ``root`` or below it (``root`` already real)."""
    real = real_path(path)
    return real == root or root in real.parents


def display(path: Path) -> str:
    """A path as users expect to see it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith(".." + os.sep) else rel
