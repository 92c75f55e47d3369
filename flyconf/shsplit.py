"""Python's ``shlex.split`` (POSIX mode, no comments), in linear time with a small constant.

``shlex`` reads one character at a time through a state machine: a 2 MB command (the size limit of a
file) takes close to a minute. flyconf splits commands found in the files it reads (a Dockerfile's shell
form, ``release_command``, ``sh -c`` arguments, package scripts) with exactly shlex's rules:

- space, tab, CR and LF separate words;
- a backslash outside quotes makes the next character literal (a backslash at the end is an error);
- single quotes take everything literally up to the next single quote;
- inside double quotes a backslash escapes only ``"`` and ``\\`` (elsewhere it stays);
- an unclosed quote is an error; ``''`` and ``""`` are empty words; nothing is expanded.

Errors are ``ValueError`` with shlex's messages.
"""

from __future__ import annotations

import re

# One token of a command: blanks, plain characters, a quoted string, or an escaped character.
_TOKEN = re.compile(r"""([ \t\r\n]+)|([^ \t\r\n'"\\]+)|'([^']*)'|"([^"\\]*(?:\\[\s\S][^"\\]*)*)"|\\([\s\S])""")
_BLANK_RUNS = re.compile(r"[ \t\r\n]+")
_DOUBLE_ESCAPE = re.compile(r'\\(["\\])')  # inside double quotes only these two lose their backslash


def split(command: str) -> list[str]:
    """The words of ``command`` as ``shlex.split(command)`` gives them; raises ValueError when it would."""
    if "'" not in command and '"' not in command and "\\" not in command:
        return [w for w in _BLANK_RUNS.split(command) if w]  # nothing quoted: words between blanks
    words: list[str] = []
    parts: list[str] = []
    quoted = False
    i, n = 0, len(command)
    while i < n:
        m = _TOKEN.match(command, i)
        if m is None:
            raise ValueError(_fault(command, i))
        i = m.end()
        kind = m.lastindex
        if kind == 1:  # blanks end a word
            if parts or quoted:
                words.append("".join(parts))
            parts = []
            quoted = False
        elif kind == 2 or kind == 5:
            parts.append(m.group(kind))
        elif kind == 3:
            parts.append(m.group(3))
            quoted = True
        else:
            body = m.group(4)
            parts.append(_DOUBLE_ESCAPE.sub(r"\1", body) if "\\" in body else body)
            quoted = True
    if parts or quoted:
        words.append("".join(parts))
    return words


def _fault(command: str, i: int) -> str:
    """shlex's message for the token at ``i`` that does not end: an escape at the very end, or a quote."""
    if command[i] == '"':
        j = i + 1
        while j < len(command) and command[j] != '"':
            if command[j] == "\\":
                if j + 1 == len(command):
                    return "No escaped character"
                j += 1
            j += 1
    return "No escaped character" if command[i] == "\\" else "No closing quotation"
