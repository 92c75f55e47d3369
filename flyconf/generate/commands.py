"""`flyconf generate entrypoint` and `flyconf generate dockerfile`: the command-line side of the generators.

Exit codes follow `flyconf lint`'s: 0 done or nothing to do, 1 changes pending (`--diff`), 2 a usage error
(a file that does not exist, options that cannot work) or an internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flyconf.assemble import DOCKERFILE, FLYTOML, Workspace
from flyconf.generate.plan import PlanError, entrypoint_options, is_generated
from flyconf.sources.base import display, is_directory, lexists
from flyconf.sources.flytoml import FlyToml

EXIT_OK, EXIT_PENDING, EXIT_USAGE = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    if args.what == "entrypoint":
        return _entrypoint(args)
    return _dockerfile(args)


def _error(message: str) -> int:
    print(f"flyconf: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _root(target: Path, directory: Path | None, *, named: bool) -> Path:
    """The project directory `generate` writes in: the app's (the fly.toml's, or the current directory), unless
    ``named`` on the command line, the path lies elsewhere: then the directory that path names (the user chose
    it; a symlink out of it is still refused)."""
    import os

    base = os.path.abspath(directory if directory is not None else Path.cwd())
    where = os.path.abspath(target)
    if not named or where.startswith(base.rstrip(os.sep) + os.sep):
        return Path(base)
    return Path(os.path.dirname(where))


def _load_app(config: str | None):  # type: ignore[no-untyped-def]
    """The App of --config (or ./fly.toml), or an App without fly.toml, with the workspace and the findings of
    assembling it (why its Dockerfile was not read, say); a message on failure."""
    from flyconf.app import App
    from flyconf.assemble import app_for

    ws = Workspace()
    path = Path(config) if config else Path("fly.toml")
    if is_directory(path):
        path = path / "fly.toml"
    if not lexists(path):  # anything else there (a FIFO, a loop of links) is read, and fails with a message
        if config:
            raise PlanError(f"{config}: no such file or directory" if not lexists(Path(config))
                            else f"{config}: no fly.toml there")
        return App(None, directory=Path.cwd()), ws, []
    loaded = ws.load(path, FLYTOML)
    if not isinstance(loaded.doc, FlyToml):
        first = loaded.findings[0]
        raise PlanError(f"{first.path}:{first.line}:{first.column}: {first.message}")
    app, found = app_for(loaded.doc, path, ws)
    return app, ws, found


def _entrypoint(args: argparse.Namespace) -> int:
    from flyconf.generate.entrypoint import EXIT_CODES, render_entrypoint
    from flyconf.generate.presets import PRESETS, preset_for

    if args.list_presets:
        width = max(len(n) for n in PRESETS)
        for name, preset in sorted(PRESETS.items()):
            print(f"{name:<{width}}  {preset.command}\n{'':<{width}}  {preset.description}")
        return EXIT_OK
    try:
        app, _ws, _found = _load_app(args.config)
    except PlanError as exc:
        return _error(str(exc))
    preset_name = None
    if args.migrate:
        migrate = args.migrate
    elif args.preset:
        chosen = PRESETS.get(args.preset)
        if chosen is None:
            return _error(f"unknown preset {args.preset!r}; `flyconf generate entrypoint --list-presets` lists them")
        migrate, preset_name = chosen.command, chosen.name
    else:
        found = preset_for(app)
        if found is None:
            return _error("cannot tell which stack this is: pass --preset NAME (see --list-presets) or --migrate CMD")
        preset, reason = found
        migrate, preset_name = preset.command, preset.name
        print(f"flyconf: detected {preset.name} ({reason}): migrating with `{preset.command}`", file=sys.stderr)
    if args.server_drops_privileges and not args.run_as:
        return _error("--server-drops-privileges needs --run-as USER (the user the server command switches to)")
    try:
        options = entrypoint_options(
            app, migrate=migrate, volume=args.volume, databases=args.database, run_as=args.run_as,
            server_drops_privileges=args.server_drops_privileges if args.run_as else None,
            timeout=args.timeout or None, backups=args.backups, preset=preset_name,
            remedy=("pass --volume (and --database), or --config PATH" if not app.has_flytoml
                    else "add [[mounts]], or pass --volume" if not app.entries("mounts")
                    else "pass --volume to choose one"),
        )
        script = render_entrypoint(options)
    except (PlanError, ValueError) as exc:
        return _error(str(exc))
    if args.output == "-":
        sys.stdout.write(script)
        return EXIT_OK
    out = Path(args.output)
    if not out.is_absolute() and app.directory is not None and args.config:
        out = app.directory / out
    from flyconf.fileio import WriteError, write_atomic, write_problem

    root = _root(out, app.directory, named=args.output != "bin/fly-entrypoint")
    problem = write_problem(out, root)
    if problem is not None:
        return _error(f"{problem}; not written")
    if lexists(out) and not args.force and not is_generated(out):
        return _error(f"{display(out)} exists and was not written by flyconf; use --force to replace it")
    try:
        write_atomic(out, script, mode=0o755, root=root)
    except WriteError as exc:
        return _error(str(exc))
    print(f"flyconf: wrote {display(out)} (volume {options.volume}, database {options.database or 'not set'}"
          + (f", also {', '.join(options.other_databases)}" if options.other_databases else "")
          + (f", groups {', '.join(options.groups)}" if options.groups else "")
          + (f", run as {options.run_as}" if options.run_as else "") + ")", file=sys.stderr)
    print("flyconf: next, make the image start through it: flyconf generate dockerfile", file=sys.stderr)
    print("flyconf: its own exit codes: " + ", ".join(f"{c}" for c in sorted(EXIT_CODES)) +
          " (see the script's header)", file=sys.stderr)
    return EXIT_OK


def _dockerfile(args: argparse.Namespace) -> int:
    from flyconf.generate.dockerfile_edit import EditError, add_entrypoint

    try:
        app, ws, found = _load_app(args.config)
    except PlanError as exc:
        return _error(str(exc))
    if args.path:
        if not lexists(Path(args.path)) or is_directory(Path(args.path)):
            return _error(f"{args.path}: no such file" if not lexists(Path(args.path)) else f"{args.path}: not a file")
        loaded = ws.load(Path(args.path), DOCKERFILE)
        df = loaded.doc
        if df is None:
            first = loaded.findings[0]
            return _error(f"{first.path}:{first.line}:{first.column}: {first.message}")
    else:
        df = app.dockerfile
        if df is None:
            unread = next((d for d in found if d.code == "FC001"), None)  # it exists but was not read: say why
            if unread is not None:
                return _error(f"{unread.path}:{unread.line}:{unread.column}: {unread.message}")
            return _error("no Dockerfile: pass its path, or run in the directory of fly.toml")
    from flyconf.generate.plan import dropped_user, unified_diff

    # An image that starts as root and switches users in its start command: the wrapper goes first, as root.
    first = app.dockerfile is df and dropped_user(app) is not None
    try:
        edit = add_entrypoint(df, script=args.script, target=app.build_target, first=first)
    except EditError as exc:
        return _error(str(exc))
    if not edit.changed:
        print(f"flyconf: {df.display_path} already starts through the wrapper; nothing to do", file=sys.stderr)
        return EXIT_OK
    if args.diff:
        sys.stdout.write(unified_diff(df.display_path, df.text, edit.text))
        return EXIT_PENDING
    from flyconf.fileio import WriteError, write_atomic, write_problem

    assert df.fs_path is not None
    # The project: the directory of the Dockerfile named on the command line, else the app's (fly.toml's).
    root = _root(df.fs_path, None if args.path else app.directory, named=bool(args.path))
    problem = write_problem(df.fs_path, root)
    if problem is not None:
        return _error(f"{problem}; not edited")
    try:
        write_atomic(df.fs_path, edit.text, root=root)
    except WriteError as exc:
        return _error(str(exc))
    for line in edit.summary:
        print(f"flyconf: {df.display_path}: {line}", file=sys.stderr)
    return EXIT_OK
