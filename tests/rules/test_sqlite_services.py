"""SQLite, services, checks, durations and secrets: fire with positions, stay quiet on near misses."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flyconf import lint_paths, lint_text
from flyconf.databases.env import target_of
from flyconf.databases.model import EnvVar

MOUNT = "[[mounts]]\nsource = 'data'\ndestination = '/data'\n"


def findings(text: str, rule: str):
    diags = lint_text(textwrap.dedent(text).lstrip("\n"), "fly.toml")
    return [(d.line, d.column) for d in diags if d.rule == rule], diags


def show(diags):
    return [(d.rule, d.line, d.column, d.message) for d in diags]


# -- reading SQLite locations ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "value", "path", "relative"),
    [
        ("DATABASE_URL", "file:/data/x.db", "/data/x.db", False),
        ("DATABASE_URL", "file:///data/x.db", "/data/x.db", False),
        ("DATABASE_URL", "file://data/sqlite.db", "/data/sqlite.db", False),
        ("DATABASE_URL", "file:./dev.db?connection_limit=1", "dev.db", True),
        ("DATABASE_URL", "sqlite:////data/x.db", "/data/x.db", False),
        ("DATABASE_URL", "sqlite:///rel.db", "rel.db", True),
        ("DATABASE_URL", "sqlite3:///data/x.sqlite3", "/data/x.sqlite3", False),
        ("DATABASE_URL", "sqlite3:db/production.sqlite3", "db/production.sqlite3", True),
        ("DATABASE_PATH", "/mnt/name/name.db", "/mnt/name/name.db", False),
        ("DB_PATH", "storage/app.sqlite", "storage/app.sqlite", True),
        ("SQLITE_PATH", "/data/app", "/data/app", False),
        ("BFF_DATABASE_URL", "/litefs/sqlite.db", "/litefs/sqlite.db", False),
    ],
)
def test_sqlite_locations(name, value, path, relative):
    target = target_of(EnvVar(name, value, None, "fly.toml [env]"))
    assert target is not None and (target.path, target.relative) == (path, relative)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_URL", "postgres://u:p@db/app"), ("DATABASE_URL", "libsql://x.turso.io"), ("DATABASE_URL", "sqlite::memory:"),
     ("NODE_ENV", "data.db"), ("DB_HOST", "/var/run/postgresql"), ("DATABASE_URL", "mysql://x"), ("DATABASE_PATH", "/data")],
)
def test_not_sqlite(name, value):
    assert target_of(EnvVar(name, value, None, "fly.toml [env]")) is None


# -- release-command-sqlite ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("command", "tool"),
    [("npx prisma migrate deploy", "prisma"), ("bin/rails db:migrate", "rails"), ("./bin/rails db:prepare", "rails"),
     ("python manage.py migrate --noinput", "django"), ("alembic upgrade head", "alembic"),
     ("flask db upgrade", "flask-migrate"), ("php artisan migrate --force", "laravel"), ("/app/bin/migrate", "ecto"),
     ("npx drizzle-kit migrate", "drizzle"), ("npx knex migrate:latest", "knex"),
     ("npx sequelize-cli db:migrate", "sequelize"), ("npx typeorm migration:run -d dist/ds.js", "typeorm"),
     ("migrate -path /migrations -database sqlite3:///data/x.db up", "golang-migrate"),
     ("goose -dir migrations sqlite3 /data/x.db up", "goose"), ("sqlx migrate run", "sqlx"),
     ("diesel migration run", "diesel"), ("npm run db:migrate", "custom")],
)
def test_release_command_migrating_sqlite_on_a_volume(command, tool):
    text = f"[deploy]\n  release_command = {command!r}\n[env]\n  DATABASE_URL = 'file:/data/app.db'\n{MOUNT}"
    found, diags = findings(text.replace("'", '"') if "'" not in command else text, "release-command-sqlite")
    assert found == [(2, 21)], show(diags)
    (d,) = [d for d in diags if d.rule == "release-command-sqlite"]
    assert f"({tool}:" in d.message and d.hint and "flyconf generate entrypoint" in d.hint


def test_seed_command_too():
    found, _ = findings(f"[deploy]\nseed_command = 'bin/rails db:prepare'\n[env]\nDATABASE_URL = 'sqlite3:///data/p.sqlite3'\n{MOUNT}",
                        "release-command-sqlite")
    assert found == [(2, 16)]


@pytest.mark.parametrize(
    "text",
    [
        # Postgres: release_command is the right place.
        "[deploy]\nrelease_command = 'bin/rails db:migrate'\n[env]\nDATABASE_URL = 'postgres://db.internal/app'\n",
        # No database in env at all (flyconf cannot know it is SQLite).
        f"[deploy]\nrelease_command = 'bin/rails db:migrate'\n{MOUNT}",
        # SQLite, but the release command is not a migration.
        f"[deploy]\nrelease_command = 'bin/notify-slack'\n[env]\nDATABASE_URL = 'file:/data/app.db'\n{MOUNT}",
    ],
)
def test_release_command_near_misses(text):
    found, diags = findings(text, "release-command-sqlite")
    assert found == [], show(diags)


# -- sqlite-not-on-volume ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("[env]\nDATABASE_URL = 'file:/app/data.db'\n", [(2, 16)], "no `[mounts]`"),
        (f"[env]\nDATABASE_URL = 'sqlite3:///rails/storage/production.sqlite3'\n{MOUNT}", [(2, 16)], "not under the mount"),
        ("[env]\n  DB_PATH = 'storage/app.sqlite'\n", [(2, 13)], "relative path"),
        ("[[env]]\nX = '1'\n[[env]]\nDATABASE_PATH = '/tmp/app.db'\n", [(4, 17)], "no `[mounts]`"),
    ],
)
def test_sqlite_not_on_volume_fires(text, where, fragment):
    found, diags = findings(text, "sqlite-not-on-volume")
    assert found == where, show(diags)
    assert fragment in [d for d in diags if d.rule == "sqlite-not-on-volume"][0].message


@pytest.mark.parametrize(
    "text",
    [
        f"[env]\nDATABASE_URL = 'file:/data/app.db'\n{MOUNT}",
        f"[env]\nDATABASE_URL = 'sqlite:////data/app.db'\n{MOUNT}",
        f"[env]\nDATABASE_URL = 'sqlite3:///data/production.sqlite3'\n{MOUNT}",
        f"[env]\nDATABASE_PATH = '/data'\n{MOUNT}",
        # LiteFS's default FUSE directory.
        "[env]\nDATABASE_URL = 'file:/litefs/app.db'\n[[mounts]]\nsource = 'litefs'\ndestination = '/var/lib/litefs'\n",
        # A LiteFS app whose litefs.yml flyconf cannot see: its FUSE directory may be anywhere.
        "[env]\nDATABASE_URL = '/data/sqlite.db'\n[mounts]\nsource = 'litefs'\ndestination = '/var/lib/litefs'\n",
        # sqlx reads sqlite:///data/x.db as the absolute /data/x.db: on the volume.
        f"[env]\nDATABASE_URL = 'sqlite:///data/app.db'\n{MOUNT}",
    ],
)
def test_sqlite_on_volume_is_quiet(text):
    found, diags = findings(text, "sqlite-not-on-volume")
    assert found == [], show(diags)


def test_three_slash_sqlite_url_in_a_python_app(tmp_path: Path):
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "fly.toml").write_text(f"[env]\nDATABASE_URL = 'sqlite:///data/app.db'\n{MOUNT}")
    diags = [d for d in lint_paths([tmp_path]) if d.rule == "sqlite-not-on-volume"]
    assert [(d.line, d.column) for d in diags] == [(2, 16)]
    assert "four slashes" in diags[0].hint


def test_relative_path_with_an_unknown_working_directory_is_not_guessed():
    # With a volume, the unknown working directory might be under it: nothing is said.
    found, diags = findings(f"[env]\nDATABASE_URL = 'file:./dev.db'\n{MOUNT}", "sqlite-not-on-volume")
    assert found == [], show(diags)
    # Without any volume, it is lost wherever it is.
    found, diags = findings("[env]\nDATABASE_URL = 'file:./dev.db'\n", "sqlite-not-on-volume")
    assert found == [(2, 16)], show(diags)
    (d,) = [d for d in diags if d.rule == "sqlite-not-on-volume"]
    assert "relative path `dev.db`" in d.message and "no `[mounts]`" in d.message


def test_litefs_data_dir_must_be_on_the_volume(tmp_path: Path):
    (tmp_path / "litefs.yml").write_text("fuse:\n  dir: /litefs\ndata:\n  dir: /var/lib/litefs\n")
    (tmp_path / "fly.toml").write_text(f"[env]\nDATABASE_URL = 'file:/litefs/app.db'\n{MOUNT}")
    diags = [d for d in lint_paths([tmp_path]) if d.rule in ("sqlite-not-on-volume", "litefs-data-not-on-volume")]
    assert [(d.rule, d.path.rsplit("/", 1)[-1], d.line, d.column) for d in diags] == [
        ("litefs-data-not-on-volume", "litefs.yml", 4, 8)]
    assert "/var/lib/litefs" in diags[0].message and "/data" in diags[0].message
    (tmp_path / "litefs.yml").write_text("fuse:\n  dir: /litefs\ndata:\n  dir: /data/litefs\n")
    assert [d for d in lint_paths([tmp_path]) if d.rule in ("sqlite-not-on-volume", "litefs-data-not-on-volume")] == []


# -- sqlite-multiple-machines -------------------------------------------------------------------

def test_min_machines_above_one_with_sqlite_on_a_volume():
    text = f"[env]\nDATABASE_URL = 'file:/data/app.db'\n[http_service]\ninternal_port = 8080\nmin_machines_running = 2\n{MOUNT}"
    found, diags = findings(text, "sqlite-multiple-machines")
    assert found == [(5, 24)], show(diags)
    assert [d.severity.value for d in diags if d.rule == "sqlite-multiple-machines"] == ["warning"]


def test_several_groups_each_with_a_volume_and_the_same_database():
    text = ("[processes]\napp = 'a'\nworker = 'w'\n[env]\nDATABASE_URL = 'file:/data/app.db'\n"
            "[[mounts]]\nsource = 'data'\ndestination = '/data'\nprocesses = ['app']\n"
            "[[mounts]]\nsource = 'data'\ndestination = '/data'\nprocesses = ['worker']\n")
    found, diags = findings(text, "sqlite-multiple-machines")
    assert found == [(10, 3)], show(diags)


@pytest.mark.parametrize(
    "text",
    [
        f"[env]\nDATABASE_URL = 'file:/data/app.db'\n[http_service]\ninternal_port = 8080\nmin_machines_running = 1\n{MOUNT}",
        "[env]\nDATABASE_URL = 'postgres://x/y'\n[http_service]\ninternal_port = 8080\nmin_machines_running = 3\n",
        "[env]\nDATABASE_URL = 'file:/litefs/app.db'\n[http_service]\ninternal_port = 8080\nmin_machines_running = 3\n"
        "[[mounts]]\nsource = 'litefs'\ndestination = '/var/lib/litefs'\n",
    ],
)
def test_multiple_machines_near_misses(text):
    found, diags = findings(text, "sqlite-multiple-machines")
    assert found == [], show(diags)


# -- services and ports ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "rule", "where"),
    [
        ("[[services]]\nprotocol = 'tcp'\n[[services.ports]]\nport = 80\n", "port-invalid", [(1, 3)]),
        ("[http_service]\ninternal_port = 70000\n", "port-invalid", [(2, 17)]),
        ("[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 0\n", "port-invalid", [(4, 8)]),
        ("[[services]]\ninternal_port = 8080\n[[services.ports]]\nstart_port = 9000\nend_port = 8000\n", "port-invalid", [(4, 14)]),
        ("[[services]]\ninternal_port = 8080\n", "port-invalid", [(1, 3)]),
        ("[http_service]\ninternal_port = 8080\n[[services]]\ninternal_port = 9090\n[[services.ports]]\nport = 443\n",
         "duplicate-service-port", [(6, 8)]),
        ("[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\n[[services]]\ninternal_port = 8080\n"
         "[[services.ports]]\nport = 81\n", "duplicate-service-port", [(6, 17)]),
        ("[[services]]\ninternal_port = 1\n[[services.ports]]\nstart_port = 1000\nend_port = 2000\n[[services]]\n"
         "internal_port = 2\n[[services.ports]]\nport = 1500\n", "duplicate-service-port", [(9, 8)]),
        ("[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 443\nhandlers = ['https']\n", "handler-invalid", [(5, 13)]),
        ("[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 443\nhandlers = ['tls']\nforce_https = true\n",
         "handler-invalid", [(6, 15)]),
        ("[[services]]\ninternal_port = 53\nprotocol = 'udp'\n[[services.ports]]\nport = 53\nhandlers = ['tls']\n",
         "handler-invalid", [(6, 12)]),
    ],
)
def test_service_rules_fire(text, rule, where):
    found, diags = findings(text, rule)
    assert found == where, show(diags)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[http_service]\ninternal_port = 8080\n", "port-invalid"),
        ("[[services]]\ninternal_port = '8080'\n[[services.ports]]\nport = '80'\n", "port-invalid"),
        ("[[services]]\n", "port-invalid"),  # flyctl drops an empty [[services]]
        ("[http_service]\ninternal_port = 8080\n[[services]]\ninternal_port = 5432\n[[services.ports]]\nport = 5432\n",
         "duplicate-service-port"),
        ("[processes]\nweb = 'a'\napi = 'b'\n[[services]]\ninternal_port = 8080\nprocesses = ['web']\n[[services.ports]]\n"
         "port = 80\n[[services]]\ninternal_port = 8080\nprocesses = ['api']\n[[services.ports]]\nport = 81\n",
         "duplicate-service-port"),
        ("[[services]]\ninternal_port = 53\nprotocol = 'udp'\n[[services.ports]]\nport = 53\n[[services]]\ninternal_port = 53\n"
         "[[services.ports]]\nport = 53\n", "duplicate-service-port"),
        ("[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\nhandlers = ['http']\nforce_https = true\n",
         "handler-invalid"),
    ],
)
def test_service_rules_near_misses(text, rule):
    found, diags = findings(text, rule)
    assert found == [], show(diags)


def test_duplicate_service_is_one_finding_however_many_ports():
    text = ("[http_service]\ninternal_port = 8080\n[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\n"
            "[[services.ports]]\nport = 443\n")
    found, diags = findings(text, "duplicate-service-port")
    assert found == [(4, 17)], show(diags)
    (d,) = [d for d in diags if d.rule == "duplicate-service-port"]
    assert "public ports 80, 443" in d.message and "internal port TCP 8080" in d.message


# -- durations and checks ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where", "severity", "fragment"),
    [
        ("kill_timeout = 30\n", [(1, 16)], "info", "as seconds, so this is 30s"),
        ("kill_timeout = 0.5\n", [(1, 16)], "warning", "0s (the fraction is dropped)"),
        ("[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ninterval = 10000\n", [(4, 12)], "warning",
         "as nanoseconds, so this is 10µs, which is under 1s, so flyctl raises it to 1s"),
        ("[[services]]\ninternal_port = 8080\n[[services.tcp_checks]]\ninterval = 15000\n", [(4, 12)], "info",
         "as milliseconds, so this is 15s"),
        ("[deploy]\nwait_timeout = 300\n", [(2, 16)], "warning", "nanoseconds"),
        ("[checks.alive]\ntype = 'tcp'\nport = 8080\ninterval = 5000\n", [(4, 12)], "info", "milliseconds"),
        ("[[machine_checks]]\ncommand = ['x']\nkill_timeout = 30\n", [(3, 16)], "warning", "nanoseconds"),
    ],
)
def test_duration_unit(text, where, severity, fragment):
    found, diags = findings(text, "duration-unit")
    assert found == where, show(diags)
    (d,) = [d for d in diags if d.rule == "duration-unit"]
    assert d.severity.value == severity and fragment in d.message, d.message


def test_duration_unit_suggests_a_string():
    (d,) = lint_text("kill_timeout = 90\n", "fly.toml")
    assert d.hint == 'write `kill_timeout = "1m30s"`'


@pytest.mark.parametrize(
    ("text", "where", "severity", "fragment"),
    [
        ("[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ninterval = '500ms'\n", [(4, 12)], "warning",
         "raises it to 1s"),
        ("[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ntimeout = '2m'\n", [(4, 11)], "warning",
         "lowers it to 1m"),
        ("[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ngrace_period = '200ms'\n", [(4, 16)], "warning",
         "raises it to 1s"),
        ("[checks.alive]\ntype = 'tcp'\nport = 8080\ninterval = '1s'\n", [(4, 12)], "error", "2s minimum"),
        ("[checks.alive]\ntype = 'tcp'\nport = 8080\ntimeout = '90s'\n", [(4, 11)], "error", "60s maximum"),
    ],
)
def test_check_timing(text, where, severity, fragment):
    found, diags = findings(text, "check-timing")
    assert found == where, show(diags)
    (d,) = [d for d in diags if d.rule == "check-timing"]
    assert d.severity.value == severity and fragment in d.message


def test_check_timing_near_miss():
    text = "[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ninterval = '15s'\ntimeout = '2s'\ngrace_period = '0s'\n"
    found, diags = findings(text, "check-timing")
    assert found == [], show(diags)


@pytest.mark.parametrize(
    ("text", "where"),
    [("kill_timeout = '10m'\n", [(1, 16)]), ("kill_timeout = '-5s'\n", [(1, 16)]), ("kill_timeout = 600\n", [(1, 16)]),
     ("[experimental]\nkill_timeout = 400\n", [(2, 16)])],
)
def test_kill_timeout_range(text, where):
    found, diags = findings(text, "kill-timeout-range")
    assert found == where, show(diags)


@pytest.mark.parametrize("text", ["kill_timeout = '5m'\n", "kill_timeout = 300\n", "kill_timeout = '30s'\n"
                                  "[experimental]\nkill_timeout = 400\n"])
def test_kill_timeout_range_near_misses(text):
    found, diags = findings(text, "kill-timeout-range")
    assert found == [], show(diags)


# -- secrets -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[env]\nDATABASE_URL = 'postgres://app:hunter2@db.internal:5432/app'\n", [(2, 16)]),
        ("[env]\n  SESSION_SECRET = 'a8f3b9c2d1e4f5a6'\n", [(2, 20)]),
        ("[env]\nSTRIPE_API_KEY = 'sk_live_51HxYz'\n", [(2, 18)]),
        ("[env]\nGITHUB_TOKEN = 'ghp_abcdefghijklmnop'\n", [(2, 16)]),
        ("[[env]]\nREDIS_URL = 'redis://default:s3cretpass@redis.internal:6379'\n", [(2, 13)]),
    ],
)
def test_secret_in_env_fires_without_printing_the_secret(text, where):
    found, diags = findings(text, "secret-in-env")
    assert found == where, show(diags)
    (d,) = [d for d in diags if d.rule == "secret-in-env"]
    for secret in ("hunter2", "a8f3b9c2d1e4f5a6", "sk_live_51HxYz", "ghp_abcdefghijklmnop", "s3cretpass"):
        assert secret not in d.message and secret not in (d.hint or "")
    assert "fly secrets set" in d.hint


@pytest.mark.parametrize(
    "text",
    [
        "[env]\nDATABASE_URL = 'postgres://db.internal:5432/app'\n",
        "[env]\nSECRET_KEY = 'secret-key'\n",
        "[env]\nSESSION_SECRET = 'changeme'\n",
        "[env]\nAPI_TOKEN = '${API_TOKEN}'\n",
        "[env]\nTOKEN_TTL = '3600000000'\n",
        "[env]\nPASSWORD_MIN_LENGTH = '12345678'\n",
        "[env]\nSTRIPE_PUBLISHABLE_KEY = 'pk_live_abcdefghijkl'\n",
        "[env]\nSECRET_KEY_FILE = '/run/secrets/key'\n",
        "[env]\nNEXT_PUBLIC_API_KEY = 'abcdefghijklmnop'\n",
    ],
)
def test_secret_in_env_near_misses(text):
    found, diags = findings(text, "secret-in-env")
    assert found == [], show(diags)


def test_database_inside_the_litefs_data_directory(tmp_path: Path):
    (tmp_path / "litefs.yml").write_text("fuse:\n  dir: /litefs\ndata:\n  dir: /var/lib/litefs\n")
    (tmp_path / "Dockerfile").write_text('FROM alpine\nCOPY litefs.yml /etc/litefs.yml\nENTRYPOINT ["litefs", "mount"]\n')
    (tmp_path / "fly.toml").write_text("[env]\n  SQLITE_DB_PATH = '/var/lib/litefs/db.sqlite3'\n"
                                       "[[mounts]]\n  source = 'litefs'\n  destination = '/var/lib/litefs'\n")
    diags = [d for d in lint_paths([tmp_path]) if d.rule.startswith(("litefs", "sqlite"))]
    assert [(d.rule, d.line, d.column) for d in diags] == [("litefs-data-dir-used-directly", 2, 20)], show(diags)
    (tmp_path / "fly.toml").write_text("[env]\n  SQLITE_DB_PATH = '/litefs/db.sqlite3'\n"
                                       "[[mounts]]\n  source = 'litefs'\n  destination = '/var/lib/litefs'\n")
    assert [d for d in lint_paths([tmp_path]) if d.rule.startswith(("litefs", "sqlite"))] == []


def test_double_slashes_in_a_path_are_one():
    found, diags = findings("[env]\nCACHE_DATABASE_PATH = '//data/cache.db'\n", "sqlite-not-on-volume")
    assert found == [(2, 23)], show(diags)
    (d,) = [d for d in diags if d.rule == "sqlite-not-on-volume"]
    assert "at /data/cache.db," in d.message


def test_marmot_replicated_database_needs_no_volume(tmp_path: Path):
    (tmp_path / "run.sh").write_text("#!/bin/sh\n/pb/pocketbase serve --http=0.0.0.0:8080 &\n"
                                     "exec /pb/marmot -config ./marmot.toml\n")
    (tmp_path / "Dockerfile").write_text('FROM alpine\nCOPY run.sh /pb/run.sh\nCMD ["/pb/run.sh"]\n')
    (tmp_path / "fly.toml").write_text("app = 'pb'\n")
    assert [d for d in lint_paths([tmp_path]) if d.rule == "sqlite-not-on-volume"] == []
    # Without Marmot, PocketBase's pb_data beside /pb/pocketbase is on the root file system.
    (tmp_path / "run.sh").write_text("#!/bin/sh\nexec /pb/pocketbase serve --http=0.0.0.0:8080\n")
    found = [(Path(d.path).name, d.line, d.column) for d in lint_paths([tmp_path]) if d.rule == "sqlite-not-on-volume"]
    assert found == [("run.sh", 2, 1)]
