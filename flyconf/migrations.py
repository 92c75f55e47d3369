"""Recognising database migration commands in a command line, for every common stack.

One place for the question "does this command migrate a database?", used by
the release_command, Dockerfile RUN, start-script and LiteFS rules alike.
``find_migration`` reads the command alone; ``migration_in`` also follows what
the command runs inside the app: a Rails task in lib/tasks/*.rake, a script of
package.json, a script file of the build context.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flyconf import shsplit
from flyconf.sources.base import split_lines

if TYPE_CHECKING:
    from flyconf.app import App


@dataclass(frozen=True)
class Migration:
    tool: str  # "prisma", "rails", "django", ... or "custom" for a script named like a migration
    start: int  # offset of the match in the command
    end: int
    text: str
    via: str = ""  # how it was found past the command itself ("lib/tasks/fly.rake:3: release => db:migrate")


# (tool, pattern). Patterns are searched in the command; word boundaries keep `migrate` inside
# other words (`migrated_at`) from matching. Order: specific tools first, generic last.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("prisma", re.compile(r"\bprisma\s+(?:migrate\s+(?:deploy|dev|reset)|db\s+push)\b")),
    ("drizzle", re.compile(r"\bdrizzle-kit\s+(?:migrate|push)\b")),
    ("knex", re.compile(r"\bknex\b[^;&|]*\bmigrate:(?:latest|up)\b")),
    ("sequelize", re.compile(r"\bsequelize(?:-cli)?\b[^;&|]*\bdb:migrate\b")),
    ("typeorm", re.compile(r"\btypeorm(?:-ts-node-(?:commonjs|esm))?\b[^;&|]*\bmigration:run\b")),
    ("rails", re.compile(r"\b(?:rails|rake)\b[^;&|]*?\bdb:(?:migrate|prepare|setup|schema:load)\b")),
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
    ("custom", re.compile(r"(?:^|[\s/:'\"=_-])(?:db[:_-])?migrat(?:e|ions?)(?:[:_-][\w:-]+)?"
                          r"(?:\.(?:js|mjs|cjs|ts|py|rb|sh|php|exs))?\b")),
]

# A Rails task run by `bin/rails X` or `rake X` that is not one of Rails' own db: tasks.
_RAILS_TASK = re.compile(r"(?:^|[\s/;&|])(?:\./)?(?:bin/)?(?:rails|rake)\s+((?:[a-z_][\w-]*:)+[\w-]+|[a-z_][\w-]*)\b")
_RAILS_BUILTIN = re.compile(r"^(?:db|assets|tmp|log|cache|credentials|test|spec|app|active_storage|action_mailbox)"
                            r"(?::|$)|^(?:server|s|console|c|runner|r|generate|g|new|routes|about|dbconsole)$")
# `npm run X`, `yarn X`, `yarn run X`, `pnpm X`, `pnpm run X`, `bun run X`, `npm start`.
_PACKAGE_SCRIPT = re.compile(r"\b(npm|yarn|pnpm|bun)\s+(?:run(?:-script)?\s+)?(?:--\S+\s+)*([\w:.-]+)")
_PACKAGE_BUILTINS = frozenset({"install", "ci", "i", "add", "exec", "x", "dlx", "test", "build", "--version"})


# What may run a script named like a migration: `npm run migrate`, `node migrate.js`, `sh ./migrate.sh`.
_RUNNERS = frozenset({"npm", "yarn", "pnpm", "bun", "npx", "bunx", "pnpx", "node", "deno", "tsx", "ts-node", "python",
                      "python3", "ruby", "php", "sh", "bash", "dash", "ash", "exec", "run", "run-script", "perl",
                      "elixir", "go", "cargo"})
_NOT_RUNNING = re.compile(r"(?:^|\s)(?:build|install|add|test|chmod|cp|mv|ln|chown|rm|cat|ls|echo|printf|mkdir|touch)"
                          r"(?:\s|$)")


def find_migration(command: str) -> Migration | None:
    """The first migration in ``command`` (read alone), or None.

    A script that is only *named* like a migration counts when it is what runs: the program of a command,
    or what a runner runs (`npm run db:migrate`, `node migrate.js`), not an argument of another tool
    (`cargo build --bin migrate-db`, `chmod +x migrate.sh`).
    """
    for tool, pattern in _PATTERNS:
        for m in pattern.finditer(command):
            start = m.start()
            # the generic pattern consumes the separator before the word
            while tool == "custom" and start < m.end() and command[start] in " \t/:'\"=_-":
                start += 1
            if tool == "custom" and not _runs_there(command, start):
                continue
            return Migration(tool=tool, start=start, end=m.end(), text=command[start : m.end()])
    return None


def _runs_there(command: str, start: int) -> bool:
    """Whether the word at ``start`` is run: a command's program, or what a runner runs."""
    i, depth = start, 0
    while i > 0:  # back to the start of the word, over `$(...)` groups (`$(dirname $0)/migrate.sh`)
        ch = command[i - 1]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                break
            depth -= 1
        elif ch in " \t\n;&|`" and depth == 0:
            break
        i -= 1
    head = re.split(r"&&|\|\||;|\||\n|\$\(|`", command[:i])[-1]
    words = [w for w in head.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]  # VAR=value prefixes
    if not words:
        return True
    if _NOT_RUNNING.search(" " + " ".join(words) + " "):
        return False
    return posixpath.basename(words[-1]) in _RUNNERS or (len(words) >= 2 and words[-2] in _RUNNERS
                                                        and words[-1] in ("run", "run-script", "exec"))


