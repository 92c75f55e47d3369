"""Phoenix / Ecto: the repos' databases, read from config/*.exs with a small Elixir tokenizer (never evaluated).

What production runs (Mix and releases): config/config.exs, with the files it pulls in with
`import_config` at that point (`import_config "#{config_env()}.exs"` is config/prod.exs), then
config/runtime.exs (config/releases.exs before Elixir 1.11) when the release boots. A later
`config :app, App.Repo, database: ...` overrides the same key of an earlier one. Code inside
`if config_env() == :dev do ... end` (and the like) is not production.

A repo is SQLite when its adapter is `Ecto.Adapters.SQLite3`: in the configuration, in
`use Ecto.Repo, adapter: ...` in lib/**, or, when neither file says, when mix.exs / mix.lock bring
ecto_sqlite3 and no server adapter (postgrex, myxql, tds). Its `database:` is a file path that
exqlite hands to sqlite3_open_v2 unchanged (exqlite lib/exqlite/connection.ex do_connect and
lib/exqlite/sqlite3.ex open/2), so a relative path is relative to the working directory of the
BEAM process. The release start script does not change directory (Elixir's release.init.ex runs
its `cd` in a subshell), but the `bin/server` and `bin/migrate` overlays that
`mix phx.gen.release` writes do `cd -P -- "$(dirname -- "$0")"` first: the release's bin/.

Migrations: a release overlay (rel/overlays/bin/migrate, which lands in the release's bin/) that
runs `eval App.Release.migrate`, and an `Ecto.Migrator` child in lib/<app>/application.ex, which
migrates inside the app at every start.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

from flyconf.databases import urls
from flyconf.databases.model import (
    SERVER,
    SQLITE,
    UNKNOWN,
    Context,
    Found,
    Location,
    Step,
    normpath,
    offset_location,
    resolve,
)
from flyconf.sources.base import Document, lines_with_ends

SQLITE_ADAPTER = "Ecto.Adapters.SQLite3"
_SERVER_ADAPTERS = {
    "Ecto.Adapters.Postgres": "Postgres",
    "Ecto.Adapters.MyXQL": "MySQL",
    "Ecto.Adapters.MySQL": "MySQL",
    "Ecto.Adapters.Tds": "SQL Server",
}
# Hex packages of adapters: ecto_sqlite3 is SQLite; the others are drivers of server adapters.
_SQLITE_DEP = "ecto_sqlite3"
_SERVER_DEPS = ("postgrex", "myxql", "tds")
_CONFIG = "config/config.exs"
_RUNTIME = ("config/runtime.exs", "config/releases.exs")  # releases.exs: the runtime file before Elixir 1.11
_LIB_LIMIT = 400  # lib/ files read when looking for `use Ecto.Repo` in files not named *repo*.ex
_GENERATOR_VAR = "DATABASE_PATH"


# -- tokens -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tok:
    """One token of an Elixir file: its kind, its text, its offsets in the document."""

    kind: str  # "str", "atom", "alias", "ident", "key", "num", "op", "nl", "sigil"
    text: str
    start: int
    end: int
    # "str": the literal pieces and interpolated token runs, in order ("#{x}" -> ((tokens of x),))
    parts: tuple[str | tuple["Tok", ...], ...] = ()
    value_start: int = 0  # "str": where the contents begin (after the opening quote)

    @property
    def literal(self) -> str | None:
        """A string's value when it interpolates nothing."""
        if self.kind != "str" or any(not isinstance(p, str) for p in self.parts):
            return None
        return "".join(p for p in self.parts if isinstance(p, str))


_OPS = ("===", "!==", "...", "<<<", ">>>", "|||", "&&&", "~~~", "<~>", "\\\\", "==", "!=", "<=", ">=", "&&",
        "||", "<>", "++", "--", "|>", "->", "<-", "::", "..", "=~", "%{", "=>", "<<", ">>", "**")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "s": " ", "e": "\x1b", "0": "\0", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v"}
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_IDENT = re.compile(r"[a-z_][A-Za-z0-9_]*[?!]?")
_ALIAS = re.compile(r"[A-Z][A-Za-z0-9_]*")
_NUM = re.compile(r"0[xob][0-9A-Fa-f_]+|[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][+-]?[0-9]+)?")


