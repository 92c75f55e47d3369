"""PocketBase: the SQLite databases in its data directory, `pb_data` beside the executable or `--dir`.

PocketBase (pocketbase/pocketbase) is one binary, either the released `pocketbase` or a Go program
that imports github.com/pocketbase/pocketbase; both start the server with `serve`. Its data directory is
the persistent flag `--dir` (pocketbase.go, eagerParseFlags), defaulting to `Config.DefaultDataDir`, which
is `filepath.Join(baseDir, "pb_data")` where baseDir is `filepath.Dir(os.Args[0])` (pocketbase.go,
inspectRuntime; os.Args[0] and not os.Executable(), on purpose), or the working directory when argv[0]
is under the temporary directory (osutils.IsProbablyGoRun: `go run`). So `/pb/pocketbase serve` keeps
its data in /pb/pb_data, while `pocketbase serve` found on PATH, or `./pocketbase serve`, keeps it in
pb_data under the working directory. The databases are `data.db` and, since v0.23, `auxiliary.db`
(`logs.db` before): core/base.go opens both in the data directory, and both are lost together, so
they are reported as one database, `pb_data`, at the path of data.db.

The reader looks at what each process group starts (the image's CMD/ENTRYPOINT or a `[processes]`
command), and into the start scripts they run, for a `pocketbase ... serve` command.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator

from flyconf.databases.model import SQLITE, Context, Found, Location, StartCommand, Step, offset_location, resolve
from flyconf.diagnostics import Span
from flyconf.sources.base import Document
from flyconf.sources.script import Word, parse_script

_MODULE = "github.com/pocketbase/pocketbase"
# Flags of `pocketbase` and `pocketbase serve` that take no value (cobra bool flags).
_BOOL_FLAGS = frozenset({"--dev", "--automigrate", "--hooksWatch", "--indexFallback", "-h", "--help", "-v",
                         "--version"})
_WRAPPERS = frozenset({"tini", "dumb-init", "catatonit", "exec", "nohup", "setsid", "chpst"})
_USER_WRAPPERS = frozenset({"su-exec", "gosu"})  # `gosu USER command...`
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_TMP = "/tmp"  # os.TempDir() on Linux when TMPDIR is not set


@dataclass(frozen=True)
class Arg:
    """A word of a command: its value when it is a fixed string (None when it expands something)."""

    value: str | None
    text: str  # as written
    at: Location | None
    env_steps: tuple[Step, ...] = ()  # the fly.toml/Dockerfile variables whose values were put in ``value``


@dataclass(frozen=True)
class Invocation:
    """One command that may run PocketBase, with the directory it runs in."""

    args: tuple[Arg, ...]
    cwd: str | None
    cwd_how: str  # how the working directory was found, or why it is not known
    at: Location | None  # the command as written
    group: str
    where: str  # "the CMD of the Dockerfile", "start script docker-entrypoint.sh"...


def read(ctx: Context) -> Iterable[Found]:
    # Whether the app is PocketBase built from Go, and DefaultDataDir in its code: read only when a
    # `serve` command is found (a walk of the build context otherwise spent on every app).
    facts: dict[str, object] = {}

    def module() -> bool:
        if "module" not in facts:
            facts["module"] = _requires_pocketbase(ctx)
        return bool(facts["module"])

    def override() -> Override | None:
        if "override" not in facts:
            facts["override"] = _default_data_dir(ctx) if module() else None
        found = facts["override"]
        return found if isinstance(found, Override) else None

    merged: dict[tuple[str | None, str | None, str], tuple[Found, list[str]]] = {}
    for command in ctx.start_commands():
        for inv in _invocations(ctx, command):
            db = _database(ctx, inv, module, override)
            if db is None:
                continue
            key = (db.path, db.unknown, str(db.declared))
            if key in merged:
                merged[key][1].append(inv.group)
            else:
                merged[key] = (db, [inv.group])
    return [replace(db, groups=tuple(dict.fromkeys(groups))) for db, groups in merged.values()]


# -- where PocketBase is started --------------------------------------------------------------------


def _requires_pocketbase(ctx: Context) -> bool:
    """A go.mod of the build context requires PocketBase directly: the app is PocketBase built as a library."""
    from flyconf.databases.native import go_requires

    for rel in ["go.mod", *ctx.glob("*/go.mod")]:
        doc = ctx.read(rel)
        if doc is not None and go_requires(doc.text).get(_MODULE):
            return True
    return False


@dataclass(frozen=True)
class Override:
    """`DefaultDataDir` set in the app's Go code (pocketbase.NewWithConfig)."""

    value: str | None  # None: not a literal
    at: Location


