"""Compose's variable interpolation and its `.env` / `env_file` format, read statically.

Interpolation follows the Compose specification ("Interpolation"): `$VAR`, `${VAR}`,
`${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?err}` / `${VAR?err}`,
`${VAR:+alt}` / `${VAR+alt}`, nested defaults, and `$$` for a literal `$`.

flyconf is deterministic: the only variables it knows are those of the project's `.env` file,
never the shell environment of the machine that runs the linter. A variable that `.env` does not
set and that has no default is *unknown* (Compose would substitute the shell's value, or an empty
string): the whole value is then unknown, and rules say nothing about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from flyconf.sources.base import split_lines

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")


@dataclass(frozen=True)
class Interpolated:
    """The value after interpolation (None when it depends on an unknown variable), and how."""

    value: str | None
    steps: tuple[str, ...] = ()  # e.g. "DATABASE_URL is not set in .env: the default of ${DATABASE_URL:-...}"
    variables: tuple[str, ...] = ()  # every variable it reads


def interpolate(text: str, env: Mapping[str, str], source: str = ".env") -> Interpolated:
    """``text`` with Compose's interpolation applied, using only ``env`` (the project's `.env`)."""
    if "$" not in text:
        return Interpolated(text)
    steps: list[str] = []
    names: list[str] = []
    out = _expand(text, env, source, steps, names, 0)
    return Interpolated(out, tuple(dict.fromkeys(steps)), tuple(dict.fromkeys(names)))


def _expand(text: str, env: Mapping[str, str], source: str, steps: list[str], names: list[str],
            depth: int) -> str | None:
    out: list[str] = []
    i = 0
    unknown = False
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = _closing(text, i + 2)
            if end is None:
                out.append(text[i:])  # Compose refuses an unclosed `${`; keep it as written
                break
            value = _braced(text[i + 2:end], env, source, steps, names, depth)
            if value is None:
                unknown = True
            else:
                out.append(value)
            i = end + 1
            continue
        m = _NAME.match(text, i + 1)
        if m is None:
            out.append("$")  # not a variable: kept as it is
            i += 1
            continue
        name = m.group(0)
        names.append(name)
        if name in env:
            steps.append(f"{name} = {env[name]!r} in {source}")
            out.append(env[name])
        else:
            steps.append(f"{name} is not set in {source}")
            unknown = True
        i = m.end()
    return None if unknown else "".join(out)


def _closing(text: str, start: int) -> int | None:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _braced(body: str, env: Mapping[str, str], source: str, steps: list[str], names: list[str],
            depth: int) -> str | None:
    m = _NAME.match(body)
    if m is None or depth > 10:
        return None  # Compose refuses an invalid substitution; nothing is known
    name = m.group(0)
    names.append(name)
    rest = body[m.end():]
    value = env.get(name)
    if not rest:
        if value is None:
            steps.append(f"{name} is not set in {source}")
            return None
        steps.append(f"{name} = {value!r} in {source}")
        return value
    colon = rest.startswith(":")
    op = rest[1:2] if colon else rest[:1]
    arg = rest[2:] if colon else rest[1:]
    missing = value is None or (colon and value == "")
    if op == "-":
        if not missing:
            steps.append(f"{name} = {value!r} in {source}")
            return value
        steps.append(f"{name} is {'not set' if value is None else 'empty'} in {source}: the default of "
                     f"${{{name}{':' if colon else ''}-...}}")
        return _expand(arg, env, source, steps, names, depth + 1)
    if op == "+":
        if missing:
            steps.append(f"{name} is not set in {source}")
            return "" if value is not None or name in env else None
        return _expand(arg, env, source, steps, names, depth + 1)
    if op == "?":
        if missing:
            steps.append(f"{name} is required and not set in {source}")
            return None
        return value
    return None


# -- .env and env_file --------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnvLine:
    """One variable of a `.env`-format file: its value (None: unknown), and where the value is written."""

    name: str
    value: str | None
    line: int
    column: int  # of the value (or of the name when the value is empty)
    steps: tuple[str, ...] = ()


def parse_env_file(text: str, lookup: Mapping[str, str] | None = None, source: str = ".env",
                   raw: bool = False) -> list[EnvLine]:
    """Variables of a file in Compose's `.env` format (Compose specification, "Env_file format").

    `VAR=VAL`, `export VAR=VAL`, quoted values (single quotes literal; double quotes with escapes),
    inline comments after a space for unquoted values; unquoted and double-quoted values are
    interpolated with the variables set earlier in the file, then ``lookup``. A line `VAR` alone
    takes the variable from the environment, which flyconf does not read: it is left out.
    ``raw`` (`format: raw`) takes values as written.
    """
    out: list[EnvLine] = []
    known: dict[str, str] = dict(lookup or {})
    lines = split_lines(text)  # numbered as every source is (the line of each variable is shown)
    i = 0
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        i += 1
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        body = stripped
        if re.match(r"export\s+", body):
            skip = re.match(r"export\s+", body).end()  # type: ignore[union-attr]
            indent += skip
            body = body[skip:]
        m = re.match(r"([A-Za-z0-9_.\-\[\]]+)\s*([=:])?", body)
        if m is None or m.group(2) is None:
            continue  # `VAR` alone (from the environment) or not a variable line
        name = m.group(1)
        rest = body[m.end():]
        lead = len(rest) - len(rest.lstrip(" \t"))
        rest = rest.lstrip(" \t")
        column = indent + m.end() + lead + 1
        value: str | None
        steps: tuple[str, ...] = ()
        if raw:
            value = rest.rstrip()
        elif rest.startswith("'"):
            end = _quote_end(rest, "'")
            while end is None and i < len(lines):  # a quoted value may span lines
                rest += "\n" + lines[i]
                i += 1
                end = _quote_end(rest, "'")
            value = rest[1:end] if end is not None else rest[1:]
            value = value.replace("\\'", "'")
        elif rest.startswith('"'):
            end = _quote_end(rest, '"')
            while end is None and i < len(lines):
                rest += "\n" + lines[i]
                i += 1
                end = _quote_end(rest, '"')
            inner = rest[1:end] if end is not None else rest[1:]
            inner = _unescape(inner)
            result = interpolate(inner, known, source)
            value, steps = result.value, result.steps
        else:
            cut = re.search(r"\s#", rest)
            inner = (rest[:cut.start()] if cut else rest).strip()
            result = interpolate(inner, known, source)
            value, steps = result.value, result.steps
        out.append(EnvLine(name, value, lineno, column, steps))
        if value is not None:
            known[name] = value
        else:
            known.pop(name, None)
    return out


def _quote_end(text: str, quote: str) -> int | None:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return None


def _unescape(text: str) -> str:
    table = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}
    return re.sub(r"\\([nrt\\\"$])", lambda m: table[m.group(1)], text)
