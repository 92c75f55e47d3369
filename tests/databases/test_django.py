"""The Django reader: settings modules read with ast, on realistic apps (startproject, split settings,
django-environ, dj-database-url, python-decouple, Wagtail, cookiecutter), positions asserted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flyconf import lint_paths
from flyconf.assemble import load_app
from flyconf.databases import django
from flyconf.databases.model import SERVER, SQLITE, UNKNOWN, Found
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import found, pos, write_app

FLY = """\
app = "demo"
primary_region = "ams"

[http_service]
  internal_port = 8000
"""
FLY_MOUNT = FLY + """
[mounts]
  source = "data"
  destination = "/data"
"""
DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
CMD ["gunicorn", "--bind", ":8000", "demo.wsgi"]
"""
MANAGE = """\
#!/usr/bin/env python
\"\"\"Django's command-line utility for administrative tasks.\"\"\"
import os
import sys


def main():
    \"\"\"Run administrative tasks.\"\"\"
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', '{module}')
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError("Couldn't import Django.") from exc
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
"""
WSGI = """\
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{module}")

application = get_wsgi_application()
"""
# What `django-admin startproject demo .` writes (Django 5), trimmed to what matters.
STARTPROJECT = """\
\"\"\"
Django settings for demo project.
\"\"\"

from pathlib import Path

# Build paths inside the project like this: BASE_DIR / 'subdir'.
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = 'django-insecure-0123456789'

DEBUG = True

ALLOWED_HOSTS = []

# Database
# https://docs.djangoproject.com/en/5.0/ref/settings/#databases

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': BASE_DIR / 'db.sqlite3',
    }
}

STATIC_URL = 'static/'
"""


def app(tmp_path: Path, settings: str, *, fly: str = FLY, dockerfile: str = DOCKERFILE, module: str = "demo.settings",
        extra: dict[str, str] | None = None, settings_path: str = "demo/settings.py") -> Path:
    files = {
        "fly.toml": fly,
        "Dockerfile": dockerfile,
        "requirements.txt": "Django==5.0.6\ngunicorn\ndj-database-url\ndjango-environ\n",
        "manage.py": MANAGE.replace("{module}", module),
        "demo/__init__.py": "",
        "demo/wsgi.py": WSGI.replace("{module}", module),
        settings_path: settings,
    }
    files.update(extra or {})
    return write_app(tmp_path, files)


def one(root: Path) -> Found:
    dbs = found(root, "django")
    assert len(dbs) == 1, dbs
    return dbs[0]


def steps(db: Found) -> str:
    return "\n".join(str(s) for s in db.chain)


def span(db: Found) -> tuple[int, int, int | None, int | None]:
    s = db.declared.span
    return (s.line, s.column, s.end_line, s.end_column)


# -- startproject ------------------------------------------------------------------------------------

def test_startproject_settings(tmp_path: Path) -> None:
    db = one(app(tmp_path, STARTPROJECT))
    assert (db.framework, db.reader, db.name, db.kind, db.path) == ("django", "django", "default", SQLITE, "/app/db.sqlite3")
    assert pos(db) == ("settings.py", 22, 17)
    assert span(db) == (22, 17, 22, 40)
    assert db.raw == "BASE_DIR / 'db.sqlite3'"
    assert db.variable is None and db.unknown is None
    text = steps(db)
    assert "settings module `demo.settings` named in manage.py" in text
    assert "demo/settings.py is /app/demo/settings.py in the image" in text
    assert "BASE_DIR = `Path(__file__).resolve().parent.parent` is /app" in text
    base_dir = next(s for s in db.chain if s.text.startswith("BASE_DIR"))
    assert base_dir.at is not None and (base_dir.at.span.line, base_dir.at.span.column) == (8, 12)
    assert "DJANGO_SETTINGS_MODULE" in db.claims


def test_startproject_lints_with_findings_in_settings(tmp_path: Path) -> None:
    """The issue's Django example: db.sqlite3 in settings.py and `manage.py migrate` as the release command."""
    fly = FLY + '\n[deploy]\n  release_command = "python manage.py migrate --noinput"\n'
    root = app(tmp_path, STARTPROJECT, fly=fly)
    diags = lint_paths([root / "fly.toml"])
    volume = [d for d in diags if d.rule == "sqlite-not-on-volume"]
    assert [(Path(d.path).name, d.line, d.column) for d in volume] == [("settings.py", 22, 17)]
    assert [d.rule for d in diags].count("release-command-sqlite") == 1


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    settings = (
        "from pathlib import Path\n"
        "BASE_DIR = Path(__file__).resolve().parent.parent\n"
        "DATABASES = {'défaut': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': BASE_DIR / 'données.sqlite3'}}\n"
    )
    db = one(app(tmp_path, settings))
    assert (db.name, db.path) == ("défaut", "/app/données.sqlite3")
    line = settings.splitlines()[2]
    assert pos(db) == ("settings.py", 3, line.index("BASE_DIR /") + 1)
    assert span(db)[3] == line.index("}}") + 1


