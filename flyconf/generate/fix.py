"""`flyconf fix`: apply the fixes that are safe, for the findings that have them.

- sqlite-not-on-volume: the database gets a volume (`[[mounts]]` when there is
  none) and its `[env]` path moves onto it.
- compose-sqlite-not-on-volume, compose-sqlite-read-only: the service gets a
  named volume for the database's directory (flyconf.compose.fix).
- release-command-sqlite: the migration leaves `[deploy] release_command` and
  runs in the generated start-up wrapper, which the Dockerfile now uses as its
  ENTRYPOINT.

One function decides what fix will change, :func:`plan_directory`; `flyconf lint`
asks it which findings to mark `[*]` (:func:`fixable_findings`), so the mark
promises exactly what fix does.

The wrapper is a file of the build context (`bin/fly-entrypoint`) and every
fly.toml of that directory whose Dockerfile starts through it shares it. So the
directory is planned as a whole: the wrapper's defaults come from one fly.toml,
and each fly.toml whose volume, databases or migrating groups differ gets them
in its `[env]` (FLYCONF_VOLUME, FLYCONF_DATABASES, FLYCONF_MIGRATE_GROUPS), where
the wrapper reads them at start-up; one that has no database on a volume gets
FLYCONF_SKIP_MIGRATIONS = "1". fly.toml is edited with tomlkit (comments, order
and formatting survive). Nothing is written here: :func:`apply` writes a plan.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, overload

from flyconf.app import App
from flyconf.assemble import COMPOSE, FLYTOML, Workspace
from flyconf.diagnostics import Diagnostic
from flyconf.discover import discover, kind_of
from flyconf.generate.plan import (
    DEFAULT_SCRIPT,
    FileChange,
    PlanError,
    WrapperSettings,
    comment_out_release_command,
    database_fixable,
    dropped_user,
    fix_database_location,
    is_generated,
    key_indent,
    render_toml,
    set_env,
    wrapper_settings,
)
from flyconf.internal import describe, should_raise
from flyconf.sources.base import ReadFailure, display, exists, is_regular_file, lexists, read_text, real_path
from flyconf.sources.flytoml import FlyToml

if TYPE_CHECKING:
    from flyconf.generate.entrypoint import EntrypointOptions

__all__ = ["FindingRef", "FixPlan", "Outcome", "PlannedEdit", "Left", "apply", "fixable_findings", "plan_fixes"]

# What `flyconf fix` changes: release-command-sqlite and sqlite-not-on-volume.
RELEASE, NOT_ON_VOLUME = "FC401", "FC402"
FIX_CODES = frozenset({RELEASE, NOT_ON_VOLUME})

PlannedEdit = FileChange  # one file's new content; the public name of a plan's element


@dataclass(frozen=True)
class FindingRef:
    """Which finding: its code and position (as `flyconf lint` reports it)."""

    code: str
    path: str
    line: int
    column: int

    @classmethod
    def of(cls, d: Diagnostic) -> "FindingRef":
        return cls(d.code, d.path, d.line, d.column)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code}"


@dataclass(frozen=True)
class Outcome:
    """What fix does about one finding it could fix: ``fixed``, with what it did, or not, with why."""

    finding: FindingRef
    config: str  # the fly.toml it belongs to
    fixed: bool
    message: str


@dataclass(frozen=True)
class Left:
    """A finding of the rules fix owns that is still there after the fix, and why (None: fix has no fix
    for this case; the finding's hint says what to do)."""

    finding: Diagnostic
    reason: str | None = None


@dataclass(frozen=True)
class FixPlan(Sequence[PlannedEdit]):
    """The planned edits (a sequence of :class:`PlannedEdit`, one per file), what each fixes and what is left.

    ``outcomes`` says, for every finding fix could fix, whether it does and why not; ``notes`` are the other
    changes made so that the fixes work (a fly.toml that shares the wrapper gets its settings in `[env]`);
    ``left`` are the findings of the rules fix owns that remain afterwards.
    """

    edits: tuple[PlannedEdit, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    notes: tuple[str, ...] = ()
    left: tuple[Left, ...] = ()
    declined: tuple[str, ...] = ()  # Compose changes fix would not make, and why (flyconf.compose.fix)

    @overload
    def __getitem__(self, index: int) -> PlannedEdit: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PlannedEdit]: ...
    def __getitem__(self, index: int | slice) -> PlannedEdit | Sequence[PlannedEdit]:
        return self.edits[index]

    def __len__(self) -> int:
        return len(self.edits)

    def __iter__(self) -> Iterator[PlannedEdit]:
        return iter(self.edits)

    @property
    def fixed(self) -> frozenset[FindingRef]:
        """The findings this plan fixes."""
        return frozenset(o.finding for o in self.outcomes if o.fixed)

    @property
    def done(self) -> list[str]:
        """What the plan does, one line each: `<fly.toml>: <change>`."""
        return [f"{o.config}: {o.message}" for o in self.outcomes if o.fixed] + list(self.notes)


# -- the public entry points ------------------------------------------------------------------------------

def plan_fixes(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (".",), *,
               config: bool | str | os.PathLike[str] = False) -> FixPlan:
    """What `flyconf fix` would change under ``paths`` (fly.toml files or directories), without writing.

    Every fly.toml in the directory of one that is named takes part: they share the wrapper. A finding that is
    suppressed (`# flyconf: ignore[...]`) or not selected is not fixed; ``config`` reads the configuration as
    :func:`flyconf.lint_paths` does (True: the closest file for each file, as the command line does). Files are
    changed only inside the directories named (or the directory of a fly.toml named): a change to a file outside,
    or reached through a symlink out of it, is declined. Raises FileNotFoundError for a path that does not exist.
    """
    from flyconf.fileio import write_roots
    from flyconf.lint import configuration

    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for item in items:
        if not exists(Path(item)):
            raise FileNotFoundError(f"{item}: no such file or directory")
    ws = Workspace()
    ws.config = configuration(config=config)
    ws.roots = write_roots(items)
    directories: dict[Path, list[Path]] = {}
    compose_files: list[Path] = []
    for target in discover(items):
        if target.kind == FLYTOML and is_regular_file(target.path):
            directories.setdefault(real_path(target.path.parent), []).append(target.path)
        elif target.kind == COMPOSE and is_regular_file(target.path):
            compose_files.append(target.path)
    edits: dict[Path, PlannedEdit] = {}
    outcomes: list[Outcome] = []
    notes: list[str] = []
    left: list[Left] = []
    declined: list[str] = []
    for directory, named in directories.items():
        try:
            planned = plan_directory(_configs(directory, named, ws), ws, render=True, root=_root(directory, ws))
        except Exception as exc:  # noqa: BLE001 - flyconf's own failure: leave this app alone, fix the others
            if should_raise():
                raise
            why = str(exc) if isinstance(exc, CheckFailed) else f"flyconf failed while planning ({describe(exc)})"
            declined.append(f"{display(directory)}: {why}, so nothing there is changed; this is a flyconf bug: "
                            "please report it with the files")
            continue
        for edit in planned.edits:
            key = real_path(edit.path)
            if key in edits and edits[key].new != edit.new:  # pragma: no cover - one directory edits a file once
                raise PlanError(f"{display(edit.path)} would be edited twice, differently")
            edits.setdefault(key, edit)
        outcomes.extend(planned.outcomes)
        notes.extend(planned.notes)
        left.extend(planned.left)
    if compose_files:  # a named volume for each SQLite database on no volume (flyconf.compose.fix)
        from flyconf.compose.fix import plan_compose_fixes

        try:
            composed = plan_compose_fixes(compose_files, ws)
        except Exception as exc:  # noqa: BLE001 - as for a directory of fly.toml files above
            if should_raise():
                raise
            declined.append(f"{display(compose_files[0])}: flyconf failed while planning the Compose fixes "
                            f"({describe(exc)}), so no Compose file is changed; this is a flyconf bug: please "
                            "report it with the files")
        else:
            for change in composed.changes:
                edits.setdefault(real_path(change.path), change)
            notes.extend(composed.done)
            declined.extend(composed.skipped)
    return FixPlan(tuple(edits.values()), tuple(outcomes), tuple(notes), tuple(left), tuple(declined))


def apply(plan: Sequence[PlannedEdit]) -> list[Path]:
    """Write every edit, all or none (flyconf.fileio.write_files): each to a temporary file beside it, then all
    renamed over the originals; on any failure every file is left as it was and WriteError says why. Each file
    stays inside its edit's ``root`` (the current directory when it has none). Returns the paths written."""
    from flyconf.fileio import Write, write_files

    return write_files([Write(c.path, c.new, c.root or Path.cwd(), c.mode) for c in plan])


def _root(directory: Path, ws: Workspace) -> Path:
    """The project directory of the fly.toml files in ``directory``: where fix may write."""
    from flyconf.fileio import write_root

    return write_root(directory / "fly.toml", ws.roots)


def _allowed(ws: Workspace) -> Callable[[FindingRef], bool]:
    """Whether fix may fix a finding: its rule is selected for its file (the run's configuration) and no
    `# flyconf: ignore[...]` comment silences it, as lint's filter decides (flyconf.lint._finish)."""
    from flyconf.config import Configuration
    from flyconf.suppress import Suppression, suppressions

    conf = ws.config if ws.config is not None else Configuration()
    read: dict[str, list[Suppression]] = {}  # each file's suppressions, read once however many findings it has

    def allowed(ref: FindingRef) -> bool:
        if not conf.policy(ref.path).allows(ref.code):
            return False
        doc = ws.documents.get(ref.path)
        if doc is None:
            return True
        if ref.path not in read:
            read[ref.path] = suppressions(doc)[0]
        return not any(ref.code in s.codes and s.covers(ref.line) for s in read[ref.path])

    return allowed


_MARKS: "weakref.WeakKeyDictionary[Workspace, dict[Path, frozenset[FindingRef]]]" = weakref.WeakKeyDictionary()


def fixable_findings(app: App, ws: Workspace) -> frozenset[FindingRef]:
    """The findings of ``app`` (and of the fly.toml files beside it) that `flyconf fix` changes: `lint`
    marks exactly these `[*]`. Planned once per directory and lint run."""
    if app.flytoml is None or app.flytoml.fs_path is None:
        return frozenset()  # a Dockerfile alone, or text without a file: fix edits a fly.toml on disk
    directory = real_path(app.flytoml.fs_path.parent)
    cache = _MARKS.setdefault(ws, {})
    if directory not in cache:
        planned = plan_directory(_configs(directory, [app.flytoml.fs_path], ws), ws, render=False,
                                 root=_root(directory, ws))
        cache[directory] = frozenset(o.finding for o in planned.outcomes if o.fixed)
    return cache[directory]


# -- planning one directory ------------------------------------------------------------------------------

@dataclass
class _Config:
    """One fly.toml of the directory, as read and as the plan changes it."""

    path: Path
    app: App  # as read
    text: str = ""  # its text with the plan's edits so far
    current: App | None = None  # ``text`` parsed
    release: FindingRef | None = None  # a release_command that migrates SQLite, where lint reports it
    command: str = ""
    blocked: str | None = None  # why this fly.toml cannot be written (outside the project, a symlink out of it)

    @property
    def name(self) -> str:
        assert self.app.flytoml is not None
        return self.app.flytoml.display_path

    @property
    def now(self) -> App:
        return self.current or self.app


@dataclass
class _Planned:
    edits: list[PlannedEdit] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    root: Path = Path(".")  # the project directory: every file written stays inside it
    allowed: Callable[[FindingRef], bool] = lambda ref: True  # selected and not suppressed


def _configs(directory: Path, named: Sequence[Path], ws: Workspace) -> list[_Config]:
    """The fly.toml files of ``directory`` (those named, and every `fly.toml`, `fly.*.toml`, `fly-*.toml`
    beside them), fly.toml first: the wrapper's defaults come from the first."""
    from flyconf.assemble import app_for

    paths = {real_path(p): p for p in named}
    try:
        for entry in sorted(directory.iterdir()):
            if is_regular_file(entry) and kind_of(entry.name, explicit=False) == FLYTOML:
                paths.setdefault(real_path(entry), entry)
    except OSError:
        pass
    out = []
    for path in sorted(paths.values(), key=lambda p: (p.name != "fly.toml", p.name)):
        loaded = ws.load(path, FLYTOML)
        if isinstance(loaded.doc, FlyToml):
            app, _ = app_for(loaded.doc, path, ws)
            out.append(_Config(path, app, loaded.doc.text))
    return out


def plan_directory(configs: list[_Config], ws: Workspace, *, render: bool, root: Path | None = None) -> _Planned:
    """The fixes for the fly.toml files of one directory: the one decision `fix` applies and `lint` marks.

    Without ``render`` the wrapper is checked but not rendered (lint never loads the template engine). Only the
    findings the run selects and does not suppress are fixed, and only files inside ``root`` (default: the
    directory of the first fly.toml) are changed.
    """
    from flyconf.fileio import write_problem

    planned = _Planned(root=root or (real_path(configs[0].path.parent) if configs else Path.cwd()),
                       allowed=_allowed(ws))
    for config in configs:
        config.blocked = write_problem(config.path, planned.root)
        _plan_databases(config, planned)
    movers = [c for c in configs if _release_target(c, planned)]
    if movers:
        _plan_wrapper(configs, movers, planned, render)
    tomls = [FileChange(c.path, c.app.fly.text, c.text, why="fly.toml", root=planned.root)
             for c in configs if c.text != c.app.fly.text]
    planned.edits[:0] = tomls
    if render:
        planned.left.extend(_left(configs, planned, ws))
    return planned


def _plan_databases(config: _Config, planned: _Planned) -> None:
    """sqlite-not-on-volume: each database that is not on a volume, where `fix` can move it."""
    import tomlkit

    app = config.app
    targets = []
    for db in app.databases:
        placed = app.placement(db)
        if not placed.fixable:
            continue  # not a question of where the file is (LiteFS, process groups, a URL's slashes)
        ref = FindingRef(NOT_ON_VOLUME, db.declared.doc.display_path, db.declared.span.line, db.declared.span.column)
        if not planned.allowed(ref):
            continue  # suppressed or not selected: the user keeps the database where it is
        why = config.blocked or database_fixable(app, db)
        if why is not None:
            planned.outcomes.append(Outcome(ref, config.name, False, why))
        else:
            targets.append((db, ref))
    if not targets:
        return
    doc = tomlkit.parse(config.text)
    moved = {id(db): note for db, note in fix_database_location(app, doc)}
    for db, ref in targets:
        note = moved.get(id(db))
        planned.outcomes.append(Outcome(ref, config.name, note is not None, note or "not moved"))
    _set_text(config, render_toml(doc, like=config.text))


def _set_text(config: _Config, text: str) -> None:
    from flyconf.sources.flytoml import parse_flytoml

    app = config.app
    assert app.flytoml is not None
    parsed = parse_flytoml(text, app.flytoml.display_path, app.flytoml.fs_path)
    if not isinstance(parsed, FlyToml):  # pragma: no cover - tomlkit writes valid TOML
        raise PlanError(f"the edited {app.flytoml.display_path} does not parse: {parsed.message}")
    new = App(parsed, directory=app.directory, dockerfile=app.dockerfile)
    new.scripts = app.scripts
    new.unread_scripts = app.unread_scripts
    new.script_paths = app.script_paths
    new.read_document = app.read_document
    config.text, config.current = text, new


def _release_target(config: _Config, planned: _Planned) -> bool:
    """release-command-sqlite on `release_command`: True when it may move (the directory decides the rest)."""
    from flyconf.rules.sqlite import release_migrations

    app = config.app
    found = [m for key, m in release_migrations(app) if key == "release_command"]
    if not found:
        return False
    ref = FindingRef(RELEASE, app.fly.display_path, *_position(app.fly, ("deploy", "release_command")))
    if not planned.allowed(ref):
        return False  # suppressed or not selected: the release_command stays
    config.release = ref
    config.command = app.data["deploy"]["release_command"]
    why = None
    if config.blocked is not None:
        why = config.blocked
    elif app.directory is None or app.flytoml is None or app.flytoml.fs_path is None:
        why = "only a fly.toml on disk can be fixed"
    elif app.dockerfile is None or app.dockerfile.fs_path is None:
        why = "the app has no Dockerfile to start the wrapper from (it deploys a prebuilt image or a buildpack)"
    elif app.uses_litefs:
        why = ("the app runs LiteFS: put the migration in litefs.yml `exec`, before the server, with "
               "`if-candidate: true`")
    if why is not None:
        planned.outcomes.append(Outcome(config.release, config.name, False, why))
        return False
    return True


def _position(doc: FlyToml, key: tuple[str, ...]) -> tuple[int, int]:
    span = doc.value_span(key)
    return span.line, span.column


@dataclass
class _User:
    """A fly.toml whose image starts through the wrapper, and what it needs from it."""

    config: _Config
    settings: WrapperSettings | None  # None: it skips migrating (FLYCONF_SKIP_MIGRATIONS)
    why_skip: str = ""


def _plan_wrapper(configs: list[_Config], movers: list[_Config], planned: _Planned, render: bool) -> None:
    """release-command-sqlite: one wrapper for the directory, the Dockerfiles that start through it, and the
    settings of every fly.toml that uses it; all of it or nothing."""
    try:
        changes, users = _wrapper_changes(configs, movers, render, planned.root)
    except PlanError as exc:
        for config in movers:
            assert config.release is not None
            planned.outcomes.append(Outcome(config.release, config.name, False, f"release_command not moved: {exc}"))
        return
    migrating = [u for u in users if u.settings is not None]
    differ = {name for name in ("FLYCONF_VOLUME", "FLYCONF_DATABASES", "FLYCONF_MIGRATE_GROUPS")
              if len({u.settings.env[name] for u in migrating if u.settings is not None}) > 1}
    for user in users:
        shared_with = ", ".join(u.config.name for u in users if u is not user)
        values: dict[str, str] = {}
        if user.settings is None:
            values["FLYCONF_SKIP_MIGRATIONS"] = "1"
        else:
            values.update({name: value for name, value in user.settings.env.items() if name in differ})
        if values:
            import tomlkit

            doc = tomlkit.parse(user.config.text)
            set_env(doc, values, indent=key_indent(user.config.text))
            _set_text(user.config, render_toml(doc, like=user.config.text))
            what = ", ".join(f"{k} = {v!r}" for k, v in values.items())
            why = user.why_skip if user.settings is None else f"it shares {DEFAULT_SCRIPT} with {shared_with}"
            planned.notes.append(f"{user.config.name}: [env] {what} ({why})")
    for config in movers:
        current = config.now
        assert current.flytoml is not None and config.release is not None
        text, line = comment_out_release_command(current.flytoml)
        _set_text(config, text)
        planned.outcomes.append(Outcome(config.release, config.name, True, line))
    planned.edits.extend(changes)


def _wrapper_changes(configs: list[_Config], movers: list[_Config], render: bool,
                     root: Path) -> tuple[list[PlannedEdit], list[_User]]:
    """The wrapper and Dockerfile changes, and the fly.toml files that start through the wrapper.

    Raises PlanError when no wrapper can serve every fly.toml that would start through it, or when a file it
    needs to change is outside ``root`` (or reached through a symlink out of it).
    """
    from flyconf.fileio import write_problem
    from flyconf.generate.dockerfile_edit import EditError, add_entrypoint
    from flyconf.generate.entrypoint import check_options

    first = movers[0]
    assert first.app.directory is not None
    for mover in movers:  # raises PlanError where the key cannot be taken out cleanly
        comment_out_release_command(mover.now.flytoml)
    commands = {c.command for c in movers}
    if len(commands) > 1:
        raise PlanError(f"the fly.toml files that share {DEFAULT_SCRIPT} migrate with different commands ("
                        + "; ".join(f"{c.name}: {c.command!r}" for c in movers) + ")")
    script_path = first.app.directory / DEFAULT_SCRIPT
    problem = write_problem(script_path, root)
    if problem is not None:
        raise PlanError(problem)
    if lexists(script_path) and not is_generated(script_path):
        raise PlanError(f"{DEFAULT_SCRIPT} exists and was not written by flyconf")
    # Who starts through the wrapper: the movers' Dockerfiles, and any Dockerfile of the directory that
    # already does. Every fly.toml that builds one of them shares the wrapper.
    run_as = {dropped_user(c.now) for c in movers}
    if len(run_as) > 1:
        raise PlanError(f"the images that share {DEFAULT_SCRIPT} start as different users")
    user = run_as.pop()
    edits: dict[Path, str] = {}
    dockerfiles: dict[Path, tuple[Path, str]] = {}  # resolved path -> (path as named, original text)
    users: list[_User] = []
    # The movers first: their Dockerfiles are edited; then the others that build one of those, or a
    # Dockerfile that already starts through the wrapper.
    for config in movers + [c for c in configs if c not in movers]:
        app = config.now
        if app.dockerfile is None or app.dockerfile.fs_path is None:
            continue
        key = real_path(app.dockerfile.fs_path)
        try:
            edit = add_entrypoint(app.dockerfile, script=DEFAULT_SCRIPT, target=app.build_target,
                                  first=user is not None)
        except EditError as exc:
            if config in movers:
                raise PlanError(f"{app.dockerfile.display_path}: {exc}") from None
            continue
        if config not in movers and edit.changed and key not in edits:
            continue  # its image does not start through the wrapper, and nothing makes it
        if key in edits and edits[key] != edit.text:
            raise PlanError(f"{app.dockerfile.display_path} is built with different targets by the fly.toml files "
                            "that share it")
        if edit.changed:
            problem = write_problem(app.dockerfile.fs_path, root)
            if problem is not None:
                raise PlanError(f"the Dockerfile cannot be edited: {problem}")
        if config.blocked is not None:
            raise PlanError(f"{config.name} starts through the wrapper too, and cannot be changed: {config.blocked}")
        edits[key] = edit.text
        dockerfiles[key] = (app.dockerfile.fs_path, app.dockerfile.text)
        users.append(_settings_of(config, config in movers))
    users.sort(key=lambda u: configs.index(u.config))  # the defaults come from the first fly.toml in order
    for u in users:
        if u.settings is None:
            continue
        try:
            check_options(_options(u.settings, first.command, user))
        except ValueError as exc:
            if u.config in movers:
                raise PlanError(f"{u.config.name}: {exc}") from None
            u.settings, u.why_skip = None, f"its database cannot be migrated by the wrapper: {exc}"
    # The script's defaults: the settings of the first fly.toml that migrates (a mover always does).
    defaults = next(u.settings for u in users if u.settings is not None)
    changes: list[PlannedEdit] = []
    if render:
        from flyconf.generate.entrypoint import render_entrypoint

        script = render_entrypoint(_options(defaults, first.command, user))
        old = None
        if lexists(script_path):
            read = read_text(script_path)
            if isinstance(read, ReadFailure):
                raise PlanError(f"{DEFAULT_SCRIPT}: {read.message}")
            old = read
        if old != script:
            changes.append(FileChange(script_path, old, script, mode=0o755, why="start-up wrapper", root=root))
    for key, text in edits.items():
        path, old_text = dockerfiles[key]
        if text != old_text:
            changes.append(FileChange(path, old_text, text, why="Dockerfile", root=root))
    return changes, users


def _settings_of(config: _Config, mover: bool) -> _User:
    app = config.now
    if not app.databases:
        return _User(config, None, "it has no SQLite database for the wrapper to migrate")
    try:
        return _User(config, wrapper_settings(app))
    except PlanError as exc:
        if mover:
            raise
        return _User(config, None, f"the wrapper cannot migrate its database: {exc}")


def _options(settings: WrapperSettings, migrate: str, run_as: str | None) -> "EntrypointOptions":
    from flyconf.generate.entrypoint import EntrypointOptions

    return EntrypointOptions(volume=settings.volume, database=settings.database, migrate=migrate,
                             groups=settings.groups, other_databases=settings.other_databases, run_as=run_as,
                             server_drops_privileges=run_as is not None)


def _left(configs: list[_Config], planned: _Planned, ws: Workspace) -> Iterator[Left]:
    """The findings of the rules fix owns that the plan leaves, with fix's reason where it has one."""
    from flyconf.lint import _app_findings

    fixed = {o.finding for o in planned.outcomes if o.fixed}
    reasons = {o.finding: o.message for o in planned.outcomes if not o.fixed}
    seen: set[FindingRef] = set()
    for config in configs:
        for d in _app_findings(config.app, ws):
            if d.code == "FC004":  # a check failed: what the app needs is not known, so fix changes none of it
                raise CheckFailed(f"{d.path}: {d.message}")
            ref = FindingRef.of(d)
            if d.code in FIX_CODES and ref not in fixed and ref not in seen and planned.allowed(ref):
                seen.add(ref)
                yield Left(d, reasons.get(ref))


class CheckFailed(Exception):
    """A check of an app failed (an internal error, FC004 in lint): its directory is left as it is."""


def mark(app: App, found: list[Diagnostic], ws: Workspace) -> list[Diagnostic]:
    """``found`` with `fixable` set on exactly the findings `flyconf fix` changes (the `[*]` of lint)."""
    if not any(d.code in FIX_CODES for d in found):
        return found
    refs = fixable_findings(app, ws)
    return [replace(d, fixable=FindingRef.of(d) in refs) if d.code in FIX_CODES else d for d in found]
