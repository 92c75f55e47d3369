"""The Compose rules (FC410-FC418) on Compose files written the ways people write them."""

from __future__ import annotations

from pathlib import Path

from flyconf.lint import lint_text
from tests.compose.helpers import NODE_DOCKERFILE, lint_project, where

# -- compose-sqlite-not-on-volume ---------------------------------------------------------------------

def test_list_environment_database_not_on_a_volume(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  - NODE_ENV=production
                  - DATABASE_URL=file:/app/data/app.db
                volumes:
                  - cache:/cache
            volumes:
              cache:
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert where(diags, "compose-sqlite-not-on-volume") == [("compose.yaml", 6, 9)]
    (d,) = diags
    assert d.code == "FC411" and d.severity.value == "error" and d.fixable
    assert "/app/data/app.db" in d.message and "its volumes are at /cache" in d.message


def test_map_environment_and_dockerfile_env_over_which_compose_wins(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  DB_PATH: /srv/app.db
                volumes:
                  - data:/data
            volumes:
              data:
        """,
        "Dockerfile": """
            FROM node:20-slim
            ENV DB_PATH=/data/app.db
            WORKDIR /app
            COPY . .
            CMD ["node", "server.js"]
        """,
    })
    # Compose's environment overrides the image's ENV: /srv/app.db, not /data/app.db.
    assert where(diags, "compose-sqlite-not-on-volume") == [("compose.yaml", 5, 16)]
    assert "/srv/app.db" in diags[0].message


def test_database_from_the_image_env_is_reported_at_the_service(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "docker-compose.yml": """
            services:
              app:
                build:
                  context: .
                  dockerfile: docker/Dockerfile
        """,
        "docker/Dockerfile": """
            FROM node:20-slim
            WORKDIR /app
            ENV DATABASE_URL=file:./data/app.db
            COPY . .
            CMD ["node", "server.js"]
        """,
    })
    # The relative path resolves against WORKDIR; the finding goes where the fix belongs: the service.
    assert where(diags, "compose-sqlite-not-on-volume") == [("docker-compose.yml", 2, 3)]
    assert "/app/data/app.db" in diags[0].message and "docker/Dockerfile:3" in diags[0].message


def test_working_dir_is_the_base_of_a_relative_path(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              app:
                build: .
                working_dir: /srv/app
                environment:
                  SQLITE_PATH: db/app.sqlite3
                volumes:
                  - ./db:/srv/app/db
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert diags == []  # /srv/app/db/app.sqlite3 is on the bind mount


def test_prisma_schema_in_the_build_context(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                ports: ["3000:3000"]
        """,
        "Dockerfile": NODE_DOCKERFILE,
        "package.json": '{"name": "x", "dependencies": {"@prisma/client": "5"}}\n',
        "prisma/schema.prisma": """
            datasource db {
              provider = "sqlite"
              url      = "file:./dev.db"
            }
        """,
    })
    assert where(diags, "compose-sqlite-not-on-volume") == [("compose.yaml", 2, 3)]
    assert "/app/prisma/dev.db" in diags[0].message and "schema.prisma" in diags[0].message


