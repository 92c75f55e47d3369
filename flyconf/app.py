"""The App: one deployable unit, with the facts every rule and the generator share.

An App is a fly.toml (and, where they exist, its Dockerfile and start scripts).
Facts are derived here once -- the process groups and which sections apply to
each, the effective environment, the mounts, the SQLite databases -- so rules
never re-derive them and never parse fly.toml their own way.

Every derived item keeps the key path of the raw fly.toml value it came from,
so findings point at the user's own text. The raw document may have type
errors (reported by the schema rules); the App skips malformed entries instead
of failing.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from flyconf.sources.dockerfile import expand_vars
from flyconf.sources.flytoml import FlyToml
from flyconf.sources.tomlspan import KeyPath

if TYPE_CHECKING:
    from flyconf.databases.context import AppContext
    from flyconf.databases.model import Discovery

DEFAULT_GROUP = "app"

# A process group name flyctl can use everywhere (`fly scale count web=2`, `--process-groups a,b`).
GROUP_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# Sections that flyctl distributes to process groups. Without `processes`, an entry of
# these applies only to the default group; a [[vm]] without `processes` applies to all.
GROUP_SECTIONS = ("services", "http_service", "mounts", "checks", "files", "metrics", "restart", "vm")

# Alternative spellings flyctl merges into one section (singular and plural).
ALIASES = {
    "mounts": ("mounts", "mount"),
    "vm": ("vm", "compute", "computes"),
    "metrics": ("metrics", "metric"),
    "services": ("services",),
    "files": ("files",),
    "statics": ("statics",),
    "restart": ("restart",),
    "machine_checks": ("machine_checks",),
}


@dataclass(frozen=True)
class Entry:
    """One table of a section (a mount, a service, a check...) and where it is in fly.toml."""

    section: str  # canonical name: "mounts", "services", "http_service", "checks", ...
    path: KeyPath  # raw key path of the table: ("mounts", 0) or ("mount",) or ("checks", "alive")
    table: dict[str, Any]
    name: str | None = None  # the name of a top-level check

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.get(key, default)

    def key(self, *keys: str | int) -> KeyPath:
        return self.path + tuple(keys)

    @property
    def label(self) -> str:
        """How findings name this entry: "`[http_service]`", "`[[services]]` #2", "check `alive`", "mount `data`"."""
        if self.section == "http_service":
            return "`[http_service]`"
        if self.section == "checks":
            return f"check `{self.name}`"
        if self.section == "mounts" and isinstance(self.table.get("source"), str):
            return f"mount `{self.table['source']}`"
        index = next((p for p in reversed(self.path) if isinstance(p, int)), None)
        name = self.path[0]
        return f"`[[{name}]]` #{index + 1}" if index is not None else f"`[{name}]`"

    @property
    def processes(self) -> list[str] | None:
        """The `processes` list as written (strings only), or None when absent or empty."""
        value = self.table.get("processes")
        if isinstance(value, list):
            names = [p for p in value if isinstance(p, str)]
            return names or None
        return None


@dataclass(frozen=True)
class EnvValue:
    name: str
    value: str
    path: KeyPath  # where the value is in fly.toml, or () when it came from elsewhere
    origin: str = "fly.toml"  # "fly.toml" or "Dockerfile"
    doc: Any = field(default=None, compare=False)  # the Document that holds it, when not fly.toml
    span: Any = field(default=None, compare=False)  # its position in that document


@dataclass(frozen=True)
class Database:
    """A SQLite database the app uses, found in its environment."""

    variable: str
    raw: str  # the value as written
    path: str  # the file path: absolute, or relative when ``relative``
    relative: bool
    source: EnvValue
    # `sqlite:///x/y.db` is relative for SQLAlchemy and dj-database-url (Python) but the absolute
    # /x/y.db for URL-minded libraries (sqlx, Go drivers). This is the absolute reading.
    url_path: str | None = None

    def absolute(self, workdir: str | None) -> str | None:
        if not self.relative:
            return self.path
        if workdir and workdir.startswith("/"):
            return normpath(posixpath.join(workdir, self.path))
        return None


@dataclass(frozen=True)
class LiteFS:
    """LiteFS settings: the FUSE directory the app uses and the data directory on the volume."""

    fuse_dir: str
    data_dir: str | None
    config: Path | None  # None when LiteFS is inferred from a /litefs path only
    proxy_port: int | None = None  # the port LiteFS's HTTP proxy listens on (proxy.addr)
    target_port: int | None = None  # the port it forwards to (proxy.target): the app's own


@dataclass(frozen=True)
class Placement:
    """Where a SQLite database ends up, and whether that is on a volume.

    ``kind`` is one of: "on-volume"; "unknown" (Litestream restores it, or LiteFS without a
    litefs.yml here, or no usable mount destination); "three-slash" (a Python app's
    `sqlite:///x` on the volume only if read as a URL); "litefs-data" (under LiteFS, whose data
    directory is not on a volume); "relative" (relative path, working directory unknown);
    "no-mounts"; "elsewhere" (not under any mount destination).
    """

    kind: str
    path: str | None = None  # the absolute path, when known
    litefs: LiteFS | None = None

    @property
    def lost(self) -> bool:
        return self.kind not in ("on-volume", "unknown")

    @property
    def fixable(self) -> bool:
        """`flyconf fix` can move it onto a volume (not a LiteFS or URL-reading question)."""
        return self.kind in ("relative", "no-mounts", "elsewhere")


class App:
    """A fly.toml with its companions and every derived fact, computed once on first use."""

    def __init__(
        self,
        flytoml: FlyToml | None,
        *,
        directory: Path | None = None,
        dockerfile: Any = None,
    ) -> None:
        self.flytoml = flytoml  # None when a Dockerfile is linted on its own
        self.data: dict[str, Any] = flytoml.data if flytoml is not None else {}
        self.directory = directory  # the fly.toml's directory (the build context), when on disk
        self.dockerfile = dockerfile  # flyconf.sources.dockerfile.Dockerfile or None
        # `[build] dockerfile` as an http(s) URL: flyctl fetches it at deploy, flyconf never does, so
        # there is no image to check (shown by `inspect`).
        self.remote_dockerfile: str | None = None
        self.image: Any = None  # the Effective settings of the image's target stage
        self.workdir: str | None = None  # the image's final WORKDIR, when known
        self.extra_env: list[EnvValue] = []  # lower-priority variables (Dockerfile ENV)
        self.scripts: list[Any] = []  # start scripts the image runs (flyconf.sources.script.Script)
        # How app configuration files are read (the lint run's workspace, so that findings can point into
        # them and their suppressions apply); a plain reader when the App is built by hand.
        self.read_document: Callable[[Path], Any] | None = None
        if dockerfile is not None:
            self.image = dockerfile.effective(self.build_target)
            self.workdir = self.image.workdir[0] if self.image.workdir else None
            self.extra_env = [
                EnvValue(name, value, (), "Dockerfile", dockerfile, dockerfile.token_span(ins, name))
                for name, (value, ins) in self.image.env.items()
            ]

    @property
    def has_flytoml(self) -> bool:
        return self.flytoml is not None

    @property
    def fly(self) -> FlyToml:
        """The fly.toml, for code that runs only when there is one (the "app" checks)."""
        if self.flytoml is None:
            raise ValueError("this App has no fly.toml")
        return self.flytoml

    @property
    def build(self) -> dict[str, Any]:
        build = self.data.get("build")
        return build if isinstance(build, dict) else {}

    @property
    def build_target(self) -> str | None:
        target = self.build.get("build-target", self.build.get("build_target"))
        return target if isinstance(target, str) and target else None

    # -- sections -----------------------------------------------------------------
    def entries(self, section: str) -> list[Entry]:
        """Every table of a section, aliases merged, single tables and arrays alike."""
        return list(self._entries.get(section, ()))

    @cached_property
    def _entries(self) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for canonical, spellings in ALIASES.items():
            found: list[Entry] = []
            for key in spellings:
                found.extend(_tables(canonical, (key,), self.data.get(key)))
            out[canonical] = found
        http = self.data.get("http_service")
        out["http_service"] = [Entry("http_service", ("http_service",), http)] if isinstance(http, dict) else []
        checks = self.data.get("checks")
        found = []
        if isinstance(checks, dict):
            for name, table in checks.items():
                if isinstance(table, dict):
                    found.append(Entry("checks", ("checks", name), table, name=name))
        elif isinstance(checks, list):
            for i, table in enumerate(checks):
                if isinstance(table, dict):
                    name = table.get("name") if isinstance(table.get("name"), str) else f"#{i + 1}"
                    found.append(Entry("checks", ("checks", i), table, name=name))
        out["checks"] = found
        return out

    def services(self) -> list[Entry]:
        """`[http_service]` (first, when present) and every `[[services]]` entry."""
        return self.entries("http_service") + self.entries("services")

    # -- process groups -------------------------------------------------------------
    @cached_property
    def process_commands(self) -> dict[str, tuple[str, KeyPath]]:
        """Defined groups: name -> (command, key path of the command or of the group's entry)."""
        raw = self.data.get("processes")
        out: dict[str, tuple[str, KeyPath]] = {}
        if isinstance(raw, dict):
            for name, command in raw.items():
                out[name] = (command if isinstance(command, str) else "", ("processes", name))
        elif isinstance(raw, list):
            for i, item in enumerate(raw):
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    cmd = item.get("command")
                    path: KeyPath = ("processes", i, "command") if "command" in item else ("processes", i, "name")
                    out[item["name"]] = (cmd if isinstance(cmd, str) else "", path)
        return out

    @cached_property
    def process_argv(self) -> dict[str, list[str]]:
        """Each group's `[processes]` command split into arguments as flyctl splits it (google/shlex, where
        ` #` starts a comment; no shell runs); groups whose command is empty (the image's CMD runs) or
        cannot be split are left out."""
        from flyconf import goshlex

        out: dict[str, list[str]] = {}
        for name, (command, _path) in self.process_commands.items():
            try:
                argv = goshlex.split(command)
            except goshlex.SplitError:
                continue  # command-unparseable reports it
            if argv:
                out[name] = argv
        return out

    @cached_property
    def groups(self) -> list[str]:
        """The process groups, sorted; ``["app"]`` when `[processes]` defines none."""
        return sorted(self.process_commands) or [DEFAULT_GROUP]

    @property
    def has_process_groups(self) -> bool:
        return bool(self.process_commands)

    @cached_property
    def default_group(self) -> str:
        """flyctl's default group: the only one, else `app` if defined, else the first in sort order."""
        names = self.groups
        if len(names) == 1:
            return names[0]
        return DEFAULT_GROUP if DEFAULT_GROUP in names else names[0]

    def groups_of(self, entry: Entry) -> list[str]:
        """The defined groups an entry applies to, as flyctl resolves them.

        Names of undefined groups are dropped (flyctl drops them silently; the
        unknown-process-group rule reports them). Without `processes`, an entry
        applies to the default group only -- except `[[vm]]`, which applies to
        every group that no other `[[vm]]` names.
        """
        listed = entry.processes
        if listed is not None:
            return [g for g in self.groups if g in listed]
        if entry.section != "vm":
            return [self.default_group]
        named: set[str] = set()
        for other in self.entries("vm"):
            if other.processes:
                named.update(other.processes)
        return [g for g in self.groups if g not in named]

    def sections_for(self, group: str) -> dict[str, list[Entry]]:
        """Which entries of each section apply to ``group``: the per-group view flyctl deploys."""
        out: dict[str, list[Entry]] = {}
        for section in GROUP_SECTIONS:
            entries = self.services() if section == "services" else self.entries(section)
            if section == "http_service":
                continue  # part of "services" above
            out[section] = [e for e in entries if group in self.groups_of(e)]
        return out

    def mounts_of(self, group: str) -> list[Entry]:
        return [m for m in self.entries("mounts") if group in self.groups_of(m)]

    def mounted_groups(self) -> list[str]:
        """Groups that have at least one mount, in sort order."""
        return [g for g in self.groups if self.mounts_of(g)]

    # -- environment ------------------------------------------------------------------
    @cached_property
    def env(self) -> dict[str, EnvValue]:
        """The environment every Machine gets: fly.toml `[env]` over lower-priority sources."""
        out: dict[str, EnvValue] = {v.name: v for v in self.extra_env}
        raw = self.data.get("env")
        tables: list[tuple[KeyPath, dict[str, Any]]] = []
        if isinstance(raw, dict):
            tables.append((("env",), raw))
        elif isinstance(raw, list):
            tables.extend((("env", i), t) for i, t in enumerate(raw) if isinstance(t, dict))
        for base, table in tables:  # [[env]] tables merge, the last one winning
            for name, value in table.items():
                out[name] = EnvValue(name, _stringify(value), base + (name,))
        primary = self.data.get("primary_region")
        if isinstance(primary, str):
            out["PRIMARY_REGION"] = EnvValue("PRIMARY_REGION", primary, ("primary_region",))
        return out

    def where(self, value: EnvValue) -> tuple[Any, Any]:
        """The document and span of an environment value: fly.toml `[env]` or a Dockerfile `ENV`."""
        if value.doc is not None:
            return value.doc, value.span
        assert self.flytoml is not None
        return self.flytoml, self.flytoml.value_span(value.path)

    # -- databases --------------------------------------------------------------------
    @cached_property
    def context(self) -> "AppContext":
        """What database readers may look at: the build context, the environment, the image."""
        from flyconf.databases.context import AppContext

        return AppContext(self, self.read_document)

    @cached_property
    def discovery(self) -> "Discovery":
        """The app's production databases, found in its configuration (see flyconf.databases)."""
        from flyconf.databases import discover

        return discover(self.context)

    # -- SQLite -----------------------------------------------------------------------
    @cached_property
    def databases(self) -> list[Database]:
        """SQLite databases named by the environment (DATABASE_URL, DB_PATH, SQLITE_PATH, ...)."""
        out = []
        for value in self.env.values():
            db = sqlite_database(value)
            if db is not None:
                out.append(db)
        return out

    @cached_property
    def litefs(self) -> LiteFS | None:
        """LiteFS settings from a litefs.yml beside fly.toml (or in config/, etc/), if there is one."""
        if self.directory is None:
            return None
        for rel in ("litefs.yml", "litefs.yaml", "config/litefs.yml", "etc/litefs.yml", ".fly/litefs.yml"):
            candidate = self.directory / rel
            if candidate.is_file():
                env = {name: value.value for name, value in self.env.items()}
                return read_litefs(candidate, env)
        return None

    @cached_property
    def uses_litestream(self) -> bool:
        """The image runs Litestream, which restores the database from object storage at start-up."""
        texts = [self.dockerfile.text] if self.dockerfile is not None else []
        texts.extend(s.text for s in self.scripts)
        return any(re.search(r"\blitestream[\"',\s]+(replicate|restore)\b", t) for t in texts)

    @cached_property
    def is_python(self) -> bool:
        """The app directory looks like a Python project (so `sqlite:///x.db` is SQLAlchemy's relative form)."""
        if self.directory is None:
            return False
        markers = ("manage.py", "requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "alembic.ini", "uv.lock",
                   "poetry.lock")
        return any((self.directory / m).is_file() for m in markers)

    @property
    def uses_litefs(self) -> bool:
        """LiteFS is in use: a litefs.yml, a mount named for it, or the image runs `litefs mount`."""
        if self.litefs is not None or self.litefs_in_image:
            return True
        for mount in self.entries("mounts"):
            for key in ("source", "destination"):
                value = mount.get(key)
                if isinstance(value, str) and "litefs" in value.lower():
                    return True
        return False

    @property
    def litefs_in_image(self) -> bool:
        """The image starts LiteFS (`litefs mount` in ENTRYPOINT or CMD)."""
        if self.image is None:
            return False
        for ins in (self.image.entrypoint, self.image.cmd):
            if ins is not None and "litefs" in " ".join(ins.value):
                return True
        return False

    def litefs_fuse_dir(self, path: str) -> LiteFS | None:
        """The LiteFS set-up that serves ``path``, if the path is under LiteFS's FUSE directory.

        Without a litefs.yml, a path under `/litefs` (LiteFS's default FUSE
        directory) is taken as a LiteFS database.
        """
        config = self.litefs
        if config is not None:
            return config if is_under(path, config.fuse_dir) else None
        if is_under(path, "/litefs"):
            return LiteFS("/litefs", None, None)
        return None

    def placement(self, db: Database) -> Placement:
        """Whether ``db`` lives on a volume (see :class:`Placement`); the rules and `fix` share this."""
        if db.url_path is not None and self.mount_containing(db.url_path) is not None:
            return Placement("three-slash" if self.is_python else "on-volume", db.url_path)
        if self.uses_litestream:
            return Placement("unknown")  # restored from object storage on every start
        path = db.absolute(self.workdir)
        if path is None:
            return Placement("relative")
        litefs = self.litefs_fuse_dir(path)
        if litefs is not None:
            off = (litefs.data_dir and litefs.config is not None and self.entries("mounts")
                   and self.mount_containing(litefs.data_dir) is None)
            return Placement("litefs-data" if off else "on-volume", path, litefs)
        if self.mount_containing(path) is not None:
            return Placement("on-volume", path)
        if self.uses_litefs and self.litefs is None:
            return Placement("unknown", path)  # its FUSE directory may well be this path
        mounts = self.entries("mounts")
        if not mounts:
            return Placement("no-mounts", path)
        if not any(isinstance(m.get("destination"), str) and m.get("destination", "").startswith("/") for m in mounts):
            return Placement("unknown", path)  # no usable destination: the mount rules say so
        return Placement("elsewhere", path)

    def mount_containing(self, path: str, groups: Sequence[str] | None = None) -> Entry | None:
        """The mount whose destination holds ``path``, among the mounts of ``groups`` (default: all)."""
        candidates = self.entries("mounts") if groups is None else [
            m for g in groups for m in self.mounts_of(g)
        ]
        for mount in candidates:
            dest = mount.get("destination")
            if isinstance(dest, str) and dest.startswith("/") and is_under(path, dest):
                return mount
        return None


def tables(base: KeyPath, value: Any) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
    """The tables of a value that may be one table or an array of tables, with their key paths."""
    if isinstance(value, dict):
        yield base, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield base + (i,), item


def _tables(section: str, base: KeyPath, value: Any) -> Iterator[Entry]:
    for path, table in tables(base, value):
        yield Entry(section, path, table)


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normpath(path: str) -> str:
    """posixpath.normpath, but `//data` is `/data` (Linux treats any number of leading slashes as one)."""
    norm = posixpath.normpath(path)
    return "/" + norm.lstrip("/") if norm.startswith("//") else norm


def is_under(path: str, directory: str) -> bool:
    """Whether absolute ``path`` is ``directory`` or inside it (lexically, after normalising)."""
    p = normpath(path)
    d = normpath(directory)
    if d == "/":
        return True
    return p == d or p.startswith(d + "/")


# -- SQLite locations -----------------------------------------------------------------

# Variables that name a database: DATABASE_URL, DB_PATH, SQLITE_PATH, BFF_DATABASE_URL, ...
_DB_VARIABLE = re.compile(r"(^|_)(DATABASE|DB|SQLITE3?)(_(URL|URI|PATH|FILE|FILENAME|NAME|LOCATION))?$|SQLITE", re.I)
_SQLITE_SUFFIX = re.compile(r"\.(db|sqlite|sqlite3|db3|s3db|sl3)$", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.I)


def sqlite_database(value: EnvValue) -> Database | None:
    """The SQLite file a variable names, or None when it is not a SQLite file path.

    URL forms: ``file:/data/x.db``, ``file:///data/x.db`` and ``file://data/x.db``
    (Prisma keeps what follows ``file:``, so both are absolute); ``sqlite:////data/x.db``
    (SQLAlchemy and dj-database-url: absolute) but ``sqlite:///rel.db`` (relative);
    ``sqlite3:///data/x.sqlite3`` (Rails: a URL path, absolute); plain paths.
    """
    name, raw = value.name, value.value.strip()
    if not _DB_VARIABLE.search(name) or not raw:
        return None
    url_path: str | None = None
    text = raw.split("?", 1)[0].split("#", 1)[0]
    scheme_match = _SCHEME.match(text)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if len(scheme) == 1 and text[1:2] == ":":  # a Windows drive letter is not a scheme
        scheme = ""
    if scheme == "file":
        rest = text[5:]
        path = "/" + rest.lstrip("/") if rest.startswith("/") else rest
    elif scheme == "sqlite":
        rest = text[7:]
        if rest.startswith("///"):
            path = rest[3:]  # "sqlite:///rel.db" -> "rel.db"; "sqlite:////abs.db" -> "/abs.db"
            if path and not path.startswith("/"):
                url_path = "/" + path
        elif rest.startswith("//"):
            path = rest[2:]
        else:
            path = rest
    elif scheme == "sqlite3":
        rest = text[8:]
        if rest.startswith("//"):
            rest = rest[2:]
            slash = rest.find("/")
            path = rest[slash:] if slash != -1 else ""  # drop the (empty) host, keep the absolute path
        else:
            path = rest
    elif scheme:
        return None  # postgres://, mysql://, libsql://, redis://, http://: not a local SQLite file
    else:
        path = text
        named_sqlite = "SQLITE" in name.upper()
        if not (_SQLITE_SUFFIX.search(path) or (named_sqlite and "/" in path)):
            return None
    if not path or path in (":memory:",) or path.startswith(":memory"):
        return None
    relative = not path.startswith("/")
    if relative and "/" not in path and re.search(r"_(FILENAME|FILE_NAME|NAME)$", name, re.I):
        return None  # a bare file name that the app joins to a directory elsewhere (DATABASE_FILENAME=sqlite.db)
    if relative and path.startswith("./"):
        path = path[2:]
    return Database(variable=name, raw=raw, path=normpath(path) if path else path, relative=relative,
                    source=value, url_path=url_path)


def read_litefs(path: Path, env: dict[str, str] | None = None) -> LiteFS | None:
    """`fuse.dir`, `data.dir` and the proxy ports from a litefs.yml (LiteFS expands `${VAR}` from the
    environment, so do we); defaults when absent; None if unreadable."""
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - an unreadable litefs.yml only means "no LiteFS facts"
        return None
    if not isinstance(data, dict):
        return None
    env = env or {}

    def text(section: str, key: str, default: str | None) -> str | None:
        table = data.get(section)
        value = table.get(key) if isinstance(table, dict) else None
        if not isinstance(value, (str, int)):
            return default
        return expand_vars(str(value), env).strip()  # LiteFS expands ${VAR} from the environment too

    def port(value: str | None) -> int | None:
        m = re.search(r":(\d{1,5})$", value or "")
        return int(m.group(1)) if m else None

    return LiteFS(
        fuse_dir=text("fuse", "dir", "/litefs") or "/litefs",
        data_dir=text("data", "dir", "/var/lib/litefs"),
        config=path,
        proxy_port=port(text("proxy", "addr", None)),
        target_port=port(text("proxy", "target", None)),
    )
