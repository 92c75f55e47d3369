"""The Phoenix / Ecto reader: config/*.exs read statically, adapters, release working directory, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyconf.assemble import load_app
from flyconf.databases import phoenix
from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Found
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, found, pos, write_app

FLY = """
app = "hello"
primary_region = "ams"

[env]
  PHX_HOST = "hello.fly.dev"
{env}
[[mounts]]
  source = "hello_data"
  destination = "/data"
"""

DOCKERFILE = """
FROM hexpm/elixir:1.16.2-erlang-26.2.5-debian-bookworm-20240513-slim AS builder
WORKDIR /app
ENV MIX_ENV="prod"
COPY mix.exs mix.lock ./
COPY config/config.exs config/prod.exs config/
COPY lib lib
RUN mix compile
COPY config/runtime.exs config/
COPY rel rel
RUN mix release

FROM debian:bookworm-20240513-slim
WORKDIR "/app"
RUN chown nobody /app
ENV MIX_ENV="prod"
COPY --from=builder --chown=nobody:root /app/_build/${{MIX_ENV}}/rel/hello ./
USER nobody
{env}CMD {cmd}
"""

CONFIG = """
import Config

config :hello,
  ecto_repos: [Hello.Repo],
  generators: [timestamp_type: :utc_datetime]

# Configures the endpoint
config :hello, HelloWeb.Endpoint,
  url: [host: "localhost"],
  adapter: Bandit.PhoenixAdapter

config :hello, Hello.Mailer, adapter: Swoosh.Adapters.Local

# Import environment specific config. This must remain at the bottom
# of this file so it overrides the configuration defined above.
import_config "#{config_env()}.exs"
"""

DEV = """
import Config

# Configure your database
config :hello, Hello.Repo,
  database: Path.expand("../hello_dev.db", __DIR__),
  pool_size: 5,
  stacktrace: true
"""

PROD = """
import Config

config :hello, HelloWeb.Endpoint, cache_static_manifest: "priv/static/cache_manifest.json"
config :logger, level: :info
"""

RUNTIME = """
import Config

if System.get_env("PHX_SERVER") do
  config :hello, HelloWeb.Endpoint, server: true
end

if config_env() == :prod do
  database_path =
    System.get_env("DATABASE_PATH") ||
      raise \"\"\"
      environment variable DATABASE_PATH is missing.
      For example: /etc/hello/hello.db
      \"\"\"

  config :hello, Hello.Repo,
    database: database_path,
    pool_size: String.to_integer(System.get_env("POOL_SIZE") || "5")

  secret_key_base =
    System.get_env("SECRET_KEY_BASE") ||
      raise \"\"\"
      environment variable SECRET_KEY_BASE is missing.
      \"\"\"
end
"""

REPO_SQLITE = """
defmodule Hello.Repo do
  use Ecto.Repo,
    otp_app: :hello,
    adapter: Ecto.Adapters.SQLite3
end
"""

REPO_POSTGRES = """
defmodule Hello.Repo do
  use Ecto.Repo,
    otp_app: :hello,
    adapter: Ecto.Adapters.Postgres
end
"""

MIX_SQLITE = """
defmodule Hello.MixProject do
  use Mix.Project

  defp deps do
    [
      {:phoenix, "~> 1.7.14"},
      {:phoenix_ecto, "~> 4.5"},
      {:ecto_sql, "~> 3.10"},
      {:ecto_sqlite3, ">= 0.0.0"},
      {:bandit, "~> 1.5"}
    ]
  end
end
"""

SERVER_SH = """#!/bin/sh
set -eu

cd -P -- "$(dirname -- "$0")"
PHX_SERVER=true exec ./hello start
"""

MIGRATE_SH = """#!/bin/sh
set -eu

