"""Dockerfile rules, read with BuildKit's parser and checked against fly.toml, with positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flyconf import lint_paths, lint_text

FLY_SQLITE = """
app = "demo"
[env]
  DATABASE_URL = "file:/data/app.db"
[http_service]
  internal_port = 8080
[[mounts]]
  source = "data"
  destination = "/data"
"""


def project(tmp_path: Path, fly: str | None, dockerfile: str, name: str = "Dockerfile", **files: str) -> Path:
    if fly is not None:
        (tmp_path / "fly.toml").write_text(textwrap.dedent(fly).lstrip("\n"))
    target = tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(dockerfile).lstrip("\n"))
    for rel, text in files.items():
        p = tmp_path / rel.replace("__", "/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return tmp_path


def found(diags, rule, path_suffix="Dockerfile"):
    return [(d.line, d.column) for d in diags if d.rule == rule and d.path.endswith(path_suffix)]


def show(diags):
    return [(d.path.rsplit("/", 1)[-1], d.rule, d.line, d.column, d.message) for d in diags]


# -- dockerfile-syntax ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("FROM node:20\nRUN <<EOF\nnpm ci\n", (2, 1), "heredoc"),
        ("FROM node:20\nRUN npm ci\nENV NODE_ENV\nCMD [\"node\"]\n", (3, 1), "ENV"),
        ("FROM node:20\nRUNN npm ci\n", (2, 1), "unknown instruction `RUNN`"),
        ("FROM node:20\nCMD ['node', 'server.js']\n", (2, 1), "not valid JSON"),
        ("# escape=x\nFROM node:20\n", (1, 1), "escape"),
    ],
)
def test_dockerfile_syntax(tmp_path, text, where, fragment):
    diags = lint_paths([project(tmp_path, None, text) / "Dockerfile"])
    hits = [d for d in diags if d.rule == "dockerfile-syntax"]
    assert [(d.line, d.column) for d in hits] == [where], show(diags)
    assert fragment in hits[0].message


def test_unknown_instruction_suggests():
    (d,) = [d for d in lint_text("FROM x\nEXPOES 3000\n", "Dockerfile") if d.rule == "dockerfile-syntax"]
    assert d.hint == "did you mean `EXPOSE`?"


# -- dockerfile-missing and [build] dockerfile ------------------------------------------------------

def test_build_dockerfile_missing(tmp_path):
    (tmp_path / "fly.toml").write_text('app = "x"\n[build]\n  dockerfile = "docker/Dockerfile.prod"\n')
    diags = lint_paths([tmp_path])
    assert [(d.rule, d.line, d.column) for d in diags] == [("dockerfile-missing", 3, 16)]


def test_build_dockerfile_missing_message_names_where_flyctl_looks(tmp_path):
    (tmp_path / "fly.toml").write_text('app = "x"\n[build]\n  dockerfile = "/docker/Dockerfile.prod"\n')
    (d,) = lint_paths([tmp_path / "fly.toml"])
    assert (d.rule, d.line, d.column) == ("dockerfile-missing", 3, 16)
    assert str(Path("docker") / "Dockerfile.prod") in d.message and "leading `/`" in d.message


def test_leading_slash_is_relative_to_flytoml(tmp_path):
    """Go's filepath.Join(dir of fly.toml, "/docker/Dockerfile") is docker/Dockerfile (resolveDockerfilePath)."""
    fly = FLY_SQLITE + '[build]\n  dockerfile = "/docker/Dockerfile"\n'
    project(tmp_path, fly, "FROM node:20\nCMD npm start\n", name="docker/Dockerfile")
    diags = lint_paths([tmp_path / "fly.toml"])
    assert [d for d in diags if d.rule == "dockerfile-missing"] == [], show(diags)
    # the Dockerfile is found, so its checks run
    assert found(diags, "cmd-shell-form") == [(2, 1)]


