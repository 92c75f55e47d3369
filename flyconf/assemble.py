"""Putting an App together: the fly.toml, the Dockerfile it builds, the start scripts the image runs.

Every file is read once per run (a cache keyed by resolved path), and a file
that cannot be read or parsed becomes a finding, never an exception.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from flyconf import registry, shsplit
from flyconf.app import App
from flyconf.diagnostics import Diagnostic
from flyconf.sources.base import (
    Document,
    ReadFailure,
    display,
    inside,
    is_directory,
    is_regular_file,
    lexists,
    lone_surrogate,
    project_root,
    read_bytes,
    read_text,
    real_path,
)

if TYPE_CHECKING:
    from flyconf.sources.flytoml import FlyToml

FLYTOML, DOCKERFILE, SCRIPT, CONFIG = "flytoml", "dockerfile", "script", "config"
COMPOSE = "compose"  # a Compose file (flyconf.compose)

# Programs that start another program given as their arguments.
_WRAPPERS = {"tini", "dumb-init", "su-exec", "gosu", "setpriv", "catatonit", "s6-svscan", "chamber", "doppler"}
_SHELLS = {"sh", "bash", "dash", "ash", "zsh"}


@dataclass
class Loaded:
    doc: Document | None
    findings: list[Diagnostic] = field(default_factory=list)


class Workspace:
    """Documents read so far in this run, by resolved path."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Path, str], Loaded] = {}
        self.documents: dict[str, Document] = {}
        # The App of each fly.toml document, assembled once per run (lint and fix's `[*]` plan share it).
        self._apps: dict[int, tuple[Any, App, list[Diagnostic]]] = {}
        # The run's configuration (flyconf.config.Configuration; None: the defaults) and the directories it
        # was pointed at: fix plans with them (which findings it may fix, where it may write), and lint's `[*]`
        # asks the same plan.
        self.config: Any = None
        self.roots: tuple[Path, ...] = ()

    def load(self, path: Path, kind: str, shown: str | None = None, *, within: Path | None = None) -> Loaded:
        """The file at ``path`` read as ``kind``. With ``within`` (a real directory), a file whose real path
        (links followed) is not inside it is not read: the finding says so."""
        if within is not None and not inside(path, within):
            return Loaded(None, [failure_diagnostic(outside(within), shown or display(path), kind)])
        key = (real_path(path), kind)
        if key not in self._cache:
            self._cache[key] = self._read(path, kind, shown or display(path))
            doc = self._cache[key].doc
            known = self.documents.get(doc.display_path) if doc is not None else None
            # A file read both ways (a start script a database reader also looks at) stays quotable.
            if doc is not None and (known is None or doc.quotable or not known.quotable):
                self.documents[doc.display_path] = doc
        return self._cache[key]

    def parse_text(self, text: str, kind: str, shown: str, fs_path: Path | None = None) -> Loaded:
        loaded = _parse(text, kind, shown, fs_path)
        if loaded.doc is not None:
            self.documents[shown] = loaded.doc
        return loaded

    def substitute(self, path: Path, kind: str, text: str, shown: str) -> Loaded:
        """Read ``text`` as the file at ``path`` (standard input standing in for it): whoever loads ``path``
        in this workspace afterwards gets this text, not the file on disk."""
        key = (real_path(path), kind)
        self._cache[key] = _parse(text, kind, shown, path)
        doc = self._cache[key].doc
        if doc is not None:
            self.documents[doc.display_path] = doc
        return self._cache[key]

    def document(self, path: Path, within: Path | None = None) -> Document | None:
        """An app configuration file (database.yml, settings.py...), read once; None when unreadable
        or, with ``within``, outside that directory."""
        if not is_regular_file(path) or (within is not None and not inside(path, within)):
            return None
        return self.load(path, CONFIG).doc

    def reader(self, within: Path | None) -> Callable[[Path], Document | None]:
        """:meth:`document` bounded to the real directory ``within`` (an app's build context)."""
        bound = real_path(within) if within is not None else None
        return lambda path: self.document(path, bound)

    def _read(self, path: Path, kind: str, shown: str) -> Loaded:
        text = read_text(path)
        quote = quotable(kind, path.name)
        if isinstance(text, ReadFailure):
            return Loaded(None, [failure_diagnostic(text, shown, kind, quote=quote)])
        # A configuration file without a telling name may still be a script by its shebang (bin/rails).
        return _parse(text, kind, shown, path, quote or (kind == CONFIG and text.startswith("#!")))


