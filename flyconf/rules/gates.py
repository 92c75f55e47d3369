"""Evaluating a start script's gates for the arguments a Machine really starts it with.

A start script often runs its migration only under a condition on its
arguments (`if [ "${@: -2:1}" == "./bin/rails" ]`, `case "$1" in server)`).
Whether that condition holds depends on the command the Machine starts: the
image's CMD, or a fly.toml `[processes]` command, passed to the script as its
arguments. This module walks the script's tree, collects the conditions on
the path to each migration, and evaluates them for given positional
parameters. Only positional parameters (and literals) are known; anything
else (environment variables, command output) evaluates to "unknown", and an
unknown condition never makes a finding.

Nothing is executed: this is a small interpreter of `[`, `test`, `[[`, `case`
patterns and `echo ... | grep` over strings.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from flyconf.sources.script import (
    AndOr,
    Case,
    FuncDef,
    Group,
    If,
    Loop,
    Node,
    Pipeline,
    Script,
    ShellCommand,
    Simple,
    Word,
)
from flyconf.units import ascii_int


@dataclass(frozen=True)
class Condition:
    """One condition on the path to a command: ``nodes`` must evaluate to ``expected``, or (for a
    `case` branch) ``subject`` must match ``patterns`` (and none of ``prior`` patterns)."""

    nodes: tuple[Node, ...] = ()
    ops: tuple[str, ...] = ()  # for an and-or prefix: the operators joining ``nodes``
    expected: bool = True
    subject: Word | None = None
    patterns: tuple[Word, ...] = ()
    prior: tuple[Word, ...] = ()  # patterns of earlier branches, which must not match

    def names_migration(self) -> bool:
        """A literal of the condition names a migration (`[ "$1" = migrate ]`): a dispatcher that runs the
        migration as its own command, not a gate in front of the server."""
        words = list(self.patterns)
        for cmd in _commands(self.nodes):
            words.extend(cmd.argv[1:])
        return any(w.literal and "migrat" in w.value.lower() for w in words)

    def first_word(self) -> Word | None:
        """The first word of the condition that expands a positional parameter (where findings point)."""
        if self.subject is not None:
            return self.subject
        for cmd in _commands(self.nodes):
            for w in cmd.argv:
                if any(p.kind == "param" and _positional_body(p.text) is not None for p in w.parts):
                    return w
        return None

    def text(self) -> str:
        """The condition as written (for an and-or prefix, the commands before the operator)."""
        if self.subject is not None:
            return f"case {self.subject.text} in {'|'.join(p.text for p in self.patterns)})"
        if self.ops:
            return _render(AndOr(0, 0, list(self.nodes), list(self.ops)))
        return "; ".join(_render(n) for n in self.nodes)


@dataclass(frozen=True)
class Path:
    """A command and the conditions that must all hold for it to run."""

    command: ShellCommand
    conditions: tuple[Condition, ...]


def _render(node: Node) -> str:
    if isinstance(node, Simple):
        return " ".join(w.text for w in node.command.words)
    if isinstance(node, Pipeline):
        return ("! " if node.negated else "") + " | ".join(_render(n) for n in node.items)
    if isinstance(node, AndOr):
        out = _render(node.items[0])
        for op, item in zip(node.ops, node.items[1:], strict=False):
            out += f" {op} {_render(item)}"
        return out
    return "…"


def _commands(nodes: Sequence[Node]) -> Iterator[ShellCommand]:
    for node in nodes:
        if isinstance(node, Simple):
            yield node.command
        elif isinstance(node, (Pipeline, AndOr)):
            yield from _commands(node.items)


def paths(script: Script, wanted: Callable[[ShellCommand], bool], max_depth: int = 4) -> list[Path]:
    """Every command for which ``wanted`` holds, with the conditions on its path (functions followed)."""
    functions = {name: f for name, f in script.functions.items()}
    out: list[Path] = []

    def walk(nodes: Sequence[Node], conds: tuple[Condition, ...], depth: int) -> None:
        for node in nodes:
            visit(node, conds, depth)

    def visit(node: Node, conds: tuple[Condition, ...], depth: int) -> None:
        if isinstance(node, Simple):
            cmd = node.command
            if wanted(cmd):
                out.append(Path(cmd, conds))
            elif cmd.name in functions and depth < max_depth:
                walk(functions[cmd.name].body, conds, depth + 1)
        elif isinstance(node, Pipeline):
            walk(node.items, conds, depth)
        elif isinstance(node, AndOr):
            for k, item in enumerate(node.items):
                if k == 0:
                    visit(item, conds, depth)
                    continue
                prefix = Condition(tuple(node.items[:k]), tuple(node.ops[: k - 1]), expected=node.ops[k - 1] == "&&")
                visit(item, conds + (prefix,), depth)
        elif isinstance(node, If):
            earlier: tuple[Condition, ...] = ()
            for cond, body in node.branches:
                walk(cond, conds + earlier, depth)
                here = Condition(tuple(cond), expected=True)
                walk(body, conds + earlier + (here,), depth)
                earlier = earlier + (Condition(tuple(cond), expected=False),)
            if node.orelse:
                walk(node.orelse, conds + earlier, depth)
        elif isinstance(node, Case):
            prior: tuple[Word, ...] = ()
            for patterns, body in node.branches:
                if node.subject is not None:
                    here = Condition(subject=node.subject, patterns=tuple(patterns), prior=prior)
                    walk(body, conds + (here,), depth)
                else:
                    walk(body, conds, depth)
                prior = prior + tuple(patterns)
        elif isinstance(node, Loop):
            walk(node.condition, conds, depth)
            walk(node.body, conds, depth)  # may run: its own condition is not a gate we judge
        elif isinstance(node, Group):
            walk(node.body, conds, depth)
        elif isinstance(node, FuncDef):
            return  # bodies are walked where the function is called

    walk(script.tree, (), 0)
    return out


# -- evaluation ------------------------------------------------------------------------------------

class Unknown(Exception):
    """A value flyconf cannot know (an environment variable, a command's output)."""


def _positional_body(text: str) -> str | None:
    """The body of a positional-parameter expansion (`1`, `@`, `#`, `@: -2:1`, `1:-x`), else None."""
    if text.startswith("${") and text.endswith("}"):
        body = text[2:-1]
    elif text.startswith("$"):
        body = text[1:]
    else:
        return None
    m = re.match(r"([0-9]+|[@*#])", body)
    if not m:
        return None
    if m.group(1) == "0":
        return None
    if m.group(1) == "#" and len(body) > 1:  # ${#1}: a length, or ${#} with more after it
        return None
    return body


_SHELL_INT = re.compile(r"[ \t\n\r\v\f]*([+-]?)([0-9]+)[ \t\n\r\v\f]*")


def _shell_int(text: str) -> int | None:
    """An integer as `test` reads it (strtoimax: blanks around, a sign, ASCII digits), or None where `test`
    says "Illegal number". Python's int() would also take "1_000" and "٣"."""
    m = _SHELL_INT.fullmatch(text)
    if m is None:
        return None
    value = ascii_int(m.group(2))
    if value is None or value > 2**63 - (m.group(1) != "-"):  # out of range: strtoimax sets ERANGE
        return None
    return -value if m.group(1) == "-" else value


class Evaluator:
    """Evaluates conditions for one set of positional parameters."""

    def __init__(self, args: Sequence[str], *, bash: bool) -> None:
        self.args = list(args)
        self.bash = bash  # bash-only expansions (`${@: -2:1}`) mean what bash says; elsewhere: unknown

    # -- words --------------------------------------------------------------------------------------
    def _param(self, text: str) -> list[str] | str:
        """A parameter's value: a list for `$@`/`$*` (fields), a string otherwise."""
        body = _positional_body(text)
        if body is None:
            raise Unknown(text)
        args = self.args
        m = re.match(r"([0-9]+|[@*#])(.*)$", body, re.S)
        assert m is not None
        name, rest = m.group(1), m.group(2)
        if name == "#":
            return str(len(args))
        if name in "@*":
            if not rest:
                return list(args)
            # At most 18 digits: an int64, and never a string too long for int().
            slice_ = re.fullmatch(r":\s*(-?\s*[0-9]{1,18})(?::\s*([0-9]{1,18}))?", rest)
            if slice_ is None or not self.bash:
                raise Unknown(text)
            offset = int(slice_.group(1).replace(" ", ""))
            values = ["$0"] + args  # bash: offset 0 is $0
            if offset < 0:
                start = len(values) + offset
                if start < 1:
                    return []  # bash expands an out-of-range negative offset to nothing
            else:
                start = offset
            length = int(slice_.group(2)) if slice_.group(2) is not None else None
            picked = values[start:] if length is None else values[start:start + length]
            if "$0" in picked:
                raise Unknown(text)
            return picked
        index = ascii_int(name)  # None for a number too long to convert: no such parameter is set
        value = args[index - 1] if index is not None and 0 < index <= len(args) else None
        if not rest:
            return value or ""
        default = re.fullmatch(r"(:?)([-=])(.*)", rest, re.S)
        if default is not None:
            empty = value is None or (default.group(1) == ":" and value == "")
            return default.group(3) if empty else (value or "")
        raise Unknown(text)

    def fields(self, word: Word, *, split: bool = True) -> list[str]:
        """The fields a word expands to (unquoted expansions are split on blanks and vanish when empty)."""
        out: list[str] = []
        current = ""
        has_text = False
        for part in word.parts:
            if part.kind == "lit":
                current += part.text
                has_text = has_text or part.quoted or bool(part.text)
            elif part.kind == "param":
                value = self._param(part.text)
                if isinstance(value, list):
                    if part.quoted and part.text.lstrip("${").startswith("*"):
                        current += " ".join(value)
                        has_text = True
                    elif part.quoted:  # "$@": one field per argument
                        if not value:
                            continue
                        current += value[0]
                        for extra in value[1:]:
                            out.append(current)
                            current = extra
                        has_text = True
                    else:
                        joined = " ".join(value)
                        pieces = joined.split() if split else [joined]
                        if pieces:
                            current += pieces[0]
                            for extra in pieces[1:]:
                                out.append(current)
                                current = extra
                            has_text = True
                elif part.quoted or not split:
                    current += value
                    has_text = True
                else:
                    pieces = value.split()
                    if pieces:
                        current += pieces[0]
                        for extra in pieces[1:]:
                            out.append(current)
                            current = extra
                        has_text = True
            else:
                raise Unknown(part.text)
        if has_text or current:
            out.append(current)
        return out

    def string(self, word: Word) -> str:
        return " ".join(self.fields(word, split=False))

    # -- conditions -----------------------------------------------------------------------------------
    def condition(self, cond: Condition) -> bool | None:
        try:
            if cond.subject is not None:
                subject = self.string(cond.subject)
                if any(self._matches(subject, p) for p in cond.prior):
                    return False
                return any(self._matches(subject, p) for p in cond.patterns)
            value = self._andor(list(cond.nodes), list(cond.ops)) if cond.ops else self._list(list(cond.nodes))
            if value is None:
                return None
            return value == cond.expected
        except Unknown:
            return None
        except RecursionError:  # pragma: no cover - absurd nesting
            return None

    def _matches(self, subject: str, pattern: Word) -> bool:
        return fnmatch.fnmatchcase(subject, self.pattern(pattern))

    def pattern(self, word: Word) -> str:
        """A word as a glob pattern: quoted parts match literally."""
        out = []
        for part in word.parts:
            if part.kind == "lit":
                text = part.text
            elif part.kind == "param":
                value = self._param(part.text)
                text = " ".join(value) if isinstance(value, list) else value
            else:
                raise Unknown(part.text)
            out.append(re.sub(r"([*?\[])", r"[\1]", text) if part.quoted else text)
        return "".join(out)

    def _list(self, nodes: list[Node]) -> bool | None:
        """A condition list: its status is the last command's."""
        if not nodes:
            return None
        return self._node(nodes[-1])

    def _andor(self, items: list[Node], ops: list[str]) -> bool | None:
        status = self._node(items[0])
        for op, item in zip(ops, items[1:], strict=False):
            if op == "&&":
                if status is False:
                    continue
                nxt = self._node(item)
                status = nxt if status is True else (False if nxt is False else None)
            else:
                if status is True:
                    continue
                nxt = self._node(item)
                status = nxt if status is False else (True if nxt is True else None)
        return status

    def _node(self, node: Node) -> bool | None:
        if isinstance(node, Simple):
            return self._simple(node.command)
        if isinstance(node, AndOr):
            return self._andor(node.items, node.ops)
        if isinstance(node, Pipeline):
            value = self._pipeline(node)
            if value is None:
                return None
            return not value if node.negated else value
        if isinstance(node, Group):
            return self._list(node.body)
        return None

    def _pipeline(self, node: Pipeline) -> bool | None:
        cmds = [n.command for n in node.items if isinstance(n, Simple)]
        if len(cmds) != len(node.items) or len(cmds) < 2:
            return self._node(node.items[-1]) if len(node.items) == 1 else None
        first, last = cmds[0], cmds[-1]
        if len(cmds) != 2 or first.name not in ("echo", "printf") or last.name not in ("grep", "egrep", "fgrep"):
            return None
        words = [self.string(w) for w in first.argv[1:]]
        if first.name == "printf":
            if not words:
                return None
            fmt = words[0]
            if fmt not in ("%s", "%s\\n", "%s\n") or len(words) != 2:
                return None
            text = words[1]
        else:
            text = " ".join(w for w in words if not (w.startswith("-") and set(w[1:]) <= set("neE")))
        return _grep(last, [self.string(w) for w in last.argv[1:]], text)

    def _simple(self, cmd: ShellCommand) -> bool | None:
        name = cmd.name
        if name in ("true", ":"):
            return True
        if name == "false":
            return False
        if name not in ("[", "test", "[["):
            return None
        value = _test(self, cmd)
        if value is None:
            return None
        return not value if cmd.negated else value


def _grep(cmd: ShellCommand, args: list[str], text: str) -> bool | None:
    flags = ""
    pattern: str | None = None
    for a in args:
        if a.startswith("-") and len(a) > 1 and pattern is None:
            if not re.fullmatch(r"-[qsEFivxw]+", a):
                return None
            flags += a[1:]
        elif pattern is None:
            pattern = a
        else:
            return None  # a file argument: not reading the pipe
    if pattern is None:
        return None
    if cmd.name == "egrep":
        flags += "E"
    if cmd.name == "fgrep":
        flags += "F"
    if "F" in flags:
        regex = re.escape(pattern)
    elif re.fullmatch(r"[\w./: ^$*-]*", pattern) and "\\" not in pattern:
        regex = pattern  # literal text, anchors and `.*`: the same in BRE, ERE and Python
    else:
        return None
    if "w" in flags:
        regex = rf"\b(?:{regex})\b"
    try:
        compiled = re.compile(regex, re.I if "i" in flags else 0)
    except re.error:
        return None
    found = any((compiled.fullmatch(line) if "x" in flags else compiled.search(line)) for line in text.split("\n"))
    return not found if "v" in flags else found


_INT_OPS: dict[str, Callable[[int, int], bool]] = {
    "-eq": lambda a, b: a == b, "-ne": lambda a, b: a != b, "-gt": lambda a, b: a > b,
    "-ge": lambda a, b: a >= b, "-lt": lambda a, b: a < b, "-le": lambda a, b: a <= b,
}


def _test(ev: Evaluator, cmd: ShellCommand) -> bool | None:
    argv = cmd.argv
    double = argv[0].value == "[["
    words = argv[1:]
    if argv[0].value == "[":
        if not words or words[-1].value != "]":
            return None
        words = words[:-1]
    if double:
        if not words or words[-1].value != "]]":
            return None
        words = words[:-1]
        return _double(ev, words)
    fields: list[str] = []
    for w in words:
        fields.extend(ev.fields(w))
    return _posix_test(fields)


def _posix_test(args: list[str]) -> bool | None:
    """test(1) with POSIX's rules by argument count (no -a/-o beyond simple forms)."""
    if "-a" in args or "-o" in args:
        for op, combine in (("-o", any), ("-a", all)):
            if op in args:
                i = args.index(op)
                left, right = _posix_test(args[:i]), _posix_test(args[i + 1:])
                if left is None or right is None:
                    if op == "-o" and (left is True or right is True):
                        return True
                    if op == "-a" and (left is False or right is False):
                        return False
                    return None
                return combine((left, right))
    n = len(args)
    if n == 0:
        return False
    if args[0] == "!" and n > 1:
        inner = _posix_test(args[1:])
        return None if inner is None else not inner
    if n == 1:
        return args[0] != ""
    if n == 2:
        if args[0] == "-n":
            return args[1] != ""
        if args[0] == "-z":
            return args[1] == ""
        return None
    if n == 3:
        a, op, b = args
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        if op in _INT_OPS:
            lhs, rhs = _shell_int(a), _shell_int(b)
            if lhs is None or rhs is None:
                return False  # `[: Illegal number`: status 2, the test fails
            return _INT_OPS[op](lhs, rhs)
        return None
    return None


def _double(ev: Evaluator, words: list[Word]) -> bool | None:
    """`[[ ... ]]`: no field splitting; `==`/`!=` match a glob pattern unless the right side is quoted."""
    for op in ("||", "&&"):
        for i, w in enumerate(words):
            if w.value == op and not w.quoted:
                left, right = _double(ev, words[:i]), _double(ev, words[i + 1:])
                if op == "||":
                    return True if True in (left, right) else (None if None in (left, right) else False)
                return False if False in (left, right) else (None if None in (left, right) else True)
    if words and words[0].value == "!" and not words[0].quoted:
        inner = _double(ev, words[1:])
        return None if inner is None else not inner
    if len(words) == 1:
        return ev.string(words[0]) != ""
    if len(words) == 2 and words[0].value in ("-n", "-z"):
        value = ev.string(words[1])
        return (value != "") if words[0].value == "-n" else (value == "")
    if len(words) == 3:
        a, op, b = ev.string(words[0]), words[1].value, words[2]
        if op in ("==", "=", "!="):
            same = fnmatch.fnmatchcase(a, ev.pattern(b))
            return same if op != "!=" else not same
        if op in _INT_OPS:
            lhs, rhs = _shell_int(a), _shell_int(ev.string(b))
            if lhs is None or rhs is None:
                return None  # bash evaluates an arithmetic expression here: not followed
            return _INT_OPS[op](lhs, rhs)
        if op == "=~":
            try:
                return re.search(ev.string(b), a) is not None
            except re.error:
                return None
    return None