cd -P -- "$(dirname -- "$0")"
exec ./hello eval Hello.Release.migrate
"""


def phx(tmp_path: Path, *, runtime: str | None = RUNTIME, env: str = '  DATABASE_PATH = "/data/hello.db"\n',
        df_env: str = "", cmd: str = '["/app/bin/server"]', repo: str | None = REPO_SQLITE,
        mix: str | None = MIX_SQLITE, config: str | None = CONFIG, prod: str | None = PROD,
        extra: dict[str, str] | None = None) -> Path:
    files: dict[str, str] = {
        "fly.toml": FLY.format(env=env),
        "Dockerfile": DOCKERFILE.format(env=df_env, cmd=cmd),
        "config/dev.exs": DEV,
        "config/test.exs": ('import Config\n'
                            'config :hello, Hello.Repo, database: Path.expand("../hello_test.db", __DIR__)\n'),
        "rel/overlays/bin/server": SERVER_SH,
        "rel/overlays/bin/migrate": MIGRATE_SH,
    }
    for rel, text in (("config/runtime.exs", runtime), ("config/config.exs", config), ("config/prod.exs", prod),
                      ("lib/hello/repo.ex", repo), ("mix.exs", mix)):
        if text is not None:
            files[rel] = text
    files.update(extra or {})
    return write_app(tmp_path, files)


def only(root: Path) -> Found:
    dbs = found(root, "phoenix")
    assert len(dbs) == 1, dbs
    return dbs[0]


def steps(db: Found) -> list[str]:
    return [s.text for s in db.chain]


def line_col(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """The 1-based line and column of the ``nth`` occurrence of ``needle`` in a fixture's text."""
    import textwrap

    text = textwrap.dedent(text).lstrip("\n")
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


# -- the stock generator: `mix phx.new --database sqlite3` ----------------------------------------

def test_generator_runtime_with_database_path_in_fly_toml(tmp_path: Path) -> None:
    db = only(phx(tmp_path))
    assert db.kind == SQLITE and db.path == "/data/hello.db"
    assert pos(db) == ("fly.toml", 6, 19)
    assert (db.framework, db.reader, db.name, db.variable, db.form) == ("phoenix", "phoenix", "Hello.Repo",
                                                                        "DATABASE_PATH", "path")
    assert db.claims == ("DATABASE_PATH",)
    texts = steps(db)
    assert texts[0] == "`use Ecto.Repo, adapter: Ecto.Adapters.SQLite3` in lib/hello/repo.ex"
    assert texts[1] == "`database:` of Hello.Repo in config/runtime.exs (evaluated when the release boots)"
    assert texts[2] == "`database_path` is bound in config/runtime.exs"
    assert texts[-1] == "DATABASE_PATH = '/data/hello.db' is set in fly.toml [env]"
    # each step points where it is written
    assert (db.chain[0].at.span.line, db.chain[0].at.span.column) == (4, 14)
    assert (db.chain[1].at.span.line, db.chain[1].at.span.column) == line_col(RUNTIME, "database:")
    assert (db.chain[2].at.span.line, db.chain[2].at.span.column) == line_col(RUNTIME, "database_path =")


def test_the_generic_env_reader_does_not_report_database_path_again(tmp_path: Path) -> None:
    dbs = found(phx(tmp_path))
    assert [(d.reader, d.path) for d in dbs] == [("phoenix", "/data/hello.db")]


def test_database_path_only_a_secret(tmp_path: Path) -> None:
    db = only(phx(tmp_path, env=""))
    assert db.kind == SQLITE and db.path is None
    assert db.unknown == "DATABASE_PATH is set only as a secret"
    assert db.variable == "DATABASE_PATH"
    assert pos(db) == ("runtime.exs",) + line_col(RUNTIME, 'System.get_env("DATABASE_PATH")')


def test_database_path_from_dockerfile_env(tmp_path: Path) -> None:
    db = only(phx(tmp_path, env="", df_env='ENV DATABASE_PATH=/data/from-docker.db\n'))
    assert db.path == "/data/from-docker.db"
    assert pos(db) == ("Dockerfile", 18, 5)
    assert steps(db)[-1] == "DATABASE_PATH = '/data/from-docker.db' is set in Dockerfile ENV"


# -- shapes of `database:` --------------------------------------------------------------------------

def runtime_with(body: str) -> str:
    return "import Config\n\nif config_env() == :prod do\n" + body + "end\n"


