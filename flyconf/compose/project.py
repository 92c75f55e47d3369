"""A Compose project: its files merged as Compose merges them, services with their environment and mounts.

The merge follows the Compose specification ("Merge and override", and `extends`): mappings merge
key by key (a later file wins), sequences append; `environment` merges by variable name (list and
map forms alike), `volumes` by container target, `env_file` and `tmpfs` append, `command` and
`entrypoint` are replaced, a string `build` is its `context`; `!reset` removes a value and
`!override` replaces it (compose-spec/compose-go override/merge.go and override/uncity.go do the
same). Interpolation is applied to values before the merge, with the project's `.env` only
(see flyconf.compose.interpolate). Every value keeps the file, line and column it comes from.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from flyconf.compose.interpolate import EnvLine, interpolate, parse_env_file
from flyconf.compose.names import BASE_NAMES, OVERRIDE_NAMES, PRODUCTION_LABELS, is_fragment, label_of
from flyconf.databases.model import Location
from flyconf.sources.base import Document, is_regular_file, real_path
from flyconf.sources.compose import ComposeFile, YNode

# Named volume, bind mount, anonymous volume, tmpfs, the image's own VOLUME (anonymous), or unknown.
VOLUME, BIND, ANONYMOUS, TMPFS = "volume", "bind", "anonymous", "tmpfs"
IMAGE_VOLUME, UNKNOWN = "image-volume", "unknown"

# Environment values that say a service runs in development, not production.
_DEV_VALUES = frozenset({"development", "dev", "local", "test", "testing"})
_MODE_VARIABLES = ("NODE_ENV", "RAILS_ENV", "RACK_ENV", "MIX_ENV", "APP_ENV", "FLASK_ENV", "DJANGO_ENV", "ENVIRONMENT",
                   "ENV", "GO_ENV", "APP_ENVIRONMENT")
_DEBUG_VARIABLES = ("DEBUG", "DJANGO_DEBUG", "FLASK_DEBUG", "APP_DEBUG")


@dataclass(frozen=True)
class Field:
    """A scalar of the Compose model: its interpolated text (None: unknown), where it is written, and how."""

    value: str | None
    at: Location
    raw: str = ""
    steps: tuple[str, ...] = ()
    node: Any = field(default=None, compare=False, repr=False)

    @property
    def is_true(self) -> bool:
        return self.value is not None and self.value.lower() in ("true", "yes", "on", "y")


@dataclass(frozen=True)
class EnvEntry:
    """A variable of a service's environment (value None: unknown), where its value is written, and from what."""

    name: str
    value: str | None
    at: Location
    origin: str  # "compose.yaml environment", "app.env (env_file)"
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mount:
    """A mount of a service: a named volume, a bind mount, an anonymous volume, a tmpfs..."""

    type: str  # VOLUME, BIND, ANONYMOUS, TMPFS, IMAGE_VOLUME, UNKNOWN (and "image", "npipe", "cluster")
    target: str | None  # the absolute path in the container (normalised), when known
    at: Location  # the entry (short syntax string, long syntax mapping, tmpfs item, VOLUME instruction)
    source: str | None = None  # the volume name or the host path as written (interpolated)
    source_at: Location | None = None
    read_only: bool = False
    origin: str = ""  # "" (the service's own), "volumes_from `db`", "the image's VOLUME"
    host: Path | None = None  # a bind mount's host path, when it can be resolved

    @property
    def keeps_data(self) -> bool:
        """A named volume or a bind mount: it outlives the container (`docker compose down` keeps it)."""
        return self.type in (VOLUME, BIND)

    def describe(self) -> str:
        if self.type == VOLUME:
            return f"named volume `{self.source}` at {self.target}"
        if self.type == BIND:
            return f"bind mount {self.source} at {self.target}"
        if self.type == TMPFS:
            return f"tmpfs at {self.target}"
        if self.type in (ANONYMOUS, IMAGE_VOLUME):
            return f"anonymous volume at {self.target}"
        return f"{self.type} mount at {self.target}"


