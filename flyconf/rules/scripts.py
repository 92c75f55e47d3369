"""Start scripts: the wrapper the image runs must hand PID 1 to the server, run under the shell it names,
and actually run its migration.

The Dockerfile wiring calls :func:`check_start_script` for every shell script the image runs as its
ENTRYPOINT or CMD, and :func:`check_command` for one-line commands (fly.toml ``[processes]``,
``sh -c "..."``). Nothing here registers a check of its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, Union

from flyconf.diagnostics import Diagnostic, Span
from flyconf.migrations import find_migration
from flyconf.registry import declare
from flyconf.sources.base import Document
from flyconf.sources.script import (
    AndOr,
    Arith,
    Case,
    FuncDef,
    Group,
    If,
    Loop,
    Node,
    Pipeline,
    Script,
    ShellCommand,
    Simple,
    Word,
    parse_script,
    simple_commands,
)
from flyconf.units import ascii_int

NO_EXEC = declare(
    "FC801", "entrypoint-no-exec", "warning",
    "The start script runs the server as a child instead of replacing itself with it (`exec`).",
    """
    Fly stops a Machine by sending `kill_signal` (SIGINT by default) to its
    main process, the image's ENTRYPOINT/CMD, and kills it after `kill_timeout`
    (5 s by default). When a start script runs the server as an ordinary
    command (`npm start`, `node server.js`, `"$@"`), the shell stays the main
    process: the signal goes to the shell, which as PID 1 ignores it or dies
    without passing it on, so the server never shuts down cleanly (open
    requests are cut, SQLite transactions are interrupted), and the server's
    exit status is lost. End the script with `exec "$@"` or `exec <server>`:
    the server then replaces the shell and receives the signal itself. A
    script that starts processes in the background must forward the signals
    (`trap 'kill -TERM $pid' INT TERM`) before it `wait`s. Sources: Fly's docs
    (reference/configuration, `kill_signal` and `kill_timeout`); POSIX `exec`.
    """,
    bad=(
        "==> docker-entrypoint.sh <==\n"
        "#!/bin/sh\n"
        "npx prisma migrate deploy\n"
        "npm run start\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "ENTRYPOINT [\"/app/docker-entrypoint.sh\"]\n"
    ),
    good=(
        "==> docker-entrypoint.sh <==\n"
        "#!/bin/sh\n"
        "npx prisma migrate deploy\n"
        "exec npm run start\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "ENTRYPOINT [\"/app/docker-entrypoint.sh\"]\n"
    ),
    family="scripts",
)

NOT_POSIX = declare(
    "FC802", "entrypoint-not-posix", "warning",
    "A `#!/bin/sh` start script uses bash-only syntax.",
    """
    `/bin/sh` is not bash in most images: Debian and Ubuntu images use dash,
    Alpine images BusyBox ash. Bash-only syntax there either aborts the script
    (dash: `Bad substitution`, `Syntax error`, `[[: not found`) or silently
    does something else: `[ "$a" == "$b" ]` is an error, hence false;
    `${@: -2:1}` under ash picks single characters; `&>` runs the command in the
    background. In a start script that usually means a migration that never
    runs or a server that never starts, and only in production, because the
    script was tried with bash. Use POSIX syntax, or name bash in the shebang
    (`#!/bin/bash`) when the image has it. Sources: Debian's dash and
    BusyBox's ash manuals; the POSIX shell command language.
    """,
    bad=(
        "==> docker-entrypoint.sh <==\n"
        "#!/bin/sh\n"
        "if [[ \"$1\" == \"npm\" ]]; then\n"
        "  npx prisma migrate deploy\n"
        "fi\n"
        "exec \"$@\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "ENTRYPOINT [\"/app/docker-entrypoint.sh\"]\n"
        "CMD [\"npm\", \"run\", \"start\"]\n"
    ),
    good=(
        "==> docker-entrypoint.sh <==\n"
        "#!/bin/sh\n"
        "if [ \"$1\" = \"npm\" ]; then\n"
        "  npx prisma migrate deploy\n"
        "fi\n"
        "exec \"$@\"\n"
        "==> Dockerfile <==\n"
        "FROM node:20\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "ENTRYPOINT [\"/app/docker-entrypoint.sh\"]\n"
        "CMD [\"npm\", \"run\", \"start\"]\n"
    ),
    family="scripts",
)

MIGRATION_SKIPPED = declare(
    "FC803", "migration-skipped", "warning",
    "The start script's migration does not run for the command the Machines start, or its gate is constant.",
    """
    Start scripts often decide whether to migrate by looking at their
    arguments: "migrate only when the command is `./bin/rails server`", written
    as a test of fixed positions (`$1`, `${@: -2:1}`, `$#`, `"$*" = "npm run
    start"`). The arguments are the image's CMD, or the fly.toml `[processes]`
    command that replaces it (flyctl keeps the ENTRYPOINT). flyconf evaluates
    the gate for every command a Machine that serves the app starts with, and
    reports it when the gate is false for one of them: a `[processes]` command
    written `bin/rails server` where the script expects `./bin/rails server`,
    a flag after `server`, a wrapper in front (rails/rails#58675 and #58740
    changed the stock Rails gate back and forth for these reasons). A gate that
    holds for every command is not reported. The other mistake is an unquoted
    variable in `[ -n $VAR ]`: when VAR is empty or unset the test sees only
    `-n` and is always true (shellcheck SC2070), so the migration always runs
    whatever the variable says (`[ ! -n $VAR ]` never does). Gate on what Fly
    sets instead (`RELEASE_COMMAND` is set on the release Machine,
    `FLY_PROCESS_GROUP` names the process group), migrate unconditionally, or
    quote the variable.
    """,
    bad=((
        "==> fly.toml <==\n"
        "[processes]\n"
        "app = \"bin/rails server -b 0.0.0.0\"\n"
        "==> bin/docker-entrypoint <==\n"
        "#!/bin/sh\n"
        "if [ \"$1\" = \"./bin/rails\" ] && [ \"$2\" = \"server\" ]; then\n"
        "  ./bin/rails db:prepare\n"
        "fi\n"
        "exec \"$@\"\n"
        "==> Dockerfile <==\n"
        "FROM ruby:3.3\n"
        "WORKDIR /rails\n"
        "COPY . .\n"
        "ENTRYPOINT [\"/rails/bin/docker-entrypoint\"]\n"
        "CMD [\"./bin/rails\", \"server\"]\n"
    )),
    good=(
        "==> fly.toml <==\n"
        "[processes]\n"
        "app = \"bin/rails server -b 0.0.0.0\"\n"
        "==> bin/docker-entrypoint <==\n"
        "#!/bin/sh\n"
        "if [ -z \"$RELEASE_COMMAND\" ]; then\n"
        "  ./bin/rails db:prepare\n"
        "fi\n"
        "exec \"$@\"\n"
        "==> Dockerfile <==\n"
        "FROM ruby:3.3\n"
        "WORKDIR /rails\n"
        "COPY . .\n"
        "ENTRYPOINT [\"/rails/bin/docker-entrypoint\"]\n"
        "CMD [\"./bin/rails\", \"server\"]\n"
    ),
    family="scripts",
)

__all__ = ["check_start_script", "check_command", "Invocation", "NO_EXEC", "NOT_POSIX", "MIGRATION_SKIPPED"]


# -- public entry points ----------------------------------------------------------------------

@dataclass(frozen=True)
class Invocation:
    """How a Machine that serves the app starts a script: its positional parameters, and for messages the
    command as the Machine runs it and who runs it ("the `web` Machines")."""

    args: tuple[str, ...]
    command: str
    who: str


def check_start_script(script: Script, invocations: Sequence[Invocation] = ()) -> list[Diagnostic]:
    """All start-script rules for a script the image runs as its ENTRYPOINT or CMD.

    ``invocations``: how the Machines that start the server run the script. A migration gated on the
    script's arguments is reported only when the gate is false for one of them.
    """
    if not script.is_shell:
        return []
    found: list[Diagnostic] = []
    found.extend(_no_exec(script))
    found.extend(_not_posix(script))
    found.extend(_migration_skipped(script, script, _script_place(script), tuple(invocations)))
    return sorted(found, key=Diagnostic.sort_key)


def check_command(doc: Document, span: Span, command: str, who: str = "the Machines", *,
                  script: bool = False) -> list[Diagnostic]:
    """migration-skipped for a one-line command (a fly.toml ``[processes]`` command, an ``sh -c`` string).

    Positions inside ``command`` are mapped onto ``span`` when it covers a single line: ``line =
    span.line``, ``column = span.column + offset``. When the document's line shows where ``command`` is
    written (``span`` at the opening quote of a string, or at the instruction of a JSON-form CMD whose
    string has escapes), columns are counted from there instead. Otherwise findings are placed on
    ``span`` itself.
    """
    if not isinstance(command, str) or not command.strip():
        return []
    parsed = parse_script(command, doc.display_path)
    single = "\n" not in command and (span.end_line is None or span.end_line == span.line)
    column = _command_columns(doc.line_text(span.line), span.column, command) if single else None

    def place(start: int, end: int) -> Span:
        if column is None:
            return span
        return Span(span.line, column(start), span.line, column(end))

    # A command run without a shell (``script`` false) is judged only in its `sh -c` scripts, which get the
    # words after them as parameters; a script given directly (the string of `CMD ["sh", "-c", ...]`) runs
    # with none.
    return sorted(_migration_skipped(parsed, doc, place, (Invocation((), command, who),), top=not script),
                  key=Diagnostic.sort_key)


def _command_columns(line: str, column: int, command: str) -> Callable[[int], int]:
    """Offset in ``command`` -> column on ``line``, for a command written at (or near) ``column``."""
    at = column - 1
    if line[at:at + len(command)] == command:
        return lambda offset: column + offset
    if line[at:at + 1] in ("'", '"') and line[at + 1:at + 1 + len(command)] == command:
        return lambda offset: column + 1 + offset
    if line.count(command) == 1:
        start = line.index(command) + 1
        return lambda offset: start + offset
    escaped = json.dumps(command, ensure_ascii=False)[1:-1]
    if escaped != command and line.count(escaped) == 1:  # a JSON string: `\"` in the line is one `"` in command
        start = line.index(escaped) + 1
        return lambda offset: start + len(json.dumps(command[:offset], ensure_ascii=False)) - 2
    return lambda offset: column + offset


# -- shared ------------------------------------------------------------------------------------

Place = Callable[[int, int], Span]

# Commands that do not start a server: the script's last *significant* command is looked for before them.
_NOT_SERVERS = frozenset({
    "echo", "printf", ":", "true", "false", "exit", "return", "export", "unset", "set", "shift", "cd", "umask",
    "readonly", "local", "trap", "sync", "hash", "type", "test", "[", "[[", "sleep",
    "mkdir", "chmod", "chown", "chgrp", "rm", "cp", "mv", "ln", "touch", "sed", "cat", "ls", "find", "date",
    "logger", "tee", "grep", "awk", "cut", "tr", "id", "whoami", "hostname", "envsubst", "install", "tar",
    "rsync", "curl", "wget", "base64", "usermod", "useradd", "adduser", "addgroup", "groupadd", "chpasswd",
    "mount", "umount", "swapon", "mkswap", "fallocate", "sysctl", "ulimit", "update-ca-certificates", "ssh-keygen",
    "dirname", "basename", "realpath", "readlink", "wait", "unalias", "alias", "getent", "kill", "pkill",
    "continue", "break", "read", "getopts", "declare", "typeset", "printenv", "let", "shopt",
})
_ECHOES = frozenset({"echo", "printf", ":", "true", "false", "logger", "date", "test", "[", "[[", "export", "unset",
                     "local", "readonly", "set", "cd", "mkdir", "chmod", "chown", "chgrp", "rm", "cp", "mv", "ln",
                     "touch", "ls", "find", "sleep", "exit", "return", "trap", "tee", "cat", "grep"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})


def _script_place(script: Script) -> Place:
    def place(start: int, end: int) -> Span:
        line, col = script.position(start)
        end_line, end_col = script.position(max(start, end))
        return Span(line, col, end_line, end_col)

    return place


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cmd_text(cmd: ShellCommand, words: list[Word] | None = None) -> str:
    return " ".join(w.text for w in (cmd.words if words is None else words))


def _function_commands(script: Script) -> dict[str, list[ShellCommand]]:
    return {name: list(simple_commands(f.body)) for name, f in script.functions.items()}


# -- FC801 entrypoint-no-exec -------------------------------------------------------------------

@dataclass
class _Problem:
    kind: str  # child, background, wait, keepalive, pipeline, subshell
    span: Span
    text: str
    command: ShellCommand | None = None


_FINE = "fine"
_SKIP = "skip"
_Outcome = Union[str, list["_Problem"]]


class _Flow:
    """What the last-command analysis needs to know about the whole script."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.functions = script.functions
        self.function_commands = _function_commands(script)
        commands = script.commands()
        self.backgrounded = [c for c in commands if c.background and c.name not in _NOT_SERVERS]
        self.forwards_signals = _forwarding_trap(commands, self.function_commands)

    def trivial_function(self, name: str) -> bool:
        cmds = self.function_commands.get(name)
        if cmds is None:
            return False
        return all(c.name is None or c.name in _NOT_SERVERS or c.inside("substitution") for c in cmds)


