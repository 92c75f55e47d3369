"""Which files to lint: explicit paths and recursive directory search.

A directory walk skips dependency and tool folders, respects `.gitignore` inside a git repository
(as ruff does: nested files, negation, directory patterns, `.git/info/exclude`), never follows a
symbolic link out of the directory it was given, and never raises: what it does not enter is
reported as a note.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from flyconf.sources.base import ReadFailure, exists, is_directory, read_bytes, real_path, split_lines

# Directories that hold dependencies, build output or tool state, never an app's own config.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".direnv", "vendor", "_build", "deps",
    "bower_components", ".terraform", ".next", ".nuxt", ".svelte-kit",
})

FLYTOML = "flytoml"
DOCKERFILE = "dockerfile"
COMPOSE = "compose"

# Extensions of source code, documents, templates and data: `dockerfile.py`, `Dockerfile.rst` or
# `Dockerfile.j2` are a program, a document or a template about Dockerfiles, not one.
NOT_DOCKERFILE_EXTENSIONS = frozenset("""
    py pyi pyc pyx go rs js mjs cjs ts mts cts tsx jsx rb erb java kt kts scala groovy gradle c h cc cpp cxx hpp
    cs fs vb php swift mm dart lua pl pm jl ex exs erl hrl hs ml mli clj cljs elm nim zig sol vue svelte
    astro sh bash zsh fish ps1 psm1 bat cmd awk sed
    md markdown mdx rst txt text adoc asciidoc org tex html htm xhtml pdf rtf
    json jsonc json5 yaml yml toml xml ini cfg conf properties env csv tsv lock sum mod
    j2 jinja jinja2 tmpl tpl template tt mustache hbs handlebars ejs liquid njk twig eex heex slim haml pug in
    dockerignore gitignore bak orig old swp tmp patch diff log snap example sample dist