def test_dotdot_and_dot_are_cleaned_like_go(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / ".git").mkdir()  # a repository: `../shared` is in the project (tests/test_reads.py for outside)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "Dockerfile").write_text("FROM node:20\nCMD npm start\n")
    (app / "fly.toml").write_text('app = "x"\n[build]\n  dockerfile = "./../shared/./Dockerfile"\n')
    diags = lint_paths([app / "fly.toml"])
    assert [d.rule for d in diags] == ["cmd-shell-form"], show(diags)
    assert (diags[0].line, diags[0].column) == (2, 1)


@pytest.mark.parametrize("url", ["https://example.com/Dockerfile", "HTTP://example.com:8080/x/Dockerfile?t=1"])
def test_remote_dockerfile_is_not_missing(tmp_path, url):
    (tmp_path / "fly.toml").write_text(f'app = "x"\n[build]\n  dockerfile = "{url}"\n')
    (tmp_path / "Dockerfile").write_text("FROM node:20\nCMD npm start\n")  # not what flyctl builds
    diags = lint_paths([tmp_path / "fly.toml"])
    assert diags == [], show(diags)
    from flyconf.assemble import load_app

    app, _ = load_app(tmp_path / "fly.toml")
    assert app is not None and app.remote_dockerfile == url and app.dockerfile is None


@pytest.mark.parametrize("url", ["https:/example.com/Dockerfile", "https://", "https://example.com/%zz",
                                 "https://exa mple.com/Dockerfile", " https://example.com/Dockerfile",
                                 "https://example.com:port/Dockerfile", "http:Dockerfile"])
def test_malformed_dockerfile_url(tmp_path, url):
    """flyctl: LooksLikeURL but not IsURL is "invalid Dockerfile URL" (internal/dockerfileurl)."""
    (tmp_path / "fly.toml").write_text(f'app = "x"\n[build]\ndockerfile = "{url}"\n')
    diags = lint_paths([tmp_path / "fly.toml"])
    assert [(d.rule, d.line, d.column) for d in diags] == [("dockerfile-missing", 3, 14)], show(diags)
    assert "invalid Dockerfile URL" in diags[0].message


def test_a_path_that_merely_mentions_http_is_a_path(tmp_path):
    (tmp_path / "fly.toml").write_text('app = "x"\n[build]\ndockerfile = "docker/http:/Dockerfile"\n')
    (d,) = lint_paths([tmp_path / "fly.toml"])
    assert (d.rule, d.line, d.column) == ("dockerfile-missing", 3, 14) and "does not exist" in d.message


@pytest.mark.parametrize("build", ['image = "nginx:1"', 'builder = "paketobuildpacks/builder:base"'])
def test_image_or_builder_wins_over_the_dockerfile(tmp_path, build):
    """determineImage deploys [build] image as it is; the buildpacks builder runs before the Dockerfile's."""
    (tmp_path / "fly.toml").write_text(f'app = "x"\n[build]\n{build}\ndockerfile = "Dockerfile.nope"\n')
    diags = lint_paths([tmp_path / "fly.toml"])
    assert [d for d in diags if d.rule == "dockerfile-missing"] == [], show(diags)


def test_lowercase_dockerfile_is_the_default_too(tmp_path):
    """ResolveDockerfile tries Dockerfile, then dockerfile."""
    (tmp_path / "fly.toml").write_text('app = "x"\n')
    (tmp_path / "dockerfile").write_text("FROM node:20\nCMD npm start\n")
    diags = lint_paths([tmp_path / "fly.toml"])
    assert found(diags, "cmd-shell-form", "dockerfile") == [(2, 1)]


def test_build_dockerfile_is_the_one_checked(tmp_path):
    fly = FLY_SQLITE + '[build]\n  dockerfile = "docker/Dockerfile.fly"\n'
    project(tmp_path, fly, "FROM node:20\nCMD npm start\n", name="docker/Dockerfile.fly")
    (tmp_path / "Dockerfile").write_text("FROM node:20\nCMD [\"node\", \"ok.js\"]\n")  # not used by fly.toml
    diags = lint_paths([tmp_path / "fly.toml"])
    assert [(d.path, d.rule, d.line) for d in diags if d.rule == "cmd-shell-form"] == [
        (str(tmp_path / "docker" / "Dockerfile.fly").replace(str(Path.cwd()) + "/", ""), "cmd-shell-form", 2)]


