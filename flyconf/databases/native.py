"""Go and Rust: SQLite files opened with a string literal in the app's own source.

Only literals are read, never a variable or an environment lookup (the environment reader handles
those), and only when the module or crate declares a SQLite driver:

- Go (go.mod `require`, not `// indirect`): `sql.Open("sqlite3" | "sqlite" | "libsql", "x.db")` (and
  jmoiron/sqlx's Open/Connect), `gorm.Open(sqlite.Open("x.db"))` (gorm.io/driver/sqlite,
  glebarez/sqlite), `sqlitex.NewPool("x.db", ...)` / `sqlitex.Open` / `sqlite.OpenConn` (zombiezen,
  crawshaw), `sqlite3.Open("x.db")` (ncruces). A DSN is a file name or a `file:` URI with a query string.
- Rust (Cargo.toml): rusqlite's `Connection::open("x.db")`, r2d2_sqlite's
  `SqliteConnectionManager::file("x.db")`, diesel's `SqliteConnection::establish("x.db")`, and sqlx /
  SeaORM URLs: `SqlitePool::connect("sqlite://x.db")`, `SqliteConnectOptions::from_str(...)`,
  `.filename("x.db")`, `Database::connect("sqlite://x.db?mode=rwc")`. sqlx strips `sqlite://` and then
  `sqlite:` from the front (sqlx-sqlite/src/options/parse.rs, `FromStr for SqliteConnectOptions`), so
  `sqlite://x.db` and `sqlite:x.db` are the relative `x.db` and `sqlite:///data/x.db` the absolute
  `/data/x.db`.

A relative path is opened against the process's working directory: the image's WORKDIR.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import tomllib

from flyconf.databases import urls
from flyconf.databases.model import SERVER, SQLITE, Context, Found, Step, offset_location, resolve
from flyconf.sources import escapes
from flyconf.sources.base import Document, split_lines
from flyconf.sources.escapes import unescape as _unescape


@dataclass(frozen=True)
class Tok:
    kind: str  # "str" (``text`` is the value), "name", "punct", "other"
    text: str
    start: int
    end: int
    raw: bool = False  # a raw string (Go backquotes, Rust r"...")


# -- Go ---------------------------------------------------------------------------------------------

_GO = re.compile(r'(?P<ws>\s+)|(?P<comment>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))|(?P<raw>`[^`]*`?)'
                 r'|(?P<str>"(?:[^"\\\n]|\\.)*"?)|(?P<rune>\'(?:[^\'\\\n]|\\.)*\'?)|(?P<name>[A-Za-z_]\w*)'
                 r'|(?P<num>\d[\w.]*)|(?P<punct>.)', re.S)


def _go_unquote(body: str) -> str:
    return _unescape(body, escapes.GO, fixed={"x": 2, "u": 4, "U": 8}, octal=True)


def go_tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    for m in _GO.finditer(text):
        kind = m.lastgroup
        raw = m.group(0)
        if kind in ("ws", "comment") or kind is None:
            continue
        if kind == "raw":
            if len(raw) > 1 and raw.endswith("`"):
                out.append(Tok("str", raw[1:-1].replace("\r", ""), m.start(), m.end(), raw=True))
            else:
                out.append(Tok("other", raw, m.start(), m.end()))
        elif kind == "str":
            if len(raw) > 1 and raw.endswith('"'):
                out.append(Tok("str", _go_unquote(raw[1:-1]), m.start(), m.end()))
            else:
                out.append(Tok("other", raw, m.start(), m.end()))
        elif kind in ("rune", "num"):
            out.append(Tok("other", raw, m.start(), m.end()))
        else:
            out.append(Tok(kind, raw, m.start(), m.end()))
    return out


# Go SQLite modules: import path -> the package name it declares (not always the last element).
_GO_PACKAGES = {
    "gorm.io/driver/sqlite": "sqlite",
    "github.com/glebarez/sqlite": "sqlite",
    "zombiezen.com/go/sqlite": "sqlite",
    "zombiezen.com/go/sqlite/sqlitex": "sqlitex",
    "crawshaw.io/sqlite": "sqlite",
    "crawshaw.io/sqlite/sqlitex": "sqlitex",
    "github.com/ncruces/go-sqlite3": "sqlite3",
    "github.com/ncruces/go-sqlite3/driver": "driver",
    "database/sql": "sql",
    "github.com/jmoiron/sqlx": "sqlx",
}
# (import path, function) -> which argument is the DSN, and whether the first argument names a driver.
_GO_CALLS: dict[tuple[str, str], tuple[int, bool]] = {
    ("gorm.io/driver/sqlite", "Open"): (0, False),
    ("github.com/glebarez/sqlite", "Open"): (0, False),
    ("zombiezen.com/go/sqlite/sqlitex", "NewPool"): (0, False),
    ("zombiezen.com/go/sqlite/sqlitex", "Open"): (0, False),
    ("zombiezen.com/go/sqlite", "OpenConn"): (0, False),
    ("crawshaw.io/sqlite/sqlitex", "Open"): (0, False),
    ("crawshaw.io/sqlite", "OpenConn"): (0, False),
    ("github.com/ncruces/go-sqlite3", "Open"): (0, False),
    ("github.com/ncruces/go-sqlite3", "OpenFlags"): (0, False),
    ("github.com/ncruces/go-sqlite3/driver", "Open"): (0, False),
    ("database/sql", "Open"): (1, True),
    ("github.com/jmoiron/sqlx", "Open"): (1, True),
    ("github.com/jmoiron/sqlx", "Connect"): (1, True),
    ("github.com/jmoiron/sqlx", "MustOpen"): (1, True),
    ("github.com/jmoiron/sqlx", "MustConnect"): (1, True),
}
# database/sql driver names registered by SQLite drivers (mattn and ncruces: sqlite3; modernc and
# glebarez: sqlite; tursodatabase/go-libsql: libsql).
_GO_SQLITE_DRIVERS = frozenset({"sqlite3", "sqlite", "libsql", "sqlite3_extended"})
_GO_MODULES = ("github.com/mattn/go-sqlite3", "modernc.org/sqlite", "github.com/glebarez/sqlite",
               "github.com/glebarez/go-sqlite", "gorm.io/driver/sqlite", "github.com/ncruces/go-sqlite3",
               "zombiezen.com/go/sqlite", "crawshaw.io/sqlite", "github.com/tursodatabase/go-libsql",
               "github.com/tursodatabase/libsql-client-go")


def go_requires(text: str) -> dict[str, bool]:
    """Modules a go.mod requires: path -> whether the requirement is direct (not `// indirect`)."""
    out: dict[str, bool] = {}
    in_block = False
    for line in split_lines(text):  # Go's modfile lexer ends a line at "\n" only
        stripped = line.strip()
        code, _, comment = stripped.partition("//")
        words = code.split()
        if in_block:
            if words[:1] == [")"]:
                in_block = False
                continue
            if words:
                out[words[0]] = "indirect" not in comment
            continue
        if words[:1] == ["require"]:
            if words[1:2] == ["("]:
                in_block = True
            elif len(words) >= 2:
                out[words[1]] = "indirect" not in comment
    return out


def _go_imports(toks: list[Tok]) -> dict[str, str]:
    """local package name -> import path, from the file's import declarations."""
    out: dict[str, str] = {}
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "name" and t.text == "import":
            j = i + 1
            block = j < n and toks[j].text == "("
            if block:
                j += 1
            while j < n:
                if toks[j].text == ")":
                    break
                alias = None
                if toks[j].kind == "name" or toks[j].text in ("_", "."):
                    alias = toks[j].text
                    j += 1
                if j < n and toks[j].kind == "str":
                    path = toks[j].text
                    local = alias or _GO_PACKAGES.get(path) or path.rsplit("/", 1)[-1]
                    if local not in ("_", "."):
                        out[local] = path
                    j += 1
                if not block:
                    break
                if j < n and toks[j].text == ";":
                    j += 1
                elif j < n and toks[j].kind != "str" and toks[j].kind != "name" and toks[j].text != ")":
                    j += 1
            i = j + 1
            continue
        if t.kind == "name" and t.text in ("func", "type", "var", "const"):
            break  # imports come first
        i += 1
    return out


