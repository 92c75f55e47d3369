"""Rails: the production databases of config/database.yml, read statically.

How Rails decides (rails/rails, read at 2a2db1e, same logic since 6.0):

* The environment is ``Rails.env``: ``ENV["RAILS_ENV"].presence || ENV["RACK_ENV"].presence`` (else
  "development", railties/lib/rails.rb; on Fly the Dockerfile sets RAILS_ENV, and flyconf assumes
  production when neither is visible).
* config/database.yml is rendered with ERB, then loaded with Psych (aliases allowed)
  (activesupport/lib/active_support/configuration_file.rb). A top-level ``shared`` section is
  reverse-merged into every environment (railties application/configuration.rb,
  ``database_configuration``).
* An environment whose value is a mapping of mappings is a multi-database configuration, one
  config per key; any other mapping is a single config named "primary"; a string is a URL
  (activerecord database_configurations.rb, ``build_configs``/``walk_configs``).
* A config with a ``url`` is a UrlConfig; the others take ``<NAME>_DATABASE_URL`` from the
  environment, and the config *named* "primary" also ``DATABASE_URL`` (``environment_value_for``),
  which then wins over database.yml's adapter and database (``merge_db_environment_variables``:
  UrlConfig merges the URL's keys over the hash). A UrlConfig of database.yml is left alone.
* A URL is read by ConnectionUrlResolver: the scheme is the adapter (``sqlite``/``postgres``/``mysql``
  map to sqlite3/postgresql/mysql2 since 7.2, ActiveRecord.protocol_adapters); a sqlite3 URL's
  database is the URI path (``sqlite3:///data/x`` is /data/x), an opaque URL's is what follows the
  colon (``sqlite3:db/x`` is the relative db/x); blank values are dropped.
* The sqlite3 adapter expands a relative database against ``Rails.root``
  (sqlite3_adapter.rb ``resolve_path``).

Psych's merge keys (ruby/psych lib/psych/visitors/to_ruby.rb ``revive_hash``): ``<<`` merges its
mapping over the keys read so far, keys after it win, and in a list of mappings the first wins.
ERB is never run: each tag is replaced by text of the same length, and the few ``ENV`` forms that
can be read are evaluated from fly.toml `[env]` and Dockerfile `ENV`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

from flyconf.databases.model import (
    SERVER,
    SQLITE,
    UNKNOWN,
    Context,
    Found,
    Location,
    Step,
    normpath,
    offset_location,
)
from flyconf.sources.base import Document
from flyconf.sources.yamlnodes import compose

_CONFIG = "config/database.yml"

Make = Callable[..., Found]

# Adapters (database.yml `adapter:` or a URL's scheme after protocol_adapters).
_SQLITE_ADAPTERS = frozenset({"sqlite3", "litedb"})  # litedb: litestack's SQLite adapter
_SERVER_ADAPTERS = frozenset({
    "postgresql", "postgres", "postgis", "mysql2", "mysql", "trilogy", "sqlserver", "oracle_enhanced", "oracle",
    "cockroachdb", "jdbcpostgresql", "jdbcmysql", "jdbcsqlserver", "redshift", "postgresql_makara",
    "mysql2_makara", "makara_postgresql", "makara_mysql2", "postgis_makara", "jdbc", "http", "https",
})
_PROTOCOL_ADAPTERS = {"sqlite": "sqlite3", "mysql": "mysql2", "postgres": "postgresql"}

# Gems that bring an adapter.
_SERVER_GEMS = frozenset({
    "pg", "mysql2", "trilogy", "tiny_tds", "ruby-oci8", "activerecord-sqlserver-adapter",
    "activerecord-oracle_enhanced-adapter", "activerecord-postgis-adapter", "activerecord-cockroachdb-adapter",
    "activerecord-trilogy-adapter", "activerecord-jdbcpostgresql-adapter", "activerecord-jdbcmysql-adapter",
    "activerecord-jdbcsqlserver-adapter", "activerecord-redshift-adapter", "activerecord-postgresql-adapter",
    "activerecord-mysql2-adapter", "makara", "activerecord-libsql",
})
_SQLITE_GEMS = frozenset({"sqlite3", "litestack", "activerecord-enhancedsqlite3-adapter"})
_RAILS_GEMS = frozenset({"rails", "railties"})
_DEV_GROUPS = frozenset({"development", "test"})


# -- ERB ---------------------------------------------------------------------------------------------

_PAD = "\ue000"  # fills an output tag after its marker; private-use characters YAML reads as plain text
_MARK0 = 0xE100  # the marker of output tag i is chr(_MARK0 + i)
_MARK_LIMIT = 0xF8FF - _MARK0
_MARKER = re.compile("[\ue100-\uf8ff]\ue000*")


@dataclass(frozen=True)
class ErbTag:
    """One `<%= ... %>` tag of the file: where it is and the Ruby code inside."""

    start: int  # offset of `<%`
    end: int  # offset after `%>`
    code: str
    code_start: int  # offset of ``code`` in the file


@dataclass(frozen=True)
class Masked:
    """database.yml with its ERB tags replaced by same-length text YAML accepts."""

    text: str
    tags: tuple[ErbTag, ...]  # output tags, by marker index
    regions: tuple[tuple[int, int], ...]  # offsets inside `<% if %>`/`<% each do %>` ... `<% end %>` blocks


_OPENER = re.compile(r"^\s*(if|unless|case|while|until|for|begin)\b|\bdo\s*(\|[^|]*\|)?\s*$")
_CLOSER = re.compile(r"^\s*end\b")


def mask_erb(text: str) -> Masked | None:
    """Replace every ERB tag by text of the same length (newlines kept): an output tag by a marker
    (so its value can be put back), any other tag by blanks. None when there are too many tags."""
    out: list[str] = []
    tags: list[ErbTag] = []
    open_at: list[int] = []
    regions: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("<%", i)
        if j == -1:
            out.append(text[i:])
            break
        out.append(text[i:j])
        if text.startswith("<%%", j):  # a literal `<%`
            out.append("<%%")
            i = j + 3
            continue
        close = text.find("%>", j + 2)
        end = n if close == -1 else close + 2
        body_start = j + 2
        kind = text[body_start:body_start + 1]
        if kind in ("=", "#", "-"):
            body_start += 1
        body_end = close - 1 if close != -1 and text[close - 1:close] == "-" and close - 1 >= body_start else (
            close if close != -1 else n)
        code = text[body_start:body_end]
        raw = text[j:end]
        if kind == "=":
            if len(tags) > _MARK_LIMIT:
                return None
            tags.append(ErbTag(j, end, code, body_start))
            filler = chr(_MARK0 + len(tags) - 1) + _PAD * (len(raw) - 1)
            out.append("".join("\n" if c in "\r\n" else f for c, f in zip(raw, filler, strict=False)))
        else:
            out.append("".join(c if c in "\r\n" else " " for c in raw))
            if kind != "#":
                if _CLOSER.match(code) and open_at:
                    regions.append((open_at.pop(), j))
                elif _OPENER.search(code) and not re.match(r"^\s*(elsif|else|when|in)\b", code):
                    open_at.append(end)
        i = end
    regions.extend((start, n) for start in open_at)
    return Masked("".join(out), tuple(tags), tuple(regions))


# A Ruby string literal without interpolation or escapes, a number, nil.
_S = r"""(?:"(?:[^"\\#]|#(?!\{))*"|'[^'\\]*')"""
_LIT = rf"(?:{_S}|-?\d+(?:\.\d+)?|nil|true|false)"
_ENV_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fetch-block", re.compile(rf"\s*ENV\s*\.\s*fetch\s*\(\s*(?P<var>{_S})\s*\)\s*\{{\s*(?P<d>{_LIT})\s*\}}\s*")),
    ("fetch-arg", re.compile(rf"\s*ENV\s*\.\s*fetch\s*\(\s*(?P<var>{_S})\s*,\s*(?P<d>{_LIT})\s*\)\s*")),
    ("or", re.compile(rf"\s*ENV\s*\[\s*(?P<var>{_S})\s*\](?P<presence>\s*\.\s*presence)?\s*(?:\|\||\bor\b)\s*"
                      rf"(?P<d>{_LIT})\s*")),
    ("index", re.compile(rf"\s*ENV\s*\[\s*(?P<var>{_S})\s*\]\s*")),
    ("fetch", re.compile(rf"\s*ENV\s*\.\s*fetch\s*\(\s*(?P<var>{_S})\s*\)\s*")),
    ("literal", re.compile(rf"\s*(?P<d>{_LIT})\s*")),
)
_ROOT_JOIN = re.compile(rf"\s*Rails\s*\.\s*root\s*\.\s*join\s*\(\s*(?P<args>{_S}(?:\s*,\s*{_S})*)\s*\)"
                        r"(?:\s*\.\s*to_s)?\s*")


