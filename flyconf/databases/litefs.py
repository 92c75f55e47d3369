"""LiteFS and Litestream: where replicated SQLite lives, read from litefs.yml and litestream.yml.

LiteFS (superfly/litefs) serves SQLite databases from a FUSE directory (`fuse.dir`, default
/litefs) and keeps their data in `data.dir` (default /var/lib/litefs), which must be on a volume.
It looks for its configuration in `-config PATH`, else ./litefs.yml, ~/litefs.yml, /etc/litefs.yml
(cmd/litefs/config.go, configSearchPaths), and expands `${VAR}` from the environment (unknown
variables become empty, as Go's os.Expand does).

Litestream (benbjohnson/litestream) replicates databases listed in litestream.yml `dbs[].path` to
object storage; an app that restores them at start-up (`litestream restore`) does not need a volume.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyconf.databases.model import Context, Location, StartCommand, normpath, offset_location, resolve
from flyconf.sources.base import Document

DEFAULT_FUSE_DIR = "/litefs"  # cmd/litefs/config.go DefaultFUSEDir
DEFAULT_DATA_DIR = "/var/lib/litefs"  # cmd/litefs/config.go DefaultDataDir

# Where configurations are commonly kept in a repository, when no COPY says where LiteFS reads it.
_LITEFS_GUESSES = ("litefs.yml", "litefs.yaml", "config/litefs.yml", "etc/litefs.yml", ".fly/litefs.yml",
                   "other/litefs.yml", "_fly/litefs.yml", "fly/litefs.yml")
_LITESTREAM_GUESSES = ("litestream.yml", "litestream.yaml", "etc/litestream.yml", "config/litestream.yml")
_VAR = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class ExecCommand:
    """One command of litefs.yml `exec` (or what follows `litefs mount --`)."""

    cmd: str
    if_candidate: bool
    at: Location | None


@dataclass(frozen=True)
class LiteFS:
    """LiteFS settings: the FUSE directory the app uses and the data directory that must be on a volume."""

    fuse_dir: str | None  # None when it depends on a variable flyconf cannot see
    data_dir: str | None
    config: Path | None  # the litefs.yml on disk; None when LiteFS is only inferred (a /litefs path)
    proxy_port: int | None = None  # the port LiteFS's HTTP proxy listens on (proxy.addr)
    target_port: int | None = None  # the port it forwards to (proxy.target): the app's own
    doc: Document | None = None
    fuse_at: Location | None = None  # where fuse.dir (or mount-dir) is written
    data_at: Location | None = None  # where data.dir (or data-dir) is written
    exec: tuple[ExecCommand, ...] = ()
    groups: tuple[str, ...] | None = None  # process groups that run `litefs mount`; None: not known
    image_path: str | None = None  # where LiteFS reads the file in the image, when known
    how: str = ""  # how the file was found, for `inspect`
    # Whether the image runs `litefs mount` (in ENTRYPOINT, CMD, a [processes] command or a start script);
    # None when there is no Dockerfile to tell. A litefs.yml that nothing runs is not LiteFS.
    running: bool | None = None


@dataclass(frozen=True)
class Litestream:
    """Litestream settings: the databases it replicates, and whether the image restores them at start-up."""

    paths: tuple[tuple[str, Location | None], ...]  # (absolute path, where it is written)
    config: Path | None
    restores: bool  # a start script or command runs `litestream restore`
    doc: Document | None = None


# -- finding the files ------------------------------------------------------------------------------

def _litefs_commands(ctx: Context) -> list[StartCommand]:
    return [c for c in ctx.start_commands() if _litefs_mount_at(c.argv) is not None]


def _litefs_mount_at(argv: tuple[str, ...]) -> int | None:
    for i, word in enumerate(argv[:-1]):
        if posixpath.basename(word) == "litefs" and argv[i + 1] == "mount":
            return i
    return None


def _config_flag(argv: tuple[str, ...], start: int) -> str | None:
    args = list(argv[start:])
    if "--" in args:
        args = args[: args.index("--")]
    for i, word in enumerate(args):
        if word in ("-config", "--config") and i + 1 < len(args):
            return args[i + 1]
        for prefix in ("-config=", "--config="):
            if word.startswith(prefix):
                return word[len(prefix):]
    return None


def _context_file(ctx: Context, image_path: str) -> str | None:
    """The build-context file that the image holds at ``image_path`` (COPY followed backwards)."""
    finder = getattr(ctx, "context_file", None)
    return finder(image_path) if finder is not None else None


def find_config(ctx: Context, name: str, guesses: tuple[str, ...],
                explicit: str | None) -> tuple[str | None, str | None, str]:
    """(build-context path, image path, how it was found) of a tool's YAML configuration."""
    workdir = ctx.workdir or "/"
    candidates: list[tuple[str, str]] = []
    if explicit:
        candidates.append((resolve(explicit, workdir) or explicit, f"`-config {explicit}`"))
    else:
        candidates.append((resolve(name, workdir) or "/" + name, f"./{name} in the working directory"))
        candidates.append(("/root/" + name, f"~/{name}"))
        candidates.append(("/etc/" + name, f"/etc/{name}"))
    for image_path, how in candidates:
        rel = _context_file(ctx, image_path)
        if rel is not None and ctx.read(rel) is not None:
            return rel, image_path, f"{how}, copied from {rel}"
        if explicit:
            break
    for rel in guesses:
        if ctx.read(rel) is not None:
            return rel, None, f"{rel} in the repository (where the image holds it is not known)"
    return None, None, ""