@dataclass(frozen=True)
class Build:
    context: Path | None  # on disk; None for a remote context (a Git URL) or when unknown
    context_raw: str
    dockerfile: Path | None  # None for `dockerfile_inline` or a remote context
    target: str | None
    at: Location
    shared_from: str | None = None  # the service whose build this one runs (same `image:`)


@dataclass(frozen=True)
class VolumeDecl:
    """A top-level `volumes` entry."""

    name: str
    at: Location  # its key
    external: bool = False


@dataclass
class Service:
    name: str
    at: Location  # its key in the first file that defines it
    image: Field | None = None
    build: Build | None = None
    env: dict[str, EnvEntry] = field(default_factory=dict)
    env_complete: bool = True  # False when an env_file could not be read or an entry is unknown
    mounts: list[Mount] = field(default_factory=list)
    read_only: Field | None = None
    working_dir: Field | None = None
    restart: Field | None = None
    volumes_from: list[Field] = field(default_factory=list)
    command: Field | None = None
    notes: list[str] = field(default_factory=list)
    nodes: list[Location] = field(default_factory=list)  # its definitions (one per file, `extends` base)

    @property
    def build_target(self) -> str | None:
        return self.build.target if self.build is not None else None

    @property
    def is_read_only(self) -> bool:
        return self.read_only is not None and self.read_only.is_true

    def defines(self, at: Location) -> bool:
        """Whether ``at`` is inside one of this service's definitions."""
        for node in self.nodes:
            span = node.span
            if at.doc is node.doc and span.line <= at.span.line <= (span.end_line or span.line):
                return True
        return False

    def own_mounts(self) -> list[Mount]:
        return [m for m in self.mounts if not m.origin]

    def mount_containing(self, path: str) -> Mount | None:
        """The mount that holds ``path``: the one with the deepest target (mounts nest)."""
        from flyconf.app import is_under

        best: Mount | None = None
        for mount in self.mounts:
            if mount.target is None or not mount.target.startswith("/"):
                continue
            if is_under(path, mount.target) and (best is None or len(mount.target) > len(best.target or "")):
                best = mount
        return best

    @property
    def development(self) -> str | None:
        """What says this service runs in development, if anything: `NODE_ENV: development` (and the like),
        `DEBUG: "true"`, or a build target named for development."""
        for name in _MODE_VARIABLES:
            entry = self.env.get(name)
            if entry is not None and entry.value is not None and entry.value.strip().lower() in _DEV_VALUES:
                return f"{name}={entry.value}"
        for name in _DEBUG_VARIABLES:
            entry = self.env.get(name)
            truthy = ("1", "true", "yes", "on")
            if entry is not None and entry.value is not None and entry.value.strip().lower() in truthy:
                return f"{name}={entry.value}"
        target = self.build_target
        if target is not None and target.lower() in _DEV_VALUES:
            return f"build target `{target}`"
        return None