def test_django_2_os_path_settings(tmp_path: Path) -> None:
    settings = """\
    import os

    # Build paths inside the project like this: os.path.join(BASE_DIR, ...)
    BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    DATABASES = {
        'default': {
            'ENGINE': 'django.db.backends.sqlite3',
            'NAME': os.path.join(BASE_DIR, 'db.sqlite3'),
        }
    }
    """
    dockerfile = DOCKERFILE.replace("WORKDIR /app", "WORKDIR /code").replace("COPY . .", "COPY . /code/")
    db = one(app(tmp_path, settings, dockerfile=dockerfile))
    assert (db.kind, db.path) == (SQLITE, "/code/db.sqlite3")
    assert pos(db) == ("settings.py", 9, 17)
    assert "BASE_DIR = `os.path.dirname(os.path.dirname(os.path.abspath(__file__)))` is /code" in steps(db)


@pytest.mark.parametrize("base_dir", [
    "Path(__file__).resolve(strict=True).parent.parent",
    "Path(__file__).resolve().parents[1]",
    "Path(__file__).parent.parent.absolute()",
])
def test_base_dir_shapes(tmp_path: Path, base_dir: str) -> None:
    settings = f"from pathlib import Path\nBASE_DIR = {base_dir}\n" \
               "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': str(BASE_DIR / 'data' / 'app.db')}}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (SQLITE, "/app/data/app.db")
    assert pos(db) == ("settings.py", 3, 74)
    assert db.raw == "str(BASE_DIR / 'data' / 'app.db')"