# -- LiteFS -------------------------------------------------------------------------------------------

_LITEFS_MOUNT = re.compile(r"\blitefs[\"',\s]+mount\b")


def read_litefs(ctx: Context, texts: list[str] | None = None) -> LiteFS | None:
    """LiteFS's settings for the app, or None when it has no litefs.yml and does not run LiteFS.

    ``texts``: the Dockerfile and the start scripts, where `litefs mount` may be run; None when the
    app has no Dockerfile (then whether LiteFS runs cannot be told).
    """
    commands = _litefs_commands(ctx)
    running: bool | None = None
    if texts is not None:
        running = bool(commands) or any(_LITEFS_MOUNT.search(t) for t in texts)
    explicit = None
    for command in commands:
        at = _litefs_mount_at(command.argv)
        if at is not None:
            explicit = explicit or _config_flag(command.argv, at + 2)
    rel, image_path, how = find_config(ctx, "litefs.yml", _LITEFS_GUESSES, explicit)
    groups = tuple(sorted({c.group for c in commands})) or None
    inline = _inline_exec(commands)
    if rel is None:
        if not commands:
            return None
        if not running:
            return None
        return LiteFS(DEFAULT_FUSE_DIR, DEFAULT_DATA_DIR, None, exec=inline, groups=groups,
                      how="`litefs mount` runs, but its litefs.yml is not in the build context", running=True)
    doc = ctx.read(rel)
    assert doc is not None
    tree = _compose(doc.text)
    if tree is None:
        return LiteFS(None, None, _fs_path(ctx, rel), doc=doc, groups=groups, image_path=image_path,
                      how=how + "; it does not parse as YAML", running=running)
    env = {name: var.value for name, var in ctx.env.items()}
    fuse, fuse_node = _setting(tree, ("fuse", "dir"), ("mount-dir",))
    data, data_node = _setting(tree, ("data", "dir"), ("data-dir",))
    fuse_dir = _expand(fuse, env) if fuse is not None else DEFAULT_FUSE_DIR
    data_dir = _expand(data, env) if data is not None else DEFAULT_DATA_DIR
    proxy_addr, _ = _setting(tree, ("proxy", "addr"), ())
    proxy_target, _ = _setting(tree, ("proxy", "target"), ())
    return LiteFS(
        fuse_dir=normpath(fuse_dir) if fuse_dir and fuse_dir.startswith("/") else None,
        data_dir=normpath(data_dir) if data_dir and data_dir.startswith("/") else None,
        config=_fs_path(ctx, rel),
        proxy_port=_port(_expand(proxy_addr, env) if proxy_addr else None),
        target_port=_port(_expand(proxy_target, env) if proxy_target else None),
        doc=doc,
        fuse_at=_node_location(doc, fuse_node),
        data_at=_node_location(doc, data_node),
        exec=_exec(doc, tree) + inline,
        groups=groups,
        image_path=image_path,
        how=how if running is not False else how + "; nothing in the image runs `litefs mount`",
        running=running,
    )


def _fs_path(ctx: Context, rel: str) -> Path | None:
    return ctx.root / rel if ctx.root is not None else None


def _inline_exec(commands: list[StartCommand]) -> tuple[ExecCommand, ...]:
    """`litefs mount -- cmd args`: the command after `--` runs like an `exec` entry."""
    out = []
    for command in commands:
        argv = list(command.argv)
        if "--" in argv:
            rest = argv[argv.index("--") + 1:]
            if rest:
                out.append(ExecCommand(" ".join(rest), False, command.at))
    return tuple(out)


