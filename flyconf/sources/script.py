"""Start scripts: a small, honest reader for the shell scripts an image runs.

It is a lexer and a recursive-descent parser for the part of the POSIX shell
language (plus the bash extensions people put in entrypoints) that matters for
linting: quotes, escapes, comments, ``$(...)``, backticks, ``${...}``, line
continuations, here-documents (whose bodies are skipped: they are data, not
code) and the control structures. It never executes anything, never expands
anything, and never raises: malformed input gives a best-effort tree.

What it produces:

- :meth:`Script.commands`: every simple command, in source order, with its
  words (position, quoting), whether it runs in the background, and the stack
  of constructs around it (``if`` condition/branch, ``&&``/``||``, ``case``
  branch, loop, function, command substitution...).
- :attr:`Script.tree`: the top-level list of nodes (:class:`Simple`,
  :class:`Pipeline`, :class:`AndOr`, :class:`If`, :class:`Loop`, :class:`Case`,
  :class:`Group`, :class:`FuncDef`, :class:`Arith`), for questions about control
  flow such as "what runs last".
- :attr:`Script.bashisms`: bash-only syntax found while reading (``[[``,
  ``${x:1:2}``, ``a=(...)``, ``$'...'``, ``&>``, ``<<<``, brace expansion...).
- :attr:`Script.comments`: every comment, for suppressions.

Why not tree-sitter-bash (issue 11, measured by ``benchmarks/script_reader.py --treesitter``): it reads
valid POSIX sh wrongly without marking an error (``exec >log 2>&1 node server.js`` as ``exec`` alone,
``$A.vm.$B.internal`` as two words, a newline after ``a | b | c`` as no separator), which turns into
false or lost findings; and its ``tree-sitter`` binding has no wheel for Alpine on arm64 since 0.24.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Union

from flyconf.diagnostics import Span
from flyconf.sources.base import Document

# Deeper nesting than this ($( $( ... ) ), if inside if inside ...) is read without looking inside.
_MAX_DEPTH = 40

_SHELLS_SH = {"sh", "dash", "ash"}
_SHELLS_OTHER = {"zsh", "ksh", "ksh93", "mksh", "pdksh", "yash", "posh", "busybox"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_NAME_BRACKET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\[")
_ARRAY_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=$")

# Operators, longest first.
_OPERATORS = ("<<<", "<<-", ";;&", "&>>", "<<", ">>", "&&", "||", ";;", ";&", "|&", "&>", "<&", ">&", "<>", ">|",
              "(", ")", ";", "&", "|", "<", ">")
REDIRECTIONS = frozenset({"<", ">", ">>", "<&", ">&", "<>", ">|", "<<", "<<-", "<<<", "&>", "&>>"})
_BASH_OPERATORS = {"&>": "&>", "&>>": "&>", "<<<": "<<<", "|&": "|&", ";&": ";&", ";;&": ";&"}
_META = frozenset(" \t\r\n;&|()<>")


# -- words ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """A piece of a word. ``kind``: "lit" (``text`` is the literal value, quotes and escapes removed),
    "param" (``$x``, ``${...}``), "cmd" (``$(...)`` or backticks), "arith" (``$((...))``), "ansi"
    (``$'...'``), "array" (``(...)`` of ``a=(...)``), "procsub" (``<(...)``); other kinds keep their
    source text."""

    kind: str
    text: str
    quoted: bool
    offset: int


@dataclass(eq=False)
class Word:
    """One shell word as written. ``value`` is its text with quotes and escapes removed (expansions are kept
    as written); ``quoted`` says whether any part of it was quoted or escaped."""

    text: str
    offset: int
    line: int
    column: int
    end_line: int
    end_column: int
    quoted: bool
    parts: tuple[Part, ...] = ()

    @property
    def value(self) -> str:
        return "".join(p.text for p in self.parts)

    @property
    def literal(self) -> bool:
        """No expansion at all: the word is a fixed string."""
        return all(p.kind == "lit" for p in self.parts)

    @property
    def bare(self) -> str | None:
        """The text when the word is plain unquoted literal text (how reserved words are recognised)."""
        if self.quoted or not self.literal:
            return None
        return self.value

    @property
    def end_offset(self) -> int:
        return self.offset + len(self.text)

    @property
    def span(self) -> Span:
        return Span(self.line, self.column, self.end_line, self.end_column)

    def __repr__(self) -> str:
        return f"Word({self.text!r} @{self.line}:{self.column})"


@dataclass(frozen=True, eq=False)
class Context:
    """One construct around a command.

    ``kind``/``part``: ("if", "condition" | "then" | "elif" | "else"), ("while"/"until", "condition" |
    "body"), ("for"/"select", "body"), ("case", "branch"), ("and"/"or", "right": the command runs after
    ``&&``/``||``), ("not", "body"), ("group"/"subshell", "body"), ("function", "body"),
    ("substitution", "body"). ``condition`` holds the commands of the condition that leads here (the
    ``if``/``elif`` condition, the left side of ``&&``/``||``, the loop condition); ``prior`` the
    conditions that were false to get here (earlier ``if``/``elif`` conditions of an ``elif`` or
    ``else`` branch); ``subject``/``patterns`` the word and the patterns of a ``case`` branch, or the
    name of a function.
    """

    kind: str
    part: str
    line: int
    column: int
    condition: tuple["ShellCommand", ...] = ()
    prior: tuple["ShellCommand", ...] = ()
    subject: Word | None = None
    patterns: tuple[Word, ...] = ()

    def __repr__(self) -> str:
        return f"Context({self.kind}:{self.part} @{self.line}:{self.column})"


@dataclass(eq=False)
class ShellCommand:
    """A simple command: its words (assignments first, redirections apart) and where it runs."""

    words: list[Word]
    line: int
    column: int
    background: bool = False
    negated: bool = False  # the pipeline it belongs to is negated with `!`
    context: tuple[Context, ...] = ()
    redirects: list[tuple[str, Word | None]] = field(default_factory=list)
    pipeline: int = 0  # an id shared by the commands of one multi-command pipeline (0: not piped)
    pipe_index: int = 0

    @property
    def assignments(self) -> list[Word]:
        out = []
        for w in self.words:
            if not _is_assignment(w):
                break
            out.append(w)
        return out

    @property
    def argv(self) -> list[Word]:
        """The words after leading ``NAME=value`` assignments."""
        return self.words[len(self.assignments):]

    @property
    def name(self) -> str | None:
        argv = self.argv
        return argv[0].value if argv else None

    @property
    def text(self) -> str:
        """The command's words as written, joined by single spaces."""
        return " ".join(w.text for w in self.words)

    @property
    def span(self) -> Span:
        if not self.words:
            return Span(self.line, self.column)
        last = self.words[-1]
        return Span(self.line, self.column, last.end_line, last.end_column)

    def inside(self, kind: str, part: str | None = None) -> bool:
        return any(c.kind == kind and (part is None or c.part == part) for c in self.context)

    def __repr__(self) -> str:
        return f"ShellCommand({self.text!r} @{self.line}:{self.column})"