class _Tokenizer:
    """A forgiving Elixir tokenizer: what it cannot read becomes an "op" token, never an exception."""

    def __init__(self, text: str) -> None:
        self.text = text

    def tokens(self, start: int = 0, stop: int | None = None, *, close_brace: bool = False) -> tuple[list[Tok], int]:
        """Tokens from ``start``; with ``close_brace``, stop at the `}` that closes an interpolation."""
        text = self.text
        end = len(text) if stop is None else stop
        out: list[Tok] = []
        i = start
        depth = 0
        while i < end:
            c = text[i]
            if c in " \t\r\f":
                i += 1
            elif c == "\\" and text.startswith("\\\n", i):
                i += 2  # a line continuation
            elif c == "\n":
                out.append(Tok("nl", "\n", i, i + 1))
                i += 1
            elif c == "#":
                nl = text.find("\n", i)
                i = end if nl == -1 or nl > end else nl
            elif text.startswith('"""', i) or text.startswith("'''", i):
                tok, i = self._heredoc(i, text[i:i + 3], interpolates=True)
                out.append(tok)
            elif c in "\"'":
                tok, i = self._string(i, c, c, interpolates=True)
                i = self._maybe_key(out, tok, i)
            elif c == "~" and i + 1 < end and text[i + 1].isalpha():
                tok, i = self._sigil(i)
                out.append(tok)
            elif c == ":" and i + 1 < end and text[i + 1] in "\"'":
                tok, i = self._string(i + 1, text[i + 1], text[i + 1], interpolates=True)
                out.append(Tok("atom", text[i - len(tok.text) - 1:i], i - len(tok.text) - 1, i, tok.parts))
            elif c == ":" and i + 1 < end and (text[i + 1].isalpha() or text[i + 1] == "_"):
                m = re.compile(r"[A-Za-z_][A-Za-z0-9_@]*[?!]?").match(text, i + 1)
                assert m is not None
                out.append(Tok("atom", text[i:m.end()], i, m.end()))
                i = m.end()
            elif c.isalpha() or c == "_":
                m = _ALIAS.match(text, i) if c.isupper() else _IDENT.match(text, i)
                if m is None:  # pragma: no cover - a letter always matches one of them
                    m = re.compile(r"\w+").match(text, i)
                    assert m is not None
                word_end = m.end()
                if c.isupper():
                    # App.Repo: capitalised segments joined by dots make one alias
                    while word_end + 1 < end and text[word_end] == "." and text[word_end + 1].isupper():
                        m2 = _ALIAS.match(text, word_end + 1)
                        assert m2 is not None
                        word_end = m2.end()
                    kind = "alias"
                else:
                    kind = "ident"
                if (word_end < end and text[word_end] == ":" and not text.startswith("::", word_end)
                        and (word_end + 1 >= end or text[word_end + 1] in " \t\r\n")):
                    out.append(Tok("key", text[i:word_end], i, word_end + 1))
                    i = word_end + 1
                else:
                    out.append(Tok(kind, text[i:word_end], i, word_end))
                    i = word_end
            elif "0" <= c <= "9":  # ASCII only: str.isdigit takes "²", which _NUM does not
                m = _NUM.match(text, i)
                assert m is not None
                out.append(Tok("num", m.group(0), i, m.end()))
                i = m.end()
            elif c == "?" and i + 1 < end and text[i + 1] not in " \t\r\n":
                j = i + 3 if text[i + 1] == "\\" else i + 2  # ?a, ?\n: a character code
                out.append(Tok("num", text[i:j], i, j))
                i = j
            else:
                if close_brace:
                    if c == "{":
                        depth += 1
                    elif c == "}":
                        if depth == 0:
                            return out, i
                        depth -= 1
                op = next((o for o in _OPS if text.startswith(o, i)), c)
                if op == "%{" and close_brace:
                    depth += 1
                out.append(Tok("op", op, i, i + len(op)))
                i += len(op)
        return out, i

    def _maybe_key(self, out: list[Tok], tok: Tok, i: int) -> int:
        text = self.text
        if i < len(text) and text[i] == ":" and not text.startswith("::", i) and (
                i + 1 >= len(text) or text[i + 1] in " \t\r\n"):
            value = tok.literal
            out.append(Tok("key", value if value is not None else tok.text, tok.start, i + 1))
            return i + 1
        out.append(tok)
        return i

    def _string(self, start: int, open_: str, close: str, *, interpolates: bool) -> tuple[Tok, int]:
        """A quoted string from its opening delimiter at ``start``: its pieces and the offset after it."""
        text = self.text
        i = start + 1
        parts: list[str | tuple[Tok, ...]] = []
        buf: list[str] = []
        nest = 0
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                if interpolates:
                    buf.append(_ESCAPES.get(nxt, nxt) if nxt != "\n" else "")
                else:
                    buf.append(nxt if nxt == close else "\\" + nxt)
                i += 2
                continue
            if interpolates and text.startswith("#{", i):
                if buf:
                    parts.append("".join(buf))
                    buf = []
                inner, j = self.tokens(i + 2, close_brace=True)
                parts.append(tuple(inner))
                i = j + 1
                continue
            if open_ != close and c == open_:
                nest += 1
            elif c == close:
                if nest == 0:
                    if buf or not parts:
                        parts.append("".join(buf))
                    return Tok("str", text[start:i + 1], start, i + 1, tuple(parts), start + 1), i + 1
                nest -= 1
            buf.append(c)
            i += 1
        parts.append("".join(buf))  # an unterminated string runs to the end of the file
        return Tok("str", text[start:], start, len(text), tuple(parts), start + 1), len(text)

    def _heredoc(self, start: int, quote: str, *, interpolates: bool) -> tuple[Tok, int]:
        text = self.text
        nl = text.find("\n", start)
        body_start = len(text) if nl == -1 else nl + 1
        close = re.compile(r"^[ \t]*" + re.escape(quote), re.M).search(text, body_start)
        body_end = close.start() if close else len(text)
        after = close.end() if close else len(text)
        body = text[body_start:body_end]
        parts: list[str | tuple[Tok, ...]] = []
        if interpolates and "#{" in body:
            sub = _Tokenizer(text)
            i = body_start
            buf: list[str] = []
            while i < body_end:
                if text.startswith("#{", i):
                    parts.append("".join(buf))
                    buf = []
                    inner, j = sub.tokens(i + 2, close_brace=True)
                    parts.append(tuple(inner))
                    i = j + 1
                else:
                    buf.append(text[i])
                    i += 1
            parts.append("".join(buf))
        else:
            parts.append(body)
        return Tok("str", text[start:after], start, after, tuple(parts), body_start), after

    def _sigil(self, start: int) -> tuple[Tok, int]:
        text = self.text
        m = re.compile(r"~([A-Za-z]+)").match(text, start)
        assert m is not None
        letters = m.group(1)
        i = m.end()
        if i >= len(text):
            return Tok("op", "~", start, start + 1), start + 1
        interpolates = letters[0].islower()
        if text.startswith('"""', i) or text.startswith("'''", i):
            tok, j = self._heredoc(i, text[i:i + 3], interpolates=interpolates)
        else:
            open_ = text[i]
            close = _PAIRS.get(open_, open_)
            tok, j = self._string(i, open_, close, interpolates=interpolates)
        while j < len(text) and text[j].isalpha():  # modifiers: ~r/x/i, ~w(a b)a
            j += 1
        kind = "str" if letters in ("s", "S") else "sigil"
        return Tok(kind, text[start:j], start, j, tok.parts if kind == "str" or letters in ("w", "W") else (),
                   tok.value_start), j


def tokenize(text: str) -> list[Tok]:
    """The tokens of an Elixir file (comments dropped, newlines kept)."""
    return _Tokenizer(text).tokens()[0]


# -- values -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Val:
    """What a configuration expression evaluates to, as far as can be told statically."""

    text: str | None  # the string, when known
    at: Location | None = None  # where the deciding value is written (the literal, or the [env] entry)
    chain: tuple[Step, ...] = ()
    variable: str | None = None  # the env var whose value is the whole result (System.get_env("X"))
    claims: tuple[str, ...] = ()
    unknown: str | None = None  # why ``text`` is not known
    raw: str = ""  # the expression as written
    secret: bool = False  # unknown because an env var is set only where flyconf cannot see
    cwd_relative: bool = False  # Path.expand of a relative path: relative to the process's working directory
    atom: str | None = None  # an alias or atom value (adapters, repos)

    @property
    def known(self) -> bool:
        return self.text is not None


_NIL = Val(None, unknown="nil")


@dataclass
class _Scope:
    """Variables bound so far, innermost block last (a block's bindings end with it)."""

    frames: list[dict[str, Val]] = field(default_factory=lambda: [{}])

    def get(self, name: str) -> Val | None:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        return None

    def bind(self, name: str, value: Val) -> None:
        self.frames[-1][name] = value


