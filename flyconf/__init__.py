"""flyconf: lint fly.toml files with the Dockerfiles and start scripts they deploy.

Public API::

    from flyconf import lint_paths, lint_text, Diagnostic

Both functions return lists of :class:`Diagnostic`; they never print or exit.
Imports are lazy so that ``flyconf --version`` and the lint path stay fast.
"""

from __future__ import annotations

from flyconf._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `--version` stays fast
if TYPE_CHECKING:
    from typing import Any

    from flyconf.diagnostics import Diagnostic, Severity, Span
    from flyconf.lint import lint_paths, lint_text

__all__ = ["Diagnostic", "Severity", "Span", "__version__", "lint_paths", "lint_text"]


def __getattr__(name: str) -> "Any":
    if name in ("Diagnostic", "Severity", "Span"):
        from flyconf import diagnostics

        return getattr(diagnostics, name)
    if name in ("lint_paths", "lint_text"):
        from flyconf import lint

        return getattr(lint, name)
    raise AttributeError(f"module 'flyconf' has no attribute {name!r}")