def test_env_interpolation_from_dotenv_and_defaults(tmp_path: Path):
    files = {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  - DATABASE_PATH=${DB_DIR:-/data}/app.db
                volumes:
                  - data:/data
            volumes:
              data:
        """,
        "Dockerfile": NODE_DOCKERFILE,
    }
    assert lint_project(tmp_path / "default", files) == []  # the default: /data/app.db, on the volume
    files[".env"] = "# where the database lives\nDB_DIR=/var/lib/app\n"
    diags = lint_project(tmp_path / "dotenv", files)
    assert where(diags, "compose-sqlite-not-on-volume") == [("compose.yaml", 5, 9)]
    assert "/var/lib/app/app.db" in diags[0].message


def test_unknown_variable_says_nothing(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  DATABASE_URL: ${DATABASE_URL}
                  DB_FILE: $DB_HOME/app.db
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert diags == []  # neither is set in .env: flyconf does not read the shell's environment


def test_env_file_values_are_read(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                env_file:
                  - app.env
                  - path: missing.env
                    required: false
        """,
        "app.env": "# settings\nexport DB_PATH='/app/storage/app.db'\n",
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert where(diags, "compose-sqlite-not-on-volume") == [("compose.yaml", 2, 3)]
    assert "app.env:2:16" in diags[0].message


def test_near_misses_stay_silent(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  DATABASE_URL: postgres://app@db/app
              worker:
                build: .
                environment:
                  SQLITE_PATH: /data/app.db
                volumes:
                  - type: volume
                    source: data
                    target: /data
              cli:
                build: .
                environment:
                  DB_PATH: /srv/db/app.db
                volumes:
                  - type: bind
                    source: ./db
                    target: /srv/db
              mem:
                image: app
                environment:
                  DATABASE_URL: "file::memory:"
            volumes:
              data:
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert diags == []


# -- overrides -------------------------------------------------------------------------------------------

def test_override_file_is_merged_into_the_base(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  DB_PATH: /data/app.db
        """,
        "compose.override.yaml": """
            services:
              web:
                volumes:
                  - data:/data
            volumes:
              data:
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert diags == []  # the volume comes from the override; its declaration too


def test_override_changes_the_environment_and_resets_volumes(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "docker-compose.yml": """
            services:
              web:
                build: .
                environment:
                  - DB_PATH=/data/app.db
                volumes:
                  - data:/data
            volumes:
              data:
        """,
        "docker-compose.override.yml": """
            services:
              web:
                volumes: !reset []
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert where(diags, "compose-sqlite-not-on-volume") == [("docker-compose.yml", 5, 9)]
    assert where(diags, "compose-volume-unused") == [("docker-compose.yml", 9, 3)]


def test_an_override_alone_is_not_a_project(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.override.yaml": """
            services:
              web:
                volumes:
                  - data:/data
        """,
    })
    assert diags == []  # merged into a base that is not there: not linted as a project of its own


def test_prod_variant_is_its_own_project_or_an_overlay(tmp_path: Path):
    own = lint_project(tmp_path / "own", {
        "docker-compose.yml": "services:\n  web:\n    image: app\n",
        "docker-compose.prod.yml": """
            services:
              web:
                image: app
                volumes:
                  - data:/data
        """,
    })
    assert where(own, "compose-volume-undeclared") == [("docker-compose.prod.yml", 5, 9)]
    overlay = lint_project(tmp_path / "overlay", {
        "docker-compose.yml": "services:\n  web:\n    image: app\nvolumes:\n  data:\n",
        "docker-compose.prod.yml": """
            services:
              web:
                volumes:
                  - data:/data
        """,
    })
    # No `image` or `build`: used as `-f docker-compose.yml -f docker-compose.prod.yml`, where `data` is declared.
    assert where(overlay, "compose-volume-undeclared") == []
    assert where(overlay, "compose-volume-unused") == [("docker-compose.yml", 5, 3)]  # the base alone


def test_extends_inherits_environment_and_volumes(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            x-env: &env
              DB_PATH: /data/app.db
            services:
              base:
                build: .
                environment:
                  <<: *env
                volumes:
                  - data:/data
              worker:
                extends: base
                command: node worker.js
              job:
                extends:
                  service: base
                volumes: !override
                  - /tmp:/tmp
            volumes:
              data:
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    # `job` replaced its volumes: its database is on none; `base` keeps the same path on a volume.
    assert where(diags, "compose-sqlite-volume-not-shared") == [("compose.yaml", 13, 3)]
    assert "service `base` keeps on its named volume `data` at /data" in diags[0].message


# -- anonymous volumes, tmpfs, read_only ----------------------------------------------------------------

def test_anonymous_volume_short_and_image_volume(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                environment:
                  DB_PATH: /data/app.db
                volumes:
                  - /data
              job:
                build: job
        """,
        "Dockerfile": NODE_DOCKERFILE,
        "job/Dockerfile": """
            FROM node:20-slim
            ENV DB_PATH=/var/lib/job/job.db
            VOLUME /var/lib/job
            CMD ["node", "job.js"]
        """,
    })
    assert where(diags, "compose-sqlite-anonymous-volume") == [("compose.yaml", 7, 9), ("compose.yaml", 8, 3)]
    assert diags[0].severity.value == "warning"
    assert "VOLUME /var/lib/job" in diags[1].message


def test_named_volume_over_the_image_volume_is_fine(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": "services:\n  job:\n    build: .\n    volumes:\n      - jobs:/var/lib/job\nvolumes:\n  jobs:\n",
        "Dockerfile": 'FROM node:20\nENV DB_PATH=/var/lib/job/job.db\nVOLUME /var/lib/job\nCMD ["node", "j.js"]\n',
    })
    assert diags == []


def test_tmpfs_short_and_long(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              a:
                image: app
                environment: [DB_PATH=/data/a.db]
                tmpfs: /data
              b:
                image: app
                environment: [DB_PATH=/run/db/b.db]
                volumes:
                  - type: tmpfs
                    target: /run/db
              c:
                image: app
                environment: [DB_PATH=/var/c.db]
                tmpfs:
                  - /tmp
        """,
    })
    assert where(diags, "compose-sqlite-on-tmpfs") == [("compose.yaml", 5, 12), ("compose.yaml", 10, 9)]
    assert where(diags, "compose-sqlite-not-on-volume") == [("compose.yaml", 14, 19)]


def test_tmpfs_in_a_test_file_is_the_point(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "docker-compose.test.yml": "services:\n  a:\n    image: app\n    environment: [DB_PATH=/data/a.db]\n"
                                   "    tmpfs: /data\n  b:\n    image: app\n    environment: [DB_PATH=/b.db]\n",
    })
    assert diags == []


def test_read_only_service(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                image: app
                read_only: true
                environment:
                  DB_PATH: /app/data/app.db
              ok:
                image: app
                read_only: true
                environment:
                  DB_PATH: /app/data/app.db
                volumes:
                  - data:/app/data
            volumes:
              data:
        """,
    })
    assert where(diags, "compose-sqlite-read-only") == [("compose.yaml", 6, 16)]
    assert "compose.yaml:4:16" in diags[0].message  # where read_only is set
    assert where(diags, "compose-sqlite-not-on-volume") == []


