"""BuildKit's own parser (the ``dockerfile`` package, Go compiled for a few platforms) as a test oracle.

flyconf parses Dockerfiles in pure Python (``flyconf.sources.dockersyntax``); these helpers give BuildKit's
answer in the same shape, so tests can require the two to agree. Where the package is not installed
(no wheel for the platform, or CI's second run without it) the tests that need it are skipped.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any, Callable

import pytest

from flyconf.sources.dockersyntax import DockerfileSyntaxError, RawInstruction

HAVE_BUILDKIT = importlib.util.find_spec("dockerfile") is not None
needs_buildkit = pytest.mark.skipif(
    not HAVE_BUILDKIT,
    reason="the `dockerfile` package (BuildKit's Go parser) is not installed (no wheel here, or CI's second run)")


class WrapperCannotSay(Exception):
    """The Go wrapper itself fails on this input (it hands Python invalid UTF-8): nothing to compare."""


def _native_safe(text: str) -> str:
    """``text``, if the extension can be handed it; else WrapperCannotSay.

    A lone surrogate makes the extension crash the whole process (SIGSEGV: it gets no bytes for the
    text), and a NUL ends the text early for it (a C string), so its answer would be about other text.
    """
    if re.search("[\ud800-\udfff]", text):
        raise WrapperCannotSay("lone surrogate: the extension would crash on it")
    if "\x00" in text:
        raise WrapperCannotSay("NUL: the extension would read only the text before it")
    return text


def buildkit_instructions(text: str) -> list[RawInstruction]:
    """BuildKit's instructions, or DockerfileSyntaxError with its message.

    The package reports no line for an error; the line given here is the shortest prefix of the
    file that fails with the same message (found by bisection), which is the faulty instruction's line
    when that instruction is on one line.
    """
    import dockerfile as bk

    try:
        commands = bk.parse_string(_native_safe(text))
    except bk.GoParseError as exc:
        raise DockerfileSyntaxError(str(exc), _first_failing_prefix(bk, text, str(exc))) from None
    except UnicodeDecodeError as exc:
        raise WrapperCannotSay(str(exc)) from None
    return [_raw(c) for c in commands]


def buildkit_outcome(text: str) -> list[RawInstruction] | tuple[str, str]:
    """Instructions, or ("error", message): what to compare when lines of errors are not comparable."""
    import dockerfile as bk

    try:
        return [_raw(c) for c in bk.parse_string(_native_safe(text))]
    except bk.GoParseError as exc:
        return ("error", str(exc))
    except UnicodeDecodeError as exc:
        raise WrapperCannotSay(str(exc)) from None


def _raw(c: Any) -> RawInstruction:
    return RawInstruction(
        cmd=c.cmd or "",  # the wrapper gives None for the empty command of a stray line continuation
        value=tuple(v for v in (c.value or ()) if v is not None), json=bool(c.json), flags=tuple(c.flags or ()),
        start_line=c.start_line, end_line=c.end_line, original=c.original or "",
        heredocs=tuple((h.name, h.content) for h in (c.heredocs or ())),
    )


def _first_failing_prefix(bk: Any, text: str, message: str) -> int:
    """The fewest lines that fail with ``message``, by bisection: once the faulty instruction is read,
    every longer prefix fails with it too. Parsing every prefix in turn took minutes and gigabytes for a
    long file, as the extension keeps memory from each call."""
    parts = text.split("\n")  # BuildKit's lines end at \n only
    lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def fails(end: int) -> bool:
        try:
            bk.parse_string(text[:offsets[end]])
        except bk.GoParseError as exc:
            return str(exc) == message
        except UnicodeDecodeError:
            pass
        return False

    low, high = 1, max(len(lines), 1)  # the whole text fails with it
    while low < high:
        mid = (low + high) // 2
        if fails(mid):
            high = mid
        else:
            low = mid + 1
    return high


def patched_parser(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[RawInstruction]]:
    """Make flyconf read Dockerfiles with BuildKit's parser for the rest of the test."""
    from flyconf.sources import dockersyntax

    monkeypatch.setattr(dockersyntax, "parse_instructions", buildkit_instructions)
    return buildkit_instructions
