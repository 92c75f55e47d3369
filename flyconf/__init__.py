"""flyconf: lint fly.toml files with the Dockerfiles and start scripts they deploy.

Public API::

    from flyconf import lint_paths, lint_text, Diagnostic          # lint
    from flyconf import inspect                                    # what flyconf understood, as data
    from flyconf import plan_fixes, apply                          # `flyconf fix`
    from flyconf import generate_entrypoint, EntrypointOptions     # `flyconf generate entrypoint`

Every function returns a value; none prints or exits. Imports are lazy so that ``import flyconf`` and
``flyconf --version`` stay fast: a name's module is loaded when the name is first used.
"""

from __future__ import annotations

from flyconf._version import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: `--version` stays fast
if TYPE_CHECKING:
    from typing import Any

    from flyconf.api import generate_entrypoint, inspect
    from flyconf.diagnostics import Diagnostic, Severity, Span
    from flyconf.generate.entrypoint import EntrypointOptions
    from flyconf.generate.fix import FindingRef, FixPlan, Left, Outcome, PlannedEdit, apply, plan_fixes
    from flyconf.lint import lint_paths, lint_text

__all__ = [
    "Diagnostic",
    "EntrypointOptions",
    "FindingRef",
    "FixPlan",
    "Left",
    "Outcome",
    "PlannedEdit",
    "Severity",
    "Span",
    "__version__",
    "apply",
    "generate_entrypoint",
    "inspect",
    "lint_paths",
    "lint_text",
    "plan_fixes",
]

# Where each public name lives; the module is imported on first use.
_HOMES = {
    "Diagnostic": "flyconf.diagnostics",
    "Severity": "flyconf.diagnostics",
    "Span": "flyconf.diagnostics",
    "lint_paths": "flyconf.lint",
    "lint_text": "flyconf.lint",
    "inspect": "flyconf.api",
    "generate_entrypoint": "flyconf.api",
    "plan_fixes": "flyconf.generate.fix",
    "apply": "flyconf.generate.fix",
    "FixPlan": "flyconf.generate.fix",
    "PlannedEdit": "flyconf.generate.fix",
    "Outcome": "flyconf.generate.fix",
    "Left": "flyconf.generate.fix",
    "FindingRef": "flyconf.generate.fix",
    "EntrypointOptions": "flyconf.generate.entrypoint",
}


def __getattr__(name: str) -> "Any":
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'flyconf' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
