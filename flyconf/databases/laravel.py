"""Laravel: the default database connection, read from the environment, `.env` and config/database.php.

How Laravel decides (laravel/framework): `config('database.default')` is
`env('DB_CONNECTION', <default>)` in config/database.php (the default is 'sqlite' since Laravel 11,
'mysql' before: laravel/laravel config/database.php). `env()` reads the process environment first
and a `.env` file in the app root second: the Dotenv repository is immutable
(Illuminate/Support/Env.php), and `.env.<APP_ENV>` replaces `.env` when APP_ENV is set and that
file exists (Foundation/Bootstrap/LoadEnvironmentVariables.php). On Fly the environment is
fly.toml `[env]`, Dockerfile `ENV`, and secrets flyconf cannot see; Fly's Laravel Dockerfiles keep
every `*.env*` file out of the image (.dockerignore of fly-apps/dockerfile-laravel and of flyctl's
template), so `.env.example` is only a hint of what the developer uses.

The connection's `'database'` is `env('DB_DATABASE', database_path('database.sqlite'))` in the
stock file: `<app root>/database/database.sqlite`. A relative path is tried against the process's
working directory first, then against the app root (SQLiteConnector::parseDatabasePath:
`realpath($path) ?: realpath(base_path($path))`), so it is resolved only when the image's WORKDIR
is the app root (both tries name the same file). A `url` (`DB_URL`, `DATABASE_URL` before Laravel
11) overrides the driver and database (Support/ConfigurationUrlParser.php).

config/database.php is read with a small PHP scanner of ours (strings, arrays, calls), never run.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

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
from flyconf.sources.base import Document
from flyconf.units import ascii_int

_CONFIG = "config/database.php"
_SERVER_DRIVERS = {"mysql": "MySQL", "mariadb": "MariaDB", "pgsql": "Postgres", "sqlsrv": "SQL Server"}
_EXAMPLES = (".env.example", ".env.sample", ".env.dist")


# -- a small PHP scanner ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PTok:
    kind: str  # "str", "name", "var", "num", "op"
    text: str
    start: int
    end: int
    value: str | None = None  # "str": the string's value (None when a double-quoted one interpolates)


_PHP_OPS = ("===", "!==", "<=>", "**=", "...", "=>", "->", "::", "??", "==", "!=", "<=", ">=", "&&", "||", ".=", "?->")


def php_tokens(text: str) -> list[PTok]:
    """The tokens of a PHP file (comments, whitespace and the open tag dropped). Never raises."""
    out: list[PTok] = []
    i, n = 0, len(text)
    if text.startswith("<?php", 0):
        i = 5
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("//", i) or (c == "#" and not text.startswith("#[", i)):
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close == -1 else close + 2
        elif c == "'":
            j, buf = i + 1, []
            while j < n and text[j] != "'":
                if text[j] == "\\" and j + 1 < n and text[j + 1] in "'\\":
                    buf.append(text[j + 1])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            out.append(PTok("str", text[i:j + 1], i, min(j + 1, n), "".join(buf)))
            i = j + 1
        elif c == '"':
            j, buf, plain = i + 1, [], True
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    buf.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "$": "$"}.get(nxt, "\\" + nxt))
                    j += 2
                    continue
                if text[j] == "$" and j + 1 < n and (text[j + 1].isalpha() or text[j + 1] in "_{"):
                    plain = False
                if text[j] == "{" and j + 1 < n and text[j + 1] == "$":
                    plain = False
                buf.append(text[j])
                j += 1
            out.append(PTok("str", text[i:j + 1], i, min(j + 1, n), "".join(buf) if plain else None))
            i = j + 1
        elif c == "$" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] == "_"):
            m = re.compile(r"\$[A-Za-z_]\w*").match(text, i)
            assert m is not None
            out.append(PTok("var", m.group(0), i, m.end()))
            i = m.end()
        elif c.isalpha() or c in "_\\":
            m = re.compile(r"\\?[A-Za-z_][\w]*(\\[A-Za-z_][\w]*)*").match(text, i)
            if m is None:
                out.append(PTok("op", c, i, i + 1))
                i += 1
                continue
            out.append(PTok("name", m.group(0), i, m.end()))
            i = m.end()
        elif "0" <= c <= "9":  # ASCII only: str.isdigit takes "²", which no PHP number starts with
            m = re.compile(r"[0-9][0-9_]*(\.[0-9]+)?").match(text, i)
            assert m is not None
            out.append(PTok("num", m.group(0), i, m.end()))
            i = m.end()
        else:
            op = next((o for o in _PHP_OPS if text.startswith(o, i)), c)
            out.append(PTok("op", op, i, i + len(op)))
            i += len(op)
    return out


@dataclass(frozen=True)
class Node:
    """A PHP expression as far as configuration files need: a string, an array, a call, a concatenation."""

    kind: str  # "str", "array", "call", "concat", "const", "other"
    start: int
    end: int
    value: str | None = None  # "str": its value; "const": the name
    name: str = ""  # "call": the function's name
    args: tuple["Node", ...] = ()  # "call": arguments; "concat": the pieces
    items: tuple[tuple["Node | None", "Node"], ...] = ()  # "array": (key, value) pairs

    def get(self, key: str) -> "Node | None":
        """An array's value for a string key (the last one, as PHP keeps)."""
        found = None
        for k, v in self.items:
            if k is not None and k.kind == "str" and k.value == key:
                found = v
        return found


