"""The three apps issue 8 names, which linted clean before database discovery: each now gets its findings,
at the place the database is declared, and `flyconf fix` makes the Rails one clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flyconf import lint_paths
from tests.databases.helpers import write_app

RAILS8 = {
    "fly.toml": """
        app = "blog"
        primary_region = "iad"

        [http_service]
          internal_port = 3000
    """,
    "Dockerfile": """
        FROM ruby:3.3-slim AS base
        WORKDIR /rails
        ENV RAILS_ENV="production"
        FROM base AS build
        COPY . .
        FROM base
        COPY --from=build /rails /rails
        ENTRYPOINT ["/rails/bin/docker-entrypoint"]
        CMD ["./bin/thrust", "./bin/rails", "server"]
    """,
    "Gemfile": """
        source "https://rubygems.org"
        gem "rails", "~> 8.0.0"
        gem "sqlite3", ">= 2.1"
        gem "solid_queue"
    """,
    "config/database.yml": """
        default: &default
          adapter: sqlite3
          pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>
          timeout: 5000

        development:
          <<: *default
          database: storage/development.sqlite3

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
    """,
    "bin/docker-entrypoint": """
        #!/bin/bash -e
        if [ "${@: -2:1}" == "./bin/rails" ] && [ "${@: -1:1}" == "server" ]; then
          ./bin/rails db:prepare
        fi
        exec "${@}"
    """,
}


def _found(root: Path, rule: str) -> list[tuple[str, int, int]]:
    return [(Path(d.path).name, d.line, d.column) for d in lint_paths([root]) if d.rule == rule]


def test_stock_rails_8_app_without_a_volume(tmp_path: Path):
    root = write_app(tmp_path, RAILS8)
    # Four databases in storage/, declared in database.yml; the stock entrypoint's gate holds for the CMD.
    assert _found(root, "sqlite-not-on-volume") == [("database.yml", 13, 15), ("database.yml", 16, 15),
                                                    ("database.yml", 20, 15), ("database.yml", 24, 15)]
    assert _found(root, "migration-skipped") == []
    (d,) = [d for d in lint_paths([root]) if d.rule == "sqlite-not-on-volume" and d.line == 16]
    assert "the Rails database `cache`" in d.message and "/rails/storage/production_cache.sqlite3" in d.message
    assert d.fixable and "CACHE_DATABASE_URL" in (d.hint or "")


def test_fix_moves_the_four_rails_databases_onto_a_volume(tmp_path: Path):
    root = write_app(tmp_path, RAILS8)
    proc = subprocess.run([sys.executable, "-m", "flyconf", "fix"], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = (root / "fly.toml").read_text()
    for line in ('DATABASE_URL = "sqlite3:///data/production.sqlite3"',
                 'CACHE_DATABASE_URL = "sqlite3:///data/production_cache.sqlite3"',
                 'QUEUE_DATABASE_URL = "sqlite3:///data/production_queue.sqlite3"',
                 'CABLE_DATABASE_URL = "sqlite3:///data/production_cable.sqlite3"',
                 'destination = "/data"'):
        assert line in text, text
    assert _found(root, "sqlite-not-on-volume") == []
    again = subprocess.run([sys.executable, "-m", "flyconf", "fix"], cwd=root, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0 and (root / "fly.toml").read_text() == text


def test_stock_django_app_migrating_in_release_command(tmp_path: Path):
    root = write_app(tmp_path, {
        "fly.toml": """
            app = "polls"
            [deploy]
              release_command = "python manage.py migrate --noinput"
            [http_service]
              internal_port = 8000
            [[mounts]]
              source = "data"
              destination = "/data"
        """,
        "Dockerfile": """
            FROM python:3.12-slim
            WORKDIR /code
            COPY . /code
            CMD ["gunicorn", "--bind", ":8000", "mysite.wsgi"]
        """,
        "manage.py": """
            import os
            import sys

            def main():
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
                from django.core.management import execute_from_command_line
                execute_from_command_line(sys.argv)
        """,
        "mysite/__init__.py": "",
        "mysite/settings.py": """
            from pathlib import Path

            BASE_DIR = Path(__file__).resolve().parent.parent
            SECRET_KEY = "x"
            DATABASES = {
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": BASE_DIR / "db.sqlite3",
                }
            }
        """,
    })
    assert _found(root, "release-command-sqlite") == [("fly.toml", 3, 21)]
    assert _found(root, "sqlite-not-on-volume") == [("settings.py", 8, 17)]
    (d,) = [d for d in lint_paths([root]) if d.rule == "sqlite-not-on-volume"]
    assert "/code/db.sqlite3" in d.message and "/data" in d.message and not d.fixable


def test_prisma_app_with_a_relative_file_url(tmp_path: Path):
    root = write_app(tmp_path, {
        "fly.toml": 'app = "notes"\n[http_service]\n  internal_port = 3000\n[[mounts]]\n  source = "data"\n'
                    '  destination = "/data"\n',
        "Dockerfile": 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nCMD ["npm", "start"]\n',
        "package.json": '{"name": "notes", "dependencies": {"@prisma/client": "5.0.0", "prisma": "5.0.0"}}\n',
        "prisma/schema.prisma": 'datasource db {\n  provider = "sqlite"\n  url      = "file:./dev.db"\n}\n',
    })
    assert _found(root, "sqlite-not-on-volume") == [("schema.prisma", 3, 14)]
    (d,) = [d for d in lint_paths([root]) if d.rule == "sqlite-not-on-volume"]
    assert "/app/prisma/dev.db" in d.message