def _forwarding_trap(commands: list[ShellCommand], functions: dict[str, list[ShellCommand]]) -> bool:
    for cmd in commands:
        argv = cmd.argv
        if cmd.name != "trap" or len(argv) < 3:
            continue
        signals = {w.value.upper().removeprefix("SIG") for w in argv[2:]}
        if not signals & {"INT", "TERM", "2", "15"}:
            continue
        action = argv[1].value
        if re.search(r"(^|[\s;&|(])kill\b", action):
            return True
        for name in re.findall(r"[A-Za-z_][\w-]*", action):
            if any(c.name == "kill" for c in functions.get(name, ())):
                return True
    return False


def _no_exec(script: Script) -> list[Diagnostic]:
    flow = _Flow(script)
    outcome = _tail(script.tree, flow, 0)
    if not isinstance(outcome, list):
        return []
    return [_no_exec_diagnostic(script, flow, p) for p in outcome]


def _tail(nodes: list[Node], flow: _Flow, depth: int) -> _Outcome:
    """Whether the normal path through ``nodes`` ends by handing the process over to the server."""
    for node in reversed(nodes):
        if isinstance(node, FuncDef):
            continue
        out = _node_tail(node, flow, depth)
        if out != _SKIP:
            return out
    return _SKIP


def _combine(outcomes: Iterable[_Outcome]) -> _Outcome:
    problems: list[_Problem] = []
    fine = False
    for out in outcomes:
        if isinstance(out, list):
            problems.extend(out)
        elif out == _FINE:
            fine = True
    if problems:
        return problems
    return _FINE if fine else _SKIP