@dataclass
class Project:
    files: list[ComposeFile]
    directory: Path | None
    services: dict[str, Service] = field(default_factory=dict)
    volumes: dict[str, VolumeDecl] = field(default_factory=dict)
    dotenv: dict[str, str] = field(default_factory=dict)
    dotenv_doc: Document | None = None
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # False when an `include` or `extends` file could not be read
    structure: list[tuple[str, Location]] = field(default_factory=list)  # not a Compose model: message, where

    @property
    def base(self) -> ComposeFile:
        return self.files[0]

    @property
    def name(self) -> str:
        return " + ".join(f.display_path for f in self.files)

    @property
    def label(self) -> str | None:
        return label_of(posixpath.basename(self.base.display_path.replace(os.sep, "/")))

    @property
    def has_override(self) -> bool:
        return any(posixpath.basename(f.display_path.replace(os.sep, "/")) in OVERRIDE_NAMES for f in self.files[1:])

    @property
    def is_test(self) -> bool:
        """A file for tests or CI (`docker-compose.test.yml`): throw-away data is the point there."""
        label = self.label or ""
        return any(word in label.replace("-", ".").replace("_", ".").split(".")
                   for word in ("test", "tests", "ci", "e2e", "testing"))

    def production(self) -> str | None:
        """Why this project is meant for production (None: it is not, or it cannot be told).

        A file named for production (`docker-compose.prod.yml`, `compose.production.yaml`); or a
        default file (compose.yaml...) that is merged with no override file and whose services have
        `restart:` policies (containers meant to run unattended). Other `-f` variants (dev, test,
        example...), `.devcontainer/` files and projects with an override file are not.
        """
        path = self.base.display_path.replace(os.sep, "/")
        if ".devcontainer/" in path or path.startswith(".devcontainer"):
            return None
        named = [(f, label_of(posixpath.basename(f.display_path.replace(os.sep, "/")))) for f in self.files]
        labelled = [(f, label) for f, label in named if label is not None and label != "override"]
        for f, label in labelled:  # the base, or a variant merged into it (an overlay)
            words = set(label.replace("-", ".").replace("_", ".").split("."))
            if words & PRODUCTION_LABELS:
                return f"its name, {posixpath.basename(f.display_path)}, says it is for production"
        if labelled:
            return None  # docker-compose.dev.yml, compose.example.yaml...
        if self.has_override:
            return None
        for service in self.services.values():
            restart = service.restart
            if restart is not None and restart.value not in (None, "no", "false"):
                return (f"service `{service.name}` has `restart: {restart.value}` and no override file is merged, "
                        "so the file is what runs")
        return None


# -- loading -------------------------------------------------------------------------------------------

Reader = Callable[[Path], "ComposeFile | None"]  # a Compose file, read once (the workspace)
DocReader = Callable[[Path], "Document | None"]  # any other file (.env, env_file)


def group_projects(paths: Iterable[Path]) -> tuple[list[list[Path]], list[Path]]:
    """Compose files grouped into projects as Compose loads them, and the override fragments that belong
    to no project (an override file with no base file beside it).

    In a directory, the first existing of the default names is the base and the first existing override
    name is merged into it (Compose's defaults); the other default names and every `-f` variant
    (`docker-compose.prod.yml`) are projects of their own.
    """
    projects: list[list[Path]] = []
    fragments: list[Path] = []
    seen: set[tuple[Path, ...]] = set()
    for path in paths:
        directory = path.parent
        base_name = path.name
        winner = next((directory / n for n in BASE_NAMES if is_regular_file(directory / n)), None)
        override = next((directory / n for n in OVERRIDE_NAMES if is_regular_file(directory / n)), None)
        if base_name in OVERRIDE_NAMES or (winner is not None and _same(path, winner)):
            if winner is None:
                fragments.append(path)
                continue
            group = [winner] + ([override] if override is not None else [])
        elif is_fragment(base_name):
            fragments.append(path)
            continue
        else:
            group = [path]
        key = tuple(real_path(p) for p in group)
        if key not in seen:
            seen.add(key)
            projects.append(group)
    return projects, fragments


def _same(a: Path, b: Path) -> bool:
    try:
        return real_path(a) == real_path(b)
    except OSError:
        return a == b


def load_project(files: list[ComposeFile], read: Reader, read_doc: DocReader) -> Project:
    """The merged project of Compose files (base first), with its services and top-level volumes."""
    base = files[0]
    directory = base.fs_path.parent if base.fs_path is not None else None
    project = Project(list(files), directory)
    if directory is not None:
        dotenv_doc = read_doc(directory / ".env")
        if dotenv_doc is not None:
            project.dotenv_doc = dotenv_doc
            project.dotenv = {e.name: e.value for e in parse_env_file(dotenv_doc.text) if e.value is not None}
    loader = _Loader(project, read, read_doc)
    for doc in files:
        loader.add_file(doc)
    loader.finish()
    return project


