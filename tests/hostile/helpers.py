"""What the three hostile-input suites of issue 13 share: the invariants every input must keep, the ways of
running flyconf (in-process, and in a subprocess with a time and memory limit), the corpus, and mutations.

The suites: ``test_fuzz.py`` (Hypothesis), ``test_hostile_inputs.py`` (one case per hostile file or file
system), ``test_fix_real_apps.py`` (``flyconf fix`` on the corpus apps it has something to fix in).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, seed, settings

from tests.conftest import CORPUS, PEER, REPO

# -- how many examples -------------------------------------------------------------------------------------------
# CI runs each property a bounded number of times, always the same examples (derandomized, no example database),
# so that a run fails or passes the same way every time. A long fuzzing run:
#   FLYCONF_FUZZ_EXAMPLES=100000 python -m pytest tests/hostile/test_fuzz.py -x
# (random examples, every property at that count, failures shrunk to a minimal example).
T = TypeVar("T")
FUZZ_EXAMPLES = int(os.environ.get("FLYCONF_FUZZ_EXAMPLES", "0") or 0)


def examples(ci: int) -> Callable[[T], T]:
    """Hypothesis settings for a property: ``ci`` examples in CI, ``FLYCONF_FUZZ_EXAMPLES`` when that is set.

    CI draws from a fixed seed (not from a digest of the test's source, as ``derandomize`` does), so that editing
    the file does not change which examples run, and does not shrink a failing example (the xfail cases would
    spend most of the suite's time on it): the failure it prints is reproducible as it is. The long run draws
    fresh examples and shrinks them.
    """
    long_run = FUZZ_EXAMPLES > 0
    chosen = settings(
        max_examples=FUZZ_EXAMPLES if long_run else ci,
        phases=tuple(Phase) if long_run else (Phase.explicit, Phase.reuse, Phase.generate),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=long_run,
    )

    def apply(test: T) -> T:
        test = chosen(test)
        return test if long_run else seed(13)(test)
    return apply


# -- the line model: TOML, BuildKit and sh break lines at "\n" only ---------------------------------------------

@functools.lru_cache(maxsize=16)  # asked once per finding: 40,000 findings on one 1 MB file
def lines_of(text: str) -> tuple[str, ...]:
    """The file's lines as its own language sees them (a final "\n" opens an empty last line)."""
    return tuple(text.split("\n"))


def text_of(data: bytes) -> str:
    """Bytes as flyconf places findings in them: UTF-8 without its BOM, each bad byte one character."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def outside(finding: Mapping[str, Any], text: str) -> str | None:
    """Why a finding (a JSON finding, or a Diagnostic's fields) is not inside ``text``; None when it is."""
    lines = lines_of(text)
    line, column = finding["line"], finding["column"]
    if not (isinstance(line, int) and 1 <= line <= len(lines)):
        return f"line {line} of a file of {len(lines)} lines"
    if not (isinstance(column, int) and 1 <= column <= len(lines[line - 1]) + 1):
        return f"column {column} of line {line}, which has {len(lines[line - 1])} characters"
    end_line, end_column = finding.get("end_line"), finding.get("end_column")
    if end_line is not None and not (line <= end_line <= len(lines)):
        return f"end line {end_line} (start {line}) of a file of {len(lines)} lines"
    if end_column is not None and not 1 <= end_column <= len(lines[(end_line or line) - 1]) + 1:
        return f"end column {end_column} of line {end_line or line}"
    return None


def as_dict(d: Any) -> dict[str, Any]:
    return d if isinstance(d, dict) else d.to_dict()


def assert_inside(findings: Iterable[Any], texts: Mapping[str, str]) -> None:
    """Every finding on a file in ``texts`` (path -> text) lies inside that file."""
    for f in map(as_dict, findings):
        assert f["code"].startswith("FC"), f
        if f["path"] in texts:
            why = outside(f, texts[f["path"]])
            assert why is None, f"{f['path']}:{f['line']}:{f['column']} {f['code']} lies outside the file: {why}"


# -- the command line --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def cli(argv: Sequence[str], stdin: bytes = b"") -> Outcome:
    """``flyconf.cli.main(argv)`` in this process, with its own standard streams."""
    from flyconf.cli import main

    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    sys.stdin, sys.stdout, sys.stderr = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"), out, err
    try:
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return Outcome(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def inside(directory: Path) -> Iterator[None]:
    """Run the block in ``directory`` (the command line and reports use paths relative to it)."""
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)


MEMORY_LIMIT = 1536 * 1024 * 1024
OUTPUT_LIMIT = 1024 * 1024


def limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _limit_memory_and_permissions() -> None:
    """As root, permission bits bind only without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: drop them from the
    bounding set, so that the program run next has them nowhere (an unreadable directory is then unreadable)."""
    limit_memory()
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            libc.prctl(24, capability, 0, 0, 0)  # PR_CAPBSET_DROP


def flyconf(args: Sequence[str], cwd: Path, *, timeout: float = 60, stdin: bytes = b"",
            as_user: bool = False) -> Outcome:
    """``python -m flyconf ARGS`` in ``cwd`` with a wall-time and an address-space limit (this tree's code).

    The limits catch hangs and blow-ups; they do not measure speed, so they are generous. ``as_user``: file
    permissions apply even when the tests run as root.
    """
    return python(["-m", "flyconf", *args], cwd, timeout=timeout, stdin=stdin, as_user=as_user)


def python(args: Sequence[str], cwd: Path, *, timeout: float = 60, stdin: bytes = b"",
           as_user: bool = False) -> Outcome:
    """This interpreter with ``args`` (and this tree's code), limited as :func:`flyconf` says."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "PYTHONFAULTHANDLER": "1"}
    try:
        done = subprocess.run([sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout,
                              env=env, preexec_fn=_limit_memory_and_permissions if as_user else limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"python {' '.join(args)[:200]} did not finish in {timeout} s")
    return Outcome(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def check_outcome(o: Outcome, *, output_limit: int = OUTPUT_LIMIT) -> None:
    """What every run of flyconf must keep: an exit code of 0, 1 or 2, no traceback, no internal error, and an
    output of bounded size (a MemoryError or a signal shows as another exit code)."""
    assert o.code in (0, 1, 2), f"exit code {o.code}; stderr: {o.err[-2000:]}"
    for stream in (o.out, o.err):
        assert "Traceback (most recent call last)" not in stream, stream[-3000:]
        assert "internal error" not in stream, stream[-2000:]
        assert "Fatal Python error" not in stream, stream[-2000:]
    assert len(o.out) + len(o.err) <= output_limit, f"{len(o.out) + len(o.err)} characters of output"


def findings_of(o: Outcome, fmt: str) -> list[dict[str, Any]]:
    """The findings of a `--format json` or `--format sarif` run, as JSON findings; the document must parse."""
    doc = json.loads(o.out)
    if fmt == "json":
        assert isinstance(doc, list)
        return doc
    assert fmt == "sarif"
    found = []
    for result in doc["runs"][0]["results"]:
        location = result["locations"][0]["physicalLocation"]
        region = location["region"]
        found.append({"path": location["artifactLocation"]["uri"], "code": result["ruleId"],
                      "line": region["startLine"], "column": region.get("startColumn", 1),
                      "end_line": region.get("endLine"), "end_column": region.get("endColumn")})
    return found


@functools.cache
def sarif_schema() -> dict[str, Any] | None:
    path = PEER / "sarif" / "sarif-schema-2.1.0.json"
    return json.loads(path.read_text()) if path.is_file() else None


def validate_sarif(out: str) -> None:
    """The SARIF log validates against the official 2.1.0 schema (when ../shared/peer is there)."""
    schema = sarif_schema()
    if schema is not None:
        import jsonschema

        jsonschema.validate(json.loads(out), schema)


# -- the corpus --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CorpusFile:
    path: Path  # relative to the corpus
    kind: str  # the first tag: fly-toml, dockerfile, entrypoint, compose, ...


@functools.cache
def corpus_files() -> tuple[CorpusFile, ...]:
    """The corpus's files from MANIFEST.tsv; none when ../shared is absent."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return ()
    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return tuple(CorpusFile(Path(r["local_path"]), r["tags"].split(",")[0]) for r in rows
                 if (CORPUS / r["local_path"]).is_file())


def corpus_of(kind: str) -> list[CorpusFile]:
    return [f for f in corpus_files() if f.kind == kind]


def copy_app(app: str, into: Path) -> Path:
    """A corpus app (its folder, as laid out upstream) copied into ``into``; links stay links."""
    dst = into / app.replace("@", "_")
    shutil.copytree(CORPUS / app, dst, symlinks=True)
    return dst


@dataclass(frozen=True)
class Entry:
    """A file as it stands: its bytes and permission bits, or where it links to."""

    content: bytes | None
    mode: int
    link: str | None = None


def snapshot(directory: Path) -> dict[str, Entry]:
    """Every file and link below ``directory``: what a run must not change, or changes."""
    found = {}
    for path in sorted(directory.rglob("*")):
        rel = str(path.relative_to(directory))
        if path.is_symlink():
            found[rel] = Entry(None, 0, os.readlink(path))
        elif path.is_file():
            found[rel] = Entry(path.read_bytes(), path.stat().st_mode & 0o7777)
    return found


# -- mutations ---------------------------------------------------------------------------------------------------

# Characters that some line models break at and others do not, or that must never reach a terminal raw.
ODD_CHARACTERS = ("\r", "\r\n", "\f", "\v", "\x85", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e", "\x00", "\x1b",
                  "\x1b[2J", "\ufeff", "\t", "\\", '"', "'", "\n", "{", "${", "²", "\u0800", "\U0001f600")