def _go_opens(toks: list[Tok]) -> Iterator[tuple[str, Tok]]:
    """(call as written, DSN literal) for each SQLite open with a literal DSN."""
    imports = _go_imports(toks)
    n = len(toks)
    for i in range(n - 3):
        t = toks[i]
        if t.kind != "name" or toks[i + 1].text != "." or toks[i + 2].kind != "name" or toks[i + 3].text != "(":
            continue
        if i > 0 and toks[i - 1].text == ".":
            continue
        path = imports.get(t.text)
        if path is None:
            continue
        spec = _GO_CALLS.get((path, toks[i + 2].text))
        if spec is None:
            continue
        index, driver_first = spec
        args = _args(toks, i + 3)
        if len(args) <= index:
            continue
        if driver_first:
            driver = args[0]
            if driver is None or driver.text not in _GO_SQLITE_DRIVERS:
                continue
        dsn = args[index]
        if dsn is not None:
            yield f"{t.text}.{toks[i + 2].text}", dsn


def _args(toks: list[Tok], i: int) -> list[Tok | None]:
    """The arguments of the call whose `(` is at ``i``: a string literal token each, or None for anything else."""
    out: list[Tok | None] = []
    j = i + 1
    n = len(toks)
    depth = 0
    current: list[Tok] = []
    while j < n:
        t = toks[j]
        if t.kind == "punct" and t.text in "([{":
            depth += 1
        elif t.kind == "punct" and t.text in ")]}":
            if depth == 0:
                if current:
                    out.append(current[0] if len(current) == 1 and current[0].kind == "str" else None)
                return out
            depth -= 1
        elif t.kind == "punct" and t.text == "," and depth == 0:
            out.append(current[0] if len(current) == 1 and current[0].kind == "str" else None)
            current = []
            j += 1
            continue
        current.append(t)
        j += 1
    return out


