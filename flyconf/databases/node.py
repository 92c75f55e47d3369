"""Node.js: Drizzle's drizzle.config.*, Knex's knexfile.*, and SQLite files opened with a literal path.

Everything is read as text with a small JavaScript/TypeScript tokenizer of ours (strings, template
literals, comments, regular expressions); nothing is evaluated. Values are understood only in a few
literal shapes: a string, `process.env.X` (with `!`, `?? "d"` or `|| "d"`), `path.join(__dirname, "x")`,
objects and arrays of those, and constants defined at the top of the file.

- Drizzle: drizzle-kit finds `drizzle.config.{ts,js,json}` in the directory it runs from
  (drizzle-kit/src/cli/commands/utils.ts) and opens an SQLite `dbCredentials.url` with better-sqlite3
  after stripping `file:`, or with libSQL (drizzle-kit/src/utils.ts, normaliseSQLiteUrl): a relative path
  is relative to the process's working directory, the image's WORKDIR. `dialect: "turso"` (or
  `driver: "turso"`) talks to a libSQL server unless its url is a `file:`.
- Knex: the knex CLI picks `knexfile[--env || NODE_ENV || "development"]`, or the whole object when
  that key is absent (bin/utils/cli-config-utils.js, resolveEnvironmentConfig); a string `connection`
  that is not a URL is an SQLite file name (lib/knex-builder/internal/parse-connection.js). The
  sqlite3 and better-sqlite3 drivers open a relative file name against the working directory.
- Literal opens in the app's own code: `new Database("x.db")` (better-sqlite3, libsql, bun:sqlite),
  `new DatabaseSync("x.db")` (node:sqlite), `new sqlite3.Database("x.db")`, `open({ filename: "x.db" })`
  (sqlite), `createClient({ url: "file:x.db" })` (@libsql/client), `drizzle("x.db")`. Only a string
  literal argument is read: a variable or `process.env` is left to the environment reader.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping

from flyconf.databases import urls
from flyconf.databases.model import (
    SERVER,
    SQLITE,
    UNKNOWN,
    Context,
    EnvVar,
    Found,
    Location,
    Step,
    offset_location,
    resolve,
)
from flyconf.sources import escapes
from flyconf.sources.base import Document
from flyconf.sources.escapes import unescape as _unescape

# -- a small JavaScript / TypeScript tokenizer -------------------------------------------------------


@dataclass(frozen=True)
class Tok:
    """A token: "str" (``text`` is the decoded value), "tmpl" (a template literal with `${}`), "name",
    "num", "punct", "regex" or "bad" (an unterminated string)."""

    kind: str
    text: str
    start: int
    end: int


_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))+")
_NAME = re.compile(r"[A-Za-z_$\u00a0-\uffff][\w$\u00a0-\uffff]*")
_NUMBER = re.compile(r"\.?\d[\w.]*")
_STRING = {q: re.compile(q + r"(?:[^" + q + r"\\\n]|\\[\s\S])*(" + q + r")?") for q in ("'", '"')}
_PUNCT3 = ("...", "===", "!==", "**=", "<<=", ">>=", "??=", "||=", "&&=", ">>>")
_PUNCT2 = ("=>", "?.", "??", "||", "&&", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "++", "--", "**",
           "<<", ">>", "&=", "|=", "^=")
# After these, a `/` starts a regular expression rather than a division.
_REGEX_AFTER_NAMES = frozenset({"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
                                "do", "else", "yield", "await"})
def unescape(body: str) -> str:
    """The value of a JavaScript string body (between the quotes)."""
    return _unescape(body, escapes.JS, fixed={"x": 2, "u": 4}, braced=True, continuation="line")


def _template_end(text: str, i: int, depth: int = 0) -> tuple[int, bool]:
    """The end of the template literal opening at ``text[i]`` (a backtick), and whether it holds `${`."""
    n = len(text)
    j = i + 1
    interpolated = False
    while j < n:
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "`":
            return j + 1, interpolated
        if ch == "$" and j + 1 < n and text[j + 1] == "{":
            interpolated = True
            j = _expression_end(text, j + 2, depth + 1)
            continue
        j += 1
    return n, interpolated


def _expression_end(text: str, j: int, depth: int) -> int:
    """The offset just past the `}` closing a `${` expression that starts at ``j``."""
    n = len(text)
    braces = 0
    if depth > 20:  # absurd nesting: give up on this template
        return n
    while j < n:
        m = _SPACE.match(text, j)
        if m and m.end() > j:
            j = m.end()
            continue
        ch = text[j]
        if ch in "'\"":
            m = _STRING[ch].match(text, j)
            j = m.end() if m else j + 1
        elif ch == "`":
            j, _ = _template_end(text, j, depth)
        elif ch == "{":
            braces += 1
            j += 1
        elif ch == "}":
            if braces == 0:
                return j + 1
            braces -= 1
            j += 1
        else:
            j += 1
    return n


def _regex_end(text: str, i: int) -> int | None:
    """The end of a regular expression literal starting at ``text[i]`` ("/"), or None when it is not one."""
    n = len(text)
    j = i + 1
    in_class = False
    while j < n:
        ch = text[j]
        if ch == "\n":
            return None
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            j += 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            return j
        j += 1
    return None


def tokenize(text: str) -> list[Tok]:
    """The tokens of a JavaScript or TypeScript file; comments and white space are dropped. Never raises."""
    out: list[Tok] = []
    n = len(text)
    i = 0
    if text.startswith("#!"):
        i = text.find("\n") if "\n" in text else n
    while i < n:
        m = _SPACE.match(text, i)
        if m and m.end() > i:
            i = m.end()
            continue
        ch = text[i]
        if ch in "'\"":
            m = _STRING[ch].match(text, i)
            assert m is not None
            if m.group(1):
                out.append(Tok("str", unescape(text[i + 1:m.end() - 1]), i, m.end()))
            else:
                out.append(Tok("bad", text[i:m.end()], i, m.end()))
            i = m.end()
            continue
        if ch == "`":
            end, interpolated = _template_end(text, i)
            if interpolated or end > n or not text[end - 1:end] == "`" or end - i < 2:
                out.append(Tok("tmpl", text[i:end], i, end))
            else:
                out.append(Tok("str", unescape(text[i + 1:end - 1]), i, end))
            i = end
            continue
        m = _NAME.match(text, i)
        if m:
            out.append(Tok("name", m.group(0), i, m.end()))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m:
            out.append(Tok("num", m.group(0), i, m.end()))
            i = m.end()
            continue
        if ch == "/":
            prev = out[-1] if out else None
            regex_ok = (prev is None or (prev.kind == "punct" and prev.text not in (")", "]", "}", "++", "--"))
                        or (prev.kind == "name" and prev.text in _REGEX_AFTER_NAMES))
            if regex_ok:
                stop = _regex_end(text, i)
                if stop is not None:
                    out.append(Tok("regex", text[i:stop], i, stop))
                    i = stop
                    continue
        for width, table in ((3, _PUNCT3), (2, _PUNCT2)):
            if text[i:i + width] in table:
                out.append(Tok("punct", text[i:i + width], i, i + width))
                i += width
                break
        else:
            out.append(Tok("punct", ch, i, i + 1))
            i += 1
    return out


# -- values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JValue:
    start: int
    end: int


@dataclass(frozen=True)
class JStr(JValue):
    value: str


@dataclass(frozen=True)
class JEnv(JValue):
    """`process.env.X`, `process.env["X"]`, `Bun.env.X`, `import.meta.env.X` or Prisma's `env("X")`."""

    name: str