def test_build_target_selects_the_stage(tmp_path):
    fly = FLY_SQLITE + '[build]\n  build-target = "web"\n'
    df = """
    FROM node:20 AS web
    CMD npm start
    FROM node:20 AS worker
    CMD ["node", "worker.js"]
    """
    diags = lint_paths([project(tmp_path, fly, df)])
    assert found(diags, "cmd-shell-form") == [(2, 1)]
    (tmp_path / "fly.toml").write_text(textwrap.dedent(fly).replace('"web"', '"worker"'))
    assert found(lint_paths([tmp_path]), "cmd-shell-form") == []


# -- cmd-shell-form and entrypoint-ignores-cmd --------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("FROM node:20\nCMD npm run start\n", [(2, 1)]),
        ("FROM node:20\nENTRYPOINT /app/start.sh\n", [(2, 1)]),
        ('FROM node:20\nCMD ["sh", "-c", "npx prisma migrate deploy && npm start"]\n', [(2, 7)]),
        ("FROM node:20\nCMD \\\n  npm run start\n", [(2, 1)]),
        ('FROM node:20 AS base\nCMD npm start\nFROM base\nENV X=1\n', [(2, 1)]),  # inherited through FROM base
    ],
)
def test_cmd_shell_form(text, where):
    diags = lint_text(text, "Dockerfile")
    assert [(d.line, d.column) for d in diags if d.rule == "cmd-shell-form"] == where, show(diags)


@pytest.mark.parametrize(
    "text",
    [
        'FROM node:20\nCMD ["npm", "run", "start"]\n',
        'FROM node:20\nCMD ["sh", "-c", "exec node server.js"]\n',
        'FROM node:20\nCMD ["sh", "-c", "npx prisma migrate deploy && exec npm start"]\n',
        'FROM node:20 AS build\nCMD npm run build\nFROM node:20\nCMD ["node", "x"]\n',  # not the final stage
    ],
)
def test_cmd_shell_form_near_misses(text):
    diags = lint_text(text, "Dockerfile")
    assert [d for d in diags if d.rule == "cmd-shell-form"] == [], show(diags)


def test_shell_entrypoint_ignores_cmd():
    diags = lint_text('FROM x\nENTRYPOINT /app/docker-entrypoint.sh\nCMD ["node", "server.js"]\n', "Dockerfile")
    (d,) = [d for d in diags if d.rule == "entrypoint-ignores-cmd"]
    assert (d.line, d.column, d.severity.value) == (2, 1, "error")
    assert "the CMD on line 3" in d.message


def test_shell_entrypoint_ignores_processes(tmp_path):
    fly = 'app = "x"\n[processes]\n  web = "bin/web"\n  worker = "bin/worker"\n'
    diags = lint_paths([project(tmp_path, fly, "FROM x\nENTRYPOINT bin/boot\n")])
    (d,) = [d for d in diags if d.rule == "entrypoint-ignores-cmd"]
    assert (d.line, d.column) == (2, 1) and "`web`, `worker`" in d.message


def test_exec_entrypoint_with_cmd_is_fine():
    diags = lint_text('FROM x\nENTRYPOINT ["tini", "--"]\nCMD ["node", "server.js"]\n', "Dockerfile")
    assert [d for d in diags if d.rule == "entrypoint-ignores-cmd"] == []


def test_processes_sh_c_with_several_commands(tmp_path):
    fly = 'app = "x"\n[processes]\n  app = "sh -c \'bin/migrate && bin/server\'"\n'
    diags = lint_paths([project(tmp_path, fly, 'FROM x\nCMD ["bin/server"]\n')])
    assert [(d.line, d.column) for d in diags if d.rule == "cmd-shell-form" and d.path.endswith("fly.toml")] == [(3, 9)]