def outside(root: Path) -> ReadFailure:
    """The failure of a file that is not read because its real path leaves ``root``."""
    return ReadFailure("io-error", f"not read: the file (or the symbolic link it is) leads outside {root}, "
                                   "and flyconf reads no file outside the project")


# Extensions of the app configuration and source files database readers look at (by name): their lines
# may be shown. Anything else read as configuration (a path taken from a value) is not quoted.
_CONFIG_SUFFIXES = frozenset("""
    .yml .yaml .json .toml .py .rb .js .mjs .cjs .ts .mts .cts .ex .exs .php .prisma .rs .go .ini .cfg .conf
    .env .lock .mod .xml .properties .rake .sql
""".split())
_CONFIG_NAMES = frozenset({"Rakefile", "rakefile", "Gemfile", "artisan", "Procfile", ".dockerignore", ".env"})


def quotable(kind: str, name: str) -> bool:
    """Whether a file read as ``kind`` under this name is what its name says, so its lines may be shown.

    A fly.toml is named by the user, a script is read only when it looks like one (.sh or a shell
    shebang); a Dockerfile, Compose file or configuration file named by a value in another file
    (`[build] dockerfile = "../.netrc"`) may hold anything, so only a name of its kind is quoted.
    """
    from flyconf.discover import is_dockerfile_name

    if kind in (FLYTOML, SCRIPT):
        return True
    if kind == DOCKERFILE:
        return is_dockerfile_name(name)
    if kind == COMPOSE:
        from flyconf.compose.names import is_compose_name

        return is_compose_name(name, explicit=True) or name.endswith((".yml", ".yaml"))
    suffix = posixpath.splitext(name)[1]
    return (suffix in _CONFIG_SUFFIXES or name in _CONFIG_NAMES or name.startswith(".env")
            or name.endswith(".dockerignore"))


def _parse(text: str, kind: str, shown: str, fs_path: Path | None, quote: bool = True) -> Loaded:
    bad = lone_surrogate(text)  # every reader below may encode the text, and the encoder refuses these
    if bad is not None:
        return Loaded(None, [failure_diagnostic(bad, shown, kind, text if quote else "", quote=quote)])
    if kind == FLYTOML:
        from flyconf.sources.flytoml import parse_flytoml

        parsed: Any = parse_flytoml(text, shown, fs_path)
    elif kind == DOCKERFILE:
        from flyconf.sources.dockerfile import parse_dockerfile

        parsed = parse_dockerfile(text, shown, fs_path)
    elif kind == CONFIG:
        parsed = Document(display_path=shown, text=text, fs_path=fs_path)  # an app's configuration file
    elif kind == COMPOSE:
        from flyconf.sources.compose import parse_compose

        parsed = parse_compose(text, shown, fs_path)
    else:
        from flyconf.sources.script import parse_script

        parsed = parse_script(text, shown, fs_path)
    if isinstance(parsed, ReadFailure):
        return Loaded(None, [failure_diagnostic(parsed, shown, kind, text if quote else "", quote=quote)])
    parsed.quotable = quote
    return Loaded(parsed)


def redact(found: list[Diagnostic], documents: dict[str, Document]) -> list[Diagnostic]:
    """The findings, with those in a file whose text may not be shown (:attr:`Document.quotable`) saying
    what rule they break and where, but nothing of the file: a rule's message may quote a line."""
    hidden = {path: doc for path, doc in documents.items() if not doc.quotable}
    if not hidden:
        return found
    from dataclasses import replace

    from flyconf.sources.compose import ComposeFile
    from flyconf.sources.dockerfile import Dockerfile

    out = []
    for d in found:
        doc = hidden.get(d.path)
        if doc is not None:
            rule = registry.get(d.code)
            what = ("a Dockerfile" if isinstance(doc, Dockerfile) else "a Compose file" if isinstance(doc, ComposeFile)
                    else "a configuration file")
            d = replace(d, message=f"{rule.summary if rule else d.rule} (details not shown: "
                                   f"`{posixpath.basename(d.path)}` is not the name of {what}, and its text may be "
                                   "private)", hint=None)
        out.append(d)
    return out


_KIND_NAMES = {FLYTOML: "a fly.toml", DOCKERFILE: "a Dockerfile", COMPOSE: "a Compose file", SCRIPT: "a shell script",
               CONFIG: "configuration"}


