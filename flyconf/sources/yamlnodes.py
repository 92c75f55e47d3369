"""YAML read as a node tree with positions, with libyaml when PyYAML has it.

PyYAML's C loader (CSafeLoader) gives the same start and end marks on every scalar and the same
start marks on collections as the pure-Python SafeLoader (checked on every YAML file of the shared
corpus), about ten times faster; a document it rejects is read again by the Python loader, whose
error messages are clearer. Only the safe loaders are used: no tags construct objects.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def compose(text: str) -> Any:
    """The document's root node (None for an empty document); raises yaml.YAMLError on bad YAML."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return without_surrogates(yaml.compose(text, Loader=loader))
        except yaml.YAMLError:
            pass  # read it again below: the pure-Python loader's messages say more ("expected <block end>...")
    return without_surrogates(yaml.compose(text, Loader=yaml.SafeLoader))


def without_surrogates(root: Any) -> Any:
    """The node tree with every lone surrogate in a scalar replaced by U+FFFD; returns ``root``.

    A double-quoted ``"\\ud800"`` gives PyYAML a lone surrogate, which no output can encode; Go's
    YAML reader (Docker Compose's) writes U+FFFD for it, and so does this. The walk uses a stack
    rather than recursion, for nesting as deep as the parser allows.
    """
    stack = [root] if root is not None else []
    seen: set[int] = set()  # aliases make the tree a graph
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        value = getattr(node, "value", None)
        if isinstance(value, str):
            if _SURROGATE.search(value):
                node.value = _SURROGATE.sub("\ufffd", value)
        elif isinstance(value, list):
            for item in value:
                stack.extend(item if isinstance(item, tuple) else (item,))
    return root
