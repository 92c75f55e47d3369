"""`flyconf inspect` for Compose: each project with its services, their mounts and their databases.

The JSON shape is documented in README.md ("flyconf inspect", `compose`) and checked by a test.
A database has the same keys as an app's database; its `placement` says where it lives in the
service's container: `verdict` is `volume` (a named volume), `bind` (a bind mount), `anonymous`
(an anonymous volume, or the image's VOLUME), `tmpfs`, `none` (the container's own file system),
`replicated` (Litestream restores it) or `unknown`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from pathlib import Path

    from flyconf.assemble import Workspace
    from flyconf.compose.apps import ComposeUnit, ServiceApp
    from flyconf.compose.project import Mount
    from flyconf.databases.model import Location


def describe_paths(paths: Sequence["Path"], ws: "Workspace", problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Compose projects of ``paths`` (Compose files) as data; unreadable files go to ``problems``."""
    from flyconf.compose.lint import load_units
    from flyconf.rules.compose import COMPOSE_SYNTAX

    units, findings = load_units(paths, ws)
    for finding in findings:
        if finding.code == COMPOSE_SYNTAX.code or finding.rule == "io-error":
            problems.append({"path": finding.path, "problem": f"{finding.line}:{finding.column}: {finding.message}"})
    return [describe(unit) for unit in units]


def _loc(at: "Location | None") -> dict[str, Any] | None:
    if at is None:
        return None
    return {"path": at.doc.display_path, "line": at.span.line, "column": at.span.column}


def describe(unit: "ComposeUnit") -> dict[str, Any]:
    from flyconf.compose.project import VOLUME

    project = unit.project
    used: dict[str, list[str]] = {}
    for sa in unit.services:
        for m in sa.service.own_mounts():
            if m.type == VOLUME and m.source:
                used.setdefault(m.source, []).append(sa.name)
    return {
        "files": [f.display_path for f in project.files],
        "production": project.production(),
        "volumes": [{"name": v.name, "external": v.external, "declared": _loc(v.at), "used_by": used.get(v.name, [])}
                    for v in project.volumes.values()],
        "services": [_service(sa) for sa in unit.services],
        "notes": list(project.notes),
    }


def _service(sa: "ServiceApp") -> dict[str, Any]:
    from flyconf.compose.apps import image_volumes

    s, app = sa.service, sa.app
    build = None
    if s.build is not None:
        build = {"context": str(s.build.context) if s.build.context is not None else s.build.context_raw,
                 "dockerfile": app.dockerfile.display_path if app.dockerfile is not None else None,
                 "target": s.build.target, "shared_from": s.build.shared_from}
    return {
        "name": s.name,
        "declared": _loc(s.at),
        "image": s.image.value if s.image is not None else None,
        "build": build,
        "working_dir": app.workdir,
        "read_only": s.is_read_only,
        "restart": s.restart.value if s.restart is not None else None,
        "mounts": [_mount(m) for m in list(s.mounts) + image_volumes(sa)],
        "environment": [{"name": e.name, "value": e.value, "at": _loc(e.at), "origin": e.origin}
                        for e in s.env.values()],
        "databases": [_database(sa, db) for db in app.discovery.databases],
        "notes": list(s.notes) + list(app.discovery.notes),
    }


def _mount(m: "Mount") -> dict[str, Any]:
    return {"type": m.type, "source": m.source, "target": m.target, "read_only": m.read_only,
            "from": m.origin or None, "at": _loc(m.at)}


def _database(sa: "ServiceApp", db: Any) -> dict[str, Any]:
    from flyconf.compose.apps import placement
    from flyconf.inspection import _database as app_database

    entry = app_database(sa.app, db)
    entry["groups"] = [sa.name]
    if db.kind == "sqlite":
        placed = placement(sa, db)
        entry["placement"] = {
            "verdict": placed.kind,
            "on_volume": placed.keeps_data,
            "mounts": [placed.mount.target] if placed.mount is not None else [],
            "missing_groups": [] if placed.keeps_data or placed.kind == "unknown" else [sa.name],
        }
    return entry


# -- text -----------------------------------------------------------------------------------------------

def render_text(projects: Iterable[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for p in projects:
        lines.append(" + ".join(p["files"]) + "  (Compose)")
        if p["production"]:
            lines.append(f"  production: {p['production']}")
        for v in p["volumes"]:
            users = ", ".join(v["used_by"]) or "no service"
            lines.append(f"  volume {v['name']}" + (" (external)" if v["external"] else "") + f": used by {users}")
        for s in p["services"]:
            if s["build"]:
                built = f"build {s['build']['context']}" + (f", {s['build']['dockerfile']}" if s["build"]["dockerfile"]
                                                             else "")
                if s["build"]["shared_from"]:
                    built += f" (the image of `{s['build']['shared_from']}`)"
            else:
                built = f"image {s['image']}" if s["image"] else "no image"
            flags = ", read-only" if s["read_only"] else ""
            workdir = s["working_dir"] or "(not known)"
            lines.append(f"  service {s['name']}: {built}; working directory {workdir}{flags}")
            for m in s["mounts"]:
                source = f"{m['source']} " if m["source"] else ""
                via = f" ({m['from']})" if m["from"] else ""
                lines.append(f"    mount: {m['type']} {source}at {m['target'] or '?'}{via}")
            for db in s["databases"]:
                kinds = {"sqlite": "SQLite", "server": "not SQLite (a server database)", "unknown": "unknown"}
                what = kinds[db["kind"]]
                lines.append(f"    database {db['framework']} `{db['name']}`: {what}"
                             + (f" at {db['path']}" if db["path"] else ""))
                at = db["declared"]
                where = f"{at['path']}:{at['line']}:{at['column']}" if at else "?"
                lines.append(f"      declared at {where}")
                if db["placement"]:
                    where = db["placement"]["verdict"]
                    if db["placement"]["mounts"]:
                        where += " (" + ", ".join(db["placement"]["mounts"]) + ")"
                    lines.append(f"      volume: {where}")
            for note in s["notes"]:
                lines.append(f"    note: {note}")
        for note in p["notes"]:
            lines.append(f"  note: {note}")
        lines.append("")
    return lines
