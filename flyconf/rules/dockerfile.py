"""Dockerfile rules: what the image runs, where its data goes, which port it listens on, who owns the volume."""

from __future__ import annotations

import re
from typing import Any, Iterator

from flyconf.app import App, is_under
from flyconf.diagnostics import Diagnostic, Severity, Span
from flyconf.migrations import find_migration
from flyconf.registry import check, declare
from flyconf.sources.dockerfile import KNOWN_INSTRUCTIONS as _KNOWN
from flyconf.sources.dockerfile import expand_vars
from flyconf.suggest import did_you_mean

DOCKERFILE_SYNTAX = declare(
    "FC701", "dockerfile-syntax", "error",
    "The Dockerfile does not parse, or has an instruction Docker does not know.",
    """
    `fly deploy` builds the image with BuildKit; a Dockerfile it cannot parse
    fails the build before anything else is checked. flyconf reads Dockerfiles
    by BuildKit's parsing rules (tested against BuildKit's own parser), so
    what it rejects, the build rejects. The finding points at the faulty
    instruction.
    """,
    bad="FROM node:20\nRUN <<EOF\nnpm ci\n",
    good="FROM node:20\nRUN <<EOF\nnpm ci\nEOF\n",
    family="dockerfile",
)

DOCKERFILE_MISSING = declare(
    "FC702", "dockerfile-missing", "error",
    "`[build] dockerfile` names a file that does not exist.",
    """
    `dockerfile` in `[build]` is resolved relative to the directory of
    fly.toml. When the file is not there, `fly deploy` fails (or, worse, a
    different build strategy is chosen).
    """,
    bad='[build]\ndockerfile = "Dockerfile.production"   # the file is docker/Dockerfile.production\n',
    good='[build]\ndockerfile = "docker/Dockerfile.production"\n',
    family="dockerfile",
)

CMD_SHELL_FORM = declare(
    "FC703", "cmd-shell-form", "warning",
    "CMD or ENTRYPOINT in shell form (or `sh -c \"a && b\"`): the shell is PID 1, not the server.",
    """
    In shell form, Docker runs `/bin/sh -c "<command>"`; the shell is the
    Machine's main process and the server its child. Fly stops a Machine by
    sending `kill_signal` (SIGINT by default) to the main process, so the
    server never gets it, cannot shut down cleanly, and is killed after
    `kill_timeout`. The same holds for `["sh", "-c", "migrate && serve"]`.
    Use the exec (JSON) form, or a wrapper script that ends in `exec "$@"`.
    """,
    bad='CMD npm run start\n',
    good='CMD ["npm", "run", "start"]\n',
    family="dockerfile",
)

ENTRYPOINT_IGNORES_CMD = declare(
    "FC704", "entrypoint-ignores-cmd", "error",
    "A shell-form ENTRYPOINT together with a CMD (or [processes] commands): Docker ignores the CMD.",
    """
    A shell-form ENTRYPOINT runs `/bin/sh -c "<entrypoint>"` and drops every
    argument, so CMD, and the `[processes]` commands in fly.toml that replace
    it, are silently ignored: every process group runs the same thing.
    """,
    bad='ENTRYPOINT /app/docker-entrypoint.sh\nCMD ["node", "server.js"]\n',
    good='ENTRYPOINT ["/app/docker-entrypoint.sh"]\nCMD ["node", "server.js"]\n',
    family="dockerfile",
)

BUILD_TIME_MIGRATION = declare(
    "FC705", "build-time-migration", "error",
    "A RUN step migrates the SQLite database: it is created inside the image, and the volume hides it.",
    """
    A migration in a RUN step runs at build time, against a database file
    inside the image. At run time the volume is mounted over that directory
    (or the file lives on the root file system, which is rebuilt on every
    deploy), so the real database on each Machine is never migrated. Migrate
    at start-up instead, before the server starts.
    """,
    bad='RUN npx prisma migrate deploy\nCMD ["npm", "start"]\n',
    good='ENTRYPOINT ["/app/bin/fly-entrypoint"]   # migrates, then execs CMD\nCMD ["npm", "start"]\n',
    family="dockerfile",
)

