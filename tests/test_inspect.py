"""`flyconf inspect`: the JSON shape (documented in README.md) and what it says about an app."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from flyconf.inspection import inspect_paths, render_text
from tests.conftest import CORPUS, REPO, needs_shared
from tests.databases.helpers import write_app

APP = {
    "fly.toml": """
        app = "notes"

        [deploy]
          release_command = "npx prisma migrate deploy"

        [env]
          DATABASE_URL = "file:/data/notes.db"
          CACHE_DB_PATH = "/tmp/cache.sqlite"

        [processes]
          web = "node server.js"
          proxy = "caddy run"

        [http_service]
          internal_port = 8080
          processes = ["web"]

        [[mounts]]
          source = "data"
          destination = "/data"
          processes = ["web"]
    """,
    "Dockerfile": """
        FROM node:20-slim
        WORKDIR /app
        COPY . .
        USER node
        CMD ["node", "server.js"]
    """,
}

# The documented shape: every key, at every level (README, "flyconf inspect").
TOP = {"version", "apps", "compose", "problems"}
APP_KEYS = {"config", "app", "build", "groups", "databases", "litefs", "litestream", "migrations", "notes"}
BUILD = {"context", "dockerfile", "remote_dockerfile", "image", "target", "stage", "user", "workdir"}
GROUP = {"name", "command", "command_from", "mounts", "serves", "runs_the_app"}
DATABASE = {"name", "framework", "reader", "kind", "path", "value", "declared", "resolved", "unknown", "variable",
            "relative", "base", "groups", "placement"}
PLACEMENT = {"verdict", "on_volume", "mounts", "missing_groups"}
MIGRATION = {"when", "command", "tool", "migration", "via", "at"}
LOCATION = {"path", "line", "column"}
# Compose projects (README, "flyconf inspect", `compose`).
PROJECT = {"files", "production", "volumes", "services", "notes"}
VOLUME = {"name", "external", "declared", "used_by"}
SERVICE = {"name", "declared", "image", "build", "working_dir", "read_only", "restart", "mounts", "environment",
           "databases", "notes"}
SERVICE_BUILD = {"context", "dockerfile", "target", "shared_from"}
MOUNT = {"type", "source", "target", "read_only", "from", "at"}
ENVIRONMENT = {"name", "value", "at", "origin"}


def test_json_shape_and_content(tmp_path: Path):
    root = write_app(tmp_path, APP)
    report = inspect_paths(root)
    assert set(report) == TOP and report["version"] == 1 and report["problems"] == []
    (app,) = report["apps"]
    assert set(app) == APP_KEYS
    assert set(app["build"]) == BUILD
    assert app["build"]["workdir"] == "/app" and app["build"]["user"] == "node"
    groups = {g["name"]: g for g in app["groups"]}
    assert all(set(g) == GROUP for g in groups.values())
    assert groups["web"]["command"] == ["node", "server.js"] and groups["web"]["command_from"] == "fly.toml [processes]"
    assert groups["web"]["mounts"] == [{"source": "data", "destination": "/data"}] and groups["web"]["serves"]
    assert not groups["proxy"]["runs_the_app"]  # caddy opens no app database
    dbs = {d["name"]: d for d in app["databases"]}
    assert all(set(d) == DATABASE for d in dbs.values())
    notes, cache = dbs["DATABASE_URL"], dbs["CACHE_DB_PATH"]
    assert notes["kind"] == "sqlite" and notes["path"] == "/data/notes.db"
    assert set(notes["declared"]) == LOCATION and (notes["declared"]["line"], notes["declared"]["column"]) == (7, 18)
    assert notes["groups"] == ["web"]
    assert set(notes["placement"]) == PLACEMENT
    assert notes["placement"] == {"verdict": "on-volume", "on_volume": True, "mounts": ["/data"], "missing_groups": []}
    assert cache["placement"]["verdict"] == "elsewhere" and not cache["placement"]["on_volume"]
    assert notes["resolved"][0]["step"].startswith("DATABASE_URL = ") and notes["resolved"][0]["at"]["line"] == 7
    (release,) = [m for m in app["migrations"] if m["when"] == "release"]
    assert set(release) == MIGRATION and release["tool"] == "prisma"
    assert (release["at"]["line"], release["at"]["column"]) == (4, 21)
    assert app["litefs"] is None and app["litestream"] is None


def test_text_output_and_cli(tmp_path: Path):
    root = write_app(tmp_path, APP)
    proc = subprocess.run([sys.executable, "-m", "flyconf", "inspect", str(root)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "DATABASE_URL" in out and "on-volume (/data)" in out and "release: prisma" in out
    assert re.search(r"declared at .*fly\.toml:7:18", out)
    proc = subprocess.run([sys.executable, "-m", "flyconf", "inspect", "--format", "json", str(root)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)["apps"][0]["app"] == "notes"


def test_missing_path_is_a_problem_not_a_traceback(tmp_path: Path):
    report = inspect_paths([tmp_path / "nope"])
    assert report["apps"] == [] and report["problems"][0]["problem"] == "file or directory not found"
    proc = subprocess.run([sys.executable, "-m", "flyconf", "inspect", str(tmp_path / "nope")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "not found" in proc.stdout and "Traceback" not in proc.stderr


def test_readme_documents_every_key():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### flyconf inspect"):]
    for key in (TOP | APP_KEYS | BUILD | GROUP | DATABASE | PLACEMENT | MIGRATION | PROJECT | VOLUME | SERVICE
                | SERVICE_BUILD | MOUNT | ENVIRONMENT):
        assert f"`{key}`" in section, key


@needs_shared(CORPUS)
def test_inspect_reads_the_whole_corpus():
    report = inspect_paths([CORPUS])
    assert len(report["apps"]) > 200
    json.dumps(report)  # everything is plain data


def test_a_finding_in_an_app_configuration_file_can_be_suppressed_there(tmp_path: Path):
    from flyconf import lint_paths

    files = {
        "fly.toml": 'app = "x"\n[env]\n  DATABASE_URL = "file:/data/app.db"\n[[mounts]]\n  source = "data"\n'
                    '  destination = "/data"\n',
        "Dockerfile": 'FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["node", "s.js"]\n',
        "litefs.yml": "fuse:\n  dir: /litefs\ndata:\n  dir: /var/lib/litefs\n"
                      "exec:\n  - cmd: npx prisma migrate deploy\n  - cmd: node s.js\n",
    }
    root = write_app(tmp_path, files)
    (root / "Dockerfile").write_text('FROM node:20\nWORKDIR /app\nCOPY litefs.yml /etc/litefs.yml\nCOPY . .\n'
                                     'ENTRYPOINT ["litefs", "mount"]\n')
    found = [(d.rule, d.line, d.column) for d in lint_paths([root]) if d.path.endswith("litefs.yml")]
    assert ("litefs-migration-on-replicas", 6, 10) in found and ("litefs-data-not-on-volume", 4, 8) in found
    text = files["litefs.yml"].replace("  - cmd: npx", "  # flyconf: ignore[litefs-migration-on-replicas] one node\n  - cmd: npx")
    text = text.replace("data:\n", "data:\n  # flyconf: ignore[litefs-data-not-on-volum]\n")
    (root / "litefs.yml").write_text(text)
    found = [(d.rule, d.line, d.column) for d in lint_paths([root]) if d.path.endswith("litefs.yml")]
    assert [f for f in found if f[0] == "litefs-migration-on-replicas"] == []
    assert ("invalid-suppression", 4, 21) in found and ("litefs-data-not-on-volume", 5, 8) in found


def test_compose_projects_json_shape_and_content(tmp_path: Path):
    root = write_app(tmp_path, {
        "compose.yaml": """
            services:
              web:
                build: .
                image: notes
                restart: always
                environment:
                  DATABASE_URL: file:/data/notes.db
                volumes:
                  - data:/data
              worker:
                image: notes
                read_only: true
                environment:
                  DATABASE_URL: file:/data/notes.db
            volumes:
              data:
        """,
        "Dockerfile": APP["Dockerfile"],
    })
    report = inspect_paths(root)
    assert set(report) == TOP and report["problems"] == []
    (project,) = report["compose"]
    assert set(project) == PROJECT and project["files"][0].endswith("compose.yaml")
    assert project["production"].startswith("service `web` has `restart: always`")
    (volume,) = project["volumes"]
    assert set(volume) == VOLUME and volume["used_by"] == ["web"] and (volume["declared"]["line"],
                                                                        volume["declared"]["column"]) == (16, 3)
    services = {s["name"]: s for s in project["services"]}
    assert all(set(s) == SERVICE for s in services.values())
    web, worker = services["web"], services["worker"]
    assert set(web["build"]) == SERVICE_BUILD and web["working_dir"] == "/app"
    assert worker["build"]["shared_from"] == "web" and worker["read_only"] is True
    (mount,) = web["mounts"]
    assert set(mount) == MOUNT and (mount["type"], mount["source"], mount["target"]) == ("volume", "data", "/data")
    (env,) = web["environment"]
    assert set(env) == ENVIRONMENT and (env["at"]["line"], env["at"]["column"]) == (7, 21)
    (db,) = web["databases"]
    assert set(db) == DATABASE and db["groups"] == ["web"]
    assert db["placement"] == {"verdict": "volume", "on_volume": True, "mounts": ["/data"], "missing_groups": []}
    (wdb,) = worker["databases"]  # the worker runs web's image, without the volume (and read-only)
    assert wdb["placement"] == {"verdict": "none", "on_volume": False, "mounts": [], "missing_groups": ["worker"]}
    text = render_text(report)
    assert "service worker: build " in text and "volume: none" in text