def _literal(text: str) -> str:
    """The Ruby value of a literal matched by ``_LIT``, as ERB prints it."""
    if text[:1] in "\"'":
        return text[1:-1]
    return "" if text == "nil" else text


# -- values ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Val:
    """A value of database.yml after ERB, as far as it can be told."""

    text: str | None  # the value; None: null (when known) or not known
    at: Location  # where the value that decides it is written
    known: bool = True
    steps: tuple[Step, ...] = ()
    claims: tuple[str, ...] = ()
    var: str | None = None  # the env var the whole value comes from (`ENV["X"]`), set or not
    visible: bool = False  # ``var`` is set in fly.toml [env] or the Dockerfile
    secret: str | None = None  # a variable flyconf cannot see that decides the value
    why: str | None = None  # not known: why

    @property
    def null(self) -> bool:
        return self.known and (self.text is None or self.text == "")


@dataclass(frozen=True)
class Entry:
    key: object  # the yaml key node
    value: object  # the yaml value node
    merged_from: str | None = None  # the top-level section a `<<` merge brought it from


# -- the Gemfile -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Gem:
    name: str
    at: Location
    production: bool  # bundled outside the development and test groups


_GEM_LINE = re.compile(r"""^\s*gem\s*\(?\s*["']([\w.-]+)["'](.*)$""")
_GROUP_OPT = re.compile(r"""(?::?groups?\s*(?::|=>)\s*)(\[[^\]]*\]|%[iw][\[(][^\])]*[\])]|:\w+|["']\w+["'])""")
_GROUP_BLOCK = re.compile(r"^\s*group\s*\(?(.*?)\)?\s*(?:do|\{)\s*(?:\|[^|]*\|)?\s*$")
_BLOCK_DO = re.compile(r"\bdo\s*(?:\|[^|]*\|)?\s*$")
_BLOCK_KEYWORD = re.compile(r"^\s*(?:if|unless|case|begin|while|until)\b")
_END = re.compile(r"^\s*end\b")
_GROUP_NAMES = re.compile(r"""[:"']?(\w+)["']?""")