def _is_assignment(word: Word) -> bool:
    first = word.parts[0] if word.parts else None
    if not (first and first.kind == "lit" and not first.quoted):
        return False
    return bool(_ASSIGNMENT.match(first.text) or (_NAME_BRACKET.match(first.text) and _ASSIGNMENT.match(word.text)))


# -- tree -------------------------------------------------------------------------------------

@dataclass(eq=False)
class Node:
    line: int
    column: int
    background: bool = field(default=False, init=False)
    redirects: list[tuple[str, Word | None]] = field(default_factory=list, init=False)


@dataclass(eq=False)
class Simple(Node):
    command: ShellCommand = None  # type: ignore[assignment]


@dataclass(eq=False)
class Pipeline(Node):
    items: list[Node] = field(default_factory=list)
    negated: bool = False


@dataclass(eq=False)
class AndOr(Node):
    items: list[Node] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)  # ops[i] joins items[i] and items[i + 1]


@dataclass(eq=False)
class If(Node):
    branches: list[tuple[list[Node], list[Node]]] = field(default_factory=list)  # (condition, body)
    orelse: list[Node] | None = None


@dataclass(eq=False)
class Loop(Node):
    kind: str = "while"  # while, until, for, select
    condition: list[Node] = field(default_factory=list)
    body: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Case(Node):
    subject: Word | None = None
    branches: list[tuple[list[Word], list[Node]]] = field(default_factory=list)


@dataclass(eq=False)
class Group(Node):
    kind: str = "group"  # group ({ }), subshell (( ))
    body: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class FuncDef(Node):
    name: str = ""
    body: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Arith(Node):
    word: Word | None = None  # (( ... ))


AnyNode = Union[Simple, Pipeline, AndOr, If, Loop, Case, Group, FuncDef, Arith]


def simple_commands(nodes: Iterable[Node]) -> Iterator[ShellCommand]:
    """The simple commands of a tree, in order (not those inside command substitutions)."""
    for node in nodes:
        if isinstance(node, Simple):
            yield node.command
        elif isinstance(node, (Pipeline, AndOr)):
            yield from simple_commands(node.items)
        elif isinstance(node, If):
            for cond, body in node.branches:
                yield from simple_commands(cond)
                yield from simple_commands(body)
            if node.orelse:
                yield from simple_commands(node.orelse)
        elif isinstance(node, Loop):
            yield from simple_commands(node.condition)
            yield from simple_commands(node.body)
        elif isinstance(node, Case):
            for _, body in node.branches:
                yield from simple_commands(body)
        elif isinstance(node, (Group, FuncDef)):
            yield from simple_commands(node.body)


@dataclass(frozen=True)
class Bashism:
    """A bash-only construct met while reading (``kind`` says which; ``text`` is what was written)."""

    kind: str
    line: int
    column: int
    text: str
    end_line: int | None = None
    end_column: int | None = None


# -- the document -----------------------------------------------------------------------------

@dataclass
class Script(Document):
    """A start script: its shebang, comments, commands and tree."""

    shebang: str | None = None
    comments: list[tuple[int, int, str]] = field(default_factory=list)
    tree: list[Node] = field(default_factory=list, repr=False)
    bashisms: list[Bashism] = field(default_factory=list, repr=False)
    heredocs: list[tuple[int, int]] = field(default_factory=list, repr=False)  # body line ranges, inclusive
    parse_error: str | None = None  # set only if the reader itself failed (a bug); the tree is then partial
    _commands: list[ShellCommand] = field(default_factory=list, repr=False)

    @property
    def interpreter(self) -> str | None:
        """The program the shebang names (``env`` and ``busybox`` looked through), or None."""
        return _interpreter(self.shebang)

    @property
    def dialect(self) -> str:
        """"sh" (sh, dash, ash, or no shebang), "bash", or "other"."""
        prog = self.interpreter
        if prog is None or prog in _SHELLS_SH:
            return "sh"
        if prog == "bash":
            return "bash"
        return "other"

    @property
    def is_shell(self) -> bool:
        """Whether the script is a shell script at all (a shebang naming python or node is not)."""
        prog = self.interpreter
        return prog is None or prog in _SHELLS_SH or prog == "bash" or prog in _SHELLS_OTHER

    def commands(self) -> list[ShellCommand]:
        """Every simple command, in source order, including those inside ``$(...)`` and backticks."""
        return list(self._commands)

    @property
    def functions(self) -> dict[str, FuncDef]:
        """Functions defined anywhere in the script, by name (the last definition wins)."""
        out: dict[str, FuncDef] = {}

        def walk(nodes: Iterable[Node]) -> None:
            for n in nodes:
                if isinstance(n, FuncDef):
                    out[n.name] = n
                    walk(n.body)
                elif isinstance(n, (Pipeline, AndOr)):
                    walk(n.items)
                elif isinstance(n, If):
                    for c, b in n.branches:
                        walk(c)
                        walk(b)
                    walk(n.orelse or ())
                elif isinstance(n, Loop):
                    walk(n.body)
                elif isinstance(n, Case):
                    for _, b in n.branches:
                        walk(b)
                elif isinstance(n, Group):
                    walk(n.body)

        walk(self.tree)
        return out


