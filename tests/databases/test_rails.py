"""The Rails reader: the production databases of config/database.yml (ERB, anchors, merges,
multi-database, DATABASE_URL), resolved against the Rails root in the image."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.assemble import load_app
from flyconf.databases import rails
from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Found
from flyconf.sources.base import Document
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, found, pos, write_app

FLY = """
app = "journal"
primary_region = "ord"

[build]

[http_service]
  internal_port = 80
  force_https = true
{env}
"""

# The shape of the Dockerfile `rails new` 8.0 writes: the app is copied to /rails in a build stage,
# then the whole /rails directory into the final image.
DOCKERFILE = """
# syntax=docker/dockerfile:1
ARG RUBY_VERSION=3.3.6
FROM docker.io/library/ruby:$RUBY_VERSION-slim AS base

WORKDIR /rails

ENV RAILS_ENV="production" \\
    BUNDLE_DEPLOYMENT="1" \\
    BUNDLE_PATH="/usr/local/bundle" \\
    BUNDLE_WITHOUT="development"{env}

FROM base AS build
COPY Gemfile Gemfile.lock ./
RUN bundle install
COPY . .
RUN ./bin/rails assets:precompile

FROM base
COPY --from=build "${{BUNDLE_PATH}}" "${{BUNDLE_PATH}}"
COPY --from=build /rails /rails
USER 1000:1000
ENTRYPOINT ["/rails/bin/docker-entrypoint"]
EXPOSE 80
CMD ["./bin/thrust", "./bin/rails", "server"]
"""

GEMFILE = """
source "https://rubygems.org"

gem "rails", "~> 8.0.1"
gem "propshaft"
gem "sqlite3", ">= 2.1"
gem "puma", ">= 5.0"
{extra}
group :development, :test do
  gem "debug", platforms: %i[ mri windows ], require: "debug/prelude"
  gem "brakeman", require: false
end

group :development do
  gem "web-console"
end
"""

# Written for these tests in the shape of the database.yml of a Rails 8 app.
RAILS8_YML = """
# SQLite. Versions 3.8.0 and up are supported.
default: &default
  adapter: sqlite3
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
  timeout: 5000

development:
  <<: *default
  database: storage/development.sqlite3

test:
  <<: *default
  database: storage/test.sqlite3

# Store production database in the storage/ directory, which by default
# is mounted as a persistent Docker volume in config/deploy.yml.
production:
  primary:
    <<: *default
    database: storage/production.sqlite3
  cache:
    <<: *default
    database: storage/production_cache.sqlite3
    migrations_paths: db/cache_migrate
  queue:
    <<: *default
    database: storage/production_queue.sqlite3
    migrations_paths: db/queue_migrate
  cable:
    <<: *default
    database: storage/production_cable.sqlite3
    migrations_paths: db/cable_migrate
"""

SINGLE_YML = """
default: &default
  adapter: sqlite3
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
  timeout: 5000

development:
  <<: *default
  database: db/development.sqlite3

production:
  <<: *default
  database: {database}
"""

POSTGRES_YML = """
default: &default
  adapter: postgresql
  encoding: unicode
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

development:
  <<: *default
  database: journal_development

test:
  adapter: sqlite3
  database: db/test.sqlite3

production:
  <<: *default
  database: journal_production
  username: journal
  password: <%= ENV["JOURNAL_DATABASE_PASSWORD"] %>
