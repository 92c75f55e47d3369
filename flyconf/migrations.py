"""Recognising database migration commands in a command line, for every common stack.

One place for the question "does this command migrate a database?", used by
the release_command, Dockerfile RUN and start-script rules alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    tool: str  # "prisma", "rails", "django", ... or "custom" for a script named like a migration
    start: int  # offset of the match in the command
    end: int
    text: str


# (tool, pattern). Patterns are searched in the command; word boundaries keep `migrate` inside
# other words (`migrated_at`) from matching. Order: specific tools first, generic last.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("prisma", re.compile(r"\bprisma\s+(?:migrate\s+(?:deploy|dev|reset)|db\s+push)\b")),
    ("drizzle", re.compile(r"\bdrizzle-kit\s+(?:migrate|push)\b")),
    ("knex", re.compile(r"\bknex\b[^;&|]*\bmigrate:(?:latest|up)\b")),
    ("sequelize", re.compile(r"\bsequelize(?:-cli)?\b[^;&|]*\bdb:migrate\b")),
    ("typeorm", re.compile(r"\btypeorm(?:-ts-node-(?:commonjs|esm))?\b[^;&|]*\bmigration:run\b")),
    ("rails", re.compile(r"\b(?:rails|rake)\b[^;&|]*?\bdb:(?:migrate|prepare|setup|schema:load)\b")),
    # dockerfile-rails' older Fly task: `task :release => "db:migrate"` in lib/tasks/fly.rake.
    ("rails", re.compile(r"\b(?:rails|rake)\s+fly:release\b")),
    ("django", re.compile(r"(?:\b(?:manage\.py|django-admin)|-m\s+manage)\s+migrate\b")),
    ("alembic", re.compile(r"\balembic\b[^;&|]*\bupgrade\b")),
    ("flask-migrate", re.compile(r"\bflask\b[^;&|]*\bdb\s+upgrade\b")),
    ("laravel", re.compile(r"\bartisan\s+migrate\b")),
    ("ecto", re.compile(r"(?:\bbin/migrate\b|\bmix\s+ecto\.migrate\b|\.Release\.migrate\b|\bEcto\.Migrator\b)")),
    ("goose", re.compile(r"\bgoose\b[^;&|]*\bup(?:-by-one|-to)?\b")),
    ("golang-migrate", re.compile(r"\bmigrate\s+[^;&|]*-(?:path|source|database)\b[^;&|]*\bup\b")),
    ("sqlx", re.compile(r"\bsqlx\s+migrate\s+run\b")),
    ("diesel", re.compile(r"\bdiesel\s+(?:migration\s+run|setup|database\s+(?:setup|reset))\b")),
    ("dbmate", re.compile(r"\bdbmate\b[^;&|]*\b(?:up|migrate)\b")),
    ("atlas", re.compile(r"\batlas\s+migrate\s+apply\b")),
    # A package script or file named like a migration: `npm run migrate`, `yarn db:migrate`,
    # `node migrate.js`, `python migrate.py`, `./scripts/migrate.sh`, `bun run migrate:prod`.
    ("custom", re.compile(r"(?:^|[\s/:'\"=_-])(?:db[:_-])?migrat(?:e|ions?)(?:[:_-][\w:-]+)?(?:\.(?:js|mjs|cjs|ts|py|rb|sh|php|exs))?\b")),
]


def find_migration(command: str) -> Migration | None:
    """The first migration in ``command``, or None."""
    for tool, pattern in _PATTERNS:
        m = pattern.search(command)
        if m:
            start = m.start()
            # the generic pattern consumes the separator before the word
            while tool == "custom" and start < m.end() and command[start] in " \t/:'\"=_-":
                start += 1
            return Migration(tool=tool, start=start, end=m.end(), text=command[start : m.end()])
    return None
