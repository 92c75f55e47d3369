"""What database discovery yields: databases with their provenance, and the context readers read from.

A *reader* is a function ``read(ctx: Context) -> Iterable[Found]`` in its own
module (``rails.py``, ``django.py``, ...). It reads the app's configuration
files through ``ctx`` (never importing, executing or evaluating the app's
code) and yields one :class:`Found` per production database it can see,
whatever its kind: SQLite databases, but also server databases ("not
SQLite") and databases whose location is set only where flyconf cannot look
(a secret), so that ``flyconf inspect`` can say what was understood and the
rules can stay silent where nothing is known.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Protocol

from flyconf.diagnostics import Span
from flyconf.sources.base import Document

# Kinds of database.
SQLITE = "sqlite"  # a SQLite file (``path`` is set when its absolute place in the image is known)
SERVER = "server"  # a database server (Postgres, MySQL, libSQL/Turso over the network...): not SQLite
UNKNOWN = "unknown"  # SQLite or not depends on a value flyconf cannot see (a secret)


@dataclass(frozen=True)
class Location:
    """A place in a file: the document (read through the context) and a span in it."""

    doc: Document
    span: Span

    def __repr__(self) -> str:
        return f"Location({self})"

    @property
    def path(self) -> str:
        return self.doc.display_path

    def __str__(self) -> str:
        return f"{self.doc.display_path}:{self.span.line}:{self.span.column}"


@dataclass(frozen=True)
class Step:
    """One link of the chain that resolved a database's path, in words, with where it is written.

    Examples: "production.primary.database in config/database.yml", "DATABASE_URL is set in fly.toml
    [env]", "default of ENV.fetch", "relative path resolved against the Rails root /rails".
    """

    text: str
    at: Location | None = None

    def __str__(self) -> str:
        return f"{self.text} ({self.at})" if self.at is not None else self.text


@dataclass(frozen=True)
class Found:
    """One production database of the app, as a reader found it.

    ``declared`` is where the value that decides the database's location is written, which is
    where a fix belongs: the `[env]` entry when an environment variable sets it, else the literal in
    the framework's configuration. ``chain`` says how the value was reached, step by step.
    """

    # "rails", "django", "prisma", "phoenix", "laravel", "drizzle", "knex", "node", "go", "rust", "pocketbase", "env"
    framework: str
    reader: str  # the reader module that found it: "rails", "django", ...
    name: str  # the framework's name for it: "primary", "cache", "default", "MyApp.Repo", "db", or the variable
    kind: str  # SQLITE, SERVER or UNKNOWN
    declared: Location
    path: str | None = None  # SQLite: the absolute, normalised path in the image, when known
    raw: str = ""  # the value as written at ``declared`` (URL, path, expression)
    chain: tuple[Step, ...] = ()
    # Why the kind or path is not known, in words, e.g. "DATABASE_URL is set only as a secret" or
    # "relative path `dev.db`: the directory of schema.prisma in the image is not known".
    unknown: str | None = None
    # The environment variable that sets this database's location, whether it is set now or not
    # (``DATABASE_URL`` for a Prisma `env("DATABASE_URL")`, ``CACHE_DATABASE_URL`` for a Rails 8
    # cache database), and how a path is written in it: "path", "file:" (Prisma, libSQL clients),
    # "sqlite3://" (Rails), "sqlite:///" (SQLAlchemy, dj-database-url: four slashes for an absolute
    # path), "sqlite://" (sqlx). ``flyconf fix`` moves a database by setting that variable in `[env]`.
    variable: str | None = None
    form: str = "path"
    # A relative path as written (``path`` is then its resolution against ``base``, when known).
    relative: str | None = None
    base: str | None = None
    # A Python app's `sqlite:///data/x.db` is the relative `data/x.db`; this keeps the absolute
    # reading the author most likely meant (/data/x.db), so the rule can say why it is not on the volume.
    url_path: str | None = None
    # The process groups that open it, when the configuration says (LiteFS exec, a per-group env);
    # None: every group that runs the app's code.
    groups: tuple[str, ...] | None = None
    # Variables this reader consumed to reach its answer: the generic environment reader does not
    # report them again (DATABASE_URL read by database.yml is not a second database).
    claims: tuple[str, ...] = ()

    @property
    def is_sqlite(self) -> bool:
        return self.kind == SQLITE

    @property
    def where(self) -> str:
        return str(self.declared)


@dataclass(frozen=True)
class EnvVar:
    """A variable of the app's environment as flyconf sees it: fly.toml `[env]` over Dockerfile `ENV`."""

    name: str
    value: str
    at: Location | None  # where it is set
    origin: str  # "fly.toml [env]", "Dockerfile ENV", ".env.example"...

    def step(self) -> Step:
        return Step(f"{self.name} = {self.value!r} is set in {self.origin}", self.at)


