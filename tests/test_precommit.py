"""The pre-commit hook, run by the real pre-commit against this repository."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml  # pre-commit depends on PyYAML

from tests.conftest import REPO
from tests.offline_pip import needs_build_backend, offline_env, offline_site  # noqa: F401

pytestmark = [
    pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit is not installed (test extra)"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(not (REPO / ".git").exists(), reason="the hook test needs a git checkout of flyconf"),
]


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_hook_files_pattern_matches_fly_files_and_dockerfiles():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    pattern = re.compile(hook["files"])
    for name in ["fly.toml", "deploy/fly.staging.toml", "fly-production.toml", "Dockerfile", "api/Dockerfile.prod",
                 "prod.Dockerfile", "Containerfile"]:
        assert pattern.search(name), name
    for name in ["pyproject.toml", "flyfly.toml", "docs/fly.md", "Dockerfile.md/x", "notfly.toml"]:
        assert not pattern.search(name), name
    assert hook["require_serial"] is True and hook["entry"] == "flyconf lint"


def _try_repo(project: Path, cache: Path, site: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo <this checkout> flyconf --files ...`, offline: pre-commit builds the hook's
    environment from the checkout with pip, which gets no index (see tests/offline_pip.py)."""
    env = offline_env(site)
    env["PRE_COMMIT_HOME"] = str(cache)
    return subprocess.run(
        ["pre-commit", "try-repo", str(REPO), "flyconf", "--verbose", "--files", *files],
        cwd=project, capture_output=True, text=True, env=env, timeout=900,
    )


@pytest.mark.packaging
@needs_build_backend
def test_try_repo_fails_on_a_bad_fly_toml_and_passes_on_a_good_one(tmp_path: Path, offline_site: Path):
    project = tmp_path / "app"
    project.mkdir()
    git("init", "-q", cwd=project)
    git("config", "user.email", "t@example.com", cwd=project)
    git("config", "user.name", "t", cwd=project)
    (project / "fly.toml").write_text('app = "x"\n[[mounts]]\nsource = "data"\ndestinaton = "/data"\n')
    (project / "README.md").write_text("hello\n")
    git("add", ".", cwd=project)
    cache = tmp_path / "cache"

    proc = _try_repo(project, cache, offline_site, "fly.toml", "README.md")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "fly.toml:4:1: error: FC101 [unknown-key] unknown key `destinaton`" in out

    (project / "fly.toml").write_text('app = "x"\n[[mounts]]\nsource = "data"\ndestination = "/data"\n')
    git("add", ".", cwd=project)
    proc = _try_repo(project, cache, offline_site, "fly.toml", "README.md")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^flyconf\.+Passed$", proc.stdout, re.M), proc.stdout

    # A Dockerfile on its own goes through the same hook.
    (project / "Dockerfile").write_text("FROM node:20\nCMD npm start\n")
    git("add", ".", cwd=project)
    proc = _try_repo(project, cache, offline_site, "Dockerfile")
    assert proc.returncode == 1 and "Dockerfile:2:1: warning: FC703 [cmd-shell-form]" in proc.stdout, proc.stdout


def test_hook_files_pattern_matches_compose_files():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    pattern = re.compile(hook["files"])
    for name in ["compose.yaml", "compose.yml", "docker-compose.yml", "deploy/docker-compose.yaml",
                 "compose.override.yaml", "docker-compose.override.yml", "docker-compose.prod.yml", "compose.dev.yaml"]:
        assert pattern.search(name), name
    for name in ["composer.json", "docker-compose.yml.example", "compose.json", "mycompose.yml", "docs/compose.md"]:
        assert not pattern.search(name), name
