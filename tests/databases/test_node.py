"""The Node reader: drizzle.config.*, knexfile.*, and SQLite files opened with a literal path in the app's code."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.assemble import load_app
from flyconf.databases import node
from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Found
from flyconf.sources.base import Document
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, pos, write_app

FLY = """
app = "todo"
primary_region = "cdg"

[http_service]
  internal_port = 3000

[[mounts]]
  source = "data"
  destination = "/data"
"""

DOCKERFILE = """
FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
CMD ["node", "dist/server.js"]
"""

PACKAGE = '{"name": "todo", "dependencies": {"better-sqlite3": "^11.0.0", "drizzle-orm": "^0.33.0"}}'


def dbs(root: Path) -> list[Found]:
    return list(node.read(app_at(root).context))


def steps(db: Found) -> list[str]:
    return [s.text for s in db.chain]


def app(tmp_path: Path, files: dict[str, str], *, fly: str = FLY, dockerfile: str = DOCKERFILE,
        package: str = PACKAGE) -> list[Found]:
    write_app(tmp_path, {"fly.toml": fly, "Dockerfile": dockerfile, "package.json": package, **files})
    return dbs(tmp_path)


# -- Drizzle --------------------------------------------------------------------------------------

def test_drizzle_literal_url(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        import { defineConfig } from "drizzle-kit";

        export default defineConfig({
          schema: "./src/db/schema.ts",
          out: "./drizzle",
          dialect: "sqlite",
          dbCredentials: {
            url: "file:./data/sqlite.db",
          },
        });
        """})
    assert (db.kind, db.path, db.framework, db.reader, db.name) == (SQLITE, "/app/data/sqlite.db", "drizzle", "node",
                                                                    "drizzle")
    assert pos(db) == ("drizzle.config.ts", 8, 10)
    assert (db.relative, db.base, db.variable, db.form) == ("data/sqlite.db", "/app", None, "file:")
    assert steps(db) == ["drizzle-kit configuration drizzle.config.ts: dialect 'sqlite'",
                         "dbCredentials.url = 'file:./data/sqlite.db'",
                         "relative path `data/sqlite.db` resolved against the working directory /app"]


def test_drizzle_env_url_from_fly_toml(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        import type { Config } from "drizzle-kit";
        export default {
          schema: "./app/schema.ts",
          dialect: "sqlite",
          dbCredentials: { url: process.env.DATABASE_URL! },
        } satisfies Config;
        """}, fly=FLY + '\n[env]\n  DATABASE_URL = "/data/app.db"\n')
    assert (db.kind, db.path, db.variable, db.claims) == (SQLITE, "/data/app.db", "DATABASE_URL", ("DATABASE_URL",))
    assert pos(db) == ("fly.toml", 12, 18)
    assert steps(db)[1:] == ["dbCredentials.url = `process.env.DATABASE_URL`",
                             "DATABASE_URL = '/data/app.db' is set in fly.toml [env]"]


def test_drizzle_env_with_default_behind_a_secret(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.js": """
        /** @type { import("drizzle-kit").Config } */
        module.exports = {
          dialect: 'sqlite',
          dbCredentials: { url: process.env.DB_FILE ?? 'local.db' },
        };
        """})
    assert (db.kind, db.path, db.variable) == (SQLITE, None, "DB_FILE")
    assert pos(db) == ("drizzle.config.js", 4, 25)
    assert db.unknown == ("DB_FILE is set only as a secret (or nowhere flyconf can see): the default 'local.db' "
                          "applies unless it is set as a secret")


def test_drizzle_env_with_default_uses_the_visible_value(tmp_path: Path) -> None:
    dockerfile = DOCKERFILE.replace("ENV NODE_ENV=production", "ENV NODE_ENV=production DB_FILE=/data/prod.db")
    [db] = app(tmp_path, {"drizzle.config.mjs": """
        const url = process.env.DB_FILE || "local.db";
        export default { dialect: "sqlite", dbCredentials: { url } };
        """}, dockerfile=dockerfile)
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/prod.db", ("Dockerfile", 2, 25))


def test_drizzle_legacy_driver(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        import type { Config } from "drizzle-kit";
        export default {
          schema: "./src/schema.ts",
          driver: "better-sqlite",
          dbCredentials: { url: "/data/legacy.db" },
        } as Config;
        """})
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/legacy.db", ("drizzle.config.ts", 5, 25))