@pytest.mark.parametrize("expr", [
    'System.get_env("DATABASE_PATH") || "/data/default.db"',
    'System.get_env("DATABASE_PATH", "/data/default.db")',
])
def test_default_of_get_env_when_unset(tmp_path: Path, expr: str) -> None:
    runtime = runtime_with(f"  config :hello, Hello.Repo,\n    database: {expr},\n    pool_size: 5\n")
    db = only(phx(tmp_path, runtime=runtime, env=""))
    assert db.kind == SQLITE and db.path == "/data/default.db"
    assert db.variable == "DATABASE_PATH"
    assert pos(db) == ("runtime.exs",) + line_col(runtime, '"/data/default.db"')
    assert any("DATABASE_PATH is not set in fly.toml [env] or the Dockerfile" in t for t in steps(db))


def test_get_env_default_loses_to_the_env(tmp_path: Path) -> None:
    runtime = runtime_with('  config :hello, Hello.Repo, database: System.get_env("DATABASE_PATH") || "/x.db"\n')
    db = only(phx(tmp_path, runtime=runtime))
    assert db.path == "/data/hello.db" and pos(db) == ("fly.toml", 6, 19)


def test_fetch_env(tmp_path: Path) -> None:
    runtime = runtime_with('  config :hello, Hello.Repo, database: System.fetch_env!("SQLITE_FILE")\n')
    db = only(phx(tmp_path, runtime=runtime, env='  SQLITE_FILE = "/data/f.sqlite3"\n'))
    assert db.path == "/data/f.sqlite3" and db.variable == "SQLITE_FILE" and db.claims == ("SQLITE_FILE",)
    assert pos(db) == ("fly.toml", 6, 17)


def test_literal_path_in_runtime(tmp_path: Path) -> None:
    runtime = runtime_with('  config :hello, Hello.Repo,\n    database: "/litefs/hello.db"\n')
    db = only(phx(tmp_path, runtime=runtime, env=""))
    assert db.kind == SQLITE and db.path == "/litefs/hello.db" and db.variable is None
    assert pos(db) == ("runtime.exs", 5, 15)
    assert db.declared.span.end_column == 33


def test_path_join_and_interpolation(tmp_path: Path) -> None:
    runtime = runtime_with('  dir = System.get_env("DATA_DIR") || "/data"\n'
                           '  config :hello, Hello.Repo, database: Path.join(dir, "hello.db")\n')
    db = only(phx(tmp_path, runtime=runtime, env='  DATA_DIR = "/mnt/vol"\n'))
    assert db.path == "/mnt/vol/hello.db" and db.variable is None and "DATA_DIR" in db.claims
    assert pos(db) == ("fly.toml", 6, 14)
    runtime = runtime_with('  dir = System.get_env("DATA_DIR") || "/data"\n'
                           '  config :hello, Hello.Repo, database: "#{dir}/hello.db"\n')
    db = only(phx(tmp_path / "b", runtime=runtime, env=""))
    assert db.path == "/data/hello.db"
    assert db.variable is None and db.claims == ("DATA_DIR",)
    assert pos(db) == ("runtime.exs",) + line_col(runtime, '"/data"')  # the fallback decides


def test_path_expand_with_absolute_and_dir(tmp_path: Path) -> None:
    runtime = runtime_with('  config :hello, Hello.Repo, database: Path.expand("hello.db", "/data/db")\n')
    assert only(phx(tmp_path, runtime=runtime, env="")).path == "/data/db/hello.db"
    runtime = runtime_with('  config :hello, Hello.Repo, database: Path.expand("../hello.db", __DIR__)\n')
    db = only(phx(tmp_path / "b", runtime=runtime, env=""))
    assert db.kind == SQLITE and db.path is None
    assert db.unknown is not None and "__DIR__" in db.unknown and "releases/<version>/" in db.unknown
    assert pos(db) == ("runtime.exs", 4, 40)


def test_piped_expression_is_not_guessed(tmp_path: Path) -> None:
    runtime = runtime_with('  config :hello, Hello.Repo,\n    database: "/data"\n      |> Path.join(name())\n')
    db = only(phx(tmp_path, runtime=runtime, env=""))
    assert db.kind == SQLITE and db.path is None and db.unknown is not None
    assert pos(db) == ("runtime.exs", 5, 15)


# -- which files production evaluates, and in which order ------------------------------------------

