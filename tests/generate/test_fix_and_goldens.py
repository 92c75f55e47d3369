"""`flyconf fix` and `flyconf generate dockerfile` on real app layouts, checked against golden files.

Each app under tests/fixtures/apps is copied into an empty directory and fixed there by the
command line; the resulting files must equal tests/golden/<app>/. Regenerate the goldens with
FLYCONF_UPDATE_GOLDEN=1 (they are written from the empty-directory run, never edited by hand).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flyconf import lint_paths
from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

APPS = REPO / "tests" / "fixtures" / "apps"
GOLDEN = REPO / "tests" / "golden"
FIXED = ("Dockerfile", "bin/fly-entrypoint")  # and every fly*.toml of the app
UPDATE = os.environ.get("FLYCONF_UPDATE_GOLDEN") == "1"


def flyconf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "flyconf", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture
def app_copy(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The app fixture copied into an empty directory named after it."""
    target = tmp_path / request.param
    shutil.copytree(APPS / request.param, target)
    return target


def apps() -> list[str]:
    return sorted(p.name for p in APPS.iterdir() if p.is_dir())


def outputs(app: Path) -> list[str]:
    """The files `fix` writes in an app: its fly.toml files, its Dockerfile and the wrapper."""
    return sorted(p.name for p in app.glob("fly*.toml")) + list(FIXED)


@pytest.mark.parametrize("app_copy", apps(), indirect=True)
def test_fix_matches_golden_files(app_copy: Path):
    app = app_copy
    before = lint_paths([app])
    assert {d.rule for d in before if d.fixable} >= {"release-command-sqlite"}

    proc = flyconf("fix", cwd=app)
    # django-sqlite keeps a finding fix cannot fix (its worker group has no volume): exit 1, as lint would.
    assert proc.returncode == (1 if app.name == "django-sqlite" else 0), proc.stderr
    assert "fixed: fly.toml: moved [deploy] release_command" in proc.stderr

    app_name = app.name
    golden = GOLDEN / app_name
    if UPDATE:
        assert not golden.exists(), f"goldens are generated into empty directories: remove {golden} first"
        for rel in outputs(app):
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(app / rel, golden / rel)
    assert sorted(str(p.relative_to(golden)) for p in golden.rglob("*") if p.is_file()) == sorted(outputs(app))
    for rel in outputs(app):
        assert (app / rel).read_text() == (golden / rel).read_text(), f"{rel} differs from tests/golden/{app_name}/{rel}"