def _node_tail(node: Node, flow: _Flow, depth: int) -> _Outcome:
    if isinstance(node, Simple):
        return _simple_tail(node.command, flow, depth)
    if node.background:  # `{ ...; } &`, `a | b &`, `a && b &` as the last thing the script does
        cmds = [c for c in simple_commands([node])
                if c.name and c.name not in _NOT_SERVERS and not flow.trivial_function(c.name)]
        if not cmds:
            return _SKIP
        return [_Problem("background", cmds[0].span, _cmd_text(cmds[0], cmds[0].argv), cmds[0])]
    if isinstance(node, Pipeline):
        if len(node.items) == 1:
            return _node_tail(node.items[0], flow, depth)
        cmds = list(simple_commands(node.items))
        if not cmds or all(c.name in _NOT_SERVERS for c in cmds):
            return _SKIP
        return [_Problem("pipeline", cmds[0].span, " | ".join(_cmd_text(c) for c in cmds), cmds[0])]
    if isinstance(node, AndOr):
        for item in reversed(node.items):
            out = _node_tail(item, flow, depth)
            if out != _SKIP:
                return out
        return _SKIP
    if isinstance(node, If):
        outs = [_tail(body, flow, depth) for _, body in node.branches]
        if node.orelse is not None:
            outs.append(_tail(node.orelse, flow, depth))
        return _combine(outs)
    if isinstance(node, Case):
        return _combine(_tail(body, flow, depth) for _, body in node.branches)
    if isinstance(node, Loop):
        out = _tail(node.body, flow, depth)
        if out == _SKIP and flow.backgrounded and node.kind in ("while", "until"):
            return [_Problem("keepalive", Span(node.line, node.column), f"{node.kind} ... done")]
        return out
    if isinstance(node, Group):
        out = _tail(node.body, flow, depth)
        if node.kind == "subshell" and out == _FINE:
            first = next(iter(simple_commands(node.body)), None)
            span = first.span if first else Span(node.line, node.column)
            return [_Problem("subshell", span, _cmd_text(first) if first else "( ... )", first)]
        return out
    if isinstance(node, Arith):
        return _SKIP
    return _SKIP


