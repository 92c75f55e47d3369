"""`[*]` promises exactly what `flyconf fix` does.

For every app here (the corpus, the fixture apps, and small apps where fix must decline): lint it, plan the
fixes, apply them, lint again. The findings lint marks `[*]` must be exactly those the plan says it fixes, each
must be gone afterwards, every other finding of the rules fix owns must still be there, no finding of any rule
may appear, and a second fix changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from flyconf.generate.fix import FIX_CODES, FindingRef, apply, plan_fixes
from flyconf.lint import run
from tests.conftest import CORPUS, REPO

APPS = REPO / "tests" / "fixtures" / "apps"

DOCKERFILE = 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n'
PRISMA = 'app = "x"\n[deploy]\n  release_command = "npx prisma migrate deploy"\n'


def check_agreement(app: Path) -> tuple[set[FindingRef], list[str]]:
    """Lint, fix and lint again in ``app``; returns the findings marked [*] and the reasons fix gave for the
    findings of its rules that it left."""
    cwd = os.getcwd()
    os.chdir(app)
    try:
        before = run(["."]).diagnostics
        marked = {FindingRef.of(d) for d in before if d.fixable}
        assert all(d.code in FIX_CODES for d in before if d.fixable)
        plan = plan_fixes(".")
        assert plan.fixed == marked, f"lint marks {sorted(map(str, marked))}, fix fixes {sorted(map(str, plan.fixed))}"
        owned = [d for d in before if d.code in FIX_CODES]
        assert {FindingRef.of(left.finding) for left in plan.left} == {FindingRef.of(d) for d in owned} - marked
        apply(plan)
        after = run(["."]).diagnostics
        kept = Counter((d.code, d.path, _unplaced(d.message)) for d in owned if FindingRef.of(d) not in marked)
        assert Counter((d.code, d.path, _unplaced(d.message)) for d in after if d.code in FIX_CODES) == kept
        assert not any(d.fixable for d in after)
        new = Counter((d.code, d.path) for d in after) - Counter((d.code, d.path) for d in before)
        assert not new, f"fix made new findings: {dict(new)}"
        assert len(plan_fixes(".")) == 0, "a second fix changed something"
        return marked, [left.reason for left in plan.left if left.reason]
    finally:
        os.chdir(cwd)


def _unplaced(message: str) -> str:
    """A message without the positions it quotes (`declared at fly.toml:8:18`): edits above move them."""
    return re.sub(r":\d+:\d+\b", ":L:C", message)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is absent (the shared corpus ships beside the repo)")
def test_lint_and_fix_agree_on_every_corpus_app(tmp_path: Path):
    fixed_total = 0
    apps = sorted(p for p in CORPUS.iterdir() if p.is_dir())
    assert len(apps) > 200
    for src in apps:
        marked, _ = check_agreement(_copy(src, tmp_path / src.name))
        fixed_total += len(marked)
    assert fixed_total >= 5  # the corpus has real fixable bugs (9 today): the test is not vacuous


@pytest.mark.parametrize("name", sorted(p.name for p in APPS.iterdir() if p.is_dir()))
def test_lint_and_fix_agree_on_the_fixture_apps(tmp_path: Path, name: str):
    marked, reasons = check_agreement(_copy(APPS / name, tmp_path / name))
    assert any(ref.code == "FC401" for ref in marked)
    assert reasons == []


def _app(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


DECLINES = {
    "foreign-wrapper": ({"fly.toml": PRISMA + '[env]\n  DATABASE_URL = "file:/data/app.db"\n'
                                     '[[mounts]]\n  source = "data"\n  destination = "/data"\n',
                         "Dockerfile": DOCKERFILE, "bin/fly-entrypoint": "#!/bin/sh\nexec \"$@\"\n"},
                        "bin/fly-entrypoint exists and was not written by flyconf"),
    "prebuilt-image": ({"fly.toml": PRISMA + '[build]\n  image = "registry.example/app:1"\n'
                                    '[env]\n  DATABASE_URL = "file:/data/app.db"\n'
                                    '[[mounts]]\n  source = "data"\n  destination = "/data"\n'},
                       "no Dockerfile to start the wrapper from"),
    "two-volumes-unknown-database": ({"fly.toml": PRISMA + '[env]\n  DATABASE_URL = "file:./dev.db"\n'
                                                 '[[mounts]]\n  source = "a"\n  destination = "/a"\n'
                                                 '[[mounts]]\n  source = "b"\n  destination = "/b"\n',
                                      "Dockerfile": 'FROM node:20-slim\nCOPY . /srv\nCMD ["node", "/srv/server.js"]\n'},
                                     "mounts volumes at /a, /b and which one holds the database is not known"),
    "different-commands": ({"fly.toml": PRISMA + '[env]\n  DATABASE_URL = "file:/data/app.db"\n'
                                        '[[mounts]]\n  source = "data"\n  destination = "/data"\n',
                            "fly.staging.toml": 'app = "y"\n[deploy]\n  release_command = "npx prisma db push"\n'
                                                '[env]\n  DATABASE_URL = "file:/data/app.db"\n'
                                                '[[mounts]]\n  source = "data"\n  destination = "/data"\n',
                            "Dockerfile": DOCKERFILE},
                           "migrate with different commands"),
    "litefs": ({"fly.toml": PRISMA + '[env]\n  DATABASE_URL = "file:/litefs/app.db"\n'
                                     '[[mounts]]\n  source = "litefs"\n  destination = "/var/lib/litefs"\n',
                "litefs.yml": 'fuse:\n  dir: "/litefs"\ndata:\n  dir: "/var/lib/litefs"\nexec:\n  - cmd: "node server.js"\n',
                "Dockerfile": 'FROM node:20-slim\nCOPY litefs.yml /etc/litefs.yml\nENTRYPOINT ["litefs", "mount"]\n'},
               "the app runs LiteFS"),
}


@pytest.mark.parametrize("case", sorted(DECLINES))
def test_where_fix_declines_lint_promises_nothing_and_fix_says_why(tmp_path: Path, case: str):
    files, reason = DECLINES[case]
    app = _app(tmp_path / case, files)
    marked, reasons = check_agreement(app)
    assert marked == set()
    assert any(reason in r for r in reasons), reasons
    # Only options that exist are offered: `fix` has no --volume (or any other) flag to pass.
    assert not any("--" in r for r in reasons), reasons


def test_fix_command_line_reports_what_it_left(tmp_path: Path):
    app = _app(tmp_path / "app", DECLINES["two-volumes-unknown-database"][0])
    proc = subprocess.run([sys.executable, "-m", "flyconf", "fix"], cwd=app, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1
    assert proc.stderr == (
        "not fixed: fly.toml:3:21: FC401 [release-command-sqlite] release_command not moved: fly.toml mounts "
        "volumes at /a, /b and which one holds the database is not known\n")
    generate = subprocess.run([sys.executable, "-m", "flyconf", "generate", "entrypoint", "--preset", "prisma",
                               "-o", "-"], cwd=app, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    # generate has the flag, so it offers it.
    assert generate.returncode == 2 and "pass --volume to choose one" in generate.stderr


@pytest.mark.parametrize("args", [["fix", "no-such-dir"], ["fix", "--diff", "no/such/fly.toml"],
                                  ["generate", "entrypoint", "--config", "nope.toml", "--preset", "rails"],
                                  ["generate", "dockerfile", "no-such-Dockerfile"],
                                  ["generate", "dockerfile", "--config", "nope/fly.toml"]])
def test_fix_and_generate_on_a_missing_path_exit_2_with_a_message(tmp_path: Path, args: list[str]):
    proc = subprocess.run([sys.executable, "-m", "flyconf", *args], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("flyconf: error: ") and "no such file" in proc.stderr
    assert "nothing to fix" not in proc.stderr and "Traceback" not in proc.stderr


def test_rails_8_app_gets_one_wrapper_for_its_four_databases(tmp_path: Path):
    """Rails 8 keeps primary, cache, queue and cable databases in storage/: fix moves all four onto the volume and
    the wrapper prepares and backs up each (FLYCONF_DATABASES), migrating with the primary first."""
    from tests.databases.helpers import write_app
    from tests.test_discovery_rules import RAILS8

    files = dict(RAILS8)
    files["fly.toml"] = files["fly.toml"].replace('primary_region = "iad"',
                                                  'primary_region = "iad"\n        [deploy]\n'
                                                  '          release_command = "./bin/rails db:migrate"')
    root = write_app(tmp_path, files)
    marked, reasons = check_agreement(root)
    assert sorted((ref.code, Path(ref.path).name, ref.line, ref.column) for ref in marked) == [
        ("FC401", "fly.toml", 4, 21), ("FC402", "database.yml", 13, 15), ("FC402", "database.yml", 16, 15),
        ("FC402", "database.yml", 20, 15), ("FC402", "database.yml", 24, 15)]
    assert reasons == []
    script = (root / "bin" / "fly-entrypoint").read_text()
    assert ("\nflyconf_default_databases='/data/production.sqlite3:/data/production_cache.sqlite3:"
            "/data/production_queue.sqlite3:/data/production_cable.sqlite3'\n") in script
    assert "\nFLYCONF_MIGRATE='./bin/rails db:migrate'\n" in script


def test_configs_sharing_the_wrapper_get_the_settings_that_differ(tmp_path: Path):
    """Groups that differ reach the wrapper through FLYCONF_MIGRATE_GROUPS; a fly.toml of the directory that
    deploys the same image with no SQLite database gets FLYCONF_SKIP_MIGRATIONS (the wrapper would otherwise
    stop its Machines: no volume there)."""
    import tomllib

    root = _app(tmp_path / "app", {
        "fly.toml": PRISMA + '[env]\n  DATABASE_URL = "file:/data/app.db"\n'
                             '[processes]\n  web = "node server.js"\n  worker = "node worker.js"\n'
                             '[[mounts]]\n  source = "data"\n  destination = "/data"\n  processes = ["web"]\n',
        "fly.eu.toml": PRISMA + '[env]\n  DATABASE_URL = "file:/data/app.db"\n'
                                '[[mounts]]\n  source = "data"\n  destination = "/data"\n',
        "fly.preview.toml": 'app = "preview"\n[env]\n  DATABASE_URL = "postgres://db.internal/app"\n',
        "Dockerfile": DOCKERFILE,
    })
    marked, reasons = check_agreement(root)
    assert sorted((Path(ref.path).name, ref.line, ref.column) for ref in marked) == [
        ("fly.eu.toml", 3, 21), ("fly.toml", 3, 21)]
    env = {name: tomllib.loads((root / name).read_text()).get("env", {})
           for name in ("fly.toml", "fly.eu.toml", "fly.preview.toml")}
    assert env["fly.toml"]["FLYCONF_MIGRATE_GROUPS"] == "web" and env["fly.eu.toml"]["FLYCONF_MIGRATE_GROUPS"] == "*"
    assert "FLYCONF_VOLUME" not in env["fly.toml"]  # the same everywhere: the script's default is enough
    assert env["fly.preview.toml"] == {"DATABASE_URL": "postgres://db.internal/app", "FLYCONF_SKIP_MIGRATIONS": "1"}
    script = (root / "bin" / "fly-entrypoint").read_text()
    assert "\nflyconf_default_groups='web'\n" in script  # fly.toml's, the first
