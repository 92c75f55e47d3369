"""Where the wrapper goes in the ENTRYPOINT: after what is there, or first (behind an init) for an image whose
ENTRYPOINT switches users; and the command line that chooses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flyconf.generate.dockerfile_edit import EditError, add_entrypoint
from flyconf.sources.dockerfile import parse_dockerfile
from tests.conftest import REPO

W = "/usr/local/bin/fly-entrypoint"


def _start(text: str, *, first: bool = False) -> tuple[list[str], list[str] | None]:
    df = parse_dockerfile(text, "Dockerfile", None)
    edit = add_entrypoint(df, first=first)  # type: ignore[arg-type]
    eff = parse_dockerfile(edit.text, "Dockerfile", None).effective(None)  # type: ignore[union-attr]
    return eff.entrypoint.argv(strict=True), eff.cmd.argv(strict=True) if eff.cmd is not None else None


@pytest.mark.parametrize(
    ("entrypoint", "first", "expected"),
    [('["/app/bin/docker-entrypoint"]', False, ["/app/bin/docker-entrypoint", W]),
     ('["/app/bin/docker-entrypoint"]', True, [W, "/app/bin/docker-entrypoint"]),
     ('["tini", "--", "/app/bin/docker-entrypoint"]', True, ["tini", "--", W, "/app/bin/docker-entrypoint"]),
     ('["/sbin/tini", "-g", "--", "docker-entrypoint.sh"]', True,
      ["/sbin/tini", "-g", "--", W, "docker-entrypoint.sh"]),
     ('["dumb-init", "docker-entrypoint.sh"]', True, ["dumb-init", W, "docker-entrypoint.sh"]),
     ('["tini", "--"]', True, ["tini", "--", W])],
    ids=["after", "first", "first-behind-tini", "tini-with-options", "dumb-init", "only-an-init"],
)
def test_where_the_wrapper_goes(entrypoint: str, first: bool, expected: list[str]):
    argv, cmd = _start(f'FROM debian\nENTRYPOINT {entrypoint}\nCMD ["/app/bin/server"]\n', first=first)
    assert (argv, cmd) == (expected, ["/app/bin/server"])


def test_an_entrypoint_that_is_the_server_becomes_the_cmd_behind_its_init():
    assert _start('FROM node\nENTRYPOINT ["tini", "--", "node", "server.js"]\n') == (
        ["tini", "--", W], ["node", "server.js"])
    with pytest.raises(EditError, match="empty"):
        _start('FROM node\nENTRYPOINT ["tini", "--"]\n')


def _flyconf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyconf", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}, timeout=120)


def test_generate_chooses_chown_then_drop_for_a_root_image_that_switches_users(tmp_path: Path):
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "fixtures" / "apps" / "root-gosu", app)
    ep = _flyconf("generate", "entrypoint", "--migrate", "goose up", "-o", "-", cwd=app)
    assert ep.returncode == 0, ep.stderr
    assert "\nflyconf_run_as='app'\n" in ep.stdout and "flyconf_as_user" in ep.stdout
    assert "\nflyconf_default_databases='/data/db/notes.sqlite3:/data/db/cache.sqlite3'\n" in ep.stdout
    diff = _flyconf("generate", "dockerfile", "--diff", cwd=app)
    assert diff.returncode == 1, diff.stderr
    assert f'+ENTRYPOINT ["{W}", "/app/bin/docker-entrypoint"]' in diff.stdout
    # Explicit options win: --run-as alone is the plain chown-then-drop wrapper; the databases are as given.
    plain = _flyconf("generate", "entrypoint", "--migrate", "goose up", "--run-as", "app", "--database",
                     "/data/db/notes.sqlite3", "-o", "-", cwd=app)
    assert plain.returncode == 0, plain.stderr
    assert "flyconf_as_user" not in plain.stdout and "FLYCONF_DROPPED=1" in plain.stdout
    assert "\nflyconf_default_databases='/data/db/notes.sqlite3'\n" in plain.stdout
    bad = _flyconf("generate", "entrypoint", "--migrate", "m", "--server-drops-privileges", "-o", "-", cwd=app)
    assert bad.returncode == 2 and "needs --run-as" in bad.stderr


def test_generate_for_a_non_root_image_changes_no_owner(tmp_path: Path):
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "fixtures" / "apps" / "user-node", app)
    ep = _flyconf("generate", "entrypoint", "--migrate", "goose up", "-o", "-", cwd=app)
    assert ep.returncode == 0, ep.stderr
    assert "flyconf_run_as" not in ep.stdout
    diff = _flyconf("generate", "dockerfile", "--diff", cwd=app)
    assert f'+ENTRYPOINT ["{W}"]' in diff.stdout