def _exec_target(cmd: ShellCommand) -> list[Word]:
    """The command an ``exec`` runs (options skipped); empty for ``exec`` with redirections only."""
    rest = cmd.argv[1:]
    while rest and rest[0].bare and rest[0].bare.startswith("-"):
        opt = rest.pop(0).bare
        if opt == "--":
            break
        if opt == "-a" and rest:
            rest.pop(0)
    return rest


def _keepalive(cmd: ShellCommand) -> bool:
    argv = [w.value for w in cmd.argv]
    if argv[:1] == ["sleep"] and len(argv) > 1 and (argv[1] in ("infinity", "inf") or
                                                       (ascii_int(argv[1]) or 0) >= 3600):
        return True
    return argv[:1] == ["tail"] and "-f" in argv and "/dev/null" in argv


def _simple_tail(cmd: ShellCommand, flow: _Flow, depth: int) -> _Outcome:
    name = cmd.name
    if name is None:
        return _SKIP
    if name == "exec":
        return _FINE if _exec_target(cmd) else _SKIP
    if name in (".", "source"):
        return _FINE  # another script takes over: what it does is not visible here
    if _keepalive(cmd):
        if cmd.background:
            return _SKIP
        return [_Problem("keepalive", cmd.span, _cmd_text(cmd, cmd.argv), cmd)] if flow.backgrounded else _FINE
    if name == "wait":
        if flow.forwards_signals:
            return _FINE
        return [_Problem("wait", cmd.span, _cmd_text(cmd, cmd.argv), cmd)] if flow.backgrounded else _SKIP
    if name in _NOT_SERVERS or flow.trivial_function(name):
        return _SKIP
    if name in flow.functions:
        if depth >= 4:
            return _FINE
        return _tail(flow.functions[name].body, flow, depth + 1)
    if name == "eval":
        if any(w.value.lstrip().startswith("exec ") for w in cmd.argv[1:]):
            return _FINE
    elif find_migration(" ".join(w.value for w in cmd.argv)) is not None:
        return _FINE  # a migration script (a release command), not a server wrapper
    if cmd.background:
        return [_Problem("background", cmd.span, _cmd_text(cmd, cmd.argv), cmd)]
    return [_Problem("child", cmd.span, _cmd_text(cmd, cmd.argv), cmd)]


_SIGNAL = "Fly's kill_signal (SIGINT by default)"


def _no_exec_diagnostic(script: Script, flow: _Flow, p: _Problem) -> Diagnostic:
    text = _short(p.text)
    bg = _short(_cmd_text(flow.backgrounded[-1], flow.backgrounded[-1].argv)) if flow.backgrounded else "the server"
    if p.kind == "child":
        args = p.command is not None and p.command.argv and p.command.argv[0].value in ("$@", "${@}", "$*", "${*}")
        message = (f"`{text}` runs as a child of the shell, which stays the Machine's main process: {_SIGNAL} goes "
                   "to the shell, not to the server, and the server's exit status is lost")
        if args:
            hint = 'end the script with `exec "$@"`'
        elif p.command is not None and p.command.name == "eval":
            hint = f"replace the shell with the server: `eval exec {text.removeprefix('eval ')}`"
        else:
            hint = f"replace the shell with the server: `exec {text}`"
    elif p.kind == "background":
        message = (f"`{text} &` is the script's last command: the script ends right after starting it in the "
                   "background, and the Machine stops when its main process exits")
        hint = f"run it in the foreground in place of the shell: `exec {text}`"
    elif p.kind == "pipeline":
        message = (f"`{text}` runs the server in a pipeline, as a child of the shell, which stays the main process: "
                   f"{_SIGNAL} never reaches the server")
        hint = "drop the pipe (Fly collects stdout and stderr) and `exec` the server"
    elif p.kind == "subshell":
        message = (f"`{text}` runs in a subshell, a child of the main shell: {_SIGNAL} goes to the shell, not to "
                   "the server")
        hint = f"drop the parentheses: `exec {text.removeprefix('exec ')}`"
    elif p.kind == "wait":
        message = (f"`{text}` keeps the shell as the main process while `{bg}` runs in the background, and no `trap` "
                   f"forwards signals: {_SIGNAL} never reaches it")
        hint = (f"run the server last, in the foreground: `exec {bg}`; or forward the signals with "
                "`trap 'kill -TERM $pid' INT TERM` before `wait`")
    else:  # keepalive
        message = (f"`{text}` keeps the shell alive as the main process while `{bg}` runs in the background: "
                   f"{_SIGNAL} never reaches it")
        hint = (f"run the server last, in the foreground: `exec {bg}`; or forward the signals with "
                "`trap 'kill -TERM $pid' INT TERM` and `wait`")
    return NO_EXEC.diagnostic(script, p.span, message, hint=hint)


