"""Settings: `[tool.flyconf]` in pyproject.toml, `flyconf.toml` or `.flyconf.toml`, and the command line.

Each file linted takes the configuration file closest to it: its own directory, then each parent up
to the file system's root; in one directory `.flyconf.toml` beats `flyconf.toml`, which beats a
`pyproject.toml` that has a `[tool.flyconf]` table (one without it is passed over). Files are never
merged, as in ruff: the closest one is used alone. `--config PATH` uses one file for every file
linted (its patterns relative to the current directory, as ruff's), `--isolated` none.

Rule selection follows ruff: every rule runs unless `select` says otherwise; for each rule the most
specific selector that names it decides (a code or a name beats a prefix, a longer prefix a shorter,
`ALL` is the least specific); at equal specificity the command line beats the file and, within one
of them, `ignore` beats `select`. `--select` replaces the file's `select` and `extend-select`.
`per-file-ignores` then turns rules off for the files it matches, whatever was selected.

A bad file raises :class:`ConfigError` naming the file, the line and column, and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from flyconf import registry
from flyconf.diagnostics import Severity
from flyconf.sources.base import is_directory, lexists, real_path

# In one directory the first of these that holds flyconf settings wins.
CONFIG_NAMES = (".flyconf.toml", "flyconf.toml", "pyproject.toml")

KEYS = ("select", "extend-select", "ignore", "fail-on", "severity", "per-file-ignores", "exclude", "extend-exclude")

SEVERITIES = ("info", "warning", "error")


def default_exclude() -> tuple[str, ...]:
    """What a directory walk skips unless `exclude` replaces it: dependency and tool folders."""
    from flyconf.discover import SKIP_DIRS

    return tuple(sorted(SKIP_DIRS))


class ConfigError(ValueError):
    """A configuration that cannot be used: where (file, line, column), which key, and why."""

    def __init__(self, message: str, *, path: str | None = None, line: int = 0, column: int = 0,
                 key: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.key = key
        where = path or ""
        if path and line:
            where += f":{line}:{column}"
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Settings:
    """The settings of one configuration file (or of none: the defaults).

    ``select`` None means every rule; ``exclude`` None means :func:`default_exclude`. Patterns
    (``exclude``, ``extend-exclude``, ``per-file-ignores``) are relative to ``root``; None is the
    current directory. ``origins`` says where each key was set (``"pyproject.toml:12"``).
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity | None = None
    severity: tuple[tuple[str, Severity], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    root: Path | None = None
    path: Path | None = None
    origins: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, root: str | os.PathLike[str] | None = None) -> "Settings":
        """Settings from a mapping with the keys of `[tool.flyconf]` (for library users); raises ConfigError."""
        return _validate(data, _Locator(None, None, ()), Path(root) if root is not None else None, None)

    def origin(self, key: str) -> str | None:
        return dict(self.origins).get(key)


