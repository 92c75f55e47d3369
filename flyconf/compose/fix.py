"""`flyconf fix` for Compose: a SQLite database that is on no volume gets a named volume.

For each `compose-sqlite-not-on-volume` and `compose-sqlite-read-only` finding (not suppressed), the
service gets a `volumes` entry `<name>:<the database's directory>` and the volume is declared under
the top-level `volumes`. The edit is made with ruamel.yaml's round-trip mode, which keeps comments,
quotes and key order; flyconf then checks that the new text is the old one with lines only added,
and refuses to write anything else. A directory where the image has files of its own (the app's code,
schema.prisma beside dev.db) is not mounted over: a new named volume is filled with the image's files
once, then hides every later image's version of them. Nothing is written here: the caller shows the
changes or writes them atomically.
"""

from __future__ import annotations

import difflib
import io
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from flyconf.sources.base import split_lines

if TYPE_CHECKING:
    from flyconf.assemble import Workspace
    from flyconf.compose.apps import ServiceApp
    from flyconf.sources.compose import ComposeFile

_SYSTEM_DIRS = frozenset({"/", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/var", "/opt", "/home", "/root",
                          "/srv", "/proc", "/sys", "/dev", "/run", "/usr/local", "/usr/src"})
# Files that may sit in a database directory of the image without making it the app's: the database
# itself (and its journal), and the placeholders that keep an empty directory in Git.
_HARMLESS = re.compile(r"(^\.(git)?keep$|^\.gitignore$|\.(db|sqlite|sqlite3|db3)(-wal|-shm|-journal)?$)")
_DIR_WALK_LIMIT = 3000


@dataclass(frozen=True)
class _Edit:
    service: str
    volume: str
    directory: str
    declare: bool
    finding: tuple[str, int, int, str] = ("", 0, 0, "")  # the finding this edit fixes (path, line, column, code)


@dataclass
class ComposePlan:
    """What `flyconf fix` changes in Compose files: the edits, a line per change, the findings it fixes
    (code and position), and why it declines the others."""

    changes: list[Any] = field(default_factory=list)  # flyconf.generate.plan.FileChange
    done: list[str] = field(default_factory=list)
    fixed: set[tuple[str, int, int, str]] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


def plan_compose_fixes(paths: Sequence[Path], ws: "Workspace", units: Sequence[Any] | None = None) -> ComposePlan:
    """The named volumes that the SQLite databases of these Compose projects need (``units``: the projects
    lint already loaded from ``paths``, so they are not read again).

    The same plan decides which findings `flyconf lint` marks `[*]`: exactly those in ``fixed``.
    """
    plan = ComposePlan()
    from flyconf.compose.lint import load_units
    from flyconf.fileio import write_problem, write_root
    from flyconf.generate.plan import FileChange
    from flyconf.rules.compose import COMPOSE_NOT_ON_VOLUME, COMPOSE_READ_ONLY, sqlite_verdicts
    from flyconf.suppress import apply

    if units is None:
        units, _findings = load_units(paths, ws)
    edits: dict[Any, list[_Edit]] = {}
    docs: dict[Any, "ComposeFile"] = {}
    for unit in units:
        verdicts = [v for v in sqlite_verdicts(unit) if v.rule in (COMPOSE_NOT_ON_VOLUME, COMPOSE_READ_ONLY)]
        if not verdicts:
            continue
        # What lint reports: the rule selected for the file (the run's configuration) and not suppressed.
        conf = ws.config
        kept = {(d.path, d.line, d.column, d.code) for d in apply([v.diagnostic() for v in verdicts], ws.documents)
                if conf is None or conf.policy(d.path).allows(d.code)}
        planned: dict[str, str] = {}  # directory -> volume: services that open the same file share it
        mounted: set[tuple[str, str]] = set()
        taken = set(unit.project.volumes) | {m.source for sa in unit.services for m in sa.service.mounts
                                             if m.source}
        for v in verdicts:
            d = v.diagnostic()
            if (d.path, d.line, d.column, d.code) not in kept or v.db.path is None:
                continue
            service = v.service.service
            directory = posixpath.dirname(v.db.path)
            shown = f"{service.at.doc.display_path}: service `{service.name}`"
            if (service.name, directory) in mounted:
                continue
            problem = _unsafe(v.service, directory)
            if problem is not None:
                plan.skipped.append(f"{shown}: {v.db.path} not moved onto a volume: {problem}")
                continue
            doc = service.at.doc
            if doc.fs_path is None:
                continue
            problem = write_problem(doc.fs_path, write_root(doc.fs_path, ws.roots))
            if problem is not None:
                plan.skipped.append(f"{shown}: {v.db.path} not moved onto a volume: {problem}")
                continue
            if directory in planned:
                volume, declare = planned[directory], False
            else:
                volume, declare = _volume_name(directory, unit, taken)
                taken.add(volume)
                planned[directory] = volume
            mounted.add((service.name, directory))
            finding = (d.path, d.line, d.column, d.code)
            edits.setdefault(doc.fs_path, []).append(_Edit(service.name, volume, directory, declare, finding))
            docs[doc.fs_path] = doc  # type: ignore[assignment]
    for path, items in edits.items():
        doc = docs[path]
        try:
            new = edit_text(doc.text, items)
        except EditRefused as exc:
            plan.skipped.append(f"{doc.display_path}: not fixed: {exc}")
            continue
        if new == doc.text:
            continue
        plan.changes.append(FileChange(path, doc.text, new, why="Compose file", root=write_root(path, ws.roots)))
        plan.fixed.update(e.finding for e in items)
        for e in items:
            declared = ", declared under top-level `volumes`" if e.declare else ""
            plan.done.append(f"{doc.display_path}: service `{e.service}` mounts the named volume `{e.volume}` at "
                             f"{e.directory}{declared} (the SQLite database was on no volume)")
    return plan