def _interpreter(shebang: str | None) -> str | None:
    if shebang is None:
        return None
    args = shebang.split()
    if not args:
        return None
    prog = args[0].rsplit("/", 1)[-1]
    rest = args[1:]
    if prog == "env":
        while rest and (rest[0].startswith("-") or "=" in rest[0]):
            flag = rest.pop(0)
            if flag in ("-u", "--unset", "-C", "--chdir") and rest:
                rest.pop(0)
        if not rest:
            return "env"
        prog = rest[0].rsplit("/", 1)[-1]
        rest = rest[1:]
    if prog == "busybox" and rest:
        prog = rest[0].rsplit("/", 1)[-1]
    return prog


def parse_script(text: str, display_path: str, fs_path: Path | None = None) -> Script:
    """Read a shell script. Never raises; never executes anything."""
    first = text.split("\n", 1)[0]
    shebang = first[2:].strip() if first.startswith("#!") else None
    script = Script(display_path=display_path, text=text, fs_path=fs_path, shebang=shebang)
    sink = _Sink(text, script)
    try:
        lexer = _Lexer(text, 0, len(text), sink)
        script.tree = _Parser(lexer, sink, []).parse_program()
    except (RecursionError, Exception) as exc:  # noqa: BLE001 - a reader bug must not stop linting
        script.parse_error = f"{type(exc).__name__}: {exc}"
    script.comments.sort()
    script.bashisms.sort(key=lambda b: (b.line, b.column))
    script.heredocs.sort()
    script._commands.sort(key=lambda c: (c.line, c.column))
    return script


# -- reading ----------------------------------------------------------------------------------

class _Sink:
    """What the lexers and parsers of one script share: positions, findings, nesting."""

    def __init__(self, text: str, script: Script) -> None:
        self.text = text
        self.script = script
        self._index = script.line_index
        self.depth = 0
        self.parsers: list[_Parser] = []
        self.pipelines = 0

    def pos(self, offset: int) -> tuple[int, int]:
        # sh ends a line at "\n" only: flyconf's line model (Document.position) is the shell's.
        return self._index.position(offset)

    def bashism(self, kind: str, start: int, end: int) -> None:
        line, col = self.pos(start)
        end_line, end_col = self.pos(end)
        self.script.bashisms.append(Bashism(kind, line, col, self.text[start:end], end_line, end_col))

    def stack(self) -> list[Context]:
        return list(self.parsers[-1].stack) if self.parsers else []


@dataclass
class _Tok:
    kind: str  # "word", "op", "nl", "eof", "ionum"
    text: str
    offset: int
    word: Word | None = None