class _Evaluator:
    """Evaluates the few expression shapes configuration files use for a database path."""

    def __init__(self, ctx: Context, doc: Document, rel: str, scope: _Scope, runtime: bool) -> None:
        self.ctx = ctx
        self.doc = doc
        self.rel = rel
        self.scope = scope
        self.runtime = runtime  # runtime.exs: evaluated when the release boots, in its working directory

    def loc(self, tok: Tok, end: Tok | None = None) -> Location:
        return offset_location(self.doc, tok.start, (end or tok).end)

    def raw(self, toks: Sequence[Tok]) -> str:
        return self.doc.text[toks[0].start:toks[-1].end] if toks else ""

    def expr(self, toks: Sequence[Tok]) -> Val:
        toks = [t for t in toks if t.kind != "nl"]
        if not toks:
            return _NIL
        parts = _split_top(toks, "||")
        if len(parts) > 1:
            return self._or([self.expr(p) if p else _NIL for p in parts], toks)
        parts = _split_top(toks, "<>")
        if len(parts) > 1:
            return self._concat([self.expr(p) for p in parts], toks)
        return self._primary(toks)

    def _unknown(self, toks: Sequence[Tok], why: str | None = None) -> Val:
        raw = self.raw(toks)
        return Val(None, self.loc(toks[0], toks[-1]), raw=raw,
                   unknown=why or f"`{_short(raw)}` is computed by code flyconf does not evaluate")

    def _or(self, values: list[Val], toks: Sequence[Tok]) -> Val:
        """`a || b`: the first value that is not nil; an env var not visible falls through to its fallback."""
        chain: list[Step] = []
        claims: list[str] = []
        for k, value in enumerate(values):
            claims.extend(value.claims)
            last = k == len(values) - 1
            if value.unknown == "raise":
                missing = next((v for v in reversed(values[:k]) if v.secret), None)
                if missing is not None:
                    return replace(missing, claims=tuple(dict.fromkeys(claims)), raw=self.raw(toks))
                return Val(None, value.at, tuple(chain), unknown="the expression raises", raw=self.raw(toks),
                           claims=tuple(dict.fromkeys(claims)))
            if value.known or value.cwd_relative:
                if k:
                    chain.append(Step(f"fallback `{_short(value.raw)}` of `||`", value.at))
                # the variable read first still moves the database when it is set
                variable = value.variable if k == 0 else (values[0].variable if values[0].secret else None)
                return replace(value, chain=tuple(chain) + value.chain, claims=tuple(dict.fromkeys(claims)),
                               raw=self.raw(toks), variable=variable)
            if value.secret and not last:
                chain.extend(value.chain)
                chain.append(Step(f"{value.variable} is not set in fly.toml [env] or the Dockerfile", value.at))
                continue
            if value is _NIL or value.unknown == "nil":
                continue
            return replace(value, claims=tuple(dict.fromkeys(claims)), raw=self.raw(toks))
        return replace(values[-1], claims=tuple(dict.fromkeys(claims)), raw=self.raw(toks))

    def _concat(self, values: list[Val], toks: Sequence[Tok]) -> Val:
        if all(v.known for v in values):
            return Val("".join(v.text or "" for v in values), self._decisive(values),
                       tuple(s for v in values for s in v.chain), None,
                       tuple(c for v in values for c in v.claims), raw=self.raw(toks))
        bad = next(v for v in values if not v.known)
        return replace(bad, raw=self.raw(toks), variable=None,
                       claims=tuple(c for v in values for c in v.claims))

    @staticmethod
    def _decisive(values: Sequence[Val]) -> Location | None:
        """Of the pieces of a built value, the env var that sets one (where a fix belongs), else the first."""
        for v in values:
            if v.variable is not None and v.at is not None:
                return v.at
        return next((v.at for v in values if v.at is not None), None)

    def _string(self, tok: Tok) -> Val:
        pieces: list[Val] = []
        for part in tok.parts:
            if isinstance(part, str):
                pieces.append(Val(part))
            else:
                inner = self.expr(list(part))
                if not inner.known:
                    return replace(inner, raw=tok.text, variable=None)
                pieces.append(inner)
        at = self.loc(tok)
        if all(p.variable is None for p in pieces):
            return Val("".join(p.text or "" for p in pieces), at, tuple(s for p in pieces for s in p.chain),
                       raw=tok.text, claims=tuple(c for p in pieces for c in p.claims))
        return Val("".join(p.text or "" for p in pieces), self._decisive(pieces),
                   tuple(s for p in pieces for s in p.chain), None, tuple(c for p in pieces for c in p.claims),
                   raw=tok.text)

    def _primary(self, toks: Sequence[Tok]) -> Val:
        first = toks[0]
        if len(toks) == 1:
            if first.kind == "str":
                return self._string(first)
            if first.kind == "ident":
                if first.text == "nil":
                    return _NIL
                bound = self.scope.get(first.text)
                if bound is not None:
                    return bound
                if first.text == "raise":
                    return Val(None, self.loc(first), unknown="raise")
                return self._unknown(toks)
            if first.kind == "alias":
                return Val(None, self.loc(first), raw=first.text, atom=first.text, unknown=f"`{first.text}`")
            if first.kind == "atom":
                return Val(None, self.loc(first), raw=first.text, atom=first.text, unknown=f"`{first.text}`")
        if first.kind == "ident" and first.text == "raise":
            return Val(None, self.loc(first), unknown="raise")
        if first.kind == "op" and first.text == "(" and _closing(toks, 0) == len(toks) - 1:
            return self.expr(toks[1:-1])
        if first.kind in ("alias", "atom") and len(toks) >= 3 and toks[1].text == "." and toks[2].kind == "ident":
            args = _call_args(toks, 3)
            if args is not None:
                return self._call(f"{first.text}.{toks[2].text}", args, toks)
        return self._unknown(toks)

    def _call(self, name: str, args: list[list[Tok]], toks: Sequence[Tok]) -> Val:
        if name in ("System.get_env", "System.fetch_env!", "System.fetch_env") and args:
            var_tok = args[0][0] if len(args[0]) == 1 and args[0][0].kind == "str" else None
            var = var_tok.literal if var_tok is not None else None
            if var is None:
                return self._unknown(toks)
            default = self.expr(args[1]) if len(args) > 1 and name == "System.get_env" else None
            return self._env(var, default, toks)
        if name in ("Path.expand", "Path.absname"):
            if not args or len(args) > 2:
                return self._unknown(toks)
            path = self.expr(args[0])
            if len(args) == 2:
                base_toks = [t for t in args[1] if t.kind != "nl"]
                if len(base_toks) == 1 and base_toks[0].text == "__DIR__":
                    where = ("the release's releases/<version>/ directory" if self.runtime else
                             "the build stage's config/ directory, when `mix release` compiles it")
                    return Val(None, self.loc(toks[0], toks[-1]), path.chain, None, path.claims,
                               unknown=f"`{_short(self.raw(toks))}` is relative to __DIR__ ({where})",
                               raw=self.raw(toks))
                base = self.expr(args[1])
                if not base.known or not path.known:
                    return replace(base if not base.known else path, raw=self.raw(toks), variable=None)
                joined = normpath(posixpath.join(base.text or "", path.text or ""))
                if not joined.startswith("/"):
                    return Val(joined, self._decisive([path, base]), path.chain + base.chain, None,
                               path.claims + base.claims, raw=self.raw(toks), cwd_relative=True)
                return Val(joined, self._decisive([path, base]), path.chain + base.chain, None,
                           path.claims + base.claims, raw=self.raw(toks))
            if not path.known:
                return replace(path, raw=self.raw(toks))
            text = path.text or ""
            if text.startswith("~"):
                return Val(None, path.at, path.chain, None, path.claims,
                           unknown=f"`{_short(self.raw(toks))}` depends on the home directory", raw=self.raw(toks))
            if text.startswith("/"):
                return replace(path, text=normpath(text), raw=self.raw(toks))
            if not self.runtime:
                return Val(None, path.at, path.chain, None, path.claims,
                           unknown=f"`{_short(self.raw(toks))}` is expanded when `mix release` compiles the "
                                   "configuration, in the build stage's working directory", raw=self.raw(toks))
            return replace(path, raw=self.raw(toks), cwd_relative=True)
        if name == "Path.join":
            pieces_toks = args
            if len(args) == 1 and args[0] and args[0][0].text == "[" and _closing(args[0], 0) == len(args[0]) - 1:
                pieces_toks = _split_top(args[0][1:-1], ",")
            pieces = [self.expr(p) for p in pieces_toks if p]
            if not pieces or not all(p.known for p in pieces):
                bad = next((p for p in pieces if not p.known), None)
                return replace(bad, raw=self.raw(toks), variable=None) if bad else self._unknown(toks)
            joined = posixpath.join(*[p.text or "" for p in pieces])
            return Val(joined, self._decisive(pieces), tuple(s for p in pieces for s in p.chain), None,
                       tuple(c for p in pieces for c in p.claims), raw=self.raw(toks))
        if name in (":code.priv_dir", "Application.app_dir"):
            # inside the release: lib/<app>-<version>/, whose version flyconf does not know
            return self._unknown(toks, f"`{_short(self.raw(toks))}` is a directory inside the release "
                                       "(lib/<app>-<version>/), not a fixed path flyconf can place")
        return self._unknown(toks)

    def _env(self, var: str, default: Val | None, toks: Sequence[Tok]) -> Val:
        raw = self.raw(toks)
        env = self.ctx.env.get(var)
        call_at = self.loc(toks[0], toks[-1])
        read = Step(f"`{_short(raw)}` in {self.rel}", call_at)
        if env is not None:
            return Val(env.value, env.at or call_at, (read, env.step()), var, (var,), raw=raw)
        if default is not None and default.known:
            return replace(default, chain=(read, Step(f"{var} is not set in fly.toml [env] or the Dockerfile: "
                                                      "the default of System.get_env", default.at)) + default.chain,
                           claims=(var,) + default.claims, raw=raw, variable=var)
        why = (f"{var} is set by Fly when the Machine starts" if var.startswith("FLY_") else
               f"{var} is set only as a secret")
        return Val(None, call_at, (read,), var, (var,), unknown=why, raw=raw, secret=True)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


