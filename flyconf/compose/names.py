"""Which file names are Compose files, and how Compose groups them into a project.

Compose looks, in a directory, for the first of `compose.yaml`, `compose.yml`,
`docker-compose.yml`, `docker-compose.yaml` and merges the first of the override names into it
(compose-spec/compose-go cli/options.go, DefaultFileNames and DefaultOverrideFileNames). Any other
file is used only when named with `-f`: flyconf lints a `docker-compose.prod.yml` or a
`compose.dev.yaml` as a project of its own, as `docker compose -f docker-compose.prod.yml` loads it.
"""

from __future__ import annotations

import re

BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")
_VARIANT = re.compile(r"^(?:docker-)?compose\.(?P<label>[^/]+)\.ya?ml$")
_NAMED = re.compile(r"^(?:[^/]*[-_.])?(?:docker-)?compose(?:[-_.][^/]*)?\.ya?ml$", re.I)

# A variant's label that says the file is for production, or for anything but.
PRODUCTION_LABELS = frozenset({"prod", "production", "live", "release", "deploy"})


def is_compose_name(base: str, *, explicit: bool = False) -> bool:
    """A Compose file by its name: the default names, their overrides and `-f` variants
    (`docker-compose.prod.yml`, `compose.dev.yaml`); named explicitly, also any `*compose*.yml`
    (`dev-compose.yml`)."""
    if base in BASE_NAMES or base in OVERRIDE_NAMES or _VARIANT.match(base):
        return True
    return explicit and bool(_NAMED.match(base))


def label_of(base: str) -> str | None:
    """The `<name>` of `docker-compose.<name>.yml` / `compose.<name>.yaml` (None for the default names);
    for another explicitly named file, its name without the extension."""
    if base in BASE_NAMES:
        return None
    m = _VARIANT.match(base)
    if m is not None:
        return m.group("label").lower()
    return base.rsplit(".", 1)[0].lower()


def is_fragment(base: str) -> bool:
    """An override file: merged into a base file, never a project of its own."""
    if base in OVERRIDE_NAMES:
        return True
    label = label_of(base)
    return label is not None and "override" in label.split(".")
