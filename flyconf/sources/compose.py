"""A Compose file, read with PyYAML's node API so that every key and value keeps its line and column.

Only ``yaml.compose_all`` with the safe loader is used: the file is turned into nodes, never into
Python objects, so nothing in it is constructed or run. Compose's own tags (``!reset``,
``!override``; Compose specification, "Merge and override") are kept on the nodes. Anchors,
aliases and ``<<`` merge keys are followed, as Compose (go-yaml v3) follows them. A mapping key
written twice is a problem Compose refuses ("mapping key ... already defined"), kept here as a
finding to report, with its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from flyconf.diagnostics import Span
from flyconf.sources.base import Document, LineIndex, ReadFailure
from flyconf.sources.yamlnodes import without_surrogates

_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_MAX_NODES = 200_000  # distinct nodes: a larger file is not a Compose file anyone writes by hand


@dataclass(eq=False)
class YNode:
    """One YAML node: a mapping (``value`` is a dict of nodes), a sequence (a list) or a scalar.

    A scalar's ``value`` is its text, or None for a YAML null (``~``, ``null``, nothing).
    ``keys`` holds, for a mapping, where each key is written.
    """

    kind: str  # "map", "seq" or "scalar"
    value: Any
    span: Span
    doc: "ComposeFile" = field(repr=False)
    tag: str | None = None  # a local tag such as "!reset" or "!override"
    keys: dict[str, Span] = field(default_factory=dict, repr=False)
    quoted: bool = False  # a quoted scalar (never a null, a boolean or a number)
    scalar_tag: str = ""  # the resolved YAML tag of a scalar (str, int, bool, null...)

    @property
    def is_map(self) -> bool:
        return self.kind == "map"

    @property
    def is_seq(self) -> bool:
        return self.kind == "seq"

    @property
    def is_scalar(self) -> bool:
        return self.kind == "scalar"

    def get(self, key: str) -> "YNode | None":
        return self.value.get(key) if self.kind == "map" else None

    def items(self) -> Iterator[tuple[str, "YNode"]]:
        if self.kind == "map":
            yield from self.value.items()

    def key_span(self, key: str) -> Span | None:
        return self.keys.get(key)

    @property
    def text(self) -> str | None:
        """A scalar's text (None for a null or for a mapping or sequence)."""
        return self.value if self.kind == "scalar" and isinstance(self.value, str) else None

    @property
    def is_true(self) -> bool:
        """A scalar Compose reads as boolean true (YAML 1.1 spellings, as go-yaml accepts for booleans)."""
        text = self.text
        return text is not None and text.lower() in ("true", "yes", "on", "y")


@dataclass
class ComposeFile(Document):
    """A Compose file: its text, its YAML documents as nodes, and the problems Compose would refuse."""

    documents: list[YNode] = field(default_factory=list)
    problems: list[tuple[str, Span]] = field(default_factory=list)

    @property
    def root(self) -> YNode | None:
        """The first document's top-level node (Compose merges further documents in order)."""
        return self.documents[0] if self.documents else None


def parse_compose(text: str, display_path: str, fs_path: Path | None = None) -> ComposeFile | ReadFailure:
    """Parse a Compose file into nodes; a YAML error is a ReadFailure with its line and column."""
    import yaml

    try:
        raw_docs = [without_surrogates(d) for d in yaml.compose_all(text, Loader=yaml.SafeLoader)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = mark_position(text, mark.index) if mark is not None else (1, 1)
        what = exc.problem or "invalid YAML"
        context = f" {exc.context}" if exc.context else ""
        return ReadFailure("syntax", f"not valid YAML: {what}{context}", line, col,
                           hint="fix the YAML; `docker compose config` refuses the file as it is")
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character...)
        line, col = mark_position(text, exc.position)
        what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return ReadFailure("syntax", f"not valid YAML: the character {what} is not allowed in YAML", line, col,
                           hint="remove the character; `docker compose config` refuses the file as it is")
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return ReadFailure("syntax", f"not valid YAML: {exc}", 1, 1)
    doc = ComposeFile(display_path=display_path, text=text, fs_path=fs_path)
    converter = _Converter(doc)
    for raw in raw_docs:
        if raw is None:
            continue
        node = converter.convert(raw)
        if node is not None:
            doc.documents.append(node)
    if converter.too_large:
        return ReadFailure("syntax", "too many YAML nodes (anchors expanding without end?)", 1, 1)
    return doc


def mark_position(text: str, index: int) -> tuple[int, int]:
    r"""(line, column) of a PyYAML mark's character index under flyconf's line model.

    A mark's own line and column count "\r", "\x85", U+2028 and U+2029 as line breaks (YAML 1.1 does),
    where every other source, and the text report, break lines at "\n" only; its index is a character
    offset in the text for both the pure-Python and the libyaml loaders.
    """
    return LineIndex(text).position(index)


def _span(node: Any, lines: LineIndex) -> Span:
    return lines.span(node.start_mark.index, node.end_mark.index)


class _Converter:
    def __init__(self, doc: ComposeFile) -> None:
        self.doc = doc
        self.lines = doc.line_index
        self.done: dict[int, YNode] = {}
        self.busy: set[int] = set()
        self.count = 0
        self.too_large = False

    def convert(self, node: Any) -> YNode | None:
        import yaml

        key = id(node)
        if key in self.done:
            return self.done[key]
        if key in self.busy or self.too_large:
            return None  # an alias to a node that contains it: nothing sensible to read
        self.count += 1
        if self.count > _MAX_NODES:
            self.too_large = True
            return None
        custom = isinstance(node.tag, str) and node.tag.startswith("!") and not node.tag.startswith("!!")
        tag = node.tag if custom else None
        span = _span(node, self.lines)
        if isinstance(node, yaml.ScalarNode):
            value = None if node.tag == _NULL else node.value
            out = YNode("scalar", value, span, self.doc, tag, quoted=node.style in ("'", '"'),
                        scalar_tag=node.tag)
        elif isinstance(node, yaml.SequenceNode):
            self.busy.add(key)
            items = [self.convert(item) for item in node.value]
            self.busy.discard(key)
            out = YNode("seq", [i for i in items if i is not None], span, self.doc, tag)
        else:
            self.busy.add(key)
            out = self._mapping(node, span, tag)
            self.busy.discard(key)
        self.done[key] = out
        return out

    def _mapping(self, node: Any, span: Span, tag: str | None) -> YNode:
        import yaml

        values: dict[str, YNode] = {}
        keys: dict[str, Span] = {}
        merged: list[YNode] = []
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and (k.tag == _MERGE or (k.value == "<<" and k.style is None)):
                source = self.convert(v)
                if source is not None:
                    merged.extend([source] if source.is_map else [s for s in source.value if s.is_map]
                                  if source.is_seq else [])
                continue
            if not isinstance(k, yaml.ScalarNode):
                continue  # a complex key: Compose has none
            name = k.value if k.tag != _NULL else "null"
            if name in keys:
                first = keys[name]
                self.doc.problems.append((f"mapping key `{name}` is written twice (first at line {first.line}): "
                                          "Compose refuses the file (\"mapping key already defined\")",
                                          _span(k, self.lines)))
                continue
            child = self.convert(v)
            if child is None:
                continue
            values[name] = child
            keys[name] = _span(k, self.lines)
        # `<<` merges: keys written in the mapping win, then the merged mappings in order.
        for source in merged:
            for name, child in source.value.items():
                if name not in values:
                    values[name] = child
                    keys[name] = source.keys.get(name, source.span)
        return YNode("map", values, span, self.doc, tag, keys=keys)
