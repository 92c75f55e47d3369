"""Rails tasks: whether `bin/rails <task>` / `rake <task>` migrates a database, read statically.

Reads the app's own tasks from ``Rakefile`` and ``lib/tasks/**/*.rake`` (railties loads
``lib/tasks`` with the glob ``**/*.rake``: rails/rails railties/lib/rails/engine/configuration.rb)
with a small Ruby tokenizer of ours; nothing is run. Understood:

* ``namespace :fly do ... end`` (names join with ``:``);
* ``task :release => "db:migrate"``, ``task release: %w[db:migrate]``, ``task :x, [:arg] => [...]``,
  ``task :x`` (an empty task), tasks defined twice (Rake appends prerequisites and actions);
* a prerequisite is looked up in the enclosing namespaces first, then at the top (Rake's scoped
  lookup: ``task :release => "migrate"`` inside ``namespace :db`` is db:migrate when it is defined
  there); prerequisites that are our own tasks are followed, with a depth limit;
* bodies that run ``sh``/``system``/backticks with ``bin/rails db:migrate`` (or another task,
  followed), ``Rake::Task["db:migrate"].invoke``/``.execute``, or call
  ``ActiveRecord::Tasks::DatabaseTasks.migrate`` (or ``prepare_all``/``load_schema``),
  ``migration_context.migrate``, ``ActiveRecord::Migrator.migrate``.

Rails' own tasks that migrate: db:migrate, db:prepare, db:setup, db:reset, db:schema:load,
db:structure:load, and their per-database forms (db:migrate:primary, db:prepare:cache...); db:migrate:status
does not. A migration inside an ``if``/``unless`` or another block whose effect is not known is not a
verdict ("it cannot be told"): no guess either way.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from flyconf import shsplit
from flyconf.databases.model import Context, Location, offset_location
from flyconf.sources.base import Document

_DEPTH_LIMIT = 12

_MIGRATING = re.compile(r"^db:(?:migrate|prepare|setup|reset|schema:load|structure:load)(?::[\w-]+)?$")
# Rails' own tasks (railties, activerecord databases.rake, assets, jsbundling/cssbundling...) that do not migrate.
_NOT_MIGRATING = frozenset({
    "environment", "db:migrate:status", "db:create", "db:create:all", "db:drop", "db:drop:all", "db:seed",
    "db:seed:replant", "db:version", "db:load_config", "db:abort_if_pending_migrations", "db:schema:dump",
    "db:schema:cache:dump", "db:schema:cache:clear", "db:encryption:init", "db:check_protected_environments",
    "db:test:prepare", "db:test:load", "db:fixtures:load", "db:truncate_all", "db:structure:dump",
    "assets:precompile", "assets:clean", "assets:clobber", "assets:environment", "tmp:clear", "tmp:create",
    "log:clear", "time:zones", "time:zones:all", "stats", "notes", "routes", "middleware", "about", "secret",
    "initializers", "yarn:install", "javascript:build", "javascript:install", "css:build", "css:install",
    "tailwindcss:build", "dartsass:build", "zeitwerk:check", "restart", "test", "spec",
})
_MIGRATION_API = re.compile(
    r"\bDatabaseTasks\s*\.\s*(?:migrate|migrate_all|prepare_all|load_schema|load_schema_current|"
    r"setup_initial_database_yaml|reconstruct_from_schema)\b"
    r"|\bmigration_context\s*\.\s*migrate\b|\bMigrationContext\s*\.\s*new\b.*\.\s*migrate\b"
    r"|\bMigrator\s*\.\s*(?:migrate|up|run|forward)\b")
# Calls that change nothing about the database.
_HARMLESS = frozenset({
    "puts", "print", "p", "pp", "warn", "require", "require_relative", "abort", "exit", "exit!", "sleep", "raise",
    "fail", "desc", "next", "return", "break", "rescue", "ensure", "else", "elsif", "when", "then", "nil", "true",
    "false", "load_config", "logger", "STDOUT", "STDERR", "$stdout", "$stderr",
})
# Blocks whose body runs exactly once, as written.
_TRANSPARENT_BLOCKS = re.compile(
    r"^(?:Dir\s*\.\s*chdir|Bundler\s*\.\s*with_(?:un)?bundled_env|Bundler\s*\.\s*with_clean_env|"
    r"Bundler\s*\.\s*with_original_env|ActiveRecord::Base\s*\.\s*connection_pool\s*\.\s*with_connection|"
    r"Rails\s*\.\s*application\s*\.\s*(?:executor|reloader)\s*\.\s*wrap|Benchmark\s*\.\s*(?:measure|realtime))\b")
_COMMAND_CALLS = frozenset({"sh", "system", "exec", "spawn", "ruby"})
_RAILS_COMMANDS = frozenset({"rails", "rake"})
_RAILS_NOT_TASKS = {"server": False, "s": False, "console": False, "c": False, "dbconsole": False, "db": False,
                    "generate": False, "g": False, "new": False, "routes": False, "about": False,
                    "credentials:edit": False, "runner": None, "r": None}


# -- a small Ruby tokenizer ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Tok:
    kind: str  # "nl", "str", "xstr", "sym", "label", "words", "ident", "const", "var", "num", "op"
    text: str  # the source text
    start: int
    end: int
    value: str | None = None  # str/xstr/sym/label: the value ("\0" for each interpolation); ident/const: name
    items: tuple[tuple[str, int, int], ...] = ()  # words: (word, start, end)


_KEYWORD_OPENERS = frozenset({"if", "unless", "while", "until", "case", "begin", "def", "class", "module", "for"})
_MODIFIABLE = frozenset({"if", "unless", "while", "until", "rescue"})
_VALUE_END = frozenset({"str", "xstr", "sym", "words", "ident", "const", "var", "num"})
_OPS = ("**=", "<=>", "===", "...", "&&=", "||=", "<<=", ">>=", "::", "=>", "->", "&.", "||", "&&", "==", "!=", "<=",
        ">=", "+=", "-=", "*=", "/=", "|=", "&=", "=~", "!~", "**", "..", "<<", ">>")
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[?!]?")
_HEREDOC = re.compile(r"<<([~-]?)(['\"`]?)([A-Za-z_][A-Za-z0-9_]*)\2")


def tokens(text: str) -> list[Tok]:
    """The tokens of Ruby source (comments dropped). Never raises; unknown characters become ops."""
    out: list[Tok] = []
    # heredocs waiting for the end of their line: (token index, terminator, indented terminator, quote)
    pending: list[tuple[int, str, bool, str]] = []
    i, n = 0, len(text)
    line_start = True

    def prev() -> Tok | None:
        return out[-1] if out else None

    def value_before() -> bool:
        p = prev()
        if p is None:
            return False
        if p.kind in _VALUE_END:
            return p.kind != "ident" or p.value not in _KEYWORD_OPENERS | {"and", "or", "not", "then", "do", "else",
                                                                              "elsif", "when", "return", "in"}
        return p.kind == "op" and p.text in (")", "]", "}")

    while i < n:
        c = text[i]
        if line_start and text.startswith("=begin", i) and (i + 6 == n or text[i + 6] in " \t\r\n"):
            close = re.compile(r"^=end\b.*$", re.MULTILINE).search(text, i)
            i = n if close is None else close.end()
            continue
        if line_start and text.startswith("__END__", i) and text[i + 7:i + 8] in ("", "\n", "\r"):
            break
        line_start = False
        if c == "\n":
            out.append(Tok("nl", "\n", i, i + 1))
            i += 1
            line_start = True
            while pending:  # heredoc bodies start on the next line
                index, ident, squiggly, quote = pending.pop(0)
                body_start = i
                pattern = re.compile(rf"^[ \t]*{re.escape(ident)}[ \t]*\r?$" if squiggly else
                                     rf"^{re.escape(ident)}\r?$", re.MULTILINE)
                m = pattern.search(text, i)
                body_end = m.start() if m is not None else n
                body = text[body_start:body_end]
                if quote != "'":
                    body = re.sub(r"#\{[^}]*\}", "\0", body)
                tok = out[index]
                out[index] = Tok(tok.kind, tok.text, tok.start, tok.end, body)
                i = n if m is None else min(m.end() + 1, n)
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "\\" and text.startswith("\n", i + 1):
            i += 2
            continue
        if c == "#":
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
            continue
        if c in "\"'`":
            end, value = _quoted(text, i + 1, c, c, interpolate=c != "'")
            out.append(Tok("xstr" if c == "`" else "str", text[i:end], i, end, value))
            i = end
            if c != "`" and text.startswith(":", i) and not text.startswith("::", i):
                t = out.pop()
                out.append(Tok("label", text[t.start:i + 1], t.start, i + 1, t.value))
                i += 1
            continue
        last = prev()
        # `%w[...]`, `%(...)`: a literal where a value may start, or after a method name and a space (`sh %(...)`)
        if c == "%" and (not value_before() or (last is not None and last.kind == "ident"
                                                and text[i - 1:i] in " \t" and text[i + 1:i + 2] not in " \t=")):
            m = re.compile(r"%([qQwWiIxs]?)([^\w\s])").match(text, i)
            if m is not None:
                kind, open_ = m.group(1), m.group(2)
                close_ = _PAIRS.get(open_, open_)
                end, value = _quoted(text, m.end(), open_, close_, interpolate=kind in ("", "Q", "W", "I", "x"))
                if kind in ("w", "W", "i", "I"):
                    items = tuple((w.group(0), m.end() + w.start(), m.end() + w.end())
                                  for w in re.finditer(r"\S+", text[m.end():end - 1]))
                    out.append(Tok("words", text[i:end], i, end, None, items))
                elif kind == "s":
                    out.append(Tok("sym", text[i:end], i, end, value))
                else:
                    out.append(Tok("xstr" if kind == "x" else "str", text[i:end], i, end, value))
                i = end
                continue
        if c == "/" and (not value_before() or (last is not None and last.kind == "ident" and text[i - 1:i] in " \t"
                                                and text[i + 1:i + 2] not in " \t=")):
            j = i + 1  # a regular expression literal: `name =~ /db:migrate/`
            while j < n and text[j] not in "/\n":
                j += 2 if text[j] == "\\" else 1
            if j < n and text[j] == "/":
                m = re.compile(r"[imxounse]*").match(text, j + 1)
                end = m.end() if m is not None else j + 1
                out.append(Tok("str", text[i:end], i, end, None))
                i = end
                continue
        if c == "<" and text.startswith("<<", i):
            m = _HEREDOC.match(text, i)
            if m is not None and (m.group(1) or not value_before()):
                out.append(Tok("str", m.group(0), i, m.end(), ""))
                pending.append((len(out) - 1, m.group(3), m.group(1) in ("~", "-"), m.group(2)))
                i = m.end()
                continue
        if c == ":" and not text.startswith("::", i):
            if text[i + 1:i + 2] in ("\"", "'"):
                end, value = _quoted(text, i + 2, text[i + 1], text[i + 1], interpolate=text[i + 1] == '"')
                out.append(Tok("sym", text[i:end], i, end, value))
                i = end
                continue
            m = _IDENT.match(text, i + 1)
            if m is not None and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_")):
                out.append(Tok("sym", text[i:m.end()], i, m.end(), m.group(0)))
                i = m.end()
                continue
        if "0" <= c <= "9":  # ASCII only: str.isdigit takes "²", which no Ruby number starts with
            m = re.compile(r"[0-9][0-9_]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?").match(text, i)
            assert m is not None
            out.append(Tok("num", m.group(0), i, m.end(), m.group(0)))
            i = m.end()
            continue
        if c in "@$":
            m = re.compile(r"[@$]{1,2}[A-Za-z_]\w*|\$\S").match(text, i)
            if m is not None:
                out.append(Tok("var", m.group(0), i, m.end(), m.group(0)))
                i = m.end()
                continue
        m = _IDENT.match(text, i)
        if m is not None:
            word = m.group(0)
            after = m.end()
            if text.startswith(":", after) and not text.startswith("::", after) and not (
                    prev() is not None and prev().text == "?"):  # type: ignore[union-attr]
                out.append(Tok("label", text[i:after + 1], i, after + 1, word))
                i = after + 1
                continue
            out.append(Tok("const" if word[0].isupper() else "ident", word, i, after, word))
            i = after
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), c)
        out.append(Tok("op", op, i, i + len(op)))
        i += len(op)
    return out


def _quoted(text: str, i: int, open_: str, close_: str, interpolate: bool) -> tuple[int, str]:
    """Scan a quoted literal from ``i`` (after the opening delimiter): (offset after the closing
    delimiter, its value with each `#{...}` as "\\0")."""
    n = len(text)
    buf: list[str] = []
    depth = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            buf.append({"n": "\n", "t": "\t"}.get(nxt, nxt) if interpolate or nxt in (close_, "\\") else "\\" + nxt)
            i += 2
            continue
        if interpolate and c == "#" and text.startswith("{", i + 1):
            level, j = 1, i + 2
            while j < n and level:
                if text[j] == "{":
                    level += 1
                elif text[j] == "}":
                    level -= 1
                j += 1
            buf.append("\0")
            i = j
            continue
        if c == open_ and open_ != close_:
            depth += 1
        elif c == close_:
            if depth == 0:
                return i + 1, "".join(buf)
            depth -= 1
        buf.append(c)
        i += 1
    return n, "".join(buf)


# -- structure: statements and blocks ---------------------------------------------------------------

_STATEMENT_START_OPS = frozenset({";", "(", "[", "{", ",", "=", "||", "&&", "!", "?", ":", "=>", "|", "||=", "&&=",
                                  "+=", "-=", "<<", "==", "->"})
_CONTINUE_OPS = frozenset({",", "(", "[", "{", "=", "||", "&&", "+", "-", "*", "/", "=>", "->", "?", ":", "|", "&",
                           "<<", "==", "!=", "||=", "&&=", "+=", "-=", ".", "&.", "::", "\\", "and", "or"})


class _Source:
    """A .rake file: its tokens and where each block closes."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.toks = tokens(doc.text)
        self.close: dict[int, int] = {}  # index of an opener -> index of its closer
        self.openers: set[int] = set()
        self._match()

    def _at_start(self, k: int) -> bool:
        j = k - 1
        if j < 0:
            return True
        t = self.toks[j]
        if t.kind == "nl":
            return True
        if t.kind == "op":
            return t.text in _STATEMENT_START_OPS
        return t.kind == "ident" and t.text in ("do", "then", "else", "elsif", "begin", "return", "and", "or",
                                                "not", "when", "in", "ensure", "rescue")

    def _match(self) -> None:
        stack: list[int] = []
        loop_heads: set[int] = set()  # `while`/`until`/`for` whose optional `do` is not a block
        for k, t in enumerate(self.toks):
            if t.kind == "op" and t.text in ("(", "[", "{"):
                stack.append(k)
            elif t.kind == "op" and t.text in (")", "]", "}"):
                if stack:
                    self.close[stack.pop()] = k
            elif t.kind == "ident" and t.text == "do":
                if stack and stack[-1] in loop_heads and self._same_line(stack[-1], k):
                    loop_heads.discard(stack[-1])
                    continue
                stack.append(k)
                self.openers.add(k)
            elif t.kind == "ident" and t.text in _KEYWORD_OPENERS:
                if t.text in _MODIFIABLE and not self._at_start(k):
                    continue  # a modifier: `x if y`
                if k > 0 and self.toks[k - 1].kind == "op" and self.toks[k - 1].text in (".", "&."):
                    continue  # a method named like a keyword
                stack.append(k)
                self.openers.add(k)
                if t.text in ("while", "until", "for"):
                    loop_heads.add(k)
            elif t.kind == "ident" and t.text == "end":
                if k > 0 and self.toks[k - 1].kind == "op" and self.toks[k - 1].text in (".", "&."):
                    continue
                if stack:
                    self.close[stack.pop()] = k

    def _same_line(self, a: int, b: int) -> bool:
        return all(t.kind != "nl" for t in self.toks[a:b])

    def end_of(self, k: int) -> int:
        return self.close.get(k, len(self.toks))

    def statements(self, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """Token ranges [a, b) of the statements in [lo, hi), blocks kept whole."""
        a = k = lo
        while k < hi:
            t = self.toks[k]
            if k in self.close and (k in self.openers or (t.kind == "op" and t.text in ("(", "[", "{"))):
                k = min(self.end_of(k) + 1, hi)
                continue
            if t.kind == "nl" or (t.kind == "op" and t.text == ";"):
                if t.kind == "nl" and self._continues(a, k, hi):
                    k += 1
                    continue
                if a < k:
                    yield a, k
                a = k + 1
            k += 1
        if a < hi:
            yield a, hi

    def _continues(self, a: int, k: int, hi: int) -> bool:
        if k == a:
            return False
        p = self.toks[k - 1]
        if (p.kind == "op" and p.text in _CONTINUE_OPS) or (p.kind == "ident" and p.text in ("and", "or")):
            return True
        nxt = next((self.toks[j] for j in range(k + 1, hi) if self.toks[j].kind != "nl"), None)
        return nxt is not None and nxt.kind == "op" and nxt.text in (".", "&.")

    def loc(self, a: int, b: int | None = None) -> Location:
        start = self.toks[a]
        end = self.toks[(b if b is not None else a + 1) - 1]
        return offset_location(self.doc, start.start, end.end)

    def text_of(self, a: int, b: int) -> str:
        if a >= b:
            return ""
        return self.doc.text[self.toks[a].start:self.toks[b - 1].end]


# -- tasks --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dep:
    name: str | None  # None: not a literal (computed)
    at: Location


@dataclass(frozen=True)
class TaskDef:
    name: str  # full name, namespaces joined with ":"
    scope: tuple[str, ...]
    src: _Source
    at: Location  # the task's name
    deps: tuple[Dep, ...]
    body: tuple[int, int] | None  # token range of the block's body
    conditional: bool = False  # defined inside an `if` or another block


@dataclass
class Tasks:
    defs: dict[str, list[TaskDef]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _names(src: _Source, a: int, b: int) -> tuple[Dep, ...] | None:
    """Task names written in tokens [a, b): a symbol, a string, an array of them, %w[]/%i[]."""
    toks = src.toks
    if a >= b:
        return ()
    if b - a == 1:
        t = toks[a]
        if t.kind in ("str", "sym") and t.value is not None and "\0" not in t.value:
            return (Dep(t.value, src.loc(a)),)
        if t.kind == "words":
            return tuple(Dep(w.lstrip(":") if "\0" not in w else None, offset_location(src.doc, s, e))
                         for w, s, e in t.items)
        return (Dep(None, src.loc(a)),)
    t = toks[a]
    if t.kind == "op" and t.text in ("[", "(") and src.end_of(a) == b - 1:
        out: list[Dep] = []
        for x, y in _split_commas(src, a + 1, b - 1):
            inner = _names(src, x, y)
            if inner is None:
                return None
            out.extend(inner)
        return tuple(out)
    return (Dep(None, src.loc(a, b)),)


def _split_commas(src: _Source, a: int, b: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = k = a
    while k < b:
        t = src.toks[k]
        if k in src.close and (k in src.openers or (t.kind == "op" and t.text in ("(", "[", "{"))):
            k = src.end_of(k) + 1
            continue
        if t.kind == "op" and t.text == ",":
            out.append((start, k))
            start = k + 1
        elif t.kind == "nl" and start == k:
            start = k + 1
        k += 1
    if start < b:
        out.append((start, b))
    return [(x, y) for x, y in ((_trim(src, x, y)) for x, y in out) if x < y]


def _trim(src: _Source, a: int, b: int) -> tuple[int, int]:
    while a < b and src.toks[a].kind == "nl":
        a += 1
    while b > a and src.toks[b - 1].kind == "nl":
        b -= 1
    return a, b


def _find_op(src: _Source, a: int, b: int, text: str) -> int | None:
    k = a
    while k < b:
        t = src.toks[k]
        if k in src.close and (k in src.openers or (t.kind == "op" and t.text in ("(", "[", "{"))):
            k = src.end_of(k) + 1
            continue
        if t.kind == "op" and t.text == text:
            return k
        k += 1
    return None


def _block_of(src: _Source, a: int, b: int) -> tuple[int, int, int] | None:
    """The `do ... end` (or `{ ... }` after the arguments) that ends statement [a, b): (opener,
    first body token, closer)."""
    k = a
    last: tuple[int, int, int] | None = None
    while k < b:
        t = src.toks[k]
        if k in src.openers and t.text == "do":
            last = (k, k + 1, src.end_of(k))
            k = src.end_of(k) + 1
            continue
        if k in src.close and t.kind == "op" and t.text in ("(", "[", "{"):
            if t.text == "{" and src.end_of(k) == b - 1 and k > a and (
                    src.toks[k - 1].kind in ("str", "sym", "ident") or src.toks[k - 1].text == ")"):
                last = (k, k + 1, src.end_of(k))
            k = src.end_of(k) + 1
            continue
        k += 1
    if last is None:
        return None
    opener, body, closer = last
    # block parameters: `do |t, args|`
    j = body
    while j < closer and src.toks[j].kind == "nl":
        j += 1
    if j < closer and src.toks[j].kind == "op" and src.toks[j].text in ("|", "||"):
        if src.toks[j].text == "||":
            body = j + 1
        else:
            m = next((x for x in range(j + 1, closer) if src.toks[x].kind == "op" and src.toks[x].text == "|"), None)
            body = (m + 1) if m is not None else j + 1
    return opener, body, closer


def _collect(src: _Source, lo: int, hi: int, scope: tuple[str, ...], out: Tasks, conditional: bool) -> None:
    toks = src.toks
    for a, b in src.statements(lo, hi):
        a, b = _trim(src, a, b)
        if a >= b:
            continue
        first = toks[a]
        block = _block_of(src, a, b)
        if first.kind == "ident" and first.text == "namespace":
            name_tok = toks[a + 1] if a + 1 < b else None
            if name_tok is not None and name_tok.kind == "op" and name_tok.text == "(" and a + 2 < b:
                name_tok = toks[a + 2]
            if block is not None and name_tok is not None and name_tok.kind in ("sym", "str") and name_tok.value:
                _collect(src, block[1], block[2], scope + tuple(name_tok.value.split(":")), out, conditional)
            continue
        if first.kind == "ident" and first.text in ("task", "multitask"):
            _task(src, a, b, block, scope, out, conditional)
            continue
        if first.kind == "const" and first.text == "Rake" and src.text_of(a, b).replace(" ", "").startswith(
                ("Rake::Task[", "Rake.application[")):
            _enhance(src, a, b, scope, out, conditional)
            continue
        if block is not None:
            # tasks defined inside another block (`if ...`, `Rails.application.configure do`)
            _collect(src, block[1], block[2], scope, out, True)
        elif first.kind == "ident" and first.text in _KEYWORD_OPENERS and a in src.close:
            _collect(src, a + 1, src.end_of(a), scope, out, True)


def _task(src: _Source, a: int, b: int, block: tuple[int, int, int] | None, scope: tuple[str, ...], out: Tasks,
          conditional: bool) -> None:
    toks = src.toks
    args_end = block[0] if block is not None else b
    x = a + 1
    y = args_end
    if x < y and toks[x].kind == "op" and toks[x].text == "(" and src.end_of(x) == y - 1:
        x, y = x + 1, y - 1
    parts = _split_commas(src, x, y)
    if not parts:
        return
    p0, p1 = parts[0]
    name_tok = toks[p0]
    deps: tuple[Dep, ...] | None = ()
    if name_tok.kind == "label" and name_tok.value:
        name = name_tok.value
        deps = _names(src, p0 + 1, p1)
    elif name_tok.kind in ("sym", "str") and name_tok.value and "\0" not in name_tok.value:
        name = name_tok.value
        arrow = _find_op(src, p0, p1, "=>")
        if arrow is not None:
            deps = _names(src, arrow + 1, p1)
    else:
        return  # a computed name: not a task flyconf can name
    for q0, q1 in parts[1:]:  # `task :x, [:arg] => deps` or `task :x, [:arg], needs: [...]`
        arrow = _find_op(src, q0, q1, "=>")
        if arrow is not None:
            more = _names(src, arrow + 1, q1)
            deps = None if deps is None or more is None else deps + more
        elif toks[q0].kind == "label" and toks[q0].value == "needs":
            more = _names(src, q0 + 1, q1)
            deps = None if deps is None or more is None else deps + more
    if deps is None:
        deps = (Dep(None, src.loc(p0, p1)),)
    full = ":".join(scope + (name,)) if not name.startswith("rake:") else name[5:]
    body = (block[1], block[2]) if block is not None else None
    out.defs.setdefault(full, []).append(TaskDef(full, scope, src, src.loc(p0), deps, body, conditional))


def _enhance(src: _Source, a: int, b: int, scope: tuple[str, ...], out: Tasks, conditional: bool) -> None:
    """`Rake::Task["assets:precompile"].enhance(["db:migrate"])` (and `.enhance do ... end`)."""
    toks = src.toks
    br = next((k for k in range(a, b) if toks[k].kind == "op" and toks[k].text == "["), None)
    if br is None or br + 1 >= b:
        return
    target = toks[br + 1]
    close = src.end_of(br)
    if target.kind not in ("str", "sym") or not target.value or close + 2 >= b:
        return
    if not (toks[close + 1].text == "." and toks[close + 2].text == "enhance"):
        return
    block = _block_of(src, close + 2, b)
    args_end = block[0] if block is not None else b
    deps: tuple[Dep, ...] | None = ()
    k = close + 3
    if k < args_end and toks[k].kind == "op" and toks[k].text == "(":
        deps = _names(src, k + 1, src.end_of(k))
    elif k < args_end:
        deps = _names(src, k, args_end)
    if deps is None:
        deps = (Dep(None, src.loc(k, args_end)),)
    body = (block[1], block[2]) if block is not None else None
    out.defs.setdefault(target.value, []).append(TaskDef(target.value, (), src, src.loc(br + 1), deps, body,
                                                         conditional))


# -- verdicts ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    migrates: bool | None  # None: cannot be told
    at: Location | None = None  # where the migration is written (True), or what could not be read (None)
    why: str = ""


_NO = Verdict(False)


def _combine(parts: list[Verdict]) -> Verdict:
    """Rake runs every prerequisite and action: one migration is enough; an unreadable part leaves
    the answer open; else none migrates."""
    for v in parts:
        if v.migrates:
            return v
    for v in parts:
        if v.migrates is None:
            return v
    return _NO


class _Reader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tasks = Tasks()
        for rel in ["Rakefile", "rakefile", "Rakefile.rb"] + [r for r in ctx.glob("lib/tasks/*.rake")]:
            doc = ctx.read(rel)
            if doc is None or len(doc.text) > 500_000:
                continue
            src = _Source(doc)
            self.tasks.files.append(rel)
            _collect(src, 0, len(src.toks), (), self.tasks, False)
        self._memo: dict[str, Verdict] = {}

    def resolve(self, name: str, scope: tuple[str, ...]) -> str:
        """Rake's scoped lookup of a prerequisite: the enclosing namespaces first, then the top."""
        if name.startswith("rake:"):
            return name[5:]
        while name.startswith("^") and scope:
            name, scope = name[1:], scope[:-1]
        name = name.lstrip("^")
        for k in range(len(scope), 0, -1):
            candidate = ":".join(scope[:k] + (name,))
            if candidate in self.tasks.defs:
                return candidate
        return name

    def task(self, name: str, depth: int = 0, stack: tuple[str, ...] = ()) -> Verdict:
        name = name.strip()
        if name in self._memo:
            return self._memo[name]
        if depth > _DEPTH_LIMIT:
            return Verdict(None, why=f"tasks nest deeper than {_DEPTH_LIMIT} levels")
        if name in stack:
            return Verdict(None, why=f"the task {name} depends on itself")
        defs = self.tasks.defs.get(name, [])
        if _MIGRATING.match(name) and name not in _NOT_MIGRATING:
            verdict = Verdict(True, None, f"{name} is a Rails task that migrates")
        elif not defs:
            verdict = _NO if name in _NOT_MIGRATING else Verdict(
                None, why=f"the task {name} is not defined in Rakefile or lib/tasks (a gem's, or not a task)")
        else:
            parts: list[Verdict] = []
            for d in defs:
                parts.append(self._definition(d, depth, stack + (name,)))
            verdict = _combine(parts)
        if depth == 0 or verdict.migrates is not None:
            self._memo[name] = verdict
        return verdict

    def _definition(self, d: TaskDef, depth: int, stack: tuple[str, ...]) -> Verdict:
        parts: list[Verdict] = []
        for dep in d.deps:
            if dep.name is None:
                parts.append(Verdict(None, dep.at, "a prerequisite is computed"))
                continue
            target = self.resolve(dep.name, d.scope)
            v = self.task(target, depth + 1, stack)
            if v.migrates and v.at is None:
                v = Verdict(True, dep.at, f"{d.name} => {target}")
            elif v.migrates is None and v.at is None:
                v = Verdict(None, dep.at, v.why)
            parts.append(v)
        if d.body is not None:
            parts.append(self._body(d.src, d.body[0], d.body[1], depth, stack, conditional=False))
        verdict = _combine(parts)
        if d.conditional and verdict.migrates:
            return Verdict(None, verdict.at, f"the task {d.name} is defined inside a condition or another block")
        return verdict

    # -- bodies

    def _body(self, src: _Source, lo: int, hi: int, depth: int, stack: tuple[str, ...], conditional: bool) -> Verdict:
        parts: list[Verdict] = []
        for a, b in src.statements(lo, hi):
            a, b = _trim(src, a, b)
            if a < b:
                parts.append(self._statement(src, a, b, depth, stack, conditional))
        return _combine(parts)

    def _statement(self, src: _Source, a: int, b: int, depth: int, stack: tuple[str, ...],
                   conditional: bool) -> Verdict:
        toks = src.toks
        first = toks[a]
        # `x if cond`: the statement runs only sometimes
        mod = next((k for k in range(a + 1, b) if toks[k].kind == "ident" and toks[k].text in ("if", "unless")
                    and k not in src.openers and _depth0(src, a, k)), None)
        if mod is not None:
            return self._statement(src, a, mod, depth, stack, True)
        if first.kind == "ident" and first.text in _KEYWORD_OPENERS and a in src.openers:
            end = src.end_of(a)
            if first.text == "begin":
                inner = self._body(src, a + 1, end, depth, stack, conditional)
            else:
                nl = next((k for k in range(a, end) if toks[k].kind == "nl" or toks[k].text in (";", "then")), end)
                inner = self._body(src, nl + 1, end, depth, stack, True)
            return inner
        text = src.text_of(a, b)
        found: list[Verdict] = []
        if _MIGRATION_API.search(text):
            found.append(Verdict(True, src.loc(a, b), f"`{_short(text)}` migrates"))
        recognised = bool(found)
        # Rake::Task["x"].invoke / .execute
        for m in re.finditer(r"Rake(?:::Task|\s*\.\s*application)\s*\[", text):
            k = next((j for j in range(a, b) if toks[j].start == src.toks[a].start + m.end() - 1
                      and toks[j].text == "["), None)
            if k is None or k not in src.close:
                continue
            close = src.end_of(k)
            call = toks[close + 2].text if close + 2 < b and toks[close + 1].text in (".", "&.") else ""
            if call not in ("invoke", "execute", "invoke_with_call_chain", "reenable", "clear", "enhance"):
                continue
            recognised = True
            if call in ("reenable", "clear"):
                continue
            arg = toks[k + 1] if k + 1 < close else None
            if arg is None or arg.kind not in ("str", "sym") or not arg.value or "\0" in arg.value or close != k + 2:
                found.append(Verdict(None, src.loc(k, close + 1), "a task computed at run time is invoked"))
                continue
            v = self.task(arg.value, depth + 1, stack)
            if v.migrates and v.at is None:
                v = Verdict(True, src.loc(a, b), f"`{_short(text)}`")
            elif v.migrates is None and v.at is None:
                v = Verdict(None, src.loc(a, b), v.why)
            found.append(v)
        # commands: sh "...", system("..."), `...`, %x(...)
        for k in range(a, b):
            t = toks[k]
            if t.kind == "xstr":
                recognised = True
                found.append(self._command(t.value or "", src.loc(k), depth, stack))
        head = first.text if first.kind == "ident" else ""
        if first.kind == "const" and first.text in ("Kernel", "Process", "Open3") and a + 2 < b:
            head = toks[a + 2].text
        if head in _COMMAND_CALLS or head in ("spawn", "capture2", "capture2e", "capture3", "popen3"):
            recognised = True
            words = self._command_words(src, a, b)
            if words is None:
                found.append(Verdict(None, src.loc(a, b), "a command computed at run time"))
            else:
                found.append(self._command(" ".join(words), src.loc(a, b), depth, stack))
        block = _block_of(src, a, b)
        if block is not None:
            head_text = src.text_of(a, block[0]).strip()
            transparent = bool(_TRANSPARENT_BLOCKS.match(head_text))
            inner = self._body(src, block[1], block[2], depth, stack, conditional or not transparent)
            found.append(inner)
            recognised = recognised or transparent
        if not recognised:
            if self._harmless(src, a, b):
                return _NO
            found.append(Verdict(None, src.loc(a, b), f"`{_short(text)}` is code flyconf does not evaluate"))
        verdict = _combine(found)
        if conditional and verdict.migrates:
            return Verdict(None, verdict.at, f"the migration runs only under a condition (`{_short(text)}`)")
        return verdict

    def _harmless(self, src: _Source, a: int, b: int) -> bool:
        toks = src.toks
        first = toks[a]
        if first.text in _HARMLESS or (first.kind == "var" and first.text in ("$stdout", "$stderr")):
            return True
        text = src.text_of(a, b)
        if re.match(r"^(?:ENV\s*\[[^\]]+\]\s*(?:\|\|)?=|ENV\s*\.\s*(?:delete|fetch)\b|(?:Rails|ActiveRecord::Base)"
                    r"\s*\.\s*logger\b|(?:STDOUT|STDERR|\$stdout|\$stderr)\s*\.\s*(?:sync|puts|print|write|flush)\b)",
                    text):
            return True
        # a local variable set from literals or ENV: `env = ENV.fetch("X", "production")`
        if first.kind == "ident" and a + 1 < b and toks[a + 1].text in ("=", "||="):
            rhs = toks[a + 2:b]
            return all(t.kind in ("str", "sym", "num", "words", "op", "ident", "label") or
                       (t.kind == "const" and t.text == "ENV") for t in rhs) and not any(
                t.kind == "ident" and t.text not in ("fetch", "to_i", "to_s", "presence", "nil", "true", "false")
                for t in rhs)
        return False

    def _command_words(self, src: _Source, a: int, b: int) -> list[str] | None:
        """The command of `sh "a b"`, `system("a", "b")`, `sh(*%w[a b])`: its words, or None when computed."""
        toks = src.toks
        k = a + 1
        if k + 1 < b and toks[a].kind == "const" and toks[k].text == ".":  # Kernel.system, Open3.capture2
            k += 2
        if k < b and toks[k].kind == "op" and toks[k].text == "(" and k in src.close:
            lo, hi = k + 1, src.end_of(k)  # `system("a", "b") || abort`: the arguments only
        else:
            lo, hi = k, b
            j = k
            while j < b:  # `sh "a" do |ok, res| ... end`, `system "a" or exit`: up to the block or operator
                t = toks[j]
                if (t.kind == "op" and t.text in ("||", "&&")) or (t.kind == "ident" and t.text in ("or", "and",
                                                                                                  "do")):
                    hi = j
                    break
                if j in src.close and t.kind == "op" and t.text in ("(", "[", "{"):
                    j = src.end_of(j) + 1
                    continue
                j += 1
        words: list[str] = []
        for x, y in _split_commas(src, lo, hi):
            x2, y2 = x, y
            while x2 < y2 and toks[x2].kind == "op" and toks[x2].text in ("(", "*"):
                x2 += 1
            while y2 > x2 and toks[y2 - 1].kind == "op" and toks[y2 - 1].text == ")":
                y2 -= 1
            if x2 >= y2:
                continue
            t = toks[x2]
            if t.kind == "label" or (t.kind == "const" and t.text == "ENV" and y2 - x2 > 1) or (
                    t.kind == "op" and t.text == "{"):
                continue  # options (`verbose: false`) and an env hash
            if t.kind == "str" and y2 - x2 == 1 and t.value is not None:
                words.append(t.value)
            elif t.kind == "words" and y2 - x2 == 1:
                words.extend(w for w, _s, _e in t.items)
            else:
                return None
        return words or None

    def _command(self, command: str, at: Location, depth: int, stack: tuple[str, ...]) -> Verdict:
        parts: list[Verdict] = []
        for piece in re.split(r"&&|\|\||;|\n|\|", command):
            piece = piece.strip()
            if piece:
                parts.append(self._simple_command(piece, at, depth, stack))
        return _combine(parts)

    def _simple_command(self, command: str, at: Location, depth: int, stack: tuple[str, ...]) -> Verdict:
        try:
            words = shsplit.split(command)
        except ValueError:
            words = command.split()
        while words and (re.match(r"^[A-Za-z_]\w*=", words[0]) or words[0] in ("exec", "env", "time", "nice")):
            words = words[1:]
        if words[:2] == ["bundle", "exec"]:
            words = words[2:]
        if not words:
            return _NO
        program = words[0]
        if "\0" in program:
            return Verdict(None, at, f"the command `{_short(command)}` is computed at run time")
        base = program.rsplit("/", 1)[-1]
        if base in _RAILS_COMMANDS:
            args = [w for w in words[1:] if not w.startswith("-") and not re.match(r"^[A-Za-z_]\w*=", w)]
            if not args:
                return _NO if base == "rails" else self._as_task("default", at, depth, stack)
            if args[0] in _RAILS_NOT_TASKS:
                v = _RAILS_NOT_TASKS[args[0]]
                return _NO if v is False else Verdict(None, at, f"`{_short(command)}` runs app code")
            parts = [self._as_task(arg.split("[", 1)[0], at, depth, stack) for arg in args]
            return _combine(parts)
        from flyconf.migrations import find_migration

        found = find_migration(command)
        if found is not None and found.tool != "custom":
            return Verdict(True, at, f"`{_short(command)}` migrates")
        if found is not None or ("/" in program and not program.startswith(("/usr/", "/bin/", "/sbin/", "/proc/"))):
            return Verdict(None, at, f"`{_short(command)}` runs a script flyconf does not follow")
        return _NO  # a system command (fallocate, mkswap, puma...)

    def _as_task(self, name: str, at: Location, depth: int, stack: tuple[str, ...]) -> Verdict:
        if "\0" in name:
            return Verdict(None, at, "a task computed at run time")
        v = self.task(name, depth + 1, stack)
        if v.migrates and v.at is None:
            return Verdict(True, at, f"runs {name}")
        if v.migrates is None and v.at is None:
            return Verdict(None, at, v.why)
        return v


def _depth0(src: _Source, a: int, k: int) -> bool:
    """Whether token k is outside every bracket and block that starts in [a, k)."""
    j = a
    while j < k:
        if j in src.close and (j in src.openers or src.toks[j].text in ("(", "[", "{")):
            end = src.end_of(j)
            if end >= k:
                return False
            j = end + 1
            continue
        j += 1
    return True


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- public -------------------------------------------------------------------------------------------

_CACHE: weakref.WeakKeyDictionary[object, _Reader] = weakref.WeakKeyDictionary()


def _reader(ctx: Context) -> _Reader:
    try:
        reader = _CACHE.get(ctx)
    except TypeError:  # a context that cannot be weakly referenced
        return _Reader(ctx)
    if reader is None:
        reader = _Reader(ctx)
        try:
            _CACHE[ctx] = reader
        except TypeError:
            pass
    return reader


def explain(ctx: Context, task: str) -> Verdict:
    """Whether ``task`` migrates, where, and why (see :func:`task_migrates`)."""
    try:
        return _reader(ctx).task(task.split("[", 1)[0].strip())
    except RecursionError:  # code nested deeper than Python's stack: not something to guess about
        return Verdict(None, why="the task files nest too deeply to read")


def task_migrates(ctx: Context, task: str) -> bool | None:
    """Whether `bin/rails <task>` migrates a database: True, False (the task and what it runs provably
    do not), or None when it cannot be told (a task of a gem, computed code)."""
    return explain(ctx, task).migrates


def where_migrates(ctx: Context, task: str) -> Location | None:
    """Where the migration that ``task`` runs is written (a prerequisite, a command), when it migrates."""
    verdict = explain(ctx, task)
    return verdict.at if verdict.migrates else None


def migrating_tasks(ctx: Context) -> dict[str, Location]:
    """The app's own tasks that migrate, with where the migration is written."""
    reader = _reader(ctx)
    out: dict[str, Location] = {}
    for name, defs in sorted(reader.tasks.defs.items()):
        verdict = explain(ctx, name)
        if verdict.migrates:
            out[name] = verdict.at if verdict.at is not None else defs[0].at
    return out


__all__ = ["Verdict", "explain", "migrating_tasks", "task_migrates", "tokens", "where_migrates"]