"""


def single(database: str) -> str:
    return SINGLE_YML.replace("{database}", database)


def erb(expr: str) -> str:
    return ERB_YML.replace("{expr}", expr)


def app(tmp_path: Path, yml: str, *, fly_env: str = "", docker_env: str = "", gem_extra: str = "",
        dockerfile: str | None = None, extra: dict[str, str] | None = None) -> Path:
    files = {
        "fly.toml": FLY.format(env=f"\n[env]\n{fly_env}" if fly_env else ""),
        "Dockerfile": dockerfile if dockerfile is not None else DOCKERFILE.format(env=docker_env),
        "Gemfile": GEMFILE.format(extra=gem_extra),
        "config/database.yml": yml,
        "config/application.rb": "require_relative 'boot'\nrequire 'rails/all'\n",
    }
    files.update(extra or {})
    return write_app(tmp_path, files)


def dbs(root: Path) -> list[Found]:
    return list(rails.read(app_at(root).context))


def steps(db: Found) -> list[str]:
    return [s.text for s in db.chain]


def at(db: Found) -> list[tuple[str, int, int]]:
    return [(s.at.doc.display_path.replace("\\", "/").rsplit("/", 1)[-1], s.at.span.line, s.at.span.column)
            for s in db.chain if s.at is not None]


# -- the stock Rails 8 app ---------------------------------------------------------------------------

def test_stock_rails_8_app_has_four_sqlite_databases_under_rails_storage(tmp_path: Path) -> None:
    [primary, cache, queue, cable] = dbs(app(tmp_path, RAILS8_YML))
    assert [(d.name, d.kind, d.path) for d in (primary, cache, queue, cable)] == [
        ("primary", SQLITE, "/rails/storage/production.sqlite3"),
        ("cache", SQLITE, "/rails/storage/production_cache.sqlite3"),
        ("queue", SQLITE, "/rails/storage/production_queue.sqlite3"),
        ("cable", SQLITE, "/rails/storage/production_cable.sqlite3"),
    ]
    assert [pos(d) for d in (primary, cache, queue, cable)] == [
        ("database.yml", 20, 15), ("database.yml", 23, 15), ("database.yml", 27, 15), ("database.yml", 31, 15)]
    assert primary.declared.span.end_column == 41
    assert [(d.variable, d.form) for d in (primary, cache, queue, cable)] == [
        ("DATABASE_URL", "sqlite3://"), ("CACHE_DATABASE_URL", "sqlite3://"), ("QUEUE_DATABASE_URL", "sqlite3://"),
        ("CABLE_DATABASE_URL", "sqlite3://")]
    assert (primary.framework, primary.reader, primary.raw, primary.unknown) == (
        "rails", "rails", "storage/production.sqlite3", None)
    assert (primary.relative, primary.base) == ("storage/production.sqlite3", "/rails")
    assert primary.claims == ("RAILS_ENV", "PRIMARY_DATABASE_URL", "DATABASE_URL")
    assert cache.claims == ("RAILS_ENV", "CACHE_DATABASE_URL")
    assert steps(primary) == [
        "RAILS_ENV = 'production' is set in Dockerfile ENV",
        "production primary database in config/database.yml",
        "adapter: sqlite3 (merged from `default` with <<)",
        ("DATABASE_URL is not set in fly.toml [env] or the Dockerfile (the Gemfile bundles no server database "
         "adapter for production): config/database.yml decides"),
        "database: storage/production.sqlite3",
        ("relative path `storage/production.sqlite3` resolved against the Rails root /rails (where "
         "config/database.yml is in the image)"),
    ]
    assert at(primary) == [("Dockerfile", 7, 5), ("database.yml", 18, 3), ("database.yml", 3, 12),
                           ("database.yml", 20, 15)]
    assert at(cable)[1] == ("database.yml", 29, 3)


def test_database_url_in_fly_toml_moves_the_primary_only(tmp_path: Path) -> None:
    root = app(tmp_path, RAILS8_YML, fly_env='  DATABASE_URL = "sqlite3:///data/production.sqlite3"\n')
    [primary, cache, queue, cable] = dbs(root)
    assert (primary.kind, primary.path, primary.variable, primary.raw) == (
        SQLITE, "/data/production.sqlite3", "DATABASE_URL", "sqlite3:///data/production.sqlite3")
    assert pos(primary) == ("fly.toml", 11, 18)
    assert (primary.relative, primary.base) == (None, None)
    assert steps(primary)[-1] == "DATABASE_URL = 'sqlite3:///data/production.sqlite3' is set in fly.toml [env]"
    # ActiveRecord gives DATABASE_URL to the config named primary only: the others stay in storage/
    assert [(d.name, d.path, pos(d)) for d in (cache, queue, cable)] == [
        ("cache", "/rails/storage/production_cache.sqlite3", ("database.yml", 23, 15)),
        ("queue", "/rails/storage/production_queue.sqlite3", ("database.yml", 27, 15)),
        ("cable", "/rails/storage/production_cable.sqlite3", ("database.yml", 31, 15)),
    ]


def test_named_database_url_in_the_dockerfile_moves_that_database(tmp_path: Path) -> None:
    root = app(tmp_path, RAILS8_YML, docker_env=' \\\n    CACHE_DATABASE_URL="sqlite3:///data/cache.sqlite3"')
    found_ = {d.name: d for d in dbs(root)}
    cache = found_["cache"]
    assert (cache.kind, cache.path, cache.variable) == (SQLITE, "/data/cache.sqlite3", "CACHE_DATABASE_URL")
    assert pos(cache) == ("Dockerfile", 11, 5)
    assert steps(cache)[-1] == "CACHE_DATABASE_URL = 'sqlite3:///data/cache.sqlite3' is set in Dockerfile ENV"
    assert found_["primary"].path == "/rails/storage/production.sqlite3"


def test_primary_database_url_wins_over_database_url(tmp_path: Path) -> None:
    root = app(tmp_path, RAILS8_YML, fly_env='  DATABASE_URL = "sqlite3:///data/a.sqlite3"\n'
                                             '  PRIMARY_DATABASE_URL = "sqlite3:///data/b.sqlite3"\n')
    primary = dbs(root)[0]
    assert (primary.path, primary.variable, pos(primary)) == ("/data/b.sqlite3", "PRIMARY_DATABASE_URL",
                                                              ("fly.toml", 12, 26))


def test_database_url_of_a_server_is_server(tmp_path: Path) -> None:
    root = app(tmp_path, single("storage/production.sqlite3"),
               fly_env='  DATABASE_URL = "postgres://journal@journal-db.flycast:5432/journal"\n')
    [db] = dbs(root)
    assert (db.kind, db.path, db.name, db.variable) == (SERVER, None, "primary", "DATABASE_URL")
    assert pos(db) == ("fly.toml", 11, 18)


def test_first_config_not_named_primary_does_not_take_database_url(tmp_path: Path) -> None:
    yml = """
    production:
      main:
        adapter: sqlite3
        database: storage/main.sqlite3
      analytics:
        adapter: sqlite3
        database: storage/analytics.sqlite3
    """
    [main, analytics] = dbs(app(tmp_path, yml, fly_env='  DATABASE_URL = "sqlite3:///data/x.sqlite3"\n'))
    # environment_value_for: DATABASE_URL is read only for the config named "primary"
    assert [(d.name, d.path, d.variable) for d in (main, analytics)] == [
        ("main", "/rails/storage/main.sqlite3", "MAIN_DATABASE_URL"),
        ("analytics", "/rails/storage/analytics.sqlite3", "ANALYTICS_DATABASE_URL")]
    assert [pos(d) for d in (main, analytics)] == [("database.yml", 4, 15), ("database.yml", 7, 15)]
    assert "DATABASE_URL" not in main.claims


# -- single configurations --------------------------------------------------------------------------

def test_rails_7_single_config_merged_from_default(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, single("db/production.sqlite3")))
    assert (db.name, db.kind, db.path, db.relative, db.base) == (
        "primary", SQLITE, "/rails/db/production.sqlite3", "db/production.sqlite3", "/rails")
    assert pos(db) == ("database.yml", 12, 13)
    assert steps(db)[1:3] == ["production database in config/database.yml (a single configuration: primary)",
                              "adapter: sqlite3 (merged from `default` with <<)"]
    assert at(db)[1:3] == [("database.yml", 10, 1), ("database.yml", 2, 12)]


def test_database_inherited_from_the_default_anchor_is_declared_there(tmp_path: Path) -> None:
    yml = """
    default: &default
      adapter: sqlite3
      database: /data/production.sqlite3

    production:
      <<: *default
      pool: 5
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.kind, db.path) == (SQLITE, "/data/production.sqlite3")
    assert pos(db) == ("database.yml", 3, 13)
    assert "database: /data/production.sqlite3 (merged from `default` with <<)" in steps(db)


