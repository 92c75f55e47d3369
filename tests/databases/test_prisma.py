"""The Prisma reader: the datasource of schema.prisma (or Prisma 7's prisma.config.ts), resolved in the image."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.assemble import load_app
from flyconf.databases import prisma
from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Found
from flyconf.sources.base import Document
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, found, pos, write_app

FLY = """
app = "notes"
primary_region = "ams"

[http_service]
  internal_port = 3000

[[mounts]]
  source = "data"
  destination = "/data"
"""

FLY_ENV = FLY + """
[env]
  DATABASE_URL = "file:/data/sqlite.db"
"""

DOCKERFILE = """
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npx prisma generate && npm run build
CMD ["npm", "run", "start"]
"""

PACKAGE = """
{
  "name": "notes",
  "scripts": {"start": "prisma migrate deploy && node build/server.js"},
  "dependencies": {"@prisma/client": "^5.22.0"},
  "devDependencies": {"prisma": "^5.22.0"}
}
"""

SCHEMA_ENV = """
generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "sqlite"
  url      = env("DATABASE_URL")
}

model Note {
  id    String @id @default(cuid())
  title String
}
"""


LITERAL_DEV = 'datasource db {\n  provider = "sqlite"\n  url = "file:./dev.db"\n}\n'


def dbs(root: Path) -> list[Found]:
    return list(prisma.read(app_at(root).context))


def steps(db: Found) -> list[str]:
    return [s.text for s in db.chain]


def test_env_url_set_in_fly_toml(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY_ENV, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": SCHEMA_ENV})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.name, db.framework, db.reader) == (SQLITE, "/data/sqlite.db", "db", "prisma", "prisma")
    assert pos(db) == ("fly.toml", 12, 18)  # the [env] value: that is where a fix belongs
    assert (db.variable, db.form, db.raw, db.unknown) == ("DATABASE_URL", "file:", "file:/data/sqlite.db", None)
    assert db.claims == ("DATABASE_URL",)
    assert steps(db) == [
        "Prisma schema prisma/schema.prisma (Prisma's default location)",
        'datasource db in prisma/schema.prisma: provider = "sqlite"',
        'url = env("DATABASE_URL")',
        "DATABASE_URL = 'file:/data/sqlite.db' is set in fly.toml [env]",
    ]
    assert [(s.at.span.line, s.at.span.column) for s in db.chain if s.at is not None] == [(6, 14), (7, 14), (12, 18)]


def test_literal_relative_url_resolves_against_the_schema_directory_in_the_image(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": """
                         // The database lives next to this file.
                         datasource db {
                           provider = "sqlite"
                           url      = "file:./dev.db?connection_limit=1"
                         }
                         """})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.relative, db.base) == (SQLITE, "/app/prisma/dev.db", "dev.db", "/app/prisma")
    assert pos(db) == ("schema.prisma", 4, 14)
    assert db.declared.span.end_column == 48
    assert (db.variable, db.form, db.raw) == (None, "file:", "file:./dev.db?connection_limit=1")
    assert steps(db)[-1] == ("relative path `dev.db` resolved against the directory of prisma/schema.prisma in the "
                             "image, /app/prisma")


def test_relative_url_from_dockerfile_env_resolves_against_the_schema_directory(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "package.json": PACKAGE, "prisma/schema.prisma": SCHEMA_ENV,
                         "Dockerfile": """
                         FROM node:20-slim AS build
                         WORKDIR /myapp
                         COPY . .
                         RUN npm ci && npm run build

                         FROM node:20-slim
                         ENV DATABASE_URL="file:../data/app.db"
                         WORKDIR /myapp
                         COPY --from=build /myapp/build /myapp/build
                         COPY --from=build /myapp/node_modules /myapp/node_modules
                         ADD prisma /myapp/prisma
                         CMD ["npm", "start"]
                         """})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.relative, db.base) == (SQLITE, "/myapp/data/app.db", "../data/app.db", "/myapp/prisma")
    assert pos(db) == ("Dockerfile", 7, 5)
    assert steps(db)[-2:] == ["DATABASE_URL = 'file:../data/app.db' is set in Dockerfile ENV",
                              "relative path `../data/app.db` resolved against the directory of prisma/schema.prisma "
                              "in the image, /myapp/prisma"]


def test_env_url_only_a_secret_is_sqlite_at_an_unknown_place(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": SCHEMA_ENV})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("schema.prisma", 7, 14)
    assert db.unknown == "DATABASE_URL is set only as a secret (or in .env, which the image does not hold)"
    assert (db.variable, db.form, db.claims) == ("DATABASE_URL", "file:", ("DATABASE_URL",))


@pytest.mark.parametrize("provider", ["postgresql", "mysql", "sqlserver", "mongodb", "cockroachdb"])
def test_server_providers_are_not_sqlite(tmp_path: Path, provider: str) -> None:
    write_app(tmp_path, {"fly.toml": FLY_ENV, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": f"""
                         datasource db {{
                           provider  = "{provider}"
                           url       = env("DATABASE_URL")
                           directUrl = env("DIRECT_URL")
                         }}
                         """})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.raw) == (SERVER, None, provider)
    assert pos(db) == ("schema.prisma", 2, 15)
    assert db.claims == ("DATABASE_URL", "DIRECT_URL")  # the env reader must not report the file: URL in [env]


def test_server_provider_keeps_the_env_reader_quiet(tmp_path: Path) -> None:
    """Through discovery: a Postgres app whose [env] holds a stray file: URL is not a SQLite app."""
    write_app(tmp_path, {"fly.toml": FLY_ENV, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": SCHEMA_ENV.replace('"sqlite"', '"postgresql"')})
    everything = found(tmp_path)
    assert [(d.reader, d.kind) for d in everything] == [("prisma", SERVER)]


def test_package_json_schema_location(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE,
                         "package.json": '{"name": "x", "prisma": {"schema": "db/main.prisma", '
                                         '"seed": "tsx db/seed.ts"}}',
                         "prisma/schema.prisma": SCHEMA_ENV.replace('env("DATABASE_URL")', '"file:./wrong.db"'),
                         "db/main.prisma": 'datasource store {\n  provider = "sqlite"\n  url = "file:data.db"\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.name) == (SQLITE, "/app/db/data.db", "store")
    assert pos(db) == ("main.prisma", 3, 9)
    assert steps(db)[0] == "Prisma schema db/main.prisma (`prisma.schema` in package.json)"


def test_root_schema_comes_before_prisma_folder(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "schema.prisma": 'datasource db {\n  provider = "sqlite"\n  url = "file:/data/root.db"\n}\n',
                         "prisma/schema.prisma": SCHEMA_ENV})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/data/root.db", ("schema.prisma", 3, 9))


def test_multi_file_schema_folder(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema/models.prisma": "model User {\n  id Int @id\n}\n",
                         "prisma/schema/main.prisma": ('generator client {\n  provider = "prisma-client-js"\n'
                                                       '  previewFeatures = ["prismaSchemaFolder"]\n}\n\n'
                                                       'datasource db {\n  provider = "sqlite"\n'
                                                       '  url = "file:../../data/app.db"\n}\n')})
    [db] = dbs(tmp_path)
    assert (db.path, db.base) == ("/app/data/app.db", "/app/prisma/schema")
    assert pos(db) == ("main.prisma", 8, 9)
    assert steps(db)[0] == "Prisma schema folder prisma/schema (the default of Prisma 5.15 to 6.5)"


def test_schema_argument_of_the_cli(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE,
                         "package.json": '{"scripts": {"start": "prisma migrate deploy --schema=./server/db.prisma '
                                         '&& node index.js", "dev": "prisma db push --schema ./server/db.prisma"}}',
                         "server/db.prisma": 'datasource db {\n  provider = "sqlite"\n  url = "file:./db.sqlite"\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/app/server/db.sqlite", ("db.prisma", 3, 9))
    assert steps(db)[0] == "Prisma schema server/db.prisma (the `--schema` argument of the prisma CLI)"


def test_prisma_config_schema_and_prisma7_url(tmp_path: Path) -> None:
    write_app(tmp_path, {"Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma.config.ts": """
                         import "dotenv/config";
                         import path from "node:path";
                         import { defineConfig, env } from "prisma/config";

                         export default defineConfig({
                           schema: path.join("db", "schema.prisma"),
                           migrations: { path: "db/migrations" },
                           datasource: {
                             url: env("DATABASE_URL"),
                           },
                         });
                         """,
                         "db/schema.prisma": 'generator client {\n  provider = "prisma-client"\n}\n\n'
                                             'datasource db {\n  provider = "sqlite"\n}\n',
                         "fly.toml": FLY + '\n[env]\n  DATABASE_URL = "file:./var/prod.db"\n'})
    [db] = dbs(tmp_path)
    # Prisma 7 resolves the config's url against the config file's directory (prisma/prisma#28514)
    assert (db.kind, db.path, db.base) == (SQLITE, "/app/var/prod.db", "/app")
    assert pos(db) == ("fly.toml", 12, 18)
    assert steps(db)[:4] == [
        "Prisma schema db/schema.prisma (`schema` in prisma.config.ts)",
        'datasource db in db/schema.prisma: provider = "sqlite"',
        'datasource.url = `env("DATABASE_URL")`',
        "DATABASE_URL = 'file:./var/prod.db' is set in fly.toml [env]",
    ]
    assert db.chain[0].at is not None and (db.chain[0].at.span.line, db.chain[0].at.span.column) == (6, 11)


def test_prisma7_url_with_a_default_behind_a_secret(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma.config.ts": """
                         import { defineConfig } from "prisma/config";
                         export default defineConfig({
                           schema: "prisma/schema.prisma",
                           datasource: { url: process.env["DATABASE_URL"] || "file:./prisma/dev.db" },
                         });
                         """,
                         "prisma/schema.prisma": 'datasource db {\n  provider = "sqlite"\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.variable) == (SQLITE, None, "DATABASE_URL")
    assert pos(db) == ("prisma.config.ts", 4, 22)
    assert db.unknown is not None and "'file:./prisma/dev.db' applies unless it is set as a secret" in db.unknown


def test_prisma7_without_a_config_file(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": 'datasource db {\n  provider = "sqlite"\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.variable) == (SQLITE, None, None)
    assert pos(db) == ("schema.prisma", 2, 14)
    assert db.unknown == ("the datasource has no url (Prisma 7 reads it from prisma.config.ts, which is not in the "
                          "build context)")


def test_relative_url_when_the_schema_is_not_in_the_image(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "package.json": PACKAGE,
                         "prisma/schema.prisma": 'datasource db {\n  provider = "sqlite"\n  url = "file:./dev.db"\n}\n',
                         "Dockerfile": "FROM node:20-slim\nWORKDIR /app\nCOPY dist ./dist\nCMD [\"node\", \"dist\"]\n"})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.relative, db.base) == (SQLITE, None, "dev.db", None)
    assert pos(db) == ("schema.prisma", 3, 9)
    assert db.unknown == ("relative path `dev.db`: prisma/schema.prisma is not copied into the image (or where it "
                          "lands is not known)")


@pytest.mark.parametrize("url, path", [("file:/data/app.db", "/data/app.db"), ("file:///data/app.db", "/data/app.db"),
                                       ("file://data/app.db", "/data/app.db"),
                                       ("file:data/app.db", "/app/prisma/data/app.db")])
def test_file_url_forms(tmp_path: Path, url: str, path: str) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": f'datasource db {{\n  provider = "sqlite"\n  url = "{url}"\n}}\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == (path, ("schema.prisma", 3, 9))


def test_comments_and_escapes_are_read_like_prisma(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": """
                         /// The only database.
                         // datasource old { provider = "postgresql" }
                         model Quote {
                           text String @default("say \\"datasource x {\\"")
                         }
                         datasource db {
                           // url = "file:./old.db"
                           provider = "sqlite" // the default
                           url      = "file:/data/qu\\"ote.db"
                         }
                         """})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path) == (SQLITE, '/data/qu"ote.db')
    assert pos(db) == ("schema.prisma", 9, 14)


def test_libsql_adapter_makes_the_database_unknown(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE,
                         "package.json": '{"dependencies": {"@prisma/client": "5", "@prisma/adapter-libsql": "5", '
                                         '"@libsql/client": "0.6"}}',
                         "prisma/schema.prisma": LITERAL_DEV})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("schema.prisma", 3, 9)
    assert db.unknown is not None and "@prisma/adapter-libsql" in db.unknown


def test_env_provider_follows_the_environment(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY + '\n[env]\n  DB_PROVIDER = "sqlite"\n  DATABASE_URL = "file:/data/x.db"\n',
                         "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": 'datasource db {\n  provider = env("DB_PROVIDER")\n'
                                                 '  url = env("DATABASE_URL")\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/x.db", ("fly.toml", 13, 18))
    assert db.claims == ("DATABASE_URL", "DB_PROVIDER")


def test_env_provider_set_only_as_a_secret_is_unknown(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": 'datasource db {\n  provider = env("DB_PROVIDER")\n'
                                                 '  url = env("DATABASE_URL")\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, pos(db)) == (UNKNOWN, None, ("schema.prisma", 2, 14))


def test_memory_database_is_nothing(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": LITERAL_DEV.replace("file:./dev.db", "file::memory:")})
    assert dbs(tmp_path) == []


def test_no_schema_no_database(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY_ENV, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "src/schema.prisma.md": "datasource db { provider = \"sqlite\" }"})
    assert dbs(tmp_path) == []


def test_schema_without_datasource_is_nothing(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": "model A {\n  id Int @id\n}\n"})
    assert dbs(tmp_path) == []


def test_unterminated_and_garbled_schemas_do_not_raise(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "package.json": PACKAGE,
                         "prisma/schema.prisma": 'datasource db {\n  provider = "sqlite\n  url = env(\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("schema.prisma", 3, 9))
    assert db.unknown == "url is not a string or env(): flyconf cannot read it"


PSL_WORDS = ["datasource", "db", "{", "}", "provider", "=", '"sqlite"', "url", "env(", '"X"', ")", "[", "]", "//",
             "///", "\n", '"', "\\", "model", "generator", ","]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PSL_WORDS), max_size=50))
def test_schema_noise_never_raises(words: list[str]) -> None:
    doc = Document(display_path="schema.prisma", text=" ".join(words))
    ds = prisma.datasource_in(doc, "schema.prisma")
    if ds is not None:
        for _key_at, value in ds.props.values():
            assert 0 <= value.start <= value.end <= len(doc.text)


@needs_shared(CORPUS)
def test_every_corpus_app_reads_without_error() -> None:
    apps = sorted(p for p in CORPUS.rglob("*.toml") if p.name == "fly.toml" or p.name.startswith("fly."))
    assert apps
    kinds: dict[str, int] = {}
    for path in apps:
        app, _ = load_app(path)
        if app is None:
            continue
        for db in prisma.read(app.context):
            kinds[db.kind] = kinds.get(db.kind, 0) + 1
            assert db.declared.span.line >= 1 and db.declared.span.column >= 1
    # The corpus holds 40-odd Prisma apps, most of them SQLite with DATABASE_URL in the Dockerfile.
    assert kinds.get(SQLITE, 0) >= 20 and kinds.get(SERVER, 0) >= 5


def test_url_without_the_file_protocol_is_not_a_path(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY + '\n[env]\n  DATABASE_URL = "/data/sqlite.db"\n', "Dockerfile": DOCKERFILE,
                         "package.json": PACKAGE, "prisma/schema.prisma": SCHEMA_ENV})
    [db] = dbs(tmp_path)
    # Prisma refuses the url ("must start with the protocol `file:`"): the app does not use that file
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("fly.toml", 12, 18))
    assert db.unknown == "url '/data/sqlite.db' is not a `file:` URL"


def test_schema_argument_in_the_start_command_is_read_in_the_image(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "package.json": PACKAGE,
                         "Dockerfile": "FROM node:20-slim\nWORKDIR /srv\nCOPY server/ ./\n"
                                       'CMD ["sh", "-c", "npx prisma migrate deploy --schema=db.prisma && node ."]\n',
                         "server/db.prisma": 'datasource db {\n  provider = "sqlite"\n  url = "file:./db.sqlite"\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/srv/db.sqlite", ("db.prisma", 3, 9))
    assert db.chain[0].text == "Prisma schema server/db.prisma (the `--schema` argument of the prisma CLI)"


def test_prisma7_server_provider_claims_its_url_variable(tmp_path: Path) -> None:
    """A Postgres app built from a SQLite template keeps `ENV DATABASE_URL=file:...`: not a SQLite database."""
    dockerfile = DOCKERFILE.replace("WORKDIR /app", 'WORKDIR /app\nENV DATABASE_URL="file:/data/x.db"')
    write_app(tmp_path, {"fly.toml": FLY, "package.json": PACKAGE, "Dockerfile": dockerfile,
                         "prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n}\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.claims, pos(db)) == (SERVER, ("DATABASE_URL",), ("schema.prisma", 2, 14))
    write_app(tmp_path, {"prisma.config.ts": 'import { defineConfig, env } from "prisma/config";\n'
                                             'export default defineConfig({ datasource: { url: env("PG_URL") } });\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.claims, pos(db)) == (SERVER, ("PG_URL",), ("schema.prisma", 2, 14))
