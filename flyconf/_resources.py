"""Where the data files (JSON Schemas, Jinja templates) are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(kind: str) -> Path:
    """The ``schemas`` or ``templates`` directory.

    An installed wheel carries them inside the package (``flyconf/_data/<kind>``);
    a source checkout or an editable install has them at the top of the repository.
    """
    if kind not in ("schemas", "templates"):
        raise ValueError(f"unknown resource kind {kind!r}")
    packaged = _PACKAGE / "_data" / kind
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / kind