def failure_diagnostic(failure: ReadFailure, shown: str, kind: str, text: str = "", *,
                       quote: bool = True) -> Diagnostic:
    """The finding of a file that cannot be read or parsed. Unless ``quote``, the message says where
    the fault is but nothing of the file's text (a parser's message may quote it)."""
    if not quote and failure.rule != "io-error":
        what = _KIND_NAMES.get(kind, "a " + kind)
        failure = ReadFailure(failure.rule, f"does not read as {what} (at line {failure.line}, column "
                                            f"{failure.column}); its text is not shown, since "
                                            f"`{posixpath.basename(shown)}` is not the name of {what}",
                              failure.line, failure.column)
    if failure.rule == "io-error":
        name = "io-error"
    else:
        syntax = {FLYTOML: "toml-syntax", DOCKERFILE: "dockerfile-syntax", COMPOSE: "compose-syntax"}
        name = syntax.get(kind, "io-error")
    rule = registry.get(name)
    assert rule is not None, name
    return rule.diagnostic(Document(display_path=shown, text=text), (failure.line, failure.column), failure.message,
                           hint=failure.hint)


# -- the Dockerfile of a fly.toml ------------------------------------------------------------

@dataclass(frozen=True)
class BuildSource:
    """What `fly deploy` builds for a fly.toml, as far as the files can tell.

    ``path``: the local Dockerfile (existing or not); ``named``: `[build] dockerfile` names it;
    ``remote``: a Dockerfile URL flyctl fetches; ``invalid_url``: a value flyctl refuses as a URL.
    """

    path: Path | None
    named: bool = False
    remote: str | None = None
    invalid_url: bool = False


def build_source(flytoml_data: dict[str, Any], directory: Path) -> BuildSource:
    """The Dockerfile a fly.toml builds, resolved as flyctl resolves it.

    A pre-built `[build] image` is deployed as it is, and a buildpack `builder` runs before the
    Dockerfile builder (superfly/flyctl internal/command/deploy/deploy_build.go `determineImage`,
    internal/build/imgsrc/resolver.go `BuildImage`): no Dockerfile then. `[build] dockerfile` is
    joined to fly.toml's directory with Go's filepath.Join (`resolveDockerfilePath`), so a leading
    slash does not make it absolute: "/other/Dockerfile" is other/Dockerfile beside fly.toml. An
    http(s) URL is fetched by flyctl; a value that only starts like one is an error there. Without
    a name, flyctl takes `Dockerfile`, then `dockerfile` (imgsrc/docker.go `ResolveDockerfile`).
    """
    from flyconf import dockerfileurl

    build = flytoml_data.get("build")
    build = build if isinstance(build, dict) else {}

    def given(key: str) -> bool:
        return isinstance(build.get(key), str) and bool(build.get(key))

    if given("image") or given("builder") or (isinstance(build.get("buildpacks"), list) and build["buildpacks"]):
        return BuildSource(None)
    named = build.get("dockerfile")
    if isinstance(named, str) and named:
        if dockerfileurl.is_url(named):
            return BuildSource(None, named=True, remote=named)
        if dockerfileurl.looks_like_url(named):
            return BuildSource(None, named=True, invalid_url=True)
        return BuildSource(go_join(directory, named), named=True)
    if given("builtin"):
        return BuildSource(None)
    default = directory / "Dockerfile"
    if not is_regular_file(default) and is_regular_file(directory / "dockerfile"):
        default = directory / "dockerfile"
    return BuildSource(default)


def go_join(directory: Path, name: str) -> Path:
    """Go's filepath.Join(directory, name): every element relative, the result cleaned lexically."""
    return Path(posixpath.normpath(posixpath.join(str(directory), name.lstrip("/"))))


def dockerfile_of(flytoml_data: dict[str, Any], directory: Path) -> tuple[Path | None, bool]:
    """The local Dockerfile a fly.toml builds, and whether fly.toml names it explicitly."""
    source = build_source(flytoml_data, directory)
    return source.path, source.named


# -- start scripts -----------------------------------------------------------------------------

