"""The Laravel reader: DB_CONNECTION and DB_DATABASE from the environment, an image's .env, config/database.php."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyconf.assemble import load_app
from flyconf.databases import laravel
from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Found
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, found, pos, write_app

FLY = """
app = "shop"
primary_region = "fra"
console_command = "php /var/www/html/artisan tinker"

[build]
  [build.args]
    NODE_VERSION = "18"
    PHP_VERSION = "8.3"

[env]
  APP_ENV = "production"
  LOG_CHANNEL = "stderr"
  SESSION_DRIVER = "cookie"
{env}
[http_service]
  internal_port = 8080
  force_https = true
"""

DOCKERFILE = """
ARG PHP_VERSION=8.3
FROM fideloper/fly-laravel:${{PHP_VERSION}} as base
LABEL fly_launch_runtime="laravel"
{env}
COPY . /var/www/html
WORKDIR {workdir}
RUN composer install --optimize-autoloader --no-dev \\
    && mkdir -p storage/logs \\
    && php artisan optimize:clear \\
    && chown -R www-data:www-data /var/www/html{run}

EXPOSE 8080
ENTRYPOINT ["/entrypoint"]
"""

COMPOSER = """
{{
    "name": "acme/shop",
    "type": "project",
    "require": {{
        "php": "^8.2",
        "laravel/framework": "{version}",
        "laravel/tinker": "^2.9"
    }}
}}
"""

# A config/database.php of the Laravel 11 shape (written for these tests).
DATABASE_PHP = """
<?php

use Illuminate\\Support\\Str;

return [

    // The connection used unless another one is asked for.
    'default' => env('DB_CONNECTION', '{default}'),

    'connections' => [

        'sqlite' => [
            'driver' => 'sqlite',
            'url' => env('DB_URL'),
            'database' => env('DB_DATABASE', database_path('database.sqlite')),
            'prefix' => '',
            'foreign_key_constraints' => env('DB_FOREIGN_KEYS', true),
        ],

        'mysql' => [
            'driver' => 'mysql',
            'url' => env('DB_URL'),
            'host' => env('DB_HOST', '127.0.0.1'),
            'database' => env('DB_DATABASE', 'shop'),
            'options' => extension_loaded('pdo_mysql') ? array_filter([
                PDO::MYSQL_ATTR_SSL_CA => env('MYSQL_ATTR_SSL_CA'),
            ]) : [],
        ],

        'pgsql' => [
            'driver' => 'pgsql',
            'url' => env('DB_URL'),
            'database' => env('DB_DATABASE', 'shop'),
        ],
    ],

    'migrations' => [
        'table' => 'migrations',
        'update_date_on_publish' => true,
    ],

    'redis' => [
        'client' => env('REDIS_CLIENT', 'phpredis'),
        'default' => [
            'url' => env('REDIS_URL'),
            'database' => env('REDIS_DB', '0'),
        ],
    ],
];
"""

ENV_EXAMPLE = """
APP_NAME=Shop
APP_ENV=local
APP_KEY=
APP_DEBUG=true