class _Lexer:
    def __init__(self, text: str, start: int, end: int, sink: _Sink) -> None:
        self.text = text
        self.pos = start
        self.end = end
        self.sink = sink
        self.peeked: _Tok | None = None
        self.heredocs: list[tuple[str, bool]] = []
        self.consumed = 0

    # tokens

    def peek(self) -> _Tok:
        if self.peeked is None:
            self.peeked = self._token()
        return self.peeked

    def next(self) -> _Tok:
        tok = self.peek()
        self.peeked = None
        self.consumed += 1
        return tok

    def _token(self) -> _Tok:
        text, end = self.text, self.end
        while True:
            while self.pos < end:
                c = text[self.pos]
                if c in " \t\r":
                    self.pos += 1
                elif c == "\\" and self.pos + 1 < end and text[self.pos + 1] == "\n":
                    self.pos += 2
                else:
                    break
            if self.pos >= end:
                return _Tok("eof", "", end)
            c = text[self.pos]
            if c == "#":
                stop = text.find("\n", self.pos, end)
                stop = end if stop == -1 else stop
                line, col = self.sink.pos(self.pos)
                self.sink.script.comments.append((line, col, text[self.pos + 1:stop].rstrip("\r")))
                self.pos = stop
                continue
            break
        start = self.pos
        if c == "\n":
            self.pos += 1
            if self.heredocs:
                self._skip_heredocs()
            return _Tok("nl", "\n", start)
        if c in "<>" and self.pos + 1 < end and text[self.pos + 1] == "(":
            return self._word()  # process substitution
        for op in _OPERATORS:
            if text.startswith(op, start) and start + len(op) <= end:
                self.pos = start + len(op)
                if op in _BASH_OPERATORS:
                    self.sink.bashism(_BASH_OPERATORS[op], start, self.pos)
                return _Tok("op", op, start)
        return self._word()

    def _skip_heredocs(self) -> None:
        text, end = self.text, self.end
        pending, self.heredocs = self.heredocs, []
        for delimiter, strip_tabs in pending:
            body_start = self.pos
            while self.pos < end:
                stop = text.find("\n", self.pos, end)
                line_end = end if stop == -1 else stop
                line = text[self.pos:line_end].rstrip("\r")
                if strip_tabs:
                    line = line.lstrip("\t")
                self.pos = end if stop == -1 else stop + 1
                if line == delimiter:
                    break
            if self.pos > body_start:
                first, _ = self.sink.pos(body_start)
                last, _ = self.sink.pos(max(body_start, self.pos - 1))
                self.sink.script.heredocs.append((first, last))

    def add_heredoc(self, delimiter: Word, strip_tabs: bool) -> None:
        self.heredocs.append((delimiter.value, strip_tabs))

    # words

    def _word(self) -> _Tok:
        start = self.pos
        text, end = self.text, self.end
        parts: list[list[Any]] = []  # [kind, text, quoted, offset]
        mask: list[tuple[str, int]] = []  # unquoted literal characters (others as "\0"), for brace expansion

        def lit(s: str, quoted: bool, at: int) -> None:
            if parts and parts[-1][0] == "lit" and parts[-1][2] == quoted and s:
                parts[-1][1] += s
            else:
                parts.append(["lit", s, quoted, at])

        if text[start] in "<>":  # <(...) or >(...)
            self.pos = start + 2
            self._nested_command(start + 1)
            parts.append(["procsub", text[start:self.pos], False, start])
            mask.append(("\0", start))
            self.sink.bashism("procsub", start, min(start + 2, end))
        while self.pos < end:
            i = self.pos
            c = text[i]
            if c in _META:
                if c == "(" and parts and all(p[0] == "lit" and not p[2] for p in parts) \
                        and _ARRAY_PREFIX.match("".join(p[1] for p in parts)):
                    stop = self._balanced(i, "(", ")")
                    parts.append(["array", text[i:stop], False, i])
                    mask.append(("\0", i))
                    self.sink.bashism("array-assign", start, stop)
                    self.pos = stop
                    continue
                break
            if c == "\\":
                if i + 1 < end and text[i + 1] == "\n":
                    self.pos = i + 2
                    continue
                if i + 1 < end:
                    lit(text[i + 1], True, i)
                    mask.append(("\0", i))
                    self.pos = i + 2
                else:
                    lit("\\", False, i)
                    mask.append(("\\", i))
                    self.pos = i + 1
                continue
            if c == "'":
                stop = text.find("'", i + 1, end)
                stop = end if stop == -1 else stop
                lit(text[i + 1:stop], True, i)
                if not text[i + 1:stop]:
                    parts.append(["lit", "", True, i])
                mask.append(("\0", i))
                self.pos = min(stop + 1, end)
                continue
            if c == '"':
                self._double_quoted(parts, lit)
                mask.append(("\0", i))
                continue
            if c == "$":
                if self._dollar(parts, in_dq=False):
                    mask.append(("\0", i))
                    continue
                lit("$", False, i)
                mask.append(("$", i))
                self.pos = i + 1
                continue
            if c == "`":
                self._backtick(parts, quoted=False)
                mask.append(("\0", i))
                continue
            lit(c, False, i)
            mask.append((c, i))
            self.pos = i + 1
        stop = self.pos
        if stop == start:  # cannot happen (callers never start on a metacharacter); guarantee progress
            self.pos = start + 1
            stop = self.pos
        raw = text[start:stop]
        # io number: digits directly followed by a redirection
        if raw.isascii() and raw.isdigit() and stop < end and text[stop] in "<>":  # sh: ASCII digits only
            return _Tok("ionum", raw, start)
        self._brace_expansion(mask)
        line, col = self.sink.pos(start)
        end_line, end_col = self.sink.pos(stop)
        quoted = any(p[2] for p in parts)
        word = Word(raw, start, line, col, end_line, end_col, quoted,
                    tuple(Part(p[0], p[1], p[2], p[3]) for p in parts))
        return _Tok("word", raw, start, word)

    def _double_quoted(self, parts: list[list[Any]], lit: Callable[[str, bool, int], None]) -> None:
        text, end = self.text, self.end
        open_at = self.pos
        self.pos += 1
        had = len(parts)
        while self.pos < end:
            i = self.pos
            c = text[i]
            if c == '"':
                self.pos = i + 1
                break
            if c == "\\" and i + 1 < end:
                nxt = text[i + 1]
                if nxt == "\n":
                    self.pos = i + 2
                elif nxt in '$`"\\':
                    lit(nxt, True, i)
                    self.pos = i + 2
                else:
                    lit("\\", True, i)
                    self.pos = i + 1
                continue
            if c == "$" and self._dollar(parts, in_dq=True):
                continue
            if c == "`":
                self._backtick(parts, quoted=True)
                continue
            lit(c, True, i)
            self.pos = i + 1
        if len(parts) == had:
            parts.append(["lit", "", True, open_at])

    def _dollar(self, parts: list[list[Any]], in_dq: bool) -> bool:
        """Read an expansion at ``self.pos`` (a ``$``); False when the ``$`` is a literal dollar."""
        text, end = self.text, self.end
        i = self.pos
        nxt = text[i + 1] if i + 1 < end else ""
        if nxt == "'" and not in_dq:
            j = i + 2
            while j < end and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            stop = min(j + 1, end)
            parts.append(["ansi", text[i:stop], True, i])
            self.sink.bashism("ansi-c", i, min(i + 2, end))
            self.pos = stop
            return True
        if nxt == '"' and not in_dq:  # $"..." (locale translation): read as a double-quoted string
            self.pos = i + 1
            self._double_quoted(parts, lambda s, q, at: parts.append(["lit", s, q, at]))
            return True
        if nxt == "(":
            if i + 2 < end and text[i + 2] == "(":
                stop = self._balanced(i + 1, "(", ")")
                parts.append(["arith", text[i:stop], in_dq, i])
                self.pos = stop
                return True
            self.pos = i + 2
            self._nested_command(i + 1)
            parts.append(["cmd", text[i:self.pos], in_dq, i])
            return True
        if nxt == "{":
            stop = self._balanced(i + 1, "{", "}", single_quotes=not in_dq)
            parts.append(["param", text[i:stop], in_dq, i])
            self._parameter(text[i + 2:max(i + 2, stop - 1)], i, stop)
            self.pos = stop
            return True
        if nxt and (nxt.isalpha() or nxt == "_"):
            m = _NAME.match(text, i + 1, end)
            stop = m.end() if m else i + 2
            parts.append(["param", text[i:stop], in_dq, i])
            self.pos = stop
            return True
        if nxt and ("0" <= nxt <= "9" or nxt in "@*#?$!-"):  # $1..$9; "$²" is a literal "$" and "²"
            parts.append(["param", text[i:i + 2], in_dq, i])
            self.pos = i + 2
            return True
        return False

    def _parameter(self, body: str, start: int, stop: int) -> None:
        """Note bash-only forms of ``${body}``."""
        kind = parameter_bashism(body)
        if kind:
            self.sink.bashism(kind, start, stop)

    def _backtick(self, parts: list[list[Any]], quoted: bool) -> None:
        text, end = self.text, self.end
        i = self.pos
        j = i + 1
        while j < end and text[j] != "`":
            j += 2 if text[j] == "\\" else 1
        j = min(j, end)
        if self.sink.depth < _MAX_DEPTH:
            sub = _Lexer(text, i + 1, j, self.sink)
            self.sink.depth += 1
            try:
                _Parser(sub, self.sink, self.sink.stack() + [_context("substitution", "body", self.sink, i)]) \
                    .parse_program()
            finally:
                self.sink.depth -= 1
        stop = min(j + 1, end)
        parts.append(["cmd", text[i:stop], quoted, i])
        self.pos = stop

    def _nested_command(self, open_paren: int) -> None:
        """Parse the commands of ``$(...)`` or ``<(...)``; ``self.pos`` is after the opening parenthesis and
        ends after the closing one."""
        if self.sink.depth >= _MAX_DEPTH:
            self.pos = self._balanced(open_paren, "(", ")")
            return
        self.sink.depth += 1
        try:
            parser = _Parser(self, self.sink,
                             self.sink.stack() + [_context("substitution", "body", self.sink, open_paren - 1)])
            parser.parse_list(stop_ops={")"})
            tok = self.peek()
            self.peeked = None
            if tok.kind != "op" and tok.kind != "eof":  # pragma: no cover - parse_list stops only at ) or EOF
                self.pos = tok.offset
        finally:
            self.sink.depth -= 1

    def _balanced(self, i: int, open_: str, close: str, single_quotes: bool = True) -> int:
        """The offset after the bracket closing the one at ``i`` (quotes and escapes respected)."""
        text, end = self.text, self.end
        depth = 0
        j = i
        while j < end:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "'" and single_quotes:
                k = text.find("'", j + 1, end)
                j = end if k == -1 else k + 1
                continue
            if c == '"':
                j += 1
                while j < end and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                j += 1
                continue
            if c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth <= 0:
                    return j + 1
            j += 1
        return end

    def read_arith(self, open_paren: int) -> Word:
        """``(( ... ))`` starting at ``open_paren``."""
        stop = self._balanced(open_paren, "(", ")")
        self.pos = stop
        self.peeked = None
        raw = self.text[open_paren:stop]
        line, col = self.sink.pos(open_paren)
        end_line, end_col = self.sink.pos(stop)
        return Word(raw, open_paren, line, col, end_line, end_col, False, (Part("arith", raw, False, open_paren),))

    def _brace_expansion(self, mask: list[tuple[str, int]]) -> None:
        chars = "".join(c for c, _ in mask)
        if "{" not in chars or chars in ("{", "}"):
            return
        # One pass pairs every brace (a stack), so a word of many `{` costs linear time, not a scan per brace.
        n = len(chars)
        close = [n] * n  # the `}` closing the `{` at i, or n
        comma = [False] * n  # a `,` directly inside the pair opened at i
        nested = [False] * n  # the pair opened at i holds another pair
        stack: list[int] = []
        for j, ch in enumerate(chars):
            if ch == "{":
                if stack:
                    nested[stack[-1]] = True
                stack.append(j)
            elif ch == "}" and stack:
                close[stack.pop()] = j
            elif ch == "," and stack:
                comma[stack[-1]] = True
        i = 0
        while i < n:
            j = close[i]
            if chars[i] == "{" and (i == 0 or chars[i - 1] != "$") and j < n:
                # A sequence `{a..z}` holds no braces: only innermost pairs are matched against it.
                if comma[i] or (not nested[i] and _BRACE_SEQUENCE.fullmatch(chars, i + 1, j)):
                    self.sink.bashism("brace", mask[i][1], mask[j][1] + 1)
                    i = j + 1
                    continue
            i += 1


