"""SQLite, LiteFS and migrations: the mistakes that lose data on Fly, and why flyconf exists.

Every rule here starts from database discovery (flyconf.databases): the app's
databases as its own configuration declares them (database.yml, settings.py,
schema.prisma, runtime.exs, `DB_*`, fly.toml `[env]`...), each with the place
where it is declared. A finding about a database points at that place.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Iterator

from flyconf.app import App, Placement
from flyconf.diagnostics import Diagnostic
from flyconf.registry import check, declare
from flyconf.sources.base import Document

if TYPE_CHECKING:
    from flyconf.databases.model import Found
    from flyconf.migrations import Migration

RELEASE_SQLITE = declare(
    "FC401", "release-command-sqlite", "error",
    "`release_command` migrates a SQLite database, but the release Machine has no volume.",
    """
    `release_command` runs on a temporary Machine that has no volumes (Fly sets
    RELEASE_COMMAND=1 there) and whose files are thrown away (Fly's docs,
    reference/configuration, "Things to know about release_command"; flyctl
    internal/appconfig/machines.go `ToReleaseMachineConfig` gives that Machine
    no mounts).
    For a database server that is fine; for SQLite the migration runs against a
    fresh, empty file that disappears, and the real database on each Machine is
    never migrated. This holds whatever the database's path, even when flyconf
    cannot see it. Migrate on every Machine at start-up instead, before the
    server starts: `flyconf generate entrypoint` writes a wrapper that does it.
    The same holds for `seed_command`.
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
    "A SQLite database is not on a volume of every process group that opens it: deploys and restarts lose it.",
    """
    A Machine's root file system is rebuilt from the image on every deploy and
    every restart (Fly's docs, "Fly Volumes overview"). A SQLite file that is
    not under a `[mounts]` destination is therefore lost each time, silently:
    the app starts with an empty database. The same holds for a process group
    that opens the database but has no mount holding it (a worker group): its
    Machines write their own throw-away copy. flyconf finds the database where
    the app declares it (fly.toml `[env]`, Dockerfile `ENV`, Rails
    config/database.yml, Django settings, schema.prisma, Ecto config, Laravel
    `DB_*`, Drizzle, Knex, literal paths in code) and resolves relative paths
    against the directory the framework uses in the image. Put the file on a
    volume, or use LiteFS (its data directory on a volume) or Litestream
    (restored at start-up).
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
    A volume belongs to one Machine and is never shared or replicated (Fly's
    docs, "Fly Volumes overview"). With `min_machines_running` above 1, or
    several process groups that each mount a volume and use the same database,
    every Machine writes its own SQLite file: users see different data
    depending on which Machine answers. Use LiteFS to replicate SQLite, or a
    server database (Postgres) for several Machines.
    """,
    bad=('[env]\nDATABASE_URL = "file:/data/app.db"\n\n[http_service]\ninternal_port = 8080\n'
         'min_machines_running = 2\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    good=('[env]\nDATABASE_URL = "file:/data/app.db"\n\n[http_service]\ninternal_port = 8080\n'
          'min_machines_running = 1\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n'),
    family="sqlite",
)

# The litefs.yml and Dockerfile of a LiteFS app, for the examples of the LiteFS rules (each adds its fly.toml).
_LITEFS_IMAGE = (
    "==> litefs.yml <==\n"
    "fuse:\n"
    "  dir: \"/litefs\"\n"
    "data:\n"
    "  dir: \"/var/lib/litefs\"\n"
    "==> Dockerfile <==\n"
    "FROM node:20\n"
    "WORKDIR /app\n"
    "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
    "COPY litefs.yml /etc/litefs.yml\n"
    "COPY . .\n"
    "ENTRYPOINT [\"litefs\", \"mount\"]\n"
)

LITEFS_DATA = declare(
    "FC404", "litefs-data-not-on-volume", "error",
    "LiteFS's data directory is not on a volume of every process group that runs LiteFS.",
    """
    LiteFS serves databases from its FUSE directory (`fuse.dir`) but stores
    them, with its transaction files, in its data directory (`data.dir`,
    default /var/lib/litefs; superfly/litefs cmd/litefs/config.go). The FUSE
    directory holds nothing of its own; the data directory is what must be on a
    volume, as LiteFS's sample configuration says ("We'll mount a volume to the
    data directory so it can be persisted across restarts"). Without it, every
    restart starts the node empty, and when every Machine restarts at once (a
    deploy) no copy of the data is left to replicate from.
    """,
    bad=(
        "==> litefs.yml <==\n"
        "fuse:\n"
        "  dir: \"/litefs\"\n"
        "data:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/data\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
        "COPY litefs.yml /etc/litefs.yml\n"
        "COPY . .\n"
        "ENTRYPOINT [\"litefs\", \"mount\"]\n"
    ),
    good=(
        "==> litefs.yml <==\n"
        "fuse:\n"
        "  dir: \"/litefs\"\n"
        "data:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
        "COPY litefs.yml /etc/litefs.yml\n"
        "COPY . .\n"
        "ENTRYPOINT [\"litefs\", \"mount\"]\n"
    ),
    family="sqlite",
)