def script_candidates(argv: list[str]) -> list[str]:
    """Paths in a start command that may be shell scripts: the program, or what a wrapper or shell runs."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        base = posixpath.basename(word)
        if base in _WRAPPERS or word == "--":
            i += 1
            while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
                i += 1
            continue
        if base == "litefs":
            # `litefs mount -- cmd...`: the command after `--`
            if "--" in argv[i:]:
                i = argv.index("--", i) + 1
                continue
            return out
        if base in _SHELLS:
            rest = argv[i + 1 :]
            if "-c" in rest:
                j = rest.index("-c")
                if j + 1 < len(rest):
                    try:
                        inner = shsplit.split(rest[j + 1])
                    except ValueError:
                        inner = rest[j + 1].split()
                    if inner:
                        out.append(inner[0] if inner[0] != "exec" or len(inner) < 2 else inner[1])
                return out
            args = [a for a in rest if not a.startswith("-")]
            if args:
                out.append(args[0])
            return out
        out.append(word)
        return out
    return out


def resolve_in_context(df: Any, image: Any, image_path: str, context: Path, depth: int = 0) -> Path | None:
    """The build-context file that COPY/ADD put at ``image_path`` in the image, if any.

    Follows `COPY --from=<stage>` into the stage it copies from (multi-stage builds copy the
    app from a build stage); heredoc COPYs and COPYs from other images are not files of the context.
    """
    from flyconf.sources.dockerfile import process_word

    workdir = image.workdir[0] if image.workdir else "/"
    target = posixpath.normpath(posixpath.join(workdir, image_path))
    env = {k: v for k, (v, _ins) in image.env.items()}
    for ins, at_workdir in reversed(image.copies):
        if not ins.value or ins.heredocs or len(ins.value) < 2:
            continue
        *raw_sources, raw_dest = ins.value
        sources = [process_word(src, env) for src in raw_sources]
        dest = process_word(raw_dest, env)
        dest_abs = posixpath.normpath(posixpath.join(at_workdir or "/", dest))
        dir_like = dest.endswith("/") or len(sources) > 1 or dest in (".", "./")
        stage = ins.flag("from")
        for src in sources:
            if stage is not None:
                source_image = df.effective(stage) if df.stage_named(stage) is not None else None
                if source_image is None or depth > 5:
                    continue
                if target == dest_abs or target.startswith(dest_abs.rstrip("/") + "/"):
                    inner = posixpath.join(src, posixpath.relpath(target, dest_abs)) if target != dest_abs else src
                    found = resolve_in_context(df, source_image, inner, context, depth + 1)
                    if found is not None:
                        return found
                continue
            src_path = context / src
            if src in (".", "./") or src.endswith("/") or is_directory(src_path):
                if target == dest_abs or target.startswith(dest_abs.rstrip("/") + "/"):
                    candidate = src_path / posixpath.relpath(target, dest_abs)
                    if is_regular_file(candidate):
                        return candidate
                continue
            if dir_like and target == posixpath.join(dest_abs, posixpath.basename(src)):
                return src_path if is_regular_file(src_path) else None
            if not dir_like and target == dest_abs:
                return src_path if is_regular_file(src_path) else None
    return None


def looks_like_shell(path: Path) -> bool:
    if path.suffix in (".sh", ".bash"):
        return True
    head = read_bytes(path, head=200)
    if isinstance(head, ReadFailure):
        return False
    first = head.split(b"\n", 1)[0]
    return first.startswith(b"#!") and any(s in first for s in (b"sh", b"bash", b"dash", b"ash"))


def _script_like(path: str) -> bool:
    """A start command's program that is probably a script of the app (so what it runs is unknown)."""
    base = posixpath.basename(path)
    return base.endswith((".sh", ".bash")) or any(w in base for w in ("entrypoint", "start", "run", "boot", "init"))


def attach_scripts(app: App, ws: Workspace, findings: list[Diagnostic]) -> None:
    """Read the shell scripts the image runs (ENTRYPOINT, CMD, [processes] commands)."""
    if app.image is None or app.directory is None:
        return
    argvs: list[list[str]] = []
    for ins in (app.image.entrypoint, app.image.cmd):
        if ins is not None:
            argvs.append(ins.argv())
    argvs.extend(app.process_argv.values())
    seen: set[Path] = set()
    # COPY copies a symbolic link as a link: a script that leads out of the build context is not the
    # image's file, and is not read.
    context = real_path(app.directory)
    for argv in argvs:
        for candidate in script_candidates(argv):
            found = resolve_in_context(app.dockerfile, app.image, candidate, app.directory)
            if found is None and _script_like(candidate):
                app.unread_scripts.append(candidate)
            if found is not None:
                names = app.script_paths.setdefault(str(found), ())
                if candidate not in names:
                    app.script_paths[str(found)] = names + (candidate,)
            if found is not None and not inside(found, context):
                if candidate not in app.unread_scripts:
                    app.unread_scripts.append(candidate)
                continue
            if found is None or real_path(found) in seen or not looks_like_shell(found):
                continue
            seen.add(real_path(found))
            loaded = ws.load(found, SCRIPT)
            findings.extend(loaded.findings)
            if loaded.doc is not None:
                app.scripts.append(loaded.doc)