@dataclass(frozen=True)
class JOr(JValue):
    """`left ?? right` or `left || right`."""

    left: JValue
    right: JValue
    op: str


@dataclass(frozen=True)
class JObj(JValue):
    # (key, where the key is, value); key None for a spread `...value`
    items: tuple[tuple[str | None, int, JValue], ...]


@dataclass(frozen=True)
class JArr(JValue):
    items: tuple[JValue, ...]


@dataclass(frozen=True)
class JCall(JValue):
    callee: str  # dotted name: "defineConfig", "path.join"
    args: tuple[JValue, ...]


@dataclass(frozen=True)
class JRef(JValue):
    name: str  # an identifier or dotted name: `config`, `__dirname`


@dataclass(frozen=True)
class JOther(JValue):
    """An expression flyconf does not read (a function call result, arithmetic, a template...)."""


_ENV_HEADS = (("process", "env"), ("Bun", "env"), ("import", "meta", "env"), ("Deno", "env"))
_STOP = frozenset({",", ";", ")", "]", "}"})
_OPEN = {"(": ")", "[": "]", "{": "}"}


class JsReader:
    """Reads literal values out of a token list. Anything it does not understand becomes :class:`JOther`."""

    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.n = len(toks)

    def tok(self, i: int) -> Tok | None:
        return self.toks[i] if 0 <= i < self.n else None

    def is_punct(self, i: int, *texts: str) -> bool:
        t = self.tok(i)
        return t is not None and t.kind == "punct" and t.text in texts

    def is_name(self, i: int, *texts: str) -> bool:
        t = self.tok(i)
        return t is not None and t.kind == "name" and (not texts or t.text in texts)

    def skip_balanced(self, i: int) -> int:
        """Past the bracket that opens at ``i`` and its match."""
        stack: list[str] = []
        while i < self.n:
            t = self.toks[i]
            if t.kind == "punct":
                if t.text in _OPEN:
                    stack.append(_OPEN[t.text])
                elif stack and t.text == stack[-1]:
                    stack.pop()
                    if not stack:
                        return i + 1
                elif t.text in (")", "]", "}"):
                    return i + 1  # unbalanced: stop here
            i += 1
        return i

    def skip_expression(self, i: int) -> int:
        """Past an expression flyconf does not read: up to a `,` `;` or closing bracket at its own depth."""
        while i < self.n:
            t = self.toks[i]
            if t.kind == "punct":
                if t.text in _OPEN:
                    i = self.skip_balanced(i)
                    continue
                if t.text in _STOP:
                    return i
            i += 1
        return i

    def skip_type(self, i: int) -> int:
        """Past a TypeScript type (after `as`, `satisfies` or a `:` annotation)."""
        while i < self.n:
            t = self.toks[i]
            if t.kind == "name" or t.kind == "str" or t.kind == "num":
                i += 1
            elif t.kind == "punct" and t.text in ("(", "[", "{"):
                i = self.skip_balanced(i)
            elif t.kind == "punct" and t.text == "<":
                depth = 0
                while i < self.n:
                    if self.is_punct(i, "<"):
                        depth += 1
                    elif self.is_punct(i, ">"):
                        depth -= 1
                    elif self.is_punct(i, ">>"):
                        depth -= 2
                    elif self.is_punct(i, ";", "=", ")"):
                        break
                    i += 1
                    if depth <= 0:
                        break
            else:
                break
            # a union, intersection, member or array type continues the type
            if self.is_punct(i, "|", "&", ".", "?."):
                i += 1
                continue
            if self.is_punct(i, "[") and self.is_punct(i + 1, "]"):
                i += 2
                continue
            if self.is_punct(i, "(", "[", "{", "<") and t.kind == "name":
                continue
            break
        return i

    def expression(self, i: int) -> tuple[JValue, int]:
        start_tok = self.tok(i)
        if start_tok is None:
            return JOther(0, 0), i
        left, i = self.unary(i)
        while self.is_punct(i, "??", "||"):
            op = self.toks[i].text
            right, i = self.unary(i + 1)
            left = JOr(left.start, right.end, left, right, op)
        if self.is_punct(i, "?", "&&", "+", "-", "*", "/", "%", "==", "===", "!=", "!==", "<", ">", "<=", ">=",
                         "instanceof", "in"):
            end = self.skip_expression(i)
            last = self.toks[end - 1] if end - 1 < self.n else self.toks[-1]
            return JOther(start_tok.start, last.end), end
        return left, i

    def unary(self, i: int) -> tuple[JValue, int]:
        t = self.tok(i)
        if t is None:
            return JOther(0, 0), i
        if t.kind == "punct" and t.text in ("!", "-", "+", "~", "...") or t.kind == "name" and t.text in (
                "typeof", "void", "await", "async", "function", "class", "yield", "delete"):
            end = self.skip_expression(i + 1)
            last = self.toks[end - 1] if 0 < end <= self.n else t
            return JOther(t.start, last.end), end
        value, i = self.primary(i)
        return self.postfix(value, i)

    def primary(self, i: int) -> tuple[JValue, int]:
        t = self.toks[i]
        if t.kind == "str":
            return JStr(t.start, t.end, t.text), i + 1
        if t.kind == "punct" and t.text == "{":
            return self.object(i)
        if t.kind == "punct" and t.text == "[":
            return self.array(i)
        if t.kind == "punct" and t.text == "(":
            end = self.skip_balanced(i)
            if self.is_punct(end, "=>"):  # an arrow function
                stop = self.skip_expression(end + 1)
                return JOther(t.start, self.toks[stop - 1].end), stop
            inner, j = self.expression(i + 1)
            if self.is_punct(j, ")"):
                return inner, j + 1
            return JOther(t.start, self.toks[end - 1].end), end
        if t.kind == "name":
            if t.text == "new":
                value, j = self.primary(i + 1) if i + 1 < self.n else (JOther(t.start, t.end), i + 1)
                value, j = self.postfix(value, j)
                return JOther(t.start, value.end), j
            names = [t.text]
            j = i + 1
            while (self.is_punct(j, ".", "?.") and self.is_name(j + 1)) or (
                    self.is_punct(j, "[") and self.tok(j + 1) is not None and self.toks[j + 1].kind == "str"
                    and self.is_punct(j + 2, "]")):
                if self.is_punct(j, "["):
                    names.append(self.toks[j + 1].text)
                    j += 3
                else:
                    names.append(self.toks[j + 1].text)
                    j += 2
            for head in _ENV_HEADS:
                if tuple(names[:len(head)]) == head and len(names) == len(head) + 1:
                    return JEnv(t.start, self.toks[j - 1].end, names[-1]), j
            if self.is_punct(j, "=>"):
                stop = self.skip_expression(j + 1)
                return JOther(t.start, self.toks[stop - 1].end), stop
            return JRef(t.start, self.toks[j - 1].end, ".".join(names)), j
        if t.kind == "num":
            return JOther(t.start, t.end), i + 1
        end = self.skip_expression(i + 1) if not (t.kind == "punct" and t.text in _STOP) else i
        last = self.toks[end - 1] if end > i else t
        return JOther(t.start, last.end), max(end, i + (0 if t.kind == "punct" and t.text in _STOP else 1))

    def postfix(self, value: JValue, i: int) -> tuple[JValue, int]:
        while i < self.n:
            if self.is_punct(i, "("):
                end = self.skip_balanced(i)
                args = self.arguments(i)
                if isinstance(value, JRef):
                    if value.name == "env" and len(args) == 1 and isinstance(args[0], JStr):
                        value = JEnv(value.start, self.toks[end - 1].end, args[0].value)  # Prisma's env("X")
                    else:
                        value = JCall(value.start, self.toks[end - 1].end, value.name, args)
                else:
                    value = JOther(value.start, self.toks[end - 1].end)
                i = end
            elif self.is_punct(i, "!") and not self.is_punct(i + 1, "=", "=="):
                i += 1  # TypeScript's non-null assertion
            elif self.is_name(i, "as", "satisfies"):
                i = self.skip_type(i + 1)
            elif (isinstance(value, JCall) and value.callee == "require" and self.is_punct(i, ".")
                  and self.is_name(i + 1, "verbose") and self.is_punct(i + 2, "(") and self.is_punct(i + 3, ")")):
                i += 4  # `require("sqlite3").verbose()` is still the module
            elif self.is_punct(i, ".", "?.") and self.is_name(i + 1) or self.is_punct(i, "["):
                # a member of something that is not a plain name: not read
                end = i + 2 if not self.is_punct(i, "[") else self.skip_balanced(i)
                value = JOther(value.start, self.toks[end - 1].end)
                i = end
            elif self.tok(i) is not None and self.toks[i].kind == "tmpl" and isinstance(value, JRef):
                value = JOther(value.start, self.toks[i].end)  # a tagged template
                i += 1
            else:
                break
        return value, i

    def arguments(self, i: int) -> tuple[JValue, ...]:
        """The arguments of the call whose `(` is at ``i``."""
        out: list[JValue] = []
        j = i + 1
        while j < self.n and not self.is_punct(j, ")"):
            value, k = self.expression(j)
            out.append(value)
            j = self._next_item(j, k, ")")
        return tuple(out)

    def _next_item(self, j: int, k: int, close: str) -> int:
        """Where the next item of a list starts, the current one starting at ``j`` and its value ending at
        ``k``: past a `,`, past whatever could not be read up to the next `,` or ``close``, and always forward."""
        if self.is_punct(k, ","):
            k += 1
        elif not self.is_punct(k, close):
            k = self.skip_expression(k)
            if self.is_punct(k, ","):
                k += 1
        return k if k > j else j + 1

    def object(self, i: int) -> tuple[JValue, int]:
        start = self.toks[i].start
        items: list[tuple[str | None, int, JValue]] = []
        j = i + 1
        while j < self.n and not self.is_punct(j, "}"):
            t = self.toks[j]
            if self.is_punct(j, "..."):
                value, k = self.expression(j + 1)
                items.append((None, t.start, value))
            elif t.kind in ("name", "str", "num") and self.is_punct(j + 1, ":"):
                value, k = self.expression(j + 2)
                items.append((t.text, t.start, value))
            elif t.kind == "name" and self.is_punct(j + 1, ",", "}"):
                items.append((t.text, t.start, JRef(t.start, t.end, t.text)))  # shorthand `{ url }`
                k = j + 1
            elif self.is_punct(j, "["):  # a computed key
                k = self.skip_balanced(j)
                if self.is_punct(k, ":"):
                    k = self.skip_expression(k + 1)
            else:  # a method, getter or something else
                k = self.skip_expression(j)
                if k < self.n and self.is_punct(k, "}") and self.toks[k].start < self.toks[j].start:
                    k = j + 1
            j = self._next_item(j, k, "}")
        end = self.toks[j].end if j < self.n else (self.toks[-1].end if self.toks else start)
        return JObj(start, end, tuple(items)), j + 1

    def array(self, i: int) -> tuple[JValue, int]:
        start = self.toks[i].start
        items: list[JValue] = []
        j = i + 1
        while j < self.n and not self.is_punct(j, "]"):
            value, k = self.expression(j)
            items.append(value)
            j = self._next_item(j, k, "]")
        end = self.toks[j].end if j < self.n else start
        return JArr(start, end, tuple(items)), j + 1