# -- FC802 entrypoint-not-posix -----------------------------------------------------------------

# kind -> (what it is, what /bin/sh does with it, the POSIX way); "{text}" is replaced by what was written.
_BASHISMS: dict[str, tuple[str, str, str]] = {
    "[[": ("`[[ ... ]]`", "dash runs `[[` as a command (`[[: not found`) and the test is false",
           "`[ ... ]` with quoted operands, or `case` for patterns"),
    "==": ("`==` in `[ ]`", "dash's `[` fails with `unexpected operator` and the test is false", "`=`"),
    "substring": ("substring expansion `{text}`",
                  "dash aborts with `Bad substitution`; BusyBox ash expands it differently",
                  'a loop over "$@", `case`, or `cut`'),
    "array": ("array expansion `{text}`", "dash aborts with `Bad substitution`",
              '"$@" (`set -- ...`) or a plain variable'),
    "indirect": ("indirect expansion `{text}`", "dash aborts with `Bad substitution`", "`eval`"),
    "replace": ("pattern substitution `{text}`", "dash aborts with `Bad substitution`",
                "`sed`, or `${var#pattern}` / `${var%pattern}`"),
    "case-mod": ("case modification `{text}`", "dash aborts with `Bad substitution`", "`tr`"),
    "transform": ("the transformation `{text}`", "dash aborts with `Bad substitution`", "`printf`"),
    "array-assign": ("array assignment `{text}`", "dash aborts with a syntax error",
                     '`set -- a b c` and "$@", or a space-separated string'),
    "array-element": ("array element assignment `{text}`", "dash runs it as a command (`not found`)",
                      "a plain variable"),
    "append": ("`+=` in `{text}`", "dash runs it as a command (`not found`)", '`x="${x}more"`'),
    "ansi-c": ("`$'...'` quoting", "dash keeps the `$` and does not interpret the escapes", "`printf`"),
    "brace": ("brace expansion `{text}`", "dash does not expand braces: the word stays as written",
              "the words written out"),
    "&>": ("the `&>` redirection", "dash reads `&` then `>`: the command runs in the background and the file is "
           "truncated", "`>file 2>&1`"),
    "<<<": ("the here-string `<<<`", "dash aborts with a syntax error", "a here-document, or `printf '%s\\n' ... |`"),
    "|&": ("`|&`", "dash aborts with a syntax error", "`2>&1 |`"),
    ";&": ("case fall-through `{text}`", "dash aborts with a syntax error", "separate `case` branches"),
    "procsub": ("process substitution `{text}...)`", "dash aborts with a syntax error", "a pipe or a temporary file"),
    "((": ("the arithmetic command `(( ))`", "dash runs it as nested subshells (`not found`) and the test is false",
           '`[ "$((expr))" -ne 0 ]`'),
    "for((": ("the arithmetic loop `for ((...))`", "dash aborts with a syntax error",
              '`while [ "$i" -lt "$n" ]; do ...; i=$((i + 1)); done`'),
    "function": ("the `function` keyword", "dash aborts with a syntax error", "`name() { ... }`"),
    "source": ("`source`", "dash has no `source` (`source: not found`)", "`.`"),
    "let": ("`let`", "dash has no `let` (`let: not found`)", "`x=$((expr))`"),
    "declare": ("`{text}`", "dash has no `{text}` (`not found`)", "plain assignments, `export`, `readonly`"),
    "local-option": ("`{text}`", "dash's `local` takes no options", "plain `local name=value`"),
    "pipefail": ("`{text}`", "Debian's dash before 0.5.13 rejects it (`Illegal option -o pipefail`) and the script "
                 "aborts (BusyBox ash accepts it)",
                 "`set -e` without pipefail"),
    "bash-builtin": ("`{text}`", "dash does not have it (`{text}: not found`)", "bash"),
}
_BASH_BUILTINS = {"source": "source", "let": "let", "declare": "declare", "typeset": "declare",
                  "shopt": "bash-builtin", "pushd": "bash-builtin", "popd": "bash-builtin",
                  "mapfile": "bash-builtin", "readarray": "bash-builtin", "disown": "bash-builtin",
                  "complete": "bash-builtin", "compgen": "bash-builtin", "caller": "bash-builtin"}
