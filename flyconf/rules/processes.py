"""Process groups: which Machines run what, and which sections apply to which group."""

from __future__ import annotations

import re
from typing import Any, Iterator

from flyconf import goshlex
from flyconf.app import GROUP_NAME_PATTERN, App
from flyconf.diagnostics import Diagnostic, Span
from flyconf.registry import check, declare
from flyconf.sources.flytoml import FlyToml
from flyconf.sources.tomlspan import KeyPath
from flyconf.suggest import did_you_mean, listing

UNKNOWN_GROUP = declare(
    "FC301", "unknown-process-group", "error",
    "A `processes` list names a process group that is not defined.",
    """
    `processes` in services, http_service, checks, vm, files, metrics, restart
    and machine checks must name groups from `[processes]` (or `app` when there
    is no `[processes]`). flyctl reports this only for services and restart
    (superfly/flyctl internal/appconfig/validation.go `validateServicesSection`,
    `validateRestartPolicy`), and silently drops the name everywhere else
    (processgroups.go `Flatten`), so a typo leaves the group without its
    check, VM size or file.
    """,
    bad=('[processes]\nweb = "bin/web"\nworker = "bin/worker"\n\n'
         '[[vm]]\nsize = "performance-2x"\nprocesses = ["wroker"]\n'),
    good=('[processes]\nweb = "bin/web"\nworker = "bin/worker"\n\n'
          '[[vm]]\nsize = "performance-2x"\nprocesses = ["worker"]\n'),
    family="processes",
)

SERVICE_MISSING_PROCESSES = declare(
    "FC302", "service-missing-processes", "error",
    "`[processes]` defines groups and a service does not say which of them it routes to.",
    """
    Once `[processes]` exists, flyctl refuses a service (or `[http_service]`)
    without `processes`: "Service has no processes set but app has N processes
    defined" (superfly/flyctl internal/appconfig/validation.go
    `validateServicesSection`). Name the groups whose Machines serve the traffic.
    """,
    bad='[processes]\nweb = "bin/web"\n\n[http_service]\ninternal_port = 8080\n',
    good='[processes]\nweb = "bin/web"\n\n[http_service]\ninternal_port = 8080\nprocesses = ["web"]\n',
    family="processes",
)

GROUP_NAME = declare(
    "FC303", "process-group-name-invalid", "warning",
    "A process group name is empty, reserved (`fly_app_*`), or has characters flyctl cannot use.",
    """
    Group names appear in Machine metadata, in `fly scale count web=2` and in
    `--process-groups web,worker`, so `=`, `,`, spaces and other punctuation
    make them hard or impossible to name there. Names starting with `fly_app_`
    are the ones Fly gives its release, console and test Machines
    (superfly/fly-go `MachineProcessGroupFlyAppReleaseCommand` and its
    siblings). flyctl does not check group names, and what breaks is our
    reading of those commands, so this is a warning.
    """,
    bad='[processes]\n"web server" = "bin/web"\n',
    good='[processes]\nweb = "bin/web"\n',
    family="processes",
)

COMMAND_UNPARSEABLE = declare(
    "FC304", "command-unparseable", "error",
    "A command cannot be split into shell words (an unclosed quote, a trailing backslash).",
    """
    flyctl splits `release_command`, `console_command`, `seed_command` and the
    `[processes]` commands into arguments with google/shlex, without running a
    shell (superfly/flyctl internal/appconfig/validation.go
    `validateDeploySection`, `validateProcessesSection`,
    `validateConsoleCommand`; processgroups.go `InitCmd`). An unclosed quote or
    a trailing backslash fails `fly deploy` (or, for seed_command, the deploy
    that `fly launch` starts); the finding points at the quote or backslash.
    A ` #` that starts a word begins a comment there, so
    `node server.js # it's the main one` is fine.
    """,
    bad="[deploy]\nrelease_command = \"bin/rails runner 'Migrate.run\"\n",
    good="[deploy]\nrelease_command = \"bin/rails runner 'Migrate.run'\"\n",
    family="processes",
)

DEFAULT_GROUP_ONLY = declare(
    "FC305", "default-group-only", "info",
    "In a multi-group app, an entry without `processes` applies only to the default group.",
    """
    With several process groups, a service, mount, check, file, metrics or
    restart entry without `processes` applies only to the default group (`app`
    if defined, else the first name in sort order), not to all groups. A
    `[[vm]]` without `processes` is the exception: it applies to every group
    that no other `[[vm]]` names (superfly/flyctl internal/appconfig/
    processgroups.go `Flatten`, `ComputeForGroup`). Say `processes = [...]` to
    make it explicit.
    """,
    bad='[processes]\nweb = "bin/web"\nworker = "bin/worker"\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n',
    good=('[processes]\nweb = "bin/web"\nworker = "bin/worker"\n\n[[mounts]]\nsource = "data"\n'
          'destination = "/data"\nprocesses = ["web"]\n'),
    family="processes",
)

_REFERENCING = ("services", "http_service", "checks", "vm", "files", "metrics", "restart", "machine_checks")


