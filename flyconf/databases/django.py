"""Django: the app's databases, read from its settings module with Python's ast (never imported or executed).

Which settings module. A start command that says `--settings=x` or `DJANGO_SETTINGS_MODULE=x` wins;
then `DJANGO_SETTINGS_MODULE` from fly.toml `[env]` or the Dockerfile's `ENV`; then the
`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")` of manage.py, wsgi.py and asgi.py (the files
`django-admin startproject` writes). When those name different modules, the one the server loads
(`gunicorn x.wsgi`, `uvicorn x.asgi:application`) decides, else the one that does not look like a
development module; else nothing is known. A default that is a development module
(`config.settings.local`) is not taken for production: production then most likely sets the
variable as a secret. Dotted names resolve against manage.py's directory, as `python manage.py` and
a server started in that directory put it first on sys.path.

What the settings say. A tiny interpreter walks the module-level statements in order over the ast:
assignments, `DATABASES["default"] = ...`, `.update(...)`, star imports of the project's own
modules (split settings, followed in order, later assignments winning), `if` statements whose
condition can be evaluated, and the handful of calls that build a database location: pathlib and
os.path, `os.environ.get`/`os.getenv`/`os.environ[...]`, django-environ (`env(...)`, `env.db(...)`),
environs (`env.dj_db_url(...)`), python-decouple (`config(...)`), dj-database-url (`config(...)`,
`parse(...)`), django-split-settings' `include(...)`. Anything else is unknown, and an unknown that
could change a database makes it unknown: a precise silence beats a guess. `__file__` is where the
settings file is in the image (following the Dockerfile's COPY). An optional import (`try: from
.local import *`) of a file that is not in the image (.dockerignore, no COPY) runs the `except
ImportError` branch instead; a .env file the settings load makes the variables it sets unknown.

Environment variables. A variable visible in fly.toml `[env]` or the Dockerfile gives its value. One
that is not may still be a secret: its default is taken for a path (an `os.environ.get("SQLITE_PATH",
...)` default is where the file goes unless someone sets it), but a condition or a database *kind*
that hangs on it is unknown. So the pattern Fly's Django guide recommends — SQLite by default,
Postgres through a `DATABASE_URL` secret that `fly launch` sets when it attaches Postgres (flyctl
scanner/django.go recommends dj-database-url or django-environ for it) — is UNKNOWN, not SQLite. The
variables Fly sets on every Machine (FLY_APP_NAME, FLY_REGION, ...; Fly docs, "The Machine Runtime
Environment") are set, with values not known.

URLs. dj-database-url (`parse()` in dj_database_url/__init__.py) and django-environ
(`Env.db_url_config` in environ/environ.py) both take NAME from the URL's path after its first `/`:
`sqlite:///db.sqlite3` is the relative `db.sqlite3`, `sqlite:////data/db.sqlite3` the absolute
`/data/db.sqlite3`, an empty path means `:memory:`, and a host part is ignored. Django hands a SQLite
NAME to sqlite3.connect unchanged, so a relative NAME is relative to the server's working directory
(the image's WORKDIR).
"""

from __future__ import annotations

import ast
import posixpath
import re
import string
import urllib.parse
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Sequence

from flyconf.databases import urls
from flyconf.databases.model import (
    SERVER,
    SQLITE,
    UNKNOWN,
    Context,
    Found,
    Location,
    Step,
    location,
    normpath,
    offset_location,
    resolve,
)
from flyconf.sources.base import Document
from flyconf.units import ascii_int

FRAMEWORK = "django"
READER = "django"
SETTINGS_VAR = "DJANGO_SETTINGS_MODULE"
_DEPTH = 8  # settings modules followed through imports, one inside another
_MODULES = 40  # settings modules read in all
_STATEMENTS = 20000  # statements executed in all: a settings file is not a program

# Set by Fly on every Machine (Fly docs, "The Machine Runtime Environment",
# superfly/docs machines/runtime-environment.html.md): set, with a value flyconf cannot know.
# PRIMARY_REGION comes from fly.toml's primary_region and is in the context's env when set.
FLY_RUNTIME = frozenset({
    "FLY_APP_NAME", "FLY_MACHINE_ID", "FLY_ALLOC_ID", "FLY_REGION", "FLY_PUBLIC_IP", "FLY_IMAGE_REF",
    "FLY_MACHINE_VERSION", "FLY_PRIVATE_IP", "FLY_PROCESS_GROUP", "FLY_VM_MEMORY_MB",
})
# URL schemes of dj-database-url and django-environ, by kind (their ENGINE_SCHEMES / DB_SCHEMES tables).
_SQLITE_SCHEMES = {"sqlite": "django.db.backends.sqlite3", "spatialite": "django.contrib.gis.db.backends.spatialite"}
_SERVER_SCHEMES = frozenset({
    "postgres", "postgresql", "pgsql", "psql", "postgis", "redshift", "timescale", "timescalegis", "cockroach",
    "mysql", "mysql2", "mysqlgis", "mysql-connector", "oracle", "oraclegis", "mssql", "mssqlms", "pyodbc", "ldap",
})
# Settings modules that are for a developer's machine, not production (`config.settings.local`).
_PY_NEWLINE = re.compile(r"\r\n?|\n")  # where Python's tokenizer ends a line
_DEV_MODULE = re.compile(r"(^|[._])(local|dev|develop|development|test|tests|testing|ci)$")
# django-environ's BOOLEAN_TRUE_STRINGS; python-decouple's strtobool true values.
_ENVIRON_TRUE = frozenset({"true", "on", "ok", "y", "yes", "1"})
_DECOUPLE_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_DECOUPLE_FALSE = frozenset({"n", "no", "f", "false", "off", "0", ""})
# Keys of a database's settings that say nothing about where it is.
_HARMLESS_KEYS = frozenset({"CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "OPTIONS", "ATOMIC_REQUESTS", "AUTOCOMMIT", "TEST",
                            "TIME_ZONE", "DISABLE_SERVER_SIDE_CURSORS", "USER", "PASSWORD", "HOST", "PORT"})


# -- values -------------------------------------------------------------------------------------------

class _Unset:
    def __repr__(self) -> str:
        return "<unknown>"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class PathVal:
    """A pathlib.Path (or django-environ Path) value."""

    path: str
    environ: bool = False  # a django-environ Path: `- n` goes up n levels, calling it joins


@dataclass(frozen=True)
class Ref:
    """Something the interpreter knows by name: a module, function or object of the standard library or
    of a settings library ("os.environ.get", "environ.Env()"), or a method bound to a value."""

    name: str
    bound: "V | None" = None
    data: Any = None  # environ.Env(**scheme): the scheme


@dataclass(frozen=True)
class ModuleVal:
    """A project module imported by name (`from . import base`): its names."""

    rel: str
    names: Any  # dict[str, V]


@dataclass(frozen=True)
class V:
    """A value with where it comes from. ``value`` is UNSET when not known (``unknown`` says why)."""

    value: Any = UNSET
    at: Location | None = None  # where it is written (the env var's entry when one sets it)
    chain: tuple[Step, ...] = ()
    claims: tuple[str, ...] = ()  # env vars read to reach it
    variable: str | None = None  # the env var whose whole value this is
    form: str = "path"  # how a path is written in ``variable``
    secret: tuple[str, ...] = ()  # env vars not visible, whose absence (default) this value assumes
    unknown: str | None = None
    truthy: bool | None = None  # the truth of an unknown value, when known (a variable Fly always sets)
    file_based: bool = False  # derived from __file__
    url_path: str | None = None  # a `sqlite:///rel` NAME: the absolute reading, /rel
    raw: str = ""  # an env var's value as set (what `declared` holds)
    argv: bool = False  # an item of sys.argv: the server's command line, which is not a test runner's

    @property
    def known(self) -> bool:
        return self.value is not UNSET


def _parts(parts: Sequence[V]) -> dict[str, Any]:
    chain: list[Step] = []
    claims: list[str] = []
    secret: list[str] = []
    for p in parts:
        chain.extend(p.chain)
        claims.extend(p.claims)
        secret.extend(p.secret)
    return {"chain": _dedupe(chain), "claims": tuple(dict.fromkeys(claims)), "secret": tuple(dict.fromkeys(secret)),
            "file_based": any(p.file_based for p in parts)}


def _dedupe(steps: Sequence[Step]) -> tuple[Step, ...]:
    seen: set[tuple[str, str]] = set()
    out: list[Step] = []
    for s in steps:
        key = (s.text, str(s.at) if s.at is not None else "")
        if key not in seen:
            seen.add(key)
            out.append(s)
    return tuple(out)


def _known(value: Any, at: Location | None, *parts: V, **kw: Any) -> V:
    """A value computed from ``parts`` (all known)."""
    base = _parts(parts)
    base.update(kw)
    return V(value, at, **base)


def _unknown(why: str, at: Location | None, *parts: V, **kw: Any) -> V:
    base = _parts(parts)
    base.update(kw)
    return V(UNSET, at, unknown=why, **base)


def _first_unknown(parts: Sequence[V]) -> V | None:
    return next((p for p in parts if not p.known), None)


def _propagate(bad: V, at: Location | None, *parts: V) -> V:
    """An unknown piece makes the whole unknown, for the same reason. It is declared where the whole is
    written (the NAME value), or where the variable that leaves it unknown is read."""
    where = bad.at if (bad.variable and bad.at is not None) or at is None else at
    return _unknown(bad.unknown or "not known", where, *parts, truthy=None)


def _truth(v: V) -> bool | None:
    """The truth of a value (ignoring whether a secret could change it); None when not known."""
    if not v.known:
        return v.truthy
    value = v.value
    if isinstance(value, (PathVal, Ref, ModuleVal)):
        return True
    if isinstance(value, dict):
        return bool(value)
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - a value of ours always has a truth
        return None


def _plain(value: Any) -> Any:
    """A value without provenance, to compare two branches' results."""
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v.value) if isinstance(v, V) else v) for k, v in value.items()))
    if isinstance(value, tuple):
        return tuple(_plain(v.value) if isinstance(v, V) else v for v in value)
    if isinstance(value, PathVal):
        return ("path", normpath(value.path) if value.path else value.path)
    if isinstance(value, Ref):
        return ("ref", value.name)
    if isinstance(value, ModuleVal):
        return ("module", value.rel)
    return value


def _text(value: Any) -> str | None:
    """A str or path value as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, PathVal):
        return value.path
    return None


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _show(value: Any) -> str:
    if isinstance(value, PathVal):
        return value.path
    return repr(value) if not isinstance(value, str) else value


# -- URLs ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Url:
    kind: str  # SQLITE, SERVER or UNKNOWN
    engine: str | None = None
    name: str | None = None  # SQLite: NAME as the library sets it
    why: str | None = None


def parse_db_url(url: str) -> _Url:
    """What dj-database-url's `parse()` and django-environ's `db_url_config()` make of a URL (see the module doc)."""
    text = url.strip()
    if text == "sqlite://:memory:":
        return _Url(SQLITE, _SQLITE_SCHEMES["sqlite"], ":memory:")
    try:
        split = urllib.parse.urlsplit(text)
    except ValueError:
        return _Url(UNKNOWN, why=f"`{_short(text)}` is not a URL dj-database-url can read")
    scheme = split.scheme.lower()
    if scheme in _SQLITE_SCHEMES:
        name = urllib.parse.unquote(split.path[1:])
        return _Url(SQLITE, _SQLITE_SCHEMES[scheme], name or ":memory:")
    if scheme in _SERVER_SCHEMES:
        return _Url(SERVER, scheme)
    return _Url(UNKNOWN, why=f"dj-database-url and django-environ do not know the scheme of `{_short(text)}`")


def engine_kind(engine: str) -> str:
    """SQLITE for Django's SQLite backends (and SpatiaLite, which is SQLite), else SERVER."""
    low = engine.lower()
    return SQLITE if ("sqlite" in low or "spatialite" in low) else SERVER


def is_dev_module(module: str) -> bool:
    return bool(_DEV_MODULE.search(module))


# -- locations ----------------------------------------------------------------------------------------

