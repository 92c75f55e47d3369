"""Schema rules: fly.toml checked against ``schemas/fly.schema.json`` with jsonschema.

The JSON Schema is data (editors read the same file); this module turns
jsonschema's errors into one finding per problem, placed on the offending key
or value. Alternatives that flyctl accepts are ``anyOf`` branches: for a failed
``anyOf`` we report the errors of the branch the value was evidently meant to
be (its type matches), or one type finding when no branch fits.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from flyconf.diagnostics import Diagnostic, Severity
from flyconf.registry import check, declare
from flyconf.suggest import closest
from flyconf.units import ascii_int

if TYPE_CHECKING:
    from jsonschema import ValidationError

    from flyconf.sources.flytoml import FlyToml

UNKNOWN_KEY = declare(
    "FC101",
    "unknown-key",
    "error",
    "A key that flyctl does not know, at any depth.",
    """
    flyctl turns fly.toml into a map and decodes it with Go's encoding/json,
    which drops keys it has no field for (superfly/flyctl
    internal/appconfig/patches.go `mapToConfig`), so a typo such as
    `destinaton` or `internal_prot` deploys without the setting you meant and
    nothing warns you. Its `fly config validate --strict` (strict_validate.go)
    misses keys inside `[[services]]`, `[[mounts]]`, `[[vm]]` and
    `[[metrics]]`; flyconf checks every depth and suggests the closest valid
    key. A key that differs from a known one only in case is read by Go's
    case-insensitive matching (a warning), except where flyctl's
    normalisation writes the exact name after it: `[[Mounts]]`, `[[VM]]` and
    `[[Metrics]]` are dropped (an error).
    """,
    bad="""
    [[mounts]]
    source = "data"
    destinaton = "/data"
    """,
    good="""
    [[mounts]]
    source = "data"
    destination = "/data"
    """,
    family="schema",
    severities=("warning",),
)

INVALID_TYPE = declare(
    "FC102",
    "invalid-type",
    "error",
    "A value has a type flyctl cannot load (a string where a number belongs, a table where an array belongs).",
    """
    flyctl decodes fly.toml into typed structures. A value of the wrong type
    makes the whole file fail to load: flyctl keeps only the app name, and
    `fly deploy` and `fly config validate` report that one error and hide
    every other problem (superfly/flyctl internal/appconfig/serde.go
    `unmarshalTOML`, patches.go `applyPatches`). Some sections must be arrays
    of tables (`[[statics]]`, `[[files]]`, `[[restart]]`), some lists must be
    lists (`kernel_args`), `[build.args]` values must be strings, and
    `release_command_vm.memory` must be a string (only `[[vm]]` memory is
    converted from an integer, patches.go `patchCompute`).
    """,
    bad="""
    [statics]
    guest_path = "/app/public"
    url_prefix = "/static"
    """,
    good="""
    [[statics]]
    guest_path = "/app/public"
    url_prefix = "/static"
    """,
    family="schema",
)

INVALID_VALUE = declare(
    "FC103",
    "invalid-value",
    "error",
    "A value is outside what flyctl or the platform accepts (an enum, a range, a duration or size format).",
    """
    Values with a fixed set or grammar. From flyctl's code: `[deploy]
    strategy` (canary, rolling, immediate, bluegreen) and `[build]`
    compression (internal/appconfig/validation.go), a top-level check's
    `type` and a `[[restart]]` policy (both required), durations (Go's
    time.ParseDuration: `"30"` without a unit fails to load), memory (`[[vm]]`
    memory that comes to 0 MB stops the deploy: "memory cannot be zero",
    machines.go `computeToGuest`) and the VM `size` presets. From superfly/
    fly-go: `auto_stop_machines` and `persist_rootfs` values, the signals a
    stop config takes. From Fly's docs (reference/configuration): a service's
    protocol (tcp, udp), a concurrency type (connections, requests) and a
    check's protocol (http, https).
    """,
    bad="""
    kill_signal = "SIGSTOPP"
    kill_timeout = "30"

    [deploy]
    strategy = "blue-green"
    """,
    good="""
    kill_signal = "SIGTERM"
    kill_timeout = "30s"

    [deploy]
    strategy = "bluegreen"
    """,
    family="schema",
)

IGNORED_KEY = declare(
    "FC104",
    "ignored-key",
    "warning",
    "A key from an older fly.toml format that flyctl now ignores.",
    """
    Keys such as `script_checks`, `restart_limit`, `private_network` or
    `allowed_public_ports` belonged to Fly's v1 (Nomad) platform. flyctl still
    loads files that have them but has no field for them, so it drops them
    (superfly/flyctl internal/appconfig/config.go `Config`, patches.go
    `mapToConfig`): the setting you see in the file has no effect on your
    Machines.
    """,
    bad="""
    [experimental]
    private_network = true
    """,
    good="""
    # (remove the key: every Fly app is on a private network)
    """,
    family="schema",
    severities=("info",),
)

_TYPE_NAMES = {
    "object": "a table",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


class _Schema:
    """The loaded schema, its validator, and an index of where each key name is valid."""

    def __init__(self) -> None:
        import jsonschema

        from flyconf._resources import resource_dir

        path = resource_dir("schemas") / "fly.schema.json"
        self.schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        validator_cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]  # untyped in the stubs
            jsonschema.Draft7Validator, {"x-flyconf-ignored": _ignored_keyword}
        )
        self.validator = validator_cls(self.schema)
        self.homes: dict[str, set[str]] = defaultdict(set)
        self._index(self.schema, "", set())

    def deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                break
            target: Any = self.schema
            for part in ref[2:].split("/"):
                target = target[part]
            node = target
            seen += 1
        return node

    def _index(self, node: Any, where: str, seen: set[int]) -> None:
        """Record, for every property name, the sections where it is a valid key."""
        node = self.deref(node)
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen = seen | {id(node)}
        for name, sub in (node.get("properties") or {}).items():
            if "x-flyconf-ignored" not in sub:
                self.homes[name].add(where or "top level")
            self._index(sub, _join(where, name), seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key) or ():
                self._index(sub, where, seen)
        items = node.get("items")
        if isinstance(items, dict):
            self._index(items, where, seen)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            self._index(extra, _join(where, "<name>"), seen)



def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _ignored_keyword(validator: Any, reason: Any, instance: Any, schema: Any) -> Iterator["ValidationError"]:
    from jsonschema import ValidationError

    yield ValidationError(str(reason))


_SCHEMA: _Schema | None = None


def loaded_schema() -> _Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _Schema()
    return _SCHEMA


@check("flytoml")
def check_schema(doc: "FlyToml") -> Iterable[Diagnostic]:
    """Every schema problem in ``doc``, one finding each."""
    s = loaded_schema()
    seen: set[tuple[str, int, int, str]] = set()
    for error in s.validator.iter_errors(doc.data):
        for diag in _explain(error, doc, s):
            key = (diag.code, diag.line, diag.column, diag.message)
            if key not in seen:
                seen.add(key)
                yield diag


def _explain(error: "ValidationError", doc: "FlyToml", s: _Schema) -> Iterator[Diagnostic]:
    path = tuple(error.absolute_path)
    kind = error.validator
    if kind in ("anyOf", "oneOf"):
        yield from _explain_alternatives(error, doc, s)
    elif kind == "x-flyconf-ignored":
        name = _name(path)
        # An empty or zero leftover (`script_checks = []`, written by old flyctl) loses nothing: info only.
        harmless = error.instance in ([], {}, 0, False, "")
        yield IGNORED_KEY.diagnostic(
            doc,
            doc.key_span(path),
            f"`{name}` is ignored by flyctl: {error.message}",
            hint=f"remove `{name}`; it has no effect",
            severity=Severity.INFO if harmless else None,
        )
    elif kind == "additionalProperties":
        yield from _unknown_keys(error, doc, s)
    elif kind == "type":
        yield INVALID_TYPE.diagnostic(
            doc,
            doc.value_span(path),
            f"{_subject(path)} must be {_types(error.validator_value)}, not {_describe(error.instance)}",
            hint=_type_hint(path, error.instance, error.validator_value),
        )
    else:  # enum, pattern, ranges, required, ...: the value itself is wrong
        yield _invalid_value(error, doc, s)


def _explain_alternatives(error: "ValidationError", doc: "FlyToml", s: _Schema) -> Iterator[Diagnostic]:
    branches: dict[int, list[ValidationError]] = defaultdict(list)
    for sub in error.context or ():
        index = sub.relative_schema_path[0]  # the anyOf branch: always an index
        if isinstance(index, int):
            branches[index].append(sub)
    alternatives: list[Any] = list(error.validator_value or [])  # type: ignore[arg-type]  # anyOf: a list
    viable = {
        i: errs
        for i, errs in branches.items()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    }
    # A branch with no errors of its own cannot exist (anyOf would have passed),
    # but a branch may be missing from `branches` if it failed only through a
    # nested anyOf; treat such input conservatively as a type mismatch.
    if not viable:
        path = tuple(error.absolute_path)
        types: list[str] = []
        for alt in alternatives:
            for t in _branch_types(s.deref(alt), s):
                if t not in types:
                    types.append(t)
        yield INVALID_TYPE.diagnostic(
            doc,
            doc.value_span(path),
            f"{_subject(path)} must be {_join_or([_TYPE_NAMES.get(t, t) for t in types])}, "
            f"not {_describe(error.instance)}",
            hint=_type_hint(path, error.instance, types),
        )
        return
    # Prefer the branch whose problems are all deeper than the value itself, then the fewest problems.
    best = min(
        viable.items(),
        key=lambda item: (any(not e.relative_path for e in item[1]), len(item[1]), item[0]),
    )[1]
    for sub in best:
        yield from _explain(sub, doc, s)


def _branch_types(node: Any, s: _Schema) -> list[str]:
    node = s.deref(node)
    if not isinstance(node, dict):
        return []
    t = node.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return list(t)
    out: list[str] = []
    for alt in node.get("anyOf") or node.get("oneOf") or ():
        out.extend(_branch_types(alt, s))
    return out


def _unknown_keys(error: "ValidationError", doc: "FlyToml", s: _Schema) -> Iterator[Diagnostic]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set((schema.get("properties") or {}).keys())
    patterns = list((schema.get("patternProperties") or {}).keys())
    import re

    instance = error.instance if isinstance(error.instance, dict) else {}
    where = _section(path)
    for key in instance:
        if key in known or any(re.search(p, key) for p in patterns):
            continue
        candidates = sorted(k for k in known if "x-flyconf-ignored" not in schema["properties"][k])
        same_but_case = [c for c in candidates if c.lower() == key.lower()]
        if same_but_case:
            yield from _miscased(doc, path, key, same_but_case[0], instance[key], where)
            continue
        found = closest(key, candidates)
        close = [found] if found else []
        msg = f"unknown key `{key}` {where}"
        hint = None
        if close:
            msg += f"; did you mean `{close[0]}`?"
        else:
            homes = sorted(
                (h for h in s.homes.get(key, ()) if h != _schema_section(path)),
                key=lambda h: (h != "top level", h.count("."), h),
            )
            if homes:
                places = _join_or([f"in [{h}]" if h != "top level" else "at the top level" for h in homes[:3]])
                hint = f"`{key}` is valid {places}; check which table it is under"
        if hint is None and not close:
            shown = ", ".join(f"`{c}`" for c in candidates[:12])
            more = "…" if len(candidates) > 12 else ""
            hint = f"valid keys here: {shown}{more}" if candidates else None
        yield UNKNOWN_KEY.diagnostic(doc, doc.key_span(path + (key,)), msg, hint=hint)


# Sections flyctl's patches always (re)write under their exact name before decoding (patchCompute,
# patchMounts, patchMetrics set cfg["vm"], cfg["mounts"], cfg["metrics"] even when empty).
_REWRITTEN = {"mounts", "vm", "metrics"}
# Spellings that exist only in the patches, which look them up by exact name: no Go struct field has
# them, so a miscased one matches nothing. Keyed by the section they live in ("" is the top level).
_PATCH_ONLY = {("", "mount"), ("", "metric"), ("", "compute"), ("", "computes"), ("build", "build_target"),
               ("experimental", "kill_timeout"), ("experimental", "metrics_port"), ("experimental", "metrics_path")}


def _miscased(doc: "FlyToml", path: tuple[Any, ...], key: str, canonical: str, value: Any,
              where: str) -> Iterator[Diagnostic]:
    """A key that differs from a known one only in case.

    flyctl turns fly.toml into a map, normalises it (internal/appconfig/patches.go, by exact key
    names), then decodes it with Go's encoding/json, which matches a key to a struct field ignoring
    case, map keys in sorted order (upper case before lower case), the last match winning (serde.go
    `unmarshalTOML`, patches.go `mapToConfig`).
    """
    section = ".".join(p for p in path if isinstance(p, str))
    span = doc.key_span(path + (key,))
    if not path and canonical in _REWRITTEN:
        if isinstance(value, dict):
            yield INVALID_TYPE.diagnostic(
                doc, span,
                f"`[{key}]` fails to load in flyctl: it matches `{canonical}` only ignoring case, so flyctl's "
                f"normalisation (by exact name) does not turn the single table into a list",
                hint=f"write `[[{canonical}]]`",
            )
        else:
            yield UNKNOWN_KEY.diagnostic(
                doc, span,
                f"flyctl drops `{key}`: its normalisation sets an empty `{canonical}`, which the decoder reads after "
                f"`{key}` (keys differing only in case are matched to the same field, the last one winning)",
                hint=f"write `{canonical}`",
            )
        return
    if (section, canonical) in _PATCH_ONLY:
        yield UNKNOWN_KEY.diagnostic(
            doc, span,
            f"flyctl drops `{key}` {where}: `{canonical}` is an alternative spelling that flyctl recognises only "
            "exactly as written",
            hint=f"write `{canonical}`",
        )
        return
    yield UNKNOWN_KEY.diagnostic(
        doc, span,
        f"`{key}` {where} is read only because flyctl matches keys to its fields ignoring case; its handling of "
        f"older forms (integer durations, single tables, numbers as strings) looks for the exact name, so write "
        f"`{canonical}`",
        severity=Severity.WARNING,
    )


def _invalid_value(error: "ValidationError", doc: "FlyToml", s: _Schema) -> Diagnostic:
    path = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    subject = _subject(path)
    shown = _describe(error.instance)
    hint = None
    custom = schema.get("x-flyconf-message")
    if custom and kind in ("pattern", "format", "enum", "minimum", "maximum", "exclusiveMinimum"):
        msg = f"{subject} {custom}, not {shown}"  # the schema's message reads "must be ..."
    elif kind == "enum":
        allowed = [str(v) for v in error.validator_value]  # type: ignore[union-attr]  # enum: a list
        msg = f"{subject} must be one of {', '.join(allowed)}, not {shown}"
        if isinstance(error.instance, str):
            found = closest(error.instance, allowed, cutoff=0.5)
            if found:
                hint = f"did you mean \"{found}\"?"
    elif kind == "const":
        msg = f"{subject} must be {json.dumps(error.validator_value)}, not {shown}"
    elif kind in ("minimum", "exclusiveMinimum"):
        op = "at least" if kind == "minimum" else "greater than"
        msg = f"{subject} must be {op} {error.validator_value}, not {shown}"
    elif kind in ("maximum", "exclusiveMaximum"):
        op = "at most" if kind == "maximum" else "less than"
        msg = f"{subject} must be {op} {error.validator_value}, not {shown}"
    elif kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        msg = f"{subject} is missing the required key `{missing}`"
    elif kind == "pattern":
        msg = f"{subject} has an invalid format: {shown}"
    elif kind in ("minItems", "maxItems"):
        msg = f"{subject} must have {'at least' if kind == 'minItems' else 'at most'} {error.validator_value} item(s)"
    elif kind in ("minLength",):
        msg = f"{subject} must not be empty" if error.validator_value == 1 else f"{subject} is too short"
    else:
        msg = f"{subject}: {error.message}"
    return INVALID_VALUE.diagnostic(doc, doc.value_span(path), msg, hint=hint)


# -- wording ---------------------------------------------------------------------

def _name(path: tuple[Any, ...]) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def _subject(path: tuple[Any, ...]) -> str:
    if not path:
        return "the file"
    return f"`{_dotted(path)}`"


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _bare(part) else json.dumps(part)
            out += f".{text}" if out else text
    return out


def _bare(key: str) -> bool:
    return bool(key) and all(c.isalnum() or c in "_-" for c in key)


def _section(path: tuple[Any, ...]) -> str:
    return f"in `{_dotted(path)}`" if path else "at the top level"


def _schema_section(path: tuple[Any, ...]) -> str:
    names = [p for p in path if isinstance(p, str)]
    return ".".join(names) if names else "top level"


def _types(value: Any) -> str:
    if isinstance(value, str):
        return _TYPE_NAMES.get(value, value)
    return _join_or([_TYPE_NAMES.get(v, v) for v in value])


def _join_or(items: list[str]) -> str:
    if not items:
        return "something else"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _describe(value: Any) -> str:
    """A short, safe rendering of a value: never a whole table."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(text, ensure_ascii=False)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"  # dates and times


def _type_hint(path: tuple[Any, ...], instance: Any, expected: Any) -> str | None:
    expected_list = [expected] if isinstance(expected, str) else list(expected or [])
    name = _name(path)
    if isinstance(instance, dict) and "array" in expected_list and "object" not in expected_list:
        return f"write `[[{_dotted(path)}]]` (an array of tables), not `[{_dotted(path)}]`"
    if isinstance(instance, str) and "array" in expected_list:
        return f"write a list: `{name} = [\"...\"]`"
    if isinstance(instance, str) and expected_list and set(expected_list) <= {"integer", "number"}:
        if ascii_int(instance.strip().lstrip("-")) is not None:
            return f"remove the quotes: `{name} = {instance.strip()}`"
    if not isinstance(instance, str) and expected_list == ["string"]:
        return f"quote the value: `{name} = \"{instance}\"`" if isinstance(instance, (int, float)) else None
    return None
