"""Migration presets: each renders into a working wrapper; detect_preset reads app directories."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flyconf.generate.entrypoint import EntrypointOptions, render_entrypoint
from flyconf.generate.presets import PRESETS, Preset, detect_preset

NAMES = sorted(PRESETS)


def migrate_value(script: str) -> str:
    """What the rendered FLYCONF_MIGRATE= line holds, as the shell reads it."""
    (line,) = [ln for ln in script.splitlines() if ln.startswith("FLYCONF_MIGRATE=")]
    r = subprocess.run(["sh", "-c", line + '\nprintf %s "$FLYCONF_MIGRATE"'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_renders(name, tmp_path):
    preset = PRESETS[name]
    assert isinstance(preset, Preset) and preset.command and preset.description and preset.markers
    script = render_entrypoint(
        EntrypointOptions(volume="/data", database="/data/app.sqlite3", migrate=preset.command, preset=preset.name)
    )
    assert migrate_value(script) == preset.command
    path = tmp_path / "fly-entrypoint"
    path.write_text(script)
    assert subprocess.run(["sh", "-n", str(path)]).returncode == 0


def test_ecto_is_phoenix():
    assert PRESETS["ecto"] is PRESETS["phoenix"]
    assert PRESETS["phoenix"].command == "/app/bin/migrate"


@pytest.mark.parametrize("name", [n for n in NAMES if "FLYCONF_DATABASE" in PRESETS[n].command])
def test_presets_that_need_the_database_path_refuse_to_render_without_it(name):
    with pytest.raises(ValueError, match="FLYCONF_DATABASE"):
        render_entrypoint(EntrypointOptions(volume="/data", database=None, migrate=PRESETS[name].command))


@pytest.mark.parametrize(
    ("name", "program", "expected"),
    [
        ("goose", "goose", ["-dir", "./migrations", "sqlite3", "{db}", "up"]),
        ("golang-migrate", "migrate", ["-path", "./migrations", "-database", "sqlite3://{db}", "up"]),
    ],
)
def test_database_path_reaches_the_tool_as_one_argument(tmp_path, name, program, expected):
    """Run the real wrapper with a stand-in tool that records its argv."""
    dash = shutil.which("dash") or "/bin/sh"
    vol = tmp_path / "vol"
    vol.mkdir()
    db = vol / "my app's db.sqlite3"
    fake = tmp_path / "bin"
    fake.mkdir()
    argv_file = tmp_path / "argv.json"
    tool = fake / program
    tool.write_text(f'#!/bin/sh\nexec {shlex.quote(shutil.which("python3"))} -c '
                    f'"import json,sys; json.dump(sys.argv[1:], open({str(argv_file)!r}, \'w\'))" "$@"\n')
    tool.chmod(0o755)
    script = tmp_path / "fly-entrypoint"
    script.write_text(render_entrypoint(EntrypointOptions(volume=str(vol), database=str(db), migrate=PRESETS[name].command)))
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "FLYCONF_ALLOW_UNMOUNTED": "1"}
    for key in ("RELEASE_COMMAND", "FLY_PROCESS_GROUP", "FLYCONF_SKIP_MIGRATIONS"):
        env.pop(key, None)
    r = subprocess.run([dash, str(script), "true"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(argv_file.read_text()) == [a.replace("{db}", str(db)) for a in expected]


# ---------------------------------------------------------------------------
# detect_preset


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def pkg(**sections) -> str:
    return json.dumps({"name": "app", **sections})


CASES = [
    ({"package.json": pkg(dependencies={"prisma": "^5", "express": "4"})}, "prisma", "package.json depends on prisma"),
    ({"package.json": pkg(dependencies={"@prisma/client": "^5"})}, "prisma", "@prisma/client"),
    ({"package.json": pkg(devDependencies={"drizzle-kit": "0.30"}, dependencies={"drizzle-orm": "1"})}, "drizzle", "drizzle-kit"),
    ({"package.json": pkg(dependencies={"knex": "3", "better-sqlite3": "11"})}, "knex", "knex"),
    ({"package.json": pkg(devDependencies={"sequelize-cli": "6"})}, "sequelize", "sequelize-cli"),
    ({"package.json": pkg(dependencies={"sequelize": "6"})}, "sequelize", "depends on sequelize"),
    ({"package.json": pkg(dependencies={"typeorm": "0.3"})}, "typeorm", "typeorm"),
    ({"Gemfile": 'source "https://rubygems.org"\n\ngem "rails", "~> 8.0"\ngem "sqlite3"\n'}, "rails", "rails"),
    ({"Gemfile": "gem 'railties', '8.0'\n"}, "rails", "railties"),
    ({"manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'app.settings')\n"}, "django", "Django"),
    ({"alembic.ini": "[alembic]\nscript_location = migrations\n"}, "alembic", "alembic.ini"),
    ({"requirements.txt": "Flask==3.0\nFlask-Migrate>=4\n"}, "flask-migrate", "requirements.txt"),
    ({"pyproject.toml": '[project]\ndependencies = ["flask", "flask_migrate>=4"]\n'}, "flask-migrate", "pyproject.toml"),
    ({"requirements-prod.txt": "flask-migrate\n", "alembic.ini": "[alembic]\n"}, "flask-migrate", "Flask-Migrate"),
    ({"composer.json": json.dumps({"require": {"php": "^8.2", "laravel/framework": "^11.0"}})}, "laravel", "laravel/framework"),
    ({"mix.exs": "defp deps do\n  [\n    {:phoenix, \"~> 1.7\"},\n    {:ecto_sqlite3, \">= 0.0.0\"}\n  ]\nend\n"}, "phoenix", "ecto_sqlite3"),
    ({"mix.exs": "defp deps, do: [{:ecto_sql, \"~> 3.10\"}]\n"}, "phoenix", "ecto_sql"),
    ({"go.mod": "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/golang-migrate/migrate/v4 v4.17.0\n)\n"}, "golang-migrate", "golang-migrate"),
    ({"go.mod": "module example.com/app\n\nrequire github.com/pressly/goose/v3 v3.20.0\n"}, "goose", "pressly/goose"),
    ({"Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\nsqlx = { version = "0.8", features = ["sqlite"] }\n'}, "sqlx", "sqlx"),
    ({"Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\ndiesel = "2"\n'}, "diesel", "diesel"),
    ({"Cargo.toml": '[workspace.dependencies]\ndiesel = "2"\n'}, "diesel", "diesel"),
    # precedence: the Node ORM wins over the Gemfile
    ({"package.json": pkg(dependencies={"prisma": "5"}), "Gemfile": "gem 'rails'\n"}, "prisma", "prisma"),
]


@pytest.mark.parametrize(("files", "name", "reason"), CASES, ids=[c[1] + "-" + "+".join(c[0]) for c in CASES])
def test_detect_preset(tmp_path, files, name, reason):
    found = detect_preset(write(tmp_path, files))
    assert found is not None
    preset, why = found
    assert preset.name == name
    assert reason in why


NEGATIVE = [
    {},
    {"package.json": pkg(dependencies={"express": "4", "better-sqlite3": "11"})},
    {"package.json": "{ not json"},
    {"package.json": "[1, 2]"},
    {"Gemfile": "gem 'sinatra'\n# gem 'rails'\n"},
    {"requirements.txt": "flask\nsqlalchemy\n"},
    {"composer.json": json.dumps({"require": {"symfony/framework-bundle": "7"}})},
    {"mix.exs": "defp deps, do: [{:phoenix, \"~> 1.7\"}]\n"},
    {"go.mod": "module example.com/app\n\nrequire github.com/mattn/go-sqlite3 v1.14.0\n"},
    {"Cargo.toml": '[package]\nname = "sqlx-free"\n\n[dependencies]\nrusqlite = "0.31"\n'},
    {"Cargo.toml": "this is [not toml"},
]


@pytest.mark.parametrize("files", NEGATIVE, ids=lambda f: "+".join(f) or "empty")
def test_detect_preset_finds_nothing(tmp_path, files):
    assert detect_preset(write(tmp_path, files)) is None


def test_detect_preset_never_runs_app_files(tmp_path):
    marker = tmp_path / "ran"
    hook = f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n"
    write(tmp_path, {"manage.py": hook, "bin/rails": hook, "Gemfile": "gem 'rails'\n"})
    for name in ("manage.py", "bin/rails"):
        (tmp_path / name).chmod(0o755)
    assert detect_preset(tmp_path)[0].name == "rails"
    assert not marker.exists()


def test_detect_preset_ignores_directories_named_like_manifests(tmp_path):
    (tmp_path / "package.json").mkdir()
    (tmp_path / "manage.py").mkdir()
    assert detect_preset(tmp_path) is None


def test_importing_the_generators_does_not_import_jinja2():
    code = (
        "import sys, flyconf.generate.entrypoint, flyconf.generate.presets; "
        "sys.exit(1 if 'jinja2' in sys.modules else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, "flyconf.generate must import jinja2 only when rendering"
