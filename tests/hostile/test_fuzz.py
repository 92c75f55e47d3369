"""Property-based hostile input (issue 13, "Kept in CI"): random bytes, mutated corpus files and generated
fly.toml files with odd values, through ``lint_text``/``lint_bytes`` and the command line.

For every input: no exception; every finding inside its file (a line that exists when the text is split at
"\\n" only, as TOML, BuildKit and sh split it; a column within that line); `--format json` and `--format sarif`
print a JSON document (SARIF valid against the official schema); exit code 0, 1 or 2 and no traceback.

CI runs a fixed, bounded set of examples. A long run (see tests/hostile/helpers.py and the README's "Fuzzing"):
    FLYCONF_FUZZ_EXAMPLES=100000 python -m pytest tests/hostile/test_fuzz.py
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flyconf import lint_text
from flyconf.lint import lint_bytes
from tests.conftest import CORPUS, REPO, needs_shared
from tests.hostile.helpers import (
    ODD_CHARACTERS,
    CorpusFile,
    assert_inside,
    check_outcome,
    cli,
    corpus_files,
    corpus_of,
    examples,
    findings_of,
    inside,
    text_of,
    validate_sarif,
)

NAMES = {"fly-toml": "fly.toml", "dockerfile": "Dockerfile", "compose": "compose.yaml"}


# -- strategies ------------------------------------------------------------------------------------------------

@functools.cache
def _data(path: Path) -> bytes:
    return (CORPUS / path).read_bytes()


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def mutated(draw: st.DrawFn, kind: str, start: CorpusFile | None = None) -> bytes:
    """A corpus file of ``kind`` (or ``start``) with one to four mutations: a flipped bit, an odd character
    inserted, a line duplicated or deleted, or spliced with another file of the kind at a line boundary."""
    files = corpus_of(kind) or [start]
    data = _data((start or draw(st.sampled_from(files))).path)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "insert", "duplicate", "delete", "splice"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1:]
        elif op == "insert":
            odd = draw(st.sampled_from(ODD_CHARACTERS)).encode() if draw(st.booleans()) else b"\x80"
            data = data[:at] + odd * draw(st.sampled_from([1, 1, 2, 7])) + data[at:]
        elif op in ("duplicate", "delete"):
            lines = _lines(data)
            i = draw(st.integers(0, len(lines) - 1))
            lines[i:i + 1] = [lines[i]] * (2 if op == "duplicate" else 0)
            data = b"\n".join(lines)
        elif op == "splice":
            other = _lines(_data(draw(st.sampled_from(files)).path))
            mine = _lines(data)
            data = b"\n".join(mine[:draw(st.integers(0, len(mine)))] + other[draw(st.integers(0, len(other))):])
    return data


def _surrogates(data: bytes) -> str:
    """Bytes as a ``str`` in which each byte that is not UTF-8 stands as a lone surrogate (\\udc80...)."""
    return data.decode("utf-8", errors="surrogateescape")


@functools.cache
def schema_keys() -> tuple[tuple[str, ...], ...]:
    """Every key path of fly.toml in flyconf's schema; "[]" stands for an array element, "*" for any name."""
    schema = json.loads((REPO / "schemas" / "fly.schema.json").read_text())
    definitions = schema.get("definitions", {})
    found: set[tuple[str, ...]] = set()

    def walk(node: dict, path: tuple[str, ...], depth: int) -> None:  # type: ignore[type-arg]
        while "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[1]]
        if depth > 6:
            return
        children = False
        for alternative in node.get("anyOf", []) + node.get("oneOf", []):
            walk(alternative, path, depth + 1)
            children = True
        for key, sub in node.get("properties", {}).items():
            walk(sub, path + (key,), depth + 1)
            children = True
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path + ("*",), depth + 1)
            children = True
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + ("[]",), depth + 1)
            children = True
        if not children and path:
            found.add(path)

    walk(schema, (), 0)
    return tuple(sorted(found))


ODD_VALUES = [
    "inf", "-inf", "+inf", "nan", "-nan", "1e400", "-1e400", "9" * 4400, "-" + "9" * 4400, "1" + "0" * 4299,
    '"' + "9" * 400 + 's"', '"' + "9" * 400 + '"', '"²"', '"¹²³"', '"٣"', '"⁸⁰"', '"8080²"', '"1e400s"', '"infs"',
    '"nans"', '"inf"', '"nan"', '"-5s"', '"5 s"', '"1.5h"', '""', '" "', '"\\u0000"', '"\\u001b[31mred"',
    '"a\\r\\nfly.toml:1:1: error: FC999 forged"', '"\\f\\v\\u0085\\u2028"', '"\\udc80"', '"\U0001f600"',
    "[]", "{}", "[" * 60 + "1" + "]" * 60, "true", "0", "-1", "9223372036854775808", "-9223372036854775809",
    "0x7fffffffffffffff", "0o777", "1_000", "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27", "'''\x0c'''",
    '"""\nfirst\u2028second\rthird"""', "[1, 'a', {x = 1}]", "{ a = { b = { c = { d = { e = 1 } } } } }",
]
ODD_KEYS = ["ключ", "\u001b[2J", "a\rb", "\u2028", "k\u0000", "²", "", " ", "a.b", "\U0001f600", "x" * 300]