_CLOSERS = {"[": "]", "(": ")", "{": "}"}


class _PhpParser:
    def __init__(self, toks: list[PTok]) -> None:
        self.toks = toks

    def close_of(self, i: int) -> int:
        depth = 0
        for j in range(i, len(self.toks)):
            t = self.toks[j]
            if t.kind == "op" and t.text in _CLOSERS:
                depth += 1
            elif t.kind == "op" and t.text in _CLOSERS.values():
                depth -= 1
                if depth == 0:
                    return j
        return len(self.toks)

    def split(self, i: int, j: int) -> list[tuple[int, int]]:
        """Comma-separated ranges of tokens in [i, j), outside brackets."""
        out, depth, start = [], 0, i
        for k in range(i, j):
            t = self.toks[k]
            if t.kind == "op" and t.text in _CLOSERS:
                depth += 1
            elif t.kind == "op" and t.text in _CLOSERS.values():
                depth -= 1
            elif depth == 0 and t.kind == "op" and t.text == ",":
                out.append((start, k))
                start = k + 1
        if start < j:
            out.append((start, j))
        return [(a, b) for a, b in out if a < b]

    def expr(self, i: int, j: int) -> Node:
        toks = self.toks
        if i >= j:
            return Node("other", 0, 0)
        # concatenation: `a . b` outside brackets
        pieces, depth, start = [], 0, i
        for k in range(i, j):
            t = toks[k]
            if t.kind == "op" and t.text in _CLOSERS:
                depth += 1
            elif t.kind == "op" and t.text in _CLOSERS.values():
                depth -= 1
            elif depth == 0 and t.kind == "op" and t.text in ("?", "??", "?:", "||", "&&", "==", "==="):
                return Node("other", toks[i].start, toks[j - 1].end)
            elif depth == 0 and t.kind == "op" and t.text == ".":
                pieces.append((start, k))
                start = k + 1
        if pieces:
            pieces.append((start, j))
            return Node("concat", toks[i].start, toks[j - 1].end, args=tuple(self.expr(a, b) for a, b in pieces))
        first = toks[i]
        if j - i == 1:
            if first.kind == "str":
                return Node("str", first.start, first.end, first.value) if first.value is not None else Node(
                    "other", first.start, first.end)
            if first.kind == "name":
                return Node("const", first.start, first.end, first.text)
            return Node("other", first.start, first.end)
        if first.kind == "op" and first.text == "[" and self.close_of(i) == j - 1:
            return self.array(i + 1, j - 1, first.start, toks[j - 1].end)
        if first.kind == "name" and first.text.lower() == "array" and toks[i + 1].text == "(" \
                and self.close_of(i + 1) == j - 1:
            return self.array(i + 2, j - 1, first.start, toks[j - 1].end)
        if first.kind == "name" and toks[i + 1].text == "(" and self.close_of(i + 1) == j - 1:
            args = tuple(self.expr(a, b) for a, b in self.split(i + 2, j - 1))
            return Node("call", first.start, toks[j - 1].end, name=first.text.lstrip("\\"), args=args)
        if first.kind == "op" and first.text == "(" and self.close_of(i) == j - 1:
            return self.expr(i + 1, j - 1)
        return Node("other", first.start, toks[j - 1].end)

    def array(self, i: int, j: int, start: int, end: int) -> Node:
        items: list[tuple[Node | None, Node]] = []
        for a, b in self.split(i, j):
            arrow = next((k for k in range(a, b) if self.toks[k].kind == "op" and self.toks[k].text == "=>"
                          and self._depth(a, k) == 0), None)
            if arrow is None:
                items.append((None, self.expr(a, b)))
            else:
                items.append((self.expr(a, arrow), self.expr(arrow + 1, b)))
        return Node("array", start, end, items=tuple(items))

    def _depth(self, a: int, k: int) -> int:
        depth = 0
        for t in self.toks[a:k]:
            if t.kind == "op" and t.text in _CLOSERS:
                depth += 1
            elif t.kind == "op" and t.text in _CLOSERS.values():
                depth -= 1
        return depth


