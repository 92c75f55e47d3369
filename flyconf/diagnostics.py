"""Findings: what a rule reports, with a position in the user's file."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    """How serious a finding is. Ordered: info < warning < error."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: str) -> "Severity":
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r}; use one of: info, warning, error") from None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True)
class Span:
    """A 1-based region of a file. ``end_column`` is exclusive (the column after the last character)."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True, order=False)
class Diagnostic:
    """One finding.

    ``line`` and ``column`` are 1-based and point at the offending key or value;
    ``end_line``/``end_column`` (exclusive) are set where the extent is known.
    """

    path: str
    line: int
    column: int
    code: str
    rule: str
    severity: Severity
    message: str
    hint: str | None = None
    end_line: int | None = None
    end_column: int | None = None
    fixable: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a finding (the keys of ``flyconf lint --format json``)."""
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)