class _Source:
    """A Python file of the build context, parsed: locations of its nodes in characters."""

    def __init__(self, rel: str, doc: Document, tree: ast.Module) -> None:
        self.rel = rel
        self.doc = doc
        self.tree = tree
        # Python numbers lines after "\n", "\r\n" and a lone "\r"; its columns count UTF-8 bytes. Findings
        # use flyconf's line model (lines end at "\n" only, columns count characters): convert through offsets.
        self._starts = [0] + [m.end() for m in _PY_NEWLINE.finditer(doc.text)]
        self._bytes: dict[int, bytes] = {}

    def offset(self, line: int, byte_col: int) -> int:
        """The character offset in the text of ast's (line, byte offset in the line)."""
        if not 1 <= line <= len(self._starts):
            return len(self.doc.text)
        start = self._starts[line - 1]
        data = self._bytes.get(line)
        if data is None:
            end = self._starts[line] if line < len(self._starts) else len(self.doc.text)
            data = self.doc.text[start:end].encode("utf-8", errors="surrogatepass")
            self._bytes[line] = data
        return start + len(data[:byte_col].decode("utf-8", errors="replace"))

    def loc(self, node: ast.AST) -> Location:
        start = self.offset(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
        end_line = getattr(node, "end_lineno", None)
        end_col_b = getattr(node, "end_col_offset", None)
        if end_line is None or end_col_b is None:
            return offset_location(self.doc, start)
        return offset_location(self.doc, start, self.offset(end_line, end_col_b))

    def src(self, node: ast.AST) -> str:
        """The source text of a node (ast.get_source_segment splits the whole file on every call)."""
        line: int | None = getattr(node, "lineno", None)
        end_line: int | None = getattr(node, "end_lineno", None)
        start_b: int | None = getattr(node, "col_offset", None)
        end_b: int | None = getattr(node, "end_col_offset", None)
        if line is None or end_line is None or start_b is None or end_b is None \
                or not 1 <= line <= end_line <= len(self._starts):
            return ""
        return self.doc.text[self.offset(line, start_b):self.offset(end_line, end_b)]


def _parse(ctx: Context, rel: str) -> _Source | str | None:
    """The parsed file, a message when it is not Python that parses, or None when absent."""
    doc = ctx.read(rel)
    if doc is None:
        return None
    try:
        tree = ast.parse(doc.text, filename=rel)
    except SyntaxError as exc:
        return f"{rel} is not valid Python (line {exc.lineno}: {exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"{rel} cannot be parsed as Python ({type(exc).__name__})"
    return _Source(rel, doc, tree)


def _span_text(loc: Location) -> str:
    """The text a location covers (for Found.raw)."""
    lines = loc.doc.text.split("\n")
    span = loc.span
    if not 1 <= span.line <= len(lines):
        return ""
    end_line = span.end_line or span.line
    end_col = span.end_column
    if end_col is None:
        return lines[span.line - 1][span.column - 1:]
    if end_line == span.line:
        return lines[span.line - 1][span.column - 1:end_col - 1]
    out = [lines[span.line - 1][span.column - 1:]] + lines[span.line:end_line - 1]
    if end_line - 1 < len(lines):
        out.append(lines[end_line - 1][:end_col - 1])
    return "\n".join(out)


# -- the settings module ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Named:
    """A settings module named somewhere: by the environment, a start command, or a file's setdefault."""

    module: str
    at: Location | None
    step: Step
    file: str | None = None  # the file that names it (manage.py, proj/wsgi.py), if one does
    claims: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The settings module production loads, or why it is not known."""

    named: Named | None
    roots: tuple[str, ...]  # directories dotted names resolve against, best first
    unknown: str | None = None
    declared: Location | None = None  # where to point when it is not known


def _is_environ(node: ast.expr) -> bool:
    """`os.environ` or a bare `environ` (from os import environ)."""
    if isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name):
        return node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def named_in(src: _Source) -> Named | None:
    """The settings module a manage.py/wsgi.py/asgi.py names: `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")`
    or `os.environ["DJANGO_SETTINGS_MODULE"] = "x"`."""
    for node in ast.walk(src.tree):
        value: ast.expr | None = None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault"
                and _is_environ(node.func.value) and len(node.args) == 2):
            key, value = node.args
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript)
              and _is_environ(node.targets[0].value)):
            key, value = node.targets[0].slice, node.value
        else:
            continue
        if (isinstance(key, ast.Constant) and key.value == SETTINGS_VAR and isinstance(value, ast.Constant)
                and isinstance(value.value, str) and value.value.strip()):
            at = src.loc(value)
            module = value.value.strip()
            return Named(module, at, Step(f"settings module `{module}` named in {src.rel}", at), src.rel)
    return None


def _depth(rel: str) -> tuple[int, str]:
    return (rel.count("/"), rel)


def _django_files(ctx: Context, name: str) -> list[str]:
    """Build-context files called ``name`` that mention Django, shallowest first."""
    out = []
    for rel in ctx.glob(f"*{name}"):
        if posixpath.basename(rel) != name or "site-packages" in rel:
            continue
        doc = ctx.read(rel)
        if doc is not None and ("django" in doc.text.lower()):
            out.append(rel)
    return sorted(out, key=_depth)


_CMD_SETTINGS = re.compile(r"(?:--settings[= ]|DJANGO_SETTINGS_MODULE=)[\"']?([A-Za-z_][\w.]*)")
_CMD_APP = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\.(wsgi|asgi)(?::\w+)?(?![\w.])")


def _from_commands(ctx: Context) -> tuple[Named | None, list[str]]:
    """A settings module the start commands name (`--settings=x`, `DJANGO_SETTINGS_MODULE=x gunicorn ...`),
    and the wsgi/asgi modules they serve (`proj.wsgi`)."""
    named: dict[str, Named] = {}
    served: list[str] = []
    try:
        commands = ctx.start_commands()
    except Exception:  # noqa: BLE001 - the commands are a hint; never fatal
        commands = []
    for cmd in commands:
        line = " ".join(cmd.argv)
        for m in _CMD_SETTINGS.finditer(line):
            named.setdefault(m.group(1), Named(m.group(1), cmd.at, Step(
                f"settings module `{m.group(1)}` named by the start command of process group {cmd.group}", cmd.at)))
        for m in _CMD_APP.finditer(line):
            served.append(f"{m.group(1)}.{m.group(2)}")
    return (next(iter(named.values())) if len(named) == 1 else None), served


def _dotted_of(rel: str, root: str) -> str | None:
    """The dotted module name of a file under ``root``."""
    prefix = root.rstrip("/") + "/" if root else ""
    if not rel.startswith(prefix) or not rel.endswith(".py"):
        return None
    parts = rel[len(prefix):-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def module_file(ctx: Context, root: str, dotted: str) -> str | None:
    """The file of a dotted module under ``root`` (`proj.settings` -> proj/settings.py or proj/settings/__init__.py)."""
    parts = dotted.split(".")
    if not all(p.isidentifier() for p in parts):
        return None
    base = posixpath.join(root, *parts) if root else posixpath.join(*parts)
    for rel in (base + ".py", base + "/__init__.py"):
        if ctx.exists(rel):
            return rel
    return None


def find_settings(ctx: Context) -> Settings | None:
    """The settings module of a Django app, or None when the build context is not a Django app."""
    manages = _django_files(ctx, "manage.py")
    servers = _django_files(ctx, "wsgi.py") + _django_files(ctx, "asgi.py")
    roots = [posixpath.dirname(m) for m in manages]
    cmd_named, served = _from_commands(ctx)
    env = ctx.env.get(SETTINGS_VAR)
    if cmd_named is not None:
        return Settings(cmd_named, tuple(dict.fromkeys(roots + [""] + _glob_roots(ctx, cmd_named.module))))
    if env is not None and env.value.strip():
        named = Named(env.value.strip(), env.at, env.step(), claims=(SETTINGS_VAR,))
        return Settings(named, tuple(dict.fromkeys(roots + [""] + _glob_roots(ctx, named.module))))
    candidates: list[tuple[Named, str]] = []  # (named, root)
    for rel in manages + servers:
        src = _parse(ctx, rel)
        if not isinstance(src, _Source):
            continue
        found = named_in(src)
        if found is None:
            continue
        named = replace(found, claims=(SETTINGS_VAR,))
        if rel in manages:
            root = posixpath.dirname(rel)
        else:
            # proj/wsgi.py names proj.settings: the root is where `proj` is
            root = _root_for(ctx, named.module, posixpath.dirname(rel), roots)
        candidates.append((named, root))
    if not candidates:
        if not manages:
            return None  # not a Django app (or not one flyconf can tell)
        doc = ctx.read(manages[0])
        at = location(doc, 1, 1) if doc is not None else None
        return Settings(None, tuple(roots), unknown=f"{SETTINGS_VAR} is not set in fly.toml [env] or the Dockerfile, "
                        f"and {manages[0]} does not name a default settings module", declared=at)
    modules = list(dict.fromkeys(n.module for n, _r in candidates))
    if len(modules) > 1:
        # the server loads the wsgi/asgi module its command names: its setdefault decides
        chosen = [(n, r) for n, r in candidates if n.file in servers
                  and _dotted_of(n.file, r) in served]
        if len({n.module for n, _r in chosen}) != 1:
            chosen = [(n, r) for n, r in candidates if not is_dev_module(n.module)]
        if len({n.module for n, _r in chosen}) != 1:
            first = candidates[0][0]
            listing = ", ".join(f"{n.file} names `{n.module}`" for n, _r in candidates)
            return Settings(None, tuple(roots), unknown=f"{SETTINGS_VAR} is not set in fly.toml [env] or the "
                            f"Dockerfile, and the files that name a default disagree ({listing})", declared=first.at)
        candidates = chosen
    named, root = candidates[0]
    if is_dev_module(named.module):
        return Settings(None, tuple(roots), unknown=f"{SETTINGS_VAR} is not set in fly.toml [env] or the Dockerfile, "
                        f"and the default {named.file} names, `{named.module}`, is a development module: production "
                        f"may set {SETTINGS_VAR} as a secret", declared=named.at)
    step_text = named.step.text + f" ({SETTINGS_VAR} is not set in fly.toml [env] or the Dockerfile)"
    named = replace(named, step=Step(step_text, named.at))
    return Settings(named, tuple(dict.fromkeys([root] + roots + [""])))


def _glob_roots(ctx: Context, module: str) -> list[str]:
    """Directories under which a dotted module's file exists in the build context, shallowest first."""
    path = module.replace(".", "/")
    out: list[str] = []
    for rel in ctx.glob(f"*{path}.py") + ctx.glob(f"*{path}/__init__.py"):
        for tail in (f"{path}.py", f"{path}/__init__.py"):
            if rel == tail:
                out.append("")
            elif rel.endswith("/" + tail):
                out.append(rel[:-len(tail) - 1])
    return sorted(dict.fromkeys(out), key=lambda r: (r.count("/") + (1 if r else 0), r))


def _root_for(ctx: Context, module: str, start: str, roots: list[str]) -> str:
    """The directory under which ``module`` resolves, looking from ``start`` up to the build context."""
    for root in roots:
        if module_file(ctx, root, module) is not None:
            return root
    here = start
    while True:
        if module_file(ctx, here, module) is not None:
            return here
        if not here:
            return roots[0] if roots else ""
        here = posixpath.dirname(here)


# -- the interpreter ----------------------------------------------------------------------------------

class _Raised(Exception):
    """The settings raise here at import (a branch that cannot be taken in production)."""


class _Run:
    """State shared by every settings module of one app: what was read, followed and claimed."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.claims: dict[str, None] = {}
        self.dotenv: dict[str, str] = {}  # variable -> "in .env, which the settings load with load_dotenv()"
        self.steps: list[Step] = []  # imports followed
        self.stack: list[str] = []
        self.read: list[_Source] = []
        self.statements = 0
        self.decouple = False  # python-decouple's .env looked for
        self.modules: dict[str, dict[str, V]] = {}  # modules run once, as Python imports them once

    def claim(self, *names: str) -> None:
        for n in names:
            self.claims[n] = None


_ENV_KEY = "\0env:"  # os.environ entries set by the settings, kept among the names so that branches merge them


class _Interp:
    """Runs one settings module's top-level statements over a namespace."""

    def __init__(self, run: _Run, src: _Source, dotted: str, root: str, ns: dict[str, V], file_v: V) -> None:
        self.run = run
        self.ctx = run.ctx
        self.src = src
        self.dotted = dotted
        self.root = root
        self.ns = ns
        self.file_v = file_v

    # -- statements ---------------------------------------------------------------------------------
    def block(self, body: Sequence[ast.stmt]) -> None:
        for stmt in body:
            self.run.statements += 1
            if self.run.statements > _STATEMENTS:
                raise _Raised("too many statements")
            self.stmt(stmt)

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            value = self.ev(node.value)
            for target in node.targets:
                self.store(target, value, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.store(node.target, self.ev(node.value), node.value)
        elif isinstance(node, ast.AugAssign):
            current = self.ev(_load(node.target))
            value = self.binop(node.op, current, self.ev(node.value), node)
            self.store(node.target, value, node)
        elif isinstance(node, ast.Expr):
            self.expr_stmt(node.value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_(node)
        elif isinstance(node, ast.If):
            self.if_(node)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.try_(node)  # type: ignore[arg-type]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    bound = _unknown("bound by a `with` statement", self.src.loc(item.optional_vars))
                    self.store(item.optional_vars, bound, item.optional_vars)
            self.block(node.body)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.ns[node.name] = V(Ref(f"def:{node.name}"), self.src.loc(node))
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.delete(target)
        elif isinstance(node, ast.Raise):
            raise _Raised(self.src.src(node))
        elif isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal, ast.Assert)):
            return
        else:
            # loops, match: what they change is not followed
            self.clobber(node, f"changed in a `{type(node).__name__.lower()}` statement ({self.src.rel}:{node.lineno}) "
                               "that flyconf does not evaluate")

    def clobber(self, node: ast.AST, why: str) -> None:
        """Make unknown every name (and os.environ entry) a statement may change."""
        at = self.src.loc(node)
        for sub in ast.walk(node):
            target: ast.expr | None = None
            if isinstance(sub, (ast.Name,)) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                self.ns[sub.id] = _unknown(why, at)
                continue
            if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                key = sub.slice
                if isinstance(key, ast.Constant) and key.value in _HARMLESS_KEYS:
                    continue
                target = sub.value
            elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                  and sub.func.attr in ("update", "setdefault", "pop", "clear", "__setitem__")):
                target = sub.func.value
            if target is None:
                continue
            while isinstance(target, ast.Subscript):
                target = target.value
            if _is_environ(target):
                for name in list(self.ns):
                    if name.startswith(_ENV_KEY):
                        self.ns[name] = _unknown(why, at)
                self.ns[_ENV_KEY + "*"] = _unknown(why, at)
            elif isinstance(target, ast.Name):
                self.ns[target.id] = _unknown(why, at)

    def expr_stmt(self, node: ast.expr) -> None:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("update", "setdefault", "pop", "clear")):
            obj = self.ev(node.func.value)
            if isinstance(obj.value, dict) and isinstance(node.func.value, (ast.Name, ast.Subscript)):
                self.mutate(node, obj)
                return
            if not obj.known and _place_root(node.func.value) is not None:
                self.clobber(node, obj.unknown or "not known")
                return
        self.ev(node)

    def mutate(self, node: ast.Call, obj: V) -> None:
        """`X.update(...)`, `X.setdefault(k, v)`, `X.pop(k)` on a dict we hold."""
        assert isinstance(node.func, ast.Attribute)
        attr = node.func.attr
        args = [self.ev(a) for a in node.args]
        d: dict[str, V] = dict(obj.value)
        at = self.src.loc(node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.store(node.func.value, _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at), node)
            return
        if attr == "update":
            for k in node.keywords:
                if k.arg is None:
                    self.store(node.func.value, _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at), node)
                    return
                d[k.arg] = self.ev(k.value)
            for a in args:
                if not a.known:
                    # the update may replace anything: the dict is as unknown as what updates it
                    self.store(node.func.value, _unknown(a.unknown or "not known", a.at or at, obj, a,
                                                         truthy=None), node)
                    return
                if not isinstance(a.value, dict):
                    self.store(node.func.value, _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at),
                               node)
                    return
                if a.secret:
                    d = {k: _with_secret(v, a) for k, v in d.items()}
                d.update({k: _with_secret(v, a) for k, v in a.value.items()})
        elif attr == "setdefault" and args:
            key = args[0]
            if not key.known:
                self.store(node.func.value, _propagate(key, at, obj, key), node)
                return
            d.setdefault(key.value, args[1] if len(args) > 1 else V(None, at))
        elif attr == "pop" and args:
            key = args[0]
            if not key.known:
                self.store(node.func.value, _propagate(key, at, obj, key), node)
                return
            d.pop(key.value, None)
        elif attr == "clear":
            d = {}
        self.store(node.func.value, replace(obj, value=d), node)

    def delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.ns.pop(target.id, None)
        elif isinstance(target, ast.Subscript):
            obj = self.ev(target.value)
            key = self.ev(target.slice)
            if isinstance(obj.value, dict) and key.known:
                d = dict(obj.value)
                d.pop(key.value, None)
                self.store(target.value, replace(obj, value=d), target)
            elif _place_root(target.value) is not None:
                self.clobber(target, f"`del {_short(self.src.src(target))}` is not evaluated")

    def store(self, target: ast.expr, value: V, value_node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.ns[target.id] = self.annotate(target.id, value, value_node)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.value if value.known and isinstance(value.value, tuple) else None
            names = target.elts
            if items is not None and len(items) == len(names) and not any(isinstance(e, ast.Starred) for e in names):
                for elt, item in zip(names, items, strict=False):
                    self.store(elt, item, elt)
            else:
                for elt in names:
                    inner = elt.value if isinstance(elt, ast.Starred) else elt
                    self.store(inner, _unknown(f"unpacked from `{_short(self.src.src(value_node))}`",
                                               self.src.loc(value_node), value), inner)
        elif isinstance(target, ast.Subscript):
            keys: list[V] = []
            cur: ast.expr = target
            while isinstance(cur, ast.Subscript):
                keys.append(self.ev(cur.slice))
                cur = cur.value
            keys.reverse()
            base = self.ev(cur)
            if isinstance(base.value, Ref) and base.value.name == "os.environ":
                if len(keys) == 1 and keys[0].known and isinstance(keys[0].value, str):
                    self.ns[_ENV_KEY + keys[0].value] = self.env_set(keys[0].value, value, target)
                else:
                    self.clobber(target, f"`{_short(self.src.src(target))}` is not evaluated")
                return
            if isinstance(cur, (ast.Name, ast.Attribute, ast.Subscript)) and _place_root(cur) is not None:
                self.store(cur, _set_in(base, keys, value, self.src.loc(target)), target)
        # attributes (`settings.X = ...`, `obj.attr = ...`) change nothing of ours

    def annotate(self, name: str, value: V, value_node: ast.AST) -> V:
        """A name bound to a path built from __file__ (BASE_DIR): say what it is, once."""
        if value.file_based and value.known and name.isupper():
            step = Step(f"{name} = `{_short(self.src.src(value_node))}` is {_show(value.value)}",
                        self.src.loc(value_node))
            return replace(value, chain=_dedupe(value.chain + (step,)))
        return value

    def env_set(self, name: str, value: V, node: ast.AST) -> V:
        """`os.environ["X"] = v` in the settings: X is v from here on, whatever the environment says."""
        self.run.claim(name)
        step = Step(f"{name} is set to `{_short(self.src.src(node))}` by {self.src.rel}", self.src.loc(node))
        return replace(value, chain=_dedupe(value.chain + (step,)), variable=None)

    # -- if / try -----------------------------------------------------------------------------------
    def if_(self, node: ast.If) -> None:
        test = self.ev(node.test)
        truth = _truth(test)
        if truth is not None and not test.secret:
            self.run.claim(*test.claims)
            self.block(node.body if truth else node.orelse)
            return
        self.run.claim(*test.claims)
        if test.secret:
            why = (f"depends on `{_short(self.src.src(node.test))}` ({self.src.rel}:{node.lineno}), and "
                   f"{_names(test.secret)} may be set as a secret")
        else:
            why = (f"depends on `{_short(self.src.src(node.test))}` ({self.src.rel}:{node.lineno}), which flyconf "
                   f"cannot evaluate ({test.unknown or 'not known'})")
        self.branches([node.body, node.orelse], why, self.src.loc(node.test), test)

    def branches(self, bodies: Sequence[Sequence[ast.stmt]], why: str, at: Location, test: V) -> None:
        """Run each body from the same state; names they leave different become unknown."""
        start = dict(self.ns)
        results: list[dict[str, V]] = []
        for body in bodies:
            self.ns = dict(start)
            try:
                self.block(body)
            except _Raised as exc:
                if str(exc) == "too many statements":
                    raise
                continue  # this branch stops the app from starting: production is not there
            results.append(self.ns)
        if not results:
            raise _Raised("every branch raises")
        merged = results[0]
        for other in results[1:]:
            merged = _merge_ns(merged, other, why, at, test)
        self.ns = merged

    def try_(self, node: ast.Try) -> None:
        """`try: from .local import * except ImportError: ...`: the handler runs when the import fails.

        The body runs as written. A handler that catches ImportError runs instead when the body imports
        a project module that is not in the image (absent, kept out by .dockerignore, or not copied),
        and beside the body (the results merged) when whether it is in the image cannot be told. A body
        that reads `os.environ[...]` of a variable flyconf cannot see may raise KeyError: body and
        handlers are merged too.
        """
        start = dict(self.ns)
        maybe = self.import_maybe_absent(node)
        if maybe is not None:
            stmt, why = maybe
            handler = next((h for h in node.handlers if _catches_import_error(h)), None)
            assert handler is not None
            self.branches([list(node.body) + list(node.orelse), handler.body],
                          f"depends on whether {why} (`{_short(self.src.src(stmt))}`, {self.src.rel}:{stmt.lineno})",
                          self.src.loc(stmt), V(None))
            self.block(node.finalbody)
            return
        failed = self.import_fails(node.body)
        if failed is not None:
            self.block(failed)
            handled = self.handlers(node, start_ns=dict(self.ns))
            if not handled:
                self.ns = start  # nothing catches it: the settings do not load; keep what we had
            else:
                self.block(node.finalbody)
            return
        may_raise = any(isinstance(n, ast.Subscript) and _is_environ(n.value) and isinstance(n.ctx, ast.Load)
                        and not self.env_known(n.slice) for s in node.body for n in ast.walk(s))
        if may_raise and node.handlers:
            bodies = [list(node.body) + list(node.orelse)] + [h.body for h in node.handlers]
            self.branches(bodies, f"depends on whether `{_short(self.src.src(node.body[0]))}` raises "
                          f"({self.src.rel}:{node.lineno}), which hangs on a variable that may be set as a secret",
                          self.src.loc(node), V(None))
        else:
            try:
                self.block(node.body)
                self.block(node.orelse)
            except _Raised as exc:
                if str(exc) == "too many statements" or not node.handlers:
                    raise
                self.ns = dict(start)
                self.block(node.handlers[0].body)
        self.block(node.finalbody)

    def env_known(self, key: ast.expr) -> bool:
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and (
            key.value in self.ctx.env or key.value in FLY_RUNTIME or (_ENV_KEY + key.value) in self.ns)

    def import_fails(self, body: Sequence[ast.stmt]) -> list[ast.stmt] | None:
        """The statements of ``body`` before an import of a project module that is not in the image: absent from
        the build context, or kept out of the image (.dockerignore, no COPY) while the settings are in it."""
        for i, stmt in enumerate(body):
            target = self.project_import(stmt)
            if target is not None and self.in_image(target) is False:
                return list(body[:i])
            if isinstance(stmt, ast.ImportFrom) and stmt.level > 0:
                if self.relative_file(stmt.level, stmt.module) is None and not self.relative_names_exist(stmt):
                    return list(body[:i])
            if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
                first = stmt.module.split(".")[0]
                if self.project_has(first) and module_file(self.ctx, self.root, stmt.module) is None:
                    return list(body[:i])
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    first = alias.name.split(".")[0]
                    if self.project_has(first) and module_file(self.ctx, self.root, alias.name) is None:
                        return list(body[:i])
        return None

    def project_import(self, stmt: ast.stmt) -> str | None:
        """The build-context file of the project module an import statement names, when there is one."""
        if isinstance(stmt, ast.ImportFrom):
            if stmt.level > 0:
                found = self.relative_file(stmt.level, stmt.module)
                return found[0] if found is not None else None
            return module_file(self.ctx, self.root, stmt.module) if stmt.module else None
        if isinstance(stmt, ast.Import) and len(stmt.names) == 1:
            return module_file(self.ctx, self.root, stmt.names[0].name)
        return None

    def in_image(self, rel: str) -> bool | None:
        """Whether a build-context file is in the image: None when the image's layout is not known."""
        if dockerignored(self.ctx, rel):
            return False
        if self.ctx.image_path(rel) is not None:
            return True
        return False if self.file_v.known else None

    def import_maybe_absent(self, node: ast.Try) -> tuple[ast.stmt, str] | None:
        """An optional import (`try: from .local import * / except ImportError`) of a project module that may or
        may not be in the image (its layout is not known): both outcomes are followed and merged."""
        if not any(_catches_import_error(h) for h in node.handlers):
            return None
        for stmt in node.body:
            target = self.project_import(stmt)
            if target is not None and self.in_image(target) is None:
                return stmt, f"{target} is in the image"
        return None

    def relative_names_exist(self, stmt: ast.ImportFrom) -> bool:
        """`from . import local`: each name is a module of the package (or something its __init__ defines)."""
        if stmt.module is not None:
            return False
        pkg = self.package(stmt.level)
        if pkg is None:
            return False
        for alias in stmt.names:
            if module_file(self.ctx, self.root, f"{pkg}.{alias.name}" if pkg else alias.name) is None:
                return False
        return True

    def project_has(self, top: str) -> bool:
        return module_file(self.ctx, self.root, top) is not None or self.ctx.exists(
            posixpath.join(self.root, top) + "/__init__.py" if self.root else top + "/__init__.py")

    def handlers(self, node: ast.Try, start_ns: dict[str, V]) -> bool:
        for h in node.handlers:
            if _catches_import_error(h):
                self.ns = start_ns
                self.block(h.body)
                return True
        return False

    # -- imports ------------------------------------------------------------------------------------
    def package(self, level: int) -> str | None:
        """The package a relative import of ``level`` dots starts from."""
        parts = self.dotted.split(".") if self.dotted else []
        if not self.src.rel.endswith("/__init__.py") and self.src.rel != "__init__.py":
            parts = parts[:-1]
        if level - 1 > len(parts):
            return None
        return ".".join(parts[:len(parts) - (level - 1)])

    def relative_file(self, level: int, module: str | None) -> tuple[str, str] | None:
        pkg = self.package(level)
        if pkg is None:
            return None
        dotted = ".".join(p for p in (pkg, module or "") if p)
        if not dotted:
            return None
        rel = module_file(self.ctx, self.root, dotted)
        return (rel, dotted) if rel is not None else None

    def import_(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                project = module_file(self.ctx, self.root, alias.name)
                if alias.asname:
                    if project is not None:
                        self.ns[alias.asname] = self.module_val(project, alias.name, node)
                    else:
                        self.ns[alias.asname] = V(Ref(alias.name), self.src.loc(node))
                else:
                    top = alias.name.split(".")[0]
                    self.ns[top] = V(Ref(top), self.src.loc(node))
            return
        if node.level > 0:
            found = self.relative_file(node.level, node.module)
            if found is None and node.module is None:
                pkg = self.package(node.level)
                for alias in node.names:  # from . import base
                    dotted = f"{pkg}.{alias.name}" if pkg else alias.name
                    rel = module_file(self.ctx, self.root, dotted)
                    if rel is not None:
                        self.ns[alias.asname or alias.name] = self.module_val(rel, dotted, node)
                    else:
                        self.ns[alias.asname or alias.name] = _unknown(
                            f"`{alias.name}` is imported from a module flyconf does not find", self.src.loc(node))
                return
        else:
            mod = node.module or ""
            rel_file = module_file(self.ctx, self.root, mod) if self.project_has(mod.split(".")[0]) else None
            found = (rel_file, mod) if rel_file is not None else None
            if found is None:
                for alias in node.names:
                    if alias.name == "*":
                        continue  # a library's names: none of them is DATABASES
                    self.ns[alias.asname or alias.name] = V(Ref(f"{mod}.{alias.name}"), self.src.loc(node))
                return
        if found is None:
            for alias in node.names:
                if alias.name != "*":
                    self.ns[alias.asname or alias.name] = _unknown(
                        f"`{alias.name}` is imported from a module flyconf does not find", self.src.loc(node))
            return
        rel, dotted = found
        names = self.execute(rel, dotted, node, step=any(a.name == "*" for a in node.names))
        for alias in node.names:
            if alias.name == "*":
                public = names.get("__all__")
                keys = ([k.value for k in public.value if isinstance(k, V) and isinstance(k.value, str)]
                        if public is not None and public.known and isinstance(public.value, tuple)
                        else [k for k in names if not k.startswith(("_", "\0"))])
                for k in keys:
                    if k in names:
                        self.ns[k] = names[k]
                for k, v in names.items():
                    if k.startswith(_ENV_KEY):
                        self.ns[k] = v
            elif alias.name in names:
                self.ns[alias.asname or alias.name] = names[alias.name]
            else:
                sub = module_file(self.ctx, self.root, f"{dotted}.{alias.name}")
                self.ns[alias.asname or alias.name] = (
                    self.module_val(sub, f"{dotted}.{alias.name}", node) if sub is not None else _unknown(
                        f"`{alias.name}` is not defined at the top of {rel}", self.src.loc(node)))

    def module_val(self, rel: str, dotted: str, node: ast.AST) -> V:
        names = self.execute(rel, dotted, node, step=False)
        return V(ModuleVal(rel, names), self.src.loc(node))

    def execute(self, rel: str, dotted: str, node: ast.AST, shared: bool = False, step: bool = True) -> dict[str, V]:
        """Run another project module (a fresh namespace, or this one for split_settings' include).
        ``step``: say so in the chain (star imports and includes compose the settings; other imports do not)."""
        at = self.src.loc(node)
        if not shared and rel in self.run.modules:
            return self.run.modules[rel]
        if rel in self.run.stack or len(self.run.stack) >= _DEPTH or len(self.run.read) >= _MODULES:
            return {"DATABASES": _unknown(f"{rel} is imported too deep (or in a cycle) to follow", at)}
        src = _parse(self.ctx, rel)
        if not isinstance(src, _Source):
            why = src if isinstance(src, str) else f"{rel} cannot be read"
            return {"DATABASES": _unknown(why, at)} if isinstance(src, str) else {}
        if step:
            self.run.steps.append(Step(f"{self.src.rel} imports {rel} (`{_short(self.src.src(node))}`)", at))
        if shared:
            inner = _Interp(self.run, src, dotted, self.root, self.ns, self.file_v)
        else:
            env_entries = {k: v for k, v in self.ns.items() if k.startswith(_ENV_KEY)}
            inner = _Interp(self.run, src, dotted, self.root, env_entries, _file_value(self.ctx, rel, src))
        inner.ns["__file__"] = inner.file_v
        _run_module(self.run, inner)
        if shared:
            self.ns = inner.ns
        else:
            self.run.modules[rel] = inner.ns
        return inner.ns

    # -- expressions --------------------------------------------------------------------------------
    def ev(self, node: ast.expr) -> V:
        try:
            return self._ev(node)
        except RecursionError:
            return _unknown("an expression too deep to read", self.src.loc(node))

    def _ev(self, node: ast.expr) -> V:
        at = self.src.loc(node)
        if isinstance(node, ast.Constant):
            return V(node.value, at)
        if isinstance(node, ast.Name):
            return self.name(node.id, at)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, at)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = [self.ev(e) for e in node.elts if not isinstance(e, ast.Starred)]
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at)
            return V(tuple(items), at)
        if isinstance(node, ast.Dict):
            d: dict[Any, V] = {}
            for k, v in zip(node.keys, node.values, strict=False):
                if k is None:  # {**other}
                    other = self.ev(v)
                    if not (other.known and isinstance(other.value, dict)):
                        return _propagate(other, at, other) if not other.known else _unknown(
                            f"`{_short(self.src.src(node))}` is not evaluated", at)
                    d.update(other.value)
                    continue
                key = self.ev(k)
                if not key.known:
                    return _unknown(f"a key of `{_short(self.src.src(node))}` is not known ({key.unknown})", at, key)
                try:
                    hash(key.value)
                except TypeError:
                    return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at)
                d[key.value] = self.ev(v)
            return V(d, at)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.ev(node.value), node.attr, at)
        if isinstance(node, ast.Subscript):
            return self.subscript(self.ev(node.value), self.ev(node.slice), node, at)
        if isinstance(node, ast.Call):
            return self.call(node, at)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.ev(node.left), self.ev(node.right), node)
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, at)
        if isinstance(node, ast.UnaryOp):
            operand = self.ev(node.operand)
            if isinstance(node.op, ast.Not):
                truth = _truth(operand)
                if truth is None:
                    return _propagate(operand, at, operand)
                return _known(not truth, at, operand)
            if isinstance(node.op, ast.USub) and operand.known and isinstance(operand.value, (int, float)) \
                    and not isinstance(operand.value, bool):
                return _known(-operand.value, at, operand)
            return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, operand)
        if isinstance(node, ast.Compare):
            return self.compare(node, at)
        if isinstance(node, ast.IfExp):
            return self.ifexp(node, at)
        if isinstance(node, ast.NamedExpr):
            value = self.ev(node.value)
            self.store(node.target, value, node.value)
            return value
        return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at)

    def name(self, name: str, at: Location) -> V:
        if name in self.ns:
            return self.ns[name]
        if name == "__file__":
            return self.file_v
        if name in _BUILTINS:
            return V(Ref(f"builtins.{name}"), at)
        return _unknown(f"`{name}` is not defined at the top of the settings", at)

    def fstring(self, node: ast.JoinedStr, at: Location) -> V:
        pieces: list[V] = []
        out: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue):
                return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, *pieces)
            v = self.ev(part.value)
            pieces.append(v)
            if not v.known:
                return _propagate(v, at, *pieces)
            if part.format_spec is not None or part.conversion not in (-1, ord("s")):
                return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, *pieces)
            text = _as_str(v.value)
            if text is None:
                return _unknown(f"`{_short(self.src.src(part.value))}` in `{_short(self.src.src(node))}` is not "
                                "evaluated", at, *pieces)
            out.append(text)
        result = _known("".join(out), _decisive(pieces, at), *pieces)
        if len(node.values) == 1 and pieces and pieces[0].variable:
            return replace(result, variable=pieces[0].variable, at=pieces[0].at or at)
        return result

    def attribute(self, obj: V, attr: str, at: Location) -> V:
        if not obj.known:
            return _propagate(obj, at, obj)
        value = obj.value
        if isinstance(value, Ref):
            if value.name.startswith("def:"):
                return _unknown(f"`{value.name[4:]}.{attr}` is not evaluated", at)
            return V(Ref(f"{value.name}.{attr}", value.bound, value.data), obj.at, claims=obj.claims,
                     secret=obj.secret, chain=obj.chain)
        if isinstance(value, ModuleVal):
            names = value.names
            if attr in names:
                found: V = names[attr]
                return found
            return _unknown(f"`{attr}` is not defined at the top of {value.rel}", at)
        if isinstance(value, PathVal):
            p = value.path
            if attr == "parent":
                return _known(PathVal(posixpath.dirname(p.rstrip("/")) or ("/" if p.startswith("/") else ".")),
                              at, obj)
            if attr == "parents":
                return _known(Ref("Path.parents", obj), at, obj)
            if attr == "name":
                return _known(posixpath.basename(p.rstrip("/")), at, obj)
            return V(Ref(f"Path.{attr}", obj), at, claims=obj.claims, secret=obj.secret)
        if isinstance(value, str):
            return V(Ref(f"str.{attr}", obj), at, claims=obj.claims, secret=obj.secret)
        if isinstance(value, dict):
            return V(Ref(f"dict.{attr}", obj), at, claims=obj.claims, secret=obj.secret)
        return _unknown(f"`.{attr}` is not evaluated", at, obj)

    def subscript(self, obj: V, key: V, node: ast.Subscript, at: Location) -> V:
        if obj.known and isinstance(obj.value, Ref):
            name = obj.value.name
            if name == "os.environ":
                return self.env_read(key, None, node, "os.environ[...]", at, required=True)
            if name == "Path.parents" and obj.value.bound is not None and key.known and isinstance(key.value, int):
                p = obj.value.bound.value.path
                for _ in range(key.value + 1):
                    p = posixpath.dirname(p.rstrip("/")) or "/"
                return _known(PathVal(p), at, obj.value.bound, key)
            if name == "sys.argv":
                return _unknown("the server's command line is not evaluated", at, argv=True)
        if not obj.known:
            return _propagate(obj, at, obj, key)
        if not key.known:
            return _propagate(key, at, obj, key)
        value = obj.value
        if isinstance(value, dict):
            try:
                if key.value in value:
                    item: V = value[key.value]
                    return item
            except TypeError:
                pass
            return _unknown(f"`{_short(self.src.src(node))}` is not set", at, obj, key)
        if isinstance(value, tuple) and isinstance(key.value, int) and not isinstance(key.value, bool):
            if -len(value) <= key.value < len(value):
                element: V = value[key.value]
                return element
        return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, obj, key)

    def boolop(self, node: ast.BoolOp, at: Location) -> V:
        """`a or b`, `a and b` as Python does. A variable that is not visible counts as its default (not set:
        None) and the result remembers it; an operand whose truth is not known leaves the result unknown
        unless a later operand decides it (`x and False` is falsy whatever x is)."""
        is_or = isinstance(node.op, ast.Or)
        secret: list[str] = []
        claims: list[str] = []
        chain: list[Step] = []
        first_var: str | None = None
        pending: V | None = None
        for k, sub in enumerate(node.values):
            v = self.ev(sub)
            claims.extend(v.claims)
            if k == 0 and v.variable and v.secret:
                first_var = v.variable
            last = k == len(node.values) - 1
            truth = _truth(v)
            if truth is None and v.secret and not v.known:
                truth = False  # a variable that is not set: None
            if truth is None:
                pending = pending or v
                secret.extend(v.secret)
                if last:
                    return _unknown(pending.unknown or f"`{_short(self.src.src(node))}` is not evaluated",
                                    pending.at or at, claims=tuple(dict.fromkeys(claims)),
                                    secret=tuple(dict.fromkeys(secret)))
                continue
            stop = truth if is_or else not truth
            if not (stop or last):
                secret.extend(v.secret)
                chain.extend(v.chain)
                if v.secret and v.variable:
                    chain.append(Step(f"{v.variable} is not set in fly.toml [env] or the Dockerfile: the operand after "
                                      f"`{'or' if is_or else 'and'}` is used", v.at))
                continue
            all_secret = tuple(dict.fromkeys(secret + list(v.secret)))
            all_claims = tuple(dict.fromkeys(claims))
            if pending is not None:
                # the value is the pending operand's or this one's: only its truth may be known
                return _unknown(pending.unknown or f"`{_short(self.src.src(node))}` is not evaluated", pending.at or at,
                                claims=all_claims, secret=all_secret, truthy=truth if stop else None)
            out = replace(v, claims=all_claims, secret=all_secret, chain=_dedupe(tuple(chain) + v.chain))
            if k and is_or and first_var and not out.variable:
                out = replace(out, variable=first_var)  # `os.environ.get("X") or "d"`: X still moves it
            return out
        raise AssertionError("unreachable")  # pragma: no cover

    def compare(self, node: ast.Compare, at: Location) -> V:
        left = self.ev(node.left)
        parts = [left]
        result = True
        for op, comp in zip(node.ops, node.comparators, strict=False):
            right = self.ev(comp)
            parts.append(right)
            if isinstance(op, (ast.In, ast.NotIn)) and right.known and isinstance(right.value, Ref):
                name = right.value.name
                if name == "os.environ" and left.known and isinstance(left.value, str):
                    present = self.env_present(left.value, at)
                    parts.append(present)
                    t = _truth(present)
                    if t is None:
                        return _propagate(present, at, *parts)
                    ok = t if isinstance(op, ast.In) else not t
                elif name in ("sys.argv", "sys.modules") and left.known and isinstance(left.value, str) \
                        and "test" in left.value:
                    # `"test" in sys.argv`: the server is not the test runner
                    ok = not isinstance(op, ast.In)
                else:
                    return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, *parts)
            else:
                bad = _first_unknown([left, right])
                if bad is not None:
                    other = right if bad is left else left
                    if (isinstance(op, (ast.Is, ast.IsNot)) and bad.truthy is True and other.known
                            and other.value is None):
                        ok = isinstance(op, ast.IsNot)  # a variable Fly sets is not None
                    elif (bad.argv and isinstance(op, (ast.Eq, ast.NotEq)) and other.known
                          and isinstance(other.value, str) and "test" in other.value):
                        ok = isinstance(op, ast.NotEq)  # `sys.argv[1] == "test"`: the server is not the test runner
                    else:
                        return _propagate(bad, at, *parts)
                else:
                    ok_or_none = _compare(op, left.value, right.value)
                    if ok_or_none is None:
                        return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, *parts)
                    ok = ok_or_none
            if not ok:
                result = False
                break
            left = right
        return _known(result, at, *parts)

    def ifexp(self, node: ast.IfExp, at: Location) -> V:
        test = self.ev(node.test)
        truth = _truth(test)
        if truth is None and test.secret and not test.known:
            truth = False
        if truth is not None:
            v = self.ev(node.body if truth else node.orelse)
            if test.secret:
                return replace(v, secret=tuple(dict.fromkeys(v.secret + test.secret)),
                               claims=tuple(dict.fromkeys(v.claims + test.claims)))
            return replace(v, claims=tuple(dict.fromkeys(v.claims + test.claims)))
        a, b = self.ev(node.body), self.ev(node.orelse)
        if a.known and b.known and _plain(a.value) == _plain(b.value):
            return a
        return _unknown(f"`{_short(self.src.src(node))}` depends on `{_short(self.src.src(node.test))}`, which flyconf "
                        "cannot evaluate", at, test, a, b)

    def binop(self, op: ast.operator, left: V, right: V, node: ast.AST) -> V:
        at = self.src.loc(node)
        bad = _first_unknown([left, right])
        if bad is not None:
            return _propagate(bad, at, left, right)
        a, b = left.value, right.value
        decisive = _decisive([left, right], at)
        if isinstance(op, ast.Div) and (isinstance(a, PathVal) or isinstance(b, PathVal)):
            ta, tb = _text(a), _text(b)
            if ta is None or tb is None:
                return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, left, right)
            return _known(PathVal(_join(ta, tb)), decisive, left, right)
        if isinstance(op, ast.Add) and isinstance(a, str) and isinstance(b, str):
            return _known(a + b, decisive, left, right)
        if isinstance(op, ast.Add) and isinstance(a, tuple) and isinstance(b, tuple):
            return _known(a + b, decisive, left, right)
        if isinstance(op, ast.Sub) and isinstance(a, PathVal) and a.environ and isinstance(b, int) \
                and not isinstance(b, bool) and 0 <= b <= 64:
            p = a.path
            for _ in range(b):
                p = posixpath.dirname(p.rstrip("/")) or "/"
            return _known(PathVal(p, environ=True), decisive, left, right)
        if isinstance(op, ast.BitOr) and isinstance(a, dict) and isinstance(b, dict):
            return _known({**a, **b}, decisive, left, right)
        if isinstance(op, ast.Mod) and isinstance(a, str):
            args = b if isinstance(b, tuple) else (right,)
            texts = [_as_str(x.value) if isinstance(x, V) else None for x in args]
            formatted = _percent(a, texts)
            if formatted is not None:
                return _known(formatted, decisive, left, right)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
                and isinstance(op, (ast.Add, ast.Sub)):
            return _known(a + b if isinstance(op, ast.Add) else a - b, decisive, left, right)
        return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, left, right)

    # -- calls --------------------------------------------------------------------------------------
    def call(self, node: ast.Call, at: Location) -> V:
        func = self.ev(node.func)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at)
        if func.known and isinstance(func.value, PathVal) and func.value.environ:
            return _path_call(self, node, Ref("Path.__call__", func), at)  # root("db.sqlite3")
        if not func.known:
            return _propagate(func, at, func)
        if not isinstance(func.value, Ref):
            return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at, func)
        ref: Ref = func.value
        name = ref.name
        handler = _CALLS.get(name)
        if handler is None and name.startswith("environ.Env()"):
            handler = _ENV_METHODS.get(name[len("environ.Env()"):])
        if handler is None and name.startswith("environs.Env()"):
            handler = _ENVIRONS_METHODS.get(name[len("environs.Env()"):])
        if handler is None and "." in name:
            head, _dot, method = name.rpartition(".")
            if head in ("str", "Path", "dict") and ref.bound is not None:
                handler = _METHODS.get(f"{head}.{method}")
        if handler is None:
            return _unknown(f"`{_short(self.src.src(node))}` is not evaluated", at)
        return handler(self, node, ref, at)

    def args(self, node: ast.Call) -> tuple[list[V], dict[str, V]]:
        return [self.ev(a) for a in node.args], {k.arg: self.ev(k.value) for k in node.keywords if k.arg}

    def env_present(self, name: str, at: Location) -> V:
        """`"X" in os.environ`."""
        self.run.claim(name)
        if (_ENV_KEY + name) in self.ns:
            return _known(True, at, self.ns[_ENV_KEY + name])
        if (_ENV_KEY + "*") in self.ns:
            return self.ns[_ENV_KEY + "*"]
        var = self.ctx.env.get(name)
        if var is not None:
            return V(True, var.at or at, (var.step(),), (name,))
        if name in FLY_RUNTIME:
            return V(True, at, (Step(f"{name} is set by Fly on every Machine"),), (name,))
        if name in self.run.dotenv:
            return _unknown(f"{name} may be set in {self.run.dotenv[name]}", at, claims=(name,), secret=(name,))
        return V(False, at, claims=(name,), secret=(name,))

    def env_read(self, key: V, default: V | None, node: ast.AST, how: str, at: Location, *,
                 required: bool = False, cast: Callable[[V], V] | None = None) -> V:
        """An environment variable's value as the app sees it; ``default`` when it is not set."""
        if not key.known or not isinstance(key.value, str):
            return _unknown(f"`{_short(self.src.src(node))}` reads a variable whose name is not known", at, key)
        name = key.value
        self.run.claim(name)
        read = Step(f"`{_short(self.src.src(node))}` in {self.src.rel}", at)
        cast = cast or (lambda v: v)
        if (_ENV_KEY + name) in self.ns:
            v = self.ns[_ENV_KEY + name]
            return cast(replace(v, chain=_dedupe((read,) + v.chain), claims=tuple(dict.fromkeys((name,) + v.claims))))
        if (_ENV_KEY + "*") in self.ns:
            return _propagate(self.ns[_ENV_KEY + "*"], at)
        var = self.ctx.env.get(name)
        if var is not None:
            return cast(V(var.value, var.at or at, (read, var.step()), (name,), variable=name, raw=var.value))
        if name in FLY_RUNTIME:
            return V(UNSET, at, (read,), (name,), unknown=f"{name} is set by Fly on every Machine; its value is not "
                     "known here", truthy=True)
        if name in self.run.dotenv:
            return _unknown(f"{name} may be set in {self.run.dotenv[name]}", at, claims=(name,), secret=(name,),
                            variable=name, chain=(read,))
        if default is not None:
            step = Step(f"{name} is not set in fly.toml [env] or the Dockerfile: the default of {how} is used",
                        default.at)
            out = cast(default)
            return replace(out, chain=_dedupe((read,) + out.chain + (step,)),
                           claims=tuple(dict.fromkeys((name,) + out.claims)),
                           secret=tuple(dict.fromkeys((name,) + out.secret)), variable=out.variable or name)
        why = (f"{name} is not set in fly.toml [env] or the Dockerfile, and it may be set as a secret"
               + (" (when it is not set, the settings fail to load)" if required else ""))
        return V(UNSET, at, (read,), (name,), variable=name, secret=(name,), unknown=why, truthy=None)

    def db_url(self, url: V, engine: V | None, at: Location, how: str) -> V:
        """The settings dict dj-database-url or django-environ makes of a URL."""
        if not url.known:
            return _unknown(url.unknown or "not known", url.at or at, url, variable=url.variable, form="sqlite:///")
        text = _as_str(url.value)
        if text is None:
            return _unknown(f"{how} is given a value that is not a URL", url.at or at, url)
        if not text.strip():
            return _known({}, url.at or at, url)  # dj-database-url: an empty URL configures nothing
        parsed = parse_db_url(text)
        fields: dict[str, V] = {}
        base = replace(url, chain=_dedupe(url.chain), form="sqlite:///")
        if parsed.kind == UNKNOWN:
            fields["ENGINE"] = _unknown(parsed.why or "not known", url.at or at, url)
        else:
            fields["ENGINE"] = replace(base, value=parsed.engine, variable=None)
            if parsed.kind == SQLITE and parsed.name is not None:
                step = Step(f"{how} reads `{_short(text)}` as the SQLite file `{parsed.name}`", url.at or at)
                url_path = "/" + parsed.name if not parsed.name.startswith("/") and parsed.name != ":memory:" else None
                fields["NAME"] = replace(base, value=parsed.name, chain=_dedupe(base.chain + (step,)),
                                         url_path=url_path)
        if engine is not None:
            if not engine.known:
                fields["ENGINE"] = engine
            elif engine.value:
                fields["ENGINE"] = engine
        return V(fields, at, url.chain, url.claims, secret=url.secret)

    def dotenv(self, path: V | None, loader: str, node: ast.AST) -> V:
        """A .env file the settings load: the variables it sets may be set, with values flyconf does not take."""
        candidates: list[str] = []
        if path is not None and path.known and _text(path.value):
            given = _text(path.value) or ""
            image = resolve(given, self.ctx.workdir)  # a relative path is relative to the working directory
            rel = self.ctx.context_file(image) if image is not None else None
            if rel is not None:
                candidates.append(rel)
            elif not given.startswith("/"):
                candidates.append(posixpath.normpath(given))
        if not candidates:
            here = posixpath.dirname(self.src.rel)
            while True:
                candidates.append(posixpath.join(here, ".env") if here else ".env")
                if not here:
                    break
                here = posixpath.dirname(here)
        for rel in candidates:
            doc = self.ctx.read(rel)
            if doc is None:
                continue
            for m in re.finditer(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=", doc.text, re.M):
                self.run.dotenv.setdefault(m.group(1), f"{rel}, which the settings load with {loader}")
            break
        return V(None, self.src.loc(node))


def _with_secret(v: V, source: V) -> V:
    if not source.secret:
        return v
    return replace(v, secret=tuple(dict.fromkeys(v.secret + source.secret)),
                   claims=tuple(dict.fromkeys(v.claims + source.claims)))


def _load(target: ast.expr) -> ast.expr:
    """An assignment target read as an expression (for `x += ...`)."""
    if isinstance(target, ast.Name):
        return ast.copy_location(ast.Name(target.id, ast.Load()), target)
    if isinstance(target, ast.Subscript):
        return ast.copy_location(ast.Subscript(_load(target.value), target.slice, ast.Load()), target)
    if isinstance(target, ast.Attribute):
        return ast.copy_location(ast.Attribute(_load(target.value), target.attr, ast.Load()), target)
    return target


def _place_root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _set_in(base: V, keys: Sequence[V], value: V, at: Location) -> V:
    """``base`` with ``base[k0][k1]... = value`` (a copy: the dicts of earlier values are not changed)."""
    if not keys:
        return value
    key = keys[0]
    if not base.known:
        return base
    if not isinstance(base.value, dict):
        return _unknown("an item is set on a value that is not a dict", at, base)
    if not key.known:
        return _unknown(f"an item is set under a key that is not known ({key.unknown})", at, base, key)
    d = dict(base.value)
    try:
        current = d.get(key.value)
    except TypeError:
        return _unknown("an item is set under a key that is not known", at, base)
    if len(keys) == 1:
        d[key.value] = value
    else:
        d[key.value] = _set_in(current if current is not None else _unknown("not set", at), keys[1:], value, at)
    return replace(base, value=d)


def _merge(a: V, b: V, why: str, at: Location, test: V) -> V:
    """One value from two branches: the same value stays; different ones are unknown."""
    if a is b:
        return a
    if a.known and b.known and isinstance(a.value, dict) and isinstance(b.value, dict):
        keys = list(dict.fromkeys(list(a.value) + list(b.value)))
        d: dict[Any, V] = {}
        for k in keys:
            if k in a.value and k in b.value:
                d[k] = _merge(a.value[k], b.value[k], why, at, test)
            else:
                present = a.value.get(k) or b.value.get(k)
                assert present is not None
                d[k] = _unknown(f"set only in one branch: {why}", at, present, test,
                                secret=tuple(dict.fromkeys(present.secret + test.secret)))
        return replace(a, value=d, claims=tuple(dict.fromkeys(a.claims + b.claims + test.claims)))
    if a.known and b.known and _plain(a.value) == _plain(b.value):
        return replace(a, claims=tuple(dict.fromkeys(a.claims + b.claims + test.claims)),
                       secret=tuple(dict.fromkeys(a.secret + b.secret)))
    return _unknown(why, at, a, b, test, variable=None)


def _merge_ns(a: dict[str, V], b: dict[str, V], why: str, at: Location, test: V) -> dict[str, V]:
    out: dict[str, V] = {}
    for k in dict.fromkeys(list(a) + list(b)):
        if k in a and k in b:
            out[k] = _merge(a[k], b[k], why, at, test)
        else:
            present = a.get(k) or b.get(k)
            assert present is not None
            out[k] = _unknown(f"set only in one branch: {why}", at, present, test)
    return out


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = _exc_names(handler.type)
    return not names or bool(names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def dockerignored(ctx: Context, rel: str) -> bool:
    """Whether the build context's .dockerignore keeps ``rel`` out of the build (the core's matcher)."""
    return ctx.dockerignored(rel) is not None


def _exc_names(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Tuple):
        return set().union(*(_exc_names(e) for e in node.elts))
    return {"?"}


def _names(names: Sequence[str]) -> str:
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def _decisive(pieces: Sequence[V], at: Location) -> Location:
    """Of the pieces of a built value, a visible env var that sets one (where a fix belongs), else the whole."""
    for p in pieces:
        if p.variable and not p.secret and p.at is not None:
            return p.at
    return at


def _as_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, PathVal):
        return value.path
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    return None


def _join(a: str, b: str) -> str:
    return posixpath.join(a, b) if a else b


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool | None:
    a, b = _plain(a), _plain(b)
    try:
        if isinstance(op, ast.Eq):
            return bool(a == b)
        if isinstance(op, ast.NotEq):
            return bool(a != b)
        if isinstance(op, ast.Is):
            return (a is None and b is None) or (isinstance(a, bool) and a is b)
        if isinstance(op, ast.IsNot):
            return not ((a is None and b is None) or (isinstance(a, bool) and a is b))
        if isinstance(op, (ast.In, ast.NotIn)):
            if isinstance(b, str) and isinstance(a, str):
                found = a in b
            elif isinstance(b, tuple):
                found = a in b
            else:
                return None
            return found if isinstance(op, ast.In) else not found
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if isinstance(op, ast.Lt):
                return a < b
            if isinstance(op, ast.LtE):
                return a <= b
            if isinstance(op, ast.Gt):
                return a > b
            if isinstance(op, ast.GtE):
                return a >= b
    except Exception:  # noqa: BLE001 - comparing plain values of ours
        return None
    return None


def _percent(fmt: str, args: Sequence[str | None]) -> str | None:
    """`"sqlite:///%s" % path` with `%s` and `%%` only."""
    out: list[str] = []
    i = 0
    k = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        nxt = fmt[i + 1:i + 2]
        if nxt == "%":
            out.append("%")
        elif nxt == "s" and k < len(args) and args[k] is not None:
            out.append(args[k] or "")
            k += 1
        else:
            return None
        i += 2
    return "".join(out) if k == len(args) else None


def _file_value(ctx: Context, rel: str, src: _Source) -> V:
    """`__file__`: where the settings file is in the image."""
    image = ctx.image_path(rel)
    at = location(src.doc, 1, 1)
    if image is None:
        return V(UNSET, at, unknown=f"where {rel} is in the image is not known (no COPY of the Dockerfile puts it "
                 "there, or the image is not built from a Dockerfile flyconf reads), so paths built from __file__ "
                 "(BASE_DIR) are not known", file_based=True)
    return V(image, at, (Step(f"{rel} is {image} in the image (its __file__)"),), file_based=True)


def _run_module(run: _Run, interp: _Interp) -> None:
    run.stack.append(interp.src.rel)
    run.read.append(interp.src)
    try:
        interp.block(interp.src.tree.body)
    except _Raised as exc:
        interp.ns["\0raised"] = _unknown(f"{interp.src.rel} raises at import (`{_short(str(exc))}`)",
                                         location(interp.src.doc, 1, 1))
    finally:
        run.stack.pop()


# -- calls the interpreter knows ----------------------------------------------------------------------

_Handler = Callable[[_Interp, ast.Call, Ref, Location], V]


def _first_arg(it: _Interp, node: ast.Call, kw: str | None = None) -> V | None:
    if node.args:
        return it.ev(node.args[0])
    for k in node.keywords:
        if k.arg == kw:
            return it.ev(k.value)
    return None


def _arg(it: _Interp, node: ast.Call, index: int, kw: str) -> V | None:
    if len(node.args) > index:
        return it.ev(node.args[index])
    for k in node.keywords:
        if k.arg == kw:
            return it.ev(k.value)
    return None


def _h_environ_get(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    key = _arg(it, node, 0, "key")
    default = _arg(it, node, 1, "default")
    if key is None:
        return _unknown("`os.environ.get()` without a name", at)
    how = "os.getenv" if ref.name.endswith("getenv") else "os.environ.get"
    if default is None:
        default = V(None, at)
    return it.env_read(key, default, node, how, at)


def _h_environ_setdefault(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    key = _arg(it, node, 0, "key")
    default = _arg(it, node, 1, "default") or V(None, at)
    if key is None or not key.known or not isinstance(key.value, str):
        return _unknown("`os.environ.setdefault(...)` of a name that is not known", at)
    value = it.env_read(key, default, node, "os.environ.setdefault", at)
    if key.value not in it.ctx.env and (_ENV_KEY + key.value) not in it.ns and key.value not in FLY_RUNTIME:
        it.ns[_ENV_KEY + key.value] = value  # later reads see the default (or the secret)
    return value


def _h_environ_update(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    it.clobber(node, f"os.environ is changed by `{_short(it.src.src(node))}`")
    return V(None, at)


def _h_path(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    args, _kw = it.args(node)
    if not args:
        return _known(PathVal("."), at)
    bad = _first_unknown(args)
    if bad is not None:
        return _propagate(bad, at, *args)
    texts = [_text(a.value) for a in args]
    if any(t is None for t in texts):
        return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, *args)
    path = texts[0] or ""
    for t in texts[1:]:
        path = _join(path, t or "")
    out = _known(PathVal(path), at, *args)
    if len(args) == 1 and args[0].variable:
        out = replace(out, variable=args[0].variable, at=args[0].at or at, form=args[0].form)
    return out


def _h_environ_path(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """django-environ's `environ.Path(x, is_file=...)`: a directory path (`- n` goes up n levels)."""
    args, kw = it.args(node)
    out = _h_path(it, node, ref, at)
    is_file = kw.get("is_file")
    if out.known and isinstance(out.value, PathVal):
        path = out.value.path
        if is_file is not None and _truth(is_file):
            path = posixpath.dirname(path)
        out = replace(out, value=PathVal(path, environ=True))
    return out


def _h_cwd(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    workdir = it.ctx.workdir
    if workdir is None:
        return _unknown("the working directory is not known", at)
    step = Step(f"`{_short(it.src.src(node))}` is the working directory {workdir}")
    value: Any = PathVal(workdir) if ref.name.startswith("pathlib") else workdir
    return V(value, at, (step,))


def _h_home(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    return _unknown("the home directory of the server's user is not known", at)


def _h_str(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    v = _first_arg(it, node)
    if v is None:
        return _known("", at)
    if not v.known:
        return _propagate(v, at, v)
    text = _as_str(v.value)
    if text is None:
        return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, v)
    out = _known(text, at, v)
    if v.variable:
        out = replace(out, variable=v.variable, at=v.at or at, form=v.form, url_path=v.url_path)
    return out


def _h_bool(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    v = _first_arg(it, node)
    if v is None:
        return _known(False, at)
    truth = _truth(v)
    if truth is None:
        return _propagate(v, at, v)
    return _known(truth, at, v)


def _h_int(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    v = _first_arg(it, node)
    if v is None:
        return _known(0, at)
    if not v.known:
        return _propagate(v, at, v)
    text = _as_str(v.value)
    if text is None or not re.fullmatch(r"\s*[+-]?[0-9]{1,18}\s*", text):
        return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, v)
    return _known(int(text), at, v)


def _h_dict(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    args, kw = it.args(node)
    d: dict[Any, V] = {}
    if args:
        if len(args) > 1 or not (args[0].known and isinstance(args[0].value, dict)):
            return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, *args)
        d.update(args[0].value)
    d.update(kw)
    return V(d, at)


def _os_path(fn: Callable[..., str | None]) -> _Handler:
    def handler(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
        args, _kw = it.args(node)
        bad = _first_unknown(args)
        if bad is not None:
            return _propagate(bad, at, *args)
        texts = [_text(a.value) for a in args]
        if not args or any(t is None for t in texts):
            return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, *args)
        result = fn(it, *texts)
        if result is None:
            return _unknown(f"`{_short(it.src.src(node))}` is relative to a working directory that is not known", at,
                            *args)
        out = _known(result, _decisive(args, at), *args)
        if len(args) == 1 and args[0].variable and fn is _abspath:
            out = replace(out, variable=args[0].variable)
        return out
    return handler


def _abspath(it: _Interp, p: str) -> str | None:
    if p.startswith("/"):
        return normpath(p)
    return resolve(p, it.ctx.workdir)


def _pjoin(it: _Interp, *parts: str) -> str:
    return posixpath.join(*parts)


def _dirname(it: _Interp, p: str) -> str:
    return posixpath.dirname(p)


def _normpath(it: _Interp, p: str) -> str:
    return posixpath.normpath(p)


def _basename(it: _Interp, p: str) -> str:
    return posixpath.basename(p)


def _expanduser(it: _Interp, p: str) -> str | None:
    return p if not p.startswith("~") else None


def _h_fspath(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    return _h_str(it, node, ref, at)


def _h_dj_config(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """`dj_database_url.config(env="DATABASE_URL", default=None, engine=None, ...)`."""
    env_name = _arg(it, node, 0, "env") or V("DATABASE_URL", at)
    default = _arg(it, node, 1, "default")
    engine = _arg(it, node, 2, "engine")
    url = it.env_read(env_name, default, node, "dj_database_url.config", at)
    if url.secret and (not url.known or url.value is None) and url.variable and url.variable not in it.run.dotenv:
        url = replace(url, value=UNSET, unknown=f"{url.variable} is not set in fly.toml [env] or the Dockerfile and "
                      "may be set as a secret (without it dj_database_url.config() configures no database)")
    elif url.known and url.value is None:
        return _known({}, at, url)
    return it.db_url(url, engine, at, "dj-database-url")


def _h_dj_parse(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    url = _arg(it, node, 0, "url")
    engine = _arg(it, node, 1, "engine")
    if url is None:
        return _unknown("`dj_database_url.parse()` without a URL", at)
    return it.db_url(url, engine, at, "dj-database-url")


def _h_env_obj(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """`environ.Env(DEBUG=(bool, False), ...)`: an Env object with its scheme."""
    _args, kw = it.args(node)
    scheme: dict[str, V] = {}
    for name, v in kw.items():
        if v.known and isinstance(v.value, tuple) and len(v.value) == 2:
            scheme[name] = v.value[1]
    return V(Ref("environ.Env()", data=scheme), at)


def _environ_value(it: _Interp, node: ast.Call, ref: Ref, at: Location, cast: Callable[[V], V] | None,
                   how: str, default_var: str | None = None, positional_default: bool = True) -> V:
    """A django-environ (or environs) read: `env.str("X", default=...)`; the default may also come second."""
    key = _arg(it, node, 0, "var") or _arg(it, node, 0, "name")
    if key is None and default_var is not None:
        key = V(default_var, at)
    if key is None:
        return _unknown(f"`{_short(it.src.src(node))}` without a name", at)
    default = None
    for k in node.keywords:
        if k.arg == "default":
            default = it.ev(k.value)
    if default is None and len(node.args) > 1 and positional_default:
        default = it.ev(node.args[1])
    if default is None and key.known and isinstance(ref.data, dict) and key.value in ref.data:
        default = ref.data[key.value]
    return it.env_read(key, default, node, how, at, required=default is None, cast=cast)


def _cast_environ_bool(v: V) -> V:
    if not v.known:
        return v
    if isinstance(v.value, bool):
        return v
    text = _as_str(v.value)
    if text is None:
        return replace(v, value=UNSET, unknown="not a boolean")
    return replace(v, value=text.strip().lower() in _ENVIRON_TRUE)


def _h_env_call(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    cast_v = _arg(it, node, 1, "cast")
    cast = None
    if cast_v is not None and cast_v.known and isinstance(cast_v.value, Ref):
        if cast_v.value.name == "builtins.bool":
            cast = _cast_environ_bool
    return _environ_value(it, node, ref, at, cast, "env()", positional_default=False)  # env(var, cast, default)


def _h_env_str(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    return _environ_value(it, node, ref, at, None, "env.str")


def _h_env_bool(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    return _environ_value(it, node, ref, at, _cast_environ_bool, "env.bool")


def _h_env_int(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    return _environ_value(it, node, ref, at, None, "env.int")


def _h_env_path(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    def to_path(v: V) -> V:
        text = _text(v.value) if v.known else None
        return replace(v, value=PathVal(text)) if text is not None else v
    return _environ_value(it, node, ref, at, to_path, "env.path")


def _h_env_db(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    engine = _arg(it, node, 2, "engine")
    url = _environ_value(it, node, ref, at, None, "env.db", default_var="DATABASE_URL")
    if not url.known and url.secret and url.variable and url.variable not in it.run.dotenv:
        url = replace(url, unknown=f"{url.variable} is not set in fly.toml [env] or the Dockerfile and may be set as a "
                      "secret")
    return it.db_url(url, engine, at, "django-environ")


def _h_environs_call(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    return _environ_value(it, node, ref, at, None, "env()")  # environs: env(name, default)


def _h_environs_db(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """environs' `env.dj_db_url("DATABASE_URL", default=...)`: dj_database_url.parse of the value."""
    url = _environ_value(it, node, ref, at, None, "env.dj_db_url")
    if not url.known and url.secret and url.variable and url.variable not in it.run.dotenv:
        url = replace(url, unknown=f"{url.variable} is not set in fly.toml [env] or the Dockerfile and may be set as a "
                      "secret")
    return it.db_url(url, None, at, "dj-database-url")


def _h_read_env(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    path = _first_arg(it, node, "env_file") if not ref.name.startswith("environs") else _first_arg(it, node, "path")
    loader = "environs' read_env()" if ref.name.startswith("environs") else "django-environ's read_env()"
    return it.dotenv(path, loader, node)


def _h_load_dotenv(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    path = _first_arg(it, node, "dotenv_path")
    if path is not None and path.known and isinstance(path.value, Ref):
        path = None  # load_dotenv(find_dotenv())
    return it.dotenv(path, "load_dotenv()", node)


def _h_decouple(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """python-decouple's `config("X", default=..., cast=...)`: os.environ, then .env / settings.ini, then the
    default."""
    if not it.run.decouple:
        it.run.decouple = True
        it.dotenv(None, "python-decouple's config()", node)
    key = _arg(it, node, 0, "option")
    default = None
    cast_v = None
    for k in node.keywords:
        if k.arg == "default":
            default = it.ev(k.value)
        elif k.arg == "cast":
            cast_v = it.ev(k.value)
    if key is None:
        return _unknown("`config()` without a name", at)
    cast_name = cast_v.value.name if cast_v is not None and cast_v.known and isinstance(cast_v.value, Ref) else None

    def cast(v: V) -> V:
        if not v.known or cast_name is None:
            return v
        if cast_name == "builtins.bool":
            if isinstance(v.value, bool):
                return v
            text = (_as_str(v.value) or "").strip().lower()
            if text in _DECOUPLE_TRUE:
                return replace(v, value=True)
            if text in _DECOUPLE_FALSE:
                return replace(v, value=False)
            return replace(v, value=UNSET, unknown=f"`{text}` is not a boolean for python-decouple")
        if cast_name in ("builtins.str",):
            return replace(v, value=_as_str(v.value)) if _as_str(v.value) is not None else v
        if cast_name in ("dj_database_url.parse", "dj_database_url.config"):
            return v  # parsed below
        return replace(v, value=UNSET, unknown=f"`{cast_name}` casts are not evaluated")

    value = it.env_read(key, default, node, "python-decouple's config()", at, required=default is None, cast=cast)
    if cast_name in ("dj_database_url.parse", "dj_database_url.config"):
        return it.db_url(value, None, at, "dj-database-url")
    return value


def _h_include(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """django-split-settings' `include("components/*.py", optional("local.py"))`: files run in this namespace."""
    here = posixpath.dirname(it.src.rel)
    for arg in node.args:
        optional = False
        inner = arg
        if (isinstance(arg, ast.Call) and isinstance(arg.func, (ast.Name, ast.Attribute))
                and (getattr(arg.func, "id", None) == "optional" or getattr(arg.func, "attr", None) == "optional")
                and arg.args):
            optional, inner = True, arg.args[0]
        pattern = it.ev(inner)
        if not pattern.known or not isinstance(pattern.value, str):
            it.clobber(node, f"`{_short(it.src.src(node))}` includes files flyconf cannot name")
            return V(None, at)
        rel_pattern = posixpath.normpath(posixpath.join(here, pattern.value))
        files = [f for f in it.ctx.glob(rel_pattern) if f.endswith(".py")] if any(c in rel_pattern for c in "*?[") \
            else ([rel_pattern] if it.ctx.exists(rel_pattern) else [])
        if not files and not optional:
            continue  # split-settings raises: the app would not start; nothing to read here
        for rel in files:
            it.execute(rel, _dotted_of(rel, it.root) or it.dotted, arg, shared=True)
    return V(None, at)


def _h_optional(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    v = _first_arg(it, node)
    return v if v is not None else V(None, at)


def _h_django_heroku(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """`django_heroku.settings(locals())` sets DATABASES['default'] from DATABASE_URL when it is set."""
    url = it.env_read(V("DATABASE_URL", at), V(None, at), node, "django_heroku.settings", at)
    current = it.ns.get("DATABASES")
    if url.known and url.value is None and url.secret:
        if current is not None:
            why = "DATABASE_URL is not set in fly.toml [env] or the Dockerfile and may be set as a secret, which " \
                  "django_heroku.settings() would use"
            it.ns["DATABASES"] = _unknown(why, at, current, url)
        return V(None, at)
    if url.known and url.value:
        db = it.db_url(url, None, at, "dj-database-url")
        base = current if current is not None and current.known and isinstance(current.value, dict) else V({}, at)
        it.ns["DATABASES"] = _set_in(base, [V("default", at)], db, at)
    return V(None, at)


def _h_str_method(method: str) -> _Handler:
    def handler(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
        assert ref.bound is not None
        obj = ref.bound
        args, kw = it.args(node)
        bad = _first_unknown([obj, *args])
        if bad is not None:
            return _propagate(bad, at, obj, *args)
        s: str = obj.value
        texts = [_as_str(a.value) if isinstance(a.value, (str, int)) else None for a in args]
        if method in ("lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title"):
            if method in ("strip", "lstrip", "rstrip") and texts:
                if texts[0] is None:
                    return _unknown("not evaluated", at, obj, *args)
                result: Any = getattr(s, method)(texts[0])
            else:
                result = getattr(s, method)()
        elif method in ("startswith", "endswith") and len(args) == 1:
            if isinstance(args[0].value, tuple):
                opts = tuple(_as_str(x.value) for x in args[0].value)
                if any(o is None for o in opts):
                    return _unknown("not evaluated", at, obj, *args)
                result = getattr(s, method)(opts)
            elif texts[0] is not None:
                result = getattr(s, method)(texts[0])
            else:
                return _unknown("not evaluated", at, obj, *args)
        elif method == "replace" and len(args) == 2 and all(t is not None for t in texts):
            result = s.replace(texts[0] or "", texts[1] or "")
        elif method == "split" and len(args) <= 1 and len(s) < 10000:
            sep = texts[0] if args else None
            result = tuple(V(p, at) for p in (s.split(sep) if sep else s.split()))
        elif method == "format" and not kw and all(t is not None for t in texts):
            formatted = _format(s, [t or "" for t in texts])
            if formatted is None:
                return _unknown("not evaluated", at, obj, *args)
            result = formatted
        else:
            return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, obj, *args)
        return _known(result, _decisive([obj, *args], at), obj, *args)
    return handler


def _format(fmt: str, args: list[str]) -> str | None:
    """`"{}/db.sqlite3".format(x)`: positional `{}`/`{0}` fields only (no attribute, index or spec)."""
    out: list[str] = []
    auto = 0
    try:
        for literal, field_name, spec, conv in string.Formatter().parse(fmt):
            out.append(literal)
            if field_name is None:
                continue
            if spec or conv:
                return None
            if field_name == "":
                index = auto
                auto += 1
            elif ascii_int(field_name) is not None:
                index = int(field_name)
            else:
                return None
            if index >= len(args):
                return None
            out.append(args[index])
    except ValueError:
        return None
    return "".join(out)


def _h_path_method(method: str) -> _Handler:
    def handler(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
        assert ref.bound is not None
        obj = ref.bound
        args, _kw = it.args(node)
        bad = _first_unknown([obj, *args])
        if bad is not None:
            return _propagate(bad, at, obj, *args)
        p: str = obj.value.path
        if method in ("resolve", "absolute"):
            if not p.startswith("/"):
                base = it.ctx.workdir
                if base is None:
                    return _unknown(f"`{_short(it.src.src(node))}` is relative to a working directory that is not "
                                    "known", at, obj)
                p = posixpath.join(base, p)
            return _known(PathVal(normpath(p)), at, obj, *args)
        if method == "joinpath":
            texts = [_text(a.value) for a in args]
            if any(t is None for t in texts):
                return _unknown("not evaluated", at, obj, *args)
            for t in texts:
                p = _join(p, t or "")
            return _known(PathVal(p), _decisive([obj, *args], at), obj, *args)
        if method in ("as_posix", "__str__"):
            return _known(p, at, obj)
        if method == "expanduser":
            return _known(PathVal(p), at, obj) if not p.startswith("~") else _h_home(it, node, ref, at)
        return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, obj, *args)
    return handler



def _h_dict_get(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    assert ref.bound is not None
    obj = ref.bound
    args, _kw = it.args(node)
    if not args:
        return _unknown("not evaluated", at)
    key = args[0]
    if not key.known:
        return _propagate(key, at, key)
    d = obj.value
    try:
        if key.value in d:
            entry: V = d[key.value]
            return entry
    except TypeError:
        return _unknown("not evaluated", at)
    return args[1] if len(args) > 1 else V(None, at)


def _h_dict_copy(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    assert ref.bound is not None
    return ref.bound


_BUILTINS = frozenset({"str", "bool", "int", "dict", "print", "len", "list", "tuple", "open", "getattr", "isinstance",
                       "locals", "globals"})

_CALLS: dict[str, _Handler] = {
    "os.environ.get": _h_environ_get,
    "os.getenv": _h_environ_get,
    "os.environ.setdefault": _h_environ_setdefault,
    "os.environ.update": _h_environ_update,
    "os.path.join": _os_path(_pjoin),
    "os.path.dirname": _os_path(_dirname),
    "os.path.abspath": _os_path(_abspath),
    "os.path.realpath": _os_path(_abspath),
    "os.path.normpath": _os_path(_normpath),
    "os.path.basename": _os_path(_basename),
    "os.path.expanduser": _os_path(_expanduser),
    "os.fspath": _h_fspath,
    "os.getcwd": _h_cwd,
    "pathlib.Path": _h_path,
    "pathlib.PurePath": _h_path,
    "pathlib.PosixPath": _h_path,
    "pathlib.PurePosixPath": _h_path,
    "pathlib.Path.cwd": _h_cwd,
    "pathlib.Path.home": _h_home,
    "builtins.str": _h_str,
    "builtins.bool": _h_bool,
    "builtins.int": _h_int,
    "builtins.dict": _h_dict,
    "dj_database_url.config": _h_dj_config,
    "dj_database_url.parse": _h_dj_parse,
    "environ.Env": _h_env_obj,
    "environ.Path": _h_environ_path,
    "environs.Env": lambda it, node, ref, at: V(Ref("environs.Env()"), at),
    "environ.Env.read_env": _h_read_env,
    "decouple.config": _h_decouple,
    "decouple.AutoConfig": lambda it, node, ref, at: V(Ref("decouple.config"), at),
    "dotenv.load_dotenv": _h_load_dotenv,
    "dotenv.read_dotenv": _h_load_dotenv,
    "split_settings.tools.include": _h_include,
    "split_settings.tools.optional": _h_optional,
    "django_heroku.settings": _h_django_heroku,
}
_ENV_METHODS: dict[str, _Handler] = {
    "": _h_env_call,
    ".str": _h_env_str,
    ".bool": _h_env_bool,
    ".int": _h_env_int,
    ".path": _h_env_path,
    ".db": _h_env_db,
    ".db_url": _h_env_db,
    ".read_env": _h_read_env,
}
# environs (`from environs import Env`): the same reads; `env(name, default)`, and `dj_db_url` for databases.
_ENVIRONS_METHODS: dict[str, _Handler] = {
    "": _h_environs_call,
    ".str": _h_env_str,
    ".bool": _h_env_bool,
    ".int": _h_env_int,
    ".path": _h_env_path,
    ".dj_db_url": _h_environs_db,
    ".read_env": _h_read_env,
}
_METHODS: dict[str, _Handler] = {
    **{f"str.{m}": _h_str_method(m) for m in ("lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title",
                                               "startswith", "endswith", "replace", "split", "format")},
    **{f"Path.{m}": _h_path_method(m) for m in ("resolve", "absolute", "joinpath", "as_posix", "expanduser",
                                                 "__str__")},
    "dict.get": _h_dict_get,
    "dict.copy": _h_dict_copy,
}


def _path_call(it: _Interp, node: ast.Call, ref: Ref, at: Location) -> V:
    """Calling a django-environ Path (`root("db.sqlite3")`) joins and gives a str; `.path(...)` gives a Path."""
    assert ref.bound is not None
    obj = ref.bound
    if not (isinstance(obj.value, PathVal) and obj.value.environ):
        return _unknown(f"`{_short(it.src.src(node))}` is not evaluated", at, obj)
    args, _kw = it.args(node)
    bad = _first_unknown([obj, *args])
    if bad is not None:
        return _propagate(bad, at, obj, *args)
    p = obj.value.path
    for a in args:
        t = _text(a.value)
        if t is None:
            return _unknown("not evaluated", at, obj, *args)
        p = _join(p, t)
    return _known(PathVal(p) if ref.name.endswith(".path") else p, _decisive([obj, *args], at), obj, *args)


_METHODS["Path.path"] = _path_call


# -- from the settings to databases -------------------------------------------------------------------

def read(ctx: Context) -> Iterable[Found]:
    if ctx.root is None:
        return
    settings = find_settings(ctx)
    if settings is None:
        return
    base_chain: list[Step] = []
    claims: list[str] = []
    if settings.named is None:
        at = settings.declared
        if at is None:
            return
        yield Found(FRAMEWORK, READER, "default", UNKNOWN, at, raw=_span_text(at), unknown=settings.unknown,
                    claims=(SETTINGS_VAR,))
        return
    named = settings.named
    base_chain.append(named.step)
    claims.extend(named.claims)
    rel = root = None
    for candidate in settings.roots:
        rel = module_file(ctx, candidate, named.module)
        if rel is not None:
            root = candidate
            break
    if rel is None or root is None:
        at = named.at
        if at is None:
            return
        where = named.module.replace(".", "/")
        yield Found(FRAMEWORK, READER, "default", UNKNOWN, at, raw=_span_text(at), chain=tuple(base_chain),
                    unknown=f"the settings module `{named.module}` ({where}.py) is not in the build context",
                    claims=tuple(claims))
        return
    src = _parse(ctx, rel)
    if not isinstance(src, _Source):
        doc = ctx.read(rel)
        if doc is None:
            return
        at = location(doc, 1, 1)
        yield Found(FRAMEWORK, READER, "default", UNKNOWN, at, chain=tuple(base_chain),
                    unknown=src if isinstance(src, str) else f"{rel} cannot be read", claims=tuple(claims))
        return
    run = _Run(ctx)
    interp = _Interp(run, src, named.module, root, {}, _file_value(ctx, rel, src))
    interp.ns["__file__"] = interp.file_v
    try:
        _run_module(run, interp)
    except RecursionError:
        interp.ns["\0raised"] = _unknown(f"{rel} is nested too deep to read", location(src.doc, 1, 1))
    ns = interp.ns
    claims.extend(run.claims)
    base_chain.extend(run.steps[:6])
    if "\0raised" in ns and "DATABASES" not in ns:
        return  # the settings do not load: no database to speak of
    databases = ns.get("DATABASES")
    if databases is None:
        mention = _mention(run.read)
        if mention is not None:
            yield Found(FRAMEWORK, READER, "default", UNKNOWN, mention, raw=_span_text(mention),
                        chain=tuple(base_chain),
                        unknown="DATABASES is set by code flyconf does not evaluate (not at the top of the settings)",
                        claims=tuple(dict.fromkeys(claims)))
        return
    claims_t = tuple(dict.fromkeys(claims))
    fallback = databases.at or location(src.doc, 1, 1)
    if not databases.known or not isinstance(databases.value, dict):
        why = databases.unknown or "DATABASES is not a dict flyconf can read"
        yield _unknown_found("default", databases, fallback, base_chain, claims_t, why)
        return
    for alias, value in databases.value.items():
        if not isinstance(alias, str):
            continue
        found = _found(ctx, alias, value, fallback, base_chain, claims_t)
        if found is not None:
            yield found


def _mention(sources: Sequence[_Source]) -> Location | None:
    for src in sources:
        for node in ast.walk(src.tree):
            if isinstance(node, ast.Name) and node.id == "DATABASES":
                return src.loc(node)
            if isinstance(node, ast.Constant) and node.value == "DATABASES":
                return src.loc(node)
    return None


def _unknown_found(alias: str, v: V, fallback: Location, base_chain: Sequence[Step], claims: tuple[str, ...],
                   why: str) -> Found:
    at = v.at or fallback
    return Found(FRAMEWORK, READER, alias, UNKNOWN, at, raw=_span_text(at),
                 chain=_dedupe(list(base_chain) + list(v.chain)),
                 unknown=why, variable=v.variable, form=v.form if v.variable else "path",
                 claims=tuple(dict.fromkeys(claims + v.claims)))


def _found(ctx: Context, alias: str, value: V, fallback: Location, base_chain: Sequence[Step],
           claims: tuple[str, ...]) -> Found | None:
    alias_at = value.at or fallback
    chain: tuple[Step, ...] = (*base_chain, Step(f"DATABASES[{alias!r}] in the settings", alias_at))
    if not value.known:
        why = value.unknown or "not known"
        return _unknown_found(alias, value, alias_at, chain, claims, why)
    if not isinstance(value.value, dict):
        return _unknown_found(alias, value, alias_at, chain, claims, f"DATABASES[{alias!r}] is not a dict")
    d: dict[Any, V] = value.value
    engine = d.get("ENGINE")
    if engine is None:
        return None  # Django's dummy backend: no database
    if not engine.known:
        return _unknown_found(alias, engine, alias_at, chain, claims, engine.unknown or "the ENGINE is not known")
    engine_text = _as_str(engine.value)
    if engine_text is None or not engine_text.strip():
        return None
    kind = engine_kind(engine_text)
    claims = tuple(dict.fromkeys(claims + engine.claims))
    if engine.secret:
        if kind == SQLITE:
            why = (f"{_names(engine.secret)} {'is' if len(engine.secret) == 1 else 'are'} not set in fly.toml [env] or "
                   f"the Dockerfile and may be set as a secret, which can make this database another one (a server): "
                   f"SQLite is only the default")
            name = d.get("NAME")
            variable = name.variable if name is not None else engine.variable
            where = engine.at or alias_at
            return Found(FRAMEWORK, READER, alias, UNKNOWN, where, raw=_span_text(where),
                         chain=_dedupe(chain + tuple(engine.chain)), unknown=why, variable=variable,
                         form=name.form if name is not None and name.variable else "path",
                         claims=tuple(dict.fromkeys(claims + ((name.claims if name is not None else ())))))
    if kind == SERVER:
        at = engine.at or alias_at
        return Found(FRAMEWORK, READER, alias, SERVER, at, raw=_span_text(at),
                     chain=_dedupe(chain + tuple(engine.chain)),
                     claims=claims)
    name = d.get("NAME")
    if name is None:
        return Found(FRAMEWORK, READER, alias, SQLITE, alias_at, raw=_span_text(alias_at), chain=_dedupe(chain),
                     unknown=f"DATABASES[{alias!r}] has no NAME (Django refuses to open it)", claims=claims)
    at = name.at or alias_at
    claims = tuple(dict.fromkeys(claims + name.claims))
    chain = _dedupe(chain + tuple(name.chain))
    variable = name.variable
    form = name.form if variable else "path"
    raw = _raw(name, at)
    if not name.known:
        return Found(FRAMEWORK, READER, alias, SQLITE, at, raw=raw, chain=chain, unknown=name.unknown or "not known",
                     variable=variable, form=form, claims=claims)
    text = _text(name.value)
    if text is None:
        return Found(FRAMEWORK, READER, alias, SQLITE, at, raw=raw, chain=chain,
                     unknown=f"NAME is not a path ({_short(repr(name.value))})", variable=variable, form=form,
                     claims=claims)
    target = urls.parse(text, urls.PATH, sqlite_default=True)
    if target is not None and target.kind == SERVER:
        return Found(FRAMEWORK, READER, alias, SERVER, at, raw=raw, chain=chain, claims=claims)
    if text.strip() in (":memory:", "") or text.startswith("file::memory:") or "mode=memory" in text:
        return Found(FRAMEWORK, READER, alias, SQLITE, at, raw=raw, chain=chain, unknown="an in-memory database",
                     variable=variable, form=form, claims=claims)
    if text.startswith("/"):
        return Found(FRAMEWORK, READER, alias, SQLITE, at, path=normpath(text), raw=raw, chain=chain,
                     variable=variable, form=form, claims=claims)
    workdir = ctx.workdir
    relative = text[2:] if text.startswith("./") else text
    absolute = resolve(relative, workdir)
    if absolute is None:
        return Found(FRAMEWORK, READER, alias, SQLITE, at, raw=raw, chain=chain,
                     unknown=f"relative path `{text}`: the working directory of the server is not known",
                     variable=variable, form=form, claims=claims, relative=text, url_path=name.url_path)
    chain = chain + (Step(f"relative path `{text}` resolved against the working directory {workdir} (the image's "
                          "WORKDIR: Django opens a SQLite NAME relative to the server's working directory)"),)
    return Found(FRAMEWORK, READER, alias, SQLITE, at, path=absolute, raw=raw, chain=chain, variable=variable,
                 form=form, claims=claims, relative=text, base=workdir, url_path=name.url_path)


def _raw(v: V, at: Location) -> str:
    return v.raw or _span_text(at)


__all__ = ["read", "find_settings", "parse_db_url", "engine_kind", "is_dev_module", "module_file", "named_in",
           "Settings", "Named", "FLY_RUNTIME"]