# -- build-time-migration ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("FROM node:20\nRUN npx prisma migrate deploy\n", [(2, 9)]),
        ("FROM ruby:3\nRUN bundle install && \\\n    ./bin/rails db:migrate\n", [(3, 11)]),
        ("FROM python:3\nRUN <<EOF\npip install -r r.txt\npython manage.py migrate --noinput\nEOF\n", [(4, 8)]),
    ],
)
def test_build_time_migration_with_sqlite(tmp_path, text, where):
    diags = lint_paths([project(tmp_path, FLY_SQLITE, text)])
    assert found(diags, "build-time-migration") == where, show(diags)


def test_build_time_migration_inline_sqlite_url_without_fly_toml():
    text = "FROM node:20\nRUN DATABASE_URL=file:/data/app.db npx prisma migrate deploy\n"
    diags = lint_text(text, "Dockerfile")
    assert [(d.line, d.column) for d in diags if d.rule == "build-time-migration"] == [(2, 40)]


@pytest.mark.parametrize(
    "text",
    [
        "FROM node:20\nRUN npx prisma generate\n",
        "FROM python:3\nRUN DATABASE_URL=sqlite://:memory: python manage.py migrate\n",
        "FROM ruby:3\nRUN SECRET_KEY_BASE_DUMMY=1 ./bin/rails assets:precompile\n",
    ],
)
def test_build_time_migration_near_misses(tmp_path, text):
    diags = lint_paths([project(tmp_path, FLY_SQLITE, text)])
    assert found(diags, "build-time-migration") == [], show(diags)


def test_build_time_migration_needs_sqlite(tmp_path):
    fly = 'app = "x"\n[env]\n  DATABASE_URL = "postgres://db.internal/app"\n'
    diags = lint_paths([project(tmp_path, fly, "FROM node:20\nRUN npx prisma migrate deploy\n")])
    assert found(diags, "build-time-migration") == []


# -- sqlite-not-on-volume through ENV, and fly.toml [env] winning ------------------------------------------

def test_dockerfile_env_database_outside_the_volume(tmp_path):
    fly = 'app = "x"\n[[mounts]]\n  source = "data"\n  destination = "/data"\n'
    df = 'FROM node:20\nENV NODE_ENV=production \\\n    DATABASE_URL="file:/app/prisma/dev.db"\n'
    diags = lint_paths([project(tmp_path, fly, df)])
    assert found(diags, "sqlite-not-on-volume") == [(3, 5)], show(diags)
    (d,) = [d for d in diags if d.rule == "sqlite-not-on-volume"]
    assert "(Dockerfile ENV)" in d.message


def test_fly_toml_env_overrides_dockerfile_env(tmp_path):
    df = 'FROM node:20\nENV DATABASE_URL="file:/app/dev.db"\n'
    diags = lint_paths([project(tmp_path, FLY_SQLITE, df)])
    assert [d for d in diags if d.rule == "sqlite-not-on-volume"] == [], show(diags)


def test_relative_path_resolved_against_workdir(tmp_path):
    fly = 'app = "x"\n[env]\n  DB_PATH = "data/app.sqlite"\n[[mounts]]\n  source = "data"\n  destination = "/app/data"\n'
    assert [d for d in lint_paths([project(tmp_path, fly, "FROM x\nWORKDIR /app\n")])
            if d.rule == "sqlite-not-on-volume"] == []
    (tmp_path / "Dockerfile").write_text("FROM x\nWORKDIR /srv\n")
    diags = [d for d in lint_paths([tmp_path]) if d.rule == "sqlite-not-on-volume"]
    assert [(d.path.endswith("fly.toml"), d.line, d.column) for d in diags] == [(True, 3, 13)]
    assert "/srv/data/app.sqlite" in diags[0].message