@dataclass(frozen=True)
class Selection:
    """Rule selection given on the command line or to a library call: codes, prefixes or names.

    ``from_keys`` checks every key (ValueError names an unknown one); ``enabled`` answers for a
    run without configuration files.
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()

    @classmethod
    def from_keys(cls, select: str | Iterable[str] | None = None,
                  ignore: str | Iterable[str] | None = None) -> "Selection":
        """Each of ``select`` and ``ignore`` is one string (comma-separated keys allowed, as `--select`
        takes them) or an iterable of keys; a single string is never iterated character by character."""
        sel = None if select is None else tuple(rule_keys(select))
        ign = tuple(rule_keys(ignore or ()))
        for key in (*(sel or ()), *ign):
            if not _known_selector(key):
                raise ValueError(f"unknown rule or code: {key}{_suggestion(key)}")
        return cls(sel, ign)

    def enabled(self, code: str) -> bool:
        return code in enabled_codes(Settings(), self)


def rule_keys(value: str | Iterable[str]) -> list[str]:
    """Rule keys from one string (comma-separated) or an iterable of strings."""
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"rule keys must be strings, not {type(item).__name__}")
        out.extend(part.strip() for part in item.split(",") if part.strip())
    return out


@dataclass(frozen=True)
class Policy:
    """What the filter does with the findings of one file."""

    enabled: frozenset[str]
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.WARNING
    excluded: bool = False

    def allows(self, code: str) -> bool:
        return not self.excluded and code in self.enabled


# -- selection --------------------------------------------------------------------------------------

def _known_selector(key: str) -> bool:
    try:
        return bool(list(registry.iter_selected([key])))
    except KeyError:
        return False


def _suggestion(key: str) -> str:
    from flyconf.suggest import did_you_mean

    if re.match(r"^FC\d*$", key, re.IGNORECASE):
        return ""  # FC999 is not "near" FC902: a code has no spelling to correct
    rules = registry.all_rules()
    hint = did_you_mean(key, [r.name for r in rules] + [r.code for r in rules])
    return f"; {hint}" if hint else ""


def _specificity(key: str) -> int:
    """How precisely a selector names rules: `ALL` 0, a prefix its length, a full code or a name the most."""
    k = key.strip()
    if k.upper() == "ALL":
        return 0
    if registry.get(k) is not None:
        return 100
    return len(k)


def _codes(key: str) -> frozenset[str]:
    return frozenset(r.code for r in registry.iter_selected([key]))


def enabled_codes(settings: Settings, cli: Selection = Selection()) -> frozenset[str]:
    """The rules that run under ``settings`` with the command line's selection on top."""
    # (selector, enable, layer): the file is layer 0, the command line layer 1.
    entries: list[tuple[str, bool, int]] = []
    if cli.select is None:
        entries += [(k, True, 0) for k in (settings.select or ())]
        entries += [(k, True, 0) for k in settings.extend_select]
    entries += [(k, False, 0) for k in settings.ignore]
    entries += [(k, True, 1) for k in (cli.select or ())]
    entries += [(k, False, 1) for k in cli.ignore]
    restricted = cli.select is not None or settings.select is not None
    best: dict[str, tuple[int, int, int, bool]] = {}
    for key, enable, layer in entries:
        rank = (_specificity(key), layer, 0 if enable else 1)
        for code in _codes(key):
            if code not in best or rank > best[code][:3]:
                best[code] = (*rank, enable)
    return frozenset(r.code for r in registry.all_rules()
                     if (best[r.code][3] if r.code in best else not restricted))


def _most_specific(table: Sequence[tuple[str, Any]], code: str) -> Any:
    found: tuple[int, Any] | None = None
    for key, value in table:
        if code in _codes(key) and (found is None or _specificity(key) >= found[0]):
            found = (_specificity(key), value)
    return None if found is None else found[1]


# -- patterns ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Pattern:
    text: str
    rule: Any  # discover.IgnoreRule
    negated: bool
    name: str | None  # a plain name (`node_modules`, `legacy/`): compared with path components, no regex


_PLAIN = re.compile(r"[^/*?\[\]\\!]+/?")


def _compile(patterns: Iterable[str], root: Path) -> tuple[_Pattern, ...]:
    from flyconf.discover import parse_pattern

    out = []
    for text in patterns:
        negated = text.startswith("!")
        body = text[1:] if negated else text
        rule = parse_pattern(body, root)
        if rule is not None:
            plain = body.rstrip("/") if _PLAIN.fullmatch(body) and body.strip() == body else None
            out.append(_Pattern(text, rule, negated, plain))
    return tuple(out)


def _absolute(path: Path, cache: dict[str, Path] | None = None) -> Path:
    """An absolute path with its directories resolved and its own name kept (a link is not followed).
    ``cache`` keeps resolved directories for one run (a walk asks about every entry of a directory)."""
    full = Path(os.path.abspath(path))
    parent = str(full.parent)
    if cache is None:
        return real_path(full.parent) / full.name
    if parent not in cache:
        cache[parent] = real_path(full.parent)
    return cache[parent] / full.name


def _matches(pattern: _Pattern, path: Path, is_dir: bool) -> bool:
    """Whether a gitignore-style pattern matches ``path`` (absolute) or one of its directories."""
    return _matches_any((pattern,), path, is_dir)


def _matches_any(patterns: Sequence[_Pattern], path: Path, is_dir: bool) -> bool:
    parts_by_base: dict[Path, tuple[str, ...] | None] = {}
    for pattern in patterns:
        rule = pattern.rule
        if rule.base not in parts_by_base:
            try:
                parts_by_base[rule.base] = path.relative_to(rule.base).parts
            except ValueError:  # outside the configuration's directory: names only
                parts_by_base[rule.base] = None
        parts = parts_by_base[rule.base]
        if parts is None:
            if (pattern.name == path.name if pattern.name is not None else rule.regex.fullmatch(path.name)) and \
                    (is_dir or not rule.dir_only):
                return True
            continue
        if pattern.name is not None:
            last = len(parts) - 1
            if any(part == pattern.name and (i < last or is_dir or not rule.dir_only) for i, part in enumerate(parts)):
                return True
            continue
        for i in range(len(parts)):
            if rule.dir_only and not (i < len(parts) - 1 or is_dir):
                continue
            if rule.regex.fullmatch("/".join(parts[: i + 1])):
                return True
    return False