def _strip_comment(line: str) -> str:
    quote: str | None = None
    for k, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[:k]
    return line


def _group_names(text: str) -> set[str]:
    body = re.sub(r"^%[iw][\[(]|[\])]$", " ", text.strip())
    return {m.group(1) for m in _GROUP_NAMES.finditer(body.replace(",", " ").strip("[] "))} - {"do"}


def gemfile_gems(ctx: Context) -> tuple[list[Gem], str | None]:
    """The gems of the Gemfile (with their groups), else the direct dependencies of Gemfile.lock
    (no groups there: all count as production). Returns (gems, the file read)."""
    doc = ctx.read("Gemfile")
    if doc is not None:
        gems: list[Gem] = []
        stack: list[set[str] | None] = []
        offset = 0
        for raw in doc.text.split("\n"):
            line = _strip_comment(raw)
            m = _GEM_LINE.match(line)
            if m is not None:
                groups: set[str] = set()
                for g in stack:
                    groups |= g or set()
                opt = _GROUP_OPT.search(m.group(2))
                if opt is not None:
                    groups |= _group_names(opt.group(1))
                at = offset_location(doc, offset + m.start(1) - 1, offset + m.end(1) + 1)
                gems.append(Gem(m.group(1), at, not groups or bool(groups - _DEV_GROUPS)))
            else:
                block = _GROUP_BLOCK.match(line)
                if block is not None:
                    stack.append(_group_names(block.group(1)))
                elif _BLOCK_DO.search(line) or _BLOCK_KEYWORD.match(line):
                    stack.append(None)
                elif _END.match(line) and stack:
                    stack.pop()
            offset += len(raw) + 1
        return gems, "Gemfile"
    lock = ctx.read("Gemfile.lock")
    if lock is None:
        return [], None
    gems = []
    in_deps = False
    offset = 0
    for raw in lock.text.split("\n"):
        if raw.strip() and not raw.startswith(" "):
            in_deps = raw.strip() == "DEPENDENCIES"
        elif in_deps:
            m = re.match(r"^\s+([\w.-]+)", raw)
            if m is not None:
                gems.append(Gem(m.group(1), offset_location(lock, offset + m.start(1), offset + m.end(1)), True))
        offset += len(raw) + 1
    return gems, "Gemfile.lock"


def _is_rails(ctx: Context, gems: list[Gem], source: str | None) -> bool:
    if ctx.exists("config/application.rb") or ctx.exists("bin/rails"):
        return True
    if source is None:
        return True  # database.yml alone: nothing says it is not Rails
    if any(g.name in _RAILS_GEMS for g in gems):
        return True
    lock = ctx.read("Gemfile.lock")
    return lock is not None and re.search(r"^\s{4}(rails|railties) \(", lock.text, re.MULTILINE) is not None


# -- the reader --------------------------------------------------------------------------------------

def read(ctx: Context) -> Iterable[Found]:
    doc = ctx.read(_CONFIG)
    if doc is None:
        return []
    gems, gem_source = gemfile_gems(ctx)
    if not _is_rails(ctx, gems, gem_source):
        return []
    return _Rails(ctx, doc, gems, gem_source).databases()


@dataclass
class _Config:
    name: str
    key_at: Location  # the config's key (`production:`, `cache:`)
    entries: dict[str, Entry]
    scalar: Val | None = None  # `production: <url>`
    conditional: bool = False
    multi: bool = False  # one of several configs of the environment