def test_manage_py_in_a_subdirectory(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12\nWORKDIR /srv\nCOPY backend/ /srv/\nCMD [\"gunicorn\", \"config.wsgi\"]\n"
    root = write_app(tmp_path, {
        "fly.toml": FLY,
        "Dockerfile": dockerfile,
        "backend/manage.py": MANAGE.replace("{module}", "config.settings"),
        "backend/config/__init__.py": "",
        "backend/config/wsgi.py": WSGI.replace("{module}", "config.settings"),
        "backend/config/settings.py": STARTPROJECT,
    })
    db = one(root)
    assert (db.kind, db.path) == (SQLITE, "/srv/db.sqlite3")
    assert pos(db) == ("settings.py", 22, 17)
    assert "named in backend/manage.py" in steps(db)


def test_settings_not_copied_into_the_image(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    db = one(app(tmp_path, STARTPROJECT, dockerfile=dockerfile))
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("settings.py", 22, 17)
    assert db.unknown is not None and "demo/settings.py is in the image is not known" in db.unknown
    assert "BASE_DIR" in db.unknown


def test_relative_name_resolves_against_the_workdir(tmp_path: Path) -> None:
    settings = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db/app.sqlite3'}}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path, db.relative, db.base) == (SQLITE, "/app/db/app.sqlite3", "db/app.sqlite3", "/app")
    assert pos(db) == ("settings.py", 1, 74)
    assert "relative path `db/app.sqlite3` resolved against the working directory /app" in steps(db)


def test_relative_name_without_workdir_is_unknown(tmp_path: Path) -> None:
    settings = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'db.sqlite3'}}\n"
    dockerfile = "FROM python:3.12\nCOPY . .\nCMD [\"gunicorn\", \"demo.wsgi\"]\n"
    db = one(app(tmp_path, settings, dockerfile=dockerfile))
    assert (db.kind, db.path, db.relative) == (SQLITE, None, "db.sqlite3")
    assert db.unknown == "relative path `db.sqlite3`: the working directory of the server is not known"
    assert pos(db) == ("settings.py", 1, 74)


def test_in_memory_and_server_engines(tmp_path: Path) -> None:
    settings = """\
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "app",
            "HOST": "db.internal",
        },
        "scratch": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    }
    """
    dbs = {d.name: d for d in found(app(tmp_path, settings), "django")}
    assert dbs["default"].kind == SERVER and pos(dbs["default"]) == ("settings.py", 3, 19)
    assert (dbs["scratch"].kind, dbs["scratch"].path, dbs["scratch"].unknown) == (SQLITE, None, "an in-memory database")
    assert pos(dbs["scratch"]) == ("settings.py", 7, 65)


def test_other_aliases_are_databases_too(tmp_path: Path) -> None:
    settings = STARTPROJECT + """
DATABASES["cache"] = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": BASE_DIR / "cache.sqlite3",
}
DATABASES["default"]["NAME"] = "/data/db.sqlite3"
DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}
"""
    dbs = {d.name: d for d in found(app(tmp_path, settings, fly=FLY_MOUNT), "django")}
    assert (dbs["default"].path, pos(dbs["default"])) == ("/data/db.sqlite3", ("settings.py", 32, 32))
    assert (dbs["cache"].path, pos(dbs["cache"])) == ("/app/cache.sqlite3", ("settings.py", 30, 13))
    assert f"DATABASES['cache'] in the settings ({tmp_path / 'demo/settings.py'}:28:22)" in steps(dbs["cache"])


def test_update_of_the_default_database(tmp_path: Path) -> None:
    settings = STARTPROJECT + 'DATABASES["default"].update({"NAME": "/data/prod.sqlite3", "CONN_MAX_AGE": 60})\n'
    db = one(app(tmp_path, settings))
    assert (db.path, pos(db)) == ("/data/prod.sqlite3", ("settings.py", 27, 38))


def test_dict_in_a_variable_and_spatialite(tmp_path: Path) -> None:
    settings = """\
    import os
    from pathlib import Path

    BASE_DIR = Path(__file__).resolve().parent.parent
    DB_FILE = os.path.join("/data", "geo.sqlite3")
    SPATIAL = {"ENGINE": "django.contrib.gis.db.backends.spatialite", "NAME": DB_FILE}
    DATABASES = {"default": SPATIAL}
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (SQLITE, "/data/geo.sqlite3")
    assert pos(db) == ("settings.py", 5, 11)


# -- which settings module ----------------------------------------------------------------------------

SPLIT_BASE = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = False

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}
"""


def test_settings_module_from_fly_toml_env_and_split_settings(tmp_path: Path) -> None:
    fly = FLY_MOUNT + '\n[env]\n  DJANGO_SETTINGS_MODULE = "demo.settings.production"\n'
    production = """\
    from .base import *  # noqa

    DEBUG = False
    DATABASES["default"]["NAME"] = "/data/db.sqlite3"
    """
    root = app(tmp_path, SPLIT_BASE, fly=fly, module="demo.settings.local", settings_path="demo/settings/base.py",
               extra={"demo/settings/__init__.py": "", "demo/settings/production.py": production,
                      "demo/settings/local.py": "from .base import *\nDEBUG = True\n"})
    db = one(root)
    assert (db.kind, db.path) == (SQLITE, "/data/db.sqlite3")
    assert pos(db) == ("production.py", 4, 32)
    text = steps(db)
    assert "DJANGO_SETTINGS_MODULE = 'demo.settings.production' is set in fly.toml [env]" in text
    assert "demo/settings/production.py imports demo/settings/base.py" in text
    assert db.claims[0] == "DJANGO_SETTINGS_MODULE"


def test_split_settings_inherit_base_dir_from_base(tmp_path: Path) -> None:
    fly = FLY + '\n[env]\n  DJANGO_SETTINGS_MODULE = "demo.settings.production"\n'
    production = "from demo.settings.base import *\n\nALLOWED_HOSTS = ['demo.fly.dev']\n"
    root = app(tmp_path, SPLIT_BASE, fly=fly, settings_path="demo/settings/base.py",
               extra={"demo/settings/__init__.py": "", "demo/settings/production.py": production})
    db = one(root)
    # BASE_DIR is computed in base.py, from base.py's own __file__: /app/demo/settings/base.py -> /app
    assert (db.path, pos(db)) == ("/app/db.sqlite3", ("base.py", 10, 17))
    assert "demo/settings/base.py is /app/demo/settings/base.py in the image" in steps(db)


def test_dockerfile_env_names_the_settings(tmp_path: Path) -> None:
    dockerfile = DOCKERFILE.replace("WORKDIR /app", "WORKDIR /app\nENV DJANGO_SETTINGS_MODULE=demo.prod")
    prod = "from .settings import *\nDATABASES['default']['NAME'] = '/data/prod.db'\n"
    root = app(tmp_path, STARTPROJECT, dockerfile=dockerfile, extra={"demo/prod.py": prod})
    db = one(root)
    assert (db.path, pos(db)) == ("/data/prod.db", ("prod.py", 2, 32))
    assert "is set in Dockerfile ENV" in steps(db)


def test_start_command_settings_option_wins(tmp_path: Path) -> None:
    dockerfile = DOCKERFILE.replace(
        'CMD ["gunicorn", "--bind", ":8000", "demo.wsgi"]',
        'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000", "--settings=demo.fly"]')
    fly_settings = "from .settings import *\nDATABASES['default']['NAME'] = '/data/fly.db'\n"
    root = app(tmp_path, STARTPROJECT, dockerfile=dockerfile, extra={"demo/fly.py": fly_settings})
    db = one(root)
    assert (db.path, pos(db)) == ("/data/fly.db", ("fly.py", 2, 32))
    assert "named by the start command of process group app" in steps(db)


WAGTAIL_BASE = """\
import os

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE_DIR = os.path.dirname(PROJECT_DIR)

INSTALLED_APPS = ["home", "search", "wagtail.contrib.forms"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BASE_DIR, "db.sqlite3"),
    }
}

WAGTAIL_SITE_NAME = "mysite"
"""


def wagtail(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    """`wagtail start mysite`: manage.py names the dev settings, wsgi.py the production ones."""
    files = {
        "fly.toml": FLY,
        "Dockerfile": ("FROM python:3.12-slim-bookworm\nRUN useradd wagtail\nEXPOSE 8000\nENV PYTHONUNBUFFERED=1 PORT=8000\n"
                       "WORKDIR /app\nCOPY requirements.txt /\nRUN pip install -r /requirements.txt\n"
                       "COPY --chown=wagtail:wagtail . .\nUSER wagtail\nRUN python manage.py collectstatic --noinput\n"
                       'CMD set -xe; python manage.py migrate --noinput; gunicorn mysite.wsgi:application\n'),
        "requirements.txt": "wagtail>=6.1\n",
        "manage.py": MANAGE.replace("{module}", "mysite.settings.dev"),
        "mysite/__init__.py": "",
        "mysite/wsgi.py": WSGI.replace("{module}", "mysite.settings.production"),
        "mysite/settings/__init__.py": "",
        "mysite/settings/base.py": WAGTAIL_BASE,
        "mysite/settings/dev.py": "from .base import *\n\nDEBUG = True\nSECRET_KEY = 'dev'\n",
        "mysite/settings/production.py": "from .base import *\n\nDEBUG = False\n\ntry:\n    from .local import *\n"
                                         "except ImportError:\n    pass\n",
    }
    files.update(extra or {})
    return write_app(tmp_path, files)


def test_wagtail_production_settings_from_wsgi(tmp_path: Path) -> None:
    db = one(wagtail(tmp_path))
    assert (db.kind, db.path) == (SQLITE, "/app/db.sqlite3")
    assert pos(db) == ("base.py", 11, 17)
    text = steps(db)
    assert "settings module `mysite.settings.production` named in mysite/wsgi.py" in text
    assert "BASE_DIR = `os.path.dirname(PROJECT_DIR)` is /app" in text


def test_wagtail_local_settings_are_followed_when_present(tmp_path: Path) -> None:
    local = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': '/data/wagtail.db'}}\n"
    db = one(wagtail(tmp_path, {"mysite/settings/local.py": local}))
    assert (db.path, pos(db)) == ("/data/wagtail.db", ("local.py", 1, 74))


def test_disagreeing_defaults_without_a_server_hint_are_unknown(tmp_path: Path) -> None:
    root = write_app(tmp_path, {
        "fly.toml": FLY,
        "Dockerfile": "FROM python:3.12\nWORKDIR /app\nCOPY . .\n",
        "manage.py": MANAGE.replace("{module}", "demo.settings_a"),
        "demo/__init__.py": "",
        "demo/wsgi.py": WSGI.replace("{module}", "demo.settings_b"),
        "demo/settings_a.py": STARTPROJECT,
        "demo/settings_b.py": STARTPROJECT,
    })
    db = one(root)
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("manage.py", 9, 53)
    assert "manage.py names `demo.settings_a`, demo/wsgi.py names `demo.settings_b`" in (db.unknown or "")


def test_development_default_is_unknown(tmp_path: Path) -> None:
    root = app(tmp_path, SPLIT_BASE, module="demo.settings.local", settings_path="demo/settings/base.py",
               extra={"demo/settings/__init__.py": "", "demo/settings/local.py": "from .base import *\nDEBUG = True\n"})
    db = one(root)
    assert (db.kind, db.path, pos(db)) == (UNKNOWN, None, ("manage.py", 9, 53))
    assert "`demo.settings.local`, is a development module" in (db.unknown or "")


def test_missing_settings_module_is_unknown(tmp_path: Path) -> None:
    fly = FLY + '\n[env]\n  DJANGO_SETTINGS_MODULE = "demo.settings.production"\n'
    db = one(app(tmp_path, STARTPROJECT, fly=fly))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("fly.toml", 8, 28)
    assert db.unknown == "the settings module `demo.settings.production` (demo/settings/production.py) is not in the build context"


def test_settings_that_do_not_parse(tmp_path: Path) -> None:
    db = one(app(tmp_path, "DATABASES = {\n  'default': {\n"))
    assert db.kind == UNKNOWN and pos(db) == ("settings.py", 1, 1)
    assert db.unknown is not None and db.unknown.startswith("demo/settings.py is not valid Python (line")


def test_not_django(tmp_path: Path) -> None:
    flask_manage = "from flask_script import Manager\nfrom app import app\nmanager = Manager(app)\n"
    root = write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOCKERFILE, "manage.py": flask_manage,
                                "app.py": "DATABASE = 'app.db'\n"})
    assert found(root, "django") == []