def php_returned_array(text: str) -> Node | None:
    """The array a configuration file returns (`return [...];`), or None."""
    toks = php_tokens(text)
    parser = _PhpParser(toks)
    for k, t in enumerate(toks):
        if t.kind == "name" and t.text == "return" and k + 1 < len(toks):
            end = next((m for m in range(k + 1, len(toks)) if toks[m].text == ";" and parser._depth(k + 1, m) == 0),
                       len(toks))
            node = parser.expr(k + 1, end)
            return node if node.kind == "array" else None
    return None


# -- .env files -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DotenvValue:
    name: str
    value: str | None  # None when it interpolates `${...}`
    doc: Document
    start: int
    end: int

    @property
    def at(self) -> Location:
        return offset_location(self.doc, self.start, self.end)


_DOTENV_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(.*)$", re.M)


def dotenv(doc: Document) -> dict[str, DotenvValue]:
    """The variables of a `.env` file (phpdotenv syntax, roughly): the last assignment of each."""
    out: dict[str, DotenvValue] = {}
    for m in _DOTENV_LINE.finditer(doc.text):
        name, raw = m.group(1), m.group(2).rstrip("\r")
        start = m.start(2)
        if raw[:1] in ("'", '"'):
            quote = raw[0]
            close = raw.find(quote, 1)
            while quote == '"' and close > 0 and raw[close - 1] == "\\":
                close = raw.find(quote, close + 1)
            body = raw[1:close] if close > 0 else raw[1:]
            value: str | None = body
            if quote == '"' and "${" in body:
                value = None
            elif quote == '"':
                value = body.replace('\\"', '"').replace("\\\\", "\\")
            end = start + (close + 1 if close > 0 else len(raw))
        else:
            body = re.split(r"[ \t]#", raw, maxsplit=1)[0].strip()
            value = None if "${" in body else body
            end = start + len(body)
        out[name] = DotenvValue(name, value, doc, start, end)
    return out


# -- .dockerignore ----------------------------------------------------------------------------------

def dockerignored(ctx: Context, rel: str) -> Location | None:
    """Where the build context's .dockerignore keeps ``rel`` out of the build, or None (the core's matcher)."""
    return ctx.dockerignored(rel)


# -- values -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """A value Laravel reads, and where it comes from."""

    text: str | None
    at: Location | None
    chain: tuple[Step, ...] = ()
    variable: str | None = None  # the env var that sets the whole value
    secret: bool = False  # an env var not visible (a secret may set it)
    unknown: str | None = None
    claims: tuple[str, ...] = ()