# -- port-mismatch -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("dockerfile", "env", "fragment"),
    [
        ("FROM x\nEXPOSE 3000\nCMD [\"node\", \"s.js\"]\n", "", "EXPOSE"),
        ("FROM x\nENV PORT=3000\nEXPOSE 3000\n", "", "ENV PORT"),
        ("FROM x\n", '[env]\n  PORT = "3000"\n', "PORT in [env]"),
        ("FROM x\nCMD [\"bundle\", \"exec\", \"puma\", \"-p\", \"3000\"]\n", "", "`3000` in the start command"),
        ("FROM x\nCMD [\"gunicorn\", \"--bind\", \"0.0.0.0:8000\", \"app:app\"]\n", "", "`0.0.0.0:8000`"),
        ("FROM x\nCMD [\"uvicorn\", \"main:app\", \"--port=9000\"]\n", "", "`--port=9000`"),
    ],
)
def test_port_mismatch(tmp_path, dockerfile, env, fragment):
    fly = 'app = "x"\n' + env + '[http_service]\n  internal_port = 8080\n'
    diags = lint_paths([project(tmp_path, fly, dockerfile)])
    hits = [d for d in diags if d.rule == "port-mismatch"]
    line = fly.splitlines().index("  internal_port = 8080") + 1
    assert [(d.line, d.column) for d in hits] == [(line, 19)], show(diags)
    assert fragment in hits[0].message
    # EXPOSE alone is documentation: a hint (info); the rest is a warning.
    assert hits[0].severity.value == ("info" if fragment == "EXPOSE" else "warning")


@pytest.mark.parametrize(
    ("dockerfile", "env"),
    [
        ("FROM x\nEXPOSE 8080\n", ""),
        ("FROM x\nEXPOSE 3000 8080\n", ""),
        ("FROM x\nEXPOSE 3000\n", '[env]\n  PORT = "8080"\n'),  # the app listens on $PORT
        ("FROM x\nENV PORT=3000\n", '[env]\n  PORT = "8080"\n'),  # fly.toml [env] wins
        ("FROM x\nCMD [\"puma\", \"-p\", \"$PORT\"]\n", '[env]\n  PORT = "8080"\n'),
        ("FROM x\nCMD [\"node\", \"server.js\"]\n", ""),
        # nginx on 8080 in front of the app on $PORT: the image EXPOSEs internal_port.
        ("FROM x\nEXPOSE 8080 9223\nCMD [\"sh\", \"-c\", \"nginx && exec /app/server\"]\n", '[env]\n  PORT = "9223"\n'),
    ],
)
def test_port_mismatch_near_misses(tmp_path, dockerfile, env):
    fly = 'app = "x"\n' + env + '[http_service]\n  internal_port = 8080\n'
    diags = lint_paths([project(tmp_path, fly, dockerfile)])
    assert [d for d in diags if d.rule == "port-mismatch"] == [], show(diags)


# -- volume-not-writable --------------------------------------------------------------------------------
# Fly gives a new volume to the image's user ("Mounting /dev/vdc at /data w/ uid: 1000, gid: 1000");
# what fails is a root image whose start script drops to another user (fly-apps/dockerfile-rails#35).

ROOT_IMAGE = 'FROM ruby:3\nCOPY bin/docker-entrypoint /rails/bin/\nENTRYPOINT ["/rails/bin/docker-entrypoint"]\n' \
             'CMD ["./bin/rails", "server"]\n'


def entrypoint(body: str) -> dict[str, str]:
    return {"bin__docker-entrypoint": "#!/bin/sh\nset -e\n" + body}


@pytest.mark.parametrize(
    ("body", "where", "user"),
    [
        ('exec gosu rails "$@"\n', (3, 6), "rails"),
        ('exec su-exec 1000:1000 "$@"\n', (3, 6), "1000:1000"),
        ('exec setpriv --reuid=1000 --regid=1000 --init-groups -- "$@"\n', (3, 6), "1000"),
        ('exec su rails -c "$*"\n', (3, 6), "rails"),
        ('exec su -s /bin/sh -c "$*" rails\n', (3, 6), "rails"),
        # dockerfile-rails' --swap entrypoint: `su rails $0 $@` runs the script again as rails
        ('if [ $UID -eq 0 ]; then\n  exec su rails $0 $@\nfi\nexec "$@"\n', (4, 8), "rails"),
        ('exec runuser -u rails -- "$@"\n', (3, 6), "rails"),
        ('exec chpst -u rails "$@"\n', (3, 6), "rails"),
        ('exec s6-setuidgid rails "$@"\n', (3, 6), "rails"),
        # a chown of another directory does not help the volume
        ('chown -R rails /rails/tmp\nexec gosu rails "$@"\n', (4, 6), "rails"),
        # a chown after the drop runs as the user, and cannot
        ('gosu rails bin/setup\nchown -R rails /data\nexec gosu rails "$@"\n', (3, 1), "rails"),
    ],
)
def test_root_image_drops_to_a_user_without_the_volume(tmp_path, body, where, user):
    diags = lint_paths([project(tmp_path, FLY_SQLITE, ROOT_IMAGE, **entrypoint(body))])
    hits = [d for d in diags if d.rule == "volume-not-writable"]
    assert [(d.path.rsplit("/", 1)[-1], d.line, d.column) for d in hits] == [("docker-entrypoint", *where)], \
        show(diags)
    assert f"`{user}`" in hits[0].message and "/data" in hits[0].message and hits[0].severity.value == "warning"