# -- Rust -------------------------------------------------------------------------------------------

_RUST = re.compile(r'(?P<ws>\s+)|(?P<comment>//[^\n]*)|(?P<block>/\*)'
                   r'|(?P<rawstr>b?r(?P<hashes>#*)")|(?P<str>b?"(?:[^"\\]|\\.)*"?)'
                   r"|(?P<char>b?'(?:[^'\\\n]|\\(?:u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|.))')"
                   r"|(?P<lifetime>'[A-Za-z_]\w*)|(?P<name>[A-Za-z_]\w*)|(?P<num>\d[\w.]*)|(?P<punct>::|.)", re.S)


def _rust_unquote(body: str) -> str:
    return _unescape(body, escapes.RUST, fixed={"x": 2}, braced=True, continuation="space")


def rust_tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    n = len(text)
    i = 0
    while i < n:
        m = _RUST.match(text, i)
        if m is None:  # pragma: no cover - the pattern matches any character
            break
        kind = m.lastgroup if m.lastgroup != "hashes" else "rawstr"
        if kind == "block":  # block comments nest in Rust
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            i = j
            continue
        if kind == "rawstr":
            hashes = m.group("hashes") or ""
            close = text.find('"' + hashes, m.end())
            end = close + 1 + len(hashes) if close != -1 else n
            body = text[m.end():close] if close != -1 else text[m.end():]
            byte = text[i] == "b"
            out.append(Tok("other" if byte or close == -1 else "str", body, i, end, raw=True))
            i = end
            continue
        raw = m.group(0)
        if kind == "str":
            ok = len(raw) > 1 and raw.endswith('"') and not raw.startswith("b")
            if raw.startswith('b"'):
                ok = False
            out.append(Tok("str" if ok else "other", _rust_unquote(raw[1:-1]) if ok else raw, i, m.end()))
        elif kind in ("ws", "comment"):
            pass
        elif kind in ("char", "lifetime", "num"):
            out.append(Tok("other", raw, i, m.end()))
        else:
            out.append(Tok(kind or "punct", raw, i, m.end()))
        i = m.end()
    return out


# Calls whose first argument is a file name (not a URL): the path of the call's last segments.
_RUST_PATH_CALLS = {("Connection", "open"), ("Connection", "open_with_flags"),
                    ("Connection", "open_with_flags_and_vfs"), ("SqliteConnectionManager", "file"),
                    ("SqliteConnection", "establish")}
# sqlx types: any string they are given is an SQLite URL or file name.
_SQLX_TYPES = frozenset({"SqlitePool", "SqliteConnection", "SqliteConnectOptions", "SqlitePoolOptions"})
_URL_METHODS = frozenset({"connect", "connect_lazy", "from_str", "from_url", "connect_with", "new"})


