"""Reading a database URL or path, the way each family of libraries reads it.

One place for "is this value a SQLite file, and which?", shared by every reader.
The same text means different files to different libraries: ``sqlite:///x.db``
is the relative ``x.db`` for SQLAlchemy and dj-database-url but the absolute
``/x.db`` for sqlx and Go drivers; Prisma keeps whatever follows ``file:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flyconf.databases.model import SERVER, SQLITE

# Schemes of database servers and remote SQLite services: not a local file.
_SERVER_SCHEMES = frozenset({
    "postgres", "postgresql", "postgis", "mysql", "mysql2", "trilogy", "mariadb", "sqlserver", "mssql", "oracle",
    "cockroachdb", "redis", "mongodb", "mongodb+srv", "libsql", "wss", "ws", "http", "https", "turso", "d1",
    "pg", "jdbc", "postgresql+psycopg", "postgresql+psycopg2", "postgresql+asyncpg", "mysql+pymysql",
    "mysql+mysqldb", "mysql+aiomysql", "ecto", "cockroach", "planetscale", "prisma", "prisma+postgres",
})
_SQLITE_SUFFIX = re.compile(r"\.(db|sqlite|sqlite3|db3|s3db|sl3)$", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.I)

# Flavours: how a library family reads the text.
GENERIC = "generic"  # an environment variable read by code flyconf cannot see
RAILS = "rails"  # ActiveRecord: `sqlite3:` URLs, or a path in `database:`
PRISMA = "prisma"  # `file:` + path as written (relative to schema.prisma's directory)
PYTHON = "python"  # SQLAlchemy, dj-database-url: `sqlite:///rel`, `sqlite:////abs`
URLPATH = "urlpath"  # sqlx, Go drivers, Drizzle/libSQL `file:`: `sqlite:///abs` is absolute
PATH = "path"  # a plain file path (Ecto `database:`, Laravel DB_DATABASE, better-sqlite3)


@dataclass(frozen=True)
class Target:
    """What a URL or path names."""

    kind: str  # SQLITE or SERVER
    path: str | None = None  # SQLite: the path as the library reads it (absolute or relative); None for ":memory:"
    scheme: str = ""  # the URL scheme, lower case ("" for a plain path)
    # GENERIC only: `sqlite:///x/y.db` is relative for Python libraries but absolute for URL-minded
    # ones; this is the absolute reading, when it differs from ``path``.
    url_path: str | None = None
    memory: bool = False  # an in-memory database: nothing on disk to lose

    @property
    def relative(self) -> bool:
        return self.path is not None and not self.path.startswith("/")


def form_of(raw: str) -> str:
    """How a path is written in ``raw``, so that a fix can write another path the same way."""
    low = raw.strip().lower()
    for prefix, form in (("file:", "file:"), ("sqlite3:", "sqlite3://"), ("sqlite:", "sqlite:///")):
        if low.startswith(prefix):
            return form
    return "path"


def write(form: str, path: str, like: str = "") -> str:
    """``path`` (absolute) written in ``form``, keeping the query string of ``like`` (`?connection_limit=1`)."""
    query = "?" + like.split("?", 1)[1] if "?" in like else ""
    if form == "file:":
        return f"file:{path}{query}"
    if form == "sqlite3://":
        return f"sqlite3://{path}{query}"
    if form == "sqlite:///":
        return f"sqlite:///{path}{query}"  # four slashes in all: absolute for every reader
    if form == "sqlite://":
        return f"sqlite://{path}{query}"
    return path + query


def parse(raw: str, flavor: str = GENERIC, *, sqlite_default: bool = False) -> Target | None:
    """What ``raw`` names for a library of ``flavor``, or None when it is not a database location.

    A plain path counts as SQLite when it has a SQLite suffix, or whenever ``sqlite_default`` is set
    (the configuration already says SQLite: Ecto's SQLite3 adapter, `DB_CONNECTION=sqlite`).
    """
    text = raw.strip()
    if not text:
        return None
    text = text.split("?", 1)[0] if not text.lower().startswith(("file::memory:", ":memory:")) else text
    text = text.split("#", 1)[0] if "://" in text else text
    m = _SCHEME.match(text)
    scheme = m.group(1).lower() if m else ""
    if len(scheme) == 1:  # a Windows drive letter is not a scheme
        scheme = ""
    if scheme in ("file",):
        rest = text[5:]
        if rest.startswith(":memory:") or rest == "" or "mode=memory" in raw:
            return Target(SQLITE, None, scheme, memory=True)
        if rest.startswith("//"):
            # file:///data/x.db and Prisma's file://data/x.db (what follows `file:` is kept, then the
            # leading slashes are one): both absolute.
            path = "/" + rest.lstrip("/")
        else:
            path = rest
        return _sqlite(path, scheme)
    if scheme == "sqlite":
        rest = text[7:]
        if rest.startswith(":memory:") or rest in ("", "//", "///", "///:memory:", "//:memory:"):
            return Target(SQLITE, None, scheme, memory=True)
        if rest.startswith("///"):
            tail = rest[3:]
            if flavor in (PYTHON,):
                return _sqlite(tail, scheme)
            if flavor == URLPATH:
                return _sqlite("/" + tail.lstrip("/"), scheme)
            # GENERIC: the Python reading, with the URL reading kept beside it
            target = _sqlite(tail, scheme)
            if target is not None and tail and not tail.startswith("/"):
                return Target(SQLITE, tail, scheme, url_path="/" + tail)
            return target
        if rest.startswith("//"):
            return _sqlite(rest[2:], scheme)
        return _sqlite(rest, scheme)
    if scheme == "sqlite3":
        rest = text[8:]
        if rest.startswith("//"):
            rest = rest[2:]
            slash = rest.find("/")
            path = rest[slash:] if slash != -1 else ""  # drop the (empty) host, keep the absolute path
        else:
            path = rest
        if path in ("", ":memory:"):
            return Target(SQLITE, None, scheme, memory=True)
        return _sqlite(path, scheme)
    if scheme in _SERVER_SCHEMES or (scheme and "://" in text):
        return Target(SERVER, None, scheme)
    if scheme:
        return None  # "foo:bar": not something we can read
    if text.startswith(":memory:"):
        return Target(SQLITE, None, memory=True)
    if sqlite_default or _SQLITE_SUFFIX.search(text):
        return _sqlite(text, "")
    return None


def _sqlite(path: str, scheme: str) -> Target:
    if path.startswith(":memory:") or path == "":
        return Target(SQLITE, None, scheme, memory=True)
    if path.startswith("./"):
        path = path[2:]
    return Target(SQLITE, path, scheme)