_OPEN = {"(": ")", "[": "]", "{": "}", "%{": "}", "<<": ">>"}


def _closing(toks: Sequence[Tok], i: int) -> int:
    """The index of the bracket closing the one at ``i`` (or the last index when unbalanced)."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind != "op":
            continue
        if t.text in _OPEN:
            depth += 1
        elif t.text in (")", "]", "}", ">>"):
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _split_top(toks: Sequence[Tok], sep: str) -> list[list[Tok]]:
    """``toks`` split at ``sep`` operators outside brackets and do-blocks."""
    out: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "op" and t.text in _OPEN:
            depth += 1
        elif t.kind == "op" and t.text in (")", "]", "}", ">>"):
            depth -= 1
        elif t.kind == "ident" and t.text in ("do", "fn"):
            depth += 1
        elif t.kind == "ident" and t.text == "end":
            depth -= 1
        if depth == 0 and t.kind == "op" and t.text == sep:
            out.append([])
            continue
        out[-1].append(t)
    return out


def _call_args(toks: Sequence[Tok], i: int) -> list[list[Tok]] | None:
    """The arguments of a call whose name ends before ``i``: `f(a, b)` or `f a, b` (to the end)."""
    if i < len(toks) and toks[i].text == "(":
        close = _closing(toks, i)
        if close != len(toks) - 1:
            return None
        inner = list(toks[i + 1:close])
    elif i < len(toks) and toks[i].kind in ("str", "ident", "alias", "atom", "key"):
        inner = list(toks[i:])
    elif i == len(toks):
        inner = []
    else:
        return None
    inner = [t for t in inner if t.kind != "nl"]
    if not inner:
        return []
    return [p for p in _split_top(inner, ",")]


# -- the configuration program --------------------------------------------------------------------

PROD, NONPROD, MAYBE = "prod", "nonprod", "maybe"


@dataclass(frozen=True)
class Setting:
    """One `key: value` of a `config :app, Module, ...` call that production evaluates."""

    app: str
    module: str
    key: str
    value: Val
    key_at: Location
    doc: Document
    rel: str  # the file, relative to the build context
    runtime: bool
    condition: str | None = None  # the condition flyconf cannot evaluate that guards it, if any


@dataclass
class Program:
    """The settings production evaluates, in order, and what was skipped (for the chain)."""

    settings: list[Setting] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    repos: dict[str, Location] = field(default_factory=dict)  # from `ecto_repos: [...]`


def _condition(toks: Sequence[Tok]) -> str:
    """What an `if` condition says about the environment: PROD, NONPROD or MAYBE."""
    toks = [t for t in toks if t.kind != "nl"]
    words = [t.text for t in toks]
    negate = False
    if words and words[0] in ("not", "!"):
        negate, toks, words = True, toks[1:], words[1:]
        if words and words[0] == "(" and words[-1] == ")":
            toks, words = toks[1:-1], words[1:-1]
    env_call = None
    for n in (("config_env", "(", ")"), ("Mix", ".", "env", "(", ")"), ("Mix", ".", "env")):
        if tuple(words[:len(n)]) == n:
            env_call = len(n)
            break
    if env_call is None:
        return MAYBE
    rest = words[env_call:]
    atoms: list[str] = []
    op = rest[0] if rest else ""
    if op in ("==", "===", "!=", "!==") and len(rest) == 2 and rest[1].startswith(":"):
        atoms = [rest[1][1:]]
    elif op == "in" and len(rest) >= 3 and rest[1] == "[" and rest[-1] == "]":
        atoms = [w[1:] for w in rest[2:-1] if w.startswith(":")]
        if len(atoms) != len([w for w in rest[2:-1] if w != ","]):
            return MAYBE
    elif op in ("not",) and len(rest) >= 4 and rest[1] == "in":
        atoms = [w[1:] for w in rest[3:-1] if w.startswith(":")]
        negate = not negate
    else:
        return MAYBE
    if op in ("!=", "!=="):
        negate = not negate
    prod = "prod" in atoms
    if negate:
        prod = not prod
    return PROD if prod else NONPROD


class _Reader:
    """Walks config.exs (with its imports) and runtime.exs the way production evaluates them."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.program = Program()
        self.seen: set[str] = set()

    def run_file(self, rel: str, runtime: bool, depth: int = 0) -> bool:
        doc = self.ctx.read(rel)
        if doc is None or rel in self.seen or depth > 4:
            return False
        self.seen.add(rel)
        self.program.files.append(rel)
        toks = tokenize(doc.text)
        self._block(doc, rel, toks, _Scope(), runtime, depth)
        return True

    def _block(self, doc: Document, rel: str, toks: list[Tok], scope: _Scope, runtime: bool, depth: int) -> None:
        ev = _Evaluator(self.ctx, doc, rel, scope, runtime)
        # Open blocks: (their environment, the guard's text when MAYBE, whether an `if`, the condition's text)
        stack: list[tuple[str, str | None, bool, str]] = []
        i = 0
        n = len(toks)
        while i < n:
            t = toks[i]
            if t.kind == "nl" or (t.kind == "op" and t.text == ";"):
                i += 1
                continue
            if t.kind == "ident" and t.text == "end":
                if stack:
                    stack.pop()
                    if len(scope.frames) > 1:
                        scope.frames.pop()
                i += 1
                continue
            if t.kind == "ident" and t.text == "else" and stack:
                env, guard, is_if, cond = stack[-1]
                flipped = {PROD: NONPROD, NONPROD: PROD}.get(env, MAYBE) if is_if else MAYBE
                stack[-1] = (flipped, f"else of `{cond}`" if flipped == MAYBE else None, is_if, cond)
                scope.frames[-1] = {}
                i += 1
                continue
            stmt_end = _statement_end(toks, i)
            stmt = toks[i:stmt_end]
            opens_block = stmt_end < n and toks[stmt_end].kind == "ident" and toks[stmt_end].text == "do"
            if opens_block:
                if t.kind == "ident" and t.text in ("if", "unless"):
                    cond_toks = stmt[1:]
                    if cond_toks and cond_toks[0].text == "(" and _closing(cond_toks, 0) == len(cond_toks) - 1:
                        cond_toks = cond_toks[1:-1]
                    env = _condition(cond_toks)
                    if t.text == "unless":
                        env = {PROD: NONPROD, NONPROD: PROD}.get(env, MAYBE)
                    cond = _short(ev.raw(stmt))
                    stack.append((env, cond if env == MAYBE else None, True, cond))
                else:
                    stack.append((MAYBE, _short(ev.raw(stmt)), False, _short(ev.raw(stmt))))
                scope.frames.append({})
                i = stmt_end + 1
                continue
            envs = [s[0] for s in stack]
            if NONPROD in envs:
                i = stmt_end
                continue
            guard = next((s[1] for s in reversed(stack) if s[0] == MAYBE), None)
            self._statement(doc, rel, stmt, scope, ev, runtime, depth, guard)
            i = max(stmt_end, i + 1)

    def _statement(self, doc: Document, rel: str, stmt: list[Tok], scope: _Scope, ev: _Evaluator, runtime: bool,
                   depth: int, guard: str | None) -> None:
        head = stmt[0]
        if head.kind == "ident" and len(stmt) > 2 and stmt[1].kind == "op" and stmt[1].text == "=":
            value = ev.expr(stmt[2:])
            value = replace(value, chain=(Step(f"`{head.text}` is bound in {rel}",
                                               ev.loc(head, stmt[-1] if stmt[-1].kind != "nl" else head)),)
                            + value.chain)
            if guard is not None:
                value = replace(value, text=None, cwd_relative=False,
                                unknown=f"`{head.text}` is bound inside `{guard}`, which flyconf does not evaluate")
            scope.bind(head.text, value)
            return
        if head.kind == "ident" and head.text == "import_config":
            args = _call_args(stmt, 1)
            if not args or len(args[0]) != 1 or args[0][0].kind != "str":
                return
            target = _import_target(args[0][0])
            if target is None or guard is not None:
                return
            self.run_file(posixpath.normpath(posixpath.join(posixpath.dirname(rel), target)), runtime, depth + 1)
            return
        if head.kind == "ident" and head.text == "config":
            args = _call_args(stmt, 1)
            if not args or len(args) < 2:
                return
            app_toks = [t for t in args[0] if t.kind != "nl"]
            if len(app_toks) != 1 or app_toks[0].kind != "atom":
                return
            app = app_toks[0].text[1:]
            second = [t for t in args[1] if t.kind != "nl"]
            if second and second[0].kind == "key":  # config :app, ecto_repos: [...]
                self._keywords(doc, app, "", args[1:], ev, runtime, guard)
                return
            if len(second) != 1 or second[0].kind not in ("alias", "atom"):
                return
            self._keywords(doc, app, second[0].text, args[2:], ev, runtime, guard)

    def _keywords(self, doc: Document, app: str, module: str, args: list[list[Tok]], ev: _Evaluator, runtime: bool,
                  guard: str | None) -> None:
        pairs: list[list[Tok]] = []
        for arg in args:
            arg = [t for t in arg if t.kind != "nl"]
            if arg and arg[0].text == "[" and _closing(arg, 0) == len(arg) - 1:
                pairs.extend(_split_top(arg[1:-1], ","))
            else:
                pairs.append(arg)
        for pair in pairs:
            if len(pair) < 2 or pair[0].kind != "key":
                continue
            key = pair[0].text
            if module == "" and key == "ecto_repos":
                listed = pair[1:]
                if listed and listed[0].text == "[":
                    for t in listed:
                        if t.kind == "alias":
                            self.program.repos.setdefault(t.text, ev.loc(t))
                continue
            if key not in ("database", "adapter", "url"):
                continue
            value_toks = pair[1:]
            if key == "adapter" and len(value_toks) == 1 and value_toks[0].kind == "alias":
                value = Val(None, ev.loc(value_toks[0]), raw=value_toks[0].text, atom=value_toks[0].text)
            else:
                value = ev.expr(value_toks)
            self.program.settings.append(Setting(app, module, key, value, ev.loc(pair[0]), doc, ev.rel, runtime, guard))