@pytest.mark.parametrize(
    "body",
    [
        'chown -R rails:rails /data\nexec gosu rails "$@"\n',
        'chown rails /data/db\nexec gosu rails "$@"\n',  # inside the volume: the app's directory
        'chown -R rails "$DATA_DIR"\nexec gosu rails "$@"\n',  # a path flyconf cannot read: say nothing
        'chmod 0777 /data\nexec su-exec rails "$@"\n',
        'find / -path /data -exec chown rails {} +\nexec gosu rails "$@"\n',
        'sudo chown -R rails /\nexec gosu rails "$@"\n',
        'exec gosu root "$@"\n',  # not a drop
        'exec gosu "$APP_USER" "$@"\n',  # a user flyconf cannot read
        'exec su rails\n',  # an interactive shell, not a server
        'exec "$@"\n',
    ],
)
def test_volume_owner_near_misses(tmp_path, body):
    diags = lint_paths([project(tmp_path, FLY_SQLITE, ROOT_IMAGE, **entrypoint(body))])
    assert [d for d in diags if d.rule == "volume-not-writable"] == [], show(diags)


@pytest.mark.parametrize(
    "df",
    [
        # the normal, working case: a non-root USER gets a volume of its own
        "FROM node:20\nRUN mkdir -p /data && chown node:node /data\nUSER node\nCMD [\"node\", \"s.js\"]\n",
        "FROM node:20 AS base\nUSER node\nFROM base\nCMD [\"node\", \"s.js\"]\n",
        "FROM node:20\nUSER root\nCMD [\"node\", \"s.js\"]\n",  # root all the way
        "FROM node:20\n",
        'FROM node:20\nUSER ${APP_UID}\nCMD ["gosu", "node", "node", "s.js"]\n',  # a user flyconf cannot read
    ],
)
def test_volume_writable_near_misses(tmp_path, df):
    diags = lint_paths([project(tmp_path, FLY_SQLITE, df)])
    assert [d for d in diags if d.rule == "volume-not-writable"] == [], show(diags)


def test_drop_in_cmd_of_a_root_image(tmp_path):
    df = "FROM node:20\nRUN mkdir -p /data && chown node /data\nCMD [\"gosu\", \"node\", \"node\", \"s.js\"]\n"
    diags = lint_paths([project(tmp_path, FLY_SQLITE, df)])
    hits = [d for d in diags if d.rule == "volume-not-writable"]
    assert [(d.line, d.column) for d in hits] == [(3, 7)], show(diags)
    assert "the `chown` on line 2" in hits[0].message


def test_drop_in_a_process_command(tmp_path):
    fly = FLY_SQLITE + '[processes]\n  app = "su-exec app node s.js"\n'
    fly = fly.replace("[[mounts]]", "[[mounts]]\n  processes = [\"app\"]").replace(
        "[http_service]", "[http_service]\n  processes = [\"app\"]")
    diags = lint_paths([project(tmp_path, fly, "FROM node:20\n")])
    hits = [d for d in diags if d.rule == "volume-not-writable"]
    assert [(d.path.rsplit("/", 1)[-1], d.line, d.column) for d in hits] == [("fly.toml", 12, 9)], show(diags)