def _volume_name(directory: str, unit: Any, taken: set[str]) -> tuple[str, bool]:
    """A name for the new volume, and whether it must be declared (a declared volume no one uses is reused)."""
    base = re.sub(r"[^a-zA-Z0-9_.-]+", "-", posixpath.basename(directory.rstrip("/"))).strip("-.") or "data"
    used = {m.source for sa in unit.services for m in sa.service.mounts if m.source}
    if base in unit.project.volumes and base not in used:
        return base, False
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name, True


def _unsafe(sa: "ServiceApp", directory: str) -> str | None:
    """Why a named volume at ``directory`` would do harm (None: it is safe)."""
    from flyconf.app import is_under

    if directory in _SYSTEM_DIRS:
        return f"its directory {directory} is a system directory; move the database to a directory of its own"
    workdir = sa.app.workdir
    if workdir is not None and is_under(workdir, directory):
        return (f"a volume at {directory} would hide the app's directory {workdir}; set the database's path to a "
                "directory of its own (e.g. /data/app.db) and mount a volume there")
    image_files = _image_files_in(sa, directory)
    if image_files:
        return (f"the image has files in {directory} ({', '.join(image_files[:3])}): a named volume there would keep "
                "the first image's copy of them and hide every later one; move the database to a directory of its "
                "own (e.g. /data) and mount a volume there")
    return None


