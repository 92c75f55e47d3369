""""Did you mean ...?": the closest known name to a misspelt one."""

from __future__ import annotations

import difflib
from typing import Iterable


def _words(name: str) -> frozenset[str]:
    """A name's words, order and plurals aside: `auto_machine_start` ~ `auto_start_machines`."""
    return frozenset(w[:-1] if w.endswith("s") and len(w) > 3 else w
                     for w in name.lower().replace("-", "_").split("_") if w)


# Edit similarity costs a comparison per choice: past this many choices (thousands of process groups, say)
# only the cheap matches are tried, or a file of many misspelt names would take choices x names comparisons.
MAX_FUZZY_CHOICES = 500


def closest(name: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The known name ``name`` most likely meant: same words in another order, same letters in
    another case, else the nearest by edit similarity; None when nothing is close."""
    options = list(choices)
    words = _words(name)
    for option in options:
        if _words(option) == words:
            return option
    close = difflib.get_close_matches(name, options, n=1, cutoff=cutoff) if len(options) <= MAX_FUZZY_CHOICES else []
    if close:
        return close[0]
    return next((o for o in options if o.lower() == name.lower()), None)


def did_you_mean(name: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    found = closest(name, choices, cutoff=cutoff)
    return f"did you mean `{found}`?" if found else None


def listing(names: Iterable[str], *, limit: int = 10, quote: bool = True) -> str:
    """``names`` for a message: "`a`, `b`, `c`", the first ``limit`` and "and N more" past them, so that a
    message about one of thousands of entries does not list thousands of names."""
    items = list(names)
    shown = [f"`{n}`" if quote else n for n in items[:limit]]
    if len(items) > limit:
        shown.append(f"and {len(items) - limit} more")
    return ", ".join(shown)