def test_settings_without_databases(tmp_path: Path) -> None:
    assert found(app(tmp_path, "DEBUG = False\nALLOWED_HOSTS = ['*']\n"), "django") == []


def test_databases_inside_a_class_is_unknown(tmp_path: Path) -> None:
    settings = """\
    from configurations import Configuration, values


    class Prod(Configuration):
        DATABASES = values.DatabaseURLValue("sqlite:///db.sqlite3")
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, pos(db)) == (UNKNOWN, ("settings.py", 5, 5))


# -- dj-database-url and the fly launch pattern ---------------------------------------------------------

FLY_LAUNCH = """\
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=600,
    )
}
"""


def test_fly_launch_template_is_unknown_without_database_url(tmp_path: Path) -> None:
    db = one(app(tmp_path, FLY_LAUNCH))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("settings.py", 9, 17)
    assert db.raw == "f\"sqlite:///{BASE_DIR / 'db.sqlite3'}\""
    assert db.unknown is not None and "DATABASE_URL is not set in fly.toml [env] or the Dockerfile and may be set as a " \
                                      "secret" in db.unknown
    assert (db.variable, db.form) == ("DATABASE_URL", "sqlite:///")
    assert "DATABASE_URL" in db.claims
    assert "the default of dj_database_url.config is used" in steps(db)


def test_fly_launch_template_lints_clean(tmp_path: Path) -> None:
    fly = FLY + '\n[deploy]\n  release_command = "python manage.py migrate --noinput"\n'
    root = app(tmp_path, FLY_LAUNCH, fly=fly)
    rules = [d.rule for d in lint_paths([root / "fly.toml"])]
    assert not [r for r in rules if "sqlite" in r], rules
    assert [d for d in found(root) if d.kind == SQLITE] == []  # nor does another reader take DATABASE_URL


def test_database_url_visible_as_sqlite(tmp_path: Path) -> None:
    fly = FLY_MOUNT + '\n[env]\n  DATABASE_URL = "sqlite:////data/db.sqlite3"\n'
    root = app(tmp_path, FLY_LAUNCH, fly=fly)
    db = one(root)
    assert (db.kind, db.path) == (SQLITE, "/data/db.sqlite3")
    assert pos(db) == ("fly.toml", 12, 18)
    assert (db.variable, db.form, db.raw) == ("DATABASE_URL", "sqlite:///", "sqlite:////data/db.sqlite3")
    text = steps(db)
    assert "DATABASE_URL = 'sqlite:////data/db.sqlite3' is set in fly.toml [env]" in text
    assert "dj-database-url reads `sqlite:////data/db.sqlite3` as the SQLite file `/data/db.sqlite3`" in text
    # the generic env reader does not report DATABASE_URL a second time
    assert [d.reader for d in found(root)] == ["django"]


def test_database_url_visible_relative(tmp_path: Path) -> None:
    fly = FLY + '\n[env]\n  DATABASE_URL = "sqlite:///data/db.sqlite3"\n'
    db = one(app(tmp_path, FLY_LAUNCH, fly=fly))
    assert (db.kind, db.path, db.relative, db.base, db.url_path) == (
        SQLITE, "/app/data/db.sqlite3", "data/db.sqlite3", "/app", "/data/db.sqlite3")
    assert pos(db) == ("fly.toml", 8, 18)


def test_database_url_visible_as_postgres(tmp_path: Path) -> None:
    dockerfile = DOCKERFILE.replace("WORKDIR /app", "WORKDIR /app\nENV DATABASE_URL=postgres://app:app@db.internal:5432/app")
    db = one(app(tmp_path, FLY_LAUNCH, dockerfile=dockerfile))
    assert (db.kind, db.path) == (SERVER, None)
    assert pos(db) == ("Dockerfile", 3, 5)


def test_dj_database_url_with_its_own_variable(tmp_path: Path) -> None:
    settings = "import dj_database_url\nDATABASES = {'default': dj_database_url.config(env='SQLITE_URL', " \
               "default='sqlite:////data/default.db')}\n"
    fly = FLY_MOUNT + "\n[env]\n  SQLITE_URL = 'sqlite:////data/chosen.db'\n"
    db = one(app(tmp_path, settings, fly=fly))
    assert (db.kind, db.path, db.variable, db.form) == (SQLITE, "/data/chosen.db", "SQLITE_URL", "sqlite:///")
    assert pos(db) == ("fly.toml", 12, 16)
    assert db.claims == ("DJANGO_SETTINGS_MODULE", "SQLITE_URL")


def test_heroku_style_update_is_unknown(tmp_path: Path) -> None:
    settings = STARTPROJECT + "\nimport dj_database_url\ndb_from_env = dj_database_url.config(conn_max_age=500)\n" \
                              "DATABASES['default'].update(db_from_env)\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("settings.py", 29, 15)
    assert "DATABASE_URL is not set in fly.toml [env] or the Dockerfile and may be set as a secret" in (db.unknown or "")


def test_parse_of_an_env_var_with_a_sqlite_default(tmp_path: Path) -> None:
    settings = "import os\nimport dj_database_url\n" \
               "DATABASES = {'default': dj_database_url.parse(os.environ.get('DATABASE_URL', 'sqlite:///db.sqlite3'))}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, pos(db)) == (UNKNOWN, ("settings.py", 3, 78))


def test_parse_of_a_literal(tmp_path: Path) -> None:
    settings = "import dj_database_url\nDATABASES = {'default': dj_database_url.parse('sqlite:////data/app.db')}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path, db.variable) == (SQLITE, "/data/app.db", None)
    assert pos(db) == ("settings.py", 2, 47)


def test_settings_set_database_url_themselves(tmp_path: Path) -> None:
    settings = "import os\nimport dj_database_url\nos.environ['DATABASE_URL'] = 'sqlite:////data/forced.db'\n" \
               "DATABASES = {'default': dj_database_url.config()}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (SQLITE, "/data/forced.db")
    assert pos(db) == ("settings.py", 3, 30)


# -- django-environ and python-decouple ---------------------------------------------------------------

ENVIRON = """\
from pathlib import Path