def _import_target(tok: Tok) -> str | None:
    """The file an `import_config` string names in production (`"#{config_env()}.exs"` is prod.exs)."""
    out = []
    for part in tok.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        words = [t.text for t in part if t.kind != "nl"]
        if words in (["config_env", "(", ")"], ["Mix", ".", "env", "(", ")"], ["Mix", ".", "env"],
                     ["config_env", "(", ")", "|>", "to_string", "(", ")"]):
            out.append("prod")
        else:
            return None
    target = "".join(out)
    return target if target and "*" not in target else None


_CONTINUES = {",", "||", "&&", "<>", "++", "--", "|>", "=", "==", "!=", "===", "->", "=>", "\\\\", "+", "-", "*", "/",
              "and", "or", "in", "when", "|", ".", "::", "<-", "..", "=~", "not"}


_LEADING = {"||", "|>", "<>", "&&", "++", "and", "or", "."}


def _statement_end(toks: list[Tok], i: int) -> int:
    """Where the statement starting at ``i`` ends: a newline outside brackets that does not continue
    it, or its `do` (a block opens), or an `end`/`else` of the enclosing block."""
    depth = 0
    last: Tok | None = None
    j = i
    while j < len(toks):
        t = toks[j]
        if t.kind == "op" and t.text in _OPEN:
            depth += 1
        elif t.kind == "op" and t.text in (")", "]", "}", ">>"):
            depth = max(0, depth - 1)
        elif depth == 0 and t.kind == "ident" and t.text in ("do", "end", "else") and j > i:
            if t.text == "do":
                return j
            return j
        elif depth == 0 and t.kind == "ident" and t.text == "fn":
            # an anonymous function inside an expression: skip to its end
            k, nest = j + 1, 1
            while k < len(toks) and nest:
                if toks[k].kind == "ident" and toks[k].text in ("fn", "do"):
                    nest += 1
                elif toks[k].kind == "ident" and toks[k].text == "end":
                    nest -= 1
                k += 1
            last, j = toks[k - 1] if k - 1 < len(toks) else t, k
            continue
        elif depth == 0 and (t.kind == "nl" or (t.kind == "op" and t.text == ";")):
            continued = last is not None and ((last.kind in ("op", "ident") and last.text in _CONTINUES)
                                              or last.kind == "key")
            if t.kind == "nl" and not continued:
                # a binary operator that starts the next line continues this statement (`|> f()`)
                nxt = next((x for x in toks[j + 1:] if x.kind != "nl"), None)
                continued = nxt is not None and nxt.kind in ("op", "ident") and nxt.text in _LEADING
            if not continued:
                return j
        if t.kind != "nl":
            last = t
        j += 1
    return len(toks)


# -- adapters and repos ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """Why a repo's adapter is what it is."""

    at: Location
    text: str
    sqlite: bool | None  # True: SQLite3; False: a server adapter; None: an adapter flyconf does not know
    adapter: str | None = None  # the adapter module, when a file names it