PORT_MISMATCH = declare(
    "FC706", "port-mismatch", "warning",
    "The port the server listens on disagrees with `internal_port`.",
    """
    Fly's proxy sends traffic to `internal_port`. If the server listens
    elsewhere (an explicit `--port`/`--bind`/`-p` on the start command, `PORT`
    in the environment, or the image's EXPOSE), health checks fail and every
    request gets a 502. fly.toml `[env] PORT` overrides the Dockerfile's `ENV
    PORT`.
    """,
    bad='# fly.toml\n[http_service]\ninternal_port = 8080\n\n# Dockerfile\nENV PORT=3000\n',
    good='# fly.toml\n[http_service]\ninternal_port = 3000\n\n# Dockerfile\nENV PORT=3000\n',
    family="dockerfile",
)

VOLUME_NOT_WRITABLE = declare(
    "FC707", "volume-not-writable", "warning",
    "The image runs as a non-root USER, but a fresh Fly volume is owned by root.",
    """
    A new Fly volume's root directory belongs to root. When the final USER is
    not root, the app cannot create its database on the volume unless
    something changes ownership at run time: a start script that runs as root,
    chowns the mount and then drops privileges. A `chown` in a RUN step does
    not help: it changes the directory in the image, which the volume hides
    when it is mounted.
    """,
    bad='RUN mkdir /data && chown node /data\nUSER node\n',
    good='# run as root; the entrypoint chowns /data, then drops to `node`\nENTRYPOINT ["/app/bin/fly-entrypoint"]\n',
    family="dockerfile",
)

DOCKERFILE_VOLUME = declare(
    "FC708", "dockerfile-volume", "info",
    "A VOLUME instruction: Fly does not create volumes from it, only from `[mounts]`.",
    """
    Fly ignores VOLUME: data written there lives on the Machine's root file
    system and is lost on every deploy and restart, unless a `[mounts]`
    section puts a Fly volume at the same path. The finding is a warning when
    the path differs from every mount destination.
    """,
    bad='# Dockerfile\nVOLUME /data\n# fly.toml has no [mounts]\n',
    good='# fly.toml\n[[mounts]]\nsource = "data"\ndestination = "/data"\n',
    family="dockerfile",
)

_ROOT_USERS = {"root", "0", "0:0", "root:root", "0:root", "root:0"}
_COMPOUND = re.compile(r"&&|\|\||;|\n|(?<![|&])\|(?![|&])")


@check("image")
def check_dockerfile(app: App) -> Iterator[Diagnostic]:
    df = app.dockerfile
    unknown_seen = False
    for ins in df.instructions:
        if ins.cmd not in _KNOWN and not ins.cmd.startswith("#"):
            if not unknown_seen:  # the build stops at the first one; one finding, not one per line
                unknown_seen = True
                yield DOCKERFILE_SYNTAX.diagnostic(df, ins, f"unknown instruction `{ins.cmd}`: the build stops here",
                                                   hint=did_you_mean(ins.cmd, sorted(_KNOWN)))
        elif ins.cmd in ("CMD", "ENTRYPOINT") and not ins.json and " ".join(ins.value).lstrip().startswith("["):
            yield DOCKERFILE_SYNTAX.diagnostic(
                df, ins, f"{ins.cmd} starts with `[` but is not valid JSON, so Docker runs it as a shell command",
                hint='write the exec form as JSON, with double quotes: ["node", "server.js"]',
            )
    if df.stages and df.instructions and df.instructions[0].cmd not in ("FROM", "ARG"):
        first = df.instructions[0]
        yield DOCKERFILE_SYNTAX.diagnostic(df, first, f"the first instruction is {first.cmd}; a Dockerfile must "
                                                      "start with FROM (or ARG before FROM)")
    yield from _start_form(app)
    yield from _build_time_migration(app)
    yield from _volumes(app)
    if app.has_flytoml:
        yield from _port_mismatch(app)
        yield from _not_writable(app)


# -- how the server starts ----------------------------------------------------------------------