@dataclass
class Module:
    """What a JavaScript module says at its top level, as far as literals go."""

    doc: Document
    toks: list[Tok]
    rel: str = ""  # the file, relative to the build context
    bindings: dict[str, JValue] = field(default_factory=dict)  # top-level `const x = ...`
    default: JValue | None = None  # `export default ...` or `module.exports = ...`
    # local name -> (module, imported name): "default", "*" (namespace or require()), or a named export
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)

    def location(self, value: JValue | Tok) -> Location:
        return offset_location(self.doc, value.start, value.end)


def read_module(doc: Document, rel: str = "") -> Module:
    toks = tokenize(doc.text)
    mod = Module(doc, toks, rel)
    r = JsReader(toks)
    depth = 0
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "punct":
            if t.text in ("(", "[", "{"):
                depth += 1
            elif t.text in (")", "]", "}"):
                depth = max(0, depth - 1)
            i += 1
            continue
        if t.kind != "name":
            i += 1
            continue
        prev_dot = i > 0 and r.is_punct(i - 1, ".", "?.")
        if prev_dot:
            i += 1
            continue
        if t.text == "import" and depth == 0 and not r.is_punct(i + 1, "(", "."):
            i = _read_import(r, i, mod)
            continue
        if t.text in ("const", "let", "var"):
            if r.is_name(i + 1) and (r.is_punct(i + 2, "=") or r.is_punct(i + 2, ":")):
                name = toks[i + 1].text
                j = i + 2
                if r.is_punct(j, ":"):
                    j = r.skip_type(j + 1)
                if r.is_punct(j, "="):
                    value, k = r.expression(j + 1)
                    module_name = _required(value)
                    if module_name is not None:
                        mod.imports[name] = (module_name, "*")
                    elif depth == 0:
                        mod.bindings[name] = value
                    i = max(k, j + 1)
                    continue
            if r.is_punct(i + 1, "{"):  # `const { open } = require("sqlite")`
                end = r.skip_balanced(i + 1)
                if r.is_punct(end, "="):
                    value, k = r.expression(end + 1)
                    module_name = _required(value)
                    if module_name is not None:
                        for local, imported in _destructured(r, i + 1, end):
                            mod.imports[local] = (module_name, imported)
                    i = max(k, end + 1)
                    continue
        if depth == 0 and t.text == "export" and r.is_name(i + 1, "default"):
            value, k = r.expression(i + 2)
            mod.default = value
            i = max(k, i + 2)
            continue
        if (depth == 0 and t.text == "module" and r.is_punct(i + 1, ".") and r.is_name(i + 2, "exports")
                and r.is_punct(i + 3, "=")):
            value, k = r.expression(i + 4)
            mod.default = value
            i = max(k, i + 4)
            continue
        i += 1
    return mod