def test_two_services_one_without_the_volume(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                image: myapp
                volumes:
                  - data:/data
              worker:
                image: myapp
                command: node worker.js
            volumes:
              data:
        """,
        "Dockerfile": 'FROM node:20\nENV DATABASE_URL=file:/data/app.db\nCOPY . /app\nCMD ["node", "/app/s.js"]\n',
    })
    # The worker runs the image `web` builds (same `image:`), so it opens /data/app.db too.
    assert where(diags, "compose-sqlite-volume-not-shared") == [("compose.yaml", 7, 3)]
    assert where(diags, "compose-sqlite-not-on-volume") == []


# -- volumes declared and used ---------------------------------------------------------------------------

def test_undeclared_and_unused_volumes(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": """
            services:
              db:
                image: postgres:16
                volumes:
                  - pgdata:/var/lib/postgresql/data
                  - type: volume
                    source: backups
                    target: /backups
                  - ./init:/docker-entrypoint-initdb.d:ro
                  - ~/dumps:/dumps
            volumes:
              pgdata:
              uploads:
                external: true
        """,
    })
    assert where(diags, "compose-volume-undeclared") == [("compose.yaml", 7, 17)]
    assert where(diags, "compose-volume-unused") == [("compose.yaml", 13, 3)]
    assert {d.severity.value for d in diags} == {"error", "info"}


def test_unused_volume_names_the_bind_mount_that_looks_like_it(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "docker-compose.yml": "services:\n  app:\n    image: app\n    volumes:\n      - ./data:/app/data\n"
                              "volumes:\n  data:\n",
    })
    assert where(diags, "compose-volume-unused") == [("docker-compose.yml", 7, 3)]
    assert "bind-mounts the host directory ./data at /app/data" in diags[0].message


# -- bind mounts over the app in production ----------------------------------------------------------------

def test_bind_mount_over_the_app_in_a_prod_file(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "docker-compose.prod.yml": """
            services:
              web:
                build: .
                restart: always
                volumes:
                  - .:/app
                  - ./data:/app/data
        """,
        "Dockerfile": NODE_DOCKERFILE,
    })
    assert where(diags, "compose-bind-mount-over-app") == [("docker-compose.prod.yml", 6, 9)]
    assert diags[0].severity.value == "warning" and "docker-compose.prod.yml" in diags[0].message


def test_bind_mount_over_the_app_with_restart_and_no_override(tmp_path: Path):
    files = {
        "compose.yaml": """
            services:
              web:
                build:
                  context: ./backend
                restart: unless-stopped
                volumes:
                  - ./backend:/usr/src/app
        """,
        "backend/Dockerfile": 'FROM node:20\nWORKDIR /usr/src/app\nCOPY . .\nCMD ["node", "s.js"]\n',
    }
    diags = lint_project(tmp_path / "prod", files)
    assert where(diags, "compose-bind-mount-over-app") == [("compose.yaml", 7, 9)]
    # With an override file beside it, the base is a shared set-up and the mount a development one.
    dev = lint_project(tmp_path / "dev", {**files, "compose.override.yaml": "services:\n  web:\n    ports: ['3000:3000']\n"})
    assert where(dev, "compose-bind-mount-over-app") == []


def test_bind_mount_near_misses(tmp_path: Path):
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["node", "s.js"]\n'
    dev = lint_project(tmp_path / "dev", {
        "docker-compose.yml": "services:\n  web:\n    build: .\n    restart: always\n    environment:\n"
                              "      NODE_ENV: development\n    volumes:\n      - .:/app\n",
        "Dockerfile": dockerfile,
    })
    named = lint_project(tmp_path / "named", {
        "docker-compose.dev.yml": "services:\n  web:\n    build: .\n    restart: always\n    volumes:\n      - .:/app\n",
        "Dockerfile": dockerfile,
    })
    data = lint_project(tmp_path / "data", {
        "docker-compose.prod.yml": "services:\n  web:\n    build: .\n    volumes:\n      - ./uploads:/app/uploads\n",
        "Dockerfile": dockerfile,
    })
    assert dev == [] and named == [] and data == []


# -- compose-syntax ------------------------------------------------------------------------------------------

def test_yaml_error_is_a_finding_with_its_position(tmp_path: Path):
    diags = lint_project(tmp_path, {"compose.yaml": "services:\n  web:\n    image: app\n   ports: [1]\n"})
    assert where(diags, "compose-syntax") == [("compose.yaml", 4, 4)]
    assert diags[0].severity.value == "error"


def test_duplicate_key_and_wrong_shapes(tmp_path: Path):
    diags = lint_project(tmp_path, {
        "compose.yaml": "services:\n  web:\n    image: a\n  web:\n    image: b\n",
        "other/compose.yaml": "services:\n  - web\n",
        "third/compose.yml": "- services\n",
    })
    # Sorted by path: compose.yaml, other/compose.yaml, third/compose.yml.
    assert where(diags, "compose-syntax") == [("compose.yaml", 4, 3), ("compose.yaml", 2, 3), ("compose.yml", 1, 1)]
    assert "written twice (first at line 2)" in diags[0].message
    assert "`services` must be a mapping" in diags[1].message and "must be a mapping" in diags[2].message


def test_compose_text_on_standard_input():
    diags = lint_text("services:\n  web:\n    image: app\n    volumes: [data:/data]\n", filename="compose.yaml")
    assert [(d.rule, d.line, d.column) for d in diags] == [("compose-volume-undeclared", 4, 15)]
    bad = lint_text("services: [\n", filename="docker-compose.yml")
    assert [(d.rule, d.line) for d in bad] == [("compose-syntax", 2)]


def test_every_compose_rule_documents_a_bad_and_a_good_example_that_hold(tmp_path: Path):
    from flyconf import registry

    rules = [r for r in registry.all_rules() if r.family == "compose"]
    assert [r.code for r in rules] == [f"FC41{i}" for i in range(9)]
    for rule in rules:
        assert rule.explanation and rule.bad and rule.good and rule.summary
        if rule.name == "compose-bind-mount-over-app":  # needs the image: checked on disk below
            continue
        assert rule.name in {d.rule for d in lint_text(rule.bad, filename="compose.yaml")}, rule.name
        assert rule.name not in {d.rule for d in lint_text(rule.good, filename="compose.yaml")}, rule.name
    bind = registry.get("compose-bind-mount-over-app")
    bad = lint_project(tmp_path / "bad", dict(bind.example_files(bind.bad)))  # a Compose file and its Dockerfile
    good = lint_project(tmp_path / "good", dict(bind.example_files(bind.good)))
    assert bind.name in {d.rule for d in bad} and bind.name not in {d.rule for d in good}


def test_overlay_variant_decides_production(tmp_path: Path):
    base = "services:\n  web:\n    build: .\n    restart: always\n    volumes:\n      - .:/app\n"
    files = {"docker-compose.yml": base, "Dockerfile": NODE_DOCKERFILE}
    dev = lint_project(tmp_path / "dev", {**files, "docker-compose.dev.yml": "services:\n  web:\n    ports: ['3000:3000']\n"})
    prod = lint_project(tmp_path / "prod", {**files, "docker-compose.prod.yml": "services:\n  web:\n    ports: ['80:3000']\n"})
    # The base alone (restart policies, no override) is production in both; the dev overlay is not.
    assert where(dev, "compose-bind-mount-over-app") == [("docker-compose.yml", 6, 9)]
    assert where(prod, "compose-bind-mount-over-app") == [("docker-compose.yml", 6, 9)]  # once, not per project
