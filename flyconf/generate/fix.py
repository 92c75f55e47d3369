"""`flyconf fix`: apply the fixes that are safe, for the findings that have them.

- sqlite-not-on-volume: the database gets a volume (`[[mounts]]` when there is
  none) and its `[env]` path moves onto it.
- compose-sqlite-not-on-volume, compose-sqlite-read-only: the service gets a
  named volume for the database's directory (flyconf.compose.fix).
- release-command-sqlite: the migration leaves `[deploy] release_command` and
  runs in the generated start-up wrapper, which the Dockerfile now uses as its
  ENTRYPOINT.

Fixes are computed from the same App and findings as `flyconf lint`; fly.toml
is edited with tomlkit (comments, order and formatting survive). Nothing is
written here: the caller shows the changes or writes them atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

from flyconf.app import App
from flyconf.assemble import FLYTOML, Workspace
from flyconf.discover import discover
from flyconf.generate.plan import (
    DEFAULT_SCRIPT,
    FileChange,
    PlanError,
    comment_out_release_command,
    entrypoint_options,
    fix_database_location,
    is_generated,
    render_toml,
)
from flyconf.sources.base import display
from flyconf.sources.flytoml import FlyToml


@dataclass
class FixPlan:
    changes: list[FileChange] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # what was fixed, one line each
    skipped: list[str] = field(default_factory=list)  # fixable findings left alone, and why


def plan_fixes(paths: Sequence[str | os.PathLike[str]]) -> FixPlan:
    from flyconf.assemble import app_for
    from flyconf.lint import _check_app

    plan = FixPlan()
    ws = Workspace()
    compose_files = []
    for target in discover(paths):
        if target.kind == "compose" and target.path.is_file():
            compose_files.append(target.path)
        if target.kind != FLYTOML or not target.path.is_file():
            continue
        loaded = ws.load(target.path, FLYTOML)
        if not isinstance(loaded.doc, FlyToml):
            plan.skipped.append(f"{display(target.path)}: not fixed, it does not parse")
            continue
        app, _ = app_for(loaded.doc, target.path, ws)
        fixable = {d.code for d in _check_app(app, ws) if d.fixable}
        if fixable:
            _plan_app(app, fixable, plan)  # type: ignore[arg-type]
    if compose_files:  # a named volume for each SQLite database on no volume (flyconf.compose.fix)
        from flyconf.compose.fix import plan_compose_fixes

        plan_compose_fixes(compose_files, ws, plan)
    return plan


def _plan_app(app: App, codes: set[str], plan: FixPlan) -> None:
    import tomlkit

    assert app.flytoml is not None and app.flytoml.fs_path is not None and app.directory is not None
    shown = app.flytoml.display_path
    original = text = app.flytoml.text  # as read once (line endings kept), not re-read from disk
    path = app.flytoml.fs_path
    if "FC402" in codes:
        doc = tomlkit.parse(text)
        notes = fix_database_location(app, doc)
        if notes:
            text = render_toml(doc, like=original)
            app = _reparsed(app, text)
            plan.done.extend(f"{shown}: {line}" for line in notes)
    if "FC401" in codes:
        try:
            changes, text, line = _move_release_to_wrapper(app)
        except PlanError as exc:
            plan.skipped.append(f"{shown}: release_command not moved: {exc}")
        else:
            plan.changes.extend(changes)
            plan.done.append(f"{shown}: {line}")
    if text != original:
        plan.changes.insert(0, FileChange(path, original, text, why="fly.toml"))


def _reparsed(app: App, text: str) -> App:
    from flyconf.sources.flytoml import FlyToml, parse_flytoml

    assert app.flytoml is not None
    parsed = parse_flytoml(text, app.flytoml.display_path, app.flytoml.fs_path)
    if not isinstance(parsed, FlyToml):  # pragma: no cover - tomlkit writes valid TOML
        raise PlanError(f"the edited fly.toml does not parse: {parsed.message}")
    new = App(parsed, directory=app.directory, dockerfile=app.dockerfile)
    new.scripts = app.scripts
    return new


def _move_release_to_wrapper(app: App) -> tuple[list[FileChange], str, str]:
    from flyconf.generate.dockerfile_edit import EditError, add_entrypoint
    from flyconf.generate.entrypoint import render_entrypoint

    assert app.directory is not None
    command = app.data["deploy"]["release_command"]
    if app.dockerfile is None or app.dockerfile.fs_path is None:
        raise PlanError("the app has no Dockerfile to start the wrapper from")
    script_path = app.directory / DEFAULT_SCRIPT
    if script_path.exists() and not is_generated(script_path):
        raise PlanError(f"{DEFAULT_SCRIPT} exists and was not written by flyconf")
    try:
        options = entrypoint_options(app, migrate=command)
        script = render_entrypoint(options)
        edit = add_entrypoint(app.dockerfile, script=DEFAULT_SCRIPT, target=app.build_target)
    except (PlanError, EditError, ValueError) as exc:
        raise PlanError(str(exc)) from None
    changes = []
    old_script = script_path.read_text(encoding="utf-8") if script_path.exists() else None
    if old_script != script:
        changes.append(FileChange(script_path, old_script, script, mode=0o755, why="start-up wrapper"))
    if edit.changed:
        changes.append(FileChange(app.dockerfile.fs_path, app.dockerfile.text, edit.text, why="Dockerfile"))
    text, line = comment_out_release_command(app.flytoml)
    return changes, text, line


def apply(plan: FixPlan) -> None:
    """Write every change atomically (a temporary file renamed over the original)."""
    from flyconf.fileio import write_atomic

    for change in plan.changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(change.path, change.new, mode=change.mode)

