"""The reader context of an App: its build context on disk, its environment, its image."""

from __future__ import annotations

import fnmatch
import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from flyconf.databases.model import EnvVar, Location, StartCommand, normpath
from flyconf.sources.base import (
    Document,
    ReadFailure,
    display,
    inside,
    is_directory,
    is_regular_file,
    read_text,
    real_path,
)

if TYPE_CHECKING:
    from flyconf.app import App

# Never searched for configuration: dependencies, build output, tool state.
_SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", "vendor", "_build", "deps",
    "bower_components", ".next", ".nuxt", ".svelte-kit", "dist", "build", "target", "tmp", "log", "coverage",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "public", "priv/static", "storage",
})
_GLOB_LIMIT = 4000  # files visited per glob: a huge tree is not configuration
_ORIGINS = {"fly.toml": "fly.toml [env]", "Dockerfile": "Dockerfile ENV"}  # else as written (a Compose file)


def read_plain(path: Path) -> Document | None:
    """A file as a plain Document (no workspace): None when absent, unreadable or not text."""
    text = read_text(path)
    if isinstance(text, ReadFailure):
        return None
    return Document(display_path=display(path), text=text, fs_path=path)


class AppContext:
    """:class:`flyconf.databases.model.Context` for an App."""

    def __init__(self, app: "App", read: Callable[[Path], Document | None] | None = None) -> None:
        self._app = app
        self._read = read or read_plain
        self._docs: dict[str, Document | None] = {}
        self._env: dict[str, EnvVar] | None = None
        self._image_paths: dict[str, str | None] = {}
        self._context_files: dict[str, str | None] = {}

    @property
    def root(self) -> Path | None:
        return self._app.directory

    @property
    def workdir(self) -> str | None:
        return self._app.workdir

    @property
    def env(self) -> Mapping[str, EnvVar]:
        if self._env is None:
            out: dict[str, EnvVar] = {}
            for name, value in self._app.env.items():
                at: Location | None = None
                try:
                    doc, span = self._app.where(value)
                    if doc is not None and span is not None:
                        at = Location(doc, span)
                except (AssertionError, ValueError):  # pragma: no cover - a value without a document
                    at = None
                origin = _ORIGINS.get(value.origin, value.origin)
                if value.path and value.path[0] == "primary_region":
                    origin = "fly.toml primary_region"
                out[name] = EnvVar(name, value.value, at, origin)
            self._env = out
        return self._env

    def _path(self, rel: str) -> Path | None:
        if self.root is None:
            return None
        rel = rel.lstrip("/")
        norm = posixpath.normpath(rel)
        if norm.startswith(".."):
            return None  # readers look inside the build context only
        return self.root / norm

    def read(self, rel: str) -> Document | None:
        key = posixpath.normpath(rel.lstrip("/"))
        if key not in self._docs:
            path = self._path(key)
            self._docs[key] = self._read(path) if path is not None and self._readable(path) else None
        return self._docs[key]

    def _readable(self, path: Path) -> bool:
        """A regular file whose real path is in the build context (a link out of it is not the image's file)."""
        return self.root is not None and is_regular_file(path) and inside(path, real_path(self.root))

    def exists(self, rel: str) -> bool:
        path = self._path(rel)
        return path is not None and self._readable(path)

    def glob(self, pattern: str) -> list[str]:
        if self.root is None:
            return []
        root = self.root
        out: list[str] = []
        visited = 0
        for dirpath, dirnames, filenames in os.walk(root):
            relative_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            relative_dir = "" if relative_dir == "." else relative_dir
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS
                                 and (f"{relative_dir}/{d}".lstrip("/")) not in _SKIP_DIRS
                                 and not os.path.islink(os.path.join(dirpath, d)))
            for name in filenames:
                visited += 1
                rel = f"{relative_dir}/{name}" if relative_dir else name
                if fnmatch.fnmatchcase(rel, pattern):
                    out.append(rel)
            if visited > _GLOB_LIMIT:
                break
        return sorted(out)

    def image_path(self, rel: str) -> str | None:
        app = self._app
        if app.dockerfile is None or app.image is None:
            return None
        rel = posixpath.normpath(rel.lstrip("/"))
        if rel not in self._image_paths:
            ignored = rel != "." and self.dockerignored(rel) is not None
            self._image_paths[rel] = None if ignored else image_path_of(app.dockerfile, app.image, rel, self.root)
        return self._image_paths[rel]

    def _ignore_file(self) -> Document | None:
        """BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile first, else the context's."""
        df = self._app.dockerfile
        if df is not None and df.fs_path is not None and self.root is not None:
            specific = df.fs_path.with_name(df.fs_path.name + ".dockerignore")
            try:
                rel = real_path(specific).relative_to(real_path(self.root)).as_posix()
            except ValueError:
                rel = None
            if rel is not None and self.read(rel) is not None:
                return self.read(rel)
        return self.read(".dockerignore")

    def dockerignored(self, rel: str) -> Location | None:
        from flyconf.sources.dockerignore import matching_line

        doc = self._ignore_file()
        if doc is None:
            return None
        found = matching_line(doc.text, rel)
        if found is None:
            return None
        from flyconf.diagnostics import Span

        line, start, end = found
        return Location(doc, Span(line, start, line, end))

    def context_file(self, image_path: str) -> str | None:
        if image_path not in self._context_files:
            self._context_files[image_path] = self._context_file(image_path)
        return self._context_files[image_path]

    def _context_file(self, image_path: str) -> str | None:
        app = self._app
        if app.dockerfile is None or app.image is None or self.root is None:
            return None
        from flyconf.assemble import resolve_in_context

        found = resolve_in_context(app.dockerfile, app.image, image_path, self.root)
        if found is None:
            return None
        try:
            return real_path(found).relative_to(real_path(self.root)).as_posix()
        except ValueError:
            return None

    def text_document(self, display: str, text: str) -> Document:
        return Document(display_path=display, text=text)

    @property
    def dockerfile(self) -> Document | None:
        df: Document | None = self._app.dockerfile
        return df

    def run_instructions(self) -> list[tuple[str, Location]]:
        app = self._app
        if app.dockerfile is None or app.image is None:
            return []
        df = app.dockerfile
        return [(" ".join(ins.value) if ins.json else ins.shell_text, Location(df, df.instruction_span(ins)))
                for ins in app.image.runs]

    def start_commands(self) -> list[StartCommand]:
        app = self._app
        image = app.image
        entry: list[str] = image.entrypoint.argv() if image is not None and image.entrypoint is not None else []
        cmd: list[str] = image.cmd.argv() if image is not None and image.cmd is not None else []
        cmd_at = None
        if image is not None and app.dockerfile is not None:
            ins = image.cmd or image.entrypoint
            if ins is not None:
                cmd_at = Location(app.dockerfile, app.dockerfile.instruction_span(ins))
        out: list[StartCommand] = []
        for group in app.groups:
            argv = app.process_argv.get(group)
            if argv is not None and app.flytoml is not None:
                _command, path = app.process_commands[group]
                out.append(StartCommand(group, tuple(entry + argv), Location(app.flytoml, app.flytoml.value_span(path)),
                                        tuple(entry)))
            elif entry or cmd:
                out.append(StartCommand(group, tuple(entry + cmd), cmd_at, tuple(entry)))
        return out