def _required(value: JValue) -> str | None:
    """The module a `require("x")` (or `require("x").verbose()`) expression loads."""
    if isinstance(value, JCall) and value.callee == "require" and value.args and isinstance(value.args[0], JStr):
        return value.args[0].value
    return None


def _destructured(r: JsReader, i: int, end: int) -> Iterator[tuple[str, str]]:
    """(local, imported) names of `{ a, b: c, d as e }` between ``i`` (the `{`) and ``end``."""
    j = i + 1
    while j < end - 1:
        if r.is_name(j) or (r.tok(j) is not None and r.toks[j].kind == "str"):
            imported = r.toks[j].text
            if r.is_punct(j + 1, ":") and r.is_name(j + 2) or r.is_name(j + 1, "as") and r.is_name(j + 2):
                yield r.toks[j + 2].text, imported
                j += 3
            else:
                yield imported, imported
                j += 1
        else:
            j += 1


def _read_import(r: JsReader, i: int, mod: Module) -> int:
    """Read `import ... from "m"` at ``i``; return the index past it."""
    j = i + 1
    if r.is_name(j, "type"):
        return j + 1
    if r.is_name(j) and r.is_punct(j + 1, "=") and r.is_name(j + 2, "require") and r.is_punct(j + 3, "(") and \
            r.tok(j + 4) is not None and r.toks[j + 4].kind == "str":
        mod.imports[r.toks[j].text] = (r.toks[j + 4].text, "*")  # TypeScript's `import x = require("m")`
        return j + 5
    names: list[tuple[str, str]] = []
    while j < r.n and not r.is_name(j, "from") and not (r.tok(j) is not None and r.toks[j].kind == "str"):
        if r.is_punct(j, "{"):
            end = r.skip_balanced(j)
            names.extend(_destructured(r, j, end))
            j = end
        elif r.is_punct(j, "*") and r.is_name(j + 1, "as") and r.is_name(j + 2):
            names.append((r.toks[j + 2].text, "*"))
            j += 3
        elif r.is_name(j):
            names.append((r.toks[j].text, "default"))
            j += 1
        elif r.is_punct(j, ","):
            j += 1
        else:
            return j
    if r.is_name(j, "from"):
        j += 1
    t = r.tok(j)
    if t is None or t.kind != "str":
        return j
    for local, imported in names:
        mod.imports[local] = (t.text, imported)
    return j + 1