import environ

env = environ.Env(DEBUG=(bool, False))

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="unsafe")

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
"""


def test_django_environ_default_is_unknown(tmp_path: Path) -> None:
    db = one(app(tmp_path, ENVIRON))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("settings.py", 13, 47)
    assert (db.variable, db.form) == ("DATABASE_URL", "sqlite:///")


def test_django_environ_visible_url(tmp_path: Path) -> None:
    fly = FLY_MOUNT + "\n[env]\n  DATABASE_URL = 'sqlite:////data/app.sqlite3'\n  DEBUG = 'false'\n"
    db = one(app(tmp_path, ENVIRON, fly=fly))
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/app.sqlite3", ("fly.toml", 12, 18))
    assert "django-environ reads" in steps(db)


def test_django_environ_without_default(tmp_path: Path) -> None:
    settings = "import environ\nenv = environ.Env()\nDATABASES = {'default': env.db()}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, pos(db)) == (UNKNOWN, ("settings.py", 3, 25))


def test_cookiecutter_environ_path(tmp_path: Path) -> None:
    """Older cookiecutter-django: `ROOT_DIR = environ.Path(__file__) - 3` and a SQLite NAME under it."""
    base = """\
    import environ

    ROOT_DIR = environ.Path(__file__) - 3  # (config/settings/base.py - 3 = project/)
    APPS_DIR = ROOT_DIR.path("demo")

    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ROOT_DIR("db.sqlite3")},
    }
    """
    fly = FLY + '\n[env]\n  DJANGO_SETTINGS_MODULE = "config.settings.base"\n'
    root = write_app(tmp_path, {"fly.toml": fly, "Dockerfile": DOCKERFILE, "manage.py": MANAGE.replace(
        "{module}", "config.settings.local"), "config/__init__.py": "", "config/settings/__init__.py": "",
        "config/settings/base.py": base})
    db = one(root)
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/app/db.sqlite3", ("base.py", 7, 65))


def test_python_decouple_with_db_url_cast(tmp_path: Path) -> None:
    settings = """\
    from pathlib import Path

    from decouple import config
    from dj_database_url import parse as db_url

    BASE_DIR = Path(__file__).resolve().parent.parent
    DEBUG = config("DEBUG", default=False, cast=bool)
    DATABASES = {
        "default": config("DATABASE_URL", default="sqlite:///" + str(BASE_DIR / "db.sqlite3"), cast=db_url),
    }
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, pos(db)) == (UNKNOWN, ("settings.py", 9, 47))
    fly = FLY_MOUNT + "\n[env]\n  DATABASE_URL = 'sqlite:////data/decouple.db'\n"
    db = one(app(tmp_path, settings, fly=fly))
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/decouple.db", ("fly.toml", 12, 18))