def _adapter_is_sqlite(adapter: str) -> bool | None:
    if adapter == SQLITE_ADAPTER:
        return True
    if adapter in _SERVER_ADAPTERS:
        return False
    return None


def _repo_modules(ctx: Context) -> dict[str, Evidence]:
    """`defmodule X do use Ecto.Repo, ..., adapter: A` in lib/**: repo module -> its adapter."""
    out: dict[str, Evidence] = {}
    files = ctx.glob("lib/*repo*.ex") or ctx.glob("lib/*.ex")[:_LIB_LIMIT]
    for rel in files:
        doc = ctx.read(rel)
        if doc is None or "Ecto.Repo" not in doc.text:
            continue
        toks = [t for t in tokenize(doc.text) if t.kind != "nl"]
        module = None
        for k, t in enumerate(toks):
            if t.kind == "ident" and t.text == "defmodule" and k + 1 < len(toks) and toks[k + 1].kind == "alias":
                module = toks[k + 1].text
            if not (t.kind == "ident" and t.text == "use" and k + 1 < len(toks) and toks[k + 1].text == "Ecto.Repo"
                    and module is not None):
                continue
            for m in range(k + 2, min(k + 40, len(toks) - 1)):
                if toks[m].kind == "key" and toks[m].text == "adapter" and toks[m + 1].kind == "alias":
                    adapter = toks[m + 1].text
                    out[module] = Evidence(offset_location(doc, toks[m + 1].start, toks[m + 1].end),
                                           f"`use Ecto.Repo, adapter: {adapter}` in {rel}",
                                           _adapter_is_sqlite(adapter), adapter)
                    break
                if toks[m].kind == "ident" and toks[m].text in ("defmodule", "def", "defp", "end", "use"):
                    break
    return out


@dataclass(frozen=True)
class Deps:
    """Ecto adapter packages the project has in production, and where each is written."""

    sqlite: Location | None  # where ecto_sqlite3 is written
    servers: tuple[tuple[str, Location], ...]  # server drivers (postgrex, myxql, tds)
    source: str  # "mix.exs" or "mix.lock"


def _deps(ctx: Context) -> Deps | None:
    """The adapter packages of mix.exs (dev/test-only ones left out), else of mix.lock."""
    mix = ctx.read("mix.exs")
    if mix is not None:
        sqlite: Location | None = None
        servers: list[tuple[str, Location]] = []
        toks = [t for t in tokenize(mix.text) if t.kind != "nl"]
        for k, t in enumerate(toks):
            if t.kind != "op" or t.text != "{" or k + 1 >= len(toks) or toks[k + 1].kind != "atom":
                continue
            name = toks[k + 1].text[1:]
            if name != _SQLITE_DEP and name not in _SERVER_DEPS:
                continue
            inner = toks[k + 1:_closing(toks, k)]
            only = next((m for m, x in enumerate(inner) if x.kind == "key" and x.text == "only"), None)
            if only is not None:
                envs = [x.text[1:] for x in inner[only + 1:] if x.kind == "atom"]
                if envs and "prod" not in envs:
                    continue  # a dev/test dependency: not in the release
            at = offset_location(mix, toks[k + 1].start, toks[k + 1].end)
            if name == _SQLITE_DEP:
                sqlite = sqlite or at
            else:
                servers.append((name, at))
        if sqlite is not None or servers:
            return Deps(sqlite, tuple(servers), "mix.exs")
    lock = ctx.read("mix.lock")
    if lock is None:
        return None
    sqlite = None
    servers = []
    for m in re.finditer(r'^[ \t]*"([a-z0-9_]+)"\s*:', lock.text, re.M):
        at = offset_location(lock, m.start(1) - 1, m.end(1) + 1)
        if m.group(1) == _SQLITE_DEP:
            sqlite = at
        elif m.group(1) in _SERVER_DEPS:
            servers.append((m.group(1), at))
    if sqlite is None and not servers:
        return None
    return Deps(sqlite, tuple(servers), "mix.lock")


def _adapter(module: str, setting: Setting | None, modules: dict[str, Evidence],
             deps: Deps | None) -> Evidence | None:
    """The adapter of a repo: its module's `use Ecto.Repo, adapter: X` (fixed when it compiles), else an
    `adapter:` in the configuration (Ecto 2, or a module that reads it), else the dependencies."""
    if module in modules:
        return modules[module]
    if setting is not None and setting.value.atom and setting.condition is None:
        adapter = setting.value.atom
        return Evidence(setting.value.at or setting.key_at, f"`adapter: {adapter}` in {setting.rel}",
                        _adapter_is_sqlite(adapter), adapter)
    if deps is None:
        return None
    if deps.sqlite is not None and not deps.servers:
        return Evidence(deps.sqlite, f"{deps.source} brings ecto_sqlite3 and no server adapter "
                                     f"({', '.join(_SERVER_DEPS)}); no `use Ecto.Repo` for {module} in lib/", True)
    if deps.sqlite is None and deps.servers:
        names = ", ".join(name for name, _at in deps.servers)
        return Evidence(deps.servers[0][1], f"{deps.source} brings {names} and not ecto_sqlite3", False)
    return None


# -- working directory of the release -------------------------------------------------------------

_CD_SELF = re.compile(r'^[ \t]*(cd[ \t]+(?:-P[ \t]+)?(?:--[ \t]+)?'
                      r'"?\$\([ \t]*dirname[ \t]+(?:--[ \t]+)?"?\$0"?[ \t]*\)"?)[ \t]*(?:&&|;|$)', re.M)


def _words(argv: Sequence[str]) -> list[str]:
    """The words of a command, with `sh -c "a && b"` strings split (roughly: only to find script paths)."""
    out: list[str] = []
    for word in argv:
        out.extend(w for w in re.split(r"[\s;&|()]+", word) if w)
    return out


def overlay_script(ctx: Context, command: str) -> str | None:
    """The release overlay (rel/overlays/bin/NAME in the build context) that a command word runs, when
    the word is a path ending in `bin/NAME` (`mix release` copies rel/overlays/ into the release root)."""
    word = command.strip()
    if "/" not in word or any(c.isspace() for c in word):
        return None
    path = resolve(word, ctx.workdir)
    if path is None:
        return None
    direct = ctx.context_file(path)
    if direct is not None and direct.startswith("rel/overlays/"):
        return direct
    parent, name = posixpath.split(path)
    if posixpath.basename(parent) != "bin" or not name:
        return None
    rel = f"rel/overlays/bin/{name}"
    return rel if ctx.exists(rel) else None


_WRAPPERS = {"tini", "dumb-init", "su-exec", "gosu", "setpriv", "catatonit", "exec", "env", "sh", "bash", "dash",
             "ash", "-c", "-lc", "--"}


def _plain_prefix(words: list[str], k: int, overlays: set[str]) -> bool:
    """Whether the words before ``words[k]`` only start it (wrappers, shells, flags, VAR=x, other
    overlays), so that nothing flyconf has not read can change the directory first."""
    for word in words[:k]:
        base = posixpath.basename(word)
        if base in _WRAPPERS or word.startswith("-") or word in overlays or re.fullmatch(r"\w+=\S*", word):
            continue
        return False
    return True


