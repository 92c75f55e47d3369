"""Library entry points for `flyconf inspect` and `flyconf generate entrypoint` (linting is flyconf.lint, fixing
flyconf.generate.fix).

Each returns a value and never prints or exits. ``import flyconf`` loads none of this until a name is used
(see ``flyconf/__init__.py``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from flyconf.generate.entrypoint import EntrypointOptions

__all__ = ["generate_entrypoint", "inspect"]


def inspect(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (".",)) -> dict[str, Any]:
    """What flyconf understood of every app under ``paths`` (fly.toml files or directories), as data.

    The same object as `flyconf inspect --format json` (its shape is documented in README.md): ``version``,
    ``apps`` (the build, process groups, databases with where they are declared and whether they are on a
    volume, LiteFS, Litestream, migrations) and ``problems`` (files that could not be read).
    """
    from flyconf.inspection import inspect_paths

    return inspect_paths(paths)


def generate_entrypoint(options: "EntrypointOptions") -> str:
    """The start-up wrapper (a POSIX sh script) for ``options``; raises ValueError for options that cannot work."""
    from flyconf.generate.entrypoint import render_entrypoint

    return render_entrypoint(options)