def test_chown_in_the_entrypoint_covers_a_drop_in_cmd(tmp_path):
    df = ('FROM ruby:3\nCOPY bin/docker-entrypoint /rails/bin/\nENTRYPOINT ["/rails/bin/docker-entrypoint"]\n'
          'CMD ["gosu", "rails", "./bin/rails", "server"]\n')
    diags = lint_paths([project(tmp_path, FLY_SQLITE, df, **entrypoint('chown -R rails /data\nexec "$@"\n'))])
    assert [d for d in diags if d.rule == "volume-not-writable"] == [], show(diags)


def test_non_root_user_without_mounts_is_fine(tmp_path):
    diags = lint_paths([project(tmp_path, 'app = "x"\n', ROOT_IMAGE, **entrypoint('exec gosu rails "$@"\n'))])
    assert [d for d in diags if d.rule == "volume-not-writable"] == []


# -- dockerfile-volume --------------------------------------------------------------------------------

def test_volume_instruction(tmp_path):
    diags = lint_paths([project(tmp_path, FLY_SQLITE, "FROM x\nVOLUME /data\n")])
    (d,) = [d for d in diags if d.rule == "dockerfile-volume"]
    assert (d.line, d.column, d.severity.value) == (2, 8, "info")
    (tmp_path / "Dockerfile").write_text("FROM x\nVOLUME [\"/storage\"]\n")
    (d,) = [d for d in lint_paths([tmp_path]) if d.rule == "dockerfile-volume"]
    assert (d.line, d.column, d.severity.value) == (2, 10, "warning") and "/data" in d.message


# -- escape directive, stand-alone Dockerfiles, discovery ---------------------------------------------------

def test_escape_directive_and_backtick_continuations():
    text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nCMD npm `\n  run start\n"
    diags = lint_text(text, "Dockerfile")
    assert [(d.rule, d.line, d.column) for d in diags] == [("cmd-shell-form", 3, 1)]
    assert diags[0].hint == 'write the exec form: CMD ["npm", "run", "start"]'


def test_standalone_dockerfile_keeps_fly_rules_quiet():
    text = "FROM node:20\nENV DATABASE_URL=file:/app/dev.db\nUSER node\nEXPOSE 3000\n"
    assert lint_text(text, "Dockerfile") == []


def test_directory_lint_reports_both_files_sorted(tmp_path):
    project(tmp_path, FLY_SQLITE.replace("[env]", 'kill_signal = "SIGFOO"\n[env]'), "FROM x\nCMD npm start\n")
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "Dockerfile.worker").write_text("FROM x\nENTRYPOINT node w.js\n")
    diags = lint_paths([tmp_path])
    names = [(Path(d.path).relative_to(tmp_path).as_posix() if Path(d.path).is_absolute() else d.path, d.line)
             for d in diags]
    assert [n for n, _ in names] == sorted(n for n, _ in names)
    assert {d.rule for d in diags} >= {"cmd-shell-form", "invalid-value"}
    assert any(d.path.endswith("Dockerfile.worker") for d in diags)


def test_only_the_fly_toml_still_checks_its_dockerfile(tmp_path):
    project(tmp_path, FLY_SQLITE, "FROM x\nRUN npx prisma migrate deploy\n")
    diags = lint_paths([tmp_path / "fly.toml"])
    assert found(diags, "build-time-migration") == [(2, 9)]


def test_only_the_dockerfile_uses_the_fly_toml_beside_it(tmp_path):
    project(tmp_path, FLY_SQLITE + 'kill_signal = "SIGFOO"\n', "FROM x\nRUN npx prisma migrate deploy\n")
    diags = lint_paths([tmp_path / "Dockerfile"])
    assert found(diags, "build-time-migration") == [(2, 9)]
    assert all(d.path.endswith("Dockerfile") for d in diags)  # fly.toml's own findings are not reported


# -- suppressions -----------------------------------------------------------------------------------

def test_suppression_before_an_instruction(tmp_path):
    df = "FROM x\n# flyconf: ignore[cmd-shell-form] PID 1 is fine here\nCMD npm start\nENTRYPOINT /x\n"
    diags = lint_text(df, "Dockerfile")
    assert sorted((d.rule, d.line) for d in diags) == [("cmd-shell-form", 4), ("entrypoint-ignores-cmd", 4)]


def test_suppression_by_code_covers_continuation_lines(tmp_path):
    df = "FROM x\n# flyconf: ignore[FC705]\nRUN npm ci && \\\n    npx prisma migrate deploy\n"
    diags = lint_paths([project(tmp_path, FLY_SQLITE, df)])
    assert found(diags, "build-time-migration") == []


def test_suppression_in_fly_toml_before_a_key_and_a_table():
    text = ('# flyconf: ignore[invalid-value]\nkill_signal = "SIGFOO"\nkill_timeout = "30"\n'
            "# flyconf: ignore[unknown-key, FC203]\n[[mounts]]\n  source = 'my-data'\n  destinaton = '/data'\n")
    diags = lint_text(text, "fly.toml", select=["FC1", "FC2", "FC9"])
    assert [(d.rule, d.line) for d in diags] == [("invalid-value", 3), ("mount-destination-not-absolute", 5)] or \
        [(d.rule, d.line) for d in diags] == [("invalid-value", 3)]


def test_unknown_names_in_a_suppression_are_reported():
    text = "FROM x\n# flyconf: ignore[cmd-shel-form, FC999]\nCMD npm start\n"
    diags = lint_text(text, "Dockerfile")
    bad = [(d.line, d.column, d.message.split("`")[1]) for d in diags if d.rule == "invalid-suppression"]
    assert bad == [(2, 19, "cmd-shel-form"), (2, 34, "FC999")]
    assert [d.line for d in diags if d.rule == "cmd-shell-form"] == [3]