def _start_form(app: App) -> Iterator[Diagnostic]:
    df, image = app.dockerfile, app.image
    ep, cmd = image.entrypoint, image.cmd
    if ep is not None and not ep.json:
        replaced = []
        if cmd is not None:
            replaced.append(f"the CMD on line {cmd.start_line}")
        commands = [g for g, (c, _p) in app.process_commands.items() if c.strip()]
        if commands:
            replaced.append("the fly.toml [processes] commands (" + ", ".join(f"`{g}`" for g in commands) + ")")
        if replaced:
            yield ENTRYPOINT_IGNORES_CMD.diagnostic(
                df, ep, f"shell-form ENTRYPOINT ignores {' and '.join(replaced)}: Docker runs only the entrypoint",
                hint=f"write the exec form: ENTRYPOINT {_as_json(ep)}",
            )
    for ins in (ep, cmd):
        if ins is None or ins.stage not in image.chain:
            continue
        if not ins.json:
            yield CMD_SHELL_FORM.diagnostic(
                df, ins,
                f"{ins.cmd} in shell form runs `/bin/sh -c`, so the shell is the main process and the server never "
                "receives Fly's kill_signal",
                hint=f"write the exec form: {ins.cmd} {_as_json(ins)}",
            )
            continue
        argv = list(ins.value)
        script = _sh_c(argv)
        if script is not None and _COMPOUND.search(script) and not _ends_in_exec(script):
            yield CMD_SHELL_FORM.diagnostic(
                df, df.token_span(ins, argv[0]),
                f"{ins.cmd} runs `{argv[0]} -c` with several commands, so the shell stays the main process and the "
                "server never receives Fly's kill_signal",
                hint='move the steps into a script that ends with `exec "$@"` (or prefix the last command with `exec`)',
            )
        if script is not None:
            yield from _script_command(df, df.token_span(ins, argv[-1][:20]) if argv else df.instruction_span(ins),
                                       script)
    if app.has_flytoml:
        doc = app.fly
        for group, argv in app.process_argv.items():
            command, path = app.process_commands[group]
            script = _sh_c(argv)
            if script is None:
                continue
            span = doc.value_span(path)
            if _COMPOUND.search(script) and not _ends_in_exec(script):
                yield CMD_SHELL_FORM.diagnostic(
                    doc, span,
                    f"process group `{group}` runs `{argv[0]} -c` with several commands, so the shell stays the main "
                    "process and the server never receives Fly's kill_signal",
                    hint='prefix the last command with `exec`, or use a script that ends with `exec "$@"`',
                )
            yield from _script_command(doc, span, command)
    for script in app.scripts:
        yield from _scripts().check_start_script(script)


def _scripts() -> Any:
    from flyconf.rules import scripts

    return scripts


def _script_command(doc: Any, span: Span, command: str) -> Iterator[Diagnostic]:
    yield from _scripts().check_command(doc, span, command)


def _sh_c(argv: list[str]) -> str | None:
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "dash", "ash") and "-c" in argv[1:3]:
        i = argv.index("-c")
        return argv[i + 1] if i + 1 < len(argv) else None
    return None


def _ends_in_exec(script: str) -> bool:
    parts = [p.strip() for p in re.split(r"&&|\|\||;|\n", script) if p.strip()]
    return bool(parts) and parts[-1].startswith("exec ")


def _as_json(ins: Any) -> str:
    import json

    return json.dumps(ins.argv())


# -- migrations at build time ---------------------------------------------------------------------

_INLINE_SQLITE = re.compile(r"\b[A-Z_]*(?:DATABASE|DB|SQLITE)[A-Z_]*=\S*(?:file:|sqlite3?:|\.db\b|\.sqlite3?\b)")


def _build_time_migration(app: App) -> Iterator[Diagnostic]:
    df = app.dockerfile
    uses_sqlite = bool(app.databases)
    for ins in df.instructions:
        if ins.cmd != "RUN":
            continue
        text = " ".join(ins.value) if ins.json else ins.shell_text
        migration = find_migration(text)
        if migration is None:
            continue
        if not (uses_sqlite or _INLINE_SQLITE.search(text)):
            continue  # a server database (or unknown): migrating at build time is someone else's problem
        if ":memory:" in text:
            continue
        where = df.token_span(ins, migration.text)
        yield BUILD_TIME_MIGRATION.diagnostic(
            df, where,
            f"RUN migrates the SQLite database at build time ({migration.tool}: `{migration.text}`): the file is "
            "created inside the image, the volume mounted at run time hides it, and the real database is never migrated",
            hint="remove this step and migrate at start-up on every Machine (`flyconf generate entrypoint`)",
        )