_BRACE_SEQUENCE = re.compile(r"-?\w+\.\.-?\w+(\.\.-?\d+)?")


def parameter_bashism(body: str) -> str | None:
    """The kind of bash-only parameter expansion ``${body}`` is, or None for POSIX forms."""
    if not body:
        return None
    k = 0
    if body[0] == "!" and len(body) > 1:
        return "indirect"
    if body[0] == "#" and len(body) > 1 and body[1] not in "}":
        k = 1  # length: ${#name}
    m = _NAME.match(body, k)
    if m:
        k = m.end()
    elif k < len(body) and "0" <= body[k] <= "9":
        while k < len(body) and "0" <= body[k] <= "9":
            k += 1
    elif k < len(body) and body[k] in "@*#?$!-0":
        k += 1
    else:
        return None
    rest = body[k:]
    if rest.startswith("["):
        return "array"
    if rest.startswith(":") and len(rest) > 1 and rest[1] not in "-=?+":
        return "substring"
    if rest.startswith("/"):
        return "replace"
    if rest[:1] in ("^", ","):
        return "case-mod"
    if rest.startswith("@") and len(rest) > 1:
        return "transform"
    return None


def _context(kind: str, part: str, sink: _Sink, offset: int, **kw) -> Context:  # type: ignore[no-untyped-def]
    line, col = sink.pos(offset)
    return Context(kind, part, line, col, **kw)