LITEFS_FUSE_IN_DATA = declare(
    "FC405", "litefs-fuse-in-data-dir", "error",
    "LiteFS's FUSE directory and its data directory are the same path.",
    """
    LiteFS refuses to start when `fuse.dir` and `data.dir` are the same path
    ("fuse directory and data directory cannot be the same path",
    superfly/litefs cmd/litefs/mount_linux.go, MountCommand.Validate; before
    that check existed the mount hung, superfly/litefs#135). A FUSE directory
    inside the data directory is not reported: LiteFS accepts it, and real
    apps run that way (the older `mount-dir: /data/dbs/x` with `data-dir:
    /data` layout).
    """,
    bad=(
        "==> litefs.yml <==\n"
        "fuse:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "data:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
        "COPY litefs.yml /etc/litefs.yml\n"
        "COPY . .\n"
        "ENTRYPOINT [\"litefs\", \"mount\"]\n"
    ),
    good=(
        "==> litefs.yml <==\n"
        "fuse:\n"
        "  dir: \"/litefs\"\n"
        "data:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
        "COPY litefs.yml /etc/litefs.yml\n"
        "COPY . .\n"
        "ENTRYPOINT [\"litefs\", \"mount\"]\n"
    ),
    family="sqlite",
)

LITEFS_MIGRATION_REPLICAS = declare(
    "FC406", "litefs-migration-on-replicas", "warning",
    "A migration in litefs.yml `exec` runs on every node, replicas included, without `if-candidate: true`.",
    """
    LiteFS is a single-writer system: only the primary can write, and replicas
    refuse writes (Fly's docs, "LiteFS: Running database migrations"). An
    `exec` command without `if-candidate: true` runs on every node, so on a
    replica the migration fails (and LiteFS stops when an `exec` command
    fails, restarting the Machine) or writes nothing. The documented set-up is
    `lease.promote: true`, candidates limited to the primary region, and the
    migration as an `exec` entry with `if-candidate: true` before the server.
    """,
    bad=(
        "==> litefs.yml <==\n"
        "fuse:\n"
        "  dir: \"/litefs\"\n"
        "data:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "exec:\n"
        "  - cmd: \"npx prisma migrate deploy\"\n"
        "  - cmd: \"npm start\"\n"
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
        "COPY litefs.yml /etc/litefs.yml\n"
        "COPY . .\n"
        "ENTRYPOINT [\"litefs\", \"mount\"]\n"
    ),
    good=(
        "==> litefs.yml <==\n"
        "fuse:\n"
        "  dir: \"/litefs\"\n"
        "data:\n"
        "  dir: \"/var/lib/litefs\"\n"
        "exec:\n"
        "  - cmd: \"npx prisma migrate deploy\"\n"
        "    if-candidate: true\n"
        "  - cmd: \"npm start\"\n"
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs\n"
        "COPY litefs.yml /etc/litefs.yml\n"
        "COPY . .\n"
        "ENTRYPOINT [\"litefs\", \"mount\"]\n"
    ),
    family="sqlite",
)

LITEFS_AUTO_STOP = declare(
    "FC407", "litefs-auto-stop", "info",
    "LiteFS with `auto_stop_machines`: Fly's proxy may stop the primary, and writes wait for a new one.",
    """
    With `auto_stop_machines` on, Fly's proxy stops idle Machines, the LiteFS
    primary among them. Replicas then cannot write until a candidate takes the
    lease, requests that land on a stopped primary wait for it to start, and a
    replica that stays stopped longer than LiteFS's retention (`data.retention`,
    10 minutes by default) needs a full snapshot when it starts. Reported as
    information: it works, with these costs (superfly/litefs#430 shows the
    proxy timeouts it can cause). Keep the primary region's Machines running
    (`min_machines_running`, or `auto_stop_machines = "off"`).
    """,
    bad=(
        "==> fly.toml <==\n"
        "[http_service]\n"
        "internal_port = 8080\n"
        "auto_stop_machines = \"stop\"\n"
        "min_machines_running = 0\n"
        "\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        + _LITEFS_IMAGE
    ),
    good=(
        "==> fly.toml <==\n"
        "[http_service]\n"
        "internal_port = 8080\n"
        "auto_stop_machines = \"off\"\n"
        "\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        + _LITEFS_IMAGE
    ),
    family="sqlite",
)


