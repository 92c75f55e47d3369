"""Dockerfiles, read by BuildKit's parsing rules (``flyconf.sources.dockersyntax``).

The parser gives instructions with their line ranges, JSON or shell form,
flags and heredocs, and honours ``# escape=``; a syntax error comes with the
line of the instruction at fault. It gives no columns, so this module finds
tokens in the source lines itself.

On top of the instructions this module works out what runs: the build stages,
the final stage (or ``[build] build-target``), and, following ``FROM <stage>``
chains, the effective ENV, USER, WORKDIR, EXPOSE, ENTRYPOINT and CMD.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from flyconf.diagnostics import Span
from flyconf.sources.base import Document, ReadFailure
from flyconf.units import ascii_int

KNOWN_INSTRUCTIONS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER",
    "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
})


@dataclass(frozen=True)
class Instruction:
    index: int
    cmd: str  # upper case: "RUN", "CMD", ...
    value: tuple[str, ...]
    json: bool  # exec (JSON) form
    flags: tuple[str, ...]
    start_line: int
    end_line: int
    original: str
    heredocs: tuple[tuple[str, str], ...]  # (name, content)
    stage: int  # index of the build stage it belongs to

    def flag(self, name: str) -> str | None:
        prefix = f"--{name}="
        for f in self.flags:
            if f.startswith(prefix):
                return f[len(prefix):]
        return None

    def argv(self, *, strict: bool = False) -> list[str]:
        """The argument vector: exec form as written, shell form split like a shell.

        A shell form that cannot be split raises ValueError when ``strict``, else is split on blanks.
        """
        if self.json:
            return list(self.value)
        from flyconf import shsplit

        try:
            return shsplit.split(" ".join(self.value))
        except ValueError:
            if strict:
                raise
            return " ".join(self.value).split()

    @property
    def shell_text(self) -> str:
        """The command of a shell-form instruction as one string (heredoc bodies included)."""
        text = " ".join(self.value)
        for _name, body in self.heredocs:
            text += "\n" + body
        return text


@dataclass
class Stage:
    index: int
    name: str | None  # the `AS name`
    base: str  # the FROM image or stage name
    from_instruction: Instruction
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Effective:
    """What the image built from one stage runs with, FROM-chains followed."""

    env: dict[str, tuple[str, Instruction]] = field(default_factory=dict)
    user: tuple[str, Instruction] | None = None
    workdir: tuple[str, Instruction] | None = None
    expose: list[tuple[str, Instruction]] = field(default_factory=list)
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    volumes: list[tuple[str, Instruction]] = field(default_factory=list)
    runs: list[Instruction] = field(default_factory=list)
    copies: list[tuple[Instruction, str | None]] = field(default_factory=list)  # (COPY/ADD, workdir at the time)
    chain: list[int] = field(default_factory=list)  # stage indexes, base first


@dataclass
class Dockerfile(Document):
    instructions: list[Instruction] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    _effective: dict[int, Effective] = field(default_factory=dict, init=False, repr=False, compare=False)

    def span_of(self, where: object) -> Span:
        if isinstance(where, Instruction):
            return self.instruction_span(where)
        return super().span_of(where)

    # -- positions -------------------------------------------------------------------------
    def instruction_span(self, ins: Instruction) -> Span:
        """The instruction keyword: `CMD` in `CMD npm start`."""
        line = self.line_text(ins.start_line)
        col = len(line) - len(line.lstrip()) + 1
        word = line.lstrip().split(" ", 1)[0]
        return Span(ins.start_line, col, ins.start_line, col + len(word))

    def token_span(self, ins: Instruction, token: str, *, after_keyword: bool = True) -> Span:
        """Where ``token`` first appears in the instruction's source lines (else the instruction)."""
        for lineno in range(ins.start_line, ins.end_line + 1):
            line = self.line_text(lineno)
            start = 0
            if lineno == ins.start_line and after_keyword:
                kw = self.instruction_span(ins)
                start = kw.end_column - 1 if kw.end_column else 0
            pos = line.find(token, start)
            if pos != -1:
                return Span(lineno, pos + 1, lineno, pos + 1 + len(token))
        return self.instruction_span(ins)

    # -- stages ----------------------------------------------------------------------------
    def stage_named(self, name: str) -> Stage | None:
        low = name.lower()
        for st in self.stages:
            if st.name is not None and st.name.lower() == low:
                return st
        index = ascii_int(name)
        if index is not None and index < len(self.stages):
            return self.stages[index]
        return None

    def target_stage(self, target: str | None = None) -> Stage | None:
        if target:
            found = self.stage_named(target)
            if found is not None:
                return found
        return self.stages[-1] if self.stages else None

    def effective(self, target: str | None = None) -> Effective:
        """ENV, USER, WORKDIR, EXPOSE, ENTRYPOINT, CMD of the image built from ``target`` (default: last stage).

        Computed once per stage (a Dockerfile is read once and never changes); callers must not modify it.
        """
        stage = self.target_stage(target)
        key = stage.index if stage is not None else -1
        if key not in self._effective:
            self._effective[key] = self._compute_effective(stage)
        return self._effective[key]

    def _compute_effective(self, stage: "Stage | None") -> Effective:
        eff = Effective()
        if stage is None:
            return eff
        chain: list[Stage] = []
        seen: set[int] = set()
        cur: Stage | None = stage
        while cur is not None and cur.index not in seen:
            seen.add(cur.index)
            chain.append(cur)
            cur = self.stage_named(cur.base) if cur.base else None
            if cur is not None and cur.index >= chain[-1].index:
                break  # FROM may only name an earlier stage
        chain.reverse()
        eff.chain = [s.index for s in chain]
        scope: dict[str, str] = {}
        budget = [MAX_TOTAL_EXPANSION]
        for st in chain:
            for ins in st.instructions:
                _apply(eff, ins, scope, budget)
        return eff