_ARRAY_ELEMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\[")
_APPEND = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+=")


def _not_posix(script: Script) -> list[Diagnostic]:
    if script.dialect != "sh":
        return []
    found: list[tuple[str, Span, str]] = []  # kind, span, text
    for b in script.bashisms:
        found.append((b.kind, Span(b.line, b.column, b.end_line, b.end_column), b.text))
    for cmd in script.commands():
        for w in cmd.assignments:
            if any(p.kind == "array" for p in w.parts):
                continue  # a=(...): the reader noted it
            if _ARRAY_ELEMENT.match(w.parts[0].text):
                found.append(("array-element", w.span, w.text))
            elif _APPEND.match(w.parts[0].text):
                found.append(("append", w.span, w.text))
        argv = cmd.argv
        if not argv or argv[0].bare is None:
            continue
        name = argv[0].bare
        if name in _BASH_BUILTINS:
            found.append((_BASH_BUILTINS[name], argv[0].span, name))
        elif name == "local":
            for w in argv[1:]:
                if w.bare and w.bare.startswith("-") and len(w.bare) > 1:
                    found.append(("local-option", w.span, f"local {w.bare}"))
        elif name in ("[", "test"):
            for w in argv[1:]:
                if w.bare == "==":
                    found.append(("==", w.span, "=="))
        elif name == "set":
            for i, w in enumerate(argv[1:-1], start=1):
                flag = w.bare or ""
                if flag.startswith(("-", "+")) and "o" in flag[1:] and not flag.startswith("--") \
                        and argv[i + 1].bare == "pipefail":
                    found.append(("pipefail", argv[i + 1].span, f"set {flag} pipefail"))
    shell = f"`#!{script.shebang}`" if script.shebang else "/bin/sh (it has no shebang)"
    out = []
    seen: set[tuple[int, int, str]] = set()
    for kind, span, text in sorted(found, key=lambda f: (f[1].line, f[1].column)):
        key = (span.line, span.column, kind)
        if key in seen:
            continue
        seen.add(key)
        what, effect, fix = (x.replace("{text}", _short(text, 40)) for x in _BASHISMS[kind])
        if kind == "pipefail":
            message = f"{what} is not POSIX sh, and the script runs with {shell}: {effect}"
        else:
            message = f"{what} is bash-only, but the script runs with {shell}: {effect}"
        hint = ("start the script with `#!/bin/bash` (the image must have bash)" if fix == "bash"
                else f"use {fix}, or start the script with `#!/bin/bash` if the image has bash")
        out.append(NOT_POSIX.diagnostic(script, span, message, hint=hint))
    return out


# -- FC803 migration-skipped --------------------------------------------------------------------

_EQUAL_OPS = {"=": 1, "==": 1, "-eq": 1, "-gt": 1, "-ge": 1, "-lt": 1, "-le": 1, "!=": -1, "-ne": -1}


@dataclass
class _Gate:
    kind: str  # positional, case, grep, unquoted-n
    word: Word  # the offending word
    test: str  # the condition as written
    constant: bool = True  # unquoted-n: the value the test always has
    required: bool = True  # unquoted-n: the value the migration's path needs
    empty: str = ""  # unquoted-n: the test as the shell sees it when the variable is empty


def _positional_param(text: str) -> str | None:
    """"count" for ``$#``, "args" for a positional parameter or ``$@``/``$*``, "slice" for a specific one
    (``$1``, ``${@: -2:1}``); None otherwise."""
    if text.startswith("${"):
        body = text[2:-1] if text.endswith("}") else text[2:]
    elif text.startswith("$"):
        body = text[1:]
    else:
        return None
    if body == "#":
        return "count"
    m = re.match(r"([0-9]+|[@*])", body)
    if not m or m.group(1) == "0":
        return None
    rest = body[m.end():]
    if m.group(1) in "@*" and not rest.startswith(":"):
        return "args"
    if m.group(1) in "@*" and rest.startswith(":") and rest[1:2] in ("-", "=", "?", "+"):
        return "args"
    return "slice"


def _positional(word: Word) -> str | None:
    kinds = [_positional_param(p.text) for p in word.parts if p.kind == "param"]
    kinds = [k for k in kinds if k]
    if not kinds:
        return None
    return "slice" if "slice" in kinds else kinds[0]


def _unquoted_expansion_only(word: Word) -> bool:
    return bool(word.parts) and all(not p.quoted and p.kind in ("param", "cmd") for p in word.parts)


def _names_migration(text: str) -> bool:
    return find_migration(text) is not None or "migrat" in text.lower()


def _test_gates(cmd: ShellCommand, polarity: int) -> list[_Gate]:
    argv = cmd.argv
    if not argv:
        return []
    name = argv[0].bare
    words = argv[1:]
    if name == "[" and words and words[-1].bare == "]":
        words = words[:-1]
    double = name == "[["
    if double and words and words[-1].bare == "]]":
        words = words[:-1]
    if name not in ("[", "test", "[["):
        return []
    joins = ("&&", "||") if double else ("-a", "-o")
    primaries: list[list[Word]] = [[]]
    for w in words:
        if w.bare in joins:
            primaries.append([])
        elif w.bare not in ("(", ")"):
            primaries[-1].append(w)
    text = _cmd_text(cmd, argv)
    sign = -polarity if cmd.negated else polarity
    gates = []
    for primary in primaries:
        neg = False
        while primary and primary[0].bare == "!":
            neg = not neg
            primary = primary[1:]
        if len(primary) == 3 and primary[1].bare in _EQUAL_OPS:
            lhs, op, rhs = primary
            for pos_w, other in ((lhs, rhs), (rhs, lhs)):
                if not _positional(pos_w) or not other.literal or _positional(other):
                    continue
                value = other.value
                if value == "" or _names_migration(value):
                    break
                if double and op.bare in ("=", "==") and value.startswith("*") and value.endswith("*"):
                    break  # a "contains" test does not depend on positions
                direction = sign * (-1 if neg else 1) * _EQUAL_OPS[op.bare or "="]
                if direction > 0:
                    gates.append(_Gate("positional", pos_w, text))
                break
        elif len(primary) == 2 and primary[0].bare == "-n" and not double:
            w = primary[1]
            if _unquoted_expansion_only(w):
                constant = not neg
                if cmd.negated:
                    constant = not constant
                empty = " ".join(x.text for x in argv if x is not w)
                gates.append(_Gate("unquoted-n", w, text, constant=constant, required=polarity > 0, empty=empty))
    return gates


def _grep_gates(cmd: ShellCommand, condition: tuple[ShellCommand, ...], polarity: int) -> list[_Gate]:
    """``echo "$1" | grep -q rails$``: a fixed argument matched against a pattern."""
    if cmd.name not in ("echo", "printf") or not cmd.pipeline:
        return []
    greps = [c for c in condition if c.pipeline == cmd.pipeline and c.pipe_index > cmd.pipe_index
             and c.name in ("grep", "egrep", "fgrep")]
    if not greps:
        return []
    sign = -polarity if cmd.negated else polarity
    if sign <= 0 or any(w.bare == "-v" for w in greps[0].argv):
        return []
    for w in cmd.argv[1:]:
        if _positional(w) == "slice":
            pattern = next((g.text for g in greps[0].argv[1:] if not (g.bare or "").startswith("-")), "")
            if _names_migration(pattern):
                return []
            return [_Gate("grep", w, f"{_cmd_text(cmd, cmd.argv)} | {_cmd_text(greps[0], greps[0].argv)}")]
    return []


def _condition_gates(condition: tuple[ShellCommand, ...], polarity: int) -> list[_Gate]:
    gates: list[_Gate] = []
    for c in condition:
        gates.extend(_test_gates(c, polarity))
        gates.extend(_grep_gates(c, condition, polarity))
    return gates


def _case_gates(ctx) -> list[_Gate]:  # type: ignore[no-untyped-def]
    subject = ctx.subject
    if subject is None or not _positional(subject) or not ctx.patterns:
        return []
    values = [p.value for p in ctx.patterns]
    if all(v == "*" or (len(v) > 1 and v.startswith("*") and v.endswith("*")) for v in values):
        return []  # the default branch, or "contains" patterns
    if any(_names_migration(v) for v in values):
        return []
    test = f"case {subject.text} in {'|'.join(p.text for p in ctx.patterns)})"
    return [_Gate("case", subject, test)]


def _gates(cmd: ShellCommand) -> list[_Gate]:
    gates: list[_Gate] = []
    for ctx in cmd.context:
        if ctx.kind == "if" and ctx.part in ("then", "elif"):
            gates.extend(_condition_gates(ctx.condition, +1))
            gates.extend(_condition_gates(ctx.prior, -1))
        elif ctx.kind == "if" and ctx.part == "else":
            gates.extend(_condition_gates(ctx.prior, -1))
        elif ctx.kind == "and":
            gates.extend(_condition_gates(ctx.condition, +1))
        elif ctx.kind == "or":
            gates.extend(_condition_gates(ctx.condition, -1))
        elif ctx.kind == "case" and ctx.part == "branch":
            gates.extend(_case_gates(ctx))
    return gates


def _migration_of(cmd: ShellCommand, functions: dict[str, list[ShellCommand]], depth: int = 0) -> str | None:
    """The migration a command runs (its text), or None."""
    name = cmd.name
    if name is None or name in _ECHOES:
        return None
    if name in functions:
        if depth >= 3:
            return None
        for inner in functions[name]:
            found = _migration_of(inner, functions, depth + 1)
            if found:
                return found
        return None
    m = find_migration(" ".join(w.value for w in cmd.argv))
    return m.text if m else None


def _inner_script(cmd: ShellCommand) -> Word | None:
    """The script word of ``sh -c '...'`` (any shell, flags such as ``-ec`` included)."""
    argv = cmd.argv
    if cmd.name is None or cmd.name.rsplit("/", 1)[-1] not in _SHELLS:
        return None
    for i, w in enumerate(argv[1:], start=1):
        flag = w.bare or ""
        if not flag.startswith("-") or flag == "--":
            return None
        if "c" in flag[1:] and not flag.startswith("--"):
            return argv[i + 1] if i + 1 < len(argv) else None
    return None


def _migration_skipped(script: Script, doc: Document, place: Place, invocations: tuple[Invocation, ...],
                       depth: int = 0, top: bool = False) -> list[Diagnostic]:
    """migration-skipped: gates that are constant (`[ -n $VAR ]`), and gates on the script's arguments
    that are false for a command a Machine starts the server with (``invocations``).

    ``top``: ``script`` is a one-line command run without a shell, so only its `sh -c` scripts are judged.
    """
    from flyconf.rules import gates as g

    functions = _function_commands(script)
    out: list[Diagnostic] = []
    seen: set[int] = set()
    for cmd in script.commands():
        inner = _inner_script(cmd) if depth < 3 else None
        if inner is not None:
            out.extend(_inner_findings(cmd, inner, doc, place, invocations, depth))
            continue
        if top:
            continue
        migration = _migration_of(cmd, functions)
        if migration is None:
            continue
        for gate in _gates(cmd):
            if gate.kind == "unquoted-n" and gate.word.offset not in seen:
                seen.add(gate.word.offset)
                out.append(_gate_diagnostic(doc, place(gate.word.offset, gate.word.end_offset), gate, migration))
                break
    if top or not invocations:
        return out
    bash = script.dialect == "bash"
    migrations = [p for p in g.paths(script, lambda c: c.name not in _ECHOES and _direct_migration(c) is not None)]
    failures: dict[int, tuple[g.Condition, str, list[Invocation]]] = {}
    for inv in invocations:
        ev = g.Evaluator(inv.args, bash=bash)
        blocked: list[tuple[g.Condition, str]] = []
        for path in migrations:
            false = next((c for c in path.conditions if c.first_word() is not None and not c.names_migration()
                          and ev.condition(c) is False), None)
            if false is None:
                break  # this migration may run for this command
            blocked.append((false, _direct_migration(path.command) or ""))
        else:
            if blocked:  # every migration of the script is gated off for this command: report the last gate
                cond, migration = blocked[-1]
                first = cond.first_word()
                assert first is not None
                failures.setdefault(first.offset, (cond, migration, []))[2].append(inv)
    for offset, (cond, migration, failing) in sorted(failures.items()):
        if offset in seen:
            continue
        seen.add(offset)
        first = cond.first_word()
        assert first is not None
        out.append(_skipped_diagnostic(doc, place(first.offset, first.end_offset), cond, migration, failing))
    return out


def _direct_migration(cmd: ShellCommand) -> str | None:
    """The migration a simple command runs by itself (function calls are followed by the walk)."""
    if cmd.name is None:
        return None
    m = find_migration(" ".join(w.value for w in cmd.argv))
    return m.text if m else None


def _inner_findings(cmd: ShellCommand, word: Word, doc: Document, place: Place, invocations: tuple[Invocation, ...],
                    depth: int) -> list[Diagnostic]:
    """Findings in the script of `sh -c 'script' arg0 args...`, whose parameters are the words after it."""
    from flyconf.rules import gates as g

    inner = parse_script(word.value, doc.display_path)
    exact = (len(word.parts) == 1 and word.parts[0].kind == "lit" and word.parts[0].quoted
             and word.text[1:-1] == word.value and word.text[:1] in "'\"")

    def inner_place(start: int, end: int) -> Span:
        if exact:
            return place(word.offset + 1 + start, word.offset + 1 + end)
        return place(word.offset, word.end_offset)

    after = cmd.argv[cmd.argv.index(word) + 1:]
    inner_invocations = []
    for inv in invocations:
        ev = g.Evaluator(inv.args, bash=True)
        try:
            fields = [f for w in after for f in ev.fields(w)]
        except g.Unknown:
            continue
        inner_invocations.append(Invocation(tuple(fields[1:]), inv.command, inv.who))
    return _migration_skipped(inner, doc, inner_place, tuple(inner_invocations), depth + 1)


_FLY_HINT = ("gate on what Fly sets instead (skip when `$RELEASE_COMMAND` is set; test `$FLY_PROCESS_GROUP` for the "
             "process group), or migrate unconditionally before `exec \"$@\"`")


def _gate_diagnostic(doc: Document, span: Span, gate: _Gate, migration: str) -> Diagnostic:
    test = _short(gate.test, 70)
    var = gate.word.text
    name = var.strip("${}") if re.fullmatch(r"\$\{?\w+\}?", var) else var
    value = "true" if gate.constant else "false"
    runs = "always runs" if gate.constant == gate.required else "never runs"
    message = (f"`{test}` is always {value}: when {name} is empty or unset, the unquoted `{var}` vanishes and "
               f"the shell tests `{gate.empty}`, which is {value} too, so the migration `{migration}` {runs} "
               f"whatever {name} says")
    return MIGRATION_SKIPPED.diagnostic(doc, span, message, hint=f'quote the variable: `-n "{var}"`')


def _skipped_diagnostic(doc: Document, span: Span, cond: object, migration: str,
                        failing: list[Invocation]) -> Diagnostic:
    test = _short(cond.text(), 70)  # type: ignore[attr-defined]
    first = failing[0]
    args = " ".join(first.args) if first.args else "no arguments"
    also = ""
    if len(failing) > 1:
        also = "; also for " + ", ".join(f"{inv.who} (`{_short(inv.command, 40)}`)" for inv in failing[1:3])
    what = "does not match" if getattr(cond, "subject", None) is not None else "is false"
    message = (f"the migration `{migration}` never runs when {first.who} start `{_short(first.command, 60)}`: "
               f"the script gets `{_short(args, 50)}` as its arguments, for which `{test}` {what}{also}")
    return MIGRATION_SKIPPED.diagnostic(doc, span, message, hint=_FLY_HINT)
