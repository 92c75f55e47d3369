"""Reading Compose files: positions, interpolation, `.env` format, volumes, merging, project grouping."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyconf.assemble import Workspace
from flyconf.compose.interpolate import interpolate, parse_env_file
from flyconf.compose.lint import load_units
from flyconf.compose.names import is_compose_name, is_fragment
from flyconf.compose.project import ANONYMOUS, BIND, TMPFS, VOLUME, group_projects
from flyconf.sources.base import ReadFailure
from flyconf.sources.compose import ComposeFile, parse_compose
from tests.databases.helpers import write_app


def test_nodes_keep_line_and_column_through_anchors_and_merge_keys():
    doc = parse_compose("x-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n    image: a\n", "c.yml")
    assert isinstance(doc, ComposeFile)
    web = doc.root.get("services").get("web")
    assert web.get("image").span.line == 6 and web.get("image").span.column == 12
    restart = web.get("restart")  # merged from the anchor: its position is where it is written
    assert (restart.text, restart.span.line, restart.span.column) == ("always", 2, 12)
    assert web.key_span("restart").line == 2


def test_yaml_errors_become_read_failures_with_positions():
    failure = parse_compose("services:\n  web: [a\n", "c.yml")
    assert isinstance(failure, ReadFailure) and failure.line == 3
    tab = parse_compose("services:\n\tweb: {}\n", "c.yml")
    assert isinstance(tab, ReadFailure) and (tab.line, tab.column) == (2, 1)


def test_tags_nulls_and_several_documents():
    doc = parse_compose("services:\n  a:\n    ports: !reset []\n    image:\n---\nvolumes:\n  v:\n", "c.yml")
    assert isinstance(doc, ComposeFile) and len(doc.documents) == 2
    a = doc.root.get("services").get("a")
    assert a.get("ports").tag == "!reset" and a.get("image").value is None


@pytest.mark.parametrize("text,env,value", [
    ("${A}", {"A": "1"}, "1"),
    ("$A/x", {"A": "/d"}, "/d/x"),
    ("${A:-/data}/db", {}, "/data/db"),
    ("${A:-/data}/db", {"A": ""}, "/data/db"),
    ("${A-/data}/db", {"A": ""}, "/db"),
    ("${A:-${B:-/b}}", {}, "/b"),
    ("${A:+on}", {"A": "x"}, "on"),
    ("$$HOME", {}, "$HOME"),
    ("price: 5$", {}, "price: 5$"),
    ("${A}", {}, None),
    ("${A:?set A}", {}, None),
    ("x${A", {}, "x${A"),
])
def test_interpolation(text: str, env: dict[str, str], value: str | None):
    assert interpolate(text, env).value == value


def test_env_file_format():
    text = ("# comment\n\nexport A=1\nB = two words # comment\nC='$A literal'\nD=\"x\\ty $A\"\nE=${A}/e\nF\n"
            "G=#not-a-comment\nH=\"multi\nline\"\n")
    lines = {e.name: e for e in parse_env_file(text)}
    assert set(lines) == {"A", "B", "C", "D", "E", "G", "H"}  # `F` alone comes from the environment: unknown
    assert lines["A"].value == "1" and (lines["A"].line, lines["A"].column) == (3, 10)
    assert lines["B"].value == "two words" and lines["C"].value == "$A literal"
    assert lines["D"].value == "x\ty 1" and lines["E"].value == "1/e" and lines["G"].value == "#not-a-comment"
    assert lines["H"].value == "multi\nline"


def test_file_names():
    for name in ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml", "compose.override.yml",
                 "docker-compose.prod.yml", "compose.dev.yaml"):
        assert is_compose_name(name), name
    for name in ("composer.json", "docker-compose.yml.example", "dev-compose.yml", "litefs.yml", "compose.json"):
        assert not is_compose_name(name), name
    assert is_compose_name("dev-compose.yml", explicit=True) and is_compose_name("indexer-compose.yml", explicit=True)
    assert is_fragment("docker-compose.override.yml") and is_fragment("compose.prod.override.yaml")
    assert not is_fragment("docker-compose.prod.yml")


def test_projects_group_as_compose_loads_them(tmp_path: Path):
    write_app(tmp_path, {n: "services: {}\n" for n in (
        "compose.yaml", "docker-compose.yml", "compose.override.yaml", "docker-compose.prod.yml",
        "lone/docker-compose.override.yml")})
    paths = sorted(p for p in tmp_path.rglob("*.y*ml"))
    projects, fragments = group_projects(paths)
    names = sorted(tuple(p.name for p in group) for group in projects)
    # compose.yaml wins over docker-compose.yml (which is then a project of its own, as `-f` would load it).
    assert names == [("compose.yaml", "compose.override.yaml"), ("docker-compose.prod.yml",), ("docker-compose.yml",)]
    assert [p.relative_to(tmp_path).as_posix() for p in fragments] == ["lone/docker-compose.override.yml"]


def _service(tmp_path: Path, files: dict[str, str], name: str = "web"):
    write_app(tmp_path, files)
    units, findings = load_units(sorted(tmp_path.glob("*compose*.y*ml")), Workspace())
    assert not [f for f in findings if f.code == "FC410"], findings
    (unit,) = units
    return unit, {sa.name: sa for sa in unit.services}[name].service


def test_short_and_long_volume_syntax_and_tmpfs(tmp_path: Path):
    _unit, web = _service(tmp_path, {"compose.yaml": """
        services:
          web:
            image: app
            volumes:
              - data:/data
              - ./uploads:/app/uploads:ro
              - /cache
              - ~/x:/x
              - C:\\\\host:/win
              - type: volume
                target: /anon
              - type: bind
                source: ../shared
                target: /shared
                read_only: true
            tmpfs:
              - /run:size=1m
        volumes:
          data:
    """})
    got = [(m.type, m.source, m.target, m.read_only) for m in web.mounts]
    assert got == [
        (VOLUME, "data", "/data", False), (BIND, "./uploads", "/app/uploads", True), (ANONYMOUS, None, "/cache", False),
        (BIND, "~/x", "/x", False), (BIND, "C:\\\\host", "/win", False), (ANONYMOUS, None, "/anon", False),
        (BIND, "../shared", "/shared", True), (TMPFS, None, "/run", False),
    ]
    assert (web.mounts[0].at.span.line, web.mounts[0].at.span.column) == (5, 9)
    assert web.mounts[1].host == tmp_path / "uploads" and web.mounts[3].host is None


def test_merge_environment_by_name_and_volumes_by_target(tmp_path: Path):
    unit, web = _service(tmp_path, {
        "compose.yaml": """
            services:
              web:
                image: app
                environment:
                  - A=base
                  - B=base
                volumes:
                  - one:/data
                  - /keep
        """,
        "compose.override.yaml": """
            services:
              web:
                environment:
                  B: override
                  C: new
                volumes:
                  - two:/data
        """,
    })
    assert {k: v.value for k, v in web.env.items()} == {"A": "base", "B": "override", "C": "new"}
    assert web.env["B"].at.doc.display_path.endswith("compose.override.yaml") and (web.env["B"].at.span.line, web.env["B"].at.span.column) == (4, 10)
    assert [(m.source, m.target) for m in web.mounts] == [("two", "/data"), (None, "/keep")]
    assert [f.display_path.rsplit("/", 1)[-1] for f in unit.project.files] == ["compose.yaml", "compose.override.yaml"]


def test_environment_without_value_comes_from_dotenv_only(tmp_path: Path):
    _unit, web = _service(tmp_path, {
        "compose.yaml": "services:\n  web:\n    image: app\n    environment:\n      - FROM_DOTENV\n      - FROM_SHELL\n"
                        "      EMPTY: ''\n".replace("      EMPTY: ''\n", ""),
        ".env": "FROM_DOTENV=/data/x.db\n",
    })
    assert {k: v.value for k, v in web.env.items()} == {"FROM_DOTENV": "/data/x.db"}
    assert not web.env_complete  # FROM_SHELL is not known


def test_build_forms(tmp_path: Path):
    unit, web = _service(tmp_path, {"compose.yaml": """
        services:
          web:
            build: ./api
          worker:
            build:
              context: .
              dockerfile: deploy/Dockerfile.worker
              target: runtime
          remote:
            build: https://github.com/o/r.git#main
    """})
    services = {sa.name: sa.service for sa in unit.services}
    assert web.build.context == tmp_path / "api" and web.build.dockerfile == tmp_path / "api" / "Dockerfile"
    worker = services["worker"].build
    assert worker.dockerfile == tmp_path / "deploy" / "Dockerfile.worker" and worker.target == "runtime"
    assert services["remote"].build.context is None
