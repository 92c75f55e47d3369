"""Database discovery: where the app's production databases are, read from its own configuration.

Readers, one module each, read a framework's or tool's configuration statically
(never importing, executing or evaluating the app's code) and yield
:class:`~flyconf.databases.model.Found` facts with provenance. ``discover`` runs
them in order; the generic environment reader runs last and leaves alone the
variables a framework reader has already consumed.
"""

from __future__ import annotations

import importlib
import os

from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Context, Discovery, Found, Location, Step

# Framework and tool readers, most specific first. Each module has ``read(ctx) -> Iterable[Found]``.
READERS = ("rails", "django", "prisma", "phoenix", "laravel", "node", "native", "pocketbase")


def discover(ctx: Context) -> Discovery:
    """Every production database the readers can find, with the generic environment reader last."""
    result = Discovery()
    claimed: set[str] = set()
    for name in READERS:
        try:
            module = importlib.import_module(f"flyconf.databases.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"flyconf.databases.{name}":
                raise
            continue  # a reader not written yet
        try:
            found = list(module.read(ctx))
        except Exception as exc:  # noqa: BLE001 - one reader's bug must not stop the lint
            if os.environ.get("FLYCONF_STRICT_READERS"):
                raise
            result.notes.append(f"the {name} reader failed ({type(exc).__name__}: {exc}); its databases are not known")
            continue
        for db in found:
            claimed.update(db.claims)
            if db.variable:
                claimed.add(db.variable)
        result.databases.extend(found)
    from flyconf.databases import env

    # A variable that names the same file a framework reader found (the Epic Stack's DATABASE_PATH beside
    # Prisma's DATABASE_URL) is that database, not a second one.
    known = {db.path for db in result.databases if db.path is not None}
    result.databases.extend(db for db in env.read(ctx, claimed) if db.path is None or db.path not in known)
    return result


__all__ = ["discover", "Discovery", "Found", "Location", "Step", "SQLITE", "SERVER", "UNKNOWN", "READERS"]