@dataclass
class _Laravel:
    """What the reader knows of one Laravel app."""

    ctx: Context
    root: str | None  # the app root in the image
    root_how: Step | None
    dotenv: dict[str, DotenvValue] = field(default_factory=dict)
    dotenv_how: Step | None = None
    config: Node | None = None
    config_doc: Document | None = None
    config_dir: str | None = None

    def env(self, name: str) -> Value | None:
        """A variable as Laravel's env() sees it: the process environment, else the image's .env file."""
        var = self.ctx.env.get(name)
        if var is not None:
            return Value(var.value, var.at, (var.step(),), name, claims=(name,))
        dv = self.dotenv.get(name)
        if dv is not None:
            steps = (self.dotenv_how,) if self.dotenv_how is not None else ()
            text = dv.value
            return Value(text, dv.at, steps + (Step(f"{name} = {text!r} in {dv.doc.display_path.rsplit('/', 1)[-1]}",
                                                    dv.at),), name,
                         unknown=None if text is not None else f"{name} interpolates another variable",
                         claims=(name,))
        return None

    def loc(self, node: Node) -> Location | None:
        if self.config_doc is None or node.end <= node.start:
            return None
        return offset_location(self.config_doc, node.start, node.end)

    def evaluate(self, node: Node | None) -> Value:
        """A config/database.php expression: strings, env(), database_path() and friends, `.`."""
        if node is None:
            return Value(None, None, unknown="not set")
        at = self.loc(node)
        if node.kind == "str":
            return Value(node.value, at)
        if node.kind == "const":
            if node.value in ("null", "NULL"):
                return Value(None, at, unknown="null")
            if node.value == "__DIR__" and self.config_dir is not None:
                return Value(self.config_dir, at)
            return Value(None, at, unknown=f"`{node.value}`")
        if node.kind == "concat":
            parts = [self.evaluate(p) for p in node.args]
            if all(p.text is not None for p in parts):
                return Value("".join(p.text or "" for p in parts), at, tuple(s for p in parts for s in p.chain),
                             claims=tuple(c for p in parts for c in p.claims))
            bad = next(p for p in parts if p.text is None)
            return replace(bad, variable=None, claims=tuple(c for p in parts for c in p.claims))
        if node.kind == "call":
            return self._call(node, at)
        return Value(None, at, unknown="an expression flyconf does not evaluate")

    def _call(self, node: Node, at: Location | None) -> Value:
        name = node.name
        if name == "env" and node.args and node.args[0].kind == "str":
            var = node.args[0].value or ""
            read = Step(f"env('{var}') in {_CONFIG}", at)
            found = self.env(var)
            if found is not None:
                return replace(found, chain=(read,) + found.chain)
            if len(node.args) > 1:
                default = self.evaluate(node.args[1])
                step = Step(f"{var} is not set in fly.toml [env], the Dockerfile or a .env in the image: "
                            f"the default of env('{var}')", default.at)
                return replace(default, chain=(read, step) + default.chain, variable=var, secret=True,
                               claims=(var,) + default.claims)
            return Value(None, at, (read,), var, secret=True, unknown=f"{var} is set only as a secret", claims=(var,))
        helpers = {"database_path": "database", "storage_path": "storage", "base_path": ""}
        if name in helpers:
            if self.root is None:
                return Value(None, at, unknown=f"{name}(): the app root in the image is not known")
            arg = self.evaluate(node.args[0]) if node.args else Value("", at)
            if arg.text is None:
                return replace(arg, variable=None)
            path = normpath(posixpath.join(self.root, helpers[name], arg.text)) if arg.text or helpers[name] else \
                self.root
            steps = (self.root_how,) if self.root_how is not None else ()
            return Value(path, at, steps + (Step(f"{name}() is under the app root {self.root}", at),))
        if name == "realpath" and node.args:
            return self.evaluate(node.args[0])
        return Value(None, at, unknown=f"`{name}()` is not evaluated")


# -- the reader -------------------------------------------------------------------------------------

def _composer_laravel(ctx: Context) -> tuple[Location, str] | None:
    """Where composer.json requires laravel/framework, and the constraint."""
    doc = ctx.read("composer.json")
    if doc is None:
        return None
    try:
        data = json.loads(doc.text)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to read
        return None
    require = data.get("require") if isinstance(data, dict) else None
    if not isinstance(require, dict) or "laravel/framework" not in require:
        return None
    m = re.search(r'"laravel/framework"\s*:\s*"([^"]*)"', doc.text)
    start = m.start() if m else 0
    return offset_location(doc, start, m.end() if m else 0), str(require["laravel/framework"])


def _major(constraint: str) -> int | None:
    """The lowest major version a composer constraint allows (`^11.9` -> 11), when it says."""
    m = re.search(r"[0-9]+", constraint)
    return ascii_int(m.group()) if m else None


def _app_root(ctx: Context) -> tuple[str | None, Step | None]:
    for marker in ("artisan", "composer.json"):
        if not ctx.exists(marker):
            continue
        where = ctx.image_path(marker)
        if where is not None:
            root = posixpath.dirname(where)
            return root, Step(f"the app root is {root}, where the Dockerfile puts {marker}")
    if ctx.workdir is not None:
        return ctx.workdir, Step(f"the app root is taken to be the image's WORKDIR {ctx.workdir}")
    return None, None


