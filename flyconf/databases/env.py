"""The generic reader: a SQLite file named by an environment variable (DATABASE_URL, DB_PATH, SQLITE_PATH...).

It runs after the framework readers and leaves alone the variables they have
already read (a Rails app's DATABASE_URL is its primary database, found by the
Rails reader with database.yml around it).
"""

from __future__ import annotations

import re
from typing import Iterable

from flyconf.databases import urls
from flyconf.databases.model import SQLITE, Context, EnvVar, Found, Step, normpath, resolve

# Variables that name a database: DATABASE_URL, DB_PATH, SQLITE_PATH, BFF_DATABASE_URL, ...
_DB_VARIABLE = re.compile(r"(^|_)(DATABASE|DB|SQLITE3?)(_(URL|URI|PATH|FILE|FILENAME|NAME|LOCATION))?$|SQLITE", re.I)
_PYTHON_MARKERS = ("manage.py", "requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "alembic.ini", "uv.lock",
                   "poetry.lock")


def is_python(ctx: Context) -> bool:
    """The build context looks like a Python project (so `sqlite:///x.db` is SQLAlchemy's relative form)."""
    return any(ctx.exists(m) for m in _PYTHON_MARKERS)


def target_of(var: EnvVar) -> urls.Target | None:
    """The SQLite file a variable names, or None when it is not a SQLite file path (or not SQLite at all)."""
    name, raw = var.name, var.value.strip()
    if not _DB_VARIABLE.search(name) or not raw:
        return None
    named_sqlite = "SQLITE" in name.upper() and "/" in raw
    target = urls.parse(raw, urls.GENERIC, sqlite_default=named_sqlite)
    if target is None or target.kind != SQLITE or target.memory or target.path is None:
        return None
    path = target.path
    if not path.startswith("/") and "/" not in path and re.search(r"_(FILENAME|FILE_NAME|NAME)$", name, re.I):
        return None  # a bare file name that the app joins to a directory elsewhere (DATABASE_FILENAME=sqlite.db)
    return target


def read(ctx: Context, claimed: set[str] | frozenset[str] = frozenset()) -> Iterable[Found]:
    python = None
    for name, var in ctx.env.items():
        if name in claimed or var.at is None:
            continue
        target = target_of(var)
        if target is None or target.path is None:
            continue
        chain = [var.step()]
        unknown = None
        path: str | None = target.path
        if target.url_path is not None:
            if python is None:
                python = is_python(ctx)
            if not python:
                path = target.url_path  # sqlx, Go drivers: `sqlite:///x` is the absolute /x
                chain.append(Step(f"`sqlite:///{target.path}` read as the absolute path {path} (not a Python app)"))
        if path is not None and not path.startswith("/"):
            absolute = resolve(path, ctx.workdir)
            if absolute is not None:
                chain.append(Step(f"relative path `{path}` resolved against the working directory {ctx.workdir}"))
            else:
                unknown = f"relative path `{path}`: the working directory is not known"
            path = absolute if absolute is not None else None
            relative, base = target.path, ctx.workdir
        else:
            relative, base = None, None
            path = normpath(path) if path is not None else None
        yield Found(
            framework="env", reader="env", name=name, kind=SQLITE, declared=var.at, path=path, raw=var.value,
            chain=tuple(chain), unknown=unknown, variable=name, form=urls.form_of(var.value),
            claims=(name,), relative=relative, base=base, url_path=target.url_path if python else None,
        )