DB_CONNECTION=sqlite
# DB_HOST=127.0.0.1
# DB_DATABASE=shop
"""

FLY_DOCKERIGNORE = """
# excludes from the docker image/build
bootstrap/cache/*
storage/logs/*
*.env*
vendor

fly.toml
**/*node_modules
"""

SQLITE_ENV = '  DB_CONNECTION = "sqlite"\n  DB_DATABASE = "/var/www/html/storage/database/database.sqlite"\n'


def lara(tmp_path: Path, *, env: str = SQLITE_ENV, df_env: str = "", workdir: str = "/var/www/html", run: str = "",
         version: str = "^11.9", config: str | None = "sqlite", example: str | None = ENV_EXAMPLE,
         dockerignore: str | None = FLY_DOCKERIGNORE, extra: dict[str, str] | None = None) -> Path:
    files = {
        "fly.toml": FLY.format(env=env),
        "Dockerfile": DOCKERFILE.format(env=df_env, workdir=workdir, run=run),
        "composer.json": COMPOSER.format(version=version),
        "artisan": "#!/usr/bin/env php\n<?php\n// the console entry point\n",
    }
    if config is not None:
        files["config/database.php"] = DATABASE_PHP.replace("{default}", config)
    if example is not None:
        files[".env.example"] = example
    if dockerignore is not None:
        files[".dockerignore"] = dockerignore
    files.update(extra or {})
    return write_app(tmp_path, files)


def only(root: Path) -> Found:
    dbs = found(root, "laravel")
    assert len(dbs) == 1, dbs
    return dbs[0]


def steps(db: Found) -> list[str]:
    return [s.text for s in db.chain]


def line_col(text: str, needle: str) -> tuple[int, int]:
    import textwrap

    text = textwrap.dedent(text).lstrip("\n")
    at = text.index(needle)
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


CONFIG_TEXT = DATABASE_PHP.replace("{default}", "sqlite")


# -- the documented Fly setup: DB_CONNECTION and DB_DATABASE in fly.toml [env] --------------------

def test_sqlite_from_fly_toml_env(tmp_path: Path) -> None:
    db = only(lara(tmp_path))
    assert db.kind == SQLITE and db.path == "/var/www/html/storage/database/database.sqlite"
    assert pos(db) == ("fly.toml", 15, 17)
    assert (db.framework, db.reader, db.name, db.variable, db.form) == ("laravel", "laravel", "sqlite",
                                                                        "DB_DATABASE", "path")
    assert {"DB_CONNECTION", "DB_DATABASE", "DB_URL"} <= set(db.claims)
    assert steps(db) == [
        "'default' connection in config/database.php",
        "env('DB_CONNECTION') in config/database.php",
        "DB_CONNECTION = 'sqlite' is set in fly.toml [env]",
        "'database' of connection 'sqlite' in config/database.php",
        "env('DB_DATABASE') in config/database.php",
        "DB_DATABASE = '/var/www/html/storage/database/database.sqlite' is set in fly.toml [env]",
    ]
    assert (db.chain[0].at.span.line, db.chain[0].at.span.column) == line_col(CONFIG_TEXT, "env('DB_CONNECTION'")
    assert (db.chain[2].at.span.line, db.chain[2].at.span.column) == (14, 19)


def test_the_generic_env_reader_does_not_report_db_database_again(tmp_path: Path) -> None:
    dbs = found(lara(tmp_path))
    assert [(d.reader, d.path) for d in dbs] == [("laravel", "/var/www/html/storage/database/database.sqlite")]


def test_default_database_under_the_app_root(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env='  DB_CONNECTION = "sqlite"\n'))
    assert db.kind == SQLITE and db.path == "/var/www/html/database/database.sqlite"
    assert db.variable == "DB_DATABASE"
    assert pos(db) == ("database.php",) + line_col(CONFIG_TEXT, "database_path('database.sqlite')")
    assert "the app root is /var/www/html, where the Dockerfile puts artisan" in steps(db)
    assert "database_path() is under the app root /var/www/html" in steps(db)


def test_default_database_without_config_file(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env='  DB_CONNECTION = "sqlite"\n', config=None))
    assert db.kind == SQLITE and db.path == "/var/www/html/database/database.sqlite"
    assert pos(db) == ("fly.toml", 14, 19)  # no DB_DATABASE: the fix (setting it) belongs in [env]
    assert steps(db)[-1] == ("DB_DATABASE is not set: Laravel's default database_path('database.sqlite') is "
                             "/var/www/html/database/database.sqlite")


def test_dockerfile_env(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", df_env="ENV DB_CONNECTION=sqlite DB_DATABASE=/data/shop.sqlite\n"))
    assert db.path == "/data/shop.sqlite"
    assert pos(db) == ("Dockerfile", 4, 26)
    assert "DB_DATABASE = '/data/shop.sqlite' is set in Dockerfile ENV" in steps(db)


def test_custom_sqlite_connection(tmp_path: Path) -> None:
    config = CONFIG_TEXT.replace("'pgsql' => [", "'litefs' => [\n            'driver' => 'sqlite',\n"
                                 "            'database' => '/litefs/shop.sqlite',\n        ],\n\n        'pgsql' => [")
    db = only(lara(tmp_path, env='  DB_CONNECTION = "litefs"\n', extra={"config/database.php": config}))
    assert db.kind == SQLITE and db.name == "litefs" and db.path == "/litefs/shop.sqlite"
    assert db.variable is None  # a literal: no variable moves it
    assert pos(db) == ("database.php",) + line_col(config, "'/litefs/shop.sqlite'")
    assert "connection 'litefs' has driver 'sqlite'" in steps(db)


def test_storage_path_and_dir_in_config(tmp_path: Path) -> None:
    config = CONFIG_TEXT.replace("database_path('database.sqlite')", "storage_path('app/shop.sqlite')")
    db = only(lara(tmp_path, env='  DB_CONNECTION = "sqlite"\n', extra={"config/database.php": config}))
    assert db.path == "/var/www/html/storage/app/shop.sqlite"
    config = CONFIG_TEXT.replace("database_path('database.sqlite')", "__DIR__ . '/../database/shop.sqlite'")
    db = only(lara(tmp_path / "b", env='  DB_CONNECTION = "sqlite"\n', extra={"config/database.php": config}))
    assert db.path == "/var/www/html/database/shop.sqlite"
    assert pos(db) == ("database.php",) + line_col(config, "__DIR__")


# -- server databases -----------------------------------------------------------------------------

@pytest.mark.parametrize("conn", ["pgsql", "mysql"])
def test_server_connection(tmp_path: Path, conn: str) -> None:
    db = only(lara(tmp_path, env=f'  DB_CONNECTION = "{conn}"\n  DB_DATABASE = "shop"\n'))
    assert db.kind == SERVER and db.path is None and db.name == conn
    assert pos(db) == ("fly.toml", 14, 19)
    assert "DB_DATABASE" in db.claims


def test_server_without_config_file(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env='  DB_CONNECTION = "mariadb"\n', config=None))
    assert db.kind == SERVER and pos(db) == ("fly.toml", 14, 19)


def test_db_url_overrides_the_sqlite_connection(tmp_path: Path) -> None:
    env = '  DB_CONNECTION = "sqlite"\n  DB_URL = "postgres://shop@shop-db.flycast:5432/shop"\n'
    db = only(lara(tmp_path, env=env))
    assert db.kind == SERVER and db.variable == "DB_URL" and pos(db) == ("fly.toml", 15, 12)


def test_sqlite_url(tmp_path: Path) -> None:
    env = '  DB_CONNECTION = "sqlite"\n  DB_URL = "sqlite:////data/shop.sqlite"\n'
    db = only(lara(tmp_path, env=env))
    assert db.kind == SQLITE and db.path == "/data/shop.sqlite" and db.form == "sqlite:///"
    assert pos(db) == ("fly.toml", 15, 12)


def test_database_url_of_older_laravel_without_config(tmp_path: Path) -> None:
    env = '  DB_CONNECTION = "sqlite"\n  DATABASE_URL = "mysql://shop@db.internal/shop"\n'
    db = only(lara(tmp_path, env=env, config=None, version="^10.10"))
    assert db.kind == SERVER and db.variable == "DATABASE_URL"


# -- DB_CONNECTION not visible: a secret may set it -----------------------------------------------

def test_sqlite_fallback_is_unknown(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env=""))
    assert db.kind == UNKNOWN and db.path is None
    assert pos(db) == ("database.php",) + line_col(CONFIG_TEXT, "'sqlite'),")
    assert db.unknown == ("DB_CONNECTION is not set in fly.toml [env], the Dockerfile or a .env in the image: "
                          "Laravel falls back to 'sqlite' unless it is set as a secret")
    example = next(s for s in db.chain if s.text.startswith("the example file"))
    assert (example.at.span.line, example.at.span.column) == (6, 15)


def test_mysql_fallback_of_older_laravel_is_a_server(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", config="mysql", example=ENV_EXAMPLE.replace("sqlite", "mysql")))
    assert db.kind == SERVER and db.name == "mysql"
    assert pos(db) == ("database.php",) + line_col(CONFIG_TEXT, "'sqlite'),")


def test_example_file_saying_sqlite_keeps_a_server_fallback_unknown(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", config="mysql"))
    assert db.kind == UNKNOWN


def test_without_config_the_framework_version_decides_the_fallback(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", config=None, version="^12.0"))
    assert db.kind == UNKNOWN and pos(db) == ("composer.json", 6, 9)
    assert steps(db)[0] == ("config/database.php is not in the build context: Laravel 12's default connection is "
                            "'sqlite'")
    db = only(lara(tmp_path / "b", env="", config=None, version="^10.10", example=None))
    assert db.kind == SERVER and db.name == "mysql"


# -- .env files in the image ------------------------------------------------------------------------

DOTENV = "APP_ENV=production\nDB_CONNECTION=sqlite\nDB_DATABASE=/data/from-dotenv.sqlite # the volume\n"


def test_dotenv_kept_out_by_dockerignore(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", extra={".env": DOTENV}))
    assert db.kind == UNKNOWN  # Fly's .dockerignore keeps *.env* out of the image


def test_dotenv_copied_into_the_image(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", dockerignore=None, extra={".env": DOTENV}))
    assert db.kind == SQLITE and db.path == "/data/from-dotenv.sqlite"
    assert pos(db) == (".env", 3, 13)
    assert db.declared.span.end_column == 37
    assert ".env is copied into the image at /var/www/html/.env" in steps(db)
    assert "DB_DATABASE = '/data/from-dotenv.sqlite' in .env" in steps(db)


def test_dockerignore_exception_lets_dotenv_in(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env="", dockerignore=FLY_DOCKERIGNORE + "!.env\n", extra={".env": DOTENV}))
    assert db.path == "/data/from-dotenv.sqlite"


def test_fly_toml_env_wins_over_dotenv(tmp_path: Path) -> None:
    db = only(lara(tmp_path, dockerignore=None, extra={".env": DOTENV}))
    assert db.path == "/var/www/html/storage/database/database.sqlite" and pos(db) == ("fly.toml", 15, 17)


def test_app_env_file_replaces_dotenv(tmp_path: Path) -> None:
    prod = "DB_CONNECTION=sqlite\nDB_DATABASE='/data/production.sqlite'\n"
    db = only(lara(tmp_path, env="", dockerignore=None, extra={".env": DOTENV, ".env.production": prod}))
    assert db.path == "/data/production.sqlite" and pos(db) == (".env.production", 2, 13)


def test_dockerfile_makes_dotenv_from_the_example(tmp_path: Path) -> None:
    example = ENV_EXAMPLE + "DB_DATABASE=/data/example.sqlite\n"
    db = only(lara(tmp_path, env="", dockerignore=None, example=example, run=" \\\n    && cp .env.example .env"))
    assert db.kind == SQLITE and db.path == "/data/example.sqlite"
    assert pos(db) == (".env.example", 9, 13)
    made = next(s for s in db.chain if s.text.startswith("the Dockerfile makes .env"))
    assert made.text == "the Dockerfile makes .env from .env.example (`cp .env.example .env`)"
    assert (made.at.span.line, made.at.span.column) == (11, 8)


# -- relative paths ---------------------------------------------------------------------------------

def test_relative_path_when_workdir_is_the_app_root(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env='  DB_CONNECTION = "sqlite"\n  DB_DATABASE = "storage/shop.sqlite"\n'))
    assert db.path == "/var/www/html/storage/shop.sqlite"
    assert (db.relative, db.base) == ("storage/shop.sqlite", "/var/www/html")
    assert pos(db) == ("fly.toml", 15, 17)


def test_relative_path_when_workdir_is_elsewhere(tmp_path: Path) -> None:
    db = only(lara(tmp_path, workdir="/app", env='  DB_CONNECTION = "sqlite"\n  DB_DATABASE = "shop.sqlite"\n'))
    assert db.kind == SQLITE and db.path is None and db.relative == "shop.sqlite"
    assert db.unknown is not None and db.unknown.startswith("relative path `shop.sqlite`: Laravel tries it")


# -- near misses ----------------------------------------------------------------------------------

def test_in_memory_database_is_nothing_to_lose(tmp_path: Path) -> None:
    assert found(lara(tmp_path, env='  DB_CONNECTION = "sqlite"\n  DB_DATABASE = ":memory:"\n'), "laravel") == []


def test_connection_missing_from_config_is_unknown(tmp_path: Path) -> None:
    db = only(lara(tmp_path, env='  DB_CONNECTION = "turso"\n'))
    assert db.kind == UNKNOWN and db.unknown == "the connection 'turso' is not in config/database.php"


def test_not_laravel(tmp_path: Path) -> None:
    write_app(tmp_path, {
        "fly.toml": FLY.format(env=SQLITE_ENV),
        "Dockerfile": "FROM php:8.3-fpm\nCOPY . /srv\nWORKDIR /srv\n",
        "composer.json": '{"require": {"symfony/framework-bundle": "^7.1"}}\n',
    })
    assert found(tmp_path, "laravel") == []


def test_unreadable_config_is_not_replaced_by_the_stock_default(tmp_path: Path) -> None:
    root = lara(tmp_path, env='  DB_CONNECTION = "sqlite"\n', extra={
        "composer.json": "{not json",
        "config/database.php": "<?php\nreturn [ 'default' => env('DB_CONNECTION', 'sqlite'), "
                               "'connections' => [ 'sqlite' => [ 'driver' => 'sqlite', "})
    db = only(root)  # artisan alone says Laravel
    assert db.kind == SQLITE and db.path is None
    assert db.unknown == "config/database.php could not be read statically"
    assert pos(db) == ("fly.toml", 14, 19)
    assert found(lara(tmp_path / "b", env="", extra={"config/database.php": "<?php return $config;"}),
                 "laravel") == []


# -- the pieces -----------------------------------------------------------------------------------

def test_php_scanner() -> None:
    text = ("<?php\n/* 'default' => 'no' */\n# 'x' => 'no'\nreturn array(\n  'a' => 'it\\'s', // c\n"
            "  'b' => \"x{$y}\",\n  'c' => __DIR__ . '/../d.sqlite',\n  'e' => [1, 2],\n);\n")
    node = laravel.php_returned_array(text)
    assert node is not None and node.kind == "array"
    assert node.get("a").value == "it's"
    assert node.get("b").kind == "other"  # interpolation: not a literal
    assert node.get("c").kind == "concat" and node.get("c").args[0].value == "__DIR__"
    assert node.get("default") is None
    assert laravel.php_returned_array("<?php echo 1;") is None


def test_dotenv_parser(tmp_path: Path) -> None:
    from flyconf.sources.base import Document

    doc = Document("x/.env", "export A=1\nB = 'two # not a comment'\nC=\"3\\\"q\" \nD=four # comment\nE=${A}/x\n#F=6\n")
    env = laravel.dotenv(doc)
    assert {k: v.value for k, v in env.items()} == {"A": "1", "B": "two # not a comment", "C": '3"q', "D": "four",
                                                    "E": None}
    assert (env["D"].at.span.line, env["D"].at.span.column, env["D"].at.span.end_column) == (4, 3, 7)


@pytest.mark.parametrize("patterns,ignored", [
    ("*.env*\n", True), (".env\n", True), ("/.env\n", True), ("**/.env\n", True), (".env*\n!.env\n", False),
    ("*.env\n", True), ("env\n", False), ("# .env\n", False), ("config\n", False), (".e?v\n", True),
])
def test_dockerignore(tmp_path: Path, patterns: str, ignored: bool) -> None:
    write_app(tmp_path, {"fly.toml": 'app = "x"\n', ".dockerignore": patterns, ".env": "A=1\n"})
    ctx = app_at(tmp_path).context
    assert (laravel.dockerignored(ctx, ".env") is not None) is ignored


# -- the corpus -----------------------------------------------------------------------------------

@needs_shared(CORPUS)
def test_reader_runs_over_every_corpus_app() -> None:
    seen = 0
    for toml in sorted(CORPUS.rglob("fly*.toml")):
        app, _ = load_app(toml)
        if app is None:
            continue
        for db in laravel.read(app.context):
            seen += 1
            assert db.declared.span.line >= 1 and db.declared.span.column >= 1
            assert db.path is None or db.path.startswith("/")
    assert seen > 0
