"""The pre-commit hook, run by the real pre-commit against this repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml  # pre-commit depends on PyYAML

from tests.conftest import REPO

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


def test_pre_commit_runs_the_hook(tmp_path: Path):
    project = tmp_path / "app"
    project.mkdir()
    git("init", "-q", cwd=project)
    git("config", "user.email", "t@example.com", cwd=project)
    git("config", "user.name", "t", cwd=project)
    (project / "fly.toml").write_text('app = "x"\n[[mounts]]\nsource = "data"\ndestinaton = "/data"\n')
    (project / "README.md").write_text("hello\n")
    git("add", ".", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    proc = subprocess.run(
        ["pre-commit", "try-repo", str(REPO), "flyconf", "--all-files"],
        cwd=project, capture_output=True, text=True, env=env, timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "fly.toml:4:1: error: FC101 [unknown-key] unknown key `destinaton`" in out

    (project / "fly.toml").write_text('app = "x"\n[[mounts]]\nsource = "data"\ndestination = "/data"\n')
    git("add", ".", cwd=project)
    proc = subprocess.run(
        ["pre-commit", "try-repo", str(REPO), "flyconf", "--all-files"],
        cwd=project, capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