def _compose(text: str) -> Any:
    import yaml

    from flyconf.sources.yamlnodes import compose

    try:
        return compose(text)
    except yaml.YAMLError:
        return None
    except RecursionError:  # pragma: no cover - absurd nesting
        return None


def _mapping_get(node: Any, key: str) -> Any:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _setting(tree: Any, path: tuple[str, ...], legacy: tuple[str, ...]) -> tuple[str | None, Any]:
    import yaml

    for keys in (path, legacy):
        if not keys:
            continue
        node = tree
        for key in keys:
            node = _mapping_get(node, key)
        if isinstance(node, yaml.ScalarNode) and node.value != "":
            return node.value, node
    return None, None


def _node_location(doc: Document, node: Any) -> Location | None:
    if node is None:
        return None
    # A mark's line and column count "\r", "\x85", U+2028 and U+2029 as line breaks (YAML does); its
    # character index, placed by flyconf's line model, agrees with every other source.
    return offset_location(doc, node.start_mark.index, node.end_mark.index)


def _exec(doc: Document, tree: Any) -> tuple[ExecCommand, ...]:
    import yaml

    node = _mapping_get(tree, "exec")
    if isinstance(node, yaml.ScalarNode):
        return (ExecCommand(node.value, False, _node_location(doc, node)),)
    out = []
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):  # a bare string item is not LiteFS's format, but be kind
                out.append(ExecCommand(item.value, False, _node_location(doc, item)))
                continue
            cmd = _mapping_get(item, "cmd")
            cand = _mapping_get(item, "if-candidate")
            if isinstance(cmd, yaml.ScalarNode):
                flag = isinstance(cand, yaml.ScalarNode) and cand.value.lower() in ("true", "yes", "on")
                out.append(ExecCommand(cmd.value, flag, _node_location(doc, cmd)))
    return tuple(out)


def _expand(value: str, env: dict[str, str]) -> str | None:
    """LiteFS's `${VAR}` expansion; None when a variable flyconf cannot see decides the value."""
    unknown = False

    def sub(m: re.Match[str]) -> str:
        nonlocal unknown
        name = (m.group(1) or m.group(2) or "").strip()
        if name in env:
            return env[name]
        unknown = True
        return ""

    out = _VAR.sub(sub, value).strip()
    return None if unknown else out


def _port(value: str | None) -> int | None:
    m = re.search(r":([0-9]{1,5})$", value or "")
    return int(m.group(1)) if m else None


# -- Litestream ---------------------------------------------------------------------------------------

_LITESTREAM = re.compile(r"\blitestream[\"',\s]+(replicate|restore)\b")


def read_litestream(ctx: Context, texts: list[str]) -> Litestream | None:
    """Litestream's databases, when the image runs Litestream (``texts``: the Dockerfile and start scripts)."""
    runs = [m.group(1) for t in texts for m in _LITESTREAM.finditer(t)]
    commands = [" ".join(c.argv) for c in ctx.start_commands()]
    runs += [m.group(1) for t in commands for m in _LITESTREAM.finditer(t)]
    if not runs:
        return None
    explicit = None
    for t in texts + commands:
        m = re.search(r"\blitestream\s+(?:replicate|restore)\b[^\n]*?-config[= ]([^\s\"';]+)", t)
        if m:
            explicit = m.group(1)
            break
    rel, _image_path, _how = find_config(ctx, "litestream.yml", _LITESTREAM_GUESSES, explicit)
    paths: list[tuple[str, Location | None]] = []
    doc = ctx.read(rel) if rel is not None else None
    if doc is not None:
        import yaml

        tree = _compose(doc.text)
        dbs = _mapping_get(tree, "dbs") if tree is not None else None
        env = {name: var.value for name, var in ctx.env.items()}
        if isinstance(dbs, yaml.SequenceNode):
            for item in dbs.value:
                node = _mapping_get(item, "path")
                if isinstance(node, yaml.ScalarNode):
                    value = _expand(node.value, env)
                    absolute = resolve(value, ctx.workdir) if value else None
                    if absolute is not None:
                        paths.append((absolute, _node_location(doc, node)))
    return Litestream(tuple(paths), _fs_path(ctx, rel) if rel else None, "restore" in runs, doc)