def _default_data_dir(ctx: Context) -> Override | None:
    from flyconf.databases.native import go_tokens, source_files

    for rel in source_files(ctx, ".go"):
        doc = ctx.read(rel)
        if doc is None or "DefaultDataDir" not in doc.text:
            continue
        toks = go_tokens(doc.text)
        for i, t in enumerate(toks[:-2]):
            if t.kind == "name" and t.text == "DefaultDataDir" and toks[i + 1].text in (":", "="):
                value = toks[i + 2]
                closes = i + 3 >= len(toks) or toks[i + 3].text in (",", "}", ";", ")")
                literal = value.kind == "str" and closes
                return Override(value.text if literal else None, offset_location(doc, value.start, value.end))
    return None


def _invocations(ctx: Context, command: StartCommand, depth: int = 0) -> Iterator[Invocation]:
    where = f"process group {command.group}"
    argv = list(command.argv)
    args = tuple(Arg(a, a, None) for a in argv)
    workdir = ctx.workdir
    cwd_how = f"the working directory {workdir}" if workdir else "the working directory of the image is not known"
    yield Invocation(args, workdir, cwd_how, command.at, command.group, f"the start command of {where}")
    # `sh -c "..."`: the command line inside
    for k, word in enumerate(argv[:-1]):
        if posixpath.basename(word) in _SHELLS and "-c" in argv[k + 1:]:
            j = argv.index("-c", k + 1)
            if j + 1 < len(argv):
                yield from _script_invocations(ctx, ctx.text_document(
                    command.at.path if command.at else "<command>", argv[j + 1]), command, workdir, cwd_how,
                    depth, inline=True)
            break
    # start scripts in the image
    from flyconf.assemble import script_candidates

    for candidate in script_candidates(argv):
        image = candidate if candidate.startswith("/") else (posixpath.join(workdir, candidate) if workdir else None)
        rel = ctx.context_file(image) if image else None
        doc = ctx.read(rel) if rel else None
        if doc is None or depth > 2 or not _is_shell(doc):
            continue
        yield from _script_invocations(ctx, doc, command, workdir, cwd_how, depth, inline=False, rel=rel)
        # an ENTRYPOINT script that runs its arguments (`exec "$@"`): the CMD is the command
        if command.entrypoint and len(argv) > len(command.entrypoint) and '"$@"' in doc.text:
            yield Invocation(args[len(command.entrypoint):], workdir, cwd_how, command.at, command.group,
                             f"the command of {where}, run by the ENTRYPOINT script {rel}")


def _is_shell(doc: Document) -> bool:
    """A shell script, as flyconf.assemble tells them: a .sh/.bash name or a shell shebang."""
    first = doc.text.split("\n", 1)[0]
    if first.startswith("#!"):
        return any(s in first for s in ("sh", "bash", "dash", "ash"))
    return doc.display_path.endswith((".sh", ".bash"))