def _release_cwd(ctx: Context) -> tuple[str | None, Step | None, str | None]:
    """The working directory the release runs in: (directory, how it was found, or why it is not known)."""
    commands = ctx.start_commands()
    if not commands:
        return None, None, "the command that starts the release is not known"
    found: set[str] = set()
    how: Step | None = None
    for cmd in commands:
        words = _words(cmd.argv)
        cwd = None
        overlays = [(k, w, o) for k, w in enumerate(words) if (o := overlay_script(ctx, w)) is not None]
        if overlays and _plain_prefix(words, overlays[-1][0], {w for _k, w, _o in overlays}):
            _k, word, overlay = overlays[-1]  # `bin/migrate && bin/server`: the server is the last
            doc = ctx.read(overlay)
            m = _CD_SELF.search(doc.text) if doc is not None else None
            script = resolve(word, ctx.workdir)
            if doc is not None and m is not None and script is not None:
                cwd = posixpath.dirname(script)
                how = Step(f"{overlay} (run as {script}) changes to its own directory {cwd} before it starts "
                           "the release", offset_location(doc, m.start(1), m.end(1)))
            elif doc is not None and m is None and ctx.workdir:
                cwd = ctx.workdir
                how = Step(f"{overlay} does not change directory: the release runs in the image's WORKDIR {cwd}",
                           cmd.at)
        elif not overlays:
            for k, word in enumerate(words[:-1]):
                if ("/bin/" in f"/{word}" and words[k + 1] in ("start", "start_iex", "daemon", "foreground")
                        and _plain_prefix(words, k, set())):
                    cwd = ctx.workdir
                    if cwd:
                        how = Step(f"`{word} {words[k + 1]}` runs in the image's WORKDIR {cwd}", cmd.at)
                    break
        if cwd is None:
            return None, None, f"the working directory of `{_short(' '.join(cmd.argv))}` is not known"
        found.add(cwd)
    if len(found) != 1:
        return None, None, "process groups start the release in different directories"
    return found.pop(), how, None


def release_root(ctx: Context) -> str | None:
    """The release's root directory in the image, from a start command that runs one of its overlays
    (`/app/bin/server` -> /app); None when no command says."""
    for cmd in ctx.start_commands():
        for word in _words(cmd.argv):
            overlay = overlay_script(ctx, word)
            if overlay is not None and overlay.startswith("rel/overlays/bin/"):
                path = resolve(word, ctx.workdir)
                if path is not None:
                    return posixpath.dirname(posixpath.dirname(path))
    return None


# -- migrations -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Migration:
    """A command that runs Ecto migrations: where (in a script), and how it was recognised."""

    at: Location | None
    how: str


_EVAL_MIGRATE = re.compile(
    r"""\b(eval|rpc)\s+(["']?)\s*((?:[A-Z][\w]*\.)+(?:migrate\w*|Migrator\.\w+)\b)""")
_MIX_MIGRATE = re.compile(r"\bmix\s+ecto\.(migrate|setup|reset)\b")
_CALL_WORD = re.compile(r"(?:^|[\s;&|(])((?:\./|/)(?:[\w.-]+/)*migrate\w*)(?=$|[\s;&|)])")


def migration_script(ctx: Context, rel: str, _depth: int = 0) -> Location | None:
    """Where a script of the build context (a release overlay such as rel/overlays/bin/migrate, or a
    start script) runs Ecto migrations: `bin/app eval App.Release.migrate`, `mix ecto.migrate`, or a
    call of another overlay that does (`./migrate`, `/app/bin/migrate`). None when it does not."""
    doc = ctx.read(rel)
    if doc is None or _depth > 3:
        return None
    offset = 0
    for line in lines_with_ends(doc.text):  # sh ends a line at "\n" only
        code = _shell_code(line)
        for regex in (_EVAL_MIGRATE, _MIX_MIGRATE):
            m = regex.search(code)
            if m is not None:
                return offset_location(doc, offset + m.start(), offset + m.end())
        for m in _CALL_WORD.finditer(code):
            target = _script_call(ctx, rel, m.group(1))
            if target is not None and target != rel and migration_script(ctx, target, _depth + 1) is not None:
                return offset_location(doc, offset + m.start(1), offset + m.end(1))
        offset += len(line)
    return None


def _shell_code(line: str) -> str:
    """A shell line without its comment (a `#` that starts a word)."""
    m = re.search(r"(^|\s)#", line)
    return line[:m.start()] if m else line.rstrip("\n")


def _script_call(ctx: Context, rel: str, word: str) -> str | None:
    """The overlay a word of overlay ``rel`` runs: `./migrate` beside it, or `/app/bin/migrate`."""
    if word.startswith("./"):
        sibling = posixpath.normpath(posixpath.join(posixpath.dirname(rel), word[2:]))
        return sibling if ctx.exists(sibling) else None
    return overlay_script(ctx, word)


def command_migration(ctx: Context, argv: Sequence[str]) -> Migration | None:
    """Whether a command (a release_command, a process, a CMD) runs Ecto migrations: an overlay that
    does (`/app/bin/migrate`), or the release's `eval "App.Release.migrate"` written inline."""
    words = _words(argv)
    joined = " ".join(argv)
    m = _EVAL_MIGRATE.search(joined)
    if m is not None:
        return Migration(None, f"`{m.group(0)}` runs the release's migrations")
    m = _MIX_MIGRATE.search(joined)
    if m is not None:
        return Migration(None, f"`{m.group(0)}` runs the migrations")
    for word in words:
        overlay = overlay_script(ctx, word)
        if overlay is not None:
            at = migration_script(ctx, overlay)
            if at is not None:
                return Migration(at, f"{word} is the release overlay {overlay}, which runs the migrations")
    return None


def starts_migrator(ctx: Context) -> Location | None:
    """Where lib/**/application.ex starts an `{Ecto.Migrator, ...}` child: the app migrates at every start."""
    for rel in ctx.glob("lib/*application.ex"):
        doc = ctx.read(rel)
        if doc is None or "Ecto.Migrator" not in doc.text:
            continue
        toks = [t for t in tokenize(doc.text) if t.kind != "nl"]  # comments and strings never match
        for k, t in enumerate(toks):
            if t.kind == "alias" and t.text == "Ecto.Migrator" and k and toks[k - 1].text == "{":
                return offset_location(doc, t.start, t.end)
    return None


# -- the reader -------------------------------------------------------------------------------------

def _is_elixir(ctx: Context) -> bool:
    return any(ctx.exists(f) for f in ("mix.exs", "mix.lock", _CONFIG, *_RUNTIME))


def _program(ctx: Context) -> Program:
    reader = _Reader(ctx)
    reader.run_file(_CONFIG, runtime=False)
    for rel in _RUNTIME:
        if reader.run_file(rel, runtime=True):
            break
    return reader.program


def read(ctx: Context) -> Iterable[Found]:
    if not _is_elixir(ctx):
        return []
    program = _program(ctx)
    deps = _deps(ctx)
    if not program.files:
        return list(_without_config(ctx, deps))
    return list(_from_config(ctx, program, deps))


def _last(settings: list[Setting], module: str, key: str) -> Setting | None:
    found = [s for s in settings if s.module == module and s.key == key]
    return found[-1] if found else None