# -- VOLUME ----------------------------------------------------------------------------------------

def _volumes(app: App) -> Iterator[Diagnostic]:
    df, image = app.dockerfile, app.image
    dests = [m.get("destination") for m in app.entries("mounts") if isinstance(m.get("destination"), str)]
    for path, ins in image.volumes:
        if not app.has_flytoml:
            yield DOCKERFILE_VOLUME.diagnostic(
                df, df.token_span(ins, path),
                f"VOLUME {path}: Fly ignores VOLUME; only a fly.toml `[mounts]` puts a volume there",
            )
        elif not dests:
            yield DOCKERFILE_VOLUME.diagnostic(
                df, df.token_span(ins, path),
                f"VOLUME {path}: Fly ignores VOLUME and fly.toml has no `[mounts]`, so what is written to {path} is "
                "lost on every deploy and restart",
                hint=f'add `[[mounts]]` with `destination = "{path}"` to fly.toml',
                severity=Severity.WARNING,
            )
        elif not any(is_under(path, d) and is_under(d, path) for d in dests):
            yield DOCKERFILE_VOLUME.diagnostic(
                df, df.token_span(ins, path),
                f"VOLUME {path} differs from the mount destination{'s' if len(dests) > 1 else ''} "
                f"{', '.join(dests)}: Fly ignores VOLUME, so {path} is not on the volume",
                severity=Severity.WARNING,
            )
        else:
            yield DOCKERFILE_VOLUME.diagnostic(
                df, df.token_span(ins, path),
                f"VOLUME {path}: Fly ignores VOLUME; the fly.toml mount at {path} is what keeps the data",
            )


# -- ports ---------------------------------------------------------------------------------------------

_PORT_FLAG = re.compile(r"^(?:--port|-p|--http-port|--listen-port)(?:=(\d+))?$")
_BIND_FLAG = re.compile(r"^(?:--bind|-b|--listen|--host-port)(?:=(.+))?$")
_HOST_PORT = re.compile(r"^(?:[\w.\-\[\]:]*):(\d{1,5})$")


def _flag_port(argv: list[str], env: dict[str, str]) -> tuple[int, str] | None:
    """An explicit listening port in a start command, and the token that says it."""
    for i, word in enumerate(argv):
        m = _PORT_FLAG.match(word)
        if m:
            value = m.group(1) if m.group(1) else (argv[i + 1] if i + 1 < len(argv) else "")
            port = _port_value(value, env)
            if port is not None:
                return port, word if m.group(1) else value
        m = _BIND_FLAG.match(word)
        if m:
            value = m.group(1) if m.group(1) else (argv[i + 1] if i + 1 < len(argv) else "")
            hp = _HOST_PORT.match(value)
            if hp:
                port = _port_value(hp.group(1), env)
                if port is not None:
                    return port, value
        if i and argv[i - 1] == "runserver":
            hp = _HOST_PORT.match(word)
            if hp:
                return int(hp.group(1)), word
    return None


def _port_value(value: str, env: dict[str, str]) -> int | None:
    value = expand_vars(value.strip(), env)
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else None


