"""Splitting a command into words the way flyctl does (github.com/google/shlex).

flyctl splits `[processes]` commands, `release_command` and `console_command`
with google/shlex (superfly/flyctl internal/appconfig/processgroups.go
``InitCmd``, validation.go ``validateProcessesSection``). Its rules differ from
both POSIX sh and Python's ``shlex.split``:

- a ``#`` at the start of a word begins a comment that runs to the end of the
  line (``node server.js # it's the main one`` is two words); inside a word it
  is an ordinary character (``a#b``);
- a backslash outside quotes makes the next character literal, newline included;
- inside double quotes a backslash makes *any* next character literal and is
  itself dropped (``"a\\b"`` is ``ab``; POSIX keeps the backslash);
- single quotes take everything literally up to the next single quote;
- only space, tab, CR and LF separate words; nothing is expanded;
- ``""`` is an empty word;
- an unclosed quote, or a backslash at the very end, is an error.

This is our own reading of those rules, written for flyconf, with the position
of the fault so that findings can point at it.
"""

from __future__ import annotations

_SPACE = frozenset(" \t\r\n")


class SplitError(ValueError):
    """The command cannot be split: ``offset`` is the unclosed quote or the final backslash."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)  # google/shlex's own wording
        self.offset = offset
        self.message = message


def split(command: str) -> list[str]:
    """The words of ``command`` as google/shlex.Split returns them; raises :class:`SplitError`."""
    words: list[str] = []
    i, n = 0, len(command)
    while i < n:
        ch = command[i]
        if ch in _SPACE:
            i += 1
            continue
        if ch == "#":  # a comment only where a word would start
            end = command.find("\n", i)
            i = n if end == -1 else end + 1
            continue
        word, i = _word(command, i)
        words.append(word)
    return words


def _word(command: str, i: int) -> tuple[str, int]:
    """One word starting at ``i``; returns it and the offset just after it."""
    out: list[str] = []
    n = len(command)
    while i < n:
        ch = command[i]
        if ch in _SPACE:
            return "".join(out), i
        if ch == "\\":
            if i + 1 >= n:
                raise SplitError(i, "EOF found after escape character")
            out.append(command[i + 1])
            i += 2
        elif ch == "'":
            close = command.find("'", i + 1)
            if close == -1:
                raise SplitError(i, "EOF found when expecting closing quote")
            out.append(command[i + 1 : close])
            i = close + 1
        elif ch == '"':
            start = i
            i += 1
            while True:
                if i >= n:
                    raise SplitError(start, "EOF found when expecting closing quote")
                c = command[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    if i + 1 >= n:
                        raise SplitError(i, "EOF found after escape character")
                    out.append(command[i + 1])
                    i += 2
                    continue
                out.append(c)
                i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), i


def try_split(command: str) -> list[str] | None:
    """The words of ``command``, or None when google/shlex cannot split it."""
    try:
        return split(command)
    except SplitError:
        return None