def test_decouple_reads_a_dotenv_in_the_build_context(tmp_path: Path) -> None:
    settings = """\
    from decouple import config

    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": config("SQLITE_PATH", default="db.sqlite3")}}
    """
    db = one(app(tmp_path, settings, extra={".env": "SQLITE_PATH=/data/local.db\n"}))
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("settings.py", 3, 74))
    assert db.unknown == "SQLITE_PATH may be set in .env, which the settings load with python-decouple's config()"


# -- a path from an environment variable -------------------------------------------------------------

SQLITE_PATH = """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"),
    }
}
"""


def test_path_variable_not_set_takes_its_default(tmp_path: Path) -> None:
    db = one(app(tmp_path, SQLITE_PATH))
    assert (db.kind, db.path) == (SQLITE, "/app/db.sqlite3")
    assert pos(db) == ("settings.py", 9, 47)
    assert (db.variable, db.form) == ("SQLITE_PATH", "path")
    assert "SQLITE_PATH is not set in fly.toml [env] or the Dockerfile: the default of os.environ.get is used" in steps(db)


def test_path_variable_set_in_fly_toml(tmp_path: Path) -> None:
    fly = FLY_MOUNT + '\n[env]\n  SQLITE_PATH = "/data/app.sqlite3"\n'
    root = app(tmp_path, SQLITE_PATH, fly=fly)
    db = one(root)
    assert (db.kind, db.path, db.raw) == (SQLITE, "/data/app.sqlite3", "/data/app.sqlite3")
    assert pos(db) == ("fly.toml", 12, 17)
    assert db.variable == "SQLITE_PATH"
    assert [d.reader for d in found(root)] == ["django"]


def test_getenv_with_or_fallback(tmp_path: Path) -> None:
    settings = "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', " \
               "'NAME': os.getenv('DB_PATH') or '/data/db.sqlite3'}}\n"
    db = one(app(tmp_path, settings))
    assert (db.path, db.variable, pos(db)) == ("/data/db.sqlite3", "DB_PATH", ("settings.py", 2, 98))


def test_required_path_variable_is_unknown(tmp_path: Path) -> None:
    settings = "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', " \
               "'NAME': os.environ['DB_PATH']}}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path, db.variable) == (SQLITE, None, "DB_PATH")
    assert pos(db) == ("settings.py", 2, 74)


def test_engine_from_a_secret_is_unknown(tmp_path: Path) -> None:
    settings = "import os\nDATABASES = {'default': {" \
               "'ENGINE': os.environ.get('DB_ENGINE', 'django.db.backends.sqlite3'), 'NAME': 'db.sqlite3'}}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, pos(db)) == (UNKNOWN, ("settings.py", 2, 64))
    assert "DB_ENGINE" in (db.unknown or "")


# -- conditions ---------------------------------------------------------------------------------------

def test_condition_on_a_variable_fly_always_sets(tmp_path: Path) -> None:
    settings = STARTPROJECT + """
import os

if os.environ.get("FLY_APP_NAME"):
    DATABASES["default"]["NAME"] = "/data/db.sqlite3"
"""
    db = one(app(tmp_path, settings, fly=FLY_MOUNT))
    assert (db.path, pos(db)) == ("/data/db.sqlite3", ("settings.py", 31, 36))
    assert "FLY_APP_NAME" in db.claims


def test_fly_region_in_environ(tmp_path: Path) -> None:
    settings = STARTPROJECT + """
import os

if "FLY_REGION" not in os.environ:
    DATABASES["default"]["NAME"] = "dev.sqlite3"
"""
    db = one(app(tmp_path, settings))
    assert (db.path, pos(db)) == ("/app/db.sqlite3", ("settings.py", 22, 17))


DEBUG_SWITCH = """\
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get("DEBUG", "0") == "1"

if DEBUG:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("POSTGRES_DB", "app"),
        }
    }
"""


def test_condition_on_a_variable_that_may_be_a_secret(tmp_path: Path) -> None:
    db = one(app(tmp_path, DEBUG_SWITCH))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("settings.py", 7, 4)
    assert "depends on `DEBUG` (demo/settings.py:7), and DEBUG may be set as a secret" in (db.unknown or "")