# -- LiteFS and Litestream (shapes taken from the corpus) ---------------------------------------------------

LITEFS_YML = """
fuse:
  dir: "${LITEFS_DIR}"
data:
  dir: "/var/lib/litefs"
proxy:
  addr: ":${INTERNAL_PORT}"
  target: "localhost:${PORT}"
"""


def test_litefs_config_expands_variables_from_the_image(tmp_path):
    fly = 'app = "x"\n[http_service]\n  internal_port = 8080\n[mounts]\n  source = "litefs"\n  destination = "/var/lib/litefs"\n'
    df = ('FROM node:20\nENV LITEFS_DIR="/litefs/data" INTERNAL_PORT=8080 PORT=8081\n'
          'ENV DATABASE_FILENAME="sqlite.db"\nENV DATABASE_PATH="$LITEFS_DIR/$DATABASE_FILENAME"\n'
          'ENV CACHE_DATABASE_PATH="/$LITEFS_DIR/cache.db"\nENTRYPOINT ["litefs", "mount"]\n')
    diags = lint_paths([project(tmp_path, fly, df, **{"litefs.yml": LITEFS_YML})])
    assert [d for d in diags if d.rule in ("sqlite-not-on-volume", "port-mismatch")] == [], show(diags)


def test_litefs_proxy_port_must_match_internal_port(tmp_path):
    fly = 'app = "x"\n[http_service]\n  internal_port = 9999\n[mounts]\n  source = "litefs"\n  destination = "/var/lib/litefs"\n'
    df = 'FROM x\nENV INTERNAL_PORT=8080 PORT=8081\nENTRYPOINT ["litefs", "mount"]\n'
    diags = lint_paths([project(tmp_path, fly, df, **{"litefs.yml": LITEFS_YML})])
    hits = [d for d in diags if d.rule == "port-mismatch"]
    assert [(d.line, d.column) for d in hits] == [(3, 19)] and "LiteFS's proxy listens on 8080" in hits[0].message


def test_litestream_restores_so_no_volume_is_needed(tmp_path):
    fly = 'app = "x"\n[env]\n  DATABASE_PATH = "/data/app.db"\n'
    df = 'FROM x\nCMD ["litestream", "replicate", "-exec", "/app/server"]\n'
    diags = lint_paths([project(tmp_path, fly, df)])
    assert [d for d in diags if d.rule == "sqlite-not-on-volume"] == [], show(diags)
