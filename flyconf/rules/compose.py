"""Docker Compose: a SQLite database that a container writes is gone when the container is replaced,
unless a named volume or a bind mount keeps it -- the lesson of fly.toml's `[mounts]`, on Compose.

Each service is an App (flyconf.compose.apps): its databases come from the same discovery as a
fly.toml app's (the service's `environment` and `env_file`, its image's ENV, its app configuration).
Codes FC410-FC419 are the Compose block of the SQLite / persistence family.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from flyconf.diagnostics import Diagnostic
from flyconf.registry import Rule, check, declare

if TYPE_CHECKING:
    from flyconf.compose.apps import ComposeUnit, Placement, ServiceApp
    from flyconf.databases.model import Found, Location

COMPOSE_SYNTAX = declare(
    "FC410", "compose-syntax", "error",
    "A Compose file is not valid YAML, or not a Compose model (a key written twice, `services` not a mapping).",
    """
    Compose reads its files with a YAML parser (go-yaml) and refuses a file
    that is not valid YAML, whose top level is not a mapping, whose `services`
    is not a mapping of service names, or that writes the same mapping key
    twice ("mapping key ... already defined"): `docker compose config` and
    `up` stop there (Compose specification, "Compose file"; compose-go
    loader). The finding points at the line and column of the fault. Nothing
    else in the file is checked until it parses.
    """,
    bad="services:\n  web:\n    image: app\n  web:\n    image: app:2\n",
    good="services:\n  web:\n    image: app:2\n",
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_NOT_ON_VOLUME = declare(
    "FC411", "compose-sqlite-not-on-volume", "error",
    "A service's SQLite database is not under a named volume or a bind mount of that service.",
    """
    A container's own file system (its writable layer) lives only as long as
    the container: `docker compose down` removes it, and `up` after a new build
    or a changed setting recreates the container from the image (Docker docs,
    "Storage": "Data written to the container layer doesn't persist when the
    container is destroyed"). A SQLite file that is not under a
    named volume or a bind mount of the service is therefore lost, silently:
    the app starts again with an empty database. flyconf finds the database
    where the app declares it (the service's `environment` and `env_file`, the
    image's ENV, Rails config/database.yml, Django settings, schema.prisma,
    Ecto config, Laravel `DB_*`...), resolved against the service's
    `working_dir` or the image's WORKDIR. `flyconf fix` adds a named volume
    for the database's directory, in the service and under top-level `volumes`.
    """,
    bad=("services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: file:/app/data/app.db\n"),
    good=("services:\n  web:\n    build: .\n    environment:\n      DATABASE_URL: file:/app/data/app.db\n"
          "    volumes:\n      - data:/app/data\n\nvolumes:\n  data:\n"),
    fixable=True,
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_ANONYMOUS = declare(
    "FC412", "compose-sqlite-anonymous-volume", "warning",
    "A SQLite database is on an anonymous volume (`- /data`, or the image's VOLUME): `down` then `up` starts empty.",
    """
    An anonymous volume (a `volumes` entry with only a container path, such
    as `- /data`, or a `VOLUME` of the image that Compose mounts nothing over)
    has no stable name. `docker compose down` leaves it behind, and "as they
    don't have a stable name, they are not automatically mounted by a
    subsequent `up`" (Docker docs, `docker compose down`): the next `up`
    creates a new, empty one, and the database starts over; `up
    --renew-anon-volumes` does the same. Give the volume a name (`- data:/data`
    and `data:` under top-level `volumes`).
    """,
    bad="services:\n  web:\n    build: .\n    environment:\n      DB_PATH: /data/app.db\n    volumes:\n      - /data\n",
    good=("services:\n  web:\n    build: .\n    environment:\n      DB_PATH: /data/app.db\n    volumes:\n"
          "      - data:/data\n\nvolumes:\n  data:\n"),
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_UNDECLARED = declare(
    "FC413", "compose-volume-undeclared", "error",
    "A service uses a named volume that is not declared under the top-level `volumes`: Compose refuses the file.",
    """
    A named volume must be declared in the top-level `volumes` section
    (Compose specification, "Volumes top-level element": "To reuse a volume
    across multiple services, a named volume must be declared"). Compose checks
    it when it loads the project and stops: `service "web" refers to undefined
    volume data: invalid compose project`. A source that starts with `.`, `/`
    or `~` is a bind mount and needs no declaration; any other source is a
    volume name.
    """,
    bad="services:\n  web:\n    image: app\n    volumes:\n      - data:/data\n",
    good="services:\n  web:\n    image: app\n    volumes:\n      - data:/data\n\nvolumes:\n  data:\n",
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_UNUSED = declare(
    "FC414", "compose-volume-unused", "info",
    "A volume is declared under the top-level `volumes` but no service mounts it.",
    """
    A top-level volume that no service mounts keeps nothing: Compose creates it
    and it stays empty. Often a service meant to use it mounts a host directory
    with the same name instead (`./data:/data` is a bind mount, not the volume
    `data`), or the entry is left over (Compose specification, "Volumes
    top-level element": a declared volume is created whether or not a service
    uses it). Reported as information: the file works, but the data may not be
    where you think.
    """,
    bad="services:\n  web:\n    image: app\n    volumes:\n      - ./data:/data\n\nvolumes:\n  data:\n",
    good="services:\n  web:\n    image: app\n    volumes:\n      - data:/data\n\nvolumes:\n  data:\n",
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_NOT_SHARED = declare(
    "FC415", "compose-sqlite-volume-not-shared", "error",
    "Two services open the same SQLite path, and only one of them has the volume that holds it.",
    """
    Each container has its own file system (Docker docs, "Storage": data
    written to a container's writable layer does not persist and is not shared
    with other containers): a path is the same file in two services only when
    both mount the same volume (or bind mount) there. When
    `web` keeps /data/app.db on a volume and `worker` (built from the same
    image) has no mount at /data, the worker opens a file of its own, empty and
    thrown away with its container, and never sees the web's data. This is the
    Compose form of a Fly process group without the mount
    (`sqlite-not-on-volume`). Mount the same volume in both services.
    """,
    bad=("services:\n  web:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n    volumes: [data:/data]\n"
         "  worker:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n\nvolumes:\n  data:\n"),
    good=("services:\n  web:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n    volumes: [data:/data]\n"
          "  worker:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n    volumes: [data:/data]\n\n"
          "volumes:\n  data:\n"),
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_TMPFS = declare(
    "FC416", "compose-sqlite-on-tmpfs", "error",
    "A SQLite database is on a tmpfs mount: it lives in memory and is gone when the container stops.",
    """
    A tmpfs mount (`tmpfs:` or a `type: tmpfs` volume) is a file system in the
    host's memory: when the container stops, the mount is removed and the files
    written there are not kept (Docker docs, "tmpfs mounts"). A database there
    does not survive a restart, let alone a new deployment. Use a named
    volume. (Test and CI files, such as
    `docker-compose.test.yml`, are not checked: a throw-away database is the
    point there.)
    """,
    bad="services:\n  web:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n    tmpfs: /data\n",
    good=("services:\n  web:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n    volumes: [data:/data]\n\n"
          "volumes:\n  data:\n"),
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_READ_ONLY = declare(
    "FC417", "compose-sqlite-read-only", "error",
    "A `read_only: true` service keeps its SQLite database outside any volume: SQLite cannot write it.",
    """
    `read_only: true` creates the container with a read-only root file system
    (Compose specification, services `read_only`). Only mounts (volumes, bind
    mounts, tmpfs) are writable. A SQLite database elsewhere cannot be created
    or written: SQLite fails with "unable to open database file" or "attempt
    to write a readonly database" (it also needs to create its journal or WAL
    file beside the database). Mount a named volume at the database's
    directory, which also keeps the data.
    """,
    bad="services:\n  web:\n    build: .\n    read_only: true\n    environment: [DB_PATH=/app/data/app.db]\n",
    good=("services:\n  web:\n    build: .\n    read_only: true\n    environment: [DB_PATH=/app/data/app.db]\n"
          "    volumes: [data:/app/data]\n\nvolumes:\n  data:\n"),
    fixable=True,
    family="compose",
    example_file="compose.yaml",
)

COMPOSE_BIND_OVER_APP = declare(
    "FC418", "compose-bind-mount-over-app", "warning",
    "A production Compose file bind-mounts the source tree over the directory where the image has its code.",
    """
    A bind mount hides what the image has at its target (Docker docs, "Bind
    mounts": mounting into a non-empty directory obscures its existing
    contents): the container runs
    the files of the host's checkout, not the image that was built and tested,
    and whatever the build put there (installed dependencies such as
    node_modules or vendor/bundle, compiled assets) is gone. That is a
    development set-up (live reload); in production it ships a different app
    than the image. A file counts as meant for production when its name says
    so (`docker-compose.prod.yml`, `compose.production.yaml`), or when it is a
    default file (compose.yaml...) merged with no override file and its
    services have `restart:` policies; a service whose environment says
    development (`NODE_ENV=development`, `RAILS_ENV=development`...) is not
    checked. Mount only the directories that hold data.
    """,
    bad=("==> docker-compose.prod.yml <==\nservices:\n  web:\n    build: .\n    restart: always\n    volumes:\n"
         "      - .:/app\n\n==> Dockerfile <==\nFROM node:22-slim\nWORKDIR /app\nCOPY . .\n"
         'CMD ["node", "server.js"]\n'),
    good=("==> docker-compose.prod.yml <==\nservices:\n  web:\n    build: .\n    restart: always\n    volumes:\n"
          "      - data:/app/data\n\nvolumes:\n  data:\n\n==> Dockerfile <==\nFROM node:22-slim\nWORKDIR /app\n"
          'COPY . .\nCMD ["node", "server.js"]\n'),
    family="compose",
    example_file="docker-compose.prod.yml",
)


# -- the file and the model --------------------------------------------------------------------------

@check("compose")
def check_structure(unit: "ComposeUnit") -> Iterator[Diagnostic]:
    for doc in unit.project.files:
        for message, span in doc.problems:
            yield COMPOSE_SYNTAX.diagnostic(doc, span, message, hint="remove one of the two; Compose takes neither")
    for message, at in unit.project.structure:
        yield COMPOSE_SYNTAX.diagnostic(at.doc, at.span, message)


@check("compose")
def check_volumes(unit: "ComposeUnit") -> Iterator[Diagnostic]:
    from flyconf.compose.project import VOLUME

    project = unit.project
    if not project.complete:
        return  # an `include` or `extends` file flyconf could not read may declare or use them
    used: set[str] = set()
    for sa in unit.services:
        service = sa.service
        for mount in service.own_mounts():
            if mount.type != VOLUME or mount.source is None:
                continue
            used.add(mount.source)
            if mount.source in project.volumes:
                continue
            at = mount.source_at or mount.at
            yield COMPOSE_UNDECLARED.diagnostic(
                at.doc, at.span,
                f"service `{service.name}` mounts the named volume `{mount.source}`, which is not declared under the "
                f"top-level `volumes`: Compose refuses the file (`service \"{service.name}\" refers to undefined "
                f"volume {mount.source}`)",
                hint=f"add `volumes:` with `{mount.source}:` at the top level of {_base(project)}, or write a host "
                     f"path (`./{mount.source}`) for a bind mount",
            )
    for name, decl in project.volumes.items():
        if name not in used:
            yield COMPOSE_UNUSED.diagnostic(
                decl.at.doc, decl.at.span,
                f"the volume `{name}` is declared but no service mounts it" + _bind_named_like(unit, name),
                hint=f"mount it (`- {name}:/path`) where the data is written, or remove it",
            )


def _base(project: Any) -> str:
    name: str = posixpath.basename(project.base.display_path)
    return name


def _bind_named_like(unit: "ComposeUnit", name: str) -> str:
    from flyconf.compose.project import BIND

    for sa in unit.services:
        for mount in sa.service.own_mounts():
            if mount.type == BIND and mount.source and posixpath.basename(mount.source.rstrip("/")) == name:
                return (f" (service `{sa.name}` bind-mounts the host directory {mount.source} at {mount.target}, "
                        "which is not this volume)")
    return ""


# -- SQLite ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """A finding about one database of one service: shared by the rules and by `flyconf fix`."""

    service: "ServiceApp"
    db: "Found"
    placement: "Placement"
    rule: Rule
    at: "Location"
    message: str
    hint: str

    def diagnostic(self) -> Diagnostic:
        return self.rule.diagnostic(self.at.doc, self.at.span, self.message, hint=self.hint)


@check("compose")
def check_sqlite(unit: "ComposeUnit") -> Iterator[Diagnostic]:
    for verdict in sqlite_verdicts(unit):
        yield verdict.diagnostic()


def sqlite_verdicts(unit: "ComposeUnit") -> Iterator[Verdict]:
    from flyconf.compose.apps import anchor, placement

    project = unit.project
    found: list[tuple["ServiceApp", "Found", "Placement"]] = []
    for sa in unit.services:
        seen: set[str] = set()
        for db in sa.databases():
            if db.path is None or db.path in seen:
                continue
            seen.add(db.path)
            found.append((sa, db, placement(sa, db)))
    kept: dict[str | None, tuple["ServiceApp", "Placement"]] = {}
    for sa, db, p in found:
        if p.keeps_data:
            kept.setdefault(db.path, (sa, p))  # the first service, in file order, that keeps it
    for sa, db, placed in found:
        kind = placed.kind
        service = sa.service
        at = anchor(sa, db)
        declared = "" if at == db.declared else f" (declared at {db.declared})"
        what = f"{_label(db)}{declared} puts the SQLite database at {db.path}"
        what_elsewhere = f"{_label(db)} (declared at {db.declared}) puts the SQLite database at {db.path}"
        directory = posixpath.dirname(db.path or "/")
        if kind == "none" and service.is_read_only:
            ro = service.read_only
            assert ro is not None
            yield Verdict(sa, db, placed, COMPOSE_READ_ONLY, at,
                          f"service `{service.name}` has `read_only: true` (at {ro.at}), and {what}, which is on no "
                          "volume: SQLite cannot create or write it on a read-only file system",
                          f"mount a named volume at {directory} (`flyconf fix` adds one)")
            continue
        if project.is_test:
            continue  # a test or CI file: a throw-away database is the point
        if kind == "none":
            other = kept.get(db.path)
            if other is not None and other[0] is not sa:
                holder, held = other
                mount = held.mount
                yield Verdict(sa, db, placed, COMPOSE_NOT_SHARED, at,
                              f"service `{service.name}` opens {db.path} ({_label(db)}{declared}), which service "
                              f"`{holder.name}` keeps on its {mount.describe() if mount else 'volume'}, but "
                              f"`{service.name}` has no mount there: it writes a throw-away copy of its own and never "
                              f"sees `{holder.name}`'s data",
                              f"mount the same volume in `{service.name}` (`- {_volume_spec(mount)}`)")
                continue
            yield Verdict(sa, db, placed, COMPOSE_NOT_ON_VOLUME, at,
                          f"service `{service.name}`: {what}, which is not under a named volume or bind mount of the "
                          "service: `docker compose down`, or a new image, loses the data and the app starts again "
                          "with an empty database" + _mounts_note(service),
                          f"mount a named volume at {directory} (`flyconf fix` adds it to the service and under "
                          "top-level `volumes`)")
        elif kind == "anonymous":
            mount = placed.mount
            where = mount.at if mount is not None and service.defines(mount.at) else service.at
            by = ("an anonymous volume (a `volumes` entry with no name)" if mount is not None and not mount.origin
                  else f"the image's `VOLUME {mount.target}` ({mount.at}), an anonymous volume" if mount is not None
                  else "an anonymous volume")
            yield Verdict(sa, db, placed, COMPOSE_ANONYMOUS, where,
                          f"service `{service.name}`: {what if where == at else what_elsewhere}, on {by}: "
                          "`docker compose down` then `up` mounts a new, empty volume, and the database starts over",
                          f"name the volume: `- data:{mount.target if mount else directory}` and `data:` under "
                          "top-level `volumes`")
        elif kind == "tmpfs":
            mount = placed.mount
            where = mount.at if mount is not None and service.defines(mount.at) else at
            yield Verdict(sa, db, placed, COMPOSE_TMPFS, where,
                          f"service `{service.name}`: {what if where == at else what_elsewhere}, on the tmpfs at "
                          f"{mount.target if mount else '?'}: it is kept in memory and lost whenever the container "
                          "stops",
                          "use a named volume for the database's directory instead of tmpfs")


def _label(db: "Found") -> str:
    from flyconf.rules.sqlite import label

    return label(db)


def _mounts_note(service: object) -> str:
    from flyconf.compose.project import BIND, VOLUME

    mounts = [m for m in service.mounts if m.type in (VOLUME, BIND) and m.target]  # type: ignore[attr-defined]
    if not mounts:
        return ""
    return " (its volumes are at " + ", ".join(sorted({m.target for m in mounts})) + ")"


def _volume_spec(mount: object) -> str:
    if mount is None:
        return "data:/data"
    source = getattr(mount, "source", None) or "data"
    return f"{source}:{getattr(mount, 'target', '/data')}"


# -- production -------------------------------------------------------------------------------------------

@check("compose")
def check_bind_over_app(unit: "ComposeUnit") -> Iterator[Diagnostic]:
    from flyconf.app import is_under
    from flyconf.compose.project import BIND

    why = unit.project.production()
    if why is None:
        return
    for sa in unit.services:
        service, app = sa.service, sa.app
        if app.image is None or app.directory is None or service.development is not None:
            continue
        code_dirs = _code_dirs(sa)
        if not code_dirs:
            continue
        context = app.directory
        for mount in service.own_mounts():
            if mount.type != BIND or mount.host is None or mount.target in (None, "/"):
                continue
            if not (mount.host == context or _inside(context, mount.host)):
                continue  # not the source tree (a data directory, a config file)
            hidden = [d for d in code_dirs if is_under(d, mount.target)]
            if not hidden:
                continue
            yield COMPOSE_BIND_OVER_APP.diagnostic(
                mount.at.doc, mount.at.span,
                f"service `{service.name}` bind-mounts the source tree {mount.source} over {mount.target}, where the "
                f"image has its code ({', '.join(sorted(hidden))}): the container runs the host's files, not the "
                f"image's, and what the build installed there is hidden; this file is meant for production ({why})",
                hint="remove the bind mount (the image has the code); mount only the directories that hold data",
            )


def _inside(path: object, directory: object) -> bool:
    try:
        path.relative_to(directory)  # type: ignore[attr-defined]
        return True
    except ValueError:
        return False


def _code_dirs(sa: "ServiceApp") -> list[str]:
    """Where the image has files of the build context: the destinations of COPY/ADD (not --from)."""
    from flyconf.databases.model import normpath
    from flyconf.sources.dockerfile import process_word

    image = sa.app.image
    out: set[str] = set()
    env = {k: v for k, (v, _ins) in image.env.items()}
    for ins, at_workdir in image.copies:
        if ins.flag("from") is not None or ins.heredocs or len(ins.value) < 2:
            continue
        dest = process_word(ins.value[-1], env)
        out.add(normpath(posixpath.join(at_workdir or "/", dest)))
    return sorted(d for d in out if d != "/")