def test_runtime_wins_over_prod_which_wins_over_config(tmp_path: Path) -> None:
    config = CONFIG.replace("import_config", 'config :hello, Hello.Repo, database: "/base.db"\n\nimport_config')
    prod = PROD + 'config :hello, Hello.Repo, database: "/prod.db"\n'
    db = only(phx(tmp_path / "a", config=config, prod=prod, runtime=None))
    assert db.path == "/prod.db" and pos(db) == ("prod.exs", 5, 38)
    db = only(phx(tmp_path / "b", config=config, prod=prod))
    assert db.path == "/data/hello.db" and pos(db) == ("fly.toml", 6, 19)
    db = only(phx(tmp_path / "c", config=config, prod=PROD, runtime=None))
    assert db.path == "/base.db" and pos(db) == ("config.exs",) + line_col(config, '"/base.db"')


def test_prod_exs_is_not_read_without_import_config(tmp_path: Path) -> None:
    config = "import Config\nconfig :hello, ecto_repos: [Hello.Repo]\n"
    prod = 'import Config\nconfig :hello, Hello.Repo, database: "/prod.db"\n'
    db = only(phx(tmp_path, config=config, prod=prod, runtime=None))
    assert db.kind == SQLITE and db.path is None  # the repo is SQLite; production names no file
    assert db.unknown == "no `database:` for Hello.Repo in the configuration production reads (config/config.exs)"
    assert pos(db) == ("repo.ex", 4, 14)


def test_releases_exs_is_the_runtime_file_of_older_projects(tmp_path: Path) -> None:
    releases = 'import Config\nconfig :hello, Hello.Repo, database: System.get_env("DATABASE_PATH")\n'
    db = only(phx(tmp_path, runtime=None, extra={"config/releases.exs": releases}))
    assert db.path == "/data/hello.db"
    assert steps(db)[1] == "`database:` of Hello.Repo in config/releases.exs (evaluated when the release boots)"


@pytest.mark.parametrize("cond", ["config_env() == :prod", "Mix.env() == :prod", "config_env() in [:prod]",
                                  "Mix.env == :prod", "config_env() != :dev", "not (config_env() in [:dev, :test])"])
def test_prod_conditions(tmp_path: Path, cond: str) -> None:
    runtime = f'import Config\nif {cond} do\n  config :hello, Hello.Repo, database: "/data/p.db"\nend\n'
    db = only(phx(tmp_path, runtime=runtime))
    assert db.path == "/data/p.db" and pos(db) == ("runtime.exs", 3, 40)


@pytest.mark.parametrize("cond", ["config_env() == :dev", "config_env() in [:dev, :test]", "Mix.env() != :prod",
                                  "config_env() == :test"])
def test_dev_and_test_blocks_are_not_production(tmp_path: Path, cond: str) -> None:
    runtime = f'import Config\nif {cond} do\n  config :hello, Hello.Repo, database: "/data/dev.db"\nend\n'
    db = only(phx(tmp_path, runtime=runtime, prod=PROD))
    assert db.kind == SQLITE and db.path is None and pos(db) == ("repo.ex", 4, 14)
    assert db.unknown is not None and db.unknown.startswith("no `database:` for Hello.Repo")
    # with a server adapter, a dev-only SQLite file is nothing at all
    mix = MIX_SQLITE.replace('{:ecto_sqlite3, ">= 0.0.0"}', '{:postgrex, ">= 0.0.0"}')
    assert found(phx(tmp_path / "pg", runtime=runtime, prod=PROD, repo=REPO_POSTGRES, mix=mix), "phoenix") == []


def test_else_of_a_prod_block_is_not_production(tmp_path: Path) -> None:
    runtime = ('import Config\nif config_env() == :prod do\n  config :hello, Hello.Repo, database: "/data/p.db"\n'
               'else\n  config :hello, Hello.Repo, database: "dev.db"\nend\n')
    db = only(phx(tmp_path, runtime=runtime))
    assert db.path == "/data/p.db" and pos(db) == ("runtime.exs", 3, 40)
    runtime = ('import Config\nunless config_env() == :prod do\n  config :hello, Hello.Repo, database: "dev.db"\n'
               'else\n  config :hello, Hello.Repo, database: "/data/u.db"\nend\n')
    assert only(phx(tmp_path, runtime=runtime)).path == "/data/u.db"