def test_condition_on_a_visible_variable(tmp_path: Path) -> None:
    fly = FLY + '\n[env]\n  DEBUG = "0"\n'
    db = one(app(tmp_path, DEBUG_SWITCH, fly=fly))
    assert (db.kind, pos(db)) == (SERVER, ("settings.py", 12, 23))
    fly = FLY + '\n[env]\n  DEBUG = "1"\n'
    db = one(app(tmp_path, DEBUG_SWITCH, fly=fly))
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/app/db.sqlite3", ("settings.py", 8, 78))
    assert "DEBUG" in db.claims


def test_database_url_presence_switch_is_unknown(tmp_path: Path) -> None:
    settings = STARTPROJECT + """
import os
import dj_database_url

if "DATABASE_URL" in os.environ:
    DATABASES = {"default": dj_database_url.config(conn_max_age=600)}
"""
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("settings.py", 31, 4)


def test_branches_with_the_same_sqlite_file_agree(tmp_path: Path) -> None:
    settings = """\
    import os
    from pathlib import Path

    BASE_DIR = Path(__file__).resolve().parent.parent
    if os.getenv("USE_WAL"):
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3",
                                 "OPTIONS": {"init_command": "PRAGMA journal_mode=wal;"}}}
    else:
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (SQLITE, "/app/db.sqlite3")
    assert pos(db) == ("settings.py", 6, 78)


def test_branches_with_different_sqlite_files(tmp_path: Path) -> None:
    settings = """\
    import os

    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/data/db.sqlite3"}}
    if os.getenv("STAGING"):
        DATABASES["default"]["NAME"] = "/data/staging.sqlite3"
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("settings.py", 4, 4)
    assert "STAGING may be set as a secret" in (db.unknown or "")


def test_test_runner_database_is_not_production(tmp_path: Path) -> None:
    settings = """\
    import sys

    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app", "HOST": "db.flycast"}}

    if "test" in sys.argv or "test_coverage" in sys.argv:
        DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    if len(sys.argv) > 1 and sys.argv[1] == "test":
        DATABASES["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": "test.sqlite3"}
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, pos(db)) == (SERVER, ("settings.py", 3, 36))


def test_ternary_on_a_secret_takes_the_default_path(tmp_path: Path) -> None:
    settings = "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', " \
               "'NAME': os.environ['DB_FILE'] if 'DB_FILE' in os.environ else '/data/fallback.db'}}\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path, db.variable) == (SQLITE, "/data/fallback.db", None)
    assert pos(db) == ("settings.py", 2, 128)


def test_try_except_on_a_secret_merges(tmp_path: Path) -> None:
    settings = """\
    import os

    try:
        DB_NAME = os.environ["DB_NAME"]
    except KeyError:
        DB_NAME = "/data/app.db"
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_NAME}}
    """
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("settings.py", 3, 1)


def test_loop_that_changes_databases(tmp_path: Path) -> None:
    settings = STARTPROJECT + "\nfor alias in ('default',):\n    DATABASES[alias]['NAME'] = f'/data/{alias}.db'\n" \
                              "for db in DATABASES.values():\n    db['CONN_MAX_AGE'] = 60\n"
    db = one(app(tmp_path, settings))
    assert (db.kind, db.path) == (UNKNOWN, None)
    assert pos(db) == ("settings.py", 28, 1)


def test_split_settings_include(tmp_path: Path) -> None:
    init = """\
    from split_settings.tools import include, optional

    include(
        "components/base.py",
        "components/database.py",
        optional("local_settings.py"),
    )
    """
    database = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': BASE_DIR / 'db' / 'app.db'}}\n"
    root = app(tmp_path, init, settings_path="demo/settings/__init__.py", extra={
        "demo/settings/components/__init__.py": "",
        "demo/settings/components/base.py": "from pathlib import Path\nBASE_DIR = Path(__file__).parent.parent.parent\n",
        "demo/settings/components/database.py": database})
    db = one(root)
    # split-settings runs the components in the namespace of settings/__init__.py, whose __file__ it keeps
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/app/db/app.db", ("database.py", 1, 74))


# -- the corpus ---------------------------------------------------------------------------------------

@needs_shared(CORPUS)
def test_every_corpus_app_reads_without_error() -> None:
    tomls = sorted(p for p in CORPUS.rglob("*.toml") if p.name == "fly.toml" or p.name.startswith("fly."))
    assert tomls
    seen = 0
    for toml in tomls:
        app_, _findings = load_app(toml)
        if app_ is None:
            continue
        seen += 1
        for db in django.read(app_.context):
            assert db.framework == "django" and db.declared.span.line >= 1 and db.declared.span.column >= 1
            assert db.kind in (SQLITE, SERVER, UNKNOWN)
    assert seen > 100


# -- pieces -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "kind", "name"), [
    ("sqlite:///db.sqlite3", SQLITE, "db.sqlite3"),
    ("sqlite:////data/db.sqlite3", SQLITE, "/data/db.sqlite3"),
    ("sqlite://", SQLITE, ":memory:"),
    ("sqlite://:memory:", SQLITE, ":memory:"),
    ("sqlite://host/x.db", SQLITE, "x.db"),
    ("spatialite:////data/geo.db", SQLITE, "/data/geo.db"),
    ("postgres://u:p@db.internal:5432/app", SERVER, None),
    ("mysql://u@h/app", SERVER, None),
    ("libsql://x.turso.io", UNKNOWN, None),
])
def test_parse_db_url(url: str, kind: str, name: str | None) -> None:
    parsed = django.parse_db_url(url)
    assert (parsed.kind, parsed.name) == (kind, name)


def test_dev_modules() -> None:
    assert django.is_dev_module("config.settings.local") and django.is_dev_module("mysite.settings.dev")
    assert not django.is_dev_module("config.settings.production") and not django.is_dev_module("demo.settings")


def test_reader_never_raises_on_odd_settings(tmp_path: Path) -> None:
    odd = """\
    import os, sys
    from pathlib import Path
    X = [*range(3)]
    a, *b = 1, 2, 3
    DATABASES: dict = {}
    DATABASES |= {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x" * 3}}
    lambda: 1
    match sys.argv:
        case _:
            DATABASES = {}
    with open(os.devnull) as f:
        pass
    (y := 4)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "{}.db".format("prod")}}
    DATABASES["default"]["NAME"] = "%s/%s" % ("/data", DATABASES["default"]["NAME"])
    """
    db = one(app(tmp_path, odd))
    assert (db.kind, db.path) == (SQLITE, "/data/prod.db")
    assert pos(db) == ("settings.py", 15, 32)


def test_environment_is_not_touched(tmp_path: Path) -> None:
    before = dict(os.environ)
    found(app(tmp_path, "import os\nos.environ['DATABASE_URL'] = 'sqlite:////x.db'\n"), "django")
    assert dict(os.environ) == before


# -- environs, and local settings that may not be in the image -----------------------------------------

ENVIRONS = """\
from environs import Env

