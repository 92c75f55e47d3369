"""Dockerfile rules: what the image runs, where its data goes, which port it listens on, who owns the volume."""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterator

from flyconf.app import App, is_under
from flyconf.diagnostics import Diagnostic, Severity
from flyconf.migrations import migration_in
from flyconf.registry import check, declare
from flyconf.sources.dockerfile import KNOWN_INSTRUCTIONS as _KNOWN
from flyconf.sources.dockerfile import expand_vars
from flyconf.suggest import did_you_mean
from flyconf.units import ascii_int

DOCKERFILE_SYNTAX = declare(
    "FC701", "dockerfile-syntax", "error",
    "The Dockerfile does not parse, or has an instruction Docker does not know.",
    """
    `fly deploy` builds the image with BuildKit; a Dockerfile it cannot parse
    fails the build before anything else is checked. flyconf reads Dockerfiles
    by BuildKit's parsing rules (moby/buildkit frontend/dockerfile/parser,
    restated in Python and tested against BuildKit's own parser), so what it
    rejects, the build rejects. The finding points at the faulty instruction.
    """,
    bad=(
        "FROM node:20\n"
        "RUN <<EOF\n"
        "npm ci\n"
    ),
    good=(
        "FROM node:20\n"
        "RUN <<EOF\n"
        "npm ci\n"
        "EOF\n"
    ),
    family="dockerfile",
    example_file="Dockerfile",
)