def test_a_condition_flyconf_cannot_evaluate_makes_the_path_unknown(tmp_path: Path) -> None:
    runtime = ('import Config\nif config_env() == :prod do\n  if System.get_env("LITEFS") do\n'
               '    config :hello, Hello.Repo, database: "/litefs/hello.db"\n  end\nend\n')
    db = only(phx(tmp_path, runtime=runtime))
    assert db.kind == SQLITE and db.path is None
    assert db.unknown == ('`database:` is set inside `if System.get_env("LITEFS")`, which flyconf does not '
                          "evaluate")
    assert pos(db) == ("runtime.exs", 4, 42)


def test_dev_sqlite_with_postgres_in_production_is_a_server(tmp_path: Path) -> None:
    runtime = runtime_with('  database_url = System.get_env("DATABASE_URL") || raise "DATABASE_URL is missing"\n'
                           '  config :hello, Hello.Repo,\n    url: database_url,\n    pool_size: 10\n')
    mix = MIX_SQLITE.replace('{:ecto_sqlite3, ">= 0.0.0"}', '{:postgrex, ">= 0.0.0"}')
    db = only(phx(tmp_path, runtime=runtime, repo=REPO_POSTGRES, mix=mix, env=""))
    assert db.kind == SERVER and db.path is None
    assert db.variable == "DATABASE_URL" and db.claims == ("DATABASE_URL",)
    assert pos(db) == ("runtime.exs",) + line_col(runtime, 'System.get_env("DATABASE_URL")')
    assert steps(db)[0] == "`use Ecto.Repo, adapter: Ecto.Adapters.Postgres` in lib/hello/repo.ex"


# -- the adapter ------------------------------------------------------------------------------------

def test_adapter_in_config(tmp_path: Path) -> None:
    config = CONFIG.replace("import_config",
                            "config :hello, Hello.Repo, adapter: Ecto.Adapters.SQLite3\n\nimport_config")
    db = only(phx(tmp_path, config=config, repo=None, mix=None))
    assert db.kind == SQLITE and db.path == "/data/hello.db"
    assert steps(db)[0] == "`adapter: Ecto.Adapters.SQLite3` in config/config.exs"


def test_adapter_from_mix_exs_when_lib_is_absent(tmp_path: Path) -> None:
    db = only(phx(tmp_path, repo=None))
    assert db.kind == SQLITE and db.path == "/data/hello.db"
    assert steps(db)[0].startswith("mix.exs brings ecto_sqlite3 and no server adapter (postgrex, myxql, tds)")
    assert (db.chain[0].at.path.rsplit("/", 1)[-1], db.chain[0].at.span.line, db.chain[0].at.span.column) == (
        "mix.exs", 9, 8)


def test_test_only_sqlite_dependency_is_not_evidence(tmp_path: Path) -> None:
    mix = MIX_SQLITE.replace('{:ecto_sqlite3, ">= 0.0.0"}', '{:postgrex, ">= 0.0.0"},\n      '
                                                            '{:ecto_sqlite3, "~> 0.17", only: [:dev, :test]}')
    db = only(phx(tmp_path, repo=None, mix=mix))
    assert db.kind == SERVER
    assert steps(db)[0] == "mix.exs brings postgrex and not ecto_sqlite3"


def test_adapter_unknown_without_any_evidence(tmp_path: Path) -> None:
    db = only(phx(tmp_path, repo=None, mix=None))
    assert db.kind == UNKNOWN and db.path is None
    assert db.unknown is not None and db.unknown.startswith("the adapter of Hello.Repo is not known")
    assert pos(db) == ("fly.toml", 6, 19)


def test_mix_lock_as_evidence(tmp_path: Path) -> None:
    lock = ('%{\n  "db_connection": {:hex, :db_connection, "2.7.0"},\n'
            '  "ecto_sqlite3": {:hex, :ecto_sqlite3, "0.17.2"},\n  "exqlite": {:hex, :exqlite, "0.23.0"},\n}\n')
    db = only(phx(tmp_path, repo=None, mix=None, extra={"mix.lock": lock}))
    assert db.kind == SQLITE and db.path == "/data/hello.db"
    assert steps(db)[0].startswith("mix.lock brings ecto_sqlite3")
    assert (db.chain[0].at.span.line, db.chain[0].at.span.column) == (3, 3)


