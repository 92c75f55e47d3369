"""`flyconf fix` on Compose files: a named volume for the database, comments and layout kept, idempotent."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from flyconf.cli import main
from flyconf.generate.fix import apply, plan_fixes
from flyconf.lint import lint_paths
from tests.compose.helpers import NODE_DOCKERFILE
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import write_app

COMPOSE = """\
# Production set-up for notes.
services:
  web:
    build: .
    restart: unless-stopped
    environment:
      - DATABASE_URL=file:/app/data/notes.db   # Prisma reads it
    ports:
      - "3000:3000"

  # A queue worker on the same database.
  worker:
    build: .
    environment:
      DATABASE_URL: "file:/app/data/notes.db"
    volumes:
      - type: bind
        source: ./logs
        target: /app/logs

  proxy:
    image: caddy:2   # no database here
"""


def _fix(root: Path) -> list[str]:
    plan = plan_fixes([root])
    apply(plan)
    return plan.done + list(plan.declined)


def test_fix_adds_the_volume_keeps_the_layout_and_is_idempotent(tmp_path: Path):
    root = write_app(tmp_path, {"Dockerfile": NODE_DOCKERFILE})
    (root / "compose.yaml").write_text(COMPOSE)
    before = lint_paths([root], select=["FC41"])
    assert [(d.rule, d.line, d.column) for d in before] == [
        ("compose-sqlite-not-on-volume", 7, 9), ("compose-sqlite-not-on-volume", 15, 21)]
    done = _fix(root)
    assert len(done) == 2 and all("named volume `data`" in line for line in done)
    assert (root / "compose.yaml").read_text() == textwrap.dedent("""\
        # Production set-up for notes.
        services:
          web:
            build: .
            restart: unless-stopped
            environment:
              - DATABASE_URL=file:/app/data/notes.db   # Prisma reads it
            ports:
              - "3000:3000"
            volumes:
              - data:/app/data

          # A queue worker on the same database.
          worker:
            build: .
            environment:
              DATABASE_URL: "file:/app/data/notes.db"
            volumes:
              - type: bind
                source: ./logs
                target: /app/logs
              - type: volume
                source: data
                target: /app/data

          proxy:
            image: caddy:2   # no database here
        volumes:
          data:
        """)
    assert lint_paths([root], select=["FC41"]) == []
    text = (root / "compose.yaml").read_text()
    assert len(plan_fixes([root])) == 0 and (root / "compose.yaml").read_text() == text


def test_fix_keeps_crlf_and_a_suppressed_finding(tmp_path: Path):
    root = write_app(tmp_path, {"Dockerfile": NODE_DOCKERFILE})
    text = ("services:\r\n  web:\r\n    build: .\r\n    environment:\r\n"
            "      # flyconf: ignore[compose-sqlite-not-on-volume] a cache, rebuilt at start\r\n"
            "      CACHE_DB_PATH: /tmp/cache.sqlite\r\n      DB_PATH: /srv/db/app.db\r\n")
    (root / "docker-compose.yml").write_bytes(text.encode())
    _fix(root)
    new = (root / "docker-compose.yml").read_bytes().decode()
    assert "\n" not in new.replace("\r\n", "")
    assert "      - db:/srv/db\r\n" in new and new.endswith("volumes:\r\n  db:\r\n")
    assert "/tmp" not in new.split("DB_PATH")[-1]  # the suppressed cache got no volume


def test_fix_refuses_to_mount_over_the_images_files(tmp_path: Path):
    root = write_app(tmp_path, {
        "Dockerfile": NODE_DOCKERFILE,
        "prisma/schema.prisma": 'datasource db {\n  provider = "sqlite"\n  url = "file:./dev.db"\n}\n',
        "package.json": '{"dependencies": {"@prisma/client": "5"}}\n',
        "compose.yaml": "services:\n  web:\n    build: .\n  api:\n    build: .\n    environment:\n"
                        "      DB_PATH: /app/app.db\n",
    })
    original = (root / "compose.yaml").read_text()
    messages = _fix(root)
    assert (root / "compose.yaml").read_text() == original
    assert any("the image has files in /app/prisma (prisma/schema.prisma)" in m for m in messages)
    assert any("would hide the app's directory /app" in m for m in messages)


def test_fix_refuses_when_the_editor_would_rewrite_other_lines(tmp_path: Path):
    root = write_app(tmp_path, {"Dockerfile": NODE_DOCKERFILE})
    # Mixed sequence indentation: ruamel.yaml would re-indent one of the lists.
    text = "services:\n  web:\n    build: .\n    ports:\n    - 80:80\n    environment:\n      - DB_PATH=/data/a.db\n"
    (root / "compose.yaml").write_text(text)
    messages = _fix(root)
    assert (root / "compose.yaml").read_text() == text
    assert any("would also rewrite line" in m for m in messages)


def test_fix_cli_diff_writes_nothing(tmp_path: Path, capsys):
    root = write_app(tmp_path, {"Dockerfile": NODE_DOCKERFILE})
    (root / "compose.yaml").write_text("services:\n  web:\n    build: .\n    environment: [DB_PATH=/data/app.db]\n")
    assert main(["fix", "--diff", str(root)]) == 1  # changes pending (ruff's convention)
    out = capsys.readouterr().out
    assert "+    volumes:\n+      - data:/data\n" in out and "+volumes:\n+  data:\n" in out
    assert "volumes" not in (root / "compose.yaml").read_text()


@needs_shared(CORPUS)
def test_fix_on_corpus_copies_then_lint_is_clean(tmp_path: Path):
    """Every corpus Compose project: fix a copy, and the fixable findings are gone (or the fix says why not)."""
    from flyconf.rules.compose import COMPOSE_NOT_ON_VOLUME, COMPOSE_READ_ONLY

    fixable = {COMPOSE_NOT_ON_VOLUME.code, COMPOSE_READ_ONLY.code}
    roots = sorted({p.parent for p in CORPUS.rglob("*compose*.y*ml")})
    assert len(roots) > 40
    for i, src in enumerate(roots):
        dest = tmp_path / str(i)
        shutil.copytree(src, dest)
        before = [d for d in lint_paths([dest]) if d.code in fixable]
        plan = plan_fixes([dest])
        apply(plan)
        after = [d for d in lint_paths([dest]) if d.code in fixable]
        assert len(after) <= len(before) and (not after or plan.declined), (src, after)
        assert len(plan_fixes([dest])) == 0


def test_fix_leaves_what_the_configuration_ignores(tmp_path: Path):
    """`per-file-ignores` for the Compose file: lint reports nothing there, so fix changes nothing."""
    root = write_app(tmp_path, {"Dockerfile": NODE_DOCKERFILE})
    (root / "compose.yaml").write_text(COMPOSE)
    (root / "pyproject.toml").write_text('[tool.flyconf.per-file-ignores]\n"compose.yaml" = ["FC41"]\n')
    plan = plan_fixes([root], config=True)
    assert (len(plan), plan.done, plan.declined) == (0, [], ())
    assert len(plan_fixes([root])) == 1  # without the configuration, the same file is fixed


def test_fix_declines_a_compose_file_linked_from_outside_the_project(tmp_path: Path):
    root = write_app(tmp_path / "app", {"Dockerfile": NODE_DOCKERFILE})
    outside = tmp_path / "compose.yaml"
    outside.write_text(COMPOSE)
    (root / "compose.yaml").symlink_to(outside)
    plan = plan_fixes([root / "compose.yaml"])
    assert len(plan) == 0
    assert [line.split(": ", 2)[2] for line in plan.declined] == [
        f"/app/data/notes.db not moved onto a volume: {root}/compose.yaml is outside the project directory "
        f"{root.resolve()} (it resolves to {outside}, through a symbolic link): flyconf writes only inside it"] * 2
    assert outside.read_text() == COMPOSE