def _key(name: str) -> str:
    if name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        return name
    return json.dumps(name)  # a TOML basic string: JSON's escapes are TOML's


def _inline(path: tuple[str, ...], value: str) -> str:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "[]":
        return f"[{_inline(rest, value)}]"
    return f"{{ {_key(head)} = {_inline(rest, value)} }}"


def _entry(path: tuple[str, ...], value: str) -> str:
    """One key path set to one value: a table header for the first level, inline tables below it."""
    if len(path) == 1:
        return f"{_key(path[0])} = {value}\n"
    head, rest = path[0], path[1:]
    header = f"[[{_key(head)}]]" if rest[0] == "[]" else f"[{_key(head)}]"
    rest = rest[1:] if rest[0] == "[]" else rest
    if not rest:
        return f"{header}\n"
    if rest[0] == "[]":  # an array of arrays: nothing to head
        return f"{_key(head)} = {_inline(('[]',) + rest[1:], value)}\n"
    return f"{header}\n{_key(rest[0])} = {_inline(rest[1:], value)}\n"


@st.composite
def odd_fly_toml(draw: st.DrawFn) -> str:
    """A fly.toml that sets one to three of the schema's keys to odd values (some with odd names)."""
    parts = ['app = "fuzz"\n']
    for _ in range(draw(st.integers(1, 3))):
        path = list(draw(st.sampled_from(schema_keys())))
        path = [draw(st.sampled_from(["web", "worker", "*"])) if p == "*" else p for p in path]
        if draw(st.integers(0, 9)) == 0:
            path[-1] = draw(st.sampled_from(ODD_KEYS))
        parts.append(_entry(tuple(path), draw(st.sampled_from(ODD_VALUES))))
    return "".join(parts)


# -- lint_text and lint_bytes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fly.toml",
                                  "Dockerfile",
                                  "compose.yaml"])
@examples(150)
@given(data=st.one_of(st.binary(max_size=400),
                      st.lists(st.sampled_from([c.encode() for c in ODD_CHARACTERS] + [b"a", b"=", b"[x]", b"RUN",
                                                                                          b" ", b"\xff"]),
                               max_size=40).map(b"".join)))
def test_random_bytes(name: str, data: bytes) -> None:
    assert_inside(lint_bytes(data, name), {name: text_of(data)})


# Minimal failures the long run found on main (5,000 examples a property); kept as cases of their own.
FOUND = [
    ("fly.toml", b"'\x0b\x01"),  # a TOML syntax error placed on line 2 of a 1-line file (\v split the line)
    ("fly.toml", b"'\r\r x\napp = \"x\"\n"),  # line 4 of a 3-line file (\r split lines)
    ("compose.yaml", b"\r\xe1\x80\x80"),  # line 2 of a 1-line file
    ("Dockerfile", b"FROM node:20\n\x0c# flyconf: noqa\n"),  # a suppression comment placed after \f, on line 3
]


@pytest.mark.parametrize(("name", "data"), FOUND)
def test_found_by_fuzzing(name: str, data: bytes) -> None:
    found = lint_bytes(data, name)
    assert found
    assert_inside(found, {name: text_of(data)})


@needs_shared(CORPUS)
@pytest.mark.parametrize("kind", ["fly-toml", "dockerfile", "compose"])
@examples(150)
@given(data=st.data())
def test_mutated_corpus_files(kind: str, data: st.DataObject) -> None:
    raw = data.draw(mutated(kind))
    name = NAMES[kind]
    assert_inside(lint_bytes(raw, name), {name: text_of(raw)})


@needs_shared(CORPUS)
@pytest.mark.parametrize("kind", ["fly-toml", "dockerfile",
                                  "compose"])
@examples(100)
@given(data=st.data())
def test_mutated_corpus_text_with_lone_surrogates(kind: str, data: st.DataObject) -> None:
    """``lint_text`` takes any ``str``: the bytes that are not UTF-8 stand as lone surrogates (\\udc80...)."""
    text = _surrogates(data.draw(mutated(kind)))
    name = NAMES[kind]
    assert_inside(lint_text(text, name), {name: text})