def test_psych_merge_order_keys_after_the_merge_win_and_the_first_mapping_of_a_list_wins(tmp_path: Path) -> None:
    yml = """
    base: &base
      adapter: sqlite3
      database: storage/base.sqlite3
    other: &other
      database: storage/other.sqlite3
      timeout: 100
    production:
      database: storage/before.sqlite3
      <<: [*other, *base]
    """
    [db] = dbs(app(tmp_path, yml))
    # `<<` overwrites keys read before it (Psych's revive_hash), and *other comes first in the list
    assert (db.path, pos(db)) == ("/rails/storage/other.sqlite3", ("database.yml", 5, 13))

    yml_after = yml.replace("      database: storage/before.sqlite3\n      <<: [*other, *base]\n",
                            "      <<: [*other, *base]\n      database: storage/after.sqlite3\n")
    [db] = dbs(app(tmp_path, yml_after))
    assert (db.path, pos(db)) == ("/rails/storage/after.sqlite3", ("database.yml", 9, 13))


def test_nested_merges_name_the_section_the_value_comes_from(tmp_path: Path) -> None:
    yml = """
    base: &base
      adapter: sqlite3
    default: &default
      <<: *base
      timeout: 5000
    production:
      <<: *default
      database: storage/production.sqlite3
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/rails/storage/production.sqlite3", ("database.yml", 8, 13))
    assert "adapter: sqlite3 (merged from `base` with <<)" in steps(db)
    assert ("database.yml", 2, 12) in at(db)


def test_scalar_alias_and_anchor_of_a_value(tmp_path: Path) -> None:
    yml = """
    paths:
      prod: &prod_db storage/live.sqlite3
    production:
      adapter: sqlite3
      database: *prod_db
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.path, pos(db)) == ("/rails/storage/live.sqlite3", ("database.yml", 2, 18))