# -- assembling an App -----------------------------------------------------------------------

def app_for(flytoml: FlyToml, path: Path, ws: Workspace) -> tuple[App, list[Diagnostic]]:
    """The App of a fly.toml: its Dockerfile (or a finding that it is missing) and its scripts.

    Assembled once per document and workspace: later calls get the same App (and its findings).
    """
    known = ws._apps.get(id(flytoml))
    if known is not None and known[0] is flytoml:
        return known[1], list(known[2])
    app, findings = _assemble(flytoml, path, ws)
    ws._apps[id(flytoml)] = (flytoml, app, findings)
    return app, list(findings)


def _assemble(flytoml: FlyToml, path: Path, ws: Workspace) -> tuple[App, list[Diagnostic]]:
    from flyconf.rules.dockerfile import DOCKERFILE_MISSING
    from flyconf.rules.files import IO_ERROR

    findings: list[Diagnostic] = []
    directory = path.parent
    data = flytoml.data
    source = build_source(data, directory)
    dockerfile = None
    # (A malformed URL needs no files: rules/dockerfile.py `check_dockerfile_url` reports it.)
    if source.path is not None:
        root = project_root(directory)
        if source.named and not inside(source.path, root):
            # Never read: a Dockerfile named out of the project (`../../.netrc`, a link to /etc/shadow).
            findings.append(IO_ERROR.diagnostic(
                flytoml, flytoml.value_span(("build", "dockerfile")),
                f"`[build] dockerfile` names {data['build']['dockerfile']}, which leads outside {root}: "
                "flyconf reads no file outside the project, so the Dockerfile is not checked",
                hint="keep the Dockerfile inside the project (the git repository of fly.toml, else its directory)",
            ))
        elif lexists(source.path) and not is_directory(source.path):  # a FIFO or a loop of links: a finding
            loaded = ws.load(source.path, DOCKERFILE, within=root)
            findings.extend(loaded.findings)
            dockerfile = loaded.doc
        elif source.named:
            named_path = data["build"]["dockerfile"]
            leading = named_path.startswith("/")
            where = display(source.path)
            findings.append(DOCKERFILE_MISSING.diagnostic(
                flytoml, flytoml.value_span(("build", "dockerfile")),
                f"`[build] dockerfile` names {named_path}, which does not exist: flyctl looks for {where}"
                + (f" (a leading `/` is still relative to the directory of {path.name})" if leading
                   else f" (paths are relative to the directory of {path.name})"),
                hint="fix the path, or remove the key to use ./Dockerfile",
            ))
    app = App(flytoml, directory=directory, dockerfile=dockerfile)
    app.remote_dockerfile = source.remote  # fetched by flyctl at deploy: the image checks are skipped
    app.read_document = ws.reader(directory)
    attach_scripts(app, ws, findings)
    return app, findings


def sibling_app(path: Path, dockerfile: Document, ws: Workspace) -> App:
    """The App of a Dockerfile linted on its own: the fly.toml beside it when that builds it."""
    from flyconf.sources.flytoml import FlyToml

    flytoml_path = path.parent / "fly.toml"
    if is_regular_file(flytoml_path):
        loaded = ws.load(flytoml_path, FLYTOML)
        if isinstance(loaded.doc, FlyToml):
            built, _named = dockerfile_of(loaded.doc.data, path.parent)
            if built is not None and real_path(built) == real_path(path):
                return app_for(loaded.doc, flytoml_path, ws)[0]  # the Dockerfile comes from ws's cache
    app = App(None, directory=path.parent, dockerfile=dockerfile)
    app.read_document = ws.reader(path.parent)
    attach_scripts(app, ws, [])
    return app


def load_app(path: str | Path, ws: Workspace | None = None) -> tuple[App | None, list[Diagnostic]]:
    """The App of a fly.toml (or of the fly.toml in a directory), with the findings of reading it.

    None when the file cannot be read or parsed (the findings say why).
    """
    from flyconf.sources.flytoml import FlyToml

    ws = ws or Workspace()
    path = Path(path)
    if is_directory(path):
        path = path / "fly.toml"
    loaded = ws.load(path, FLYTOML)
    if not isinstance(loaded.doc, FlyToml):
        return None, list(loaded.findings)
    app, findings = app_for(loaded.doc, path, ws)
    return app, list(loaded.findings) + findings
