"""flyconf's own failures: one file's unexpected error becomes a finding on that file (FC004), so that
the rest of the run is still reported. With ``--debug`` the error is raised instead, for its traceback."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterable, Iterator, TypeVar

from flyconf.diagnostics import Diagnostic
from flyconf.sources.base import Document

T = TypeVar("T")

_RAISE: ContextVar[bool] = ContextVar("flyconf_raise_internal_errors", default=False)
_MESSAGE_LIMIT = 300  # an exception's text can quote a whole (hostile) input


@contextmanager
def raising() -> Iterator[None]:
    """Within this block internal errors propagate (the command line's ``--debug``)."""
    token = _RAISE.set(True)
    try:
        yield
    finally:
        _RAISE.reset(token)


def should_raise() -> bool:
    return _RAISE.get()


def describe(exc: BaseException) -> str:
    """``ValueError: the message``, shortened: what a finding or a note says about an internal error."""
    text = str(exc)
    if len(text) > _MESSAGE_LIMIT:
        text = text[:_MESSAGE_LIMIT - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def internal_error(path: str, exc: BaseException, doing: str = "checking") -> Diagnostic:
    """FC004 at 1:1 of ``path``: flyconf failed while ``doing`` it."""
    from flyconf.rules.files import INTERNAL_ERROR

    return INTERNAL_ERROR.diagnostic(
        Document(display_path=path, text=""), (1, 1),
        f"flyconf failed while {doing} this file ({describe(exc)}); its findings may be incomplete",
        hint="this is a flyconf bug: please report it with the file (`--debug` prints the traceback)",
    )


def collect(path: str, found: list[Diagnostic], produce: Callable[[], Iterable[Diagnostic]],
            doing: str = "checking") -> bool:
    """Extend ``found`` with what ``produce`` yields; if it raises, keep what it yielded and add FC004 on
    ``path``. Returns whether it completed."""
    try:
        for d in produce():
            found.append(d)
    except Exception as exc:  # noqa: BLE001 - the point: one failure must not cost the other files
        if should_raise():
            raise
        found.append(internal_error(path, exc, doing))
        return False
    return True
