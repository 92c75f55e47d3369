"""Prisma: the `datasource` block of the Prisma schema, and Prisma 7's prisma.config.ts.

Where the schema is (packages/internals/src/cli/getSchema.ts in prisma/prisma, and the "schema location"
docs, prisma/web#6774): the `--schema` argument of the CLI, else `schema` in the Prisma config file
(prisma.config.{ts,js,mjs,cjs,mts,cts} or .config/prisma.*, relative to that file), else `prisma.schema` in
package.json (relative to package.json; deprecated in 6, gone in 7), else `./schema.prisma`, then
`./prisma/schema.prisma`; Prisma 5.15 to 6.5 also tried the folder `./prisma/schema/` (multi-file schemas).

How a relative SQLite path is read: against the directory of the schema file that holds the `datasource`
block (prisma.io/docs/orm/overview/databases/sqlite: `file:./dev.db` is "in the same directory";
prisma/prisma#24609 for multi-file schemas), and, in Prisma 7, where the url lives in prisma.config.ts,
against the directory of that file (prisma/prisma#28514). Both are taken in the image, where the
migration and the app run. The engines strip `file:` and join a relative rest to that directory
(prisma-engines psl/builtin-connectors, SqliteDatamodelConnector::set_config_dir), so `file://data/x.db`
and `file:///data/x.db` are both the absolute /data/x.db; a url that does not start with `file` is
rejected ("must start with the protocol `file:`", validate_url).

The schema is read with a small tokenizer of ours (strings with escapes, `//` and `///` comments,
braces); prisma.config.ts with the JavaScript reader of :mod:`flyconf.databases.node` (literals,
`env("X")` and `process.env.X` only).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from flyconf import shsplit
from flyconf.databases import urls
from flyconf.databases.model import (
    SERVER,
    SQLITE,
    UNKNOWN,
    Context,
    Found,
    Location,
    Step,
    offset_location,
    resolve,
)
from flyconf.databases.node import (
    JCall,
    JObj,
    JRef,
    JStr,
    Module,
    Resolved,
    dependencies,
    exported,
    get,
    package_json,
    read_module,
    resolve_string,
    unescape,
)
from flyconf.sources.base import Document

_CONFIG_FILES = tuple(f"prisma.config.{ext}" for ext in ("ts", "js", "mjs", "cjs", "mts", "cts")) + tuple(
    f".config/prisma.{ext}" for ext in ("ts", "js", "mjs", "cjs", "mts", "cts"))
_SECRET = "is set only as a secret (or in .env, which the image does not hold)"
# Driver adapters that reach a database the schema's url does not name (a libSQL server, Cloudflare D1).
_REMOTE_ADAPTERS = ("@prisma/adapter-libsql", "@prisma/adapter-d1")


# -- the schema language ----------------------------------------------------------------------------

_PSL = re.compile(r'(?P<ws>\s+)|(?P<comment>//[^\n]*)|(?P<str>"(?:[^"\\\n]|\\.)*"?)|(?P<name>[A-Za-z_][\w-]*)'
                  r'|(?P<punct>.)')


@dataclass(frozen=True)
class PTok:
    kind: str  # "str", "name", "punct"
    text: str  # the decoded value of a string
    start: int
    end: int


def psl_tokens(text: str) -> list[PTok]:
    out: list[PTok] = []
    for m in _PSL.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "comment") or kind is None:
            continue
        raw = m.group(0)
        if kind == "str":
            body = raw[1:-1] if len(raw) > 1 and raw.endswith('"') else raw[1:]
            out.append(PTok("str", unescape(body), m.start(), m.end()))
        else:
            out.append(PTok(kind, raw, m.start(), m.end()))
    return out


@dataclass(frozen=True)
class PValue:
    """A property value: a string, `env("X")`, a list of strings, or something else."""

    kind: str  # "str", "env", "list", "other"
    value: str | tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Datasource:
    name: str
    doc: Document
    rel: str  # the schema file, relative to the build context
    start: int  # where `datasource` is written
    props: dict[str, tuple[int, PValue]]  # key -> (where the key is, value)

    def at(self, value: PValue | int, end: int | None = None) -> Location:
        if isinstance(value, PValue):
            return offset_location(self.doc, value.start, value.end)
        return offset_location(self.doc, value, end)


def datasource_in(doc: Document, rel: str) -> Datasource | None:
    """The first `datasource NAME { ... }` block of a schema file."""
    toks = psl_tokens(doc.text)
    n = len(toks)
    depth = 0
    i = 0
    while i < n:
        t = toks[i]
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth = max(0, depth - 1)
        elif (depth == 0 and t.kind == "name" and t.text == "datasource" and i + 2 < n and toks[i + 1].kind == "name"
              and toks[i + 2].text == "{"):
            return Datasource(toks[i + 1].text, doc, rel, t.start, _properties(toks, i + 3))
        i += 1
    return None


def _properties(toks: list[PTok], i: int) -> dict[str, tuple[int, PValue]]:
    props: dict[str, tuple[int, PValue]] = {}
    n = len(toks)
    while i < n and toks[i].text != "}":
        t = toks[i]
        if t.kind == "name" and i + 1 < n and toks[i + 1].text == "=":
            value, i = _value(toks, i + 2)
            props.setdefault(t.text, (t.start, value))  # the first definition is the one Prisma reports against
            continue
        i += 1
    return props


def _value(toks: list[PTok], i: int) -> tuple[PValue, int]:
    n = len(toks)
    if i >= n:
        return PValue("other", "", 0, 0), i
    t = toks[i]
    if t.kind == "str":
        return PValue("str", t.text, t.start, t.end), i + 1
    if t.kind == "name" and i + 1 < n and toks[i + 1].text == "(":
        j = i + 2
        args: list[PTok] = []
        while j < n and toks[j].text not in (")", "}"):
            args.append(toks[j])
            j += 1
        end = toks[j].end if j < n else t.end
        if t.text == "env" and len(args) == 1 and args[0].kind == "str":
            return PValue("env", args[0].text, t.start, end), j + 1
        return PValue("other", "", t.start, end), j + 1
    if t.text == "[":
        j = i + 1
        items: list[str] = []
        while j < n and toks[j].text not in ("]", "}"):
            if toks[j].kind == "str":
                items.append(toks[j].text)
            j += 1
        end = toks[j].end if j < n else t.end
        return PValue("list", tuple(items), t.start, end), j + 1
    return PValue("other", t.text, t.start, t.end), i + 1


# -- finding the schema -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    files: tuple[str, ...]  # schema files, relative to the build context
    how: Step
    config: Module | None = None  # the Prisma config file, when there is one
    config_rel: str | None = None


def _config(ctx: Context) -> tuple[str, Module] | None:
    for rel in _CONFIG_FILES:
        doc = ctx.read(rel)
        if doc is not None:
            return rel, read_module(doc, rel)
    return None


def _context_path(mod: Module, value: object, here: str) -> str | None:
    """A path written in a config file (a literal, or `path.join(__dirname, ...)`), relative to the build context."""
    if isinstance(value, JRef):
        value = mod.bindings.get(value.name)
    if isinstance(value, JStr):
        parts = [value.value]
    elif isinstance(value, JCall) and value.callee in ("path.join", "path.resolve", "join", "resolve") and value.args:
        args = list(value.args)
        if isinstance(args[0], JRef) and args[0].name in ("__dirname", "import.meta.dirname"):
            args = args[1:]
        elif isinstance(args[0], JCall) and args[0].callee == "process.cwd":
            args = args[1:]
        if not args or not all(isinstance(a, JStr) for a in args):
            return None
        parts = [a.value for a in args if isinstance(a, JStr)]
    else:
        return None
    joined = posixpath.normpath(posixpath.join(here, *parts))
    return None if joined.startswith("..") or joined.startswith("/") else joined


def _files_at(ctx: Context, rel: str) -> tuple[str, ...]:
    """The schema files at ``rel``: the file itself, or the `.prisma` files of a folder."""
    rel = posixpath.normpath(rel)
    if ctx.exists(rel):
        return (rel,)
    if ctx.root is None or not (ctx.root / rel).is_dir():
        return ()  # not a folder either (and no walk of the build context for nothing)
    prefix = "" if rel == "." else rel + "/"
    return tuple(f for f in ctx.glob(f"{prefix}*.prisma") if f.startswith(prefix))


def _cli_schemas(ctx: Context, pkg: Mapping[str, object] | None) -> set[str]:
    """`--schema` arguments given to the prisma CLI, as build-context paths: in package.json scripts (run in
    the directory of package.json) and in the start commands (run in the image's working directory)."""
    out: set[str] = set()
    scripts = pkg.get("scripts") if pkg else None
    if isinstance(scripts, dict):
        for text in scripts.values():
            if isinstance(text, str) and "--schema" in text:
                out.update(posixpath.normpath(s) for s in _schema_arguments(_split(text)) if not s.startswith("/"))
    for command in ctx.start_commands():
        words: list[str] = []
        for word in command.argv:  # `sh -c "npx prisma migrate deploy --schema=..."`: the words inside
            words.extend(_split(word) if " " in word else [word])
        for s in _schema_arguments(words):
            image = s if s.startswith("/") else (posixpath.join(ctx.workdir, s) if ctx.workdir else None)
            rel = ctx.context_file(image) if image is not None else None
            out.add(rel if rel is not None else f"<{s} in the image>")
    return out


def _split(text: str) -> list[str]:
    try:
        return shsplit.split(text)
    except ValueError:
        return text.split()


def _schema_arguments(words: list[str]) -> Iterator[str]:
    seen_prisma = False
    for k, word in enumerate(words):
        if posixpath.basename(word) == "prisma":
            seen_prisma = True
        elif word in ("&&", "||", ";", "|"):
            seen_prisma = False
        elif seen_prisma and word.startswith("--schema="):
            yield word.split("=", 1)[1]
        elif seen_prisma and word == "--schema" and k + 1 < len(words):
            yield words[k + 1]


def locate(ctx: Context) -> Schema | None:
    """Where the Prisma schema is, the way the Prisma CLI looks for it."""
    pkg = package_json(ctx)
    config = _config(ctx)
    cli = _cli_schemas(ctx, pkg)
    if len(cli) > 1:
        return None  # several schemas: which one production uses is not known
    if cli:
        rel = next(iter(cli))
        files = _files_at(ctx, rel) if not rel.startswith("<") else ()
        if not files:
            return None  # the CLI is given a schema flyconf cannot find
        return Schema(files, Step(f"Prisma schema {rel} (the `--schema` argument of the prisma CLI)"),
                      config[1] if config else None, config[0] if config else None)
    if config is not None:
        rel, mod = config
        cfg = exported(mod)
        schema_v = get(mod, cfg, "schema") if isinstance(cfg, JObj) else None
        here = posixpath.dirname(rel)  # paths are relative to the config file, also in .config/
        if schema_v is not None:
            path = _context_path(mod, schema_v, here)
            if path is None:
                return None  # the schema is somewhere flyconf cannot tell
            files = _files_at(ctx, path)
            if files:
                how = Step(f"Prisma schema {path} (`schema` in {rel})", mod.location(schema_v))
                return Schema(files, how, mod, rel)
            return None
    if pkg is not None:
        prisma = pkg.get("prisma")
        if isinstance(prisma, dict) and isinstance(prisma.get("schema"), str):
            path = posixpath.normpath(str(prisma["schema"]))
            files = _files_at(ctx, path) if not path.startswith("..") and not path.startswith("/") else ()
            if files:
                return Schema(files, Step(f"Prisma schema {path} (`prisma.schema` in package.json)"),
                              config[1] if config else None, config[0] if config else None)
            return None
    for rel in ("schema.prisma", "prisma/schema.prisma"):
        if ctx.exists(rel):
            return Schema((rel,), Step(f"Prisma schema {rel} (Prisma's default location)"),
                          config[1] if config else None, config[0] if config else None)
    files = _files_at(ctx, "prisma/schema")
    if files:
        return Schema(files, Step("Prisma schema folder prisma/schema (the default of Prisma 5.15 to 6.5)"),
                      config[1] if config else None, config[0] if config else None)
    return None


# -- the reader -------------------------------------------------------------------------------------


def read(ctx: Context) -> Iterable[Found]:
    schema = locate(ctx)
    if schema is None:
        return []
    for rel in schema.files:
        doc = ctx.read(rel)
        if doc is None:
            continue
        ds = datasource_in(doc, rel)
        if ds is not None:
            return list(_datasource(ctx, schema, ds))
    return []


def _env_value(ctx: Context, ds: Datasource, key: str, value: PValue) -> Resolved:
    """A schema property's value: a literal, or an `env("X")` read from the app's environment."""
    at = ds.at(value)
    written = Step(f"{key} = {ds.doc.text[value.start:value.end]}", at)
    if value.kind == "str":
        assert isinstance(value.value, str)
        return Resolved(value.value, at, (written,))
    if value.kind == "env":
        assert isinstance(value.value, str)
        name = value.value
        var = ctx.env.get(name)
        if var is not None:
            return Resolved(var.value, var.at or at, (written, var.step()), variable=name, claims=(name,))
        return Resolved(None, at, (written,), variable=name, claims=(name,), unknown=f"{name} {_SECRET}")
    return Resolved(None, at, (written,), unknown=f"{key} is not a string or env(): flyconf cannot read it")


def _datasource(ctx: Context, schema: Schema, ds: Datasource) -> Iterator[Found]:
    claims: list[str] = []
    for key in ("url", "directUrl", "shadowDatabaseUrl"):
        prop = ds.props.get(key)
        if prop is not None and prop[1].kind == "env":
            claims.append(str(prop[1].value))
    head = [schema.how]
    provider = ds.props.get("provider")
    if provider is None:
        return
    pv = provider[1]
    decl = ds.at(pv)
    if pv.kind == "list":
        providers = tuple(pv.value)
        if "sqlite" not in providers:
            yield _server(ds, decl, head, claims, ", ".join(providers))
            return
        yield Found(framework="prisma", reader="prisma", name=ds.name, kind=UNKNOWN, declared=decl,
                    chain=(*head, Step(f"datasource {ds.name} in {ds.rel}: provider = {list(providers)}", decl)),
                    unknown="the datasource lists several providers: which one production uses is not known",
                    claims=tuple(claims))
        return
    got = _env_value(ctx, ds, "provider", pv)
    if got.value is None:
        if pv.kind == "env":
            claims.append(str(pv.value))
            yield Found(framework="prisma", reader="prisma", name=ds.name, kind=UNKNOWN, declared=got.at or decl,
                        chain=(*head, *got.chain), unknown=got.unknown, claims=tuple(claims))
        return
    claims.extend(got.claims)
    if got.value != "sqlite":
        if "url" not in ds.props:
            # Prisma 7: the url is in prisma.config.ts; without it, DATABASE_URL is the variable Prisma's own
            # templates read, and a `file:` value left in it (a template's Dockerfile ENV) is not this database.
            config_url = _config_url(ctx, schema)
            claims.extend(config_url.claims if config_url is not None else ("DATABASE_URL",))
        yield _server(ds, got.at or decl, head + list(got.chain[1:]), claims, got.value)
        return
    provider_step = Step(f"datasource {ds.name} in {ds.rel}: provider = \"sqlite\"", decl)
    chain = [*head, provider_step, *got.chain[1:]]
    # Where the url is: the schema, or (Prisma 7) the config file.
    url_prop = ds.props.get("url")
    base_rel: str | None
    url: Resolved | None
    if url_prop is not None:
        url = _env_value(ctx, ds, "url", url_prop[1])
        base_rel, base_what = ds.rel, f"the directory of {ds.rel}"
    else:
        url = _config_url(ctx, schema)
        if url is None:
            where = schema.config_rel or "prisma.config.ts"
            yield Found(framework="prisma", reader="prisma", name=ds.name, kind=SQLITE, declared=decl,
                        chain=tuple(chain), claims=tuple(claims),
                        unknown=(f"the datasource has no url and `datasource.url` in {where} is not a literal or "
                                 "env()" if schema.config is not None else
                                 "the datasource has no url (Prisma 7 reads it from prisma.config.ts, which is not "
                                 "in the build context)"))
            return
        base_rel, base_what = schema.config_rel, f"the directory of {schema.config_rel}"
    claims.extend(c for c in url.claims if c not in claims)
    chain.extend(url.chain)
    adapters = [a for a in _REMOTE_ADAPTERS if a in dependencies(package_json(ctx) or {})]

    def found(kind: str, declared: Location, **extra: Any) -> Found:
        return Found(framework="prisma", reader="prisma", name=ds.name, kind=kind, declared=declared,
                     variable=url.variable, form="file:", claims=tuple(claims), **extra)

    if adapters:
        yield found(UNKNOWN, url.at or decl, raw=url.value or "", chain=tuple(chain),
                    unknown=f"the app depends on {adapters[0]}: Prisma Client may reach a database its code names "
                            "(a libSQL server, D1) rather than the schema's url")
        return
    if url.value is None:
        yield found(SQLITE, url.at or decl, chain=tuple(chain), unknown=url.unknown)
        return
    target = urls.parse(url.value, urls.PRISMA)
    if target is not None and target.kind == SQLITE and not url.value.strip().lower().startswith(("file", "sqlite:")):
        target = None  # Prisma rejects it: "must start with the protocol `file:`"
    if target is None:
        yield found(SQLITE, url.at or decl, raw=url.value, chain=tuple(chain),
                    unknown=f"url {url.value!r} is not a `file:` URL")
        return
    if target.kind != SQLITE:
        yield found(SERVER, url.at or decl, raw=url.value, chain=tuple(chain))
        return
    if target.memory or target.path is None:
        return
    path: str | None
    unknown: str | None = None
    relative = base = None
    if target.path.startswith("/"):
        path = resolve(target.path, None)
    else:
        relative = target.path
        image = ctx.image_path(base_rel) if base_rel is not None else None
        base = posixpath.dirname(image) if image is not None else None
        path = resolve(target.path, base)
        if path is None:
            unknown = (f"relative path `{target.path}`: {base_rel} is not copied into the image (or where it lands "
                       "is not known)")
        else:
            chain.append(Step(f"relative path `{target.path}` resolved against {base_what} in the image, {base}"))
    yield found(SQLITE, url.at or decl, path=path, raw=url.value, chain=tuple(chain), unknown=unknown,
                relative=relative, base=base)


def _server(ds: Datasource, decl: Location, head: list[Step], claims: list[str], provider: str) -> Found:
    return Found(framework="prisma", reader="prisma", name=ds.name, kind=SERVER, declared=decl, raw=provider,
                 chain=(*head, Step(f"datasource {ds.name} in {ds.rel}: provider = {provider!r}", decl)),
                 claims=tuple(claims), variable=claims[0] if claims else None, form="file:")


def _config_url(ctx: Context, schema: Schema) -> Resolved | None:
    """Prisma 7: `datasource.url` in the config file (a literal, `env("X")` or `process.env.X`)."""
    mod, rel = schema.config, schema.config_rel
    if mod is None or rel is None:
        return None
    cfg = exported(mod)
    source = get(mod, cfg, "datasource") if isinstance(cfg, JObj) else None
    url_v = get(mod, source, "url") if source is not None else None
    if url_v is None:
        return None
    where = ctx.image_path(rel)
    return resolve_string(mod, url_v, ctx.env, "datasource.url", posixpath.dirname(where) if where else None)