LITEFS_BYPASS = declare(
    "FC408", "litefs-data-dir-used-directly", "warning",
    "The app opens its SQLite database inside LiteFS's data directory instead of its FUSE directory.",
    """
    LiteFS replicates only what the app writes through its FUSE directory
    (`fuse.dir`); its data directory (`data.dir`) is LiteFS's own storage, and
    LiteFS's sample configuration says "this data should not be accessed
    directly by the user application" (superfly/litefs
    cmd/litefs/etc/litefs.yml). A database opened there is on the volume but is
    not replicated, and it sits among the files LiteFS manages. Open it under
    the FUSE directory instead.
    """,
    bad=(
        "==> fly.toml <==\n"
        "[env]\n"
        "DATABASE_PATH = \"/var/lib/litefs/app.db\"\n"
        "\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        + _LITEFS_IMAGE
    ),
    good=(
        "==> fly.toml <==\n"
        "[env]\n"
        "DATABASE_PATH = \"/litefs/app.db\"\n"
        "\n"
        "[[mounts]]\n"
        "source = \"litefs\"\n"
        "destination = \"/var/lib/litefs\"\n"
        + _LITEFS_IMAGE
    ),
    family="sqlite",
)


def label(db: "Found") -> str:
    """How findings name a database: "`DATABASE_URL`" or "the Rails database `primary`"."""
    if db.reader == "env":
        origin = db.chain[0].text if db.chain else ""
        return f"`{db.name}`" + (" (Dockerfile ENV)" if "Dockerfile" in origin else "")
    names = {"rails": "Rails", "django": "Django", "prisma": "Prisma", "phoenix": "Ecto", "laravel": "Laravel",
             "drizzle": "Drizzle", "knex": "Knex", "node": "Node", "go": "Go", "rust": "Rust",
             "pocketbase": "PocketBase"}
    return f"the {names.get(db.framework, db.framework)} database `{db.name}`"


@check("app")
def check_sqlite(app: App) -> Iterator[Diagnostic]:
    dbs = app.databases
    if dbs:
        yield from _release(app, dbs)
        yield from _on_volume(app, dbs)
        yield from _multiple(app, dbs)
    if app.runs_litefs is not None:
        yield from _litefs(app)


# -- release-command-sqlite -----------------------------------------------------------------------------

def release_migrations(app: App) -> list[tuple[str, "Migration"]]:
    """The `[deploy]` commands that migrate (or seed) the app's SQLite database on the release Machine, as
    (key, migration) for `release_command` and `seed_command`. This rule reports each; `flyconf fix` moves
    `release_command` (one predicate for both, so that `[*]` promises what fix does)."""
    from flyconf.migrations import migration_in

    deploy = app.data.get("deploy")
    if not isinstance(deploy, dict) or not app.databases:
        return []
    out = []
    for key in ("release_command", "seed_command"):
        command = deploy.get(key)
        if not isinstance(command, str):
            continue
        migration = migration_in(command, app)
        if migration is not None:
            out.append((key, migration))
    return out


def _release(app: App, dbs: list["Found"]) -> Iterator[Diagnostic]:
    doc = app.fly
    db = next((d for d in dbs if d.path is not None), dbs[0])
    for key, migration in release_migrations(app):
        placed = app.placement(db)
        litefs = placed.litefs if placed.kind in ("litefs", "litefs-data") else None
        verb = "seeds" if key == "seed_command" else "migrates"
        where = f"= {db.path}" if db.path else f"({db.unknown or 'its path is not known'})"
        via = f"; {migration.via}" if migration.via else ""
        # Whether `flyconf fix` moves it ([*]) is decided by flyconf.generate.fix, for lint and fix alike.
        yield RELEASE_SQLITE.diagnostic(
            doc, doc.value_span(("deploy", key)),
            message=f"`{key}` {verb} ({migration.tool}: `{migration.text}`{via}) on the release Machine, which has no "
            f"volume, but {label(db)} {where} is a {'LiteFS' if litefs else 'SQLite'} file on each Machine, declared "
            f"at {db.declared}: the real database is never migrated",
            hint="remove it here and migrate at start-up on every Machine: `flyconf generate entrypoint` writes the "
                 "wrapper and `flyconf generate dockerfile` makes the image start through it"
                 + ("; with LiteFS, run the migration in litefs.yml `exec` with `if-candidate: true`"
                    if litefs else ""),
        )


