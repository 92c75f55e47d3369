"""`flyconf inspect`: what flyconf understood of each app, as data (and as text for people).

For every fly.toml (and every Dockerfile linted on its own): the build (context, Dockerfile, stage,
USER, WORKDIR), the process groups with their commands and mounts, each database with where it is
declared, how its path was resolved and whether it is on a volume, LiteFS and Litestream, and the
migrations found (release, start-up, build). It is how a user sees why a rule fired or stayed
silent. The JSON shape is documented in README.md ("flyconf inspect") and checked by a test.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from flyconf.sources.base import exists, real_path

if TYPE_CHECKING:
    from flyconf.app import App
    from flyconf.databases.model import Found, Location

SCHEMA_VERSION = 1


def inspect_paths(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] = (".",)) -> dict[str, Any]:
    """What flyconf understood of every app under ``paths``: ``{"version": 1, "apps": [...]}``.

    Never prints or exits; files that cannot be read are listed with their problem under "problems".
    """
    from flyconf.assemble import FLYTOML, Workspace, app_for, sibling_app
    from flyconf.discover import DOCKERFILE, discover
    from flyconf.sources.base import display
    from flyconf.sources.flytoml import FlyToml

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    ws = Workspace()
    apps: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    built: set[str] = set()
    dockerfiles = []
    compose_files = []
    for target in discover(paths):
        if not exists(target.path):
            problems.append({"path": display(target.path), "problem": "file or directory not found"})
            continue
        if target.kind == "compose":
            compose_files.append(target.path)
            continue
        if target.kind == DOCKERFILE:
            dockerfiles.append(target.path)
            continue
        if target.kind != FLYTOML:
            continue
        try:
            loaded = ws.load(target.path, FLYTOML)
            if not isinstance(loaded.doc, FlyToml):
                first = loaded.findings[0] if loaded.findings else None
                problems.append({"path": display(target.path),
                                 "problem": first.message if first else "cannot be read"})
                continue
            app, _findings = app_for(loaded.doc, target.path, ws)
            if app.dockerfile is not None and app.dockerfile.fs_path is not None:
                built.add(str(real_path(app.dockerfile.fs_path)))
            apps.append(describe(app))
        except Exception as exc:  # noqa: BLE001 - one file's failure must not cost the others
            problems.append(_internal_problem(display(target.path), exc))
    for path in dockerfiles:
        try:
            if str(real_path(path)) in built:
                continue
            from flyconf.assemble import DOCKERFILE as KIND

            loaded = ws.load(path, KIND)
            if loaded.doc is None:
                first = loaded.findings[0] if loaded.findings else None
                problems.append({"path": display(path), "problem": first.message if first else "cannot be read"})
                continue
            app = sibling_app(path, loaded.doc, ws)
            if app.has_flytoml:
                continue  # its fly.toml was described above, or will be with it
            apps.append(describe(app))
        except Exception as exc:  # noqa: BLE001 - one file's failure must not cost the others
            problems.append(_internal_problem(display(path), exc))
    from flyconf.compose.inspect import describe_paths

    compose: list[dict[str, Any]] = []
    if compose_files:
        try:
            compose = describe_paths(compose_files, ws, problems)
        except Exception as exc:  # noqa: BLE001 - the fly.toml apps are still described
            problems.append(_internal_problem(display(compose_files[0]), exc))
    return {"version": SCHEMA_VERSION, "apps": apps, "compose": compose, "problems": problems}


def _internal_problem(path: str, exc: Exception) -> dict[str, Any]:
    """A "problems" entry for flyconf's own failure on a file (raised instead under ``--debug``)."""
    from flyconf.internal import describe as describe_error
    from flyconf.internal import should_raise

    if should_raise():
        raise exc
    return {"path": path, "problem": f"internal error: flyconf failed while reading this file "
                                     f"({describe_error(exc)}); this is a flyconf bug: please report it with the file"}


def _loc(at: "Location | None") -> dict[str, Any] | None:
    if at is None:
        return None
    return {"path": at.doc.display_path, "line": at.span.line, "column": at.span.column}


def describe(app: "App") -> dict[str, Any]:
    """One app as data (the elements of "apps" in `flyconf inspect --format json`)."""
    fly = app.flytoml
    image = app.image
    build: dict[str, Any] = {
        "context": str(app.directory) if app.directory is not None else None,
        "dockerfile": app.dockerfile.display_path if app.dockerfile is not None else None,
        "remote_dockerfile": getattr(app, "remote_dockerfile", None),
        "image": app.build.get("image") if isinstance(app.build.get("image"), str) else None,
        "target": app.build_target,
        "stage": None,
        "user": image.user[0] if image is not None and image.user else None,
        "workdir": app.workdir,
    }
    if image is not None and image.chain and app.dockerfile is not None:
        stage = app.dockerfile.stages[image.chain[-1]]
        build["stage"] = stage.name if stage.name else stage.index
    return {
        "config": fly.display_path if fly is not None else None,
        "app": fly.data.get("app") if fly is not None and isinstance(fly.data.get("app"), str) else None,
        "build": build,
        "groups": _groups(app),
        "databases": [_database(app, db) for db in app.discovery.databases],
        "litefs": _litefs(app),
        "litestream": _litestream(app),
        "migrations": _migrations(app),
        "notes": list(app.discovery.notes),
    }