@dataclass
class _Acc:
    """One service's definition, merged layer by layer (files, documents, `extends` bases)."""

    key_at: Location
    scalars: dict[str, YNode] = field(default_factory=dict)
    build: dict[str, YNode] = field(default_factory=dict)
    build_node: YNode | None = None
    environment: dict[str, tuple[YNode, str | None, bool]] = field(default_factory=dict)  # name -> node, value, listed
    env_file: list[YNode] = field(default_factory=list)
    volumes: dict[Any, YNode] = field(default_factory=dict)
    tmpfs: list[YNode] = field(default_factory=list)
    volumes_from: list[YNode] = field(default_factory=list)
    nodes: list[YNode] = field(default_factory=list)


class _Loader:
    def __init__(self, project: Project, read: Reader, read_doc: DocReader) -> None:
        self.project = project
        self.read = read
        self.read_doc = read_doc
        self.services: dict[str, _Acc] = {}
        self.volumes: dict[str, VolumeDecl] = {}
        self.included: set[Path] = set()

    def interp(self, node: YNode) -> tuple[str | None, tuple[str, ...]]:
        text = node.text
        if text is None:
            return None, ()
        result = interpolate(text, self.project.dotenv)
        return result.value, result.steps

    # -- files ----------------------------------------------------------------------------------
    def add_file(self, doc: ComposeFile) -> None:
        for root in doc.documents:
            if not root.is_map:
                self.project.structure.append(("the top level of a Compose file must be a mapping (services:, "
                                               "volumes:...)", Location(doc, root.span)))
                continue
            include = root.get("include")
            if include is not None:
                self._include(doc, include)
            services = root.get("services")
            if services is not None and not services.is_map:
                self.project.structure.append(("`services` must be a mapping of service names",
                                               Location(doc, services.span)))
            elif services is not None:
                for name, node in services.items():
                    if node.tag == "!reset":
                        self.services.pop(name, None)
                        continue
                    if not node.is_map:
                        if node.value is not None:
                            self.project.structure.append((f"service `{name}` must be a mapping",
                                                           Location(doc, node.span)))
                        continue
                    acc = self.services.get(name)
                    if acc is None:
                        acc = self.services[name] = _Acc(Location(doc, services.key_span(name) or node.span))
                    for layer in self._layers(doc, name, node, set()):
                        self._apply(acc, layer)
            volumes = root.get("volumes")
            if volumes is not None and volumes.is_map:
                for name, node in volumes.items():
                    external = False
                    if node.is_map:
                        ext = node.get("external")
                        external = ext is not None and (ext.is_true or ext.is_map)
                    previous = self.volumes.get(name)
                    at = previous.at if previous is not None else Location(doc, volumes.key_span(name) or node.span)
                    self.volumes[name] = VolumeDecl(name, at, external or (previous.external if previous else False))

    def _include(self, doc: ComposeFile, include: YNode) -> None:
        items = include.value if include.is_seq else [include]
        for item in items:
            paths: list[YNode] = []
            if item.is_scalar:
                paths = [item]
            elif item.is_map:
                p = item.get("path")
                if p is not None:
                    paths = [p] if p.is_scalar else [x for x in p.value if x.is_scalar] if p.is_seq else []
            for p in paths:
                value, _ = self.interp(p)
                if value is None or doc.fs_path is None or "://" in value:
                    self.project.complete = False
                    continue
                target = (doc.fs_path.parent / value)
                if real_path(target) in self.included:
                    continue
                self.included.add(real_path(target))
                included = self.read(target) if is_regular_file(target) else None
                if included is None:
                    self.project.complete = False
                    self.project.notes.append(f"`include` {value} could not be read: its services and volumes are "
                                              "not known")
                    continue
                self.add_file(included)

    def _layers(self, doc: ComposeFile, name: str, node: YNode, seen: set[tuple[str, str]]) -> list[YNode]:
        """The definitions that make up a service in one file: its `extends` bases first, then itself."""
        extends = node.get("extends")
        if extends is None or (doc.display_path, name) in seen:
            return [node]
        seen = seen | {(doc.display_path, name)}
        if extends.is_scalar:
            base_name, base_file = extends.text, None
        elif extends.is_map:
            s, f = extends.get("service"), extends.get("file")
            base_name = self.interp(s)[0] if s is not None else None
            base_file = self.interp(f)[0] if f is not None else None
        else:
            return [node]
        if base_name is None:
            return [node]
        base_doc: ComposeFile | None = doc
        if base_file is not None:
            path = (doc.fs_path.parent / base_file) if doc.fs_path is not None else None
            base_doc = self.read(path) if path is not None and is_regular_file(path) else None
            if base_doc is None:
                self.project.complete = False
                self.project.notes.append(f"service `{name}` extends `{base_name}` from {base_file}, which could not "
                                          "be read: what it inherits is not known")
                return [node]
        if base_doc is None:  # pragma: no cover - handled above
            return [node]
        base_node = None
        for root in base_doc.documents:
            services = root.get("services") if root.is_map else None
            candidate = services.get(base_name) if services is not None else None
            if candidate is not None and candidate.is_map:
                base_node = candidate
        if base_node is None:
            return [node]
        return self._layers(base_doc, base_name, base_node, seen) + [node]

    # -- one layer into a service ---------------------------------------------------------------------
    def _apply(self, acc: _Acc, node: YNode) -> None:
        acc.nodes.append(node)
        for key, value in node.items():
            if key == "extends":
                continue
            if value.tag == "!reset":
                self._reset(acc, key)
                continue
            replace = value.tag == "!override"
            if replace:
                self._reset(acc, key)
            if key == "environment":
                self._environment(acc, value)
            elif key == "env_file":
                acc.env_file.extend([value] if value.is_scalar or value.is_map else value.value if value.is_seq else [])
            elif key == "volumes" and value.is_seq:
                for item in value.value:
                    acc.volumes[self._target_key(item)] = item
            elif key == "tmpfs":
                acc.tmpfs.extend([value] if value.is_scalar else value.value if value.is_seq else [])
            elif key == "volumes_from" and value.is_seq:
                acc.volumes_from.extend(value.value)
            elif key == "build":
                acc.build_node = value
                if value.is_scalar:
                    acc.build["context"] = value
                elif value.is_map:
                    for k, v in value.items():
                        acc.build[k] = v
            else:
                acc.scalars[key] = value

    @staticmethod
    def _reset(acc: _Acc, key: str) -> None:
        if key == "environment":
            acc.environment.clear()
        elif key == "env_file":
            acc.env_file.clear()
        elif key == "volumes":
            acc.volumes.clear()
        elif key == "tmpfs":
            acc.tmpfs.clear()
        elif key == "volumes_from":
            acc.volumes_from.clear()
        elif key == "build":
            acc.build.clear()
            acc.build_node = None
        else:
            acc.scalars.pop(key, None)

    def _environment(self, acc: _Acc, node: YNode) -> None:
        if node.is_map:
            for name, value in node.items():
                acc.environment[name] = (value, value.text if value.is_scalar else None, False)
        elif node.is_seq:
            for item in node.value:
                text = item.text
                if text is None:
                    continue
                name, sep, rest = text.partition("=")
                name = name.strip()
                if name:
                    acc.environment[name] = (item, rest if sep else None, True)

    def _target_key(self, item: YNode) -> Any:
        """The unique key of a `volumes` entry (its container target), or the node itself when unknown."""
        mount = self._mount(item, Path("."))
        return mount.target if mount.target is not None else id(item)

    # -- the merged model -----------------------------------------------------------------------------
    def finish(self) -> None:
        project = self.project
        project.volumes = dict(self.volumes)
        for name, acc in self.services.items():
            project.services[name] = self._service(name, acc)
        self._share_builds()
        for service in project.services.values():
            self._volumes_from(service)

    def _field(self, node: YNode | None) -> Field | None:
        if node is None:
            return None
        value, steps = self.interp(node) if node.is_scalar else (None, ())
        return Field(value, Location(node.doc, node.span), node.text or "", steps, node)

    def _service(self, name: str, acc: _Acc) -> Service:
        s = Service(name, acc.key_at)
        s.nodes = [Location(n.doc, n.span) for n in acc.nodes]
        s.image = self._field(acc.scalars.get("image"))
        s.read_only = self._field(acc.scalars.get("read_only"))
        s.working_dir = self._field(acc.scalars.get("working_dir"))
        s.restart = self._field(acc.scalars.get("restart"))
        s.command = self._field(acc.scalars.get("command")) if acc.scalars.get("command") is not None else None
        s.volumes_from = [f for f in (self._field(n) for n in acc.volumes_from) if f is not None]
        s.build = self._build(acc)
        self._env(s, acc)
        for item in acc.volumes.values():
            s.mounts.append(self._mount(item, self._dir(item)))
        for item in acc.tmpfs:
            value, _ = self.interp(item)
            target = value.split(":", 1)[0] if value else None
            s.mounts.append(Mount(TMPFS, _norm(target), Location(item.doc, item.span)))
        return s

    @staticmethod
    def _dir(node: YNode) -> Path | None:
        return node.doc.fs_path.parent if node.doc.fs_path is not None else None

    def _build(self, acc: _Acc) -> Build | None:
        if acc.build_node is None and not acc.build:
            return None
        context_node = acc.build.get("context")
        at_node = acc.build_node or context_node
        assert at_node is not None
        base = self._dir(context_node or at_node)
        raw = "."
        if context_node is not None:
            raw = self.interp(context_node)[0] or ""
        remote = "://" in raw or raw.startswith("git@") or raw.endswith(".git")
        context = None if remote or not raw or base is None else Path(os.path.normpath(base / raw))
        target_node = acc.build.get("target")
        target = self.interp(target_node)[0] if target_node is not None else None
        dockerfile: Path | None = None
        if context is not None and "dockerfile_inline" not in acc.build:
            df_node = acc.build.get("dockerfile")
            name = self.interp(df_node)[0] if df_node is not None else "Dockerfile"
            if name:
                dockerfile = Path(name) if os.path.isabs(name) else context / name
        return Build(context, raw, dockerfile, target, Location(at_node.doc, at_node.span))

    def _share_builds(self) -> None:
        """A service with only `image:` runs the image another service builds under that name."""
        built = {s.image.value: s for s in self.project.services.values()
                 if s.build is not None and s.image is not None and s.image.value}
        for service in self.project.services.values():
            if service.build is None and service.image is not None and service.image.value in built:
                other = built[service.image.value]
                if other is not service and other.build is not None:
                    b = other.build
                    service.build = Build(b.context, b.context_raw, b.dockerfile, b.target, b.at, other.name)

    def _env(self, s: Service, acc: _Acc) -> None:
        dotenv = self.project.dotenv
        for item in acc.env_file:
            path_node = item.get("path") if item.is_map else item
            if path_node is None:
                continue
            required_node = item.get("required") if item.is_map else None
            required = required_node is None or required_node.is_true
            fmt = item.get("format") if item.is_map else None
            rel, _ = self.interp(path_node)
            base = self._dir(path_node)
            if rel is None or base is None:
                s.env_complete = False
                continue
            path = Path(rel) if os.path.isabs(rel) else base / rel
            doc = self.read_doc(path) if is_regular_file(path) else None
            if doc is None:
                if required:
                    s.env_complete = False
                    s.notes.append(f"env_file {rel} is not there (not in the repository?): its variables are not "
                                   "known")
                continue
            for line in parse_env_file(doc.text, dotenv, posixpath.basename(rel),
                                       raw=fmt is not None and fmt.text == "raw"):
                s.env[line.name] = _env_line(line, doc, f"{rel} (env_file)")
        origin = f"{acc.key_at.doc.display_path} environment"
        for name, (node, raw, _listed) in acc.environment.items():
            at = Location(node.doc, node.span)
            if raw is None:
                # `- NAME` or `NAME:` with no value: Compose takes it from its own environment (and .env).
                if name in dotenv:
                    s.env[name] = EnvEntry(name, dotenv[name], at, f"{origin} (value from .env)")
                else:
                    s.env.pop(name, None)
                    s.env_complete = False
                continue
            result = interpolate(raw, dotenv)
            if result.value is None:
                s.env.pop(name, None)  # depends on a variable flyconf cannot see: unknown, not empty
                s.env_complete = False
                continue
            how = f" ({'; '.join(result.steps)})" if result.steps else ""
            s.env[name] = EnvEntry(name, result.value, at, f"{node.doc.display_path} environment{how}", result.steps)

    def _mount(self, item: YNode, base: Path | None) -> Mount:
        at = Location(item.doc, item.span)
        if item.is_scalar:
            spec, _ = self.interp(item)
            if spec is None:
                return Mount(UNKNOWN, None, at)
            return _short_volume(spec, at, base)
        if not item.is_map:
            return Mount(UNKNOWN, None, at)
        kind_node, source_node, target_node = item.get("type"), item.get("source"), item.get("target")
        kind = (self.interp(kind_node)[0] if kind_node is not None else None) or "volume"
        source = self.interp(source_node)[0] if source_node is not None else None
        target = self.interp(target_node)[0] if target_node is not None else None
        ro_node = item.get("read_only")
        read_only = ro_node is not None and ro_node.is_true
        source_at = Location(source_node.doc, source_node.span) if source_node is not None else None
        if source_node is not None and source is None:
            return Mount(UNKNOWN, _norm(target), at, None, source_at, read_only)
        if kind == "volume":
            kind = VOLUME if source else ANONYMOUS
        host = _host_path(source, base) if kind == BIND and source else None
        return Mount(kind, _norm(target), at, source, source_at, read_only, host=host)

    def _volumes_from(self, service: Service) -> None:
        for ref in service.volumes_from:
            value = ref.value or ""
            name, _, mode = value.partition(":")
            if name.startswith("container:"):
                service.notes.append(f"volumes_from {value}: a container outside the project; its mounts are not "
                                     "known")
                service.mounts.append(Mount(UNKNOWN, None, ref.at, origin=f"volumes_from `{value}`"))
                continue
            other = self.project.services.get(name)
            if other is None or other is service:
                continue
            for m in other.own_mounts():
                service.mounts.append(Mount(m.type, m.target, m.at, m.source, m.source_at,
                                            m.read_only or mode == "ro", f"volumes_from `{name}`", m.host))