# -- reading files ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Locator:
    """Positions in a configuration file: where a key or a value is, for messages."""

    shown: str | None
    positions: Any  # TomlPositions | None
    prefix: tuple[str, ...]  # ("tool", "flyconf") in pyproject.toml

    def at(self, *path: str | int, key: bool = False) -> tuple[int, int]:
        if self.positions is None:
            return 0, 0
        full = self.prefix + tuple(path)
        span = self.positions.key_span(full) if key else self.positions.value_span(full)
        return span.line, span.column

    def error(self, message: str, *path: str | int, key: bool = False) -> ConfigError:
        line, column = self.at(*path, key=key)
        name = ".".join(str(p) for p in path[:1]) or None
        return ConfigError(f"{self.table()}{message}", path=self.shown, line=line, column=column, key=name)

    def table(self) -> str:
        return "[tool.flyconf] " if self.prefix else ""

    def origin(self, key: str) -> str:
        line, _ = self.at(key, key=True)
        return f"{self.shown}:{line}" if self.shown and line else (self.shown or "library call")


def load_file(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> Settings | None:
    """The settings in one file; None for a pyproject.toml without `[tool.flyconf]`. Raises ConfigError.

    Patterns are relative to ``root`` (default: the file's directory).
    """
    from flyconf.sources.base import ReadFailure, decode, display, read_bytes
    from flyconf.sources.flytoml import parse_flytoml

    file = Path(path)
    shown = display(file)
    data = read_bytes(file)
    if isinstance(data, ReadFailure):
        raise ConfigError(f"cannot read the configuration file: {data.message}", path=shown)
    text = decode(data)
    if isinstance(text, ReadFailure):
        raise ConfigError(text.message, path=shown, line=text.line, column=text.column)
    pyproject = file.name == "pyproject.toml"
    if pyproject and "flyconf" not in text:
        return None  # cheap: someone else's pyproject.toml is not even parsed
    parsed = parse_flytoml(text, shown, file)
    if isinstance(parsed, ReadFailure):
        raise ConfigError(parsed.message, path=shown, line=parsed.line, column=parsed.column)
    table: Any = parsed.data
    prefix: tuple[str, ...] = ()
    if pyproject:
        tool = table.get("tool")
        if not isinstance(tool, dict) or "flyconf" not in tool:
            return None
        table, prefix = tool["flyconf"], ("tool", "flyconf")
    locator = _Locator(shown, parsed.positions, prefix)
    if not isinstance(table, dict):
        raise locator.error("must be a table")
    base = Path(root) if root is not None else file.parent
    return _validate(table, locator, base, file)


def _validate(table: Mapping[str, Any], loc: _Locator, root: Path | None, path: Path | None) -> Settings:
    from flyconf.suggest import did_you_mean

    for key in table:
        if key not in KEYS:
            hint = did_you_mean(key, KEYS)
            raise loc.error(f"unknown key `{key}`" + (f"; {hint}" if hint else f" (known: {', '.join(KEYS)})"),
                            key, key=True)

    def rules(key: str, value: Any, *where: str | int) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise loc.error(f"`{key}` must be a list of rule codes, code prefixes or names, "
                            f'such as ["FC4", "unknown-key"]', *where)
        for i, v in enumerate(value):
            if not _known_selector(v):
                raise loc.error(f"unknown rule or code `{v}` in `{key}`{_suggestion(v)}", *where, i)
        return tuple(v.strip() for v in value)

    def patterns(key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise loc.error(f"`{key}` must be a list of file patterns, such as [\"legacy/\", \"fly.*.toml\"]", key)
        for i, v in enumerate(value):
            if v.startswith("!"):
                raise loc.error(f"`{key}` does not take negated patterns (`{v}`)", key, i)
        return tuple(value)

    def level(key: str, value: Any, *where: str | int) -> Severity:
        if not isinstance(value, str) or value.lower() not in SEVERITIES:
            raise loc.error(f"`{key}` must be one of \"info\", \"warning\", \"error\" (got {value!r})", *where)
        return Severity.parse(value)

    kw: dict[str, Any] = {}
    origins: list[tuple[str, str]] = []
    for key, value in table.items():
        origins.append((key, loc.origin(key)))
        if key == "select":
            kw["select"] = rules(key, value, key)
        elif key == "extend-select":
            kw["extend_select"] = rules(key, value, key)
        elif key == "ignore":
            kw["ignore"] = rules(key, value, key)
        elif key == "fail-on":
            kw["fail_on"] = level(key, value, key)
        elif key == "severity":
            if not isinstance(value, dict):
                raise loc.error('`severity` must be a table of rule = level, such as { sqlite-multiple-machines = '
                                '"error" }', key)
            pairs = []
            for rule, lvl in value.items():
                if not _known_selector(rule):
                    raise loc.error(f"unknown rule or code `{rule}` in `severity`{_suggestion(rule)}", key, rule,
                                    key=True)
                pairs.append((rule, level(f"severity.{rule}", lvl, key, rule)))
            kw["severity"] = tuple(pairs)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise loc.error('`per-file-ignores` must be a table of pattern = [rules], such as '
                                '{ "fly.staging.toml" = ["FC4"] }', key)
            kw["per_file_ignores"] = tuple((glob, rules(f"per-file-ignores.\"{glob}\"", v, key, glob))
                                           for glob, v in value.items())
        elif key == "exclude":
            kw["exclude"] = patterns(key, value)
        elif key == "extend-exclude":
            kw["extend_exclude"] = patterns(key, value)
    return Settings(**kw, root=root, path=path, origins=tuple(origins))


# -- a run's configuration ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Overrides:
    """What the command line (or a library call) sets on top of every configuration file."""

    selection: Selection = Selection()
    fail_on: Severity | None = None
    exclude: tuple[str, ...] = ()  # added to the excludes in effect; relative to the current directory


class Configuration:
    """The settings of each file of one run.

    ``discover``: find the closest configuration file for each file (the CLI's default);
    ``file``: use that one file for everything; ``settings``: use these; none of them: the defaults.
    """

    def __init__(self, *, discover: bool = False, file: str | os.PathLike[str] | None = None,
                 settings: Settings | None = None, overrides: Overrides = Overrides()) -> None:
        if sum((discover, file is not None, settings is not None)) > 1:
            raise ValueError("give at most one of discover, file and settings")
        self.discover = discover
        self.overrides = overrides
        self._fixed: Settings | None = settings
        if file is not None:
            loaded = load_file(file, root=Path.cwd())
            if loaded is None:
                from flyconf.sources.base import display

                raise ConfigError("has no [tool.flyconf] table", path=display(Path(file)))
            self._fixed = loaded
        self._by_dir: dict[Path, Settings] = {}
        self._loaded: dict[Path, Settings] = {}
        self._policies: dict[str, Policy] = {}
        self._compiled: dict[tuple[int, bool, bool], tuple[_Pattern, ...]] = {}
        self._cli_exclude = _compile(overrides.exclude, real_path(Path.cwd()))
        self._dirs: dict[str, Path] = {}

    def settings_for(self, path: str | os.PathLike[str]) -> Settings:
        """The settings that govern the file at ``path`` (which need not exist)."""
        if self._fixed is not None:
            return self._fixed
        if not self.discover:
            return _DEFAULT
        directory = _absolute(Path(path), self._dirs).parent
        if directory not in self._by_dir:
            found = self._closest(directory)
            self._by_dir[directory] = found
        return self._by_dir[directory]

    def _closest(self, directory: Path) -> Settings:
        for folder in (directory, *directory.parents):
            if folder in self._by_dir:
                return self._by_dir[folder]
            for name in CONFIG_NAMES:
                candidate = folder / name
                if candidate in self._loaded:
                    return self._loaded[candidate]
                if lexists(candidate) and not is_directory(candidate):  # a FIFO or a loop: ConfigError
                    loaded = load_file(candidate)
                    if loaded is not None:
                        self._loaded[candidate] = loaded
                        return loaded
        return _DEFAULT

    def policy(self, path: str) -> Policy:
        """How the findings in the file shown as ``path`` are filtered."""
        if path not in self._policies:
            self._policies[path] = self._policy(path)
        return self._policies[path]

    def _policy(self, path: str) -> Policy:
        settings = self.settings_for(path)
        enabled = set(enabled_codes(settings, self.overrides.selection))
        full = _absolute(Path(path), self._dirs)
        for pattern in self._patterns(settings, per_file=True):
            if _matches(pattern, full, False) != pattern.negated:
                enabled -= set().union(*(_codes(k) for k in dict(settings.per_file_ignores)[pattern.text]))
        severity = {r.code: s for r in registry.all_rules()
                    if (s := _most_specific(settings.severity, r.code)) is not None}
        fail_on = self.overrides.fail_on or settings.fail_on or Severity.WARNING
        return Policy(frozenset(enabled), severity, fail_on, self.excluded(full, False, explicit=True))

    def _patterns(self, settings: Settings, *, per_file: bool = False, walk: bool = False) -> tuple[_Pattern, ...]:
        key = (id(settings), per_file, walk)
        if key not in self._compiled:
            root = real_path(settings.root or Path.cwd())
            if per_file:
                texts: Sequence[str] = [glob for glob, _ in settings.per_file_ignores]
            else:
                user = settings.exclude if settings.exclude is not None else ()
                base = (settings.exclude if settings.exclude is not None else default_exclude()) if walk else user
                texts = (*base, *settings.extend_exclude)
            self._compiled[key] = _compile(texts, root)
        return self._compiled[key]

    def excluded(self, path: Path, is_dir: bool, *, explicit: bool) -> bool:
        """Whether ``path`` is excluded. A directory walk (``explicit`` False) also skips the default
        folders (`node_modules`, `.venv`...) unless `exclude` replaces them; a file named on the command
        line, or one that findings point into, is excluded only by patterns the user wrote."""
        full = _absolute(path, self._dirs)
        settings = self.settings_for(full)
        patterns = (*self._patterns(settings, walk=not explicit), *self._cli_exclude)
        return _matches_any(patterns, full, is_dir)

    def walk_filter(self) -> Callable[[Path, bool], bool]:
        return lambda path, is_dir: self.excluded(path, is_dir, explicit=False)


_DEFAULT = Settings()


# -- --show-settings --------------------------------------------------------------------------------

def describe(config: Configuration, path: str | os.PathLike[str]) -> str:
    """The settings in effect for ``path`` and where each came from, as TOML with comments."""
    # For a directory: the settings of the files directly in it.
    lookup = Path(path) / "fly.toml" if is_directory(Path(path)) else Path(path)
    settings = config.settings_for(lookup)
    cli = config.overrides
    source = "none (defaults)"
    if settings.path is not None:
        from flyconf.sources.base import display

        source = display(settings.path) + (" [tool.flyconf]" if settings.path.name == "pyproject.toml" else "")
    elif settings is not _DEFAULT:
        source = "given by the caller"
    lines = [f"# Settings for {os.fspath(path)}", f"# configuration file: {source}"]

    def row(key: str, value: Any, where: str) -> None:
        lines.append(f"{key} = {_toml(value)}  # {where}")

    def where(key: str, cli_flag: str | None = None, cli_value: Any = None) -> str:
        if cli_flag and cli_value:
            return f"command line ({cli_flag})"
        return settings.origin(key) or "default"

    sel = cli.selection
    if sel.select is not None:
        row("select", list(sel.select), "command line (--select)")
    else:
        row("select", list(settings.select) if settings.select is not None else ["ALL"], where("select"))
    row("extend-select", [] if sel.select is not None else list(settings.extend_select), where("extend-select"))
    row("ignore", list(settings.ignore), where("ignore"))
    if sel.ignore:
        row("# --ignore", list(sel.ignore), "command line")
    fail_on = cli.fail_on or settings.fail_on or Severity.WARNING
    row("fail-on", fail_on.value, where("fail-on", "--fail-on", cli.fail_on))
    row("severity", {k: v.value for k, v in settings.severity}, where("severity"))
    row("per-file-ignores", {k: list(v) for k, v in settings.per_file_ignores}, where("per-file-ignores"))
    row("exclude", list(settings.exclude if settings.exclude is not None else default_exclude()), where("exclude"))
    row("extend-exclude", list(settings.extend_exclude), where("extend-exclude"))
    if cli.exclude:
        row("# --exclude", list(cli.exclude), "command line")
    policy = config.policy(os.fspath(lookup))
    every = registry.all_rules()
    on = [f"{r.code} {r.name}" for r in every if r.code in policy.enabled]
    off = [f"{r.code} {r.name}" for r in every if r.code not in policy.enabled]
    listed = f": {', '.join(on)}" if len(on) <= len(off) else (f"; not in effect: {', '.join(off)}" if off else "")
    lines.append(f"# rules in effect: {len(on)} of {len(every)}{listed}")
    changed = [f"{r.code} {r.name} {policy.severity[r.code].value} (default {r.severity.value})"
               for r in every if r.code in policy.severity and policy.severity[r.code] != r.severity]
    if changed:
        lines.append(f"# severity changed: {', '.join(changed)}")
    if policy.excluded:
        lines.append("# this file is excluded: it is not linted")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    import json

    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(value)