def test_drizzle_turso_is_a_server_unless_its_url_is_a_file(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        export default {
          dialect: "turso",
          dbCredentials: { url: "libsql://todo-acme.turso.io", authToken: process.env.TURSO_AUTH_TOKEN },
        };
        """})
    assert (db.kind, db.path, pos(db)) == (SERVER, None, ("drizzle.config.ts", 3, 25))


def test_drizzle_turso_behind_a_secret_is_unknown(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        export default {
          dialect: "turso",
          dbCredentials: { url: process.env.TURSO_DATABASE_URL!, authToken: process.env.TURSO_AUTH_TOKEN },
        };
        """})
    assert (db.kind, db.path, db.variable) == (UNKNOWN, None, "TURSO_DATABASE_URL")
    assert pos(db) == ("drizzle.config.ts", 3, 25)


def test_drizzle_turso_with_a_local_file(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        export default { dialect: "turso", dbCredentials: { url: "file:/data/local.db" } };
        """})
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/local.db", ("drizzle.config.ts", 1, 58))


def test_drizzle_postgres_is_a_server_and_claims_its_variable(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        import { defineConfig } from "drizzle-kit";
        export default defineConfig({
          dialect: "postgresql",
          dbCredentials: { url: process.env.DATABASE_URL! },
        });
        """}, fly=FLY + '\n[env]\n  DATABASE_URL = "file:/data/stray.db"\n')
    assert (db.kind, db.path, db.claims, pos(db)) == (SERVER, None, ("DATABASE_URL",), ("drizzle.config.ts", 3, 12))


def test_drizzle_without_credentials_leaves_it_to_the_code(tmp_path: Path) -> None:
    assert app(tmp_path, {"drizzle.config.ts": 'export default { dialect: "sqlite", schema: "./s.ts" };'}) == []


def test_drizzle_path_join_dirname(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"drizzle.config.ts": """
        import path from "node:path";
        export default { dialect: "sqlite", dbCredentials: { url: path.join(__dirname, "db", "app.db") } };
        """})
    assert (db.path, db.base, pos(db)) == ("/app/db/app.db", "/app", ("drizzle.config.ts", 2, 59))
    assert steps(db)[-1] == "relative path `db/app.db` resolved against the directory of drizzle.config.ts in the " \
                            "image (__dirname) /app"


# -- Knex -----------------------------------------------------------------------------------------

KNEXFILE = """
const path = require("path");

const shared = { useNullAsDefault: true, migrations: { directory: "./migrations" } };

module.exports = {
  development: {
    ...shared,
    client: "better-sqlite3",
    connection: { filename: "./dev.sqlite3" },
  },
  production: {
    ...shared,
    client: "sqlite3",
    connection: {
      filename: process.env.DATABASE_PATH || "/data/prod.sqlite3",
    },
  },
};
"""


def test_knex_production_environment_from_node_env(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"knexfile.js": KNEXFILE}, fly=FLY + '\n[env]\n  DATABASE_PATH = "/data/todo.sqlite3"\n')
    assert (db.kind, db.path, db.framework, db.name) == (SQLITE, "/data/todo.sqlite3", "knex", "production")
    assert db.variable == "DATABASE_PATH"
    assert pos(db) == ("fly.toml", 12, 19)
    assert db.form == "path"
    assert steps(db) == ["NODE_ENV = 'production' is set in Dockerfile ENV",
                         "production environment of knexfile.js: client 'sqlite3'",
                         "connection.filename = `process.env.DATABASE_PATH || \"/data/prod.sqlite3\"`",
                         "DATABASE_PATH = '/data/todo.sqlite3' is set in fly.toml [env]"]
    assert db.chain[1].at is not None and (db.chain[1].at.span.line, db.chain[1].at.span.column) == (13, 13)


def test_knex_production_default_behind_a_secret(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"knexfile.js": KNEXFILE})
    assert (db.kind, db.path, db.variable) == (SQLITE, None, "DATABASE_PATH")
    assert pos(db) == ("knexfile.js", 15, 17)
    assert db.unknown is not None and "'/data/prod.sqlite3' applies unless it is set as a secret" in db.unknown


def test_knex_server_in_production_and_sqlite_in_development(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"knexfile.ts": """
        import type { Knex } from "knex";

        const config: { [key: string]: Knex.Config } = {
          development: { client: "sqlite3", connection: { filename: "./dev.sqlite3" }, useNullAsDefault: true },
          production: { client: "pg", connection: process.env.DATABASE_URL, pool: { min: 2, max: 10 } },
        };

        export default config;
        """})
    assert (db.kind, db.path, db.claims, pos(db)) == (SERVER, None, ("DATABASE_URL",), ("knexfile.ts", 5, 25))


def test_knex_without_node_env_is_unknown(tmp_path: Path) -> None:
    dockerfile = DOCKERFILE.replace("ENV NODE_ENV=production\n", "")
    [db] = app(tmp_path, {"knexfile.js": KNEXFILE}, dockerfile=dockerfile)
    assert (db.kind, db.path, pos(db)) == (UNKNOWN, None, ("knexfile.js", 11, 3))
    assert db.unknown == ("NODE_ENV is not set in fly.toml or the Dockerfile: knex uses `development` unless NODE_ENV "
                          "is set as a secret")