def _dockerfile(ctx: Context) -> Document | None:
    return ctx.read("Dockerfile")


_COPY_EXAMPLE = re.compile(r"\b(cp|mv)\s+(?:-\w+\s+)*(\.env\.\w+)\s+(\.env)(?=$|[\s;&|])", re.M)


def _image_dotenv(ctx: Context, root: str | None) -> tuple[Document, Step] | None:
    """The .env file the app reads in the image, when one is there: `.env.<APP_ENV>` or `.env`,
    copied from the build context (and not kept out by .dockerignore), or made from the example in
    a Dockerfile RUN (`cp .env.example .env`)."""
    names = []
    app_env = ctx.env.get("APP_ENV")
    if app_env is not None and app_env.value and re.fullmatch(r"[\w.-]+", app_env.value):
        names.append(f".env.{app_env.value}")
    names.append(".env")
    for name in names:
        if not ctx.exists(name):
            continue
        where = ctx.image_path(name)
        if where is None or (root is not None and posixpath.dirname(where) != root):
            continue
        if dockerignored(ctx, name) is not None:
            continue
        doc = ctx.read(name)
        if doc is not None:
            how = Step(f"{name} is copied into the image at {where}" + (
                f" (APP_ENV = {app_env.value!r}: Laravel reads .env.{app_env.value} instead of .env)"
                if name != ".env" and app_env is not None else ""))
            return doc, how
    df = _dockerfile(ctx)
    if df is not None:
        for m in _COPY_EXAMPLE.finditer(df.text):
            line_start = df.text.rfind("\n", 0, m.start()) + 1
            if df.text[line_start:m.start()].lstrip().startswith("#"):
                continue
            source = m.group(2)
            doc = ctx.read(source)
            if doc is not None and ctx.image_path(source) is not None and dockerignored(ctx, source) is None:
                return doc, Step(f"the Dockerfile makes .env from {source} (`{m.group(0)}`)",
                                 offset_location(df, m.start(), m.end()))
    return None


def _example(ctx: Context) -> dict[str, DotenvValue]:
    for name in _EXAMPLES:
        doc = ctx.read(name)
        if doc is not None:
            return dotenv(doc)
    return {}


def read(ctx: Context) -> Iterable[Found]:
    composer = _composer_laravel(ctx)
    if composer is None and not ctx.exists("artisan"):
        return []
    root, root_how = _app_root(ctx)
    app = _Laravel(ctx, root, root_how)
    image_env = _image_dotenv(ctx, root)
    if image_env is not None:
        app.dotenv, app.dotenv_how = dotenv(image_env[0]), image_env[1]
    config_doc = ctx.read(_CONFIG)
    if config_doc is not None:
        app.config_doc = config_doc
        app.config = php_returned_array(config_doc.text)
        where = ctx.image_path(_CONFIG)
        app.config_dir = posixpath.dirname(where) if where else (
            posixpath.join(root, "config") if root is not None else None)
    found = _connection(app, composer)
    return [found] if found is not None else []