@pytest.mark.parametrize("app_copy", apps(), indirect=True)
def test_fix_fixes_keeps_comments_and_is_idempotent(app_copy: Path):
    app = app_copy
    original = (app / "fly.toml").read_text()
    release = tomllib.loads(original)["deploy"]["release_command"]
    assert flyconf("fix", cwd=app).returncode == (1 if app.name == "django-sqlite" else 0)
    fixed = (app / "fly.toml").read_text()

    data = tomllib.loads(fixed)  # still valid TOML
    assert "release_command" not in data.get("deploy", {})
    for line in original.splitlines():  # every comment the user wrote is still there
        if line.strip().startswith("#"):
            assert line in fixed
    script = app / "bin" / "fly-entrypoint"
    assert script.stat().st_mode & stat.S_IXUSR
    assert f"FLYCONF_MIGRATE={_sh_quote(release)}" in script.read_text()

    after = lint_paths([app])
    left = [(d.rule, d.line, d.column, d.fixable) for d in after
            if d.rule in ("release-command-sqlite", "sqlite-not-on-volume")]
    if app.name == "django-sqlite":
        # The worker group (`python manage.py qcluster`) opens the database but mounts no volume: a real
        # bug that no fix can make safe (the group would need its own volume, hence its own copy).
        line = fixed.splitlines().index('  worker = "python manage.py qcluster"') + 1
        assert left == [("sqlite-not-on-volume", line, 12, False)]
    else:
        assert left == []
    assert [d for d in after if d.rule == "cmd-shell-form"] == []  # the CMD is exec form now

    snapshot = {rel: (app / rel).read_text() for rel in outputs(app)}
    second = flyconf("fix", cwd=app)
    assert not any(line.startswith("fixed:") for line in second.stderr.splitlines())
    if app.name == "django-sqlite":
        assert second.returncode == 1 and f"not fixed: fly.toml:{line}:12: FC402 [sqlite-not-on-volume]" in second.stderr
    else:
        assert second.returncode == 0 and "nothing to fix" in second.stderr
    assert {rel: (app / rel).read_text() for rel in outputs(app)} == snapshot


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.mark.parametrize("app_copy", apps(), indirect=True)
def test_fix_diff_writes_nothing(app_copy: Path):
    app = app_copy
    before = {p.relative_to(app): p.read_bytes() for p in app.rglob("*") if p.is_file()}
    proc = flyconf("fix", "--diff", cwd=app)
    assert proc.returncode == 1, proc.stderr  # changes pending, as ruff's --diff
    assert "--- a/fly.toml" in proc.stdout and "+++ b/bin/fly-entrypoint" in proc.stdout
    assert {p.relative_to(app): p.read_bytes() for p in app.rglob("*") if p.is_file()} == before


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (test extra)")
@pytest.mark.parametrize("app_name", apps())
def test_golden_scripts_pass_shellcheck(app_name: str):
    proc = subprocess.run(["shellcheck", "-s", "sh", str(GOLDEN / app_name / "bin" / "fly-entrypoint")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed (test extra)")
@pytest.mark.parametrize("app_name", apps())
def test_golden_dockerfiles_pass_hadolint(app_name: str):
    proc = subprocess.run(["hadolint", "--no-color", str(GOLDEN / app_name / "Dockerfile")], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout


def test_fix_adds_a_volume_when_there_is_none(tmp_path: Path):
    shutil.copytree(APPS / "node-prisma", tmp_path / "app")
    app = tmp_path / "app"
    assert flyconf("fix", cwd=app).returncode == 0
    data = tomllib.loads((app / "fly.toml").read_text())
    assert data["mounts"] == [{"source": "data", "destination": "/data"}]
    assert data["env"]["DATABASE_URL"] == "file:/data/dev.db"
    script = (app / "bin" / "fly-entrypoint").read_text()
    assert "flyconf_default_volume='/data'" in script and "flyconf_default_databases='/data/dev.db'" in script


def test_fix_leaves_a_foreign_wrapper_alone(tmp_path: Path):
    shutil.copytree(APPS / "rails-sqlite", tmp_path / "app")
    app = tmp_path / "app"
    (app / "bin").mkdir()
    (app / "bin" / "fly-entrypoint").write_text("#!/bin/sh\n# mine\nexec \"$@\"\n")
    proc = flyconf("fix", cwd=app)
    assert proc.returncode == 1
    assert "not fixed: fly.toml:9:21: FC401 [release-command-sqlite] release_command not moved: bin/fly-entrypoint " \
        "exists and was not written by flyconf" in proc.stderr
    assert "[*]" not in flyconf("lint", "fly.toml", cwd=app).stdout  # and lint promises nothing
    assert "release_command" in tomllib.loads((app / "fly.toml").read_text())["deploy"]
    assert (app / "bin" / "fly-entrypoint").read_text() == "#!/bin/sh\n# mine\nexec \"$@\"\n"


# -- flyconf generate ---------------------------------------------------------------------------

def test_generate_entrypoint_detects_the_stack(tmp_path: Path):
    shutil.copytree(APPS / "rails-sqlite", tmp_path / "app")
    app = tmp_path / "app"
    proc = flyconf("generate", "entrypoint", "--backups", "2", cwd=app)
    assert proc.returncode == 0, proc.stderr
    assert "detected rails (Gemfile has gem 'rails')" in proc.stderr or "detected rails" in proc.stderr
    script = (app / "bin" / "fly-entrypoint").read_text()
    assert "FLYCONF_MIGRATE='./bin/rails db:prepare'" in script
    assert "flyconf_backups='2'" in script
    # Generating again overwrites our own file; someone else's needs --force.
    assert flyconf("generate", "entrypoint", cwd=app).returncode == 0
    (app / "bin" / "fly-entrypoint").write_text("#!/bin/sh\necho mine\n")
    refused = flyconf("generate", "entrypoint", cwd=app)
    assert refused.returncode == 2 and "use --force" in refused.stderr
    assert flyconf("generate", "entrypoint", "--force", cwd=app).returncode == 0


def test_generate_entrypoint_options_and_stdout(tmp_path: Path):
    proc = flyconf("generate", "entrypoint", "--volume", "/data", "--database", "/data/my db.sqlite3",
                   "--migrate", "bin/migrate --all", "--run-as", "app", "--timeout", "60", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "flyconf_default_databases='/data/my db.sqlite3'" in proc.stdout
    assert "FLYCONF_MIGRATE='bin/migrate --all'" in proc.stdout and "flyconf_timeout='60'" in proc.stdout
    assert not (tmp_path / "bin").exists()


def test_generate_entrypoint_errors_are_messages(tmp_path: Path):
    proc = flyconf("generate", "entrypoint", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pass --preset NAME" in proc.stderr
    proc = flyconf("generate", "entrypoint", "--preset", "rails", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 2 and "pass --volume" in proc.stderr
    proc = flyconf("generate", "entrypoint", "--preset", "nope", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown preset 'nope'" in proc.stderr


def test_list_presets():
    proc = flyconf("generate", "entrypoint", "--list-presets", cwd=REPO)
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    for preset in ("prisma", "drizzle", "knex", "sequelize", "typeorm", "rails", "django", "alembic", "flask-migrate",
                   "laravel", "phoenix", "ecto", "golang-migrate", "goose", "sqlx", "diesel"):
        assert preset in names
    assert "python manage.py migrate --noinput" in proc.stdout


def test_generate_dockerfile_diff_then_write_then_idempotent(tmp_path: Path):
    shutil.copytree(APPS / "node-prisma", tmp_path / "app")
    app = tmp_path / "app"
    original = (app / "Dockerfile").read_text()
    diff = flyconf("generate", "dockerfile", "--diff", cwd=app)
    assert diff.returncode == 1  # a change is pending
    assert '+ENTRYPOINT ["tini", "--", "/usr/local/bin/fly-entrypoint"]' in diff.stdout
    assert '-ENTRYPOINT ["tini", "--"]' in diff.stdout
    assert (app / "Dockerfile").read_text() == original
    assert flyconf("generate", "dockerfile", cwd=app).returncode == 0
    edited = (app / "Dockerfile").read_text()
    assert "COPY --chmod=755 bin/fly-entrypoint /usr/local/bin/fly-entrypoint\n" in edited
    again = flyconf("generate", "dockerfile", cwd=app)
    assert again.returncode == 0 and "nothing to do" in again.stderr
    assert (app / "Dockerfile").read_text() == edited


def test_generate_dockerfile_refuses_litefs_mount(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text('FROM x\nENTRYPOINT ["litefs", "mount"]\n')
    proc = flyconf("generate", "dockerfile", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2 and "litefs.yml" in proc.stderr


def test_fix_keeps_crlf_line_endings(tmp_path: Path):
    shutil.copytree(APPS / "node-prisma", tmp_path / "app")
    app = tmp_path / "app"
    fly = app / "fly.toml"
    fly.write_bytes(fly.read_bytes().replace(b"\n", b"\r\n"))
    assert flyconf("fix", cwd=app).returncode == 0
    data = fly.read_bytes()
    assert b"release_command" in data and b"\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n"), "a line lost its CR"
    assert tomllib.loads(data.decode())["env"]["DATABASE_URL"] == "file:/data/dev.db"
