"""YAML read as a node tree with positions, with libyaml when PyYAML has it.

PyYAML's C loader (CSafeLoader) gives the same start and end marks on every scalar and the same
start marks on collections as the pure-Python SafeLoader (checked on every YAML file of the shared
corpus), about ten times faster; a document it rejects is read again by the Python loader, whose
error messages are clearer. Only the safe loaders are used: no tags construct objects.
"""

from __future__ import annotations

from typing import Any


def compose(text: str) -> Any:
    """The document's root node (None for an empty document); raises yaml.YAMLError on bad YAML."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.compose(text, Loader=loader)
        except yaml.YAMLError:
            pass  # read it again below: the pure-Python loader's messages say more ("expected <block end>...")
    return yaml.compose(text, Loader=yaml.SafeLoader)
