"""Dockerfile syntax, read the way BuildKit's parser reads it, in pure Python.

`fly deploy` builds with BuildKit, so a Dockerfile means what BuildKit's parser
(``frontend/dockerfile/parser``, v0.12) makes of it. This module follows that
parser's rules, written from reading it: lines end at ``\\n`` only; parser
directives (``# syntax=``, ``# escape=``) only at the top; a line continues when
it ends in the escape character; comment lines and blank lines inside a
continuation are skipped; heredocs (``<<EOF``) in RUN, COPY and ADD take the lines
up to their terminator; flags (``--from=build``) come off the front; and each
instruction's arguments are split the way that instruction's parser splits them
(JSON or shell form, ``ENV`` pairs, whitespace-separated words...). Errors are
BuildKit's, with its wording, at the line of the instruction that causes them.

The result has the shape the ``dockerfile`` package (BuildKit's parser compiled
from Go) gives, so the two can be compared: tests parse every real Dockerfile we
hold both ways and require the same instructions and the same findings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Go's unicode.IsSpace: ASCII white space, NEL, NBSP and the Unicode White_Space characters.
_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                   "\u2028\u2029\u202f\u205f\u3000")
_WS = re.compile(r"[\t\v\f\r ]+")  # the parser's reWhitespace: ASCII only, no newline
_HEREDOC_WORD = re.compile(r"^([0-9]*)<<(-?)([^<]*)\Z")
# A parser directive: Go's \s is [\t\n\f\r ], and Go's $ (without (?m)) is the end of the text.
_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z", re.S)
_KNOWN_DIRECTIVES = ("syntax", "escape")
_HEREDOC_INSTRUCTIONS = ("add", "copy", "run")
# bufio.Scanner's largest token: a longer line stops the parse with an error.
_MAX_TOKEN = 64 * 1024
_EOF = ""  # what the shell lexer's scanner returns at the end


@dataclass(frozen=True)
class RawInstruction:
    """One instruction as BuildKit's parser produces it (the fields the ``dockerfile`` package exposes)."""

    cmd: str  # as written: "RUN", "run", "Run"
    value: tuple[str, ...]
    json: bool  # exec (JSON) form
    flags: tuple[str, ...]  # "--from=build", quotes removed
    start_line: int
    end_line: int  # the last line it takes, heredoc terminators included
    original: str  # the logical line (continuations joined), then each heredoc's body and name
    heredocs: tuple[tuple[str, str], ...]  # (name, content with its line endings)