def _image_files_in(sa: "ServiceApp", directory: str) -> list[str]:
    """Build-context files (other than databases and placeholders) that the image puts under ``directory``."""
    from flyconf.app import is_under
    from flyconf.databases.context import _SKIP_DIRS

    app = sa.app
    root = app.directory
    if root is None or app.image is None:
        return []
    ctx = app.context
    found: list[str] = []
    visited = 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = sorted(d for d in dirnames
                             if d not in _SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            visited += 1
            if visited > _DIR_WALK_LIMIT:
                return found
            if _HARMLESS.search(name):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            where = ctx.image_path(rel)
            if where is not None and is_under(where, directory):
                found.append(rel)
                if len(found) >= 3:
                    return found
    return found


# -- the edit ----------------------------------------------------------------------------------------------

class EditRefused(ValueError):
    """The file cannot be edited without changing more than the added lines."""


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them, for ruamel.yaml's ``indent``."""
    mapping: int | None = None
    offset: int | None = None
    parent: int | None = None
    for line in text.splitlines():  # YAML's own line breaks ("\r", U+2028...): this reads indentation only
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if stripped.startswith("- ") or stripped == "-":
            if offset is None and parent is not None and indent >= parent:
                offset = indent - parent
            parent = None
            continue
        if re.match(r"[^\s:#'\"-][^:#]*:\s*(#.*)?$|['\"][^'\"]*['\"]:\s*(#.*)?$", stripped):
            if parent is not None and indent > parent and mapping is None:
                mapping = indent - parent
            parent = indent
        else:
            parent = None
    offset = offset if offset is not None else 2  # no list to learn from: the Compose documentation's style
    return mapping or 2, offset + 2, offset


def edit_text(text: str, edits: Sequence[_Edit]) -> str:
    """``text`` with each service's volume entry and top-level declaration added (ruamel.yaml round trip)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    mapping, sequence, offset = guess_indent(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise EditRefused(f"ruamel.yaml cannot read it ({exc})") from None
    services = data.get("services") if isinstance(data, CommentedMap) else None
    if not isinstance(services, CommentedMap):
        raise EditRefused("its services are not in this file")
    for e in edits:
        node = services.get(e.service)
        if not isinstance(node, CommentedMap):
            raise EditRefused(f"service `{e.service}` is not a plain mapping here")
        spec = f"{e.volume}:{e.directory}"
        volumes = node.get("volumes")
        if volumes is None:
            _append(node, "volumes", CommentedSeq([spec]))
        elif isinstance(volumes, CommentedSeq):
            if volumes and all(isinstance(v, dict) for v in volumes):  # long syntax: keep it
                entry = CommentedMap([("type", "volume"), ("source", e.volume), ("target", e.directory)])
                _append(volumes, None, entry)
            else:
                _append(volumes, None, spec)
        else:
            raise EditRefused(f"service `{e.service}`'s `volumes` is not a list")
        if e.declare:
            top = data.get("volumes")
            if top is None:
                _append(data, "volumes", CommentedMap([(e.volume, None)]))
            elif isinstance(top, CommentedMap):
                if e.volume not in top:
                    _append(top, e.volume, None)
            else:
                raise EditRefused("its top-level `volumes` is not a mapping")
    out = io.StringIO()
    yaml.dump(data, out)
    new = out.getvalue()
    if "\r\n" in text:
        new = re.sub(r"(?<!\r)\n", "\r\n", new)
    _check_only_added(text, new)
    return new


def _append(container: Any, key: Any, value: Any) -> None:
    """Append to a mapping (``key``) or a sequence, moving the blank lines and comments that followed the
    old last element after the new one, where they were."""
    tail = _take_tail(container)
    if key is None:
        container.append(value)
    else:
        container[key] = value
    if tail:
        _put_tail(container, tail)


def _last_slot(node: Any) -> tuple[Any, Any] | None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap) and len(node):
        key = list(node.keys())[-1]
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
            return _last_slot(value)
        return node, key
    if isinstance(node, CommentedSeq) and len(node):
        index = len(node) - 1
        value = node[index]
        if isinstance(value, (CommentedMap, CommentedSeq)) and len(value):
            return _last_slot(value)
        return node, index
    return None


def _take_tail(node: Any) -> str | None:
    """Remove and return what follows the end of the line of ``node``'s last element (blank lines, comments)."""
    from ruamel.yaml.comments import CommentedMap

    slot = _last_slot(node)
    if slot is None:
        return None
    container, key = slot
    entry = container.ca.items.get(key)
    pos = 2 if isinstance(container, CommentedMap) else 0
    if not entry or len(entry) <= pos or entry[pos] is None:
        return None
    token = entry[pos]
    value = token.value
    cut = value.find("\n")
    if cut == -1 or cut == len(value) - 1:
        return None
    token.value, tail = value[: cut + 1], value[cut + 1:]
    return str(tail)


def _put_tail(node: Any, tail: str) -> None:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = _last_slot(node)
    if slot is None:
        return
    container, key = slot
    pos = 2 if isinstance(container, CommentedMap) else 0
    entry = container.ca.items.setdefault(key, [None, None, None, None] if pos == 2 else [None, None])
    if entry[pos] is None:
        entry[pos] = CommentToken("\n" + tail, CommentMark(0), None)
    else:
        entry[pos].value += tail


def _check_only_added(old: str, new: str) -> None:
    """The edit may only add lines: every line of the file stays, in order, as it was."""
    before = split_lines(old)  # the line numbers of the message are the file's
    after = split_lines(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, _i2, _j1, _j2 in matcher.get_opcodes():
        if tag != "equal" and tag != "insert":
            changed = before[i1] if i1 < len(before) else ""
            raise EditRefused(f"the YAML editor would also rewrite line {i1 + 1} ({changed.strip()!r}); add the "
                              "volume by hand")