def migration_in(command: str, app: "App | None" = None, depth: int = 0) -> Migration | None:
    """The migration ``command`` runs, following Rails tasks, package.json scripts and script files of
    the app's build context; None when it runs none, or when that cannot be told."""
    direct = find_migration(command)
    if direct is not None and direct.tool == "ecto" and app is not None:
        from flyconf.databases import phoenix

        try:
            argv = shsplit.split(command)
        except ValueError:
            argv = command.split()
        how = phoenix.command_migration(app.context, argv)
        return Migration(direct.tool, direct.start, direct.end, direct.text, via=how.how) if how else direct
    if direct is not None and direct.tool not in ("custom",):
        return direct
    if app is None or depth > 3:
        return direct
    ctx = app.context
    task = _rails_task(command)
    if task is not None:
        try:
            from flyconf.databases import rake
        except ImportError:  # pragma: no cover - the Rails task reader is being written
            return None
        verdict = rake.task_migrates(ctx, task.group(1))
        if verdict:
            where = rake.where_migrates(ctx, task.group(1)) if hasattr(rake, "where_migrates") else None
            return Migration("rails", task.start(1), task.end(1), task.group(1),
                             via=f"the task migrates{f' ({where})' if where else ''}")
        return None  # a task that does not migrate, or that flyconf cannot read: no guess
    script = _package_script(command, ctx)
    if script is not None:
        name, body, start, end = script
        inner = migration_in(body, app, depth + 1)
        if inner is not None:
            return Migration(inner.tool, start, end, command[start:end],
                             via=f"package.json script `{name}`: `{_short(body)}`")
        return None
    found = _script_file(command, ctx)
    if found is not None:
        rel, body, start, end = found
        for line in split_lines(body):  # sh ends a line at "\n" only: a comment runs to it
            text = line.split("#", 1)[0] if not line.lstrip().startswith("#!") else ""
            inner = migration_in(text, app, depth + 1) if text.strip() else None
            if inner is not None:
                return Migration(inner.tool, start, end, command[start:end], via=f"{rel} runs `{_short(inner.text)}`")
        if direct is not None and direct.tool == "custom":
            return None  # named like a migration, but the script runs none flyconf recognises
        return None
    return direct


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rails_task(command: str) -> re.Match[str] | None:
    for m in _RAILS_TASK.finditer(command):
        if not _RAILS_BUILTIN.match(m.group(1)):
            return m
    return None


def _package_script(command: str, ctx: object) -> tuple[str, str, int, int] | None:
    m = _PACKAGE_SCRIPT.search(command)
    if m is None or m.group(2) in _PACKAGE_BUILTINS:
        return None
    doc = ctx.read("package.json")  # type: ignore[attr-defined]
    if doc is None:
        return None
    try:
        scripts = json.loads(doc.text).get("scripts")
    except (ValueError, AttributeError):
        return None
    if not isinstance(scripts, dict):
        return None
    body = scripts.get(m.group(2))
    if not isinstance(body, str):
        return None
    return m.group(2), body, m.start(), m.end()


def _script_file(command: str, ctx: object) -> tuple[str, str, int, int] | None:
    """A script of the build context that the command runs (`./bin/release`, `sh /app/scripts/migrate.sh`)."""
    try:
        words = shsplit.split(command)
    except ValueError:
        return None
    words = [w for w in words if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
    if words and posixpath.basename(words[0]) in ("sh", "bash", "dash", "ash", "exec"):
        words = [w for w in words[1:] if not w.startswith("-")]
    for word in words[:1]:
        if "/" not in word and not word.endswith((".sh", ".bash")):
            continue
        image_path = word if word.startswith("/") else posixpath.join(ctx.workdir or "/", word)  # type: ignore[attr-defined]
        finder = getattr(ctx, "context_file", None)
        rel = finder(image_path) if finder is not None else None
        if rel is None and not word.startswith("/"):
            rel = word[2:] if word.startswith("./") else word
        doc = ctx.read(rel) if rel else None  # type: ignore[attr-defined]
        if doc is None or len(doc.text) > 200_000:
            continue
        start = command.find(word)
        first_line = doc.text.split("\n", 1)[0]
        if rel is None or not (rel.endswith((".sh", ".bash")) or (first_line.startswith("#!") and "sh" in first_line)):
            continue  # not a shell script (a binary, a directory's file, a Node script)
        text: str = doc.text
        return rel, text, max(start, 0), max(start, 0) + len(word)
    return None