def _env_line(line: EnvLine, doc: Document, origin: str) -> EnvEntry:
    from flyconf.databases.model import location

    return EnvEntry(line.name, line.value, location(doc, line.line, line.column), origin, line.steps)


def _norm(path: str | None) -> str | None:
    if not path:
        return None
    from flyconf.databases.model import normpath

    return normpath(path) if path.startswith("/") else path


def _host_path(source: str, base: Path | None) -> Path | None:
    if source.startswith("~"):
        return None  # the home directory of whoever runs Compose
    if os.path.isabs(source):
        return Path(os.path.normpath(source))
    return Path(os.path.normpath(base / source)) if base is not None else None


def _is_file_path(source: str) -> bool:
    """compose-go format/volume.go isFilePath: `.`, `/`, `~`, a Windows drive or pipe start a host path."""
    if not source:
        return False
    if source[0] in "./~" or source.startswith("\\\\"):
        return True
    return len(source) > 1 and source[0].isalpha() and source[1] == ":"


def _short_volume(spec: str, at: Location, base: Path | None) -> Mount:
    """The short syntax `[SOURCE:]TARGET[:MODE]` (Compose specification, services `volumes`)."""
    parts: list[str] = []
    buf = ""
    for ch in spec:
        if ch == ":" and not (len(buf) == 1 and buf.isalpha() and not parts):  # a Windows drive letter
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    if len(parts) == 1 or (len(spec) <= 2):
        return Mount(ANONYMOUS, _norm(spec), at)
    source, target = parts[0], parts[1]
    options = parts[2].split(",") if len(parts) > 2 else []
    read_only = "ro" in options
    if not source or not target:
        return Mount(UNKNOWN, _norm(target) if target else None, at)
    if _is_file_path(source):
        return Mount(BIND, _norm(target), at, source, at, read_only, host=_host_path(source, base))
    return Mount(VOLUME, _norm(target), at, source, at, read_only)
