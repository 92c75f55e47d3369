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

from flyconf.sources.flytoml import FlyToml
from flyconf.sources.tomlspan import KeyPath

if TYPE_CHECKING:
    from flyconf.databases.context import AppContext
    from flyconf.databases.model import Discovery, Found

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
class Placement:
    """Where a SQLite database ends up, and whether that is on a volume for every group that opens it.

    ``kind`` is one of:
    - "on-volume": under a mount destination of every process group that opens it;
    - "litefs": under LiteFS's FUSE directory, with LiteFS's data directory on a volume (or not known);
    - "replicated": Litestream restores it from object storage at start-up, so no volume is needed;
    - "unknown": nothing can be said (path unknown, LiteFS config not visible, no usable mount);
    - "three-slash": a Python app's `sqlite:///x` is relative; the absolute reading would be on the volume;
    - "no-mounts": the app has no `[mounts]` at all;
    - "elsewhere": not under any mount destination;
    - "partial": on a volume for some groups that open it, not for the others (``missing``);
    - "litefs-data": under LiteFS, whose data directory is not on a volume (of ``missing`` groups).
    """

    kind: str
    path: str | None = None  # the absolute path, when known
    litefs: Any = None  # flyconf.databases.litefs.LiteFS, when LiteFS serves it
    mounts: tuple[Entry, ...] = ()  # the mounts that hold it (or LiteFS's data directory)
    missing: tuple[str, ...] = ()  # groups that open it without such a mount
    groups: tuple[str, ...] = ()  # the groups that open it

    @property
    def lost(self) -> bool:
        return self.kind in ("three-slash", "no-mounts", "elsewhere", "partial", "litefs-data")

    @property
    def fixable(self) -> bool:
        """`flyconf fix` can move it onto a volume (not a LiteFS, URL-reading or process-group question)."""
        return self.kind in ("no-mounts", "elsewhere")


# Programs that are not the app: a process group that runs one of them opens no app database.
_NOT_THE_APP = frozenset({
    "nginx", "caddy", "haproxy", "traefik", "envoy", "varnishd", "redis-server", "valkey-server", "memcached",
    "postgres", "mysqld", "sleep", "tail", "true", "litestream", "minio", "tailscaled", "cloudflared",
})
_WRAPPER_PROGRAMS = frozenset({"tini", "dumb-init", "su-exec", "gosu", "setpriv", "catatonit", "bundle", "exec",
                               "doppler", "chamber", "npx", "env"})