def test_shared_section_fills_in_missing_keys(tmp_path: Path) -> None:
    yml = """
    shared:
      adapter: sqlite3
      timeout: 5000
    production:
      database: storage/production.sqlite3
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.kind, db.path) == (SQLITE, "/rails/storage/production.sqlite3")
    assert "adapter: sqlite3 (from the `shared` section)" in steps(db)


def test_memory_database_is_not_a_database_on_disk(tmp_path: Path) -> None:
    assert dbs(app(tmp_path, single('":memory:"'))) == []


def test_absolute_database_path(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, single('"/data/production.sqlite3"')))
    assert (db.path, db.relative, db.raw, pos(db)) == ("/data/production.sqlite3", None, "/data/production.sqlite3",
                                                       ("database.yml", 12, 13))
    assert db.declared.span.end_column == 39  # the quoted scalar, quotes included


def test_sqlite_uri_in_database(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, single("file:storage/production.sqlite3?mode=rwc")))
    assert (db.path, db.relative) == ("/rails/storage/production.sqlite3", "storage/production.sqlite3")


def test_litestack_adapter_is_sqlite(tmp_path: Path) -> None:
    yml = """
    production:
      adapter: litedb
      database: <%= Litesupport.root("production").join("data.sqlite3") %>
    """
    [db] = dbs(app(tmp_path, yml, gem_extra='gem "litestack"\n'))
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("database.yml", 3, 13)
    assert db.unknown == ('the database path is not known: `Litesupport.root("production").join("data.sqlite3")` '
                          "is Ruby code flyconf does not evaluate")


# -- url: in database.yml -----------------------------------------------------------------------------

def test_literal_url_in_database_yml_is_not_moved_by_database_url(tmp_path: Path) -> None:
    yml = """
    production:
      url: sqlite3:storage/live.sqlite3
    """
    [db] = dbs(app(tmp_path, yml, fly_env='  DATABASE_URL = "sqlite3:///data/x.sqlite3"\n'))
    # a config with a url is a UrlConfig: merge_db_environment_variables leaves it alone
    assert (db.kind, db.path, db.variable, db.raw) == (SQLITE, "/rails/storage/live.sqlite3", None,
                                                       "sqlite3:storage/live.sqlite3")
    assert pos(db) == ("database.yml", 2, 8)


def test_url_from_env_in_database_yml_reads_the_variable(tmp_path: Path) -> None:
    yml = """
    default: &default
      adapter: postgresql
    production:
      <<: *default
      url: <%= ENV['DATABASE_URL'] %>
    """
    [db] = dbs(app(tmp_path, yml, fly_env='  DATABASE_URL = "sqlite3:///data/live.sqlite3"\n'))
    assert (db.kind, db.path, db.variable) == (SQLITE, "/data/live.sqlite3", "DATABASE_URL")
    assert pos(db) == ("fly.toml", 11, 18)


def test_url_from_a_secret_with_a_postgres_adapter_is_server(tmp_path: Path) -> None:
    yml = """
    default: &default
      adapter: postgresql
    production:
      <<: *default
      url: <%= ENV['DATABASE_URL'] %>
    """
    root = app(tmp_path, yml, gem_extra='gem "pg", "~> 1.1"\n')
    [db] = dbs(root)
    assert (db.kind, db.path, db.variable) == (SERVER, None, "DATABASE_URL")
    assert pos(db) == ("database.yml", 2, 12)


def test_url_from_a_secret_without_adapter_and_only_pg_is_server(tmp_path: Path) -> None:
    yml = """
    production:
      url: <%= ENV["DATABASE_URL"] %>
    """
    root = write_app(tmp_path, {"fly.toml": FLY.format(env=""), "Dockerfile": DOCKERFILE.format(env=""),
                                "config/database.yml": yml, "Gemfile": 'gem "rails"\ngem "pg"\n'})
    [db] = dbs(root)
    assert (db.kind, pos(db)) == (SERVER, ("database.yml", 1, 1))
    assert steps(db)[-1] == "the Gemfile bundles only server database adapters for production (pg)"


# -- DATABASE_URL as a secret -------------------------------------------------------------------------

def test_pg_in_the_production_group_makes_the_sqlite_primary_unknown(tmp_path: Path) -> None:
    gems = 'group :production do\n  gem "pg", "~> 1.5"\nend\n'
    [db] = dbs(app(tmp_path, single("storage/production.sqlite3"), gem_extra=gems))
    assert (db.kind, db.path, db.variable) == (UNKNOWN, None, "DATABASE_URL")
    assert db.unknown == "DATABASE_URL may point at a server database, set as a secret; the Gemfile has pg"
    assert pos(db) == ("database.yml", 12, 13)
    assert steps(db)[-1] == ("DATABASE_URL is not set in fly.toml [env] or the Dockerfile, and the Gemfile bundles "
                             "pg for production")
    assert at(db)[-1] == ("Gemfile", 8, 7)


def test_pg_with_a_group_option_outside_development(tmp_path: Path) -> None:
    root = app(tmp_path, RAILS8_YML, gem_extra='gem "pg", group: :production\n')
    assert [d.kind for d in dbs(root)] == [UNKNOWN] * 4


def test_pg_only_in_development_and_test_keeps_sqlite(tmp_path: Path) -> None:
    gems = 'gem "mysql2", groups: [:development, :test]\ngroup :test do\n  gem "pg"\nend\n'
    [db] = dbs(app(tmp_path, single("storage/production.sqlite3"), gem_extra=gems))
    assert (db.kind, db.path) == (SQLITE, "/rails/storage/production.sqlite3")


def test_gemfile_lock_without_gemfile_counts_its_dependencies(tmp_path: Path) -> None:
    lock = """
    GEM
      remote: https://rubygems.org/
      specs:
        pg (1.5.9)
        rails (8.0.1)
        sqlite3 (2.5.0)

    DEPENDENCIES
      pg
      rails (~> 8.0.1)
      sqlite3 (>= 2.1)
    """
    root = app(tmp_path, single("storage/production.sqlite3"), extra={"Gemfile.lock": lock})
    (root / "Gemfile").unlink()
    [db] = dbs(root)
    assert db.kind == UNKNOWN
    assert db.unknown == "DATABASE_URL may point at a server database, set as a secret; the Gemfile.lock has pg"
    assert at(db)[-1] == ("Gemfile.lock", 9, 3)


def test_no_database_and_no_url_is_sqlite_with_unknown_path(tmp_path: Path) -> None:
    yml = """
    default: &default
      adapter: sqlite3
      pool: 5
    production:
      <<: *default
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("database.yml", 2, 12))
    assert db.unknown == ("the configuration names no database file: it comes from DATABASE_URL, set only as a "
                          "secret")