def _connection(app: _Laravel, composer: tuple[Location, str] | None) -> Found | None:
    chain: list[Step] = []
    claims: list[str] = ["DB_CONNECTION", "DB_DATABASE"]
    connections = app.config.get("connections") if app.config is not None else None
    default_node = app.config.get("default") if app.config is not None else None
    unreadable = app.config_doc is not None and (app.config is None or connections is None)
    if unreadable:
        # config/database.php is there but not in a shape flyconf reads: no stock default applies
        chain.append(Step(f"{_CONFIG} is not an array flyconf can read statically",
                          offset_location(app.config_doc, 0, 0) if app.config_doc is not None else None))

    # 1. the default connection's name
    if default_node is not None:
        chain.append(Step(f"'default' connection in {_CONFIG}", app.loc(default_node)))
        name_val = app.evaluate(default_node)
    else:
        name_val = app.env("DB_CONNECTION") or _stock_default(composer)
    chain.extend(name_val.chain)
    claims.extend(name_val.claims)
    if name_val.secret:
        if unreadable and default_node is None:
            return None
        return _unsure(app, name_val, chain, claims, composer)
    name = name_val.text
    name_at = name_val.at or (composer[0] if composer else None)
    if name_at is None:
        return None

    def make(kind: str, declared: Location, **kw: object) -> Found:
        fields: dict[str, object] = dict(framework="laravel", reader="laravel", name=name or "default", kind=kind,
                                         declared=declared, form="path")
        fields.update(kw)
        fields["chain"] = tuple(chain)
        fields["claims"] = tuple(dict.fromkeys(claims))
        return Found(**fields)  # type: ignore[arg-type]

    if name is None:
        return make(UNKNOWN, name_at, unknown=name_val.unknown or "the default connection is not known")
    if unreadable:
        if name in _SERVER_DRIVERS:
            return make(SERVER, name_at, raw=name)
        return make(SQLITE if name == "sqlite" else UNKNOWN, name_at, raw=name,
                    unknown=f"{_CONFIG} could not be read statically")
    # 2. its driver
    conn = connections.get(name) if connections is not None and connections.kind == "array" else None
    if connections is not None and conn is None:
        chain.append(Step(f"{_CONFIG} has no connection named {name!r}"))
        return make(UNKNOWN, name_at, raw=name, unknown=f"the connection {name!r} is not in {_CONFIG}")
    if conn is not None:
        driver_val = app.evaluate(conn.get("driver"))
        driver = driver_val.text
        claims.extend(driver_val.claims)
        if driver != name:
            chain.append(Step(f"connection {name!r} has driver {driver!r}", driver_val.at))
    else:
        driver = name
    # 3. a URL overrides the driver and the database
    for url_name in _url_variables(app, conn):
        claims.append(url_name)
        url = app.env(url_name)
        if url is None or url.text is None or not url.text.strip():
            continue
        target = urls.parse(url.text, urls.PYTHON)
        if target is None:
            continue
        chain.extend(url.chain)
        if target.kind == SERVER:
            return make(SERVER, url.at or name_at, raw=url.text, variable=url_name, form=urls.form_of(url.text))
        if target.memory or target.path is None:
            return None  # an in-memory database: nothing on disk to lose
        chain.append(Step(f"{url_name} names the SQLite file `{target.path}` (Laravel's URL parser reads "
                          "`sqlite:///x` as the relative x: four slashes for an absolute path)"))
        return _placed(app, make, chain, target.path, url.at or name_at, url.text, url_name, "sqlite:///")
    if driver in _SERVER_DRIVERS:
        return make(SERVER, name_at, raw=name)
    if driver != "sqlite":
        chain.append(Step(f"driver {driver!r} is not one flyconf knows"))
        return make(UNKNOWN, name_at, raw=name, unknown=f"the driver of connection {name!r} is not known")
    # 4. the SQLite file
    if conn is not None:
        db_node = conn.get("database")
        chain.append(Step(f"'database' of connection {name!r} in {_CONFIG}", app.loc(db_node) if db_node else None))
        db = app.evaluate(db_node)
    else:
        db = app.env("DB_DATABASE") or _stock_database(app)
    chain.extend(db.chain)
    claims.extend(db.claims)
    variable = db.variable
    declared = db.at or name_at
    if db.text is None:
        return make(SQLITE, declared, variable=variable, unknown=db.unknown or "the database path is not known")
    target = urls.parse(db.text, urls.PATH, sqlite_default=True)
    if target is None or target.path is None:
        if target is not None and target.memory:
            return None  # an in-memory database: nothing on disk to lose
        return make(SQLITE, declared, raw=db.text, variable=variable, unknown=f"`{db.text}` is not a file path")
    return _placed(app, make, chain, target.path, declared, db.text, variable, "path")


def _placed(app: _Laravel, make: Callable[..., Found], chain: list[Step], path: str, declared: Location, raw: str,
            variable: str | None, form: str) -> Found:
    """A SQLite Found for ``path``: absolute as written, relative only when both of Laravel's tries agree."""
    if path.startswith("/"):
        return make(SQLITE, declared, path=normpath(path), raw=raw, variable=variable, form=form)
    workdir = app.ctx.workdir
    if app.root is not None and workdir is not None and normpath(workdir) == normpath(app.root):
        chain.append(Step(f"relative path `{path}` resolved against the app root {app.root}, which is also the "
                          "image's WORKDIR (Laravel's SQLiteConnector tries the working directory, then base_path())"))
        return make(SQLITE, declared, path=resolve(path, app.root), raw=raw, variable=variable, form=form,
                    relative=path, base=app.root)
    why = ("the app root in the image is not known" if app.root is None else
           f"Laravel tries it against the process's working directory before the app root {app.root}, and the "
           "image's WORKDIR is not the app root")
    return make(SQLITE, declared, raw=raw, variable=variable, form=form, relative=path,
                unknown=f"relative path `{path}`: {why}")