def _groups(app: "App") -> list[dict[str, Any]]:
    starts = {s.group: s for s in app.context.start_commands()}
    served = {g for service in app.services() for g in app.groups_of(service)}
    out = []
    for group in app.groups:
        start = starts.get(group)
        source = "fly.toml [processes]" if app.process_argv.get(group) is not None else "Dockerfile CMD"
        out.append({
            "name": group,
            "command": list(start.argv) if start is not None else None,
            "command_from": source if start is not None else None,
            "mounts": [{"source": m.get("source"), "destination": m.get("destination")} for m in app.mounts_of(group)],
            "serves": group in served,
            "runs_the_app": group in app.app_groups,
        })
    return out


def _database(app: "App", db: "Found") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": db.name,
        "framework": db.framework,
        "reader": db.reader,
        "kind": db.kind,
        "path": db.path,
        "value": db.raw,
        "declared": _loc(db.declared),
        "resolved": [{"step": step.text, "at": _loc(step.at)} for step in db.chain],
        "unknown": db.unknown,
        "variable": db.variable,
        "relative": db.relative,
        "base": db.base,
        "groups": list(app.opening_groups(db)),
        "placement": None,
    }
    if db.kind == "sqlite":
        placed = app.placement(db)
        entry["placement"] = {
            "verdict": placed.kind,
            "on_volume": not placed.lost and placed.kind in ("on-volume", "litefs"),
            "mounts": [m.get("destination") for m in placed.mounts],
            "missing_groups": list(placed.missing),
        }
    return entry


def _litefs(app: "App") -> dict[str, Any] | None:
    litefs = app.litefs
    if litefs is None:
        return None
    return {
        "config": litefs.doc.display_path if litefs.doc is not None else None,
        "found": litefs.how,
        "runs": litefs.running,
        "fuse_dir": litefs.fuse_dir,
        "data_dir": litefs.data_dir,
        "data_dir_declared": _loc(litefs.data_at),
        "data_dir_mounts": [m.get("destination") for m in app.entries("mounts")
                            if litefs.data_dir and isinstance(m.get("destination"), str)
                            and _under(litefs.data_dir, m.get("destination"))],
        "groups": list(litefs.groups) if litefs.groups is not None else None,
        "exec": [{"command": e.cmd, "if_candidate": e.if_candidate, "at": _loc(e.at)} for e in litefs.exec],
        "proxy_port": litefs.proxy_port,
        "target_port": litefs.target_port,
    }


def _under(path: str, directory: str) -> bool:
    from flyconf.app import is_under

    return directory.startswith("/") and is_under(path, directory)


def _litestream(app: "App") -> dict[str, Any] | None:
    ls = app.litestream
    if ls is None:
        return None
    return {
        "config": ls.doc.display_path if ls.doc is not None else None,
        "restores_at_start": ls.restores,
        "databases": [{"path": p, "at": _loc(at)} for p, at in ls.paths],
        "note": "databases that Litestream restores from object storage at start-up do not need a volume",
    }


def _migrations(app: "App") -> list[dict[str, Any]]:
    from flyconf.databases.model import Location
    from flyconf.migrations import migration_in

    out: list[dict[str, Any]] = []

    def add(where: str, command: str, at: "Location | None") -> None:
        found = migration_in(command, app)
        if found is None:
            return
        out.append({"when": where, "command": command, "tool": found.tool, "migration": found.text,
                    "via": found.via or None, "at": _loc(at)})

    fly = app.flytoml
    deploy = app.data.get("deploy")
    if fly is not None and isinstance(deploy, dict):
        for key in ("release_command", "seed_command"):
            if isinstance(deploy.get(key), str):
                add("release", deploy[key], Location(fly, fly.value_span(("deploy", key))))
    df = app.dockerfile
    if df is not None:
        for ins in df.instructions:
            if ins.cmd == "RUN":
                command = " ".join(ins.value) if ins.json else ins.shell_text
                add("build", command, Location(df, df.instruction_span(ins)))
    for start in app.context.start_commands():
        add(f"start-up ({start.group})", " ".join(start.argv), start.at)
    for script in app.scripts:
        for cmd in script.commands():
            text = " ".join(w.value for w in cmd.argv)
            if cmd.name in ("echo", "printf") or not text:
                continue
            from flyconf.migrations import find_migration

            if find_migration(text) is not None:
                add("start-up (script)", text, Location(script, cmd.span))
    from flyconf.databases import phoenix

    migrator = phoenix.starts_migrator(app.context)
    if migrator is not None:
        out.append({"when": "start-up (in the app)", "command": "Ecto.Migrator", "tool": "ecto",
                    "migration": "Ecto.Migrator", "via": "a supervision-tree child that migrates at every start",
                    "at": _loc(migrator)})
    litefs = app.runs_litefs
    if litefs is not None:
        for entry in litefs.exec:
            add("start-up (litefs exec" + (", candidates only)" if entry.if_candidate else ")"), entry.cmd, entry.at)
    seen: set[tuple[str, str, int, int]] = set()
    unique = []
    for m in out:
        ident = (m["when"], m["command"], (m["at"] or {}).get("line", 0), (m["at"] or {}).get("column", 0))
        if ident not in seen:
            seen.add(ident)
            unique.append(m)
    return unique