DOCKERFILE_MISSING = declare(
    "FC702", "dockerfile-missing", "error",
    "`[build] dockerfile` names a file that does not exist, or a malformed URL.",
    """
    flyctl joins `[build] dockerfile` to the directory of fly.toml with Go's
    filepath.Join (superfly/flyctl internal/command/deploy/deploy_build.go,
    `resolveDockerfilePath`), so a leading `/` does not make the path
    absolute: `"/docker/Dockerfile"` is docker/Dockerfile beside fly.toml. When
    that file is not there, the build fails with "dockerfile '...' not found"
    (internal/build/imgsrc/dockerfile_builder.go). An http(s) URL is a remote
    Dockerfile that flyctl downloads (flyconf does not, and skips the image
    checks); a value that starts with `http:` or `https:` but is not a valid
    URL stops the deploy with "invalid Dockerfile URL". `[build] image` or a
    buildpack `builder` takes precedence over the Dockerfile, so the key is not
    checked then.
    """,
    bad=(
        "==> fly.toml <==\n"
        "[build]\n"
        "dockerfile = \"Dockerfile.production\"\n"
        "==> docker/Dockerfile.production <==\n"
        "FROM node:20\n"
    ),
    good=(
        "==> fly.toml <==\n"
        "[build]\n"
        "dockerfile = \"docker/Dockerfile.production\"\n"
        "==> docker/Dockerfile.production <==\n"
        "FROM node:20\n"
    ),
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
    Sources: Docker's Dockerfile reference (CMD and ENTRYPOINT, shell and exec
    form); Fly's docs, reference/configuration (`kill_signal`,
    `kill_timeout`).
    """,
    bad="FROM node:20\nCMD npm run start\n",
    good="FROM node:20\nCMD [\"npm\", \"run\", \"start\"]\n",
    family="dockerfile",
    example_file="Dockerfile",
)

ENTRYPOINT_IGNORES_CMD = declare(
    "FC704", "entrypoint-ignores-cmd", "error",
    "A shell-form ENTRYPOINT together with a CMD (or [processes] commands): Docker ignores the CMD.",
    """
    A shell-form ENTRYPOINT runs `/bin/sh -c "<entrypoint>"` and drops every
    argument, so CMD, and the `[processes]` commands in fly.toml that replace
    it, are silently ignored: every process group runs the same thing.
    Sources: Docker's Dockerfile reference (ENTRYPOINT: "the shell form
    prevents any CMD command line arguments from being used"); flyctl passes
    a `[processes]` command as the Machine's cmd (superfly/flyctl
    internal/appconfig/processgroups.go `InitCmd`).
    """,
    bad=(
        "FROM node:20\n"
        "ENTRYPOINT /app/docker-entrypoint.sh\n"
        "CMD [\"node\", \"server.js\"]\n"
    ),
    good=(
        "FROM node:20\n"
        "ENTRYPOINT [\"/app/docker-entrypoint.sh\"]\n"
        "CMD [\"node\", \"server.js\"]\n"
    ),
    family="dockerfile",
    example_file="Dockerfile",
)

BUILD_TIME_MIGRATION = declare(
    "FC705", "build-time-migration", "error",
    "A RUN step migrates the SQLite database: it is created inside the image, and the volume hides it.",
    """
    A migration in a RUN step runs at build time, against a database file
    inside the image. At run time the volume is mounted over that directory
    (or the file lives on the root file system, which is rebuilt on every
    deploy), so the real database on each Machine is never migrated. Migrate
    at start-up instead, before the server starts. Source: Fly's docs (Rails
    guide: the build step has no volumes or databases; Fly Volumes: a volume
    is mounted when the Machine starts).
    """,
    bad=(
        "==> fly.toml <==\n"
        "[env]\n"
        "DATABASE_URL = \"file:/data/app.db\"\n"
        "\n"
        "[[mounts]]\n"
        "source = \"data\"\n"
        "destination = \"/data\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN npx prisma migrate deploy\n"
        "CMD [\"npm\", \"start\"]\n"
    ),
    good=(
        "==> fly.toml <==\n"
        "[env]\n"
        "DATABASE_URL = \"file:/data/app.db\"\n"
        "\n"
        "[[mounts]]\n"
        "source = \"data\"\n"
        "destination = \"/data\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "# bin/fly-entrypoint migrates, then execs CMD (`flyconf generate entrypoint`)\n"
        "ENTRYPOINT [\"/app/bin/fly-entrypoint\"]\n"
        "CMD [\"npm\", \"start\"]\n"
    ),
    family="dockerfile",
)

PORT_MISMATCH = declare(
    "FC706", "port-mismatch", "warning",
    "The port the server listens on disagrees with `internal_port`.",
    """
    Fly's proxy sends traffic to `internal_port`. If the server listens
    elsewhere (an explicit `--port`/`--bind`/`-p` on the start command, `PORT`
    in the environment, or the image's EXPOSE), health checks fail and every
    request gets a 502 (Fly's docs, reference/configuration `internal_port`).
    fly.toml `[env] PORT` overrides the Dockerfile's `ENV PORT`. It is a
    warning (and only information when EXPOSE is the only evidence): flyconf
    reads the start command, not the server's code.
    """,
    bad=(
        "==> fly.toml <==\n"
        "[http_service]\n"
        "internal_port = 8080\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "ENV PORT=3000\n"
        "CMD [\"node\", \"server.js\"]\n"
    ),
    good=(
        "==> fly.toml <==\n"
        "[http_service]\n"
        "internal_port = 3000\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "ENV PORT=3000\n"
        "CMD [\"node\", \"server.js\"]\n"
    ),
    family="dockerfile",
    severities=("info",),
)

VOLUME_NOT_WRITABLE = declare(
    "FC707", "volume-not-writable", "warning",
    "The image starts as root and its start command drops to another user without giving that user the volume.",
    """
    When Fly mounts a new, empty volume it makes it owned by the user the
    image starts as: the Machine's boot log reads `Mounting /dev/vdc at /data
    w/ uid: 1000, gid: 1000 and chmod 0755` for an image with `USER 1000`. So
    a non-root `USER` can write its volume. An image that starts as root (no
    USER, or `USER root`) gets a volume owned by root; if its start script then
    drops privileges (`gosu`, `su-exec`, `setpriv --reuid`, `su -c`,
    `runuser`, `chpst -u`, `s6-setuidgid`) the server runs as a user who
    cannot write there, unless the script changes the owner (`chown`) of the
    mount first (fly-apps/dockerfile-rails#35, where `--swap` made the image
    start as root). A `chown` in a RUN step does not help: it changes the
    directory in the image, which the volume hides.

    flyconf cannot see the volume itself. A volume keeps its owner when the
    image later changes USER: one created while the image ran as root stays
    root's after a USER is added, and the reverse. It is a warning because the
    user the script drops to may not be the one that writes the volume.
    """,
    bad=(
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"data\"\n"
        "destination = \"/data\"\n"
        "==> Dockerfile <==\n"
        "FROM ruby:3.3\n"
        "WORKDIR /rails\n"
        "COPY bin/docker-entrypoint /rails/bin/\n"
        "# no USER: the image starts as root\n"
        "ENTRYPOINT [\"/rails/bin/docker-entrypoint\"]\n"
        "CMD [\"./bin/rails\", \"server\"]\n"
        "==> bin/docker-entrypoint <==\n"
        "#!/bin/sh\n"
        "exec gosu rails \"$@\"\n"
    ),
    good=((
        "==> fly.toml <==\n"
        "[[mounts]]\n"
        "source = \"data\"\n"
        "destination = \"/data\"\n"
        "==> Dockerfile <==\n"
        "FROM ruby:3.3\n"
        "WORKDIR /rails\n"
        "COPY bin/docker-entrypoint /rails/bin/\n"
        "# no USER: the image starts as root\n"
        "ENTRYPOINT [\"/rails/bin/docker-entrypoint\"]\n"
        "CMD [\"./bin/rails\", \"server\"]\n"
        "==> bin/docker-entrypoint <==\n"
        "#!/bin/sh\n"
        "chown -R rails:rails /data\n"
        "exec gosu rails \"$@\"\n"
    )),
    family="dockerfile",
)

DOCKERFILE_VOLUME = declare(
    "FC708", "dockerfile-volume", "info",
    "A VOLUME instruction: Fly does not create volumes from it, only from `[mounts]`.",
    """
    Fly ignores VOLUME: data written there lives on the Machine's root file
    system and is lost on every deploy and restart, unless a `[mounts]`
    section puts a Fly volume at the same path (Fly's docs: persistent
    storage comes from volumes declared in `[mounts]`; flyctl's Machine config
    has no field for VOLUME, superfly/flyctl internal/appconfig/machines.go
    `updateMachineConfig` sets mounts from `[mounts]` only). The finding is a
    warning when the path differs from every mount destination.
    """,
    bad=(
        "==> fly.toml <==\n"
        "app = \"my-app\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "VOLUME /data\n"
        "CMD [\"node\", \"server.js\"]\n"
    ),
    good=(
        "==> fly.toml <==\n"
        "app = \"my-app\"\n"
        "\n"
        "[[mounts]]\n"
        "source = \"data\"\n"
        "destination = \"/data\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "CMD [\"node\", \"server.js\"]\n"
    ),
    family="dockerfile",
    severities=("warning",),
)

_COMPOUND = re.compile(r"&&|\|\||;|\n|(?<![|&])\|(?![|&])")


@check("app")
def check_dockerfile_url(app: App) -> Iterator[Diagnostic]:
    """`[build] dockerfile` that starts like a URL but is not one (flyctl: "invalid Dockerfile URL")."""
    from pathlib import Path

    from flyconf import dockerfileurl
    from flyconf.assemble import build_source

    named = app.build.get("dockerfile")
    if not (isinstance(named, str) and dockerfileurl.looks_like_url(named)):
        return
    if build_source(app.data, app.directory or Path(".")).invalid_url:  # (an image or builder would win)
        doc = app.fly
        yield DOCKERFILE_MISSING.diagnostic(
            doc, doc.value_span(("build", "dockerfile")),
            "`[build] dockerfile` starts like a URL but is not a valid http(s) URL: flyctl stops with "
            "\"invalid Dockerfile URL\"",
            hint="write a full URL such as https://example.com/path/Dockerfile, or a path relative to fly.toml",
        )


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
            yield from _scripts().check_command(
                df, df.token_span(ins, argv[-1][:20]) if argv else df.instruction_span(ins), script,
                f"Machines running the image's {ins.cmd}", script=True)
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
            yield from _scripts().check_command(doc, span, command, f"the `{group}` Machines")
    for script in app.scripts:
        yield from _scripts().check_start_script(script, _invocations(app, script))


def _invocations(app: App, script: Any) -> list[Any]:
    """How the Machines that start the server run ``script``: the words after it in their start command."""
    Invocation = _scripts().Invocation
    served = {g for service in app.services() for g in app.groups_of(service)}
    servers = [g for g in app.groups if g in served] or [app.default_group]
    names = app.script_paths.get(str(script.fs_path), ())
    out = []
    for start in app.context.start_commands():
        if start.group not in servers:
            continue
        argv = list(start.argv)
        at = next((i for i, word in enumerate(argv) if word in names), None)
        if at is None:
            continue
        command = " ".join(argv[len(start.entrypoint):]) or " ".join(argv)
        if app.process_argv.get(start.group) is not None:
            who = f"the `{start.group}` Machines ([processes])"
        else:
            who = "the Machines" if len(app.groups) == 1 else f"the `{start.group}` Machines"
        out.append(Invocation(tuple(argv[at + 1:]), command, who))
    return out


def _scripts() -> Any:
    from flyconf.rules import scripts

    return scripts


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
        migration = migration_in(text, app)
        if migration is None:
            continue
        if not (uses_sqlite or _INLINE_SQLITE.search(text)):
            continue  # a server database (or unknown): migrating at build time is someone else's problem
        if ":memory:" in text:
            continue
        where = df.token_span(ins, migration.text)
        via = f", {migration.via}" if migration.via else ""
        yield BUILD_TIME_MIGRATION.diagnostic(
            df, where,
            f"RUN migrates the SQLite database at build time ({migration.tool}: `{migration.text}`{via}): the file is "
            "created inside the image, the volume mounted at run time hides it, and the real database is never "
            "migrated",
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

_PORT_FLAG = re.compile(r"^(?:--port|-p|--http-port|--listen-port)(?:=([0-9]+))?$")
_BIND_FLAG = re.compile(r"^(?:--bind|-b|--listen|--host-port)(?:=(.+))?$")
_HOST_PORT = re.compile(r"^(?:[\w.\-\[\]:]*):([0-9]{1,5})$")


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
    port = ascii_int(value)
    return port if port is not None and 0 < port < 65536 else None


def _port_mismatch(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    env = {k: v.value for k, v in app.env.items()}
    if app.uses_litefs:
        yield from _litefs_proxy_port(app)
        return
    for service in app.services():
        internal = service.get("internal_port")
        if isinstance(internal, str):
            internal = ascii_int(internal)
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
        m = re.match(r"^([0-9]+)(?:/(tcp|udp))?$", value)
        port = ascii_int(m.group(1)) if m else None
        if port is not None:
            exposed.append((port, ins))
    ports = {p for p, _ in exposed}  # a port the image says it listens on is never a mismatch
    flagged = _flag_port(argv, env)
    if flagged is not None:
        return flagged[0], f"`{flagged[1]}` in the start command, {where}", ports, False
    port_var = app.env.get("PORT")
    env_port = ascii_int(port_var.value.strip()) if port_var is not None else None
    if port_var is not None and env_port is not None:
        if port_var.origin == "fly.toml":
            line = app.fly.value_span(port_var.path).line
            return env_port, f"PORT in [env], {app.fly.display_path}:{line}", ports, False
        return env_port, f"ENV PORT, {df.display_path}:{port_var.span.line}", ports, False
    if exposed and not command.strip():  # EXPOSE speaks for the image's CMD, not a [processes] command
        first_port, first_ins = exposed[0]
        return first_port, f"EXPOSE, {df.display_path}:{first_ins.start_line}", ports, True
    return None


# -- volume ownership --------------------------------------------------------------------------------

# Programs that run the rest of their arguments as another user.
_DROPPERS = {"gosu", "su-exec", "setpriv", "su", "runuser", "chpst", "s6-setuidgid"}
# Words that run the command after them (the drop may be behind them).
_PREFIXES = {"exec", "command", "nohup", "tini", "dumb-init", "catatonit", "sudo", "doas"}


def _dropped_to(argv: list[str]) -> tuple[str, int] | None:
    """The user a privilege-dropping command switches to, and the index of the word naming the program.

    None when the command drops nothing, or to a user flyconf cannot read (a variable)."""
    i = 0
    while i < len(argv) and (argv[i] in _PREFIXES or argv[i].startswith("-") and i and argv[i - 1] in _PREFIXES):
        i += 1
    if i >= len(argv):
        return None
    prog = posixpath.basename(argv[i])
    args = argv[i + 1 :]
    user: str | None = None
    if prog in ("gosu", "su-exec", "s6-setuidgid"):
        user = args[0] if args else None
    elif prog == "setpriv":
        user = _option_value(args, ("--reuid", "--ruid", "--euid"))
    elif prog == "chpst":
        user = _option_value(args, ("-u", "-U"))
        user = user.lstrip(":") if user else None
    elif prog in ("su", "runuser"):
        user = _option_value(args, ("-u", "--user")) if prog == "runuser" else None
        if user is None:
            user, rest = _su_user(args)
            command = any(a in ("-c", "--command") or a.startswith("--command=") or
                          (a.startswith("-") and not a.startswith("--") and a.endswith("c")) for a in args)
            if not command and not rest:
                return None  # `su rails`: an interactive shell, not the server (`su rails "$0" "$@"` runs one)
    else:
        return None
    if not user or "$" in user or "`" in user:
        return None
    if user.split(":")[0] in ("root", "0"):
        return None
    return user, i


def _option_value(args: list[str], names: tuple[str, ...]) -> str | None:
    for j, a in enumerate(args):
        for name in names:
            if a == name and j + 1 < len(args):
                return args[j + 1]
            if a.startswith(name + "=") and name.startswith("--"):
                return a.split("=", 1)[1]
            if not name.startswith("--") and a.startswith(name) and len(a) > len(name):
                return a[len(name):]
    return None


def _su_user(args: list[str]) -> tuple[str, list[str]]:
    """The user of `su [options] [-] [user [args]]` (root when none is named), and the arguments after it."""
    takes_value = {"-c", "--command", "-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w",
                   "--whitelist-environment"}
    j = 0
    while j < len(args):
        a = args[j]
        if a == "--":
            j += 1
            break
        if a == "-":
            j += 1
            continue
        if a in takes_value:
            j += 2
            continue
        if a.startswith("-"):
            j += 1
            continue
        return a, args[j + 1:]
    return (args[j], args[j + 1:]) if j < len(args) else ("root", [])


def _runs_as_root(app: App) -> bool | None:
    """True when the image starts as root, False when as another user, None when flyconf cannot tell."""
    if app.image.user is None:
        return True
    user = app.image.user[0].strip()
    if "$" in user or not user:
        return None
    return user.split(":")[0] in ("root", "0")


def _related(path: str, dests: list[str]) -> bool:
    """A path that is a mount destination, a directory above one, or inside one."""
    if not path.startswith("/"):
        return True  # relative to a working directory flyconf may not know: assume it is the volume
    return any(is_under(path, d) or is_under(d, path) for d in dests)


def _owner_fixed(commands: list[Any], dests: list[str]) -> bool:
    """Whether one of ``commands`` changes the owner or mode of the volume (or of a path flyconf cannot read)."""
    for cmd in commands:
        words = [w.value if w.literal else None for w in cmd.argv]
        names = [w for w in words if w is not None]
        while words and words[0] in ("sudo", "doas", "exec", "command"):
            words = words[1:]
        if not words:
            continue
        prog = posixpath.basename(words[0]) if words[0] is not None else None
        if prog in ("find", "xargs") and any(n in ("chown", "chmod", "chgrp") for n in names[1:]):
            return True
        if prog in ("chown", "chmod", "chgrp"):
            operands = [w for w in words[1:] if w is None or not w.startswith("-")][1:]  # after OWNER or MODE
            if any(w is None or _related(w, dests) for w in operands):
                return True
        if prog == "install" and any(n in ("-o", "--owner") or (n or "").startswith("--owner=") for n in names):
            return True
    return False


def privilege_drop(app: App) -> str | None:
    """The user that the start command of an image starting as root switches to (gosu, su-exec, setpriv...).

    The server then runs as that user, and a volume Fly made for root must be given to it first: `flyconf fix`
    and `flyconf generate` make the wrapper do so. None for an image with a non-root USER (or one flyconf cannot
    read), and when nothing drops privileges, or drops to a user named by a variable.
    """
    if app.image is None or _runs_as_root(app) is not True:
        return None
    found: tuple[str, int] | None = None
    for script in app.scripts:
        for cmd in script.commands():
            found = found or _dropped_to([w.value if w.literal else "$" for w in cmd.argv])
    for ins in (app.image.entrypoint, app.image.cmd):
        if ins is not None and ins.json:
            found = found or _dropped_to(list(ins.value))
    for argv in app.process_argv.values():
        found = found or _dropped_to(argv)
    return found[0].split(":")[0] if found is not None else None


def _not_writable(app: App) -> Iterator[Diagnostic]:
    """A root image whose start command drops to another user who is not given the volume first."""
    if app.uses_litefs or _runs_as_root(app) is not True:
        return  # a non-root USER gets a volume of its own (Fly chowns a new volume to the image's user)
    mounted = app.mounted_groups()
    if not mounted:
        return
    dests = [m.get("destination") for g in mounted for m in app.mounts_of(g)
             if isinstance(m.get("destination"), str) and m.get("destination", "").startswith("/")]
    if not dests:
        return
    every_script_command = [c for script in app.scripts for c in script.commands()]
    df = app.dockerfile
    run_chown = next((r for r in df.instructions if r.cmd == "RUN" and re.search(r"\bch(own|mod)\b", r.shell_text)
                      and any(d in r.shell_text for d in dests)), None)
    note = (f"; the `chown` on line {run_chown.start_line} of {df.display_path} changes the directory in the image, "
            "which the volume hides" if run_chown is not None else "")
    dest_text = ", ".join(sorted(set(dests)))

    def message(user: str, how: str) -> str:
        return (f"the image starts as root, so Fly gives a new volume ({dest_text}) to root, and {how} drops to "
                f"`{user}` without changing the volume's owner first: `{user}` cannot write it{note}")

    def hint(user: str) -> str:
        return (f"change the owner before dropping (`chown -R {user} {dests[0]}`), or set `USER {user}` in the "
                "Dockerfile and drop nothing (Fly then gives a new volume to that user)")

    for script in app.scripts:
        commands = script.commands()
        for k, cmd in enumerate(commands):
            argv = [w.value if w.literal else "$" for w in cmd.argv]
            found = _dropped_to(argv)
            if found is None:
                continue
            user, index = found
            earlier = commands[:k] + [c for other in app.scripts if other is not script for c in other.commands()]
            if _owner_fixed(earlier, dests):
                continue
            word = cmd.argv[index]
            yield VOLUME_NOT_WRITABLE.diagnostic(script, word.span, message(user, f"`{word.value}` here"),
                                                 hint=hint(user))
            return
    if _owner_fixed(every_script_command, dests):
        return
    image = app.image
    for ins in (image.entrypoint, image.cmd):
        if ins is None or not ins.json:
            continue
        found = _dropped_to(list(ins.value))
        if found is not None:
            user, index = found
            yield VOLUME_NOT_WRITABLE.diagnostic(df, df.token_span(ins, ins.value[index]),
                                                 message(user, f"{ins.cmd} `{ins.value[index]}`"), hint=hint(user))
            return
    doc = app.fly
    for group, argv in app.process_argv.items():
        if group not in mounted:
            continue
        found = _dropped_to(argv)
        if found is not None:
            user, index = found
            command, path = app.process_commands[group]
            yield VOLUME_NOT_WRITABLE.diagnostic(
                doc, doc.value_span(path), message(user, f"process group `{group}`'s command `{argv[index]}`"),
                hint=hint(user))
            return