# -- evaluating the literal shapes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """A string value with where it comes from: a literal, an environment variable, or both."""

    value: str | None  # None: unknown (a secret, or an expression not read)
    at: Location | None  # where the deciding value is written
    chain: tuple[Step, ...] = ()
    variable: str | None = None  # the env var that sets it, whether set now or not
    claims: tuple[str, ...] = ()
    unknown: str | None = None
    secret_default: str | None = None  # the default that applies when the variable is not set
    base: str | None = None  # a directory the value is relative to, when not the working directory
    base_how: str | None = None


_SECRET = "is set only as a secret (or nowhere flyconf can see)"


def resolve_string(mod: Module, value: JValue | None, env: Mapping[str, EnvVar], what: str,
                   image_dir: str | None = None, depth: int = 0) -> Resolved | None:
    """The string ``value`` stands for, or None when it is not one of the shapes flyconf reads.

    ``env`` is ``ctx.env``; ``image_dir`` is where the module's file is in the image (for `__dirname`).
    """
    if value is None or depth > 8:
        return None
    if isinstance(value, JRef):
        bound = mod.bindings.get(value.name)
        return resolve_string(mod, bound, env, what, image_dir, depth + 1) if bound is not None else None
    if isinstance(value, JStr):
        return Resolved(value.value, mod.location(value), (Step(f"{what} = {value.value!r}", mod.location(value)),))
    if isinstance(value, JEnv):
        var = env.get(value.name)
        written = Step(f"{what} = {_source(mod, value)}", mod.location(value))
        if isinstance(var, EnvVar):
            return Resolved(var.value, var.at or mod.location(value), (written, var.step()), variable=value.name,
                            claims=(value.name,))
        return Resolved(None, mod.location(value), (written,), variable=value.name, claims=(value.name,),
                        unknown=f"{value.name} {_SECRET}")
    if isinstance(value, JOr) and isinstance(_deref(mod, value.left), JEnv):
        left = resolve_string(mod, value.left, env, what, image_dir, depth + 1)
        right = resolve_string(mod, value.right, env, what, image_dir, depth + 1)
        assert left is not None
        # the step shows the whole expression, default included
        left = replace(left, chain=(Step(f"{what} = {_source(mod, value)}", mod.location(value)), *left.chain[1:]))
        if left.value is not None and (value.op == "??" or left.value != ""):
            return left
        if right is None or right.value is None:
            return Resolved(None, left.at, left.chain, variable=left.variable, claims=left.claims,
                            unknown=left.unknown or f"{left.variable} is empty and the default is not a literal")
        if left.value is None:
            # the default applies unless the variable is a secret: the place is not known for sure
            return Resolved(None, left.at, left.chain, variable=left.variable, claims=left.claims,
                            unknown=f"{left.variable} {_SECRET}: the default {right.value!r} applies unless it is "
                                    f"set as a secret", secret_default=right.value)
        return Resolved(right.value, right.at, left.chain + (Step(f"{left.variable} is empty: default of `{value.op}`",
                                                                  right.at),), variable=left.variable,
                        claims=left.claims)
    if isinstance(value, JCall) and value.callee in ("path.join", "path.resolve", "join", "resolve",
                                                     "path.posix.join", "path.posix.resolve") and value.args:
        parts: list[str] = []
        base: str | None = None
        base_how: str | None = None
        for k, arg in enumerate(value.args):
            if isinstance(arg, JRef) and arg.name in ("__dirname", "import.meta.dirname") and k == 0:
                if image_dir is None:
                    return Resolved(None, mod.location(value), (Step(f"{what} = {_source(mod, value)}",
                                                                     mod.location(value)),),
                                    unknown=f"`{arg.name}`: where {mod.rel or mod.doc.display_path} is in the image is "
                                            "not known")
                base = image_dir
                base_how = f"the directory of {mod.rel or mod.doc.display_path} in the image ({arg.name})"
                continue
            if isinstance(arg, JCall) and arg.callee == "process.cwd" and k == 0:
                continue
            if not isinstance(arg, JStr):
                return None
            parts.append(arg.value)
        joined = posixpath.join(*parts) if parts else ""
        if value.callee.endswith("resolve"):
            # path.resolve: a later absolute part wins
            for p in reversed(parts):
                if p.startswith("/"):
                    joined = posixpath.join(*parts[parts.index(p):])
                    base = None
                    break
        return Resolved(joined, mod.location(value), (Step(f"{what} = {_source(mod, value)}", mod.location(value)),),
                        base=base, base_how=base_how)
    return None


def _deref(mod: Module, value: JValue, depth: int = 0) -> JValue:
    while isinstance(value, JRef) and value.name in mod.bindings and depth < 8:
        value = mod.bindings[value.name]
        depth += 1
    return value


def _source(mod: Module, value: JValue, limit: int = 80) -> str:
    text = " ".join(mod.doc.text[value.start:value.end].split())
    return f"`{text}`" if len(text) <= limit else f"`{text[:limit - 3]}...`"


def get(mod: Module, obj: JValue | None, key: str, depth: int = 0) -> JValue | None:
    """``obj[key]`` for an object literal (following spreads and constants); None when absent or unknown."""
    obj = _deref(mod, obj) if obj is not None else None
    if not isinstance(obj, JObj) or depth > 8:
        return None
    for k, _at, value in reversed(obj.items):
        if k == key:
            return value
        if k is None:
            inner = _deref(mod, value)
            if not isinstance(inner, JObj):
                return None  # a spread of something flyconf cannot read may set the key
            found = get(mod, inner, key, depth + 1)
            if found is not None:
                return found
    return None