def _from_config(ctx: Context, program: Program, deps: Deps | None) -> Iterable[Found]:
    modules = _repo_modules(ctx)
    repos: list[str] = list(program.repos)
    for s in program.settings:
        if s.module and s.module not in repos and (s.module in modules or s.module.endswith("Repo")):
            repos.append(s.module)
    for module in modules:
        if module not in repos:
            repos.append(module)
    for module in repos:
        database = _last(program.settings, module, "database")
        url = _last(program.settings, module, "url")
        setting = database or url or _last(program.settings, module, "adapter")
        evidence = _adapter(module, _last(program.settings, module, "adapter"), modules, deps)
        if setting is None:
            if evidence is not None and evidence.sqlite:
                # SQLite whose file production's configuration does not name (a prod.secret.exs left out of
                # the repository...): its path is unknown, but a release-command migration is still wrong
                yield Found(framework="phoenix", reader="phoenix", name=module, kind=SQLITE, declared=evidence.at,
                            chain=(Step(evidence.text, evidence.at),),
                            unknown=f"no `database:` for {module} in the configuration production reads "
                                    f"({', '.join(program.files)})")
            continue
        yield _found(ctx, module, setting, database, url, evidence)


def _found(ctx: Context, module: str, setting: Setting, database: Setting | None, url: Setting | None,
           evidence: Evidence | None) -> Found:
    chain: list[Step] = [Step(evidence.text, evidence.at)] if evidence is not None else []
    value = setting.value

    def make(kind: str, **kw: object) -> Found:
        fields: dict[str, object] = dict(framework="phoenix", reader="phoenix", name=module, kind=kind,
                                         declared=value.at or setting.key_at, raw=value.text or value.raw,
                                         claims=value.claims, variable=value.variable, form="path")
        fields.update(kw)
        fields["chain"] = tuple(chain)
        return Found(**fields)  # type: ignore[arg-type]

    if evidence is None or evidence.sqlite is None:
        why = (f"the adapter of {module} is not known (no `adapter:` in the configuration, no `use Ecto.Repo` "
               "in lib/, no ecto_sqlite3 or server driver in mix.exs or mix.lock)") if evidence is None else (
            f"the adapter {evidence.adapter} of {module} is neither SQLite3 nor a server adapter flyconf knows")
        return make(UNKNOWN, unknown=why)
    if not evidence.sqlite:
        return make(SERVER)
    if database is None:
        assert url is not None or setting.key == "adapter"
        chain.append(Step(f"{module} has no `database:` in production", setting.key_at))
        return make(SQLITE, unknown=f"{module} has no `database:` that production reads")
    chain.append(Step(f"`database:` of {module} in {database.rel}"
                      + (" (evaluated when the release boots)" if database.runtime else ""), database.key_at))
    chain.extend(value.chain)
    if database.condition is not None:
        return make(SQLITE, unknown=f"`database:` is set inside `{database.condition}`, which flyconf does not "
                                    "evaluate")
    if value.text is None:
        return make(SQLITE, unknown="`database:` is nil" if value.unknown == "nil" else
                    (value.unknown or "the database path is not known"))
    target = urls.parse(value.text, urls.PATH, sqlite_default=True)
    if target is None or target.path is None:
        return make(SQLITE, unknown="an in-memory database" if target is not None and target.memory else
                    f"`{value.text}` is not a file path")
    return _placed(ctx, target.path, chain, make, "the release's working directory")


def _placed(ctx: Context, path: str, chain: list[Step], make: "Callable[..., Found]", what: str) -> Found:
    """A SQLite Found for ``path``: absolute as it is, relative against the release's working directory."""
    if path.startswith("/"):
        return make(SQLITE, path=normpath(path))
    cwd, how, why = _release_cwd(ctx)
    if cwd is None:
        return make(SQLITE, relative=path, unknown=f"relative path `{path}`: {why}")
    if how is not None:
        chain.append(how)
    chain.append(Step(f"relative path `{path}` resolved against {what} {cwd} (exqlite opens it relative to the "
                      "process's working directory)"))
    return make(SQLITE, path=resolve(path, cwd), relative=path, base=cwd)


def _without_config(ctx: Context, deps: Deps | None) -> Iterable[Found]:
    """No config/*.exs in the build context (only mix.exs / mix.lock): SQLite from the dependencies,
    its path from DATABASE_PATH, the variable both Phoenix's generator (`mix phx.new --database
    sqlite3` writes a runtime.exs that reads it) and `fly launch` (flyctl scanner/phoenix.go sets it
    in [env] for ecto_sqlite3 apps) use. Server drivers alone are a server database; both kinds of
    adapter with DATABASE_PATH set is UNKNOWN; nothing when the dependencies say nothing."""
    if deps is None:
        return
    env = ctx.env.get(_GENERATOR_VAR)
    if env is not None and env.at is None:
        env = None
    servers = ", ".join(name for name, _at in deps.servers)
    if deps.sqlite is None:
        yield Found(framework="phoenix", reader="phoenix", name=deps.servers[0][0], kind=SERVER,
                    declared=deps.servers[0][1], raw=deps.servers[0][0],
                    chain=(Step(f"{deps.source} brings {servers} and not ecto_sqlite3", deps.servers[0][1]),))
        return
    if deps.servers:
        if env is not None and env.at is not None:
            yield Found(framework="phoenix", reader="phoenix", name=_GENERATOR_VAR, kind=UNKNOWN, declared=env.at,
                        raw=env.value, variable=_GENERATOR_VAR, claims=(_GENERATOR_VAR,),
                        chain=(Step(f"{deps.source} brings both ecto_sqlite3 and {servers}", deps.sqlite), env.step()),
                        unknown="config/ is not in the build context and the dependencies have both SQLite3 and "
                                "server adapters: which repo uses DATABASE_PATH is not known")
        return
    chain = [Step(f"{deps.source} brings ecto_sqlite3 and no server adapter ({', '.join(_SERVER_DEPS)})", deps.sqlite),
             Step("config/runtime.exs is not in the build context: DATABASE_PATH is the variable Phoenix's "
                  "generator (`mix phx.new --database sqlite3`) reads for the repo's database and the one "
                  "`fly launch` sets for ecto_sqlite3 apps")]
    sqlite_at = deps.sqlite

    def make(kind: str, **kw: object) -> Found:
        fields: dict[str, object] = dict(framework="phoenix", reader="phoenix", name=_GENERATOR_VAR, kind=kind,
                                         declared=env.at if env is not None and env.at is not None else sqlite_at,
                                         raw=env.value if env is not None else "", variable=_GENERATOR_VAR,
                                         form="path", claims=(_GENERATOR_VAR,))
        fields.update(kw)
        fields["chain"] = tuple(chain)
        return Found(**fields)  # type: ignore[arg-type]

    if env is None:
        yield make(SQLITE, unknown="config/runtime.exs is not in the build context and DATABASE_PATH is not set in "
                                   "fly.toml [env] or the Dockerfile")
        return
    chain.append(env.step())
    target = urls.parse(env.value, urls.PATH, sqlite_default=True)
    if target is None or target.path is None:
        yield make(SQLITE, unknown="an in-memory database" if target is not None and target.memory else
                   f"`{env.value}` is not a file path")
        return
    yield _placed(ctx, target.path, chain, make, "the release's working directory")