# -- ERB -----------------------------------------------------------------------------------------------

ERB_YML = """
default: &default
  adapter: sqlite3
  timeout: 5000

production:
  <<: *default
  database: <%= {expr} %>
"""


@pytest.mark.parametrize(("expr", "column", "end"), [
    ('ENV.fetch("SQLITE_DB_PATH") { "storage/live.sqlite3" }', 47, 69),
    ("ENV.fetch('SQLITE_DB_PATH') { 'storage/live.sqlite3' }", 47, 69),
    ('ENV.fetch("SQLITE_DB_PATH", "storage/live.sqlite3")', 45, 67),
    ("ENV['SQLITE_DB_PATH'] || 'storage/live.sqlite3'", 42, 64),
    ('ENV["SQLITE_DB_PATH"].presence || "storage/live.sqlite3"', 51, 73),
])
def test_env_default_applies_when_the_variable_is_not_visible(tmp_path: Path, expr: str, column: int,
                                                               end: int) -> None:
    [db] = dbs(app(tmp_path, erb(expr)))
    assert (db.kind, db.path, db.raw) == (SQLITE, "/rails/storage/live.sqlite3", "storage/live.sqlite3")
    assert pos(db) == ("database.yml", 7, column)  # the default literal inside the tag
    assert db.declared.span.end_column == end
    assert "SQLITE_DB_PATH" in db.claims
    how = "default of ENV.fetch" if "fetch" in expr else "default after `||`"
    assert f"SQLITE_DB_PATH is not set in fly.toml [env] or the Dockerfile: {how} in `{expr}`" in steps(db)


def test_env_variable_set_in_fly_toml_replaces_the_default(tmp_path: Path) -> None:
    root = app(tmp_path, erb('ENV.fetch("SQLITE_DB_PATH") { "storage/live.sqlite3" }'),
               fly_env='  SQLITE_DB_PATH = "/data/live.sqlite3"\n')
    [db] = dbs(root)
    assert (db.kind, db.path, db.raw) == (SQLITE, "/data/live.sqlite3", "/data/live.sqlite3")
    assert pos(db) == ("fly.toml", 11, 20)
    assert "SQLITE_DB_PATH = '/data/live.sqlite3' is set in fly.toml [env]" in steps(db)