# -- relative paths: the release's working directory -----------------------------------------------

REL_RUNTIME = runtime_with('  config :hello, Hello.Repo, database: "data/hello.db"\n')


def test_relative_path_under_the_bin_server_overlay(tmp_path: Path) -> None:
    db = only(phx(tmp_path, runtime=REL_RUNTIME))
    assert db.kind == SQLITE and db.path == "/app/bin/data/hello.db"
    assert (db.relative, db.base) == ("data/hello.db", "/app/bin")
    assert pos(db) == ("runtime.exs", 4, 40)
    cd = next(s for s in db.chain if "changes to its own directory" in s.text)
    assert cd.text == ("rel/overlays/bin/server (run as /app/bin/server) changes to its own directory /app/bin "
                       "before it starts the release")
    assert (cd.at.path.rsplit("/", 1)[-1], cd.at.span.line, cd.at.span.column) == ("server", 4, 1)


def test_relative_path_with_the_release_binary_started_directly(tmp_path: Path) -> None:
    db = only(phx(tmp_path, runtime=REL_RUNTIME, cmd='["bin/hello", "start"]'))
    assert db.path == "/app/data/hello.db" and db.base == "/app"
    assert any(s.text == "`bin/hello start` runs in the image's WORKDIR /app" for s in db.chain)


def test_relative_path_behind_an_unknown_command(tmp_path: Path) -> None:
    db = only(phx(tmp_path, runtime=REL_RUNTIME, cmd='["litefs", "mount"]'))
    assert db.kind == SQLITE and db.path is None and db.relative == "data/hello.db"
    assert db.unknown == "relative path `data/hello.db`: the working directory of `litefs mount` is not known"
    db = only(phx(tmp_path / "b", runtime=REL_RUNTIME, cmd='["/app/entrypoint.sh", "/app/bin/server"]'))
    assert db.path is None and db.unknown is not None


def test_path_expand_relative_in_runtime_follows_the_working_directory(tmp_path: Path) -> None:
    runtime = runtime_with('  config :hello, Hello.Repo, database: Path.expand("../db/hello.db")\n')
    db = only(phx(tmp_path, runtime=runtime))
    assert db.path == "/app/db/hello.db"
    runtime = 'import Config\nconfig :hello, Hello.Repo, database: Path.expand("hello.db")\n'
    db = only(phx(tmp_path / "b", runtime=None, prod=runtime))
    assert db.path is None and db.unknown is not None and "when `mix release` compiles" in db.unknown


# -- no configuration in the build context (the corpus holds only mix.lock) ------------------------

LOCK_SQLITE = '%{\n  "ecto_sqlite3": {:hex, :ecto_sqlite3, "0.17.2"},\n  "exqlite": {:hex, :exqlite, "0.23.0"},\n}\n'
LOCK_PG = '%{\n  "postgrex": {:hex, :postgrex, "0.19.1"},\n}\n'


def bare(tmp_path: Path, lock: str, env: str = '  DATABASE_PATH = "/data/hello.db"\n') -> Path:
    return write_app(tmp_path, {"fly.toml": FLY.format(env=env), "Dockerfile": DOCKERFILE.format(
        env="", cmd='["/app/bin/server"]'), "mix.lock": lock, "rel/overlays/bin/server": SERVER_SH})


def test_without_config_sqlite_dependencies_and_database_path(tmp_path: Path) -> None:
    db = only(bare(tmp_path, LOCK_SQLITE))
    assert db.kind == SQLITE and db.path == "/data/hello.db" and db.name == "DATABASE_PATH"
    assert pos(db) == ("fly.toml", 6, 19)
    assert steps(db)[1].startswith("config/runtime.exs is not in the build context")


def test_without_config_relative_database_path(tmp_path: Path) -> None:
    db = only(bare(tmp_path, LOCK_SQLITE, env='  DATABASE_PATH = "hello.db"\n'))
    assert db.path == "/app/bin/hello.db"


def test_without_config_and_without_database_path(tmp_path: Path) -> None:
    db = only(bare(tmp_path, LOCK_SQLITE, env=""))
    assert db.kind == SQLITE and db.path is None and pos(db) == ("mix.lock", 2, 3)


