"""Which files to lint: explicit paths and recursive directory search."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

# Directories that hold dependencies, build output or tool state, never an app's own config.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".direnv", "vendor", "_build", "deps",
    "bower_components", ".terraform", ".next", ".nuxt", ".svelte-kit",
})

FLYTOML = "flytoml"
DOCKERFILE = "dockerfile"
COMPOSE = "compose"


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
    """`Dockerfile`, `Dockerfile.prod`, `prod.Dockerfile`, `Containerfile` (what pre-commit tags dockerfile)."""
    for stem in ("Dockerfile", "Containerfile", "dockerfile"):
        if base == stem or base.startswith(stem + ".") or base.endswith("." + stem):
            return not base.endswith((".md", ".txt", ".j2", ".tmpl", ".template", ".erb", ".ejs", ".dockerignore"))
    return False


@dataclass(frozen=True)
class Target:
    path: Path
    kind: str | None  # None: named explicitly but not something flyconf lints


def discover(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Target]:
    """Files to lint, in a stable order. Missing paths are yielded so the caller can report them."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path):
                key = found.resolve()
                if key not in seen:
                    seen.add(key)
                    yield Target(found, kind_of(found.name, explicit=False))
        else:
            key = path.resolve() if path.exists() else path
            if key not in seen:
                seen.add(key)
                yield Target(path, kind_of(path.name, explicit=True))


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        dirnames[:] = sorted(
            d for d in dirnames
            # A directory with pyvenv.cfg is a Python virtual environment, whatever its name.
            if d not in SKIP_DIRS and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        for name in sorted(filenames):
            if kind_of(name, explicit=False):
                yield Path(dirpath) / name