env = Env()
env.read_env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
DATABASES = {
    "default": env.dj_db_url(
        "DATABASE_URL",
        default="{default}",
    )
}
"""


def test_environs_with_a_server_default(tmp_path: Path) -> None:
    db = one(app(tmp_path, ENVIRONS.replace("{default}", "postgres://postgres@postgres/postgres")))
    assert (db.kind, pos(db)) == (SERVER, ("settings.py", 10, 17))
    assert "DATABASE_URL is not set in fly.toml [env] or the Dockerfile: the default of env.dj_db_url is used" in steps(db)


def test_environs_with_a_sqlite_default(tmp_path: Path) -> None:
    db = one(app(tmp_path, ENVIRONS.replace("{default}", "sqlite:///db.sqlite3")))
    assert (db.kind, db.path, pos(db)) == (UNKNOWN, None, ("settings.py", 10, 17))


def test_environs_reads_a_dotenv_in_the_build_context(tmp_path: Path) -> None:
    settings = ENVIRONS.replace("{default}", "postgres://localhost/app")
    db = one(app(tmp_path, settings, extra={"demo/.env": "export DATABASE_URL=sqlite:///dev.db\n"}))
    assert (db.kind, pos(db)) == (UNKNOWN, ("settings.py", 8, 16))
    assert db.unknown == "DATABASE_URL may be set in demo/.env, which the settings load with environs' read_env()"
    # fly.toml [env] wins over a .env file (read_env does not override the environment)
    fly = FLY_MOUNT + "\n[env]\n  DATABASE_URL = 'sqlite:////data/db.sqlite3'\n"
    db = one(app(tmp_path, settings, fly=fly))
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/db.sqlite3", ("fly.toml", 12, 18))


LOCAL_OVERRIDE = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': '/tmp/dev.sqlite3'}}\n"


def test_local_settings_kept_out_by_dockerignore(tmp_path: Path) -> None:
    root = wagtail(tmp_path, {"mysite/settings/local.py": LOCAL_OVERRIDE, ".dockerignore": ".git\n**/local.py\n"})
    db = one(root)
    assert (db.path, pos(db)) == ("/app/db.sqlite3", ("base.py", 11, 17))


def test_local_settings_not_copied(tmp_path: Path) -> None:
    dockerfile = ("FROM python:3.12\nWORKDIR /app\nCOPY manage.py requirements.txt ./\nCOPY mysite/__init__.py mysite/wsgi.py "
                  "mysite/\nCOPY mysite/settings/__init__.py mysite/settings/base.py mysite/settings/production.py "
                  "mysite/settings/\nCMD [\"gunicorn\", \"mysite.wsgi\"]\n")
    root = wagtail(tmp_path, {"mysite/settings/local.py": LOCAL_OVERRIDE, "Dockerfile": dockerfile})
    db = one(root)
    assert (db.path, pos(db)) == ("/app/db.sqlite3", ("base.py", 11, 17))


def test_local_settings_when_the_image_layout_is_unknown(tmp_path: Path) -> None:
    fly = FLY + '\n[build]\n  image = "registry.fly.io/demo:latest"\n'
    base = WAGTAIL_BASE.replace('os.path.join(BASE_DIR, "db.sqlite3")', '"/data/db.sqlite3"')
    root = wagtail(tmp_path, {"mysite/settings/local.py": LOCAL_OVERRIDE, "mysite/settings/base.py": base,
                              "fly.toml": fly})
    db = one(root)
    assert (db.kind, db.path) == (SQLITE, None)
    assert pos(db) == ("production.py", 6, 5)
    assert "depends on whether mysite/settings/local.py is in the image" in (db.unknown or "")
    # without the local file, the same app is known
    (root / "mysite/settings/local.py").unlink()
    db = one(root)
    assert (db.kind, db.path, pos(db)) == (SQLITE, "/data/db.sqlite3", ("base.py", 11, 17))