def test_without_config_server_dependencies(tmp_path: Path) -> None:
    db = only(bare(tmp_path, LOCK_PG, env=""))
    assert db.kind == SERVER and db.name == "postgrex" and pos(db) == ("mix.lock", 2, 3)


def test_without_config_mixed_dependencies_is_unknown(tmp_path: Path) -> None:
    db = only(bare(tmp_path, LOCK_SQLITE[:-2] + '  "postgrex": {:hex, :postgrex, "0.19.1"},\n}\n'))
    assert db.kind == UNKNOWN and db.path is None and pos(db) == ("fly.toml", 6, 19)


def test_not_an_elixir_app(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY.format(env='  DATABASE_PATH = "/data/x.db"\n'),
                         "Dockerfile": "FROM alpine\nCMD [\"/app/server\"]\n"})
    assert found(tmp_path, "phoenix") == []


# -- the tokenizer --------------------------------------------------------------------------------

def test_tokenizer_strings_comments_sigils() -> None:
    text = ('# database: "/commented.db"\nx = ~s(a "b" c) <> ~S|d#{e}| <> """\n  #{y} here\n  """\n'
            'w = ~w(a b c)a\nkey: "v\\"q" # trailing\n')
    toks = [t for t in phoenix.tokenize(text) if t.kind != "nl"]
    kinds = [(t.kind, t.text) for t in toks]
    assert ("str", '~s(a "b" c)') in kinds and ("str", "~S|d#{e}|") in kinds
    assert not any("/commented.db" in t.text for t in toks)
    heredoc = next(t for t in toks if t.text.startswith('"""'))
    assert isinstance(heredoc.parts[1], tuple) and heredoc.parts[1][0].text == "y"
    assert next(t for t in toks if t.text.startswith("~S")).literal == "d#{e}"
    assert ("key", "key") in kinds
    assert next(t for t in toks if t.text.startswith('"v')).literal == 'v"q'


def test_tokenizer_never_raises_on_broken_input() -> None:
    for text in ['"unterminated', '"""\nno end', "~s(open", "#{", ":", "?", "~", "x = \"#{a\"", "'''"]:
        phoenix.tokenize(text)


# -- migrations -------------------------------------------------------------------------------------

def test_migrate_overlay_is_a_migration(tmp_path: Path) -> None:
    ctx = app_at(phx(tmp_path)).context
    at = phoenix.migration_script(ctx, "rel/overlays/bin/migrate")
    assert at is not None and (at.span.line, at.span.column, at.span.end_column) == (5, 14, 40)
    assert phoenix.migration_script(ctx, "rel/overlays/bin/server") is None
    assert phoenix.release_root(ctx) == "/app"
    mig = phoenix.command_migration(ctx, ["/app/bin/migrate"])
    assert mig is not None and mig.at == at
    assert mig.how == "/app/bin/migrate is the release overlay rel/overlays/bin/migrate, which runs the migrations"
    assert phoenix.command_migration(ctx, ["/app/bin/server"]) is None


def test_inline_eval_and_quoted_module(tmp_path: Path) -> None:
    ctx = app_at(phx(tmp_path)).context
    mig = phoenix.command_migration(ctx, ["/app/bin/hello", "eval", "Hello.Release.migrate()"])
    assert mig is not None and mig.at is None
    assert phoenix.command_migration(ctx, ["/app/bin/hello", "eval", "Hello.Release.seed()"]) is None
    assert phoenix.command_migration(ctx, ["sh", "-c", "/app/bin/hello eval 'Hello.Release.migrate'"]) is not None


def test_server_overlay_that_calls_migrate_migrates_at_start(tmp_path: Path) -> None:
    server = '#!/bin/sh\nset -eu\ncd -P -- "$(dirname -- "$0")"\n./migrate\nPHX_SERVER=true exec ./hello start\n'
    ctx = app_at(phx(tmp_path, extra={"rel/overlays/bin/server": server})).context
    at = phoenix.migration_script(ctx, "rel/overlays/bin/server")
    assert at is not None and (at.span.line, at.span.column, at.span.end_column) == (4, 1, 10)


