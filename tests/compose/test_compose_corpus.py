"""The corpus's Compose files (their repositories' own) lint and inspect without a crash, and the findings that
reading them by hand confirmed are still found, at their positions."""

from __future__ import annotations

import json
from pathlib import Path

from flyconf.diagnostics import Diagnostic
from flyconf.inspection import inspect_paths
from flyconf.lint import run
from tests.conftest import CORPUS, needs_shared


def _compose_files() -> list[Path]:
    rows = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return sorted(CORPUS / r.split("\t")[0] for r in rows if r.split("\t")[5].split(",")[0] == "compose")


@needs_shared(CORPUS)
def test_every_corpus_compose_file_lints_without_a_crash():
    files = _compose_files()
    assert len(files) == 67
    for path in files:
        report = run([path])  # one at a time, as pre-commit passes them; an exception is the failure
        for d in report.diagnostics:
            assert isinstance(d, Diagnostic) and d.line >= 1 and d.column >= 1 and d.code.startswith("FC")
    report = run([CORPUS])
    linted = {Path(f).resolve() for f in report.files}
    # Every one in a directory search, but `docker-compose.yml.example` and names like `dev-compose.yml`,
    # which are Compose files only when named on the command line.
    missed = {p.name for p in files if p.resolve() not in linted}
    assert missed == {"docker-compose.yml.example", "dev-compose.yml", "indexer-compose.yml"}


@needs_shared(CORPUS)
def test_corpus_findings_read_by_hand():
    report = run([CORPUS], )
    got = sorted((d.path.replace("\\", "/").split("corpus/", 1)[-1], d.line, d.column, d.rule)
                 for d in report.diagnostics if d.code.startswith("FC41"))
    assert got == [
        # `dragonflydata` is declared; the service that used it is commented out.
        ("Accurate0__maccas-api/docker-compose.yml", 172, 3, "compose-volume-unused"),
        ("Accurate0__maccas-api@3dd7573/docker-compose.yml", 173, 3, "compose-volume-unused"),
        # DATABASE_URL (Dockerfile ENV) is /data/production.sqlite3, and /data is only the image's VOLUME.
        ("MohamedCuerci__meu_amigo_oculto/docker-compose.yml", 4, 3, "compose-sqlite-anonymous-volume"),
        # `volumes: data:` is declared, but the service bind-mounts ./data instead.
        ("asmello__amigo-oculto/docker-compose.yml", 19, 3, "compose-volume-unused"),
        ("asmello__amigo-oculto@625d142/docker-compose.yml", 19, 3, "compose-volume-unused"),
        ("asmello__amigo-oculto@d616dd8/docker-compose.yml", 19, 3, "compose-volume-unused"),
        # `logs:` is commented out under top-level volumes: `docker compose config` refuses the file.
        ("parkroad-fellowship__core/manifests/docker/docker-compose.yml", 22, 9, "compose-volume-undeclared"),
    ]


@needs_shared(CORPUS)
def test_inspect_reads_every_corpus_compose_project():
    report = inspect_paths(_compose_files())
    assert len(report["compose"]) > 50
    json.dumps(report)
