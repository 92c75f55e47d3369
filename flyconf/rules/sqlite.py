"""SQLite and migrations: the mistakes that lose data on Fly, and why flyconf exists."""

from __future__ import annotations

from typing import Iterator

from flyconf.app import App, Database
from flyconf.diagnostics import Diagnostic
from flyconf.migrations import find_migration
from flyconf.registry import check, declare

RELEASE_SQLITE = declare(
    "FC401", "release-command-sqlite", "error",
    "`release_command` migrates a SQLite database, but the release Machine has no volume.",
    """
    `release_command` runs on a temporary Machine that has no volumes (Fly sets
    RELEASE_COMMAND=1 there) and whose files are thrown away. For a database
    server that is fine; for SQLite on a volume the migration runs against a
    fresh, empty file that disappears, and the real database on each Machine
    is never migrated. Migrate on every Machine at start-up instead, before the
    server starts: `flyconf generate entrypoint` writes a wrapper that does it.
    The same holds for `seed_command`. Sources: Fly's docs (reference/
    configuration, "Things to know about release_command"); superfly/flyctl
    internal/appconfig/machines.go `ToReleaseMachineConfig` gives that Machine
    no mounts.
    """,
    bad=('[deploy]\nrelease_command = "npx prisma migrate deploy"\n\n[env]\nDATABASE_URL = "file:/data/app.db"\n\n'
         '[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    good=('# Dockerfile: ENTRYPOINT ["/app/bin/fly-entrypoint"]  (migrates, then execs the server)\n\n'
          '[env]\nDATABASE_URL = "file:/data/app.db"\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    fixable=True,
    family="sqlite",
)

NOT_ON_VOLUME = declare(
    "FC402", "sqlite-not-on-volume", "error",
    "The SQLite database is not under the destination of any mount: every deploy and restart loses it.",
    """
    A Machine's root file system is rebuilt from the image on every deploy and
    every restart. A SQLite file that is not under a `[mounts]` destination is
    therefore lost each time, silently: the app starts with an empty database.
    Put the file on a volume (or, for LiteFS, keep it under LiteFS's FUSE
    directory with LiteFS's data directory on a volume). Relative paths are
    resolved against the working directory (the image's WORKDIR; Prisma
    resolves `file:./x.db` against the directory of schema.prisma). Source:
    Fly's docs (Fly Volumes overview; Machines: the root file system is
    ephemeral).
    """,
    bad='[env]\nDATABASE_URL = "sqlite3:///rails/storage/production.sqlite3"\n',
    good=('[env]\nDATABASE_URL = "sqlite3:///data/production.sqlite3"\n\n'
          '[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    fixable=True,
    family="sqlite",
)

MULTIPLE_MACHINES = declare(
    "FC403", "sqlite-multiple-machines", "warning",
    "SQLite on a volume with more than one Machine: each Machine has its own copy, and they diverge.",
    """
    A volume belongs to one Machine and is never shared or replicated. With
    `min_machines_running` above 1, or several process groups that each mount a
    volume and use the same database, every Machine writes its own SQLite file:
    users see different data depending on which Machine answers. Use LiteFS to
    replicate SQLite, or a server database (Postgres) for several Machines.
    Source: Fly's docs (Fly Volumes overview: a volume is attached to one
    Machine and is not replicated).
    """,
    bad=('[env]\nDATABASE_URL = "file:/data/app.db"\n\n[http_service]\ninternal_port = 8080\n'
         'min_machines_running = 2\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    good=('[env]\nDATABASE_URL = "file:/data/app.db"\n\n[http_service]\ninternal_port = 8080\n'
          'min_machines_running = 1\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    family="sqlite",
)


def _db_place(db: Database) -> str:
    return f"`{db.variable}`" + (" (Dockerfile ENV)" if db.source.origin == "Dockerfile" else "")


@check("app")
def check_sqlite(app: App) -> Iterator[Diagnostic]:
    if not app.databases:
        return
    yield from _release(app)
    yield from _on_volume(app)
    yield from _multiple(app)


def _release(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    deploy = app.data.get("deploy")
    if not isinstance(deploy, dict):
        return
    db = app.databases[0]
    for key in ("release_command", "seed_command"):
        command = deploy.get(key)
        if not isinstance(command, str):
            continue
        migration = find_migration(command)
        if migration is None:
            continue
        litefs = app.placement(db).litefs
        where = "LiteFS" if litefs else "SQLite"
        verb = "seeds" if key == "seed_command" else "migrates"
        yield RELEASE_SQLITE.diagnostic(
            doc, doc.value_span(("deploy", key)),
            fixable=key == "release_command" and app.dockerfile is not None and not litefs,
            message=f"`{key}` {verb} ({migration.tool}: `{migration.text}`) on the release Machine, which has no volume, "
            f"but the {where} database {_db_place(db)} = {db.path} is a file on each Machine, not on the release "
            "Machine: the real database is never migrated",
            hint="remove it here and migrate at start-up on every Machine: `flyconf generate entrypoint` writes the "
                 "wrapper (`flyconf fix` moves it for you)"
                 + ("; with LiteFS, run the migration in litefs.yml `exec` with `if-candidate: true`" if litefs else ""),
        )


def _on_volume(app: App) -> Iterator[Diagnostic]:
    for db in app.databases:
        placed = app.placement(db)
        if not placed.lost:
            continue
        doc, place = app.where(db.source)
        name = db.path.rsplit("/", 1)[-1]
        if placed.kind == "three-slash":
            yield NOT_ON_VOLUME.diagnostic(
                doc, place, fixable=False,
                message=f"{_db_place(db)} = `{db.raw}`: SQLAlchemy and dj-database-url read three slashes as the "
                f"relative path `{db.path}` (under the working directory), not {db.url_path} on the volume",
                hint=f"write four slashes for an absolute path: `sqlite:///{db.url_path}`",
            )
        elif placed.kind == "relative":
            prisma = db.raw.startswith("file:")
            yield NOT_ON_VOLUME.diagnostic(
                doc, place,
                f"{_db_place(db)} is the relative path `{db.path}`, resolved against the working directory "
                f"({'the directory of schema.prisma, for Prisma' if prisma else 'the image WORKDIR'}), "
                "which is not on a volume: every deploy and restart loses the database",
                hint=f"use an absolute path under a mount destination, e.g. `/data/{name}`",
            )
        elif placed.kind == "litefs-data":
            litefs = placed.litefs
            assert litefs is not None and litefs.config is not None
            yield NOT_ON_VOLUME.diagnostic(
                doc, place, fixable=False,
                message=f"{_db_place(db)} is under LiteFS's FUSE directory {litefs.fuse_dir}, but LiteFS stores its "
                f"data in {litefs.data_dir} ({litefs.config.name}), which is not under any mount destination",
                hint=f"mount the volume at {litefs.data_dir}, or set `data.dir` to a directory on the volume",
            )
        elif placed.kind == "no-mounts":
            config = app.fly.display_path.rsplit("/", 1)[-1] if db.source.origin != "fly.toml" else "the app"
            yield NOT_ON_VOLUME.diagnostic(
                doc, place,
                f"{_db_place(db)} puts the SQLite database at {placed.path}, but {config} has no `[mounts]`: "
                "every deploy and every restart loses the data",
                hint='add a volume: `[[mounts]]` with `source = "data"` and `destination = "/data"`, and put the '
                     f"database under it, e.g. /data/{name}",
            )
        else:  # elsewhere
            dests = sorted({m.get("destination") for m in app.entries("mounts")
                            if isinstance(m.get("destination"), str)})
            first = next((d for d in dests if d.startswith("/")), "/data")
            yield NOT_ON_VOLUME.diagnostic(
                doc, place,
                f"{_db_place(db)} puts the SQLite database at {placed.path}, which is not under the mount "
                f"destination{'s' if len(dests) > 1 else ''} {', '.join(dests)}: every deploy and every restart "
                "loses the data",
                hint=f"point it under {first}, e.g. {first.rstrip('/')}/{name}",
            )


def _multiple(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    placed = next((p for p in map(app.placement, app.databases) if p.kind == "on-volume" and p.path), None)
    if placed is None or placed.path is None or placed.litefs is not None:
        return  # not on a volume (another rule says so), or LiteFS, which replicates
    path = placed.path
    holders = [g for g in app.groups if app.mount_containing(path, [g]) is not None]
    if not holders:
        return
    for service in app.services():
        count = service.get("min_machines_running")
        if not isinstance(count, int) or isinstance(count, bool) or count <= 1:
            continue
        served = app.groups_of(service)
        if any(g in holders for g in served):
            yield MULTIPLE_MACHINES.diagnostic(
                doc, doc.value_span(service.key("min_machines_running")),
                f"min_machines_running = {count} keeps {count} Machines running, each with its own volume and its own "
                f"copy of the SQLite database {path}: the copies diverge silently",
                hint="keep one Machine (min_machines_running = 1), replicate with LiteFS, or use Postgres",
            )
    if len(holders) > 1:
        second = app.mounts_of(holders[1])[0]
        yield MULTIPLE_MACHINES.diagnostic(
            doc, doc.key_span(second.path),
            f"process groups {', '.join(f'`{g}`' for g in holders)} each mount a volume holding {path}: each "
            "group's Machines get their own copy of the database, and the copies diverge",
            hint="let one group own the database and have the others call it, or use LiteFS or Postgres",
        )