# -- sqlite-not-on-volume ---------------------------------------------------------------------------------

def _dests(app: App) -> list[str]:
    return sorted({m.get("destination") for m in app.entries("mounts") if isinstance(m.get("destination"), str)})


def _env_hint(db: "Found", directory: str) -> str:
    from flyconf.databases import urls

    name = posixpath.basename(db.path or db.relative or "app.db") or "app.db"
    target = posixpath.join(directory, name)
    if db.variable:
        value = urls.write(db.form, target, db.raw if db.reader == "env" else "")
        return f'set `{db.variable} = "{value}"` in fly.toml `[env]`'
    return f"point it under {directory}, e.g. {target}"


def _on_volume(app: App, dbs: list["Found"]) -> Iterator[Diagnostic]:
    for db in dbs:
        placed = app.placement(db)
        if not placed.lost or placed.kind == "litefs-data":
            continue  # litefs-data: litefs-data-not-on-volume says it, at data.dir
        doc, span = db.declared.doc, db.declared.span
        dests = _dests(app)
        first = next((d for d in dests if d.startswith("/")), "/data")
        if placed.kind == "three-slash":
            yield NOT_ON_VOLUME.diagnostic(
                doc, span,
                message=f"{label(db)} = `{db.raw}`: SQLAlchemy and dj-database-url read three slashes as the "
                f"relative path `{db.relative or db.raw}`"
                + (f" (here {db.path})" if db.path else " (under the working directory)")
                + f", not {db.url_path} on the volume",
                hint=f"write four slashes for an absolute path: `sqlite:///{db.url_path}`",
            )
        elif placed.kind == "no-mounts":
            where = f"at {placed.path}" if placed.path else f"at the relative path `{db.relative}`"
            yield NOT_ON_VOLUME.diagnostic(
                doc, span,
                message=f"{label(db)} puts the SQLite database {where}, but {_config_name(app)} has no `[mounts]`: "
                "every deploy and every restart loses the data",
                hint='add a volume (`[[mounts]]` with `source = "data"` and `destination = "/data"`) and '
                     + _env_hint(db, "/data"),
            )
        elif placed.kind == "elsewhere":
            yield NOT_ON_VOLUME.diagnostic(
                doc, span,
                message=f"{label(db)} puts the SQLite database at {placed.path}, which is not under the mount "
                f"destination{'s' if len(dests) > 1 else ''} {', '.join(dests)}: every deploy and every restart "
                "loses the data",
                hint=_env_hint(db, first),
            )
        elif placed.kind == "partial":
            yield from _partial(app, db, placed)


def _config_name(app: App) -> str:
    return posixpath.basename(app.fly.display_path) if app.flytoml is not None else "the app"


def _partial(app: App, db: "Found", placed: Placement) -> Iterator[Diagnostic]:
    holders = ", ".join(f"`{g}`" for g in placed.groups if g not in placed.missing)
    for group in placed.missing:
        command = app.process_commands.get(group)
        doc: Document
        if command is not None and app.flytoml is not None:
            doc, span = app.flytoml, app.flytoml.value_span(command[1])
        else:
            doc, span = db.declared.doc, db.declared.span
        yield NOT_ON_VOLUME.diagnostic(
            doc, span,
            message=f"process group `{group}` runs the app, which opens {label(db)} at {placed.path} (declared at "
            f"{db.declared}), but only {holders} mount{'s' if ',' not in holders else ''} the volume holding it: "
            f"`{group}`'s Machines write a throw-away copy that every restart loses, and never see the other "
            "group's data",
            hint=f"run `{group}`'s work inside the Machines that hold the volume (one process group), or use LiteFS "
                 "or a server database; a volume per group would give each group its own copy",
        )


# -- sqlite-multiple-machines ---------------------------------------------------------------------------

def _multiple(app: App, dbs: list["Found"]) -> Iterator[Diagnostic]:
    doc = app.fly
    placed = next((p for p in map(app.placement, dbs) if p.kind == "on-volume" and p.path), None)
    if placed is None or placed.path is None:
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


# -- LiteFS -------------------------------------------------------------------------------------------------