def _url_variables(app: _Laravel, conn: Node | None) -> list[str]:
    """The variables the connection's 'url' reads (`env('DB_URL')`); without config/database.php,
    both names Laravel has used (DB_URL since 11, DATABASE_URL before)."""
    if conn is None:
        return ["DB_URL", "DATABASE_URL"] if app.config is None else []
    node = conn.get("url")
    if node is not None and node.kind == "call" and node.name == "env" and node.args and node.args[0].kind == "str":
        return [node.args[0].value or ""]
    return []


def _stock_default(composer: tuple[Location, str] | None) -> Value:
    """DB_CONNECTION's default when config/database.php is not in the build context: the framework's
    own (sqlite since Laravel 11, mysql before), when composer.json says which Laravel."""
    major = _major(composer[1]) if composer is not None else None
    if composer is None or major is None:
        return Value(None, composer[0] if composer else None, secret=True,
                     unknown="DB_CONNECTION is not set in fly.toml [env], the Dockerfile or a .env in the image")
    default = "sqlite" if major >= 11 else "mysql"
    return Value(default, composer[0], (Step(f"{_CONFIG} is not in the build context: Laravel {major}'s default "
                                             f"connection is {default!r}", composer[0]),), "DB_CONNECTION",
                 secret=True)


def _stock_database(app: _Laravel) -> Value:
    if app.root is None:
        return Value(None, None, unknown="DB_DATABASE is not set and the app root in the image is not known",
                     variable="DB_DATABASE")
    path = posixpath.join(app.root, "database", "database.sqlite")
    steps = (app.root_how,) if app.root_how is not None else ()
    default = Step(f"DB_DATABASE is not set: Laravel's default database_path('database.sqlite') is {path}")
    return Value(path, None, steps + (default,), "DB_DATABASE", secret=True)


def _unsure(app: _Laravel, name_val: Value, chain: list[Step], claims: list[str],
            composer: tuple[Location, str] | None) -> Found | None:
    """DB_CONNECTION is not visible: the fallback decides unless a secret sets it. A fallback to
    sqlite (or an example file that says sqlite) is UNKNOWN; a server fallback is SERVER."""
    example = _example(app.ctx).get("DB_CONNECTION")
    hint = example.value if example is not None else None
    if example is not None:
        chain.append(Step(f"the example file {example.doc.display_path.rsplit('/', 1)[-1]} sets DB_CONNECTION = "
                          f"{hint!r}; it is not the production environment (Fly's Laravel Dockerfiles keep *.env* "
                          "files out of the image)", example.at))
    fallback = name_val.text
    declared = name_val.at or (example.at if example is not None else None) or (composer[0] if composer else None)
    if declared is None:
        return None
    sqlite_signs = fallback == "sqlite" or hint == "sqlite"
    name = fallback or hint or "default"
    base = dict(framework="laravel", reader="laravel", name=name, declared=declared, form="path",
                claims=tuple(dict.fromkeys(claims)))
    if not sqlite_signs and (fallback in _SERVER_DRIVERS or (fallback is None and hint in _SERVER_DRIVERS)):
        return Found(kind=SERVER, chain=tuple(chain), raw=name, **base)  # type: ignore[arg-type]
    why = ("DB_CONNECTION is not set in fly.toml [env], the Dockerfile or a .env in the image"
           + (f": Laravel falls back to {fallback!r} unless it is set as a secret" if fallback else
              ", so the connection is set as a secret or not known"))
    return Found(kind=UNKNOWN, chain=tuple(chain), raw=name, unknown=why, variable="DB_DATABASE",
                 **base)  # type: ignore[arg-type]


__all__ = ["read", "php_tokens", "php_returned_array", "dotenv", "dockerignored", "Node"]