@check("app")
def check_process_groups(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    yield from _group_names(app)
    defined = app.groups
    known = app.group_set
    shown = listing(defined)  # built once: the messages below are per entry, and there may be thousands
    for section in _REFERENCING:
        entries = app.services() if section == "services" else app.entries(section)
        if section == "http_service":
            continue  # part of services()
        for entry in entries:
            value = entry.get("processes")
            if not isinstance(value, list):
                continue
            for i, name in enumerate(value):
                if isinstance(name, str) and name not in known:
                    where = "`[processes]` defines " + shown if app.has_process_groups \
                        else "there is no `[processes]`, so the only group is `app`"
                    yield UNKNOWN_GROUP.diagnostic(
                        doc, entry.key("processes", i),
                        f"{entry.label} names process group `{name}`, which is not defined; {where}",
                        hint=did_you_mean(name, defined, cutoff=0.5),
                    )
    if app.has_process_groups:
        for service in app.services():
            if not service.table and service.section == "services":
                continue  # flyctl drops an empty [[services]]
            if service.processes is None:
                yield SERVICE_MISSING_PROCESSES.diagnostic(
                    doc, doc.key_span(service.path),
                    f"{service.label} has no `processes`, but `[processes]` defines "
                    + shown + "; flyctl refuses to deploy this",
                    hint=f'add `processes = ["{app.default_group}"]` (the groups whose Machines serve it)',
                )
    if len(defined) > 1:
        others = listing(g for g in defined if g != app.default_group)
        for section in ("mounts", "checks", "files", "metrics", "restart"):
            for entry in app.entries(section):
                if entry.processes is None and "processes" not in entry.table:
                    yield DEFAULT_GROUP_ONLY.diagnostic(
                        doc, doc.key_span(entry.path),
                        f"{entry.label} has no `processes`, so it applies only to the default group "
                        f"`{app.default_group}`, not to "
                        + others,
                        hint=f'say so explicitly: `processes = ["{app.default_group}"]`',
                    )
    yield from _commands(app)


def _group_names(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    for name, (_command, path) in app.process_commands.items():
        where = doc.key_span(path) if path[-1] == name else doc.value_span(path[:-1] + ("name",))
        problem = None
        if not name.strip():
            problem = "is empty"
        elif name.startswith("fly_app_"):
            problem = "starts with `fly_app_`, which Fly reserves for its release, console and test Machines"
        elif not GROUP_NAME_PATTERN.fullmatch(name):
            bad = sorted({c for c in name if not re.match(r"[A-Za-z0-9_-]", c)})
            shown = ", ".join("a space" if c == " " else f"`{c}`" for c in bad) or "a leading `-` or `_`"
            problem = f"has {shown}; use letters, digits, `-` and `_`"
        if problem:
            yield GROUP_NAME.diagnostic(doc, where, f"process group name `{name}` {problem}")


# -- commands -------------------------------------------------------------------------------

def _commands(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    raw_deploy = app.data.get("deploy")
    deploy: dict[str, Any] = raw_deploy if isinstance(raw_deploy, dict) else {}
    candidates: list[tuple[str, Any, KeyPath]] = [
        ("`release_command`", deploy.get("release_command"), ("deploy", "release_command")),
        ("`seed_command`", deploy.get("seed_command"), ("deploy", "seed_command")),
        ("`console_command`", app.data.get("console_command"), ("console_command",)),
    ]
    for name, (command, path) in app.process_commands.items():
        candidates.append((f"the command of process group `{name}`", command, path))
    for label, command, path in candidates:
        if not isinstance(command, str) or not command.strip():
            continue
        problem = shell_split_error(command)
        if problem is None:
            continue
        offset, what = problem
        yield COMMAND_UNPARSEABLE.diagnostic(
            doc, string_offset_span(doc, path, offset),
            f"{label} cannot be split into arguments: {what}",
            hint="close the quote, or escape it; flyctl splits the command like a shell but does not run one",
        )


def shell_split_error(command: str) -> tuple[int, str] | None:
    """Where and why flyctl cannot split ``command`` (google/shlex: the quote or backslash), else None."""
    try:
        goshlex.split(command)
        return None
    except goshlex.SplitError as err:
        if err.message.startswith("EOF found after escape"):
            return err.offset, "it ends with a backslash"
        kind = "single" if command[err.offset] == "'" else "double"
        return err.offset, f"the {kind} quote at column {err.offset + 1} of the command is never closed"


def string_offset_span(doc: FlyToml, path: KeyPath, offset: int) -> Span:
    """The position of character ``offset`` of a TOML string value, when the source spells it literally.

    Escapes or multi-line strings shift characters; then the value itself is the best place.
    """
    span = doc.value_span(path)
    value = doc.get(path)
    line = doc.line_text(span.line)
    if span.end_line == span.line and span.end_column is not None and isinstance(value, str):
        inner = line[span.column : span.end_column - 2]  # between the quotes
        if inner == value:
            col = span.column + 1 + offset
            return Span(span.line, col, span.line, col + 1)
    return span