class DockerfileSyntaxError(ValueError):
    """BuildKit would stop here: its message, and the line of the instruction (or directive) at fault."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Error(Exception):
    """An error without a place yet; the caller knows the line."""


_NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"


# -- the whole file -----------------------------------------------------------------------------

class _Lines:
    """bufio.Scanner over lines that keep their ``\\n``; a line longer than it allows ends the input."""

    def __init__(self, text: str) -> None:
        self._parts = text.split("\n")
        self._last = len(self._parts) - 1
        if self._parts[self._last] == "":
            self._last -= 1  # text ending in a newline has no line after it
        self._next = 0
        self.too_long_at: int | None = None  # 1-based line that stopped the scanner

    def scan(self) -> str | None:
        i = self._next
        if i > self._last or self.too_long_at is not None:
            return None
        part = self._parts[i]
        terminated = i < len(self._parts) - 1
        size = len(part.encode("utf-8")) + (1 if terminated else 0)
        # A terminated line fits when it fills at most the buffer; an unterminated last line needs one
        # byte more, for the read that finds the end of the input.
        if size > _MAX_TOKEN or (not terminated and size >= _MAX_TOKEN):
            self.too_long_at = i + 1
            return None
        self._next = i + 1
        return part + "\n" if terminated else part


class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self._continuation = _continuation_regex("\\")
        self._done = False
        self._seen: set[str] = set()

    def feed(self, line: str) -> None:
        """Every line passes here; only the leading ``# name=value`` lines are directives."""
        if self._done:
            return
        m = _DIRECTIVE.match(line)
        if m is None or m.group(1).lower() not in _KNOWN_DIRECTIVES:
            self._done = True
            return
        name = m.group(1).lower()
        if name in self._seen:
            raise _Error(f"only one {name} parser directive can be used")
        self._seen.add(name)
        if name == "escape":
            value = m.group(2)
            if value not in ("`", "\\"):
                raise _Error(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
            self._continuation = _continuation_regex(value)

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """The line without its continuation character, and whether the instruction ends here."""
        if self._continuation.search(line):
            return self._continuation.sub(lambda m: m.group(1) or "", line), False
        return line, True


def _continuation_regex(escape: str) -> re.Pattern[str]:
    # The escape character at the end (spaces and tabs after it allowed), unless escaped itself;
    # or alone on its line.
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z", re.S)


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _trim_left(text: str) -> str:
    i = 0
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return text[i:]


def _trim(text: str) -> str:
    j = len(text)
    while j > 0 and text[j - 1] in _SPACE:
        j -= 1
    return _trim_left(text[:j])


def _is_comment(line: str) -> bool:
    return _trim_left(_trim_newline(line)).startswith("#")


def _process_line(d: _Directives, raw: str, strip_left: bool) -> str:
    token = _trim_newline(raw)
    if strip_left:
        token = _trim_left(token)
    d.feed(token)
    return "" if token.startswith("#") else token


def parse_instructions(text: str) -> list[RawInstruction]:
    """The instructions of a Dockerfile, or DockerfileSyntaxError where BuildKit's parser fails."""
    d = _Directives()
    lines = _Lines(text)
    out: list[RawInstruction] = []
    current = 0  # lines read so far (the 1-based number of the last one)
    while (raw := lines.scan()) is not None:
        if current == 0:
            raw = raw.removeprefix("\ufeff")
        try:
            processed = _process_line(d, raw, True)
        except _Error as exc:
            raise DockerfileSyntaxError(str(exc), current + 1) from None
        current += 1
        start = current
        line, end_of_line = d.trim_continuation(processed)
        if end_of_line and line == "":
            continue
        while not end_of_line and (raw := lines.scan()) is not None:
            try:
                processed = _process_line(d, raw, False)
            except _Error as exc:
                raise DockerfileSyntaxError(str(exc), current + 1) from None
            current += 1
            if _is_comment(raw):
                continue
            if _trim_left(_trim_newline(processed)) == "":
                continue  # an empty continuation line: skipped (BuildKit warns)
            more, end_of_line = d.trim_continuation(processed)
            line += more
        try:
            node = _node_from_line(line, d)
            heredoc_names = _heredocs_of(node, line)
        except _Error as exc:
            raise DockerfileSyntaxError(str(exc), start) from None
        heredocs: list[tuple[str, str]] = []
        for name, chomp in heredoc_names:
            body: list[str] = []
            terminated = False
            while (raw := lines.scan()) is not None:
                current += 1
                candidate = _trim_newline(raw)
                if chomp:
                    candidate = candidate.lstrip("\t")
                if candidate == name:
                    terminated = True
                    break
                body.append(raw)
            if not terminated:
                raise DockerfileSyntaxError("unterminated heredoc", start)
            heredocs.append((name, "".join(body)))
        out.append(_instruction(node, line, heredocs, start, current))
    if not out:
        raise DockerfileSyntaxError("file with no instructions", 1)
    if lines.too_long_at is not None:
        raise DockerfileSyntaxError(f"dockerfile line greater than max allowed size of {_MAX_TOKEN - 1}",
                                    lines.too_long_at)
    return out


@dataclass(frozen=True)
class _Node:
    cmd: str
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    sub: _Node | None = None  # ONBUILD's instruction


def _instruction(node: _Node, line: str, heredocs: list[tuple[str, str]], start: int, end: int) -> RawInstruction:
    shown = node.sub if node.sub is not None else node
    original = line
    if heredocs and node.sub is None:
        # The ``dockerfile`` package appends each heredoc to the line; for ONBUILD it keeps none.
        original += "\n" + "".join(content + name + "\n" for name, content in heredocs)
    return RawInstruction(
        cmd=node.cmd, value=shown.value, json=shown.json, flags=node.flags, start_line=start, end_line=end,
        original=original, heredocs=tuple(heredocs) if node.sub is None else (),
    )


# -- one instruction ------------------------------------------------------------------------------

def _node_from_line(line: str, d: _Directives) -> _Node:
    cmd, flags, args = _split_command(line)
    kind = cmd.lower()
    if kind == "onbuild":
        if args == "":
            return _Node(cmd, flags, (), False)
        # The instruction hangs under a node of its own, whose (empty) value is what a nested ONBUILD shows.
        return _Node(cmd, flags, ("",), False, sub=_node_from_line(args, d))
    value, is_json = _ARGUMENTS.get(kind, _ignored)(args, d)
    return _Node(cmd, flags, value, is_json)


def _split_command(line: str) -> tuple[str, tuple[str, ...], str]:
    parts = _WS.split(_trim(line), maxsplit=1)
    if len(parts) < 2:
        return parts[0], (), ""
    rest, flags = _builder_flags(parts[1])
    return parts[0], flags, _trim(rest)


def _builder_flags(line: str) -> tuple[str, tuple[str, ...]]:
    """Leading ``--name[=value]`` words, quotes and backslashes removed; then the rest of the line.

    BuildKit scans these bytes one at a time and treats each byte as a character, so a
    non-ASCII flag comes out as its UTF-8 bytes read as Latin-1; the same happens here.
    """
    data = line.encode("utf-8")
    n = len(data)
    words: list[str] = []
    word: list[str] = []
    phase = 0  # 0: between words, 1: in a word, 2: in quotes
    quote = ""
    blank_ok = False
    pos = 0
    while pos <= n:
        ch = chr(data[pos]) if pos != n else ""
        if phase == 0:
            if pos == n:
                break
            if ch in _SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or data[pos + 1] != 0x2D:
                return data[pos:].decode("utf-8", "replace"), tuple(words)
            phase = 1
        if pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if phase == 1:
            if ch in _SPACE:
                text = "".join(word)
                phase = 0
                if text == "--":
                    return data[pos:].decode("utf-8", "replace"), tuple(words)
                if blank_ok or text:
                    words.append(text)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = 2
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = chr(data[pos])
            word.append(ch)
            pos += 1
            continue
        # in quotes
        if ch == quote:
            phase = 1
            pos += 1
            continue
        if ch == "\\":
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            ch = chr(data[pos])
        word.append(ch)
        pos += 1
    return "", tuple(words)


_Parsed = tuple[tuple[str, ...], bool]


def _ignored(rest: str, d: _Directives) -> _Parsed:
    return ("",), False  # an unknown instruction: BuildKit keeps one empty argument


def _string(rest: str, d: _Directives) -> _Parsed:
    return ((rest,) if rest else ()), False


def _whitespace_words(rest: str, d: _Directives | None = None) -> _Parsed:
    if rest == "":
        return (), False
    return tuple(_WS.split(rest)), False


def _maybe_json(rest: str, d: _Directives) -> _Parsed:
    if rest == "":
        return (), False
    found = _json_array(rest)
    if found is not None:
        return found, True
    return (rest,), False


def _maybe_json_list(rest: str, d: _Directives) -> _Parsed:
    found = _json_array(rest)
    if found is not None:
        return found, True
    return _whitespace_words(rest)


def _healthcheck(rest: str, d: _Directives) -> _Parsed:
    # BuildKit looks at bytes here too: a byte is a separator when, read as a character, it is a space.
    data = rest.encode("utf-8")
    sep = 0
    while sep < len(data) and chr(data[sep]) not in _SPACE:
        sep += 1
    nxt = sep
    while nxt < len(data) and chr(data[nxt]) in _SPACE:
        nxt += 1
    if sep == 0:
        return (), False
    kind = data[:sep].decode("utf-8", "replace")
    command, is_json = _maybe_json(data[nxt:].decode("utf-8", "replace"), d)
    return (kind, *command), is_json


def _name_or_name_value(rest: str, d: _Directives) -> _Parsed:
    return tuple(_words(rest, d.escape)), False


def _env(rest: str, d: _Directives) -> _Parsed:
    return _name_value(rest, "ENV", d), False


def _label(rest: str, d: _Directives) -> _Parsed:
    return _name_value(rest, "LABEL", d), False


def _name_value(rest: str, key: str, d: _Directives) -> tuple[str, ...]:
    """``KEY name value`` (the old form: everything after the name is the value) or ``KEY a=1 b=2``."""
    words = _words(rest, d.escape)
    if not words:
        return ()
    if "=" not in words[0]:
        parts = _WS.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise _Error(f"{key} must have two arguments")
        return parts[0], parts[1]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise _Error(f"Syntax error - can't find = in {_go_quote(word)}. Must be of the form: name=value")
        name, _, value = word.partition("=")
        out += [name, value]
    return tuple(out)


_ARGUMENTS = {
    "add": _maybe_json_list,
    "arg": _name_or_name_value,
    "cmd": _maybe_json,
    "copy": _maybe_json_list,
    "entrypoint": _maybe_json,
    "env": _env,
    "expose": _whitespace_words,
    "from": _whitespace_words,
    "healthcheck": _healthcheck,
    "label": _label,
    "maintainer": _string,
    "run": _maybe_json,
    "shell": _maybe_json,
    "stopsignal": _string,
    "user": _string,
    "volume": _maybe_json_list,
    "workdir": _string,
}


def _words(rest: str, escape: str) -> list[str]:
    """Words separated by white space; quotes and escapes are kept, and a quoted space does not split."""
    words: list[str] = []
    word: list[str] = []
    phase = 0  # 0: between words, 1: in a word, 2: in quotes
    quote = ""
    blank_ok = False
    n = len(rest)
    pos = 0
    while pos <= n:
        ch = rest[pos] if pos != n else ""
        if phase == 0:
            if pos == n:
                break
            if ch in _SPACE:
                pos += 1
                continue
            phase = 1
        if pos == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == 1:
            if ch in _SPACE:
                phase = 0
                if blank_ok or word:
                    words.append("".join(word))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = 2
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue  # an escape at the very end is dropped
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # in quotes
        if ch == quote:
            phase = 1
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = 1
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


class _Overflow(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Overflow(text)  # Go cannot hold it in a float64: the whole array is not JSON to BuildKit
    return value


def _no_constants(text: str) -> float:
    raise ValueError(text)  # NaN and Infinity are not JSON to Go


_DECODER = json.JSONDecoder(parse_float=_finite, parse_int=_finite, parse_constant=_no_constants)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_array(rest: str) -> tuple[str, ...] | None:
    """The strings of a JSON array at the start of ``rest`` (what follows it is ignored, as Go's decoder does).

    None when ``rest`` is not a JSON array; an error when it is one of something other than strings.
    """
    rest = _trim_left(rest)
    if not rest.startswith("["):
        return None
    try:
        value, _end = _DECODER.raw_decode(rest)
    except RecursionError:
        # Nested deeper than Python's JSON reader goes: certainly not an array of strings.
        raise _Error(_NOT_STRING_ARRAY) from None
    except ValueError:
        return None
    if not all(isinstance(item, str) for item in value):
        raise _Error(_NOT_STRING_ARRAY)
    # Go decodes a lone surrogate escape (\ud800) as U+FFFD.
    return tuple(_SURROGATE.sub("\ufffd", item) for item in value)


# -- heredocs ---------------------------------------------------------------------------------------

def _heredocs_of(node: _Node, line: str) -> list[tuple[str, bool]]:
    """(name, strip leading tabs) of each heredoc the instruction opens, in order."""
    target = node.sub if node.sub is not None else node
    if target.cmd.lower() not in _HEREDOC_INSTRUCTIONS or target.json or "<<" not in line:
        return []
    try:
        words = _Shell(line, raw_quotes=True, raw_escapes=True).words()
    except _Error:
        return []  # BuildKit ignores a line its shell lexer cannot split: no heredocs then
    found: list[tuple[str, bool]] = []
    for word in words:
        m = _HEREDOC_WORD.match(word)
        if m is None or m.group(3) == "":
            continue
        rest = m.group(3)
        names = _Shell(rest, raw_quotes=False).words_or_error()
        if len(names) != 1:
            continue
        raw_names = _Shell(rest, raw_quotes=True).words_or_error()
        if len(raw_names) != len(names):
            raise _Error(f"internal lexing of heredoc produced inconsistent results: {rest}")
        found.append((names[0], m.group(2) == "-"))
    return found


class _Shell:
    """BuildKit's shell-word lexer, as the parser uses it to find heredocs: no variables are set."""

    def __init__(self, source: str, *, raw_quotes: bool, raw_escapes: bool = False) -> None:
        self.source = source
        self.pos = 0
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.escape = "\\"

    def words(self) -> list[str]:
        return self._stop_on(_EOF)[1]

    def words_or_error(self) -> list[str]:
        try:
            return self.words()
        except _Error as exc:
            raise _Error(f"failed to process {_go_quote(self.source)}: {exc}") from None

    def _peek(self) -> str:
        return self.source[self.pos] if self.pos < len(self.source) else _EOF

    def _next(self) -> str:
        ch = self._peek()
        if ch != _EOF:
            self.pos += 1
        return ch

    def _stop_on(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while self._peek() != _EOF:
            ch = self._peek()
            if stop != _EOF and ch == stop:
                self._next()
                return "".join(result), words.get()
            if ch in "$'\"":
                tmp = self._dollar() if ch == "$" else self._single() if ch == "'" else self._double()
                result.append(tmp)
                if ch == "$":
                    words.add_string(tmp)
                else:
                    words.add_raw_string(tmp)
                continue
            ch = self._next()
            if ch == self.escape:
                if self.raw_escapes:
                    words.add_raw(ch)
                    result.append(ch)
                ch = self._next()
                if ch == _EOF:
                    break
                words.add_raw(ch)
            else:
                words.add_char(ch)
            result.append(ch)
        if stop != _EOF:
            raise _Error(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.get()

    def _single(self) -> str:
        result: list[str] = []
        ch = self._next()
        if self.raw_quotes:
            result.append(ch)
        while True:
            ch = self._next()
            if ch == _EOF:
                raise _Error("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result)
            result.append(ch)

    def _double(self) -> str:
        result: list[str] = []
        ch = self._next()
        if self.raw_quotes:
            result.append(ch)
        while True:
            peek = self._peek()
            if peek == _EOF:
                raise _Error("unexpected end of statement while looking for matching double-quote")
            if peek == '"':
                ch = self._next()
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result)
            if peek == "$":
                result.append(self._dollar())
                continue
            ch = self._next()
            if ch == self.escape:
                if self.raw_escapes:
                    result.append(ch)
                after = self._peek()
                if after == _EOF:
                    continue
                if after in ('"', "$", self.escape):
                    ch = self._next()
            result.append(ch)

    def _dollar(self) -> str:
        self._next()
        if self._peek() != "{":
            name = self._name()
            return "$" + name if name else "$"  # unset variables stay as written
        self._next()
        peek = self._peek()
        if peek == _EOF:
            raise _Error("syntax error: missing '}'")
        if peek in "{}:":
            raise _Error("syntax error: bad substitution")
        name = self._name()
        ch = self._next()
        chs = ch if ch != _EOF else "\ufffd"  # Go's string(rune(EOF))
        if ch == "}":
            return "${" + name + "}"
        if ch == ":":
            ch = self._next()
            chs += ch if ch != _EOF else "\ufffd"
        elif ch not in ("+", "-", "?") or ch == _EOF:
            raise _Error(f"unsupported modifier ({chs}) in substitution")
        try:
            word, _ = self._stop_on("}")
        except _Error:
            if self._peek() == _EOF:
                raise _Error("syntax error: missing '}'") from None
            raise
        return "${" + name + chs + word + "}"

    def _name(self) -> str:
        name: list[str] = []
        while (ch := self._peek()) != _EOF:
            if not name and ch.isdecimal():
                while (ch := self._peek()) != _EOF and ch.isdecimal():
                    name.append(self._next())
                return "".join(name)
            if not name and ch in "@*#?-$!0":
                return self._next()
            if not (ch.isalpha() or ch.isdecimal() or ch == "_"):
                break
            name.append(self._next())
        return "".join(name)


class _Words:
    def __init__(self) -> None:
        self.words: list[str] = []
        self.word = ""
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in _SPACE:
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, ch: str) -> None:
        self.word += ch
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def get(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


def _go_quote(text: str) -> str:
    """Go's %q: a double-quoted string with Go's escapes."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\ufffd")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
