"""Render the POSIX sh start-up wrapper that migrates SQLite on every Fly Machine.

The wrapper is the image's ENTRYPOINT; the server is its CMD.  On each start it
skips migration where there is no volume (the release_command Machine, other
process groups), checks that the volume is really mounted, takes a lock on the
volume, optionally backs the database up, runs the migration command, and then
``exec``\\ s the server so that the server receives Fly's ``kill_signal`` and its
exit status is the Machine's.  See ``templates/fly-entrypoint.sh.j2``.

Every value from :class:`EntrypointOptions` reaches the script only through the
``shquote`` filter (single-quoted shell words).  The template environment
enforces that: printing anything that did not come out of ``shquote`` is an
error.  The migration command is stored as data (``FLYCONF_MIGRATE='...'``)
and run with ``sh -c "$FLYCONF_MIGRATE"``: it is the user's own command line.
Paths, user and group names are never parsed by a shell.

jinja2 is imported only when rendering, so that linting never imports it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyconf._resources import resource_dir
from flyconf.app import GROUP_NAME_PATTERN

__all__ = [
    "EXIT_CODES",
    "TEMPLATE_NAME",
    "EntrypointOptions",
    "check_options",
    "render_entrypoint",
    "shquote",
    "write_entrypoint",
]

TEMPLATE_NAME = "fly-entrypoint.sh.j2"

#: Exit codes the wrapper uses itself, before the server starts.  Any other
#: non-zero status is the migration command's own (124: it hit the time
#: limit), or 128+N when a stop signal N arrived before the server started.
#: Once the server runs, the exit status is the server's.
EXIT_CODES: dict[int, str] = {
    64: "no server command was given (use the script as ENTRYPOINT and the server as CMD)",
    65: "FLYCONF_VOLUME or a database path from the environment is not usable (not absolute, or a database not "
        "on the volume)",
    67: "the user to run as (run_as) does not exist in the image",
    73: "the volume is not writable by the (non-root) user, or cannot create the database directory or the lock "
        "file, or chown, on the volume",
    74: "the backup before migrating failed",
    75: "another process held the migration lock longer than lock_timeout",
    77: "started as root to run as another user, but none of setpriv, su-exec or gosu could switch to it",
    78: "the volume is not mounted at its destination (set FLYCONF_ALLOW_UNMOUNTED=1 to go on anyway)",
}

# POSIX portable user names (plus the trailing $ of machine accounts).
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\$?\Z")
_PRESET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_USES_DATABASE = re.compile(r"\$\{?FLYCONF_DATABASE\b")


@dataclass(frozen=True)
class EntrypointOptions:
    """What the generated wrapper does.

    ``volume`` and ``database`` are absolute paths; ``database`` must be on the
    volume.  ``other_databases`` are the app's other SQLite files on the volume
    (Rails 8's cache, queue and cable databases): their directories are created
    and they are backed up with ``database``.  No database path may contain
    ``:``, which separates them in ``FLYCONF_DATABASES``.
    ``migrate`` is a shell command line, run with ``sh -c``.
    ``groups`` are the process groups that mount the volume (empty: every group
    migrates).  ``run_as`` is the user to give the volume to when started as
    root: for an image that starts as root and drops privileges. The wrapper
    gives the volume to the user, then drops to it for the migration and the
    server; with ``server_drops_privileges`` the server command switches to the
    user itself (gosu, su-exec... in the image's own start script), so only the
    migration runs as the user and the server command is started as root.
    Leave ``run_as`` None when the Dockerfile sets a non-root USER: Fly gives a
    new volume to that user, and the wrapper only checks that it can write
    there.
    ``timeout`` limits the migration (None: no limit), ``lock_timeout`` the wait
    for the lock, both in seconds.  ``backups`` is how many backups to keep (0:
    none).  ``preset`` only names the preset in the header comment.

    ``volume``, the databases and ``groups`` are the script's defaults: the
    environment variables ``FLYCONF_VOLUME``, ``FLYCONF_DATABASES`` (or
    ``FLYCONF_DATABASE``) and ``FLYCONF_MIGRATE_GROUPS`` override them at run
    time, so that several fly.toml files can share one wrapper.
    """

    volume: str
    database: str | None
    migrate: str
    groups: tuple[str, ...] = ()
    run_as: str | None = None
    timeout: int | None = 300
    lock_timeout: int = 60
    backups: int = 0
    preset: str | None = None
    other_databases: tuple[str, ...] = ()
    server_drops_privileges: bool = False


class ShellQuoted(str):
    """A string that ``shquote`` made: one single-quoted shell word."""

    __slots__ = ()


def shquote(value: object) -> ShellQuoted:
    """Quote ``value`` as one literal shell word: ``'...'`` with ``'`` as ``'\\''``.

    None becomes ``''``; ints are written in decimal.  Anything else but str is
    refused, and so is a NUL byte (a shell variable cannot hold one).
    """
    if value is None:
        text = ""
    elif isinstance(value, bool):
        raise TypeError("shquote: refusing a bool; pass a string or an int")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise TypeError(f"shquote: cannot quote a {type(value).__name__}")
    if "\0" in text:
        raise ValueError("shquote: a NUL byte cannot be passed to the shell")
    return ShellQuoted("'" + text.replace("'", "'\\''") + "'")


def _finalize(value: Any) -> Any:
    # Called by Jinja on every {{ ... }} result: only shquote's output may reach the script.
    if isinstance(value, ShellQuoted):
        return value
    raise TypeError(f"template printed {value!r} without the shquote filter")


def _check_text(name: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    for bad, label in (("\0", "a NUL byte"), ("\n", "a newline"), ("\r", "a carriage return")):
        if bad in value:
            raise ValueError(f"{name} must not contain {label}: {value!r}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def _check_path(name: str, value: object) -> str:
    """An absolute path without . or .. parts, with repeated and trailing slashes removed."""
    text = _check_text(name, value)
    if not text.startswith("/"):
        raise ValueError(f"{name} must be an absolute path (starting with /): {text!r}")
    parts = [p for p in text.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"{name} must not contain . or .. components: {text!r}")
    if not parts:
        raise ValueError(f"{name} must not be / itself")
    return "/" + "/".join(parts)


def _check_int(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        what = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{name} must be {what}: {value!r}")
    return value


def _check_database(name: str, value: object, volume: str) -> str:
    database = _check_path(name, value)
    if not database.startswith(volume + "/"):
        raise ValueError(
            f"{name} {database!r} is not on the volume {volume!r}: "
            "a database outside the mount destination is lost when the Machine restarts"
        )
    if ":" in database:
        raise ValueError(f"{name} {database!r} must not contain ':', which separates the paths in FLYCONF_DATABASES")
    return database


def check_options(options: EntrypointOptions) -> None:
    """Raise ValueError when ``options`` cannot be rendered (what :func:`render_entrypoint` would refuse),
    without loading the template engine."""
    _context(options)


def mountinfo_escape(path: str) -> str:
    """``path`` as the kernel writes it in /proc/self/mountinfo and /proc/mounts."""
    return path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")


def _context(options: EntrypointOptions) -> dict[str, Any]:
    """Validate ``options`` and return the template's variables."""
    if not isinstance(options, EntrypointOptions):
        raise ValueError(f"expected EntrypointOptions, got {type(options).__name__}")
    volume = _check_path("volume", options.volume)

    database = None
    if options.database is not None:
        database = _check_database("database", options.database, volume)
    others = options.other_databases
    if isinstance(others, str) or not isinstance(others, (tuple, list)):
        raise ValueError(f"other_databases must be a tuple of paths, not {others!r}")
    if others and database is None:
        raise ValueError("other_databases need the main database (database) too")
    databases = [database] if database is not None else []
    for other in others:
        checked = _check_database("other database", other, volume)
        if checked not in databases:
            databases.append(checked)

    migrate = _check_text("migrate", options.migrate).strip()
    if database is None and _USES_DATABASE.search(migrate):
        raise ValueError("the migration command uses $FLYCONF_DATABASE, but no database path was given")

    groups = options.groups
    if isinstance(groups, str) or not isinstance(groups, (tuple, list)):
        raise ValueError(f"groups must be a tuple of process group names, not {groups!r}")
    for group in groups:
        _check_text("process group name", group)
        if not GROUP_NAME_PATTERN.fullmatch(group):  # also keeps the case patterns plain
            raise ValueError(f"invalid process group name {group!r}: use letters, digits, - and _")

    run_as = options.run_as
    if run_as is not None:
        _check_text("run_as", run_as)
        if not _USER.match(run_as):
            raise ValueError(f"invalid user name for run_as: {run_as!r}")
    if not isinstance(options.server_drops_privileges, bool):
        raise ValueError(f"server_drops_privileges must be True or False, not {options.server_drops_privileges!r}")
    if options.server_drops_privileges and run_as is None:
        raise ValueError("server_drops_privileges needs run_as: the user the server command switches to")

    timeout = None if options.timeout is None else _check_int("timeout", options.timeout, minimum=1)
    lock_timeout = _check_int("lock_timeout", options.lock_timeout, minimum=1)
    backups = _check_int("backups", options.backups, minimum=0)
    if backups > 0 and database is None:
        raise ValueError("backups need the database path")

    preset = options.preset
    if preset is not None:
        _check_text("preset", preset)
        if not _PRESET.match(preset):
            raise ValueError(f"invalid preset name {preset!r}")

    return {
        "volume": volume,
        "databases": ":".join(databases),
        "migrate": migrate,
        # The script's FLYCONF_MIGRATE_GROUPS default: "*" is every group.
        "groups": " ".join(groups) if groups else "*",
        "run_as": run_as,
        "server_drops_privileges": options.server_drops_privileges,
        "timeout": timeout,
        "lock_timeout": lock_timeout,
        "backups": backups,
        "preset": preset,
    }


def render_entrypoint(options: EntrypointOptions) -> str:
    """The wrapper script for ``options``.  Raises ValueError for bad options."""
    context = _context(options)

    import jinja2  # lazily: the lint path never imports jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        finalize=_finalize,
    )
    env.filters["shquote"] = shquote
    script = env.get_template(TEMPLATE_NAME).render(**context)
    if not script.startswith("#!/bin/sh\n") or "\r" in script:
        raise RuntimeError("rendered entrypoint is malformed (shebang or line endings)")
    return script


def write_entrypoint(options: EntrypointOptions, path: str | os.PathLike[str], *,
                     root: str | os.PathLike[str] | None = None) -> Path:
    """Render the wrapper and write it to ``path`` (LF line endings; mode 0755 for a new file, an existing one keeps
    its mode and owner), atomically, with the writer of `fix` (flyconf.fileio): the file stays inside ``root``
    (default: the directory ``path`` names), and a symlink that leads out of it is refused (UnsafeWrite)."""
    from flyconf.fileio import write_atomic

    target = Path(path)
    write_atomic(target, render_entrypoint(options), mode=0o755, root=root)
    return target