def test_commented_out_migration_is_not_one(tmp_path: Path) -> None:
    migrate = '#!/bin/sh\ncd -P -- "$(dirname -- "$0")"\n# exec ./hello eval Hello.Release.migrate\necho skipped\n'
    ctx = app_at(phx(tmp_path, extra={"rel/overlays/bin/migrate": migrate})).context
    assert phoenix.migration_script(ctx, "rel/overlays/bin/migrate") is None
    assert phoenix.command_migration(ctx, ["/app/bin/migrate"]) is None


APPLICATION = """
defmodule Hello.Application do
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      HelloWeb.Telemetry,
      Hello.Repo,
      {Ecto.Migrator,
       repos: Application.fetch_env!(:hello, :ecto_repos),
       skip: System.get_env("SKIP_MIGRATIONS") == "true"},
      HelloWeb.Endpoint
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Hello.Supervisor)
  end
end
"""


def test_ecto_migrator_child_migrates_at_start(tmp_path: Path) -> None:
    ctx = app_at(phx(tmp_path, extra={"lib/hello/application.ex": APPLICATION})).context
    at = phoenix.starts_migrator(ctx)
    assert at is not None and (at.span.line, at.span.column, at.span.end_column) == (9, 8, 21)
    commented = APPLICATION.replace("      {Ecto.Migrator,", "      # {Ecto.Migrator,").replace(
        "       repos:", "      # repos:").replace("       skip:", "      # skip:")
    ctx = app_at(phx(tmp_path / "b", extra={"lib/hello/application.ex": commented})).context
    assert phoenix.starts_migrator(ctx) is None


# -- the corpus -----------------------------------------------------------------------------------

@needs_shared(CORPUS)
def test_reader_runs_over_every_corpus_app() -> None:
    seen = 0
    for toml in sorted(CORPUS.rglob("fly*.toml")):
        app, _ = load_app(toml)
        if app is None:
            continue
        for db in phoenix.read(app.context):
            seen += 1
            assert db.declared.span.line >= 1 and db.declared.span.column >= 1
            assert db.kind in (SQLITE, SERVER, UNKNOWN)
            assert db.path is None or db.path.startswith("/")
    assert seen > 0


def test_database_inside_the_release_priv_dir_is_not_placed(tmp_path: Path) -> None:
    runtime = runtime_with('  database_path = Path.join(:code.priv_dir(:hello), "static/uploads/hello_prod.db")\n'
                           '  config :hello, Hello.Repo,\n    database: database_path,\n'
                           '    adapter: Ecto.Adapters.SQLite3\n')
    db = only(phx(tmp_path, runtime=runtime, repo=None, mix=None, env=""))
    assert db.kind == SQLITE and db.path is None
    assert db.unknown == ("`:code.priv_dir(:hello)` is a directory inside the release (lib/<app>-<version>/), "
                          "not a fixed path flyconf can place")
    assert pos(db) == ("runtime.exs", 4, 29)
    assert steps(db)[0] == "`adapter: Ecto.Adapters.SQLite3` in config/runtime.exs"


def test_sqlite_repo_without_a_production_database_setting(tmp_path: Path) -> None:
    prod = PROD + 'import_config "prod.secret.exs"\n'  # the secret file is not in the repository
    db = only(phx(tmp_path, runtime=None, prod=prod))
    assert db.kind == SQLITE and db.path is None and db.name == "Hello.Repo"
    assert db.unknown == ("no `database:` for Hello.Repo in the configuration production reads "
                          "(config/config.exs, config/prod.exs)")
    assert pos(db) == ("repo.ex", 4, 14)


def test_prod_secret_exs_is_read_when_present(tmp_path: Path) -> None:
    prod = PROD + 'import_config "prod.secret.exs"\n'
    secret = 'import Config\nconfig :hello, Hello.Repo, database: "/data/secret.db"\n'
    db = only(phx(tmp_path, runtime=None, prod=prod, extra={"config/prod.secret.exs": secret}))
    assert db.path == "/data/secret.db" and pos(db) == ("prod.secret.exs", 2, 38)


def test_postgres_repo_without_settings_says_nothing(tmp_path: Path) -> None:
    mix = MIX_SQLITE.replace('{:ecto_sqlite3, ">= 0.0.0"}', '{:postgrex, ">= 0.0.0"}')
    assert found(phx(tmp_path, runtime=None, repo=REPO_POSTGRES, mix=mix), "phoenix") == []