class _Parser:
    def __init__(self, lexer: _Lexer, sink: _Sink, stack: list[Context]) -> None:
        self.lx = lexer
        self.sink = sink
        self.stack = stack

    # helpers

    def _bare(self, tok: _Tok) -> str | None:
        return tok.word.bare if tok.kind == "word" and tok.word is not None else None

    def _accept(self, word: str) -> bool:
        if self._bare(self.lx.peek()) == word:
            self.lx.next()
            return True
        return False

    def _skip_newlines(self) -> None:
        while self.lx.peek().kind == "nl":
            self.lx.next()

    def _ctx(self, kind: str, part: str, offset: int, **kw) -> Context:  # type: ignore[no-untyped-def]
        return _context(kind, part, self.sink, offset, **kw)

    def _pos(self, offset: int) -> tuple[int, int]:
        return self.sink.pos(offset)

    # grammar

    def parse_program(self) -> list[Node]:
        self.sink.parsers.append(self)
        try:
            return self.parse_list()
        finally:
            self.sink.parsers.pop()

    def parse_list(self, stop_words: frozenset[str] | set[str] = frozenset(),
                   stop_ops: frozenset[str] | set[str] = frozenset()) -> list[Node]:
        pushed = not self.sink.parsers or self.sink.parsers[-1] is not self
        if pushed:
            self.sink.parsers.append(self)
        try:
            return self._list(stop_words, stop_ops)
        finally:
            if pushed:
                self.sink.parsers.pop()

    def _list(self, stop_words: frozenset[str] | set[str], stop_ops: frozenset[str] | set[str]) -> list[Node]:
        items: list[Node] = []
        while True:
            tok = self.lx.peek()
            if tok.kind == "eof":
                break
            if tok.kind == "nl" or (tok.kind == "op" and tok.text in (";", "&") and tok.text not in stop_ops):
                self.lx.next()
                continue
            if tok.kind == "op" and tok.text in stop_ops:
                break
            if self._bare(tok) in stop_words:
                break
            before = self.lx.consumed
            node = self._and_or()
            if node is None:
                if self.lx.consumed == before:
                    self.lx.next()
                continue
            sep = self.lx.peek()
            if sep.kind == "op" and sep.text == "&":
                self.lx.next()
                _set_background(node)
            elif sep.kind == "op" and sep.text == ";" or sep.kind == "nl":
                self.lx.next()
            items.append(node)
        return items

    def _and_or(self) -> Node | None:
        first = self._pipeline()
        if first is None:
            return None
        items, ops = [first], []
        pushed = 0
        try:
            while True:
                tok = self.lx.peek()
                if not (tok.kind == "op" and tok.text in ("&&", "||")):
                    break
                self.lx.next()
                cond = tuple(simple_commands([items[-1]]))
                self.stack.append(self._ctx("and" if tok.text == "&&" else "or", "right", tok.offset, condition=cond))
                pushed += 1
                self._skip_newlines()
                nxt = self._pipeline()
                if nxt is None:
                    break
                items.append(nxt)
                ops.append(tok.text)
        finally:
            del self.stack[len(self.stack) - pushed:]
        if len(items) == 1:
            return first
        node = AndOr(first.line, first.column, items=items, ops=ops)
        return node

    def _pipeline(self) -> Node | None:
        tok = self.lx.peek()
        negated = False
        pushed = False
        if self._bare(tok) == "!":
            self.lx.next()
            negated = True
            self.stack.append(self._ctx("not", "body", tok.offset))
            pushed = True
        try:
            items: list[Node] = []
            first = self._command()
            if first is None:
                return None
            items.append(first)
            while True:
                tok2 = self.lx.peek()
                if not (tok2.kind == "op" and tok2.text in ("|", "|&")):
                    break
                self.lx.next()
                self._skip_newlines()
                nxt = self._command()
                if nxt is None:
                    break
                items.append(nxt)
        finally:
            if pushed:
                self.stack.pop()
        if len(items) > 1:
            self.sink.pipelines += 1
            for i, item in enumerate(items):
                if isinstance(item, Simple):
                    item.command.pipeline = self.sink.pipelines
                    item.command.pipe_index = i
        if negated:
            for item in items:
                if isinstance(item, Simple):
                    item.command.negated = True
        if len(items) == 1 and not negated:
            return first
        line, col = self._pos(tok.offset)
        return Pipeline(line, col, items=items, negated=negated)

    def _command(self) -> Node | None:
        tok = self.lx.peek()
        deep = self.sink.depth >= _MAX_DEPTH
        if tok.kind == "op":
            if tok.text == "(" and not deep:
                return self._subshell(tok)
            if tok.text in REDIRECTIONS:
                return self._simple()
            self.lx.next()  # a stray operator
            return None
        if tok.kind == "ionum":
            return self._simple()
        if tok.kind != "word":
            return None
        bare = self._bare(tok)
        if bare in ("then", "elif", "else", "fi", "do", "done", "esac", "}", "]]", ";;"):
            self.lx.next()  # out of place
            return None
        if deep or bare is None:
            return self._simple()
        handler = {
            "if": self._if, "while": self._while, "until": self._while, "for": self._for, "select": self._for,
            "case": self._case, "{": self._group, "function": self._function, "[[": self._double_bracket,
        }.get(bare)
        if handler is None:
            return self._simple()
        self.sink.depth += 1
        try:
            return handler(tok)
        finally:
            self.sink.depth -= 1

    def _redirects(self, node: Node) -> Node:
        while True:
            tok = self.lx.peek()
            if tok.kind == "ionum":
                self.lx.next()
                continue
            if not (tok.kind == "op" and tok.text in REDIRECTIONS):
                return node
            self.lx.next()
            node.redirects.append(self._redirect_target(tok))

    def _redirect_target(self, tok: Any) -> tuple[str, Word | None]:
        """The word after a redirection operator (already consumed); a here-document's body is queued."""
        target = None
        if self.lx.peek().kind == "word":
            target = self.lx.next().word
            if tok.text in ("<<", "<<-") and target is not None:
                self.lx.add_heredoc(target, tok.text == "<<-")
        return tok.text, target

    def _simple(self) -> Node | None:
        words: list[Word] = []
        redirects: list[tuple[str, Word | None]] = []
        start = self.lx.peek()
        while True:
            tok = self.lx.peek()
            if tok.kind == "word":
                self.lx.next()
                assert tok.word is not None
                words.append(tok.word)
                if len(words) == 1 and not redirects:
                    nxt = self.lx.peek()
                    if nxt.kind == "op" and nxt.text == "(" and tok.word.bare and _NAME.fullmatch(
                            tok.word.bare.replace("-", "_").replace(".", "_").replace(":", "_")):
                        return self._function_body(tok, tok.word.value)
            elif tok.kind == "ionum":
                self.lx.next()
            elif tok.kind == "op" and tok.text in REDIRECTIONS:
                self.lx.next()
                redirects.append(self._redirect_target(tok))
            else:
                break
        if not words and not redirects:
            return None
        line, col = (words[0].line, words[0].column) if words else self._pos(start.offset)
        cmd = ShellCommand(words, line, col, context=tuple(self.stack), redirects=redirects)
        self.sink.script._commands.append(cmd)
        node = Simple(line, col, command=cmd)
        node.redirects = redirects
        return node

    def _function_body(self, name_tok: _Tok, name: str) -> Node:
        self.lx.next()  # (
        if self.lx.peek().kind == "op" and self.lx.peek().text == ")":
            self.lx.next()
        self._skip_newlines()
        line, col = self._pos(name_tok.offset)
        self.stack.append(self._ctx("function", "body", name_tok.offset, subject=name_tok.word))
        self.sink.depth += 1
        try:
            body = self._command() if self.sink.depth < _MAX_DEPTH else None
        finally:
            self.sink.depth -= 1
            self.stack.pop()
        return FuncDef(line, col, name=name, body=[body] if body is not None else [])

    def _function(self, tok: _Tok) -> Node:
        self.lx.next()  # function
        self.sink.bashism("function", tok.offset, tok.offset + len("function"))
        name_tok = self.lx.peek()
        if name_tok.kind != "word":
            line, col = self._pos(tok.offset)
            return FuncDef(line, col, name="", body=[])
        self.lx.next()
        assert name_tok.word is not None
        nxt = self.lx.peek()
        if nxt.kind == "op" and nxt.text == "(":
            node = self._function_body(name_tok, name_tok.word.value)
        else:
            self._skip_newlines()
            line, col = self._pos(name_tok.offset)
            self.stack.append(self._ctx("function", "body", name_tok.offset, subject=name_tok.word))
            try:
                body = self._command()
            finally:
                self.stack.pop()
            node = FuncDef(line, col, name=name_tok.word.value, body=[body] if body is not None else [])
        node.line, node.column = self._pos(tok.offset)
        return node

    def _double_bracket(self, tok: _Tok) -> Node:
        """``[[ ... ]]``: a test command whose operators (``&&``, ``<``, ``(``) are words."""
        self.lx.next()
        assert tok.word is not None
        self.sink.bashism("[[", tok.offset, tok.offset + 2)
        words = [tok.word]
        while True:
            t = self.lx.peek()
            if t.kind in ("eof", "nl"):
                break
            self.lx.next()
            if t.kind == "word":
                assert t.word is not None
                words.append(t.word)
                if t.word.bare == "]]":
                    break
            else:
                line, col = self._pos(t.offset)
                end_line, end_col = self._pos(t.offset + len(t.text))
                words.append(Word(t.text, t.offset, line, col, end_line, end_col, False,
                                  (Part("lit", t.text, False, t.offset),)))
        cmd = ShellCommand(words, tok.word.line, tok.word.column, context=tuple(self.stack))
        self.sink.script._commands.append(cmd)
        return self._redirects(Simple(cmd.line, cmd.column, command=cmd))

    def _subshell(self, tok: _Tok) -> Node:
        self.lx.next()  # (
        line, col = self._pos(tok.offset)
        lx = self.lx
        if lx.peeked is None and lx.pos < lx.end and lx.text[lx.pos] == "(" and lx.pos == tok.offset + 1:
            word = lx.read_arith(tok.offset)
            self.sink.bashism("((", tok.offset, tok.offset + 2)
            return self._redirects(Arith(line, col, word=word))
        self.stack.append(self._ctx("subshell", "body", tok.offset))
        self.sink.depth += 1
        try:
            body = self.parse_list(stop_ops={")"}) if self.sink.depth < _MAX_DEPTH else []
        finally:
            self.sink.depth -= 1
            self.stack.pop()
        t = self.lx.peek()
        if t.kind == "op" and t.text == ")":
            self.lx.next()
        return self._redirects(Group(line, col, kind="subshell", body=body))

    def _group(self, tok: _Tok) -> Node:
        self.lx.next()
        line, col = self._pos(tok.offset)
        self.stack.append(self._ctx("group", "body", tok.offset))
        try:
            body = self.parse_list(stop_words={"}"})
        finally:
            self.stack.pop()
        self._accept("}")
        return self._redirects(Group(line, col, kind="group", body=body))

    def _if(self, tok: _Tok) -> Node:
        self.lx.next()
        line, col = self._pos(tok.offset)
        node = If(line, col)
        prior: list[ShellCommand] = []
        part, offset = "then", tok.offset
        while True:
            self.stack.append(self._ctx("if", "condition", offset))
            try:
                cond = self.parse_list(stop_words={"then", "fi"})
            finally:
                self.stack.pop()
            self._accept("then")
            cond_cmds = tuple(simple_commands(cond))
            self.stack.append(self._ctx("if", part, offset, condition=cond_cmds, prior=tuple(prior)))
            try:
                body = self.parse_list(stop_words={"elif", "else", "fi"})
            finally:
                self.stack.pop()
            node.branches.append((cond, body))
            prior.extend(cond_cmds)
            nxt = self.lx.peek()
            if self._bare(nxt) == "elif":
                self.lx.next()
                part, offset = "elif", nxt.offset
                continue
            if self._bare(nxt) == "else":
                self.lx.next()
                self.stack.append(self._ctx("if", "else", nxt.offset, prior=tuple(prior)))
                try:
                    node.orelse = self.parse_list(stop_words={"fi"})
                finally:
                    self.stack.pop()
            self._accept("fi")
            break
        return self._redirects(node)

    def _while(self, tok: _Tok) -> Node:
        self.lx.next()
        kind = tok.text
        line, col = self._pos(tok.offset)
        self.stack.append(self._ctx(kind, "condition", tok.offset))
        try:
            cond = self.parse_list(stop_words={"do", "done"})
        finally:
            self.stack.pop()
        self._accept("do")
        self.stack.append(self._ctx(kind, "body", tok.offset, condition=tuple(simple_commands(cond))))
        try:
            body = self.parse_list(stop_words={"done"})
        finally:
            self.stack.pop()
        self._accept("done")
        return self._redirects(Loop(line, col, kind=kind, condition=cond, body=body))

    def _for(self, tok: _Tok) -> Node:
        self.lx.next()
        kind = tok.text
        line, col = self._pos(tok.offset)
        lx = self.lx
        nxt = lx.peek()
        subject = None
        if nxt.kind == "op" and nxt.text == "(" and lx.pos < lx.end and lx.text[lx.pos] == "(" \
                and lx.pos == nxt.offset + 1:
            lx.next()
            subject = lx.read_arith(nxt.offset)
            self.sink.bashism("for((", tok.offset, nxt.offset + 2)
        elif nxt.kind == "word":
            subject = lx.next().word
            self._skip_newlines()
            if self._accept("in"):
                while lx.peek().kind == "word" and self._bare(lx.peek()) not in ("do",):
                    lx.next()
        t = lx.peek()
        if t.kind == "op" and t.text == ";":
            lx.next()
        self._skip_newlines()
        if self._bare(lx.peek()) == "{":  # bash also accepts `for x in a b; { ...; }`
            body_node = self._group(lx.peek())
            return self._redirects(Loop(line, col, kind=kind, body=[body_node]))
        self._accept("do")
        self.stack.append(self._ctx(kind, "body", tok.offset, subject=subject))
        try:
            body = self.parse_list(stop_words={"done"})
        finally:
            self.stack.pop()
        self._accept("done")
        return self._redirects(Loop(line, col, kind=kind, body=body))

    def _case(self, tok: _Tok) -> Node:
        self.lx.next()
        lx = self.lx
        line, col = self._pos(tok.offset)
        node = Case(line, col)
        if lx.peek().kind == "word":
            node.subject = lx.next().word
        self._skip_newlines()
        self._accept("in")
        while True:
            t = lx.peek()
            if t.kind in ("nl",) or (t.kind == "op" and t.text in (";", ";;", ";&", ";;&")):
                lx.next()
                continue
            if t.kind == "eof" or self._accept("esac"):
                break
            if t.kind == "op" and t.text == "(":
                lx.next()
            patterns: list[Word] = []
            while True:
                p = lx.peek()
                if p.kind == "word":
                    assert p.word is not None
                    patterns.append(p.word)
                    lx.next()
                elif p.kind == "op" and p.text == "|":
                    lx.next()
                else:
                    break
            p = lx.peek()
            if p.kind == "op" and p.text == ")":
                lx.next()
            elif not patterns:
                lx.next()  # something that is no pattern: skip it
                continue
            offset = patterns[0].offset if patterns else t.offset
            self.stack.append(self._ctx("case", "branch", offset, subject=node.subject, patterns=tuple(patterns)))
            try:
                body = self.parse_list(stop_words={"esac"}, stop_ops={";;", ";&", ";;&"})
            finally:
                self.stack.pop()
            node.branches.append((patterns, body))
        return self._redirects(node)


def _set_background(node: Node) -> None:
    node.background = True
    for cmd in simple_commands([node]):
        cmd.background = True