def _script_invocations(ctx: Context, doc: Document, command: StartCommand, workdir: str | None, cwd_how: str,
                        depth: int, *, inline: bool, rel: str | None = None) -> Iterator[Invocation]:
    script = parse_script(doc.text, doc.display_path)
    name = "the inline shell command" if inline else f"start script {rel}"
    cwd, how = workdir, cwd_how
    sources = False  # the script reads another file (`. file`): variables may be changed there
    assigned: set[str] = set()
    for cmd in script.commands():
        words = cmd.argv
        for w in cmd.assignments:
            assigned.add(w.value.split("=", 1)[0].rstrip("+"))
        if not words:
            continue
        head = words[0].value
        if head in (".", "source"):
            sources = True
            continue
        if head in ("export", "readonly", "declare", "local", "typeset", "read"):
            for w in words[1:]:
                assigned.add(w.value.split("=", 1)[0])
            continue
        if head == "cd":
            target = words[1] if len(words) > 1 else None
            if cmd.inside("substitution") or cmd.inside("subshell"):
                continue  # `DIR=$(cd "$(dirname "$0")" && pwd)`: a subshell's cd is its own
            if cmd.context or target is None or not target.literal:
                cwd, how = None, f"the working directory after `{cmd.text}` in {name} is not known"
            elif cwd is not None or target.value.startswith("/"):
                cwd = resolve(target.value, cwd)
                how = f"the working directory {cwd} (`{cmd.text}` in {name})"
            continue
        args = []
        for w in words:
            if inline:
                at = command.at
            else:
                at = offset_location(doc, w.offset, w.end_offset)
            value, steps = _expand(ctx, w, assigned, sources)
            args.append(Arg(value, w.text, at, steps))
        at = offset_location(doc, words[0].offset, words[-1].end_offset) if not inline else command.at
        yield Invocation(tuple(args), cwd, how, at, command.group, name)
        if depth < 2 and not inline:
            # a script that runs another script of the image
            inner = [a.value for a in args]
            if all(v is not None for v in inner) and inner:
                from flyconf.assemble import script_candidates

                for candidate in script_candidates([v for v in inner if v is not None]):
                    image = candidate if candidate.startswith("/") else (
                        posixpath.join(cwd, candidate) if cwd else None)
                    inner_rel = ctx.context_file(image) if image else None
                    inner_doc = ctx.read(inner_rel) if inner_rel and inner_rel != rel else None
                    if inner_doc is not None and _is_shell(inner_doc):
                        yield from _script_invocations(ctx, inner_doc, command, cwd, how, depth + 1, inline=False,
                                                       rel=inner_rel)


_PARAM = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def _expand(ctx: Context, word: Word, assigned: set[str], sources: bool) -> tuple[str | None, tuple[Step, ...]]:
    """A script word's value: its literal text, with `$VAR` filled in from fly.toml/Dockerfile when the
    script neither sets VAR nor reads another file that might (None when something else is expanded)."""
    out: list[str] = []
    steps: list[Step] = []
    for part in word.parts:
        if part.kind == "lit":
            out.append(part.text)
            continue
        m = _PARAM.match(part.text) if part.kind == "param" else None
        if m is None or sources or m.group(1) in assigned or m.group(1) not in ctx.env:
            return None, ()
        var = ctx.env[m.group(1)]
        out.append(var.value)
        steps.append(var.step())
    return "".join(out), tuple(steps)


# -- reading a PocketBase command -------------------------------------------------------------------


@dataclass(frozen=True)
class _Serve:
    program: Arg
    dir_flag: Arg | None  # the `--dir` word (or `--dir=...`)
    dir_value: Arg | None
    opaque: Arg | None  # a word that may expand to `--dir` (`"$@"`, `$OPTS`)