@examples(300)
@given(odd_fly_toml())
def test_fly_toml_with_odd_values(text: str) -> None:
    assert_inside(lint_text(text, "fly.toml"), {"fly.toml": text})


def test_every_schema_key_is_generated() -> None:
    """The generator above reaches the whole schema (the issue's sweep covered 206 keys)."""
    keys = schema_keys()
    assert len(keys) > 150
    for path in keys:
        entry = _entry(tuple("web" if p == "*" else p for p in path), "1")
        assert entry.startswith(("[", path[0], '"')), entry


# -- the command line ------------------------------------------------------------------------------------------

def _apps() -> list[str]:
    return sorted({f.path.parts[0] for f in corpus_files() if f.kind == "fly-toml"})


def _check_run(argv: list[str], fmt: str, files: dict[str, str], stdin: bytes = b"") -> None:
    outcome = cli(argv, stdin)
    check_outcome(outcome)
    if fmt in ("json", "sarif"):
        assert_inside(findings_of(outcome, fmt), files)


FORMATS = st.sampled_from(["json", "sarif", "text", "concise", "github"])


@needs_shared(CORPUS)
@examples(60)
@given(data=st.data(), fmt=FORMATS)
def test_cli_on_mutated_corpus_apps(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, fmt: str) -> None:
    """A corpus app (fly.toml, Dockerfile, start scripts, app configuration) with some of its files mutated."""
    app = data.draw(st.sampled_from(_apps()))
    directory = tmp_path_factory.mktemp("app")
    members = [f for f in corpus_files() if f.path.parts[0] == app]
    chosen = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=3, unique=True))
    files: dict[str, str] = {}
    for f in members:
        rel = Path(*f.path.parts[1:])
        raw = data.draw(mutated_file(f)) if f in chosen else _data(f.path)
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_bytes(raw)
        files[str(rel)] = text_of(raw)
    with inside(directory):
        _check_run(["lint", "--isolated", "--format", fmt, "."], fmt, files)


def mutated_file(f: CorpusFile) -> st.SearchStrategy[bytes]:
    """``f`` mutated (spliced with files of its kind)."""
    return mutated(f.kind, f)


@examples(80)
@given(fly=odd_fly_toml(), fmt=FORMATS, name=st.sampled_from(["fly.toml", "Dockerfile"]),
       dockerfile=st.lists(st.sampled_from(["FROM node:20\n", "COPY --chown=\u0800 . .\n", "EXPOSE ²\n",
                                            "ENTRYPOINT [\"/app/start.sh\"]\n", "RUN a\\\r\n b\n", "\f", "\u2028",
                                            "ENV PORT=8080\n", "CMD node server.js\n", "# flyconf: noqa\n"]),
                           max_size=8).map("".join))
def test_cli_on_standard_input(tmp_path_factory: pytest.TempPathFactory, fly: str, fmt: str, name: str,
                               dockerfile: str) -> None:
    """`flyconf lint --stdin-filename NAME` with the file beside it on disk."""
    directory = tmp_path_factory.mktemp("stdin")
    (directory / "fly.toml").write_text(fly, encoding="utf-8", errors="surrogateescape")
    (directory / "Dockerfile").write_text(dockerfile)
    (directory / "start.sh").write_text("#!/bin/sh\n" + dockerfile)
    stdin = (fly if name == "fly.toml" else dockerfile).encode("utf-8", "surrogateescape")
    with inside(directory):
        _check_run(["lint", "--isolated", "--format", fmt, "--stdin-filename", name], fmt,
                   {"fly.toml": fly, "Dockerfile": dockerfile}, stdin)


@needs_shared(CORPUS)
@examples(25)
@given(data=st.data())
def test_sarif_of_mutated_corpus_apps_validates(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """A sample checked against the official SARIF 2.1.0 schema (slow: fewer examples)."""
    app = data.draw(st.sampled_from(_apps()))
    directory = tmp_path_factory.mktemp("sarif")
    for f in corpus_files():
        if f.path.parts[0] == app:
            (directory / Path(*f.path.parts[1:])).parent.mkdir(parents=True, exist_ok=True)
            raw = data.draw(mutated_file(f)) if f.kind == "fly-toml" else _data(f.path)
            (directory / Path(*f.path.parts[1:])).write_bytes(raw)
    with inside(directory):
        outcome = cli(["lint", "--isolated", "--format", "sarif", "."])
    assert outcome.code in (0, 1, 2)
    validate_sarif(outcome.out)