def test_knex_single_configuration_with_dirname(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"db/knexfile.js": "", "knexfile.js": """
        const path = require('path')
        module.exports = {
          client: 'better-sqlite3',
          connection: { filename: path.resolve(__dirname, 'var', 'app.db') },
          useNullAsDefault: true,
        }
        """}, dockerfile=DOCKERFILE.replace("COPY . .", "COPY . /srv/app"))
    assert (db.kind, db.path, db.name, db.base) == (SQLITE, "/srv/app/var/app.db", "knex", "/srv/app")
    assert pos(db) == ("knexfile.js", 4, 27)


def test_knex_connection_string_is_a_file_name(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"knexfile.cjs": """
        module.exports = { production: { client: "sqlite3", connection: "data/app.sqlite" } };
        """})
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/app/data/app.sqlite", ("knexfile.cjs", 1, 65))


def test_knex_memory_and_unknown_clients_are_nothing(tmp_path: Path) -> None:
    assert app(tmp_path, {"knexfile.js": """
        module.exports = { production: { client: "sqlite3", connection: { filename: ":memory:" } } };
        """}) == []


# -- literal opens --------------------------------------------------------------------------------

def test_better_sqlite3_literal(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"src/db.ts": """
        import Database from "better-sqlite3";
        import { drizzle } from "drizzle-orm/better-sqlite3";

        // const old = new Database("old.db");
        const sqlite = new Database("data/todo.db", { fileMustExist: false });
        sqlite.pragma("journal_mode = WAL");
        export const db = drizzle(sqlite);
        """, "src/db.test.ts": 'import Database from "better-sqlite3";\nnew Database("test.db");\n',
        "tests/setup.ts": 'import Database from "better-sqlite3";\nnew Database("fixtures.db");\n'})
    assert (db.kind, db.path, db.framework, db.name) == (SQLITE, "/app/data/todo.db", "node", "todo.db")
    assert pos(db) == ("db.ts", 5, 29)
    assert db.declared.span.end_column == 43
    assert (db.variable, db.relative, db.base) == (None, "data/todo.db", "/app")
    assert steps(db) == ['`Database("data/todo.db")` in src/db.ts (better-sqlite3)',
                         "relative path `data/todo.db` resolved against the working directory /app"]


def test_non_literal_and_memory_opens_are_left_alone(tmp_path: Path) -> None:
    assert app(tmp_path, {"src/db.js": """
        const Database = require("better-sqlite3");
        const a = new Database(process.env.DB_PATH);
        const b = new Database(`${dir}/x.db`);
        const c = new Database(":memory:");
        const d = new Database();
        const e = new Map("x.db");
        """}) == []


def test_database_class_from_another_module_is_not_sqlite(tmp_path: Path) -> None:
    assert app(tmp_path, {"server/db.ts": """
        import { Database } from "./my-orm";
        const db = new Database("app.db");
        """}) == []


def test_sqlite3_verbose_require(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"server/db.js": """
        const sqlite3 = require('sqlite3').verbose();
        const db = new sqlite3.Database('/data/app.sqlite3', (err) => { if (err) throw err; });
        """}, package='{"dependencies": {"sqlite3": "5"}}')
    assert (db.path, pos(db)) == ("/data/app.sqlite3", ("db.js", 2, 33))


def test_sqlite_open_filename(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"lib/db.mjs": """
        import sqlite3 from "sqlite3";
        import { open } from "sqlite";
        export const db = await open({ filename: "./storage/app.db", driver: sqlite3.Database });
        """}, package='{"dependencies": {"sqlite3": "5", "sqlite": "5"}}')
    assert (db.path, pos(db)) == ("/app/storage/app.db", ("db.mjs", 3, 42))


def test_libsql_client_file_url(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"app/db.server.ts": """
        import { createClient } from "@libsql/client";
        export const client = createClient({ url: "file:/data/local.db" });
        export const remote = createClient({ url: "libsql://x.turso.io", authToken: "t" });
        """}, package='{"dependencies": {"@libsql/client": "0.14"}}')
    assert (db.path, db.form, pos(db)) == ("/data/local.db", "file:", ("db.server.ts", 2, 43))


def test_bun_sqlite(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"index.ts": """
        import { Database } from "bun:sqlite";
        const db = new Database("mydb.sqlite", { create: true });
        """, "bun.lockb": ""}, package='{"name": "b", "devDependencies": {"@types/bun": "1"}}',
        dockerfile='FROM oven/bun:1\nWORKDIR /usr/src/app\nCOPY . .\nCMD ["bun", "run", "index.ts"]\n')
    assert (db.path, pos(db)) == ("/usr/src/app/mydb.sqlite", ("index.ts", 2, 25))