def _serve(args: tuple[Arg, ...], module: Callable[[], bool]) -> _Serve | None:
    """The PocketBase `serve` command in ``args``, if it is one."""
    k = 0
    while k < len(args):
        value = args[k].value
        if value is None:
            return None  # the program is not a fixed word
        base = posixpath.basename(value)
        if base in _WRAPPERS or value == "--" or (k == 0 and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", value)):
            k += 1
            continue
        if base in _USER_WRAPPERS:
            k += 2
            continue
        if base == "litefs" and "--" in [a.value for a in args[k:]]:
            k = [a.value for a in args].index("--", k) + 1
            continue
        break
    if k >= len(args):
        return None
    program = args[k]
    assert program.value is not None
    named = posixpath.basename(program.value) == "pocketbase"
    if not named and (program.value.startswith("-") or not any(a.value == "serve" for a in args[k + 1:])):
        return None
    if not named and not module():
        return None
    dir_flag = dir_value = opaque = None
    subcommand: str | None = None
    i = k + 1
    while i < len(args):
        a = args[i]
        v = a.value
        if v is None:
            prefix = re.match(r"^--?([A-Za-z][\w-]*)=", a.text.strip("'\""))
            if prefix and prefix.group(1) != "dir":
                i += 1
                continue
            if prefix:  # --dir=$X
                dir_flag, dir_value = a, Arg(None, a.text.split("=", 1)[1], a.at)
                i += 1
                continue
            if subcommand is None:
                return None  # the subcommand itself is not known
            opaque = opaque or a
            i += 1
            continue
        if v == "--dir" or v == "-dir":
            dir_flag = a
            dir_value = args[i + 1] if i + 1 < len(args) else None
            i += 2
            continue
        if v.startswith(("--dir=", "-dir=")):
            dir_flag = a
            dir_value = Arg(v.split("=", 1)[1], a.text.split("=", 1)[1], a.at, a.env_steps)
            i += 1
            continue
        if v.startswith("-"):
            i += 1 if "=" in v or v in _BOOL_FLAGS else 2
            continue
        if subcommand is None:
            subcommand = v
            if subcommand != "serve":
                return None
        i += 1
    if subcommand != "serve":
        return None
    return _Serve(program, dir_flag, dir_value, opaque)


def _database(ctx: Context, inv: Invocation, module: Callable[[], bool],
              override: Callable[[], Override | None]) -> Found | None:
    serve = _serve(inv.args, module)
    if serve is None:
        return None
    program = serve.program.value or ""
    if posixpath.basename(program) != "pocketbase" and _is_file_of_context(ctx, program, inv.cwd):
        return None  # a script given `serve` as an argument, not a PocketBase binary built from Go
    words = " ".join(a.text for a in inv.args)
    start = Step(f"PocketBase runs `{words}` ({inv.where})", inv.at)
    chain = [start]
    declared = inv.at
    unknown: str | None = None
    data_dir: str | None = None
    relative_dir: str | None = None  # the data directory as written, when relative to the working directory
    raw = ""
    if serve.dir_flag is not None:
        value = serve.dir_value
        declared = _flag_location(inv, serve) or inv.at
        raw = value.text if value is not None else ""
        chain.append(Step(f"`--dir {raw}` sets the data directory", declared))
        if value is None or value.value is None:
            unknown = f"the data directory `--dir {raw}` depends on a value flyconf cannot see"
        elif "$" in value.value:
            # an exec-form command is not run by a shell: `$X` would be a directory named `$X`, surely not meant
            unknown = f"the data directory `--dir {raw}` is not expanded by a shell"
        else:
            chain.extend(value.env_steps)
            data_dir, unknown = _against_cwd(value.value, inv, chain)
            relative_dir = value.value if not value.value.startswith("/") else None
    elif serve.opaque is not None:
        unknown = f"`{serve.opaque.text}` may set --dir: the data directory is not known"
    elif (code := override()) is not None:
        declared = code.at
        chain.append(Step("DefaultDataDir is set in the app's Go code", code.at))
        if code.value is None:
            unknown = "DefaultDataDir is set in the app's Go code to a value that is not a literal"
        else:
            raw = code.value
            data_dir, unknown = _against_cwd(code.value, inv, chain)
            relative_dir = code.value if not code.value.startswith("/") else None
    else:
        program = serve.program.value or ""
        raw = program
        if program.startswith("/") and not program.startswith(_TMP + "/"):
            data_dir = resolve(posixpath.join(posixpath.dirname(program), "pb_data"), None)
            chain.append(Step(f"no --dir: the data directory is pb_data beside the executable {program}"))
        else:
            why = ("under the temporary directory, which PocketBase takes for `go run`: pb_data is in the working "
                   "directory") if program.startswith("/") else "a relative name: pb_data is beside it, under the " \
                                                                "working directory (PocketBase uses os.Args[0])"
            chain.append(Step(f"no --dir: `{program}` is {why}"))
            rel = "pb_data" if program.startswith("/") else posixpath.normpath(
                posixpath.join(posixpath.dirname(program), "pb_data"))
            data_dir, unknown = _against_cwd(rel, inv, chain)
            relative_dir = rel
    path = posixpath.join(data_dir, "data.db") if data_dir is not None else None
    if path is not None:
        chain.append(Step(f"data.db (and auxiliary.db, or logs.db before v0.23) in {data_dir}"))
    if declared is None:
        return None  # a command written nowhere flyconf can point at
    relative = base = None
    if path is not None and relative_dir is not None:
        relative, base = posixpath.join(relative_dir, "data.db"), inv.cwd
    return Found(framework="pocketbase", reader="pocketbase", name="pb_data", kind=SQLITE, declared=declared,
                 path=path, raw=raw, chain=tuple(chain), unknown=unknown, form="path", relative=relative, base=base)


def _is_file_of_context(ctx: Context, program: str, cwd: str | None) -> bool:
    if program.endswith((".sh", ".bash", ".py", ".js", ".rb")):
        return True
    image = program if program.startswith("/") else (posixpath.join(cwd, program) if cwd and "/" in program else None)
    return image is not None and ctx.context_file(image) is not None


def _against_cwd(path: str, inv: Invocation, chain: list[Step]) -> tuple[str | None, str | None]:
    if path.startswith("/"):
        return resolve(path, None), None
    if inv.cwd is None:
        return None, f"relative data directory `{path}`: {inv.cwd_how}"
    absolute = resolve(path, inv.cwd)
    chain.append(Step(f"relative path `{path}` resolved against {inv.cwd_how}"))
    return absolute, None


def _flag_location(inv: Invocation, serve: _Serve) -> Location | None:
    """Where `--dir` and its value are written: the script words, or found in the command's text."""
    flag, value = serve.dir_flag, serve.dir_value
    assert flag is not None
    if flag.at is not None and flag.at != inv.at:
        last = value.at if value is not None and value.at is not None and value.at != inv.at else flag.at
        return Location(flag.at.doc, Span(flag.at.span.line, flag.at.span.column, last.span.end_line,
                                          last.span.end_column))
    at = inv.at
    if at is None:
        return None
    text = at.doc.text
    start = _offset(text, at.span.line, at.span.column)
    stop = _offset(text, at.span.end_line or at.span.line, at.span.end_column) if at.span.end_column else start
    # a Dockerfile instruction's span may cover only its keyword: read on to the end of its logical line
    while stop < len(text):
        eol = text.find("\n", stop)
        eol = len(text) if eol == -1 else eol
        stop = eol
        if not text[:eol].rstrip().endswith("\\"):
            break
        stop = eol + 1
    region = text[start:stop]
    idx = region.find(flag.text if flag.value is None else flag.value.split("=", 1)[0])
    if idx == -1:
        return None
    first, end = _widen(region, idx, idx + len(flag.value or flag.text))
    if value is not None and value is not flag and value.value is not None and not (flag.value or "").startswith(
            ("--dir=", "-dir=")):
        found = region.find(value.text, end)
        if found != -1:
            end = _widen(region, found, found + len(value.text))[1]
    return offset_location(at.doc, start + first, start + end)


def _widen(region: str, a: int, b: int) -> tuple[int, int]:
    """Take in the quotes around a word of an exec-form (JSON) command: `"--dir"`, not `--dir`."""
    if 0 < a and b < len(region) and region[a - 1] == region[b] and region[b] in "\"'":
        return a - 1, b + 1
    return a, b


def _offset(text: str, line: int, column: int) -> int:
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt == -1:
            return len(text)
        pos = nxt + 1
    return min(pos + column - 1, len(text))