def _port_mismatch(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    env = {k: v.value for k, v in app.env.items()}
    if app.uses_litefs:
        yield from _litefs_proxy_port(app)
        return
    for service in app.services():
        internal = service.get("internal_port")
        if isinstance(internal, str) and internal.isdigit():
            internal = int(internal)
        if not isinstance(internal, int) or isinstance(internal, bool):
            continue
        for group in app.groups_of(service):
            evidence = _listening_port(app, group, env)
            if evidence is None:
                continue
            port, source, exposed, weak = evidence
            if port == internal or internal in exposed:
                continue
            yield PORT_MISMATCH.diagnostic(
                doc, doc.value_span(service.key("internal_port")),
                f"{service.label} sends traffic to internal_port {internal}, but the server listens on {port} "
                f"({source})",
                hint=f"set `internal_port = {port}`, or make the server listen on {internal}",
                # EXPOSE is documentation; on its own it is a hint, not a certainty.
                severity=Severity.INFO if weak else None,
            )
            break


def _litefs_proxy_port(app: App) -> Iterator[Diagnostic]:
    """With LiteFS, Fly's proxy talks to LiteFS's proxy (proxy.addr), which forwards to the app."""
    litefs = app.litefs
    if litefs is None or litefs.proxy_port is None or litefs.target_port is None:
        return  # no proxy, or a litefs.yml flyconf cannot see: the ports cannot be judged
    doc = app.fly
    for service in app.services():
        internal = service.get("internal_port")
        # Routing straight to the app (the proxy's target) bypasses LiteFS's proxy; that is a choice.
        if isinstance(internal, int) and not isinstance(internal, bool) and internal not in (
                litefs.proxy_port, litefs.target_port):
            yield PORT_MISMATCH.diagnostic(
                doc, doc.value_span(service.key("internal_port")),
                f"{service.label} sends traffic to internal_port {internal}, but LiteFS's proxy listens on "
                f"{litefs.proxy_port} (proxy.addr in {litefs.config.name if litefs.config else 'litefs.yml'})",
                hint=f"set `internal_port = {litefs.proxy_port}`",
            )


def _listening_port(app: App, group: str, env: dict[str, str]) -> tuple[int, str, set[int], bool] | None:
    """The port the group's server listens on: (port, where it says so, EXPOSEd ports, only EXPOSE says so)."""
    df, image = app.dockerfile, app.image
    command, path = app.process_commands.get(group, ("", ()))
    argv: list[str] = []
    where = ""
    if command.strip():
        argv = app.process_argv.get(group, [])
        where = f"`--port` in the `{group}` process command"
    else:
        for ins in (image.entrypoint, image.cmd):
            if ins is not None:
                argv.extend(ins.argv())
        last = image.cmd or image.entrypoint
        where = f"{df.display_path}:{last.start_line}" if last is not None else ""
    exposed = []
    for value, ins in image.expose:
        m = re.match(r"^(\d+)(?:/(tcp|udp))?$", value)
        if m:
            exposed.append((int(m.group(1)), ins))
    ports = {p for p, _ in exposed}  # a port the image says it listens on is never a mismatch
    flagged = _flag_port(argv, env)
    if flagged is not None:
        return flagged[0], f"`{flagged[1]}` in the start command, {where}", ports, False
    port_var = app.env.get("PORT")
    if port_var is not None and port_var.value.strip().isdigit():
        if port_var.origin == "fly.toml":
            line = app.fly.value_span(port_var.path).line
            return int(port_var.value), f"PORT in [env], {app.fly.display_path}:{line}", ports, False
        return int(port_var.value), f"ENV PORT, {df.display_path}:{port_var.span.line}", ports, False
    if exposed and not command.strip():  # EXPOSE speaks for the image's CMD, not a [processes] command
        first_port, first_ins = exposed[0]
        return first_port, f"EXPOSE, {df.display_path}:{first_ins.start_line}", ports, True
    return None


# -- volume ownership --------------------------------------------------------------------------------

def _not_writable(app: App) -> Iterator[Diagnostic]:
    df, image = app.dockerfile, app.image
    mounts = [m for m in app.entries("mounts") if isinstance(m.get("destination"), str)]
    if not mounts or image.user is None:
        return
    user, ins = image.user
    if user.strip() in _ROOT_USERS or app.uses_litefs:
        return
    dests = [m.get("destination") for m in mounts]
    for script in app.scripts:
        if re.search(r"\bsudo\b[^\n]*\bchown\b", script.text):
            return  # the script changes ownership with sudo
    build_chown = [r for r in df.instructions if r.cmd == "RUN" and "chown" in r.shell_text
                   and any(d in r.shell_text for d in dests)]
    note = ""
    if build_chown:
        note = (f"; the `chown` on line {build_chown[0].start_line} changes the directory in the image, which the "
                "volume hides when it is mounted")
    yield VOLUME_NOT_WRITABLE.diagnostic(
        df, df.token_span(ins, user),
        f"the image runs as `{user}`, but the volume at {', '.join(dests)} is owned by root when it is created, so "
        f"`{user}` cannot write there{note}",
        hint="start as root and change ownership at run time before dropping privileges (`flyconf generate "
             f"entrypoint --run-as {user.split(':')[0]}` writes such a wrapper)",
    )