@dataclass
class _Rails:
    ctx: Context
    doc: Document
    gems: list[Gem]
    gem_source: str | None
    masked: Masked | None = None
    sections: dict[int, str] = field(default_factory=dict)  # id(top-level value node) -> its key
    _memo: dict[int, dict[str, Entry]] = field(default_factory=dict)
    env_name: str = "production"
    env_steps: list[Step] = field(default_factory=list)
    env_claims: list[str] = field(default_factory=list)

    # -- entry point

    def databases(self) -> list[Found]:
        import yaml

        self.env_name, self.env_steps, self.env_claims = self._environment()
        env_name = self.env_name
        masked = mask_erb(self.doc.text)
        if masked is None:
            return self._unreadable("it has more ERB tags than flyconf reads", 0)
        self.masked = masked
        try:
            root = compose(masked.text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = mark.index if mark is not None else 0
            return self._unreadable(f"it is not valid YAML once its ERB tags are put aside ({exc.problem})", where)
        except (yaml.YAMLError, RecursionError) as exc:
            return self._unreadable(f"it is not valid YAML ({type(exc).__name__})", 0)
        if root is None or not isinstance(root, yaml.MappingNode):
            return []
        top = self._mapping(root)
        for key, entry in top.items():
            self.sections[id(entry.value)] = key
        section = top.get(env_name)
        if section is None:
            return []  # RAILS_ENV names no section: no database from database.yml
        configs = self._configs(env_name, section, top.get("shared"))
        found: list[Found] = []
        for config in configs:
            db = self._resolve(config)
            if db is not None:
                found.append(db)
        return _drop_replicas(found, configs)

    def _environment(self) -> tuple[str, list[Step], list[str]]:
        env = self.ctx.env
        for name in ("RAILS_ENV", "RACK_ENV"):
            var = env.get(name)
            if var is not None and var.value.strip():
                return var.value.strip(), [var.step()], ["RAILS_ENV", "RACK_ENV"] if name == "RACK_ENV" else [name]
        return "production", [Step("RAILS_ENV is not set in fly.toml [env] or the Dockerfile: the production "
                                   "environment is assumed")], ["RAILS_ENV"]

    def _unreadable(self, why: str, offset: int) -> list[Found]:
        at = offset_location(self.doc, offset)
        return [Found(framework="rails", reader="rails", name="primary", kind=UNKNOWN, declared=at,
                      chain=tuple(self.env_steps) + (Step(f"{_CONFIG} cannot be read: {why}", at),),
                      unknown=f"{_CONFIG} cannot be read statically: {why}", variable="DATABASE_URL",
                      form="sqlite3://", claims=tuple(dict.fromkeys(self.env_claims + ["DATABASE_URL"])))]

    # -- YAML nodes

    def _loc(self, node: object) -> Location:
        start = node.start_mark.index  # type: ignore[attr-defined]
        end = node.end_mark.index  # type: ignore[attr-defined]
        text = self.doc.text
        # an anchored or tagged node starts at its `&anchor`/`!tag`: point at the value itself
        while start < end and text[start] in "&!":
            m = re.compile(r"[&!]\S*[ \t]*").match(text, start)
            if m is None or m.end() >= end:
                break
            start = m.end()
        return offset_location(self.doc, start, end)

    def _conditional(self, *nodes: object) -> bool:
        assert self.masked is not None
        for node in nodes:
            start = node.start_mark.index  # type: ignore[attr-defined]
            if any(a <= start < b for a, b in self.masked.regions):
                return True
        return False

    def _mapping(self, node: object, visiting: frozenset[int] = frozenset()) -> dict[str, Entry]:
        """A mapping node's keys, with Psych's `<<` semantics (a merged mapping overwrites the keys
        read before it; in a list of mappings, the first wins)."""
        import yaml

        if id(node) in self._memo:
            return self._memo[id(node)]
        out: dict[str, Entry] = {}
        if not isinstance(node, yaml.MappingNode) or id(node) in visiting:
            return out
        inner = visiting | {id(node)}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            if key.tag == "tag:yaml.org,2002:merge":
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                merged: dict[str, Entry] = {}
                for src in reversed(sources):
                    from_section = self.sections.get(id(src))
                    for k, e in self._mapping(src, inner).items():
                        merged[k] = e if e.merged_from else replace(e, merged_from=from_section or "an anchor")
                out.update(merged)
            else:
                out[key.value] = Entry(key, value)
        self._memo[id(node)] = out
        return out

    # -- configurations

    def _configs(self, env: str, section: Entry, shared: Entry | None) -> list[_Config]:
        import yaml

        node = section.value
        env_at = self._loc(section.key)
        cond = self._conditional(section.key)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == "tag:yaml.org,2002:null":
                return []
            return [_Config("primary", env_at, {}, scalar=self._value(node), conditional=cond)]
        if not isinstance(node, yaml.MappingNode):
            return []
        entries = dict(self._mapping(node))
        shared_entries = self._mapping(shared.value) if shared is not None else {}
        multi = all(isinstance(e.value, yaml.MappingNode) for e in entries.values())
        shared_multi = bool(shared_entries) and all(isinstance(e.value, yaml.MappingNode)
                                                    for e in shared_entries.values())
        if not multi:
            for k, e in shared_entries.items():
                entries.setdefault(k, replace(e, merged_from="shared"))
            return [_Config("primary", env_at, entries, conditional=cond)]
        out: list[_Config] = []
        for name, entry in entries.items():
            sub = dict(self._mapping(entry.value))
            extra = self._mapping(shared_entries[name].value) if shared_multi and name in shared_entries else (
                {} if shared_multi else shared_entries)
            for k, e in extra.items():
                sub.setdefault(k, replace(e, merged_from="shared"))
            out.append(_Config(name, self._loc(entry.key), sub, conditional=cond or self._conditional(entry.key),
                               multi=True))
        return out

    # -- values

    def _value(self, node: object) -> Val:
        """The value of a scalar node with its ERB tags evaluated as far as they can be."""
        import yaml

        at = self._loc(node)
        if not isinstance(node, yaml.ScalarNode):
            return Val(None, at, known=False, why="it is not a plain value")
        if node.tag == "tag:yaml.org,2002:null":
            return Val(None, at)
        text: str = node.value
        marks = list(_MARKER.finditer(text))
        if not marks:
            return Val(text, at)
        assert self.masked is not None
        parts: list[Val] = []
        pieces: list[str] = []
        last = 0
        for m in marks:
            pieces.append(text[last:m.start()])
            tag = self.masked.tags[ord(m.group(0)[0]) - _MARK0]
            v = self._erb(tag)
            parts.append(v)
            pieces.append(v.text or "" if v.known else "")
            last = m.end()
        pieces.append(text[last:])
        steps = tuple(s for p in parts for s in p.steps)
        claims = tuple(dict.fromkeys(c for p in parts for c in p.claims))
        whole = len(marks) == 1 and marks[0].start() == 0 and marks[0].end() == len(text)
        unknown = next((p for p in parts if not p.known), None)
        if whole:
            return parts[0]
        if unknown is not None:
            return Val(None, at, known=False, steps=steps, claims=claims, secret=unknown.secret, why=unknown.why)
        return Val("".join(pieces), at, steps=steps, claims=claims)

    def _erb(self, tag: ErbTag) -> Val:
        """The output of a `<%= %>` tag, when it is one of the forms flyconf reads."""
        at = offset_location(self.doc, tag.start, tag.end)
        code = tag.code
        shown = " ".join(code.split())
        m = _ROOT_JOIN.fullmatch(code)
        if m is not None:
            parts = [_literal(p) for p in re.findall(_S, m.group("args"))]
            rel = posixpath.join(*parts) if parts else ""
            return Val(rel.lstrip("/") if not rel.startswith("/") else rel, at,
                       steps=(Step(f"`{shown}`: a path in the Rails root", at),))
        for form, pattern in _ENV_FORMS:
            m = pattern.fullmatch(code)
            if m is None:
                continue
            if form == "literal":
                return Val(_literal(m.group("d")), at)
            name = _literal(m.group("var"))
            var = self.ctx.env.get(name)
            if var is not None and not (form == "or" and m.group("presence") and not var.value):
                return Val(var.value, var.at or at, steps=(var.step(),), claims=(name,), var=name, visible=True)
            if form in ("index", "fetch"):
                why = (f"{name} is not set in fly.toml [env] or the Dockerfile: it is set only as a secret, or not "
                       "at all")
                return Val(None, at, known=False, claims=(name,), var=name, secret=name, why=why,
                           steps=(Step(f"`{shown}`: {name} is not set in fly.toml [env] or the Dockerfile", at),))
            d = m.group("d")
            d_at = offset_location(self.doc, tag.code_start + m.start("d"), tag.code_start + m.end("d"))
            how = "default of ENV.fetch" if form.startswith("fetch") else "default after `||`"
            return Val(_literal(d), d_at, claims=(name,), var=name, secret=name,
                       steps=(Step(f"{name} is not set in fly.toml [env] or the Dockerfile: {how} in `{shown}`",
                                   d_at),))
        return Val(None, at, known=False, why=f"`{shown}` is Ruby code flyconf does not evaluate",
                   steps=(Step(f"`{shown}` is Ruby code flyconf does not evaluate", at),))

    def _entry(self, config: _Config, key: str) -> Val | None:
        entry = config.entries.get(key)
        if entry is None:
            return None
        v = self._value(entry.value)
        if self._conditional(entry.key, entry.value):
            return Val(None, v.at, known=False, steps=v.steps, claims=v.claims,
                       why=f"`{key}:` is written inside an ERB `<% if %>`/loop block: which branch applies is not "
                           "known")
        return v

    def _describe(self, config: _Config, key: str, v: Val) -> Step:
        entry = config.entries[key]
        shown = self.doc.text[entry.value.start_mark.index:entry.value.end_mark.index]  # type: ignore[attr-defined]
        shown = " ".join(shown.split())
        origin = (" (from the `shared` section)" if entry.merged_from == "shared" else
                  f" (merged from `{entry.merged_from}` with <<)" if entry.merged_from else "")
        return Step(f"{key}: {shown}{origin}", self._loc(entry.value))

    # -- one database

    def _resolve(self, config: _Config) -> Found | None:
        name = config.name
        label = (f"{self.env_name} {name} database in {_CONFIG}" if config.multi else
                 f"{self.env_name} database in {_CONFIG} (a single configuration: primary)")
        chain: list[Step] = list(self.env_steps) + [Step(label, config.key_at)]
        claims: list[str] = list(self.env_claims)
        # environment_value_for: `<NAME>_DATABASE_URL`, then DATABASE_URL for the config named primary
        url_vars = [f"{name.upper()}_DATABASE_URL"] + (["DATABASE_URL"] if name == "primary" else [])
        claims.extend(url_vars)
        env_variable = url_vars[-1]  # DATABASE_URL for primary, CACHE_DATABASE_URL for cache

        def make(kind: str, declared: Location, **kw: object) -> Found:
            fields: dict[str, object] = dict(framework="rails", reader="rails", name=name, kind=kind,
                                             declared=declared, form="sqlite3://")
            fields.update(kw)
            fields["chain"] = tuple(chain)
            fields["claims"] = tuple(dict.fromkeys(claims))
            return Found(**fields)  # type: ignore[arg-type]

        if config.conditional:
            chain.append(Step("the configuration is written inside an ERB `<% if %>`/loop block", config.key_at))
            return make(UNKNOWN, config.key_at, variable=env_variable,
                        unknown="the configuration is inside an ERB block: which branch applies is not known")

        url = config.scalar if config.scalar is not None else self._entry(config, "url")
        adapter = self._entry(config, "adapter")
        database = self._entry(config, "database")
        if config.scalar is None and url is not None:
            chain.append(self._describe(config, "url", url))
        if url is not None:
            claims.extend(url.claims)

        # A config whose url is nil is a HashConfig: the environment's URL variables apply to it
        # (merge_db_environment_variables). `url: <%= ENV["DATABASE_URL"] %>` is the same thing.
        hash_config = url is None or url.null or (not url.known and url.secret in url_vars)
        if hash_config:
            for var_name in url_vars:
                var = self.ctx.env.get(var_name)
                if var is not None and var.value.strip():
                    chain.append(var.step())
                    return self._from_url(make, chain, var.value, var.at or config.key_at, var_name, database,
                                          config)
            return self._explicit(self._from_yml(make, chain, claims, adapter, database, config, env_variable,
                                                 env_variable), url, env_variable)
        assert url is not None
        if url.known:  # a UrlConfig of database.yml: the environment's URL variables do not apply
            chain.extend(url.steps)
            return self._from_url(make, chain, url.text or "", url.at, url.var, database, config)
        chain.extend(url.steps)
        if url.secret is not None:
            # `url: <%= ENV["X"] %>` with X not visible: nil (database.yml decides) unless X is a secret
            return self._explicit(self._from_yml(make, chain, claims, adapter, database, config, url.secret,
                                                 url.secret), url, url.secret)
        return self._unknown_url(make, chain, url, adapter, config)

    def _explicit(self, db: Found | None, url: Val | None, variable: str) -> Found | None:
        """`url: <%= ENV["DATABASE_URL"] %>` with the variable not visible: database.yml is written to take
        the database from it, so it is most likely set as a secret; the fallback path is not the answer."""
        if db is None or url is None or url.known or url.secret is None or db.kind != SQLITE:
            return db
        fallback = db.path or db.relative
        return replace(db, declared=url.at, path=None, relative=None, base=None, raw="", unknown=(
            f"{variable} is not set in fly.toml [env] or the Dockerfile, and {_CONFIG} takes the url from it: it "
            "is most likely set as a secret" + (f" (without it the database would be {fallback})" if fallback else "")))

    def _production_gems(self) -> tuple[list[Gem], list[Gem]]:
        server = [g for g in self.gems if g.production and g.name in _SERVER_GEMS]
        sqlite = [g for g in self.gems if g.production and g.name in _SQLITE_GEMS]
        return server, sqlite

    def _gem_kind(self, chain: list[Step], adapter: Val | None = None) -> str:
        """The kind of a database whose URL flyconf cannot see: the adapters the Gemfile bundles for
        production decide when they are all of one kind (and agree with a known ``adapter``)."""
        server, sqlite = self._production_gems()
        adapter_kind = _adapter_kind(adapter.text or "") if adapter is not None and adapter.known else None
        if server and not sqlite and adapter_kind != SQLITE:
            chain.append(Step(f"the {self.gem_source} bundles only server database adapters for production "
                              f"({', '.join(g.name for g in server)})", server[0].at))
            return SERVER
        if sqlite and not server and adapter_kind != SERVER:
            chain.append(Step(f"the {self.gem_source} bundles only SQLite for production "
                              f"({', '.join(g.name for g in sqlite)})", sqlite[0].at))
            return SQLITE
        return UNKNOWN

    def _unknown_url(self, make: Make, chain: list[Step], url: Val, adapter: Val | None, config: _Config) -> Found:
        """`url:` is Ruby code: when it is not nil it names the adapter and the database."""
        if adapter is not None and adapter.known and adapter.text:
            chain.append(self._describe(config, "adapter", adapter))
        kind = self._gem_kind(chain, adapter)
        why = None if kind == SERVER else f"the url of the {config.name} database is not known: {url.why}"
        return make(kind, url.at, variable=url.var, unknown=why)

    def _from_url(self, make: Make, chain: list[Step], url: str, at: Location, variable: str | None,
                  database: Val | None, config: _Config) -> Found | None:
        """A URL decides (UrlConfig merges the URL's adapter and database over the config)."""
        parsed = rails_url(url)
        if parsed is None:
            return make(UNKNOWN, at, raw=url, variable=variable, unknown=f"`{url}` is not a database URL")
        adapter, db_path = parsed
        kind = _adapter_kind(adapter)
        if kind == SERVER:
            return make(SERVER, at, raw=url, variable=variable)
        if kind != SQLITE:
            chain.append(Step(f"adapter `{adapter}` (the URL's scheme) is not one flyconf knows"))
            return make(UNKNOWN, at, raw=url, variable=variable, unknown=f"the adapter `{adapter}` is not known")
        if db_path is None:  # blank values of the URL are dropped: database.yml's database stays
            if database is None or database.null:
                return make(SQLITE, at, raw=url, variable=variable,
                            unknown="the URL names no database file and the configuration has none")
            chain.append(self._describe(config, "database", database))
            return self._sqlite_path(make, chain, database, variable)
        return self._place(make, chain, db_path, at, url, variable)

    def _from_yml(self, make: Make, chain: list[Step], claims: list[str], adapter: Val | None,
                  database: Val | None, config: _Config, unseen: str, variable: str) -> Found | None:
        """database.yml's adapter and database decide, unless ``unseen`` (a URL variable flyconf
        cannot see) is set as a secret."""
        not_set = f"{unseen} is not set in fly.toml [env] or the Dockerfile"
        if adapter is None:
            # ActiveRecord cannot connect without an adapter: the app works only with the URL set as a secret
            chain.append(Step(f"{not_set}, and the configuration names no adapter: the URL set as a secret "
                              "decides"))
            gem_kind = self._gem_kind(chain)
            return make(gem_kind, config.key_at, variable=variable,
                        unknown=None if gem_kind == SERVER else
                        f"the configuration names no adapter: {unseen} must be set as a secret")
        chain.append(self._describe(config, "adapter", adapter))
        claims.extend(adapter.claims)
        if not adapter.known or adapter.text is None:
            chain.extend(adapter.steps)
            return make(UNKNOWN, adapter.at, variable=variable,
                        unknown=f"the adapter is not known: {adapter.why or 'it is empty'}")
        kind = _adapter_kind(adapter.text)
        if kind == SERVER:
            # A secret DATABASE_URL of an app whose database.yml names a server adapter is that
            # server's URL (what `fly postgres attach` sets): the adapter decides.
            chain.append(Step(not_set))
            return make(SERVER, adapter.at, raw=adapter.text, variable=variable)
        if kind != SQLITE:
            return make(UNKNOWN, adapter.at, raw=adapter.text, variable=variable,
                        unknown=f"the adapter `{adapter.text}` is not one flyconf knows")
        server_gems, _sqlite = self._production_gems()
        if server_gems:
            gem = server_gems[0]
            chain.append(Step(f"{not_set}, and the {self.gem_source} bundles {gem.name} for production", gem.at))
            declared = database.at if database is not None else adapter.at
            raw = (database.text or "") if database is not None and database.known else ""
            return make(UNKNOWN, declared, variable=variable, raw=raw,
                        unknown=f"{unseen} may point at a server database, set as a secret; the {self.gem_source} "
                                f"has {gem.name}")
        gems_note = (f"the {self.gem_source} bundles no server database adapter for production"
                     if self.gem_source else "there is no Gemfile")
        chain.append(Step(f"{not_set} ({gems_note}): {_CONFIG} decides"))
        if database is None or database.null:
            return make(SQLITE, adapter.at, variable=variable,
                        unknown=f"the configuration names no database file: it comes from {unseen}, set only as a "
                                "secret")
        chain.append(self._describe(config, "database", database))
        claims.extend(database.claims)
        return self._sqlite_path(make, chain, database, variable)

    def _sqlite_path(self, make: Make, chain: list[Step], database: Val, variable: str | None) -> Found | None:
        chain.extend(database.steps)
        if not database.known or database.text is None:
            return make(SQLITE, database.at, variable=variable,
                        unknown=f"the database path is not known: {database.why}")
        return self._place(make, chain, database.text, database.at, database.text, variable)

    def _place(self, make: Make, chain: list[Step], raw_path: str, at: Location, raw: str,
               variable: str | None) -> Found | None:
        path = _sqlite_file(raw_path)
        if path is None:
            return None  # an in-memory database: nothing on disk
        if path.startswith("/"):
            return make(SQLITE, at, path=normpath(path), raw=raw, variable=variable)
        base, how = self._rails_root()
        if base is None:
            return make(SQLITE, at, raw=raw, variable=variable, relative=path,
                        unknown=f"relative path `{path}`: the Rails root in the image is not known")
        chain.append(Step(f"relative path `{path}` resolved against the Rails root {base} ({how})"))
        return make(SQLITE, at, path=normpath(posixpath.join(base, path)), raw=raw, variable=variable,
                    relative=path, base=base)

    def _rails_root(self) -> tuple[str | None, str]:
        where = self.ctx.image_path(_CONFIG)
        if where is not None:
            return normpath(posixpath.dirname(posixpath.dirname(where))), "where config/database.yml is in the image"
        if self.ctx.workdir is not None:
            return normpath(self.ctx.workdir), "the image's WORKDIR"
        return None, ""


def _drop_replicas(found: list[Found], configs: list[_Config]) -> list[Found]:
    """A `replica: true` config that opens the same file as another config is not a second database."""
    replicas = {c.name for c in configs if (e := c.entries.get("replica")) is not None
                and getattr(e.value, "value", "") in ("true", "True", "yes")}
    if not replicas:
        return found
    kept_paths = {d.path for d in found if d.name not in replicas and d.path}
    return [d for d in found if d.name not in replicas or not d.path or d.path not in kept_paths]


def _adapter_kind(adapter: str) -> str | None:
    a = adapter.strip().lower().replace("-", "_")
    a = _PROTOCOL_ADAPTERS.get(a, a)
    if a in _SQLITE_ADAPTERS:
        return SQLITE
    if a in _SERVER_ADAPTERS:
        return SERVER
    return None


_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def rails_url(url: str) -> tuple[str, str | None] | None:
    """(adapter, database) of a database URL as ActiveRecord's ConnectionUrlResolver reads it; the
    database is None when the URL leaves it blank. None when ``url`` has no scheme."""
    text = url.strip()
    m = _URL_SCHEME.match(text)
    if m is None:
        return None
    scheme = m.group(1)
    if text.lower().startswith(("jdbc:", "http:", "https:")):
        return scheme.lower(), None  # kept as a url: not a file
    adapter = scheme.replace("-", "_")
    adapter = _PROTOCOL_ADAPTERS.get(adapter, adapter)
    rest = text[m.end():].split("#", 1)[0]
    if rest.startswith("/"):
        if rest.startswith("//"):
            slash = rest.find("/", 2)
            path = rest[slash:] if slash != -1 else ""
        else:
            path = rest
        path = path.split("?", 1)[0]
        database = path if adapter == "sqlite3" else path.removeprefix("/")
    else:
        database = rest.split("?", 1)[0]  # an opaque URL: `sqlite3:db/production.sqlite3`
    database = unquote(database)
    return adapter, database or None


def _sqlite_file(database: str) -> str | None:
    """The file a sqlite3 `database:` names (SQLite `file:` URIs as Rails' resolve_path reads them);
    None for an in-memory database."""
    db = database.strip()
    if db == ":memory:" or db.startswith("file::memory:") or "mode=memory" in db:
        return None
    if db.startswith("file:/"):  # URI.parse(database).path
        rest = db[5:].split("?", 1)[0]
        if rest.startswith("//"):
            slash = rest.find("/", 2)
            rest = rest[slash:] if slash != -1 else ""
        return unquote(rest) or None
    if db.startswith("file:"):
        return unquote(db[5:].split("?", 1)[0])
    return db.removeprefix("./")


__all__ = ["ErbTag", "Gem", "Masked", "gemfile_gems", "mask_erb", "rails_url", "read"]