class App:
    """A fly.toml with its companions and every derived fact, computed once on first use."""

    def __init__(
        self,
        flytoml: FlyToml | None,
        *,
        directory: Path | None = None,
        dockerfile: Any = None,
        compose_service: Any = None,
    ) -> None:
        self.flytoml = flytoml  # None when a Dockerfile is linted on its own
        # A Compose service (flyconf.compose.project.Service) this App stands for: its environment takes
        # the place of fly.toml [env], its `working_dir` that of WORKDIR, its build target that of fly.toml's.
        self.compose_service = compose_service
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
        self.unread_scripts: list[str] = []  # scripts a start command runs that are not in the build context
        self.script_paths: dict[str, tuple[str, ...]] = {}  # a script on disk -> how start commands name it
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
        if compose_service is not None and compose_service.working_dir is not None:
            workdir = compose_service.working_dir.value  # None: it depends on a variable flyconf cannot see
            self.workdir = workdir if workdir is not None and workdir.startswith("/") else None

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
        if self.compose_service is not None:
            compose_target: str | None = self.compose_service.build_target
            return compose_target
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
        """The defined groups an entry applies to, as flyctl resolves them (callers must not modify the list).

        Names of undefined groups are dropped (flyctl drops them silently; the
        unknown-process-group rule reports them). Without `processes`, an entry
        applies to the default group only -- except `[[vm]]`, which applies to
        every group that no other `[[vm]]` names.
        """
        # Worked out once per entry: rules ask for every entry and group, and hundreds of groups times
        # hundreds of mounts made that quadratic (or worse) when recomputed on each call.
        key = id(entry)
        cached = self._placement.get(key)
        if cached is None or cached[0] is not entry:
            cached = (entry, self._resolve_groups(entry))
            self._placement[key] = cached
        return cached[1]

    @cached_property
    def _placement(self) -> dict[int, tuple[Entry, list[str]]]:
        return {}  # id(entry) -> (entry, its groups); the entry is kept so that its id is never reused

    def _resolve_groups(self, entry: Entry) -> list[str]:
        listed = entry.processes
        if listed is not None:
            defined = self.group_set
            return sorted(g for g in set(listed) if g in defined)  # self.groups is sorted too
        if entry.section != "vm":
            return [self.default_group]
        return self._unnamed_by_vm

    @cached_property
    def group_set(self) -> frozenset[str]:
        """The names of :attr:`groups`, for membership tests."""
        return frozenset(self.groups)

    @cached_property
    def _unnamed_by_vm(self) -> list[str]:
        """The groups no `[[vm]]` names: those a `[[vm]]` without `processes` applies to."""
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
        return list(self._mounts_by_group.get(group, ()))

    @cached_property
    def _mounts_by_group(self) -> dict[str, list[Entry]]:
        """Each group's mounts, in file order: one pass over the mounts rather than one per group."""
        out: dict[str, list[Entry]] = {}
        for mount in self.entries("mounts"):
            for group in self.groups_of(mount):
                out.setdefault(group, []).append(mount)
        return out

    def mounted_groups(self) -> list[str]:
        """Groups that have at least one mount, in sort order."""
        return [g for g in self.groups if g in self._mounts_by_group]

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
        if self.compose_service is not None:  # `environment` and `env_file` over the image's ENV
            for entry in self.compose_service.env.values():
                if entry.value is not None:
                    out[entry.name] = EnvValue(entry.name, entry.value, (), entry.origin, entry.at.doc, entry.at.span)
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
    @property
    def databases(self) -> list["Found"]:
        """The app's SQLite databases (whatever their path), from every reader."""
        return self.discovery.sqlite()

    @cached_property
    def litefs(self) -> Any:
        """LiteFS's settings (flyconf.databases.litefs.LiteFS), when the app runs LiteFS or has a litefs.yml."""
        from flyconf.databases.litefs import read_litefs

        texts = None  # None: whether the image runs `litefs mount` cannot be told
        image = self.image
        if image is not None and (image.entrypoint or image.cmd) and not self.unread_scripts:
            texts = [self.dockerfile.text] + [s.text for s in self.scripts]
        return read_litefs(self.context, texts)

    @cached_property
    def litestream(self) -> Any:
        """Litestream's settings (flyconf.databases.litefs.Litestream), when the image runs Litestream."""
        from flyconf.databases.litefs import read_litestream

        texts = [self.dockerfile.text] if self.dockerfile is not None else []
        texts.extend(s.text for s in self.scripts)
        return read_litestream(self.context, texts)

    @property
    def uses_litestream(self) -> bool:
        return self.litestream is not None

    @cached_property
    def runs_marmot(self) -> bool:
        """The image runs Marmot (maxpert/marmot), which replicates SQLite between Machines and restores a
        node's database from its peers or a snapshot."""
        texts = [self.dockerfile.text] if self.dockerfile is not None else []
        texts.extend(s.text for s in self.scripts)
        return any(re.search(r"(?:^|[\s/\"'])marmot\s+(?:-config|--config)\b", t, re.M) for t in texts)

    @property
    def runs_litefs(self) -> Any:
        """The LiteFS settings when the app runs LiteFS (or may: no Dockerfile to tell), else None."""
        litefs = self.litefs
        return litefs if litefs is not None and litefs.running is not False else None

    @property
    def uses_litefs(self) -> bool:
        """LiteFS is in use: a litefs.yml that something runs, a mount named for it, or `litefs mount`."""
        if self.runs_litefs is not None or self.litefs_in_image:
            return True
        if self.litefs is not None:
            return False  # a litefs.yml that nothing in the image runs
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

    def litefs_serving(self, path: str) -> Any:
        """The LiteFS set-up that serves ``path``, if the path is under LiteFS's FUSE directory.

        Without a litefs.yml, a path under `/litefs` (LiteFS's default FUSE directory) is taken as a
        LiteFS database.
        """
        from flyconf.databases.litefs import DEFAULT_FUSE_DIR, LiteFS

        config = self.runs_litefs
        if config is not None and config.fuse_dir is not None:
            return config if is_under(path, config.fuse_dir) else None
        if is_under(path, DEFAULT_FUSE_DIR):
            return config or LiteFS(DEFAULT_FUSE_DIR, None, None)
        return None

    @cached_property
    def app_groups(self) -> tuple[str, ...]:
        """The process groups that run the app's own code (and so may open its databases): every group
        but those whose command is a program that is clearly something else (nginx, redis-server...)."""
        out = []
        for group in self.groups:
            argv = self.process_argv.get(group)
            if argv is not None and _program(argv) in _NOT_THE_APP:
                continue
            out.append(group)
        return tuple(out) or tuple(self.groups)

    def opening_groups(self, db: "Found") -> tuple[str, ...]:
        if db.groups is not None:
            return tuple(g for g in db.groups if g in self.groups) or tuple(self.app_groups)
        return self.app_groups

    def placement(self, db: "Found") -> Placement:
        """Whether ``db`` lives on a volume for every group that opens it; the rules and `fix` share this."""
        groups = self.opening_groups(db)
        mounts = self.entries("mounts")
        usable = [m for m in mounts
                  if isinstance(m.get("destination"), str) and m.get("destination", "").startswith("/")]
        litestream = self.litestream
        # Litestream restores its databases from object storage (today's behaviour: any database of an app
        # that runs Litestream, unless its litestream.yml lists others only); Marmot re-syncs from its peers.
        if litestream is not None and (db.path is None or not litestream.paths or any(
                db.path == p for p, _at in litestream.paths)):
            return Placement("replicated", db.path, groups=groups)
        if self.runs_marmot:
            return Placement("replicated", db.path, groups=groups)
        if db.url_path is not None and self.mount_containing(db.url_path, groups) is not None and (
                db.path is None or self.mount_containing(db.path, groups) is None):
            return Placement("three-slash", db.path, groups=groups)
        if db.path is None:
            # A relative path against an unknown directory: lost for sure only when there is no volume at all;
            # with mounts, the directory might be under one (a prebuilt image's /rails/storage), so say nothing.
            if db.relative is not None and not mounts and not self.uses_litefs:
                return Placement("no-mounts", None, groups=groups)
            return Placement("unknown", None, groups=groups)
        path = db.path
        litefs = self.litefs_serving(path)
        if litefs is not None:
            return self._litefs_placement(path, litefs, groups)
        if self.uses_litefs and (self.runs_litefs is None or self.runs_litefs.fuse_dir is None):
            return Placement("unknown", path, groups=groups)  # its FUSE directory may well be this path
        if not mounts:
            return Placement("no-mounts", path, groups=groups)
        if not usable:
            return Placement("unknown", path, groups=groups)  # no usable destination: the mount rules say so
        holding = {g: self.mount_containing(path, [g]) for g in groups}
        holders = tuple({id(m): m for m in holding.values() if m is not None}.values())
        missing = tuple(g for g, m in holding.items() if m is None)
        if not holders:
            return Placement("elsewhere", path, groups=groups, missing=missing)
        if missing:
            return Placement("partial", path, mounts=holders, missing=missing, groups=groups)
        return Placement("on-volume", path, mounts=holders, groups=groups)

    def _litefs_placement(self, path: str, litefs: Any, groups: tuple[str, ...]) -> Placement:
        if litefs.config is None or litefs.data_dir is None or not self.entries("mounts"):
            return Placement("litefs", path, litefs, groups=groups)
        runners = litefs.groups or groups
        holding = {g: self.mount_containing(litefs.data_dir, [g]) for g in runners}
        missing = tuple(g for g, m in holding.items() if m is None)
        holders = tuple({id(m): m for m in holding.values() if m is not None}.values())
        if missing:
            return Placement("litefs-data", path, litefs, mounts=holders, missing=missing, groups=groups)
        return Placement("litefs", path, litefs, mounts=holders, groups=groups)

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


def _program(argv: Sequence[str]) -> str:
    """The program a command runs, past wrappers (`tini --`, `bundle exec`, `npx`...)."""
    i = 0
    while i < len(argv):
        base = posixpath.basename(argv[i])
        if base in _WRAPPER_PROGRAMS or argv[i] == "--" or argv[i].startswith("-") or "=" in argv[i] and i == 0:
            i += 1
            continue
        return base
    return ""


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