def _rust_opens(toks: list[Tok], options: bool = False) -> Iterator[tuple[str, Tok, str]]:
    """(call as written, literal, how to read it: "path" or "url") for each SQLite open with a literal.

    ``options``: the file uses sqlx's SqliteConnectOptions, so a `.filename("x")` call is its builder.
    """
    n = len(toks)
    for i in range(n - 2):
        t = toks[i]
        if t.kind != "name" or toks[i + 1].text != "(" or i + 2 >= n or toks[i + 2].kind != "str":
            continue
        # the path before the call: `A::B::<T>::f(` or a method `.f(`
        segments: list[str] = [t.text]
        generics: list[str] = []
        j = i - 1
        method = j >= 0 and toks[j].text == "."
        while j >= 1 and toks[j].text == "::":
            if toks[j - 1].text == ">":  # a turbofish: `Pool::<Sqlite>::connect`
                k, depth = j - 1, 0
                while k >= 0:
                    if toks[k].text == ">":
                        depth += 1
                    elif toks[k].text == "<":
                        depth -= 1
                        if depth == 0:
                            break
                    elif toks[k].kind == "name":
                        generics.append(toks[k].text)
                    k -= 1
                j = k - 1
                if j >= 0 and toks[j].text == "::":
                    continue
                if j >= 0 and toks[j].kind == "name":
                    segments.insert(0, toks[j].text)
                    j -= 1
                    continue
                break
            if toks[j - 1].kind != "name":
                break
            segments.insert(0, toks[j - 1].text)
            j -= 2
        literal = toks[i + 2]
        closes = i + 3 < n and toks[i + 3].text in (")", ",")
        if not closes:
            continue
        call = "::".join(segments) if not method else f".{t.text}"
        last_two = tuple(segments[-2:])
        if len(segments) >= 2 and last_two in _RUST_PATH_CALLS:
            yield call, literal, "path"
        elif any(s in _SQLX_TYPES for s in segments[:-1]) or any("Sqlite" in g for g in generics):
            yield call, literal, "url"
        elif method and t.text == "filename" and options:
            yield call, literal, "path"
        elif t.text in _URL_METHODS and literal.text.lower().startswith("sqlite:"):
            yield call, literal, "url"


def _cargo_wants_sqlite(ctx: Context) -> tuple[bool, list[str]]:
    """Whether the crate (or workspace) depends on a SQLite library, and the crate directories."""
    doc = ctx.read("Cargo.toml")
    if doc is None:
        return False, []
    try:
        root = tomllib.loads(doc.text)
    except (tomllib.TOMLDecodeError, ValueError):
        return False, []
    crates = [""]
    workspace: dict[str, Any] = root["workspace"] if isinstance(root.get("workspace"), dict) else {}
    shared: dict[str, Any] = workspace["dependencies"] if isinstance(workspace.get("dependencies"), dict) else {}
    members: list[Any] = workspace["members"] if isinstance(workspace.get("members"), list) else []
    manifests = [root]
    for member in members:
        if not isinstance(member, str):
            continue
        dirs = [member] if "*" not in member else sorted(
            {posixpath.dirname(p) for p in ctx.glob(f"{member}/Cargo.toml")})
        for d in dirs:
            member_doc = ctx.read(f"{d}/Cargo.toml")
            if member_doc is None:
                continue
            try:
                manifests.append(tomllib.loads(member_doc.text))
            except (tomllib.TOMLDecodeError, ValueError):
                continue
            crates.append(d)
    wants = any(_sqlite_dependency(name, spec, shared) for m in manifests for name, spec in _dependencies(m))
    return wants, crates


