"""The position scanner agrees with tomllib on every key path, for generated and hand-written TOML."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.sources.tomlspan import TomlPositions

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def leaves(value, path=()):
    """Every key path in a parsed document, tables and arrays included."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))


def slice_text(text: str, span) -> str:
    lines = text.split("\n")
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts += lines[span.line : span.end_line - 1]
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return "\n".join(parts)


def check_document(text: str) -> None:
    data = tomllib.loads(text)
    pos = TomlPositions(text)
    for path, value in leaves(data):
        if not path:
            continue
        entry = pos.entries.get(path)
        assert entry is not None, f"no position for {path}"
        if isinstance(value, (dict,)) or (isinstance(value, list) and value and all(isinstance(x, dict) for x in value) and entry.header):
            continue  # tables and arrays of tables are placed at their header
        if entry.header:
            continue
        assert entry.value is not None, f"no value span for {path}"
        source = slice_text(text, entry.value)
        reparsed = tomllib.loads("x = " + source)["x"]
        assert reparsed == value or (reparsed != reparsed and value != value), (path, source)  # nan != nan
        if isinstance(path[-1], str) and entry.key is not None:
            key_src = slice_text(text, entry.key)
            assert tomllib.loads(f"{key_src} = 1") == {path[-1]: 1}, (path, key_src)


keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x7f"), min_size=0, max_size=6),
)
scalars = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(min_value=dt.datetime(1, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.booleans())
def test_generated_documents(data, multiline_arrays):
    text = tomli_w.dumps(data, multiline_strings=multiline_arrays)
    check_document(text)


HANDWRITTEN = [
    'a.b.c = 1\na . "d e" . f = "x"\n',
    "s = '''\nline\n'''\nt = \"\"\"a\\\"\"\"b\"\"\"\"\nu = 'lit'\n",
    'arr = [\n  1, # one\n  2,\n  # nothing\n  [3, 4],\n]\n',
    'inline = { a = 1, b.c = "x", d = [1, { e = 2 }] }\n',
    "[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\n[[services.ports]]\nport = 443\n"
    "[[services]]\ninternal_port = 9090\n[[services.ports]]\nport = 81\n[services.concurrency]\ntype = 'requests'\n",
    "[a.b]\nx = 1\n[a]\ny = 2\n[a.c.d]\nz = 3\n",
    "when = 1979-05-27 07:32:00Z\nday = 1979-05-27\ntime = 07:32:00\n",
    "crlf = 1\r\n[t]\r\nk = 'v'\r\n",
    '"quoted key" = 1\n\'lit key\' = 2\n"esc\\u00e9" = 3\n',
    "emoji = \"🚀\"\n[tbl] # comment\n  nested = { deep = { deeper = [\"🎉\", 'x'] } }\n",
    "x = \"\"\"\na \\\n  b\"\"\"\ny = 0x1F\nz = inf\nw = -nan\n",
    "[[a]]\n[[a.b]]\nc = 1\n[a.b.d]\ne = 2\n[[a]]\n",
]


@pytest.mark.parametrize("text", HANDWRITTEN)
def test_handwritten_documents(text):
    check_document(text)


def test_positions_are_one_based_and_point_at_key_and_value():
    text = '[[mounts]]\n  source = "data"\n  destination = "/data"\n'
    pos = TomlPositions(text)
    entry = pos.entries[("mounts", 0, "destination")]
    assert (entry.key.line, entry.key.column, entry.key.end_column) == (3, 3, 14)
    assert (entry.value.line, entry.value.column, entry.value.end_column) == (3, 17, 24)
    header = pos.entries[("mounts", 0)]
    assert header.header and (header.value.line, header.value.column, header.value.end_column) == (1, 1, 11)


def test_columns_count_characters_not_bytes():
    text = '"é" = "ü"\nk = 1\n'
    pos = TomlPositions(text)
    assert (pos.entries[("k",)].key.line, pos.entries[("k",)].key.column) == (2, 1)
    value = pos.entries[("é",)].value
    assert (value.line, value.column, value.end_column) == (1, 7, 10)


def test_comments_are_collected_with_their_lines():
    text = "# top\napp = 'x' # trailing\n[deploy]\n  # flyconf: ignore[FC101]\n  x = 1\n"
    pos = TomlPositions(text)
    assert [(c.line, c.column, c.own_line) for c in pos.comments] == [(1, 1, True), (2, 11, False), (4, 3, True)]
    assert pos.comments[2].text == " flyconf: ignore[FC101]"


def test_missing_paths_fall_back_to_the_nearest_ancestor():
    text = "[http_service]\ninternal_port = 8080\n"
    pos = TomlPositions(text)
    span = pos.value_span(("http_service", "checks", 0, "interval"))
    assert (span.line, span.column) == (1, 2)
