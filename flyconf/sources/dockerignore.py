"""`.dockerignore`: which build-context files never reach the image.

Docker's rules: patterns are relative to the context root (a leading `/` is dropped and paths are
cleaned), match with Go's filepath.Match plus `**` (any number of directories), a pattern that names a
directory keeps out everything inside it, `!` lines make exceptions, and the last matching line
decides. BuildKit prefers `<Dockerfile>.dockerignore` beside the Dockerfile over the context's
`.dockerignore` (moby/buildkit frontend/dockerfile, "Dockerfile-specific ignore-file").
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

from flyconf.sources.base import split_lines


@lru_cache(maxsize=512)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over a relative POSIX path."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            close = pattern.find("]", i + 1)
            if close == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1:close].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
                i = close + 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error:  # a malformed class: match nothing rather than fail
        return re.compile(r"(?!)")


def matching_line(text: str, rel: str) -> tuple[int, int, int] | None:
    """The line that keeps ``rel`` out of the build as (line, start column, end column), 1-based and
    end-exclusive, or None when ``rel`` is sent to the builder."""
    rel = posixpath.normpath(rel.lstrip("/"))
    parents = [rel] + [rel.rsplit("/", k)[0] for k in range(1, rel.count("/") + 1)]
    verdict: tuple[int, int, int] | None = None
    for lineno, line in enumerate(split_lines(text), start=1):  # BuildKit reads it line by line at "\n"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        negate = stripped.startswith("!")
        body = stripped[1:].strip() if negate else stripped
        if not body:
            continue
        pattern = posixpath.normpath(body).lstrip("/")
        regex = pattern_regex(pattern)
        if any(regex.match(p) for p in parents):
            column = line.find(stripped) + 1
            verdict = None if negate else (lineno, column, column + len(stripped))
    return verdict
