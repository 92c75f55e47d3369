"""The rule registry: every rule is declared once, with its metadata.

A rule module declares its rules with :func:`declare` and its checks with
:func:`check`. The engine runs the checks; ``flyconf rules`` and the reporters
read the metadata. Adding a rule touches only the module that declares it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from flyconf.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from flyconf.sources.base import Document

_CODE = re.compile(r"^FC\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")



# A message or hint quotes the files (a command, a value): a 2 MB command must not become a 2 MB finding, in
# every output format, for each finding that quotes it.
MAX_TEXT = 1000


def bounded(text: str) -> str:
    """``text`` cut to about :data:`MAX_TEXT` characters, saying how much was left out: the middle goes, since a
    message usually ends with why (`... 999…999: value out of range`)."""
    if len(text) <= MAX_TEXT:
        return text
    head, tail = MAX_TEXT * 2 // 3, MAX_TEXT // 3
    return f"{text[:head]}… ({len(text) - head - tail} characters left out) …{text[-tail:]}"


@dataclass(frozen=True)
class Rule:
    """Metadata of one rule. ``code`` and ``name`` are a public interface: never change them."""

    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str
    bad: str = ""
    good: str = ""
    fixable: bool = False
    family: str = ""
    # What the examples are: a file name (default fly.toml), or "$" for a command line. An example
    # made of several files separates them with `==> path <==` lines (as `head` prints files).
    example_file: str = "fly.toml"
    # Every severity the rule's findings are emitted with, the default (``severity``) first. A rule that
    # reports some cases more or less strongly (a documented form as info, say) declares them all here,
    # where it is declared, so that `flyconf rules` says what users will see.
    severities: tuple[Severity, ...] = ()

    @property
    def anchor(self) -> str:
        """The rule's anchor in docs/rules.md."""
        from flyconf.meta import rule_anchor

        return rule_anchor(self.code, self.name)

    @property
    def url(self) -> str:
        """The rule's documentation: its section of docs/rules.md."""
        from flyconf.meta import rule_url

        return rule_url(self.code, self.name)

    def example_files(self, example: str) -> list[tuple[str, str]]:
        """An example (``rule.bad`` or ``rule.good``) as (file name, text) pairs."""
        return split_example(example, self.example_file)

    @property
    def emitted(self) -> tuple[Severity, ...]:
        """The severities findings of this rule may have, strongest first."""
        return tuple(sorted(self.severities or (self.severity,), key=lambda s: -s.rank))

    def diagnostic(
        self,
        doc: "Document",
        where: object,
        message: str,
        *,
        hint: str | None = None,
        severity: Severity | None = None,
        fixable: bool | None = None,
    ) -> Diagnostic:
        """A finding of this rule at ``where`` in ``doc`` (a key path, an instruction or a span).

        ``fixable`` defaults to the rule's; a rule with a fix passes False where its fix does not apply.
        """
        span = doc.span_of(where)
        message, hint = bounded(message), bounded(hint) if hint is not None else None
        return Diagnostic(
            path=doc.display_path,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            code=self.code,
            rule=self.name,
            severity=severity or self.severity,
            message=message,
            hint=hint,
            fixable=self.fixable if fixable is None else (fixable and self.fixable),
        )


_RULES: dict[str, Rule] = {}
_BY_NAME: dict[str, Rule] = {}


def declare(
    code: str,
    name: str,
    severity: str,
    summary: str,
    explanation: str,
    *,
    bad: str = "",
    good: str = "",
    fixable: bool = False,
    family: str = "",
    example_file: str = "fly.toml",
    severities: Sequence[str] = (),
) -> Rule:
    """Declare a rule. Codes and names must be unique and well formed.

    ``severity`` is the default; ``severities`` lists the others its findings are emitted with, if any.
    """
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} must be FC followed by three digits")
    if not _NAME.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case")
    if code in _RULES or name in _BY_NAME:
        existing = _RULES.get(code) or _BY_NAME[name]
        if existing.code == code and existing.name == name:
            return existing  # module imported twice under another name
        raise ValueError(f"rule {code} {name} clashes with {existing.code} {existing.name}")
    default = Severity.parse(severity)
    others = [Severity.parse(s) for s in severities]
    rule = Rule(
        code=code,
        name=name,
        severity=default,
        summary=summary,
        explanation=_dedent(explanation),
        bad=_dedent(bad),
        good=_dedent(good),
        fixable=fixable,
        family=family,
        example_file=example_file,
        severities=tuple(dict.fromkeys([default, *others])),
    )
    _RULES[code] = rule
    _BY_NAME[name] = rule
    return rule


_FILE_MARK = re.compile(r"^==> (.+?) <==[ \t]*$", re.MULTILINE)


def split_example(example: str, default: str = "fly.toml") -> list[tuple[str, str]]:
    """(file name, text) pairs of an example: `==> path <==` lines start each file; none: one file."""
    marks = list(_FILE_MARK.finditer(example))
    if not marks:
        return [(default, example)]
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(example)
        out.append((m.group(1).strip(), example[m.end():end].strip("\n") + "\n"))
    return out


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")


# Checks, by the kind of unit they look at: "flytoml" (one fly.toml document),
# "app" (a fly.toml with its Dockerfile and scripts), "dockerfile", "script".
CheckFn = Callable[..., Iterable[Diagnostic]]
_CHECKS: dict[str, list[CheckFn]] = {}


def check(scope: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        _CHECKS.setdefault(scope, []).append(fn)
        return fn

    return register


def checks(scope: str) -> list[CheckFn]:
    load_all()
    return list(_CHECKS.get(scope, ()))


_LOADED = False


def load_all() -> None:
    """Import every rule module so that its rules and checks are registered."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import flyconf.rules  # noqa: F401  (registers on import)


def all_rules() -> list[Rule]:
    load_all()
    return sorted(_RULES.values(), key=lambda r: r.code)


def get(key: str) -> Rule | None:
    """A rule by code (``FC101``) or name (``unknown-key``)."""
    load_all()
    return _RULES.get(key.upper()) or _BY_NAME.get(key.lower())


def iter_selected(keys: Iterable[str]) -> Iterator[Rule]:
    """Rules matching codes, code prefixes (``FC1``) or names. Raises KeyError on an unknown key."""
    rules = all_rules()
    for key in keys:
        key = key.strip()
        if not key:
            continue
        if key.upper() == "ALL":
            yield from rules
            continue
        found = [r for r in rules if r.name == key.lower() or r.code.startswith(key.upper())]
        if not found or (not key.upper().startswith("FC") and not any(r.name == key.lower() for r in found)):
            raise KeyError(key)
        yield from found