def key_location(mod: Module, obj: JValue | None, key: str) -> Location | None:
    obj = _deref(mod, obj) if obj is not None else None
    if isinstance(obj, JObj):
        for k, at, value in reversed(obj.items):
            if k == key:
                return offset_location(mod.doc, at, value.end)
    return None


def exported(mod: Module) -> JValue | None:
    """The module's default export, looking through `defineConfig(...)`-style wrappers and constants."""
    value = mod.default
    for _ in range(4):
        if value is None:
            return None
        value = _deref(mod, value)
        if isinstance(value, JCall) and value.args:
            value = value.args[0]
            continue
        break
    return _deref(mod, value) if value is not None else None


# -- the reader -------------------------------------------------------------------------------------

_DRIZZLE_CONFIGS = ("drizzle.config.ts", "drizzle.config.js", "drizzle.config.mjs", "drizzle.config.cjs",
                    "drizzle.config.mts", "drizzle.config.cts", "drizzle.config.json")
_KNEXFILES = ("knexfile.js", "knexfile.ts", "knexfile.cjs", "knexfile.mjs", "knexfile.mts", "knexfile.cts")
_SQLITE_DIALECTS = frozenset({"sqlite"})
_SQLITE_DRIVERS = frozenset({"better-sqlite", "libsql", "sqlite", "better-sqlite3"})
# Drivers that are not a local SQLite file: Cloudflare D1, Expo (a phone), Durable Objects, servers.
_SERVER_DRIVERS = frozenset({"d1-http", "d1", "expo", "durable-sqlite", "pg", "mysql2", "aws-data-api", "pglite",
                             "neon-http", "sqlite-cloud"})
_KNEX_SQLITE = frozenset({"sqlite3", "better-sqlite3", "sqlite"})
_KNEX_SERVER = frozenset({"pg", "postgres", "postgresql", "pgnative", "pg-native", "mysql", "mysql2", "mssql",
                          "oracledb", "oracle", "cockroachdb", "redshift"})
_KNEX_ENVIRONMENTS = frozenset({"development", "production", "staging", "test", "testing", "local", "prod", "dev"})


def read(ctx: Context) -> Iterable[Found]:
    pkg = package_json(ctx)
    if pkg is None and not any(ctx.exists(f) for f in _DRIZZLE_CONFIGS + _KNEXFILES):
        return []
    out: list[Found] = []
    out.extend(_drizzle(ctx))
    out.extend(_knex(ctx))
    out.extend(_literal_opens(ctx, pkg, {d.path for d in out if d.path}))
    return out