""".split())


def kind_of(name: str, *, explicit: bool) -> str | None:
    """The kind of a file by its name, or None if flyconf does not lint it.

    Found in a directory, ``fly.toml``, ``fly.*.toml`` and ``fly-*.toml``
    (``fly-production.toml`` is a common spelling) and Dockerfiles count; named
    explicitly, any ``.toml`` file is taken as a fly.toml.
    """
    base = os.path.basename(name)
    if base == "fly.toml" or fnmatch.fnmatchcase(base, "fly.*.toml") or fnmatch.fnmatchcase(base, "fly-*.toml"):
        return FLYTOML
    if explicit and base.endswith(".toml"):
        return FLYTOML
    if is_dockerfile_name(base):
        return DOCKERFILE
    from flyconf.compose.names import is_compose_name

    if is_compose_name(base, explicit=explicit):
        return COMPOSE
    return None


def is_dockerfile_name(base: str) -> bool:
    """`Dockerfile`, `Dockerfile.<variant>`, `<variant>.Dockerfile`, `Containerfile` and `Containerfile.<variant>`,
    where the variant is not a code or document extension (`dockerfile.py`, `Dockerfile.md` are not Dockerfiles)."""
    low = base.lower()
    for stem in ("dockerfile", "containerfile"):
        if low == stem:
            return True
        if low.startswith(stem + ".") and len(low) > len(stem) + 1:
            return low.rsplit(".", 1)[1] not in NOT_DOCKERFILE_EXTENSIONS
        if low.endswith("." + stem) and len(low) > len(stem) + 1:
            return True
    return False


@dataclass(frozen=True)
class Target:
    path: Path
    kind: str | None  # None: named explicitly but not something flyconf lints


@dataclass(frozen=True)
class Skipped:
    """A path the directory walk did not enter, and why."""

    path: Path
    reason: str


def discover(paths: Iterable[str | os.PathLike[str]], notes: list[Skipped] | None = None,
             exclude: Callable[[Path, bool], bool] | None = None) -> Iterator[Target]:
    """Files to lint, in a stable order. Missing paths are yielded so the caller can report them.

    What a walk skips for a reason the user should know (a symbolic link loop or out of the
    directory, an unreadable directory) is appended to ``notes``. ``exclude(path, is_dir)``, when
    given, decides what a walk skips instead of :data:`SKIP_DIRS` (the configuration's `exclude`).
    """
    seen: set[Path] = set()
    sink = notes if notes is not None else []
    for raw in paths:
        path = Path(raw)
        if is_directory(path):
            for found in _walk(path, sink, exclude):
                key = real_path(found)
                if key not in seen:
                    seen.add(key)
                    yield Target(found, kind_of(found.name, explicit=False))
        else:
            key = real_path(path) if exists(path) else path
            if key not in seen:
                seen.add(key)
                yield Target(path, kind_of(path.name, explicit=True))


def _walk(root: Path, notes: list[Skipped], exclude: Callable[[Path, bool], bool] | None = None) -> Iterator[Path]:
    top = real_path(root)
    repo = _repository(top)
    # The ignore rules in force in each directory walked; None outside a git repository (ruff, like
    # git itself, reads .gitignore files only inside one).
    in_force: dict[str, list[IgnoreRule] | None] = {}

    def onerror(err: OSError) -> None:
        if err.filename:
            notes.append(Skipped(Path(err.filename), f"cannot read it ({err.strerror or err}): skipped"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        here = Path(dirpath)
        if dirpath == str(root):
            active = _outer_rules(repo, top) if repo is not None else None
        else:
            active = in_force.get(os.path.dirname(dirpath))
        if exists(here / ".git"):
            active = _info_exclude(real_path(here))  # a repository of its own: its ignore files start here
        if active is not None and ".gitignore" in filenames:
            active = active + read_gitignore(here / ".gitignore")
        in_force[dirpath] = active
        kept_dirs = []
        for d in sorted(dirnames):
            full = here / d
            if (exclude(full, True) if exclude is not None else d in SKIP_DIRS) or exists(full / "pyvenv.cfg"):
                continue  # a directory with pyvenv.cfg is a Python virtual environment, whatever its name
            if full.is_symlink():
                reason = _link_problem(full, top)
                if reason is not None:
                    notes.append(Skipped(full, reason))
                continue  # links are not followed; a directory inside is walked by its own path
            if active and _ignored(full, True, active):
                continue
            kept_dirs.append(d)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            if not kind_of(name, explicit=False):
                continue
            full = here / name
            if active and _ignored(full, False, active):
                continue
            if exclude is not None and exclude(full, False):
                continue
            if full.is_symlink():
                reason = _link_problem(full, top)
                if reason is not None:
                    notes.append(Skipped(full, reason))
                    continue
            yield full


def _link_problem(link: Path, top: Path) -> str | None:
    """Why a symbolic link is not followed, or None when it points inside the walked directory."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # a loop of links, or a missing target
        return "a symbolic link that loops or points nowhere: not followed"
    parent = real_path(link.parent)
    if target == parent or target in parent.parents or target == top.parent or target in top.parents:
        return f"a symbolic link to {target}, which contains it (a loop): not followed"
    if target != top and top not in target.parents:
        return f"a symbolic link to {target}, outside {top}: not followed"
    return None


# -- .gitignore ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IgnoreRule:
    """One pattern of an ignore file: where it applies (``base``, absolute) and what it matches."""

    base: Path
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _repository(start: Path) -> Path | None:
    """The root of the git repository that holds ``start`` (a directory with `.git`), if any."""
    for directory in (start, *start.parents):
        if exists(directory / ".git"):
            return directory
    return None


def _info_exclude(repo: Path) -> list[IgnoreRule]:
    """`.git/info/exclude`: the repository's own ignore patterns, applying from its root."""
    return read_gitignore(repo / ".git" / "info" / "exclude", repo)


def _outer_rules(repo: Path, top: Path) -> list[IgnoreRule]:
    """The rules that reach ``top`` from above: the repository's, then each `.gitignore` from the
    repository's root down to ``top``'s parent (deeper files are read later, so they win)."""
    out = _info_exclude(repo)
    above = [d for d in top.parents if d == repo or repo in d.parents]
    for directory in reversed(above):
        out = out + read_gitignore(directory / ".gitignore")
    return out


def read_gitignore(path: Path, base: Path | None = None) -> list[IgnoreRule]:
    """The rules of one ignore file (empty when it is missing or unreadable); they apply below ``base``,
    by default the file's own directory."""
    data = read_bytes(path)  # a FIFO or a device named .gitignore must not hang or fill the walk
    if isinstance(data, ReadFailure):
        return []
    text = data.decode("utf-8", errors="replace")
    where = real_path(base if base is not None else path.parent)
    # Git reads an ignore file line by line at "\n" (a "\f" or U+2028 is part of a pattern).
    return [rule for line in split_lines(text) if (rule := parse_pattern(line, where)) is not None]


def parse_pattern(line: str, base: Path) -> IgnoreRule | None:
    """One line of a .gitignore file, as git reads it (gitignore(5)); None for blank lines and comments."""
    if line.endswith("\r"):
        line = line[:-1]
    # Trailing spaces are dropped unless escaped with a backslash.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(line) > len(stripped):
        stripped += " "
    line = stripped
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    if dir_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line  # a slash at the start or in the middle ties it to the file's directory
    line = line.lstrip("/") if line.startswith("/") else line
    body = _translate(line)
    regex = body if anchored else r"(?:.*/)?" + body
    return IgnoreRule(base, re.compile(regex, re.DOTALL), negated, dir_only)


def _translate(pattern: str) -> str:
    """A gitignore glob as a regular expression over a `/`-separated relative path."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                before = i == 0 or pattern[i - 1] == "/"
                after = i + 2 == n or pattern[i + 2] == "/"
                if before and after:
                    if i + 2 == n:
                        out.append(".*")  # `foo/**`: everything inside
                        i += 2
                    else:
                        out.append("(?:.*/)?")  # `**/` : zero or more directories
                        i += 3
                    continue
                while i < n and pattern[i] == "*":
                    i += 1
                out.append("[^/]*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))  # an unclosed bracket is a literal
            else:
                inner = pattern[i + 1 : j]
                negate = inner[:1] in ("!", "^")
                inner = inner[1:] if negate else inner
                inner = inner.replace("\\", "\\\\")
                out.append(f"[{'^/' if negate else ''}{inner}]" if not negate else f"[^/{inner}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _ignored(path: Path, is_dir: bool, rules: list[IgnoreRule]) -> bool:
    """Whether the last rule that matches ``path`` ignores it (rules come in the order git reads them)."""
    ignored = False
    real = real_path(path.parent) / path.name
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        try:
            rel = real.relative_to(rule.base).as_posix()
        except ValueError:
            continue
        if rel in ("", ".") or not rule.regex.fullmatch(rel):
            continue
        ignored = not rule.negated
    return ignored