def _litefs(app: App) -> Iterator[Diagnostic]:
    from flyconf.app import is_under
    from flyconf.migrations import migration_in

    litefs = app.runs_litefs
    doc = litefs.doc
    if doc is None:
        return
    name = posixpath.basename(doc.display_path)
    if litefs.fuse_dir and litefs.data_dir and litefs.fuse_dir == litefs.data_dir:
        at = litefs.fuse_at or litefs.data_at
        if at is not None:
            yield LITEFS_FUSE_IN_DATA.diagnostic(
                at.doc, at.span,
                f"`fuse.dir` and `data.dir` are both {litefs.fuse_dir}: LiteFS refuses to start "
                "(\"fuse directory and data directory cannot be the same path\")",
                hint="keep them apart, e.g. `fuse.dir: /litefs` and `data.dir` on the volume (`/var/lib/litefs`)",
            )
    # The data directory must be on a volume of every group that runs LiteFS.
    mounts = app.entries("mounts")
    if litefs.data_dir and app.has_flytoml:
        runners = litefs.groups or app.app_groups
        missing = [g for g in runners if app.mount_containing(litefs.data_dir, [g]) is None]
        usable = [m for m in mounts
                  if isinstance(m.get("destination"), str) and m.get("destination", "").startswith("/")]
        if missing and (usable or not mounts):
            at = litefs.data_at
            where = (at.doc, at.span) if at is not None else (doc, (1, 1))
            dests = _dests(app)
            if not mounts:
                why = f"{_config_name(app)} has no `[mounts]`"
            elif len(missing) == len(runners):
                why = f"it is not under the mount destination{'s' if len(dests) > 1 else ''} {', '.join(dests)}"
            else:
                why = f"process group{'s' if len(missing) > 1 else ''} {', '.join(f'`{g}`' for g in missing)} " \
                      f"run{'s' if len(missing) == 1 else ''} LiteFS without a mount holding it"
            default = " (LiteFS's default)" if at is None else ""
            yield LITEFS_DATA.diagnostic(
                where[0], where[1],
                f"LiteFS keeps its data in {litefs.data_dir}{default} ({name}), but {why}: every restart starts the "
                "node with no data, and a deploy that restarts every Machine loses the database",
                hint=f"mount the volume at {litefs.data_dir} (`destination = \"{litefs.data_dir}\"`), or set "
                     "`data.dir` to a directory under the mount destination",
            )
    # A database opened in the data directory, past LiteFS.
    if litefs.data_dir and litefs.fuse_dir:
        for db in app.databases:
            if db.path and is_under(db.path, litefs.data_dir) and not is_under(db.path, litefs.fuse_dir):
                yield LITEFS_BYPASS.diagnostic(
                    db.declared.doc, db.declared.span,
                    f"{label(db)} is at {db.path}, inside LiteFS's data directory {litefs.data_dir} ({name}): "
                    f"LiteFS replicates only what goes through its FUSE directory {litefs.fuse_dir}",
                    hint=f"open it under {litefs.fuse_dir}, e.g. "
                         f"{posixpath.join(litefs.fuse_dir, posixpath.basename(db.path))}",
                )
    # A migration in `exec` without `if-candidate: true`.
    for command in litefs.exec:
        if command.if_candidate or command.at is None or command.at.doc is not doc:
            continue
        migration = migration_in(command.cmd, app)
        if migration is None:
            continue
        via = f", {migration.via}" if migration.via else ""
        yield LITEFS_MIGRATION_REPLICAS.diagnostic(
            command.at.doc, command.at.span,
            f"`{command.cmd}` migrates ({migration.tool}: `{migration.text}`{via}) on every LiteFS node, replicas "
            "included, which refuse writes:"
            " without `if-candidate: true` it fails on replicas (LiteFS stops when an `exec` command fails)",
            hint="add `if-candidate: true` to this `exec` entry (with `lease.promote: true`)",
        )
    yield from _litefs_auto_stop(app)


def _litefs_auto_stop(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    for service in app.services():
        value = service.get("auto_stop_machines")
        if value in (True, "stop", "suspend"):
            yield LITEFS_AUTO_STOP.diagnostic(
                doc, doc.value_span(service.key("auto_stop_machines")),
                f"{service.label} has `auto_stop_machines = {value if isinstance(value, str) else 'true'}` with "
                "LiteFS: the proxy may stop the primary, and replicas wait for a new one to write",
                hint='keep the primary region running (`min_machines_running = 1`), or `auto_stop_machines = "off"`',
            )