def image_path_of(df: Any, image: Any, rel: str, context: Path | None, depth: int = 0) -> str | None:
    """Where build-context file ``rel`` lands in the image built from ``image`` (an Effective).

    The last COPY/ADD that copies it decides. `COPY --from=<stage>` is followed into that stage;
    copies from other images and heredoc COPYs are not files of the build context.
    """
    from flyconf.sources.dockerfile import process_word

    env = {k: v for k, (v, _ins) in image.env.items()}
    for ins, at_workdir in reversed(image.copies):
        if not ins.value or ins.heredocs or len(ins.value) < 2:
            continue
        *raw_sources, raw_dest = ins.value
        sources = [process_word(src, env) for src in raw_sources]
        dest = process_word(raw_dest, env)
        dest_abs = normpath(posixpath.join(at_workdir or "/", dest))
        dir_like = dest.endswith("/") or len(sources) > 1 or dest in (".", "./")
        stage = ins.flag("from")
        for src in sources:
            if stage is not None:
                if depth > 5 or df.stage_named(stage) is None:
                    continue
                inner = image_path_of(df, df.effective(stage), rel, context, depth + 1)
                if inner is None:
                    continue
                found = _map(inner, normpath("/" + src.lstrip("/")), dest_abs, dir_like,
                             src.endswith("/") or not _looks_like_file(src))
                if found is not None:
                    return found
                continue
            src_rel = posixpath.normpath(src.lstrip("/")) if src not in ("", "/") else "."
            is_dir = src_rel == "." or src.endswith("/") or (context is not None and is_directory(context / src_rel))
            if any(ch in src_rel for ch in "*?["):
                if fnmatch.fnmatchcase(rel, src_rel) or fnmatch.fnmatchcase(rel.split("/", 1)[0], src_rel):
                    head = rel if fnmatch.fnmatchcase(rel, src_rel) else rel.split("/", 1)[0]
                    tail = rel[len(head):].lstrip("/")
                    base = posixpath.join(dest_abs, posixpath.basename(head))
                    return normpath(posixpath.join(base, tail)) if tail else normpath(base)
                continue
            found = _map("/" + rel if rel != "." else "/", "/" + src_rel if src_rel != "." else "/", dest_abs,
                         dir_like, is_dir)
            if found is not None:
                return found
    return None


def _looks_like_file(src: str) -> bool:
    return "." in posixpath.basename(src.rstrip("/"))


def _map(path: str, src: str, dest: str, dir_like: bool, src_is_dir: bool) -> str | None:
    """``path`` (absolute in the source tree) copied by `COPY src dest`: its absolute path at the destination."""
    path, src = normpath(path), normpath(src)
    if src_is_dir:
        if path == src:
            return dest
        prefix = src.rstrip("/") + "/"
        if path.startswith(prefix) or src == "/":
            return normpath(posixpath.join(dest, posixpath.relpath(path, src)))
        return None
    if path != src:
        return None
    return normpath(posixpath.join(dest, posixpath.basename(src))) if dir_like else dest
