"""The built wheel, installed into a fresh virtual environment, works from another directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.skipif(not (REPO / "pyproject.toml").exists(), reason="needs the source tree"),
              pytest.mark.packaging]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (whl,) = out.glob("flyconf_lint-*.whl")  # the distribution is flyconf-lint; the package is flyconf
    return whl


def test_wheel_carries_schemas_templates_and_types(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    assert "flyconf/_data/schemas/fly.schema.json" in names
    assert any(n.startswith("flyconf/_data/templates/") and n.endswith(".j2") for n in names)
    assert "flyconf/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_is_flyconf_lint_under_mit_with_its_license(wheel: Path):
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    headers = archive.read(metadata).decode().split("\n\n", 1)[0].splitlines()
    assert "Name: flyconf-lint" in headers and "License-Expression: MIT" in headers
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    text = archive.read(license_file).decode()
    assert text.startswith("MIT License") and "flyconf developers" in text
    assert (REPO / "LICENSE").read_text() == text
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "flyconf = flyconf.cli:main" in archive.read(entry_points).decode()  # the command keeps its name


def test_installed_wheel_lints_from_another_directory(wheel: Path, tmp_path: Path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    proc = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "fly.toml").write_text('app = "x"\n[[mounts]]\nsource = "data"\ndestinaton = "/data"\n')
    (work / "Dockerfile").write_text("FROM node:20\nCMD npm start\n")  # the Dockerfile parser must be installed too
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    lint = subprocess.run([str(bindir / "flyconf"), "lint", "--format", "json"], cwd=work, capture_output=True,
                          text=True, env=env, timeout=120)
    assert lint.returncode == 1, lint.stderr
    findings = json.loads(lint.stdout)
    assert [(f["path"], f["rule"], f["line"], f["column"]) for f in findings] == [
        ("Dockerfile", "cmd-shell-form", 2, 1), ("fly.toml", "unknown-key", 4, 1)]
    gen = subprocess.run([str(bindir / "flyconf"), "generate", "entrypoint", "--volume", "/data", "--database",
                          "/data/app.db", "--migrate", "true", "-o", "-"], cwd=work, capture_output=True, text=True,
                         env=env, timeout=120)
    assert gen.returncode == 0, gen.stderr
    assert gen.stdout.startswith("#!/bin/sh") and "flyconf_default_databases='/data/app.db'" in gen.stdout
    where = subprocess.run([str(bindir / "python"), "-c", "import flyconf, sys; print(flyconf.__file__)"],
                           cwd=work, capture_output=True, text=True, env=env, check=True)
    assert str(venv) in where.stdout, "flyconf was imported from outside the fresh environment"