def _dependencies(manifest: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key in ("dependencies", "dev-dependencies"):
        deps = manifest.get(key)
        if key == "dev-dependencies":
            continue  # tests and examples only
        if isinstance(deps, dict):
            yield from deps.items()
    targets = manifest.get("target")
    if isinstance(targets, dict):
        for table in targets.values():
            if isinstance(table, dict) and isinstance(table.get("dependencies"), dict):
                yield from table["dependencies"].items()


def _sqlite_dependency(name: str, spec: Any, shared: dict[str, Any]) -> bool:
    crate = spec.get("package", name) if isinstance(spec, dict) else name
    if crate in ("rusqlite", "tokio-rusqlite", "r2d2_sqlite", "async-sqlite", "deadpool-sqlite", "libsqlite3-sys"):
        return True
    features: list[str] = []
    if isinstance(spec, dict):
        features.extend(f for f in spec.get("features", []) if isinstance(f, str))
        if spec.get("workspace") is True and isinstance(shared.get(name), dict):
            features.extend(f for f in shared[name].get("features", []) if isinstance(f, str))
    if crate == "sqlx":
        return any(f in ("sqlite", "sqlite-unbundled") or f.startswith("sqlite") for f in features)
    if crate == "sea-orm":
        return any("sqlite" in f for f in features)
    if crate == "diesel":
        return any(f == "sqlite" or f.startswith("sqlite") for f in features)
    return False


# -- the reader -------------------------------------------------------------------------------------

_MAX_FILES = 300
_MAX_BYTES = 500_000
_SKIP_DIRS = frozenset({"vendor", "target", "testdata", "test", "tests", "examples", "example", "benches", "bench",
                        "benchmarks", "fixtures", "scripts", "tools", "hack", "docs", "e2e", "node_modules",
                        "third_party"})


def source_files(ctx: Context, ext: str, roots: list[str] | None = None) -> list[str]:
    out: list[str] = []
    for rel in ctx.glob(f"*{ext}"):
        parts = rel.split("/")
        if any(p in _SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
            continue
        name = parts[-1]
        if name.endswith("_test.go") or name == "build.rs":
            continue
        if roots is not None and not any(rel.startswith(f"{r}/src/" if r else "src/") for r in roots):
            continue
        out.append(rel)
    out.sort(key=lambda r: (r.count("/"), r))
    return out[:_MAX_FILES]


def read(ctx: Context) -> Iterable[Found]:
    out: list[Found] = []
    seen: set[str] = set()
    gomod = ctx.read("go.mod")
    if gomod is not None:
        requires = go_requires(gomod.text)
        if any(requires.get(m) for m in _GO_MODULES):
            for rel in source_files(ctx, ".go"):
                doc = ctx.read(rel)
                if doc is None or len(doc.text) > _MAX_BYTES or "sql" not in doc.text.lower():
                    continue
                for call, literal in _go_opens(go_tokens(doc.text)):
                    db = _found(ctx, doc, rel, "go", call, literal, "go")
                    if db is not None and (db.path is None or db.path not in seen):
                        seen.add(db.path or "")
                        out.append(db)
    wants, crates = _cargo_wants_sqlite(ctx)
    if wants:
        for rel in source_files(ctx, ".rs", crates):
            doc = ctx.read(rel)
            if doc is None or len(doc.text) > _MAX_BYTES or "sqlite" not in doc.text.lower():
                continue
            for call, literal, how in _rust_opens(rust_tokens(doc.text), "SqliteConnectOptions" in doc.text):
                db = _found(ctx, doc, rel, "rust", call, literal, how)
                if db is not None and (db.path is None or db.path not in seen):
                    seen.add(db.path or "")
                    out.append(db)
    return out


def _found(ctx: Context, doc: Document, rel: str, framework: str, call: str, literal: Tok, how: str) -> Found | None:
    raw = literal.text
    if how == "url":
        target = urls.parse(raw, urls.URLPATH, sqlite_default=True)
        form = "sqlite://" if raw.lower().startswith("sqlite:") else urls.form_of(raw)
    else:
        # Go DSNs and rusqlite paths: a file name, or a `file:` URI (both may carry a query string)
        target = urls.parse(raw, urls.URLPATH if raw.startswith("file:") else urls.PATH, sqlite_default=True)
        form = urls.form_of(raw)
    if target is None or target.memory:
        return None
    at = offset_location(doc, literal.start, literal.end)
    first = Step(f"`{call}({doc.text[literal.start:literal.end]})` in {rel}", at)
    if target.kind != SQLITE:
        return Found(framework=framework, reader="native", name=call, kind=SERVER, declared=at, raw=raw, chain=(first,),
                     form=form)
    if target.path is None:
        return None
    chain = [first]
    unknown = None
    relative = base = None
    path = resolve(target.path, None) if target.path.startswith("/") else None
    if path is None:
        relative, base = target.path, ctx.workdir
        path = resolve(target.path, ctx.workdir)
        if path is None:
            unknown = f"relative path `{target.path}`: the working directory of the image is not known"
        else:
            chain.append(Step(f"relative path `{target.path}` resolved against the working directory {ctx.workdir}"))
    return Found(framework=framework, reader="native", name=posixpath.basename(target.path), kind=SQLITE, declared=at,
                 path=path, raw=raw, chain=tuple(chain), unknown=unknown, form=form, relative=relative, base=base)