# -- text ----------------------------------------------------------------------------------------------

def render_text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for app in report["apps"]:
        lines.extend(_app_text(app))
        lines.append("")
    from flyconf.compose.inspect import render_text as compose_text

    lines.extend(compose_text(report.get("compose", [])))
    for problem in report["problems"]:
        lines.append(f"{problem['path']}: {problem['problem']}")
    if not report["apps"] and not report.get("compose") and not report["problems"]:
        lines.append("no fly.toml, Dockerfile or Compose file found")
    return "\n".join(lines).rstrip("\n") + "\n"


def _at(loc: dict[str, Any] | None) -> str:
    return f"{loc['path']}:{loc['line']}:{loc['column']}" if loc else "?"


def _app_text(app: dict[str, Any]) -> Iterable[str]:
    title = app["config"] or app["build"]["dockerfile"] or "?"
    yield f"{title}" + (f"  (app {app['app']})" if app["app"] else "")
    b = app["build"]
    if b["remote_dockerfile"]:
        yield f"  build: remote Dockerfile {b['remote_dockerfile']} (not read: image checks skipped)"
    elif b["dockerfile"]:
        stage = f", stage {b['stage']}" if b["stage"] is not None else ""
        yield f"  build: {b['dockerfile']}{stage}; USER {b['user'] or '(root)'}; WORKDIR {b['workdir'] or '(not set)'}"
    elif b["image"]:
        yield f"  build: image {b['image']} (no Dockerfile to read)"
    else:
        yield "  build: no Dockerfile"
    yield "  process groups:"
    for g in app["groups"]:
        command = " ".join(g["command"]) if g["command"] else "(the image's command)"
        mounts = ", ".join(f"{m['source']} at {m['destination']}" for m in g["mounts"]) or "no volume"
        flags = []
        if g["serves"]:
            flags.append("serves")
        if not g["runs_the_app"]:
            flags.append("not the app")
        yield f"    {g['name']}: {command}" + (f" [{', '.join(flags)}]" if flags else "")
        yield f"      mounts: {mounts}"
    if not app["databases"]:
        yield "  databases: none found"
    else:
        yield "  databases:"
    for db in app["databases"]:
        what = {"sqlite": "SQLite", "server": "not SQLite (a server database)", "unknown": "unknown"}[db["kind"]]
        yield f"    {db['framework']} `{db['name']}`: {what}" + (f" at {db['path']}" if db["path"] else "")
        yield f"      declared at {_at(db['declared'])}" + (f" = {db['value']!r}" if db["value"] else "")
        for step in db["resolved"]:
            yield f"      - {step['step']}" + (f" ({_at(step['at'])})" if step["at"] else "")
        if db["unknown"]:
            yield f"      unknown: {db['unknown']}"
        placement = db["placement"]
        if placement is not None:
            verdict = placement["verdict"]
            if placement["mounts"]:
                verdict += " (" + ", ".join(placement["mounts"]) + ")"
            if placement["missing_groups"]:
                verdict += "; not on a volume for " + ", ".join(placement["missing_groups"])
            yield f"      volume: {verdict}; opened by {', '.join(db['groups'])}"
    if app["litefs"]:
        lf = app["litefs"]
        runs = {True: "runs", False: "is not run by the image", None: "may run"}[lf["runs"]]
        yield f"  LiteFS ({runs}): {lf['config'] or 'no litefs.yml'} ({lf['found']})"
        yield f"    fuse.dir {lf['fuse_dir']}, data.dir {lf['data_dir']} on " + (
            ", ".join(lf["data_dir_mounts"]) or "no volume")
        for e in lf["exec"]:
            yield f"    exec: {e['command']}" + (" (if-candidate)" if e["if_candidate"] else "")
    if app["litestream"]:
        ls = app["litestream"]
        yield f"  Litestream: {ls['config'] or 'no litestream.yml'}; restores at start-up: " + (
            "yes" if ls["restores_at_start"] else "no")
        for d in ls["databases"]:
            yield f"    replicates {d['path']}"
    if app["migrations"]:
        yield "  migrations:"
        for m in app["migrations"]:
            via = f" ({m['via']})" if m["via"] else ""
            yield f"    {m['when']}: {m['tool']} `{m['migration']}`{via} at {_at(m['at'])}"
    else:
        yield "  migrations: none found"
    for note in app["notes"]:
        yield f"  note: {note}"