@dataclass(frozen=True)
class StartCommand:
    """A command a Machine starts with: the image's ENTRYPOINT and CMD, or a `[processes]` command
    (which replaces CMD and keeps ENTRYPOINT, as flyctl does)."""

    group: str  # the process group ("app" when fly.toml defines none)
    argv: tuple[str, ...]  # ENTRYPOINT + CMD, or ENTRYPOINT + the group's command, split like flyctl
    at: Location | None  # where the command (or CMD) is written
    entrypoint: tuple[str, ...] = ()  # the ENTRYPOINT part of argv


class Context(Protocol):
    """What a reader may look at. Paths given to ``read``/``exists``/``glob`` are relative to the
    build context (the directory of fly.toml), in POSIX form."""

    @property
    def root(self) -> Path | None:
        """The build context on disk, or None when only a fly.toml's text is linted."""

    @property
    def env(self) -> Mapping[str, EnvVar]:
        """The environment every Machine starts with, as far as flyconf can see (not secrets)."""

    @property
    def workdir(self) -> str | None:
        """The image's final WORKDIR (the working directory of the server), when known."""

    def read(self, rel: str) -> Document | None:
        """A file of the build context, read once, or None when absent or unreadable.

        Documents read here are part of the report: findings may point into them, and their
        `# flyconf: ignore[...]` comments apply.
        """

    def exists(self, rel: str) -> bool:
        """Whether a file exists in the build context."""

    def glob(self, pattern: str) -> list[str]:
        """Files of the build context matching a glob (``lib/tasks/*.rake``), relative and sorted;
        dependency folders (node_modules, vendor, .git...) are never searched."""

    def image_path(self, rel: str) -> str | None:
        """Where a file (or directory) of the build context is in the image, following the
        Dockerfile's COPY/ADD (and `COPY --from` of build stages), or None when it cannot be told or
        when .dockerignore keeps it out of the build."""

    def dockerignored(self, rel: str) -> Location | None:
        """The .dockerignore line that keeps a build-context file out of the build, or None."""

    def context_file(self, image_path: str) -> str | None:
        """The build-context file (relative path) that the image holds at ``image_path``, following
        COPY/ADD backwards; None when no COPY puts a context file there."""

    def text_document(self, display: str, text: str) -> Document:
        """A document for text that is not a file of its own (tests, standard input)."""

    def start_commands(self) -> list[StartCommand]:
        """What each process group runs (one entry per group), as far as fly.toml and the Dockerfile say."""

    @property
    def dockerfile(self) -> Document | None:
        """The Dockerfile the app builds (wherever `[build] dockerfile` puts it), when there is one."""

    def run_instructions(self) -> list[tuple[str, Location]]:
        """The RUN commands that build the image (the target stage and the stages it is FROM), in order."""


def location(doc: Document, line: int, column: int, end_line: int | None = None,
             end_column: int | None = None) -> Location:
    return Location(doc, Span(line, column, end_line if end_line is not None else line, end_column))


def offset_location(doc: Document, start: int, end: int | None = None) -> Location:
    """The location of a character offset range in a document's text."""
    if end is None:
        return Location(doc, Span(*doc.position(start)))
    return Location(doc, doc.line_index.span(start, end))


def normpath(path: str) -> str:
    """posixpath.normpath, but `//data` is `/data` (Linux treats any number of leading slashes as one)."""
    norm = posixpath.normpath(path)
    return "/" + norm.lstrip("/") if norm.startswith("//") else norm


def resolve(path: str, base: str | None) -> str | None:
    """An absolute, normalised path: ``path`` itself when absolute, else joined to ``base`` (an
    absolute directory); None when relative and ``base`` is unknown."""
    if path.startswith("/"):
        return normpath(path)
    if base is None or not base.startswith("/"):
        return None
    return normpath(posixpath.join(base, path))


@dataclass
class Discovery:
    """Everything database discovery found for one app."""

    databases: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was looked at and skipped, for `inspect`

    def sqlite(self) -> list[Found]:
        return [d for d in self.databases if d.kind == SQLITE]


__all__ = ["SQLITE", "SERVER", "UNKNOWN", "Location", "Step", "StartCommand", "Found", "EnvVar", "Context", "Discovery",
           "location", "offset_location", "normpath", "resolve", "Iterable"]