def package_json(ctx: Context, rel: str = "package.json") -> dict[str, object] | None:
    doc = ctx.read(rel)
    if doc is None:
        return None
    try:
        data = json.loads(doc.text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def dependencies(pkg: Mapping[str, object]) -> set[str]:
    out: set[str] = set()
    for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        deps = pkg.get(key)
        if isinstance(deps, dict):
            out.update(str(k) for k in deps)
    return out


def _image_dir(ctx: Context, rel: str) -> str | None:
    where = ctx.image_path(rel)
    return posixpath.dirname(where) if where is not None else None


def _place(ctx: Context, path: str, base: str | None, base_how: str | None) -> tuple[str | None, list[Step], str | None,
                                                                                       str | None, str | None]:
    """An absolute path for ``path``: (path, steps, unknown, relative, base)."""
    if path.startswith("/"):
        return resolve(path, None), [], None, None, None
    if base is not None:
        absolute = resolve(path, base)
        return absolute, [Step(f"relative path `{path}` resolved against {base_how} {base}")], None, path, base
    workdir = ctx.workdir
    absolute = resolve(path, workdir)
    if absolute is None:
        return None, [], f"relative path `{path}`: the working directory of the image is not known", path, None
    return absolute, [Step(f"relative path `{path}` resolved against the working directory {workdir}")], None, path, \
        workdir


def _drizzle(ctx: Context) -> Iterator[Found]:
    for rel in _DRIZZLE_CONFIGS:
        doc = ctx.read(rel)
        if doc is None:
            continue
        mod = read_module(doc, rel)
        if rel.endswith(".json") and mod.toks:
            mod.default, _ = JsReader(mod.toks).expression(0)
        yield from _drizzle_config(ctx, rel, mod)
        return


def _drizzle_config(ctx: Context, rel: str, mod: Module) -> Iterator[Found]:
    config = exported(mod)
    if not isinstance(config, JObj):
        return
    dialect_v = _deref(mod, get(mod, config, "dialect") or JOther(0, 0))
    driver_v = _deref(mod, get(mod, config, "driver") or JOther(0, 0))
    dialect = dialect_v.value if isinstance(dialect_v, JStr) else None
    driver = driver_v.value if isinstance(driver_v, JStr) else None
    if dialect is None and driver is None:
        return  # not a configuration flyconf can read
    creds = get(mod, config, "dbCredentials")
    url_v = None
    if creds is not None:
        url_v = get(mod, creds, "url") or get(mod, creds, "connectionString")
    said = ", ".join(f"{k} {v!r}" for k, v in (("dialect", dialect), ("driver", driver)) if v)
    decl_v = dialect_v if isinstance(dialect_v, JStr) else driver_v
    decl = mod.location(decl_v)
    first = Step(f"drizzle-kit configuration {rel}: {said}", decl)
    turso = dialect == "turso" or driver == "turso"
    sqlite = (dialect in _SQLITE_DIALECTS or dialect is None and driver in _SQLITE_DRIVERS) and \
        driver not in _SERVER_DRIVERS
    if not sqlite and not turso:
        claims = tuple(v.name for v in _envs(mod, url_v))
        yield Found(framework="drizzle", reader="node", name="drizzle", kind=SERVER, declared=decl,
                    raw=dialect or driver or "", chain=(first,), claims=claims,
                    variable=claims[0] if len(claims) == 1 else None)
        return
    if creds is None:
        return  # `drizzle-kit generate` needs no database: the app opens its own, in code
    got = resolve_string(mod, url_v, ctx.env, "dbCredentials.url", _image_dir(ctx, rel))
    yield from _found_from(ctx, "drizzle", "drizzle", first, decl, got, turso=turso)


def _envs(mod: Module, value: JValue | None, depth: int = 0) -> Iterator[JEnv]:
    value = _deref(mod, value) if value is not None else None
    if isinstance(value, JEnv):
        yield value
    elif isinstance(value, JOr) and depth < 8:
        yield from _envs(mod, value.left, depth + 1)
        yield from _envs(mod, value.right, depth + 1)


def _found_from(ctx: Context, framework: str, name: str, first: Step, decl: Location, got: Resolved | None, *,
                turso: bool = False, path_only: bool = False) -> Iterator[Found]:
    """The Found for a database whose location is ``got`` (a url, or a file name when ``path_only``).

    ``turso``: the configuration allows a libSQL server as well as a local file (drizzle's turso dialect).
    """
    if got is None:
        yield Found(framework=framework, reader="node", name=name, kind=UNKNOWN if turso else SQLITE, declared=decl,
                    chain=(first,), unknown="the database location is not a literal or an environment variable "
                                            "flyconf reads")
        return
    chain = (first, *got.chain)
    if got.value is None:
        # set only where flyconf cannot look: SQLite (the dialect says so) at a place that is not known
        default = got.secret_default
        form = "path" if path_only else (urls.form_of(default) if default is not None else "file:")
        yield Found(framework=framework, reader="node", name=name, kind=UNKNOWN if turso else SQLITE,
                    declared=got.at or decl, chain=chain, unknown=got.unknown, variable=got.variable, form=form,
                    claims=got.claims)
        return
    raw = got.value
    target = urls.parse(raw, urls.PATH if path_only else urls.URLPATH, sqlite_default=True)
    if target is None:
        return
    if target.kind != SQLITE:
        yield Found(framework=framework, reader="node", name=name, kind=SERVER, declared=got.at or decl, raw=raw,
                    chain=chain, variable=got.variable, claims=got.claims, form=urls.form_of(raw))
        return
    if target.memory or target.path is None:
        return
    path, steps, unknown, relative, base = _place(ctx, target.path, got.base, got.base_how)
    yield Found(framework=framework, reader="node", name=name, kind=SQLITE, declared=got.at or decl, path=path, raw=raw,
                chain=chain + tuple(steps), unknown=unknown, variable=got.variable,
                form="path" if path_only else urls.form_of(raw), relative=relative, base=base, claims=got.claims)


def _knex(ctx: Context) -> Iterator[Found]:
    for rel in _KNEXFILES:
        doc = ctx.read(rel)
        if doc is None:
            continue
        yield from _knexfile(ctx, rel, doc)
        return


def _knexfile(ctx: Context, rel: str, doc: Document) -> Iterator[Found]:
    mod = read_module(doc, rel)
    config = exported(mod)
    if not isinstance(config, JObj):
        return
    keys = [k for k, _at, _v in config.items if k is not None]
    steps: list[Step] = []
    env_name: str | None = None  # None: a single, top-level configuration
    if not ("client" in keys or "connection" in keys or not any(k in _KNEX_ENVIRONMENTS for k in keys)):
        node_env = ctx.env.get("NODE_ENV")
        if node_env is not None:
            env_name = node_env.value
            steps.append(node_env.step())
        elif get(mod, config, "production") is not None and get(mod, config, "development") is not None:
            # NODE_ENV may be a secret: which environment production uses is not known
            yield Found(framework="knex", reader="node", name="production", kind=UNKNOWN,
                        declared=key_location(mod, config, "production") or mod.location(config),
                        chain=(Step(f"knexfile {rel} has `development` and `production` environments"),),
                        unknown="NODE_ENV is not set in fly.toml or the Dockerfile: knex uses `development` unless "
                                "NODE_ENV is set as a secret", claims=("NODE_ENV",))
            return
        else:
            env_name = "development"
            steps.append(Step("NODE_ENV is not set in fly.toml or the Dockerfile: knex uses `development`"))
    if env_name is not None:
        env_config = get(mod, config, env_name)
        if env_config is None:
            return  # knex would fall back to the whole object, which has no client
        where = f"{env_name} environment of {rel}"
        name = env_name
    else:
        env_config = config
        where = rel
        name = "knex"
    client_v = _deref(mod, get(mod, env_config, "client") or JOther(0, 0))
    client = client_v.value if isinstance(client_v, JStr) else None
    conn = get(mod, env_config, "connection")
    decl = mod.location(client_v) if isinstance(client_v, JStr) else mod.location(_deref(mod, env_config))
    first = Step(f"{where}: client {client!r}" if client else where, decl)
    if client in _KNEX_SERVER:
        claims = tuple(v.name for v in _envs(mod, conn))
        yield Found(framework="knex", reader="node", name=name, kind=SERVER, declared=decl, raw=client or "",
                    chain=(*steps, first), claims=claims, variable=claims[0] if len(claims) == 1 else None)
        return
    if client not in _KNEX_SQLITE:
        return
    conn_v = _deref(mod, conn) if conn is not None else None
    if isinstance(conn_v, JObj):
        filename_v, what = get(mod, conn_v, "filename"), "connection.filename"
    else:
        filename_v, what = conn, "connection"
    got = resolve_string(mod, filename_v, ctx.env, what, _image_dir(ctx, rel))
    for db in _found_from(ctx, "knex", name, first, decl, got, path_only=True):
        yield replace(db, chain=tuple(steps) + db.chain)





# -- literal opens in the app's code ----------------------------------------------------------------------

_SOURCE_DIRS = ("src", "app", "server", "lib", "db")
_SOURCE_EXTENSIONS = (".js", ".ts", ".mjs", ".cjs", ".mts", ".cts", ".jsx", ".tsx")
_SKIP_PARTS = frozenset({"node_modules", "dist", "build", "test", "tests", "__tests__", "__mocks__", "spec", "specs",
                         "e2e", "fixtures", "coverage", ".next", "out", "public", "scripts", "migrations", "seeds",
                         "mocks", "cypress", "playwright", "stories", "examples"})
_MAX_FILES = 400
_MAX_BYTES = 400_000
# Modules whose default export (or named `Database`) opens a file given as its first argument.
_DATABASE_CLASS = {"better-sqlite3": ("default", "*"), "libsql": ("default", "*"),
                   "bun:sqlite": ("default", "Database"), "node:sqlite": ("DatabaseSync",), "sqlite3": ("Database",)}
_MARKERS = ("better-sqlite3", "bun:sqlite", "node:sqlite", "sqlite3", "'sqlite'", '"sqlite"', "@libsql/client",
            "libsql", "drizzle-orm/")


def _uses_bun(ctx: Context) -> bool:
    if ctx.exists("bun.lockb") or ctx.exists("bun.lock"):
        return True
    return any(c.argv and posixpath.basename(c.argv[0]) == "bun" for c in ctx.start_commands())


def _source_files(ctx: Context) -> list[str]:
    out: list[str] = []
    for rel in ctx.glob("*"):
        if not rel.endswith(_SOURCE_EXTENSIONS):
            continue
        parts = rel.split("/")
        if len(parts) > 1 and parts[0] not in _SOURCE_DIRS:
            continue
        if any(p in _SKIP_PARTS for p in parts[:-1]):
            continue
        if re.search(r"\.(test|spec|stories|config|d)\.[cm]?[jt]sx?$", parts[-1]) or parts[-1].startswith("seed"):
            continue
        out.append(rel)
    out.sort(key=lambda r: (r.count("/"), r))
    return out[:_MAX_FILES]


def _literal_opens(ctx: Context, pkg: Mapping[str, object] | None, seen: set[str]) -> Iterator[Found]:
    # Any Node app (node:sqlite needs no dependency): what counts is that a file imports one of the
    # SQLite modules and passes a literal to it, which `_opens_in` checks.
    if pkg is None and not _uses_bun(ctx):
        return
    for rel in _source_files(ctx):
        doc = ctx.read(rel)
        if doc is None or len(doc.text) > _MAX_BYTES or not any(m in doc.text for m in _MARKERS):
            continue
        mod = read_module(doc, rel)
        for db in _opens_in(ctx, mod, rel):
            if db.path is not None and db.path in seen:
                continue
            if db.path is not None:
                seen.add(db.path)
            yield db


def _opens_in(ctx: Context, mod: Module, rel: str) -> Iterator[Found]:
    r = JsReader(mod.toks)
    toks = mod.toks
    for i, t in enumerate(toks):
        if t.kind != "name" or (i > 0 and r.is_punct(i - 1, ".", "?.")):
            continue
        names = [t.text]
        j = i + 1
        while r.is_punct(j, ".") and r.is_name(j + 1):
            names.append(toks[j + 1].text)
            j += 2
        if not r.is_punct(j, "("):
            continue
        bound = mod.imports.get(names[0])
        if bound is None:
            continue
        module, imported = bound
        members = names[1:]
        args = r.arguments(j)
        if not args:
            continue
        arg = args[0]
        what = None  # what kind of argument: "path" (a file name) or "url" (libSQL), or an object key
        if module in _DATABASE_CLASS:
            kinds = _DATABASE_CLASS[module]
            if module == "sqlite3":
                ok = (imported == "Database" and not members) or (imported in ("default", "*") and members in (
                    ["Database"], ["cached", "Database"], ["verbose", "Database"]))
            else:
                ok = (not members and imported in kinds) or (imported in ("*",) and members == ["Database"]
                                                            and module == "bun:sqlite")
                if module == "node:sqlite" and imported == "*" and members == ["DatabaseSync"]:
                    ok = True
            if ok:
                what = "path"
        elif module == "sqlite":
            if (imported == "open" and not members) or (imported in ("default", "*") and members == ["open"]):
                what = "filename"
        elif module in ("@libsql/client", "@libsql/client/node", "@libsql/client/sqlite3"):
            if (imported == "createClient" and not members) or (imported == "*" and members == ["createClient"]):
                what = "url"
        elif module.startswith("drizzle-orm/") and (imported == "drizzle" and not members):
            flavour = module.split("/", 1)[1]
            if flavour in ("better-sqlite3", "bun-sqlite"):
                what = "drizzle-path"
            elif flavour == "libsql" or flavour.startswith("libsql/"):
                what = "drizzle-url"
        if what is None:
            continue
        literal: JStr | None = None
        if what == "path" or what in ("drizzle-path", "drizzle-url"):
            if isinstance(arg, JStr):
                literal = arg
            elif isinstance(arg, JObj) and what.startswith("drizzle"):
                conn = get(mod, arg, "connection")
                if isinstance(conn, JStr):
                    literal = conn
                elif isinstance(conn, JObj):
                    inner = get(mod, conn, "source" if what == "drizzle-path" else "url")
                    literal = inner if isinstance(inner, JStr) else None
        elif isinstance(arg, JObj):
            inner = get(mod, arg, what)
            literal = inner if isinstance(inner, JStr) else None
        if literal is None:
            continue
        raw = literal.value
        url_like = what in ("url", "drizzle-url")
        target = urls.parse(raw, urls.URLPATH, sqlite_default=True) if url_like or raw.startswith("file:") else \
            urls.parse(raw, urls.PATH, sqlite_default=True)
        if target is None or target.kind != SQLITE or target.memory or target.path is None:
            continue
        at = mod.location(literal)
        callee = ".".join(names)
        first = Step(f"`{callee}({_source(mod, literal)[1:-1]})` in {rel} ({module})", at)
        path, steps, unknown, relative, base = _place(ctx, target.path, None, None)
        yield Found(framework="node", reader="node", name=posixpath.basename(target.path), kind=SQLITE, declared=at,
                    path=path, raw=raw, chain=(first, *steps), unknown=unknown, variable=None,
                    form=urls.form_of(raw), relative=relative, base=base)