def _apply(eff: Effective, ins: Instruction, scope: dict[str, str], budget: list[int]) -> None:
    """Apply one instruction; ``scope`` holds the variables it sees (ARGs, overridden by ENVs), kept up to
    date here rather than merged anew for each instruction; ``budget`` bounds what substitution adds."""
    def expand(text: str) -> str:
        return process_word(text, scope, budget)

    cmd = ins.cmd
    if cmd == "ARG":
        for item in ins.value:
            name, _, default = item.partition("=")
            if default and name not in eff.env:
                scope[name] = default
    elif cmd == "ENV":
        values = list(ins.value)
        for i in range(0, len(values) - 1, 2):
            value = expand(values[i + 1])
            eff.env[values[i]] = (value, ins)
            scope[values[i]] = value
    elif cmd == "USER" and ins.value:
        eff.user = (expand(ins.value[0]), ins)
    elif cmd == "WORKDIR" and ins.value:
        path = expand(ins.value[0])
        base = eff.workdir[0] if eff.workdir else "/"
        eff.workdir = (posixpath.normpath(posixpath.join(base, path)), ins)
    elif cmd == "EXPOSE":
        eff.expose.extend((expand(v), ins) for v in ins.value)
    elif cmd == "ENTRYPOINT":
        eff.entrypoint = ins
        if eff.cmd is not None and eff.cmd.stage != ins.stage:
            eff.cmd = None  # ENTRYPOINT resets a CMD inherited from the base (not one set in this stage)
    elif cmd == "CMD":
        eff.cmd = ins
    elif cmd == "VOLUME":
        for v in ins.value:
            eff.volumes.extend((p, ins) for p in _volume_paths(v))
    elif cmd == "RUN":
        eff.runs.append(ins)
    elif cmd in ("COPY", "ADD"):
        eff.copies.append((ins, eff.workdir[0] if eff.workdir else None))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _volume_paths(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
            # Go decodes a lone surrogate escape ("\ud800") as U+FFFD; Python keeps it, and no output could encode it.
            return [_SURROGATE.sub("\ufffd", p) for p in parsed if isinstance(p, str)]
        except (ValueError, RecursionError):  # RecursionError: nesting too deep to read
            pass
    return [p for p in value.split() if p]


def process_word(text: str, env: dict[str, str], total: list[int] | None = None) -> str:
    """One word as Docker reads ENV, ARG, USER, WORKDIR values: quotes removed, variables expanded.

    Single quotes keep their content literally; double quotes allow `$VAR` and backslash escapes.
    A word that substitution would grow by more than ``MAX_EXPANSION`` characters, or by more than is
    left of ``total[0]`` (shared by the words of one image), stays as written.
    """
    allowed = MAX_EXPANSION if total is None else min(MAX_EXPANSION, total[0])
    budget = [allowed]
    try:
        word = _process_word(text, env, budget)
    except _TooLong:
        return text
    if total is not None:
        total[0] -= allowed - budget[0]
    return word


def _process_word(text: str, env: dict[str, str], budget: list[int]) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    chunk_start = 0

    def flush_plain(segment: str) -> None:
        out.append(_expand(segment, env, budget))

    while i < n:
        ch = text[i]
        if quote == "'":
            if ch == "'":
                out.append(text[chunk_start:i])
                quote = None
                chunk_start = i + 1
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            flush_plain(text[chunk_start:i])
            out.append(text[i + 1])
            i += 2
            chunk_start = i
            continue
        if ch == '"':
            flush_plain(text[chunk_start:i])
            quote = None if quote == '"' else '"'
            i += 1
            chunk_start = i
            continue
        if ch == "'" and quote is None:
            flush_plain(text[chunk_start:i])
            quote = "'"
            i += 1
            chunk_start = i
            continue
        i += 1
    if quote == "'":
        out.append(text[chunk_start:])  # unterminated single quote: keep the rest literally
    else:
        flush_plain(text[chunk_start:])
    return "".join(out)


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


# The most characters substitution may add to one value. `ENV B=$A$A` doubles a value, so 30 such lines
# would make gigabytes: past this a value is kept as written, like a variable that cannot be resolved.
MAX_EXPANSION = 64 * 1024
# And the most all the values of one image may gain: `ENV V2=${V1}x` chained a hundred thousand times
# stays far below MAX_EXPANSION each, yet would fill gigabytes.
MAX_TOTAL_EXPANSION = 4 * 1024 * 1024


class _TooLong(Exception):
    pass


def expand_vars(text: str, env: dict[str, str]) -> str:
    """Docker's variable substitution for ENV, USER, WORKDIR... (unknown variables stay as written).

    A value that would grow by more than ``MAX_EXPANSION`` characters stays as written.
    """
    try:
        return _expand(text, env, [MAX_EXPANSION])
    except _TooLong:
        return text


def _expand(text: str, env: dict[str, str], budget: list[int]) -> str:
    """Substitute, spending ``budget[0]`` (characters of values put in); _TooLong when it runs out."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name in env:
            budget[0] -= len(env[name])  # only a variable's value adds text; the rest comes from ``text``
            if budget[0] < 0:
                raise _TooLong
            return env[name]
        whole = m.group(0)
        if ":-" in whole or "-" in whole[2:]:
            default = whole.split("-", 1)[1].rstrip("}")
            return default
        return whole

    return _VAR.sub(sub, text)


def parse_dockerfile(text: str, display_path: str, fs_path: Path | None = None) -> Dockerfile | ReadFailure:
    """Parse as BuildKit does; a syntax error becomes a failure at the faulty instruction."""
    from flyconf.sources import dockersyntax

    try:
        commands = dockersyntax.parse_instructions(text)
    except dockersyntax.DockerfileSyntaxError as exc:
        return ReadFailure("syntax", f"Dockerfile does not parse: {exc.message}", exc.line, 1)
    doc = Dockerfile(display_path=display_path, text=text, fs_path=fs_path)
    stage = -1
    for c in commands:
        if not c.cmd:
            continue  # a stray line continuation: no instruction at all
        cmd = c.cmd.upper()
        if cmd == "FROM":
            stage += 1
        ins = Instruction(
            index=len(doc.instructions), cmd=cmd, value=c.value, json=c.json, flags=c.flags,
            start_line=c.start_line, end_line=max(c.end_line, c.start_line), original=c.original,
            heredocs=c.heredocs, stage=max(stage, 0),
        )
        doc.instructions.append(ins)
        if cmd == "FROM":
            base, name = _from_parts(ins.value)
            doc.stages.append(Stage(index=stage, name=name, base=base, from_instruction=ins))
        elif doc.stages:
            doc.stages[-1].instructions.append(ins)
    return doc


def _from_parts(value: Iterable[str]) -> tuple[str, str | None]:
    parts = list(value)
    base = parts[0] if parts else ""
    name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
    return base, name
