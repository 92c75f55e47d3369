"""Shared test helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Tools installed with the test extras (pre-commit, shellcheck, hadolint) live beside this
# interpreter; make them findable even when the virtual environment is not activated.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

# A database reader that raises is a bug: in tests it fails loudly instead of becoming a note.
os.environ.setdefault("FLYCONF_STRICT_READERS", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
PEER = SHARED / "peer"


def needs_shared(path: Path) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not path.is_dir(), reason=f"{path} is absent (the shared corpus ships beside the repo)")


def at(diags, rule: str) -> list[tuple[int, int]]:
    """Positions of the findings of one rule, in order."""
    return [(d.line, d.column) for d in diags if d.rule == rule]


def rules_of(diags) -> list[str]:
    return [d.rule for d in diags]