def test_env_index_without_default_not_visible_is_unknown_path(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, erb('ENV["SQLITE_DB_PATH"]')))
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("database.yml", 7, 13)
    assert db.unknown == ("the database path is not known: SQLITE_DB_PATH is not set in fly.toml [env] or the "
                          "Dockerfile: it is set only as a secret, or not at all")


def test_other_erb_expression_is_unknown(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, erb('Rails.application.credentials.db_path')))
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("database.yml", 7, 13))
    assert db.declared.span.end_column == 57
    assert "Rails.application.credentials.db_path" in (db.unknown or "")


def test_rails_root_join_is_a_path_in_the_rails_root(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, erb('Rails.root.join("storage", "live.sqlite3")')))
    assert (db.path, db.relative) == ("/rails/storage/live.sqlite3", "storage/live.sqlite3")


def test_erb_before_a_value_keeps_columns_right(tmp_path: Path) -> None:
    yml = """
    production:
      pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
      adapter: <%= "sqlite3" %>
      timeout: <%= 5_000 %> # database: not this
      database: storage/<%= ENV.fetch("DB_NAME", "journal") %>.sqlite3
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.kind, db.path) == (SQLITE, "/rails/storage/journal.sqlite3")
    assert pos(db) == ("database.yml", 5, 13)


def test_erb_if_block_makes_the_adapter_unknown(tmp_path: Path) -> None:
    yml = """
    production:
    <% if ENV["USE_POSTGRES"] %>
      adapter: postgresql
      database: journal
    <% else %>
      adapter: sqlite3
      database: storage/production.sqlite3
    <% end %>
    """
    [db] = dbs(app(tmp_path, yml))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("database.yml", 6, 12)
    assert "inside an ERB" in (db.unknown or "")


def test_whole_configuration_inside_an_erb_block_is_unknown(tmp_path: Path) -> None:
    yml = """
    production:
    <% if ENV["LEGACY"] %>
      primary:
        adapter: sqlite3
        database: storage/legacy.sqlite3
    <% end %>
      cache:
        adapter: sqlite3
        database: storage/cache.sqlite3
    """
    [primary, cache] = dbs(app(tmp_path, yml))
    assert (primary.kind, primary.path, pos(primary)) == (UNKNOWN, None, ("database.yml", 3, 3))
    assert (cache.kind, cache.path, pos(cache)) == (SQLITE, "/rails/storage/cache.sqlite3", ("database.yml", 9, 15))


def test_dockerfile_rails_rewrite_derives_cache_queue_cable_from_database_url(tmp_path: Path) -> None:
    yml = """
    default: &default
      adapter: sqlite3
      pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
      timeout: 5000

    production:
      primary:
        <<: *default
        database: storage/production.sqlite3
        url: <%= ENV["DATABASE_URL"] %>
      cache:
        <<: *default
        database: storage/production_cache.sqlite3
        migrations_paths: db/cache_migrate
        url: <%= URI.parse(ENV["DATABASE_URL"]).tap { |url| url.path += "_cache" } if ENV["DATABASE_URL"] %>
      queue:
        <<: *default
        database: storage/production_queue.sqlite3
        migrations_paths: db/queue_migrate
        url: <%= URI.parse(ENV["DATABASE_URL"]).tap { |url| url.path += "_queue" } if ENV["DATABASE_URL"] %>
    """
    [primary, cache, queue] = dbs(app(tmp_path, yml))
    # database.yml takes the primary's url from DATABASE_URL, which is not visible: most likely a secret
    assert (primary.kind, primary.path, primary.variable, pos(primary)) == (SQLITE, None, "DATABASE_URL",
                                                                            ("database.yml", 10, 10))
    assert primary.unknown == ("DATABASE_URL is not set in fly.toml [env] or the Dockerfile, and config/database.yml "
                               "takes the url from it: it is most likely set as a secret (without it the database "
                               "would be /rails/storage/production.sqlite3)")
    for db, line in ((cache, 15), (queue, 20)):
        assert (db.kind, db.path) == (SQLITE, None)
        assert pos(db) == ("database.yml", line, 10)
        assert db.unknown is not None and db.unknown.startswith(f"the url of the {db.name} database is not known")

    [primary, cache, queue] = dbs(app(tmp_path, yml, fly_env='  DATABASE_URL = "sqlite3:///data/production.sqlite3"\n'))
    assert (primary.kind, primary.path, pos(primary)) == (SQLITE, "/data/production.sqlite3", ("fly.toml", 11, 18))
    assert [(d.kind, d.path) for d in (cache, queue)] == [(SQLITE, None), (SQLITE, None)]


# -- environments ---------------------------------------------------------------------------------------

def test_rails_env_from_fly_toml_selects_its_section(tmp_path: Path) -> None:
    yml = single("storage/production.sqlite3") + (
        "\nstaging:\n  <<: *default\n  database: storage/staging.sqlite3\n")
    [db] = dbs(app(tmp_path, yml, fly_env='  RAILS_ENV = "staging"\n'))
    assert (db.path, pos(db)) == ("/rails/storage/staging.sqlite3", ("database.yml", 16, 13))
    assert steps(db)[0] == "RAILS_ENV = 'staging' is set in fly.toml [env]"
    assert steps(db)[1] == "staging database in config/database.yml (a single configuration: primary)"


def test_rails_env_without_a_section_yields_nothing(tmp_path: Path) -> None:
    root = app(tmp_path, single("storage/production.sqlite3"),
               fly_env='  RAILS_ENV = "staging"\n')
    assert dbs(root) == []


def test_rack_env_when_rails_env_is_not_set(tmp_path: Path) -> None:
    dockerfile = "FROM ruby:3.3-slim\nENV RACK_ENV=staging\nWORKDIR /srv/app\nCOPY . .\n"
    yml = "staging:\n  adapter: sqlite3\n  database: storage/staging.sqlite3\n"
    [db] = dbs(app(tmp_path, yml, dockerfile=dockerfile))
    assert (db.path, pos(db)) == ("/srv/app/storage/staging.sqlite3", ("database.yml", 3, 13))
    assert steps(db)[0] == "RACK_ENV = 'staging' is set in Dockerfile ENV"
    assert db.claims[:2] == ("RAILS_ENV", "RACK_ENV")


def test_rails_env_not_set_assumes_production(tmp_path: Path) -> None:
    dockerfile = "FROM ruby:3.3-slim\nWORKDIR /srv/app\nCOPY . .\nCMD [\"bin/rails\", \"server\"]\n"
    [db] = dbs(app(tmp_path, single("storage/production.sqlite3"), dockerfile=dockerfile))
    assert db.path == "/srv/app/storage/production.sqlite3"
    assert steps(db)[0] == ("RAILS_ENV is not set in fly.toml [env] or the Dockerfile: the production environment "
                            "is assumed")


# -- the Rails root in the image -----------------------------------------------------------------------

def test_rails_root_from_where_config_is_copied_not_the_workdir(tmp_path: Path) -> None:
    dockerfile = """
    FROM ruby:3.3-slim
    ENV RAILS_ENV=production
    WORKDIR /
    COPY . /srv/journal/
    CMD ["/srv/journal/bin/rails", "server"]
    """
    [db] = dbs(app(tmp_path, single("storage/production.sqlite3"), dockerfile=dockerfile))
    assert (db.path, db.base) == ("/srv/journal/storage/production.sqlite3", "/srv/journal")


def test_rails_root_unknown_without_a_dockerfile(tmp_path: Path) -> None:
    root = app(tmp_path, single("storage/production.sqlite3"))
    (root / "Dockerfile").unlink()
    [db] = dbs(root)
    assert (db.kind, db.path, db.relative, pos(db)) == (SQLITE, None, "storage/production.sqlite3",
                                                        ("database.yml", 12, 13))
    assert db.unknown == "relative path `storage/production.sqlite3`: the Rails root in the image is not known"


# -- near misses: silent or not SQLite ------------------------------------------------------------------

def test_postgres_production_with_sqlite_test_is_server(tmp_path: Path) -> None:
    [db] = dbs(app(tmp_path, POSTGRES_YML, gem_extra='gem "pg"\n'))
    assert (db.kind, db.path, db.raw, pos(db)) == (SERVER, None, "postgresql", ("database.yml", 2, 12))


def test_not_a_rails_app_yields_nothing(tmp_path: Path) -> None:
    root = write_app(tmp_path, {"fly.toml": FLY.format(env=""), "Dockerfile": DOCKERFILE.format(env=""),
                                "Gemfile": 'gem "sinatra"\ngem "sinatra-activerecord"\ngem "sqlite3"\n',
                                "config/database.yml": single("db/x.sqlite3")})
    assert dbs(root) == []


def test_no_database_yml_yields_nothing(tmp_path: Path) -> None:
    root = app(tmp_path, "")
    (root / "config" / "database.yml").unlink()
    assert dbs(root) == []


def test_invalid_yaml_is_unknown_with_a_reason(tmp_path: Path) -> None:
    yml = "production:\n  adapter: sqlite3\n database: [oops\n"
    [db] = dbs(app(tmp_path, yml))
    assert db.kind == UNKNOWN
    assert db.unknown == ("config/database.yml cannot be read statically: it is not valid YAML once its ERB tags "
                          "are put aside (expected <block end>, but found '<block mapping start>')")
    assert pos(db) == ("database.yml", 3, 2)


# -- discovery -----------------------------------------------------------------------------------------

def test_discovery_does_not_report_database_url_twice(tmp_path: Path) -> None:
    root = app(tmp_path, RAILS8_YML, fly_env='  DATABASE_URL = "sqlite3:///data/production.sqlite3"\n')
    everything = found(root)
    assert [(d.reader, d.name) for d in everything] == [("rails", "primary"), ("rails", "cache"), ("rails", "queue"),
                                                        ("rails", "cable")]


# -- helpers --------------------------------------------------------------------------------------------

def test_mask_erb_keeps_length_and_lines() -> None:
    text = 'a: <%= ENV["X"] %>\n<% if x %>\nb: 1\n<% end %>\nc: <%# note %>d\n'
    masked = rails.mask_erb(text)
    assert masked is not None
    assert len(masked.text) == len(text)
    assert masked.text.split("\n")[2] == "b: 1"
    assert masked.text.count("\n") == text.count("\n")
    assert [t.code for t in masked.tags] == [' ENV["X"] ']
    assert masked.regions == ((text.index("\nb: 1") , text.index("<% end")),)
    assert masked.text.split("\n")[4] == "c:" + " " * 12 + "d"


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite3:///data/x.sqlite3", ("sqlite3", "/data/x.sqlite3")),
    ("sqlite3:storage/x.sqlite3?pool=5", ("sqlite3", "storage/x.sqlite3")),
    ("sqlite3://ignored-host/x.sqlite3", ("sqlite3", "/x.sqlite3")),
    ("sqlite:///data/x.sqlite3", ("sqlite3", "/data/x.sqlite3")),
    ("postgres://u:p@db.internal:5432/journal", ("postgresql", "journal")),
    ("mysql2://u@db/app", ("mysql2", "app")),
    ("sqlite3:", ("sqlite3", None)),
    ("storage/x.sqlite3", None),
])
def test_rails_url(url: str, expected: tuple[str, str | None] | None) -> None:
    assert rails.rails_url(url) == expected


@needs_shared(CORPUS)
def test_every_corpus_app_reads_without_error() -> None:
    apps = sorted(CORPUS.glob("*/fly*.toml")) + sorted(CORPUS.glob("*/*/fly*.toml"))
    assert apps
    seen = 0
    for toml in apps:
        loaded, _findings = load_app(toml)
        if loaded is None:
            continue
        for db in rails.read(loaded.context):
            seen += 1
            assert db.reader == "rails" and db.declared.span.line >= 1 and db.declared.span.column >= 1
            assert db.kind != SQLITE or db.path is not None or db.unknown
    assert seen >= 20


class FakeContext:
    """A context of files in memory, for property tests (no Dockerfile: the Rails root is /app)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.root = None
        self.env: dict[str, object] = {}
        self.workdir = "/app"
        self.dockerfile = None

    def read(self, rel: str) -> Document | None:
        text = self.files.get(rel)
        return Document(display_path=rel, text=text) if text is not None else None

    def exists(self, rel: str) -> bool:
        return rel in self.files

    def glob(self, pattern: str) -> list[str]:
        return []

    def image_path(self, rel: str) -> str | None:
        return None


YAML_WORDS = ["production:", "default: &default", "<<: *default", "  ", "\n", "adapter:", "sqlite3", "postgresql",
              "database:", "url:", "storage/x.sqlite3", "<%= ENV['DATABASE_URL'] %>", "<% if x %>", "<% end %>",
              '<%= ENV.fetch("X") { "y" } %>', "primary:", "cache:", "- ", "[", "]", "{", "}", "&a", "*a", '"', "'",
              "<%=", "%>", ":", "#", "shared:", "<<: [*a, *default]", "~", "sqlite3:///data/x", "\t", "?"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(YAML_WORDS), max_size=40))
def test_database_yml_noise_never_raises(words: list[str]) -> None:
    text = " ".join(words)
    ctx = FakeContext({"config/database.yml": text, "bin/rails": ""})
    for db in rails.read(ctx):  # type: ignore[arg-type]
        assert db.declared.span.line >= 1 and db.declared.span.column >= 1
        assert db.kind in (SQLITE, SERVER, UNKNOWN)
    masked = rails.mask_erb(text)
    assert masked is None or len(masked.text) == len(text)