def test_node_sqlite_and_drizzle_path(tmp_path: Path) -> None:
    found = app(tmp_path, {"src/a.ts": 'import { DatabaseSync } from "node:sqlite";\n'
                                       'const db = new DatabaseSync("/data/a.db");\n',
                           "src/b.ts": 'import { drizzle } from "drizzle-orm/better-sqlite3";\n'
                                       'export const db = drizzle("/data/b.db");\n'})
    assert [(d.path, pos(d)) for d in found] == [("/data/a.db", ("a.ts", 2, 29)), ("/data/b.db", ("b.ts", 2, 27))]


def test_same_file_in_config_and_code_is_one_database(tmp_path: Path) -> None:
    found = app(tmp_path, {
        "drizzle.config.ts": 'export default { dialect: "sqlite", dbCredentials: { url: "sqlite.db" } };',
        "src/db.ts": 'import Database from "better-sqlite3";\nexport const db = new Database("sqlite.db");\n'})
    assert [(d.framework, d.path, pos(d)) for d in found] == [
        ("drizzle", "/app/sqlite.db", ("drizzle.config.ts", 1, 59))]


def test_strings_in_comments_regexes_and_jsx_do_not_confuse_the_scan(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"app/page.tsx": """
        import Database from "better-sqlite3";
        const re = /new Database\\("x.db"\\)/;
        /* new Database("block.db") */
        export default function Page() {
          return <p>Don't worry, it's fine</p>;
        }
        const db = new Database('/data/page.db');
        """})
    assert (db.path, pos(db)) == ("/data/page.db", ("page.tsx", 7, 25))


def test_no_package_json_nothing(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE,
                         "src/db.js": 'const D = require("better-sqlite3"); new D("x.db");'})
    assert dbs(tmp_path) == []


# -- the tokenizer --------------------------------------------------------------------------------

def test_tokenizer_strings_templates_and_escapes() -> None:
    toks = node.tokenize('a = "q\\"x\\u0041\\x42" + `t${`n${"}"}`}` + `plain`; // c "d"\n/re[/]x/g.test(s)')
    assert [(t.kind, t.text) for t in toks] == [
        ("name", "a"), ("punct", "="), ("str", 'q"xAB'), ("punct", "+"), ("tmpl", '`t${`n${"}"}`}`'),
        ("punct", "+"), ("str", "plain"), ("punct", ";"), ("regex", "/re[/]x/g"), ("punct", "."), ("name", "test"),
        ("punct", "("), ("name", "s"), ("punct", ")")]


def test_module_values_follow_spreads_and_constants() -> None:
    doc = Document(display_path="knexfile.js", text="""
const base = { client: "sqlite3", connection: { filename: "a.db" } };
const other = { ...base, connection: { filename: "b.db" } };
module.exports = { production: other };
""")
    mod = node.read_module(doc)
    prod = node.get(mod, node.exported(mod), "production")
    assert isinstance(node.get(mod, prod, "client"), node.JStr)
    filename = node.get(mod, node.get(mod, prod, "connection"), "filename")
    assert isinstance(filename, node.JStr) and filename.value == "b.db"


JS_WORDS = ["import", "Database", "from", '"better-sqlite3"', "'sqlite3'", "require(", ")", "(", "{", "}", "[", "]",
            "new", '"x.db"', "`", "${", "//", "/*", "*/", "/", "\n", "process.env.X", "??", "||", "!", ",", ";", ":",
            "...", "export default", "module.exports =", "const c =", "as", "satisfies", "<", ">", "'", '"', "\\", "=>"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(JS_WORDS), max_size=60))
def test_javascript_noise_never_raises(words: list[str]) -> None:
    doc = Document(display_path="x.ts", text=" ".join(words))
    mod = node.read_module(doc, "x.ts")
    config = node.exported(mod)
    node.get(mod, config, "dialect")
    for tok in mod.toks:
        assert 0 <= tok.start < tok.end <= len(doc.text)


@needs_shared(CORPUS)
def test_every_corpus_app_reads_without_error() -> None:
    apps = sorted(p for p in CORPUS.rglob("*.toml") if p.name == "fly.toml" or p.name.startswith("fly."))
    assert apps
    for path in apps:
        loaded, _ = load_app(path)
        if loaded is None:
            continue
        for db in node.read(loaded.context):
            assert db.declared.span.line >= 1 and db.declared.span.column >= 1


def test_typescript_import_equals_require(tmp_path: Path) -> None:
    [db] = app(tmp_path, {"server/db.ts": 'import Database = require("better-sqlite3");\n'
                                          'export const db = new Database("/data/ts.db");\n'})
    assert (db.path, pos(db)) == ("/data/ts.db", ("db.ts", 2, 32))
