"""The command line: formats, exit codes, stdin, colour, bad input, and what it imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flyconf.cli import main

BAD = '[[mounts]]\n  source = "data"\n  destinaton = "/data"\n'
GOOD = 'app = "ok"\nprimary_region = "ams"\n[http_service]\n  internal_port = 8080\n'


def run_cli(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict | None = None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flyconf", *args], cwd=cwd, input=stdin, capture_output=True, env=full_env, timeout=60
    )


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "fly.toml").write_text(BAD)
    (tmp_path / "fly.staging.toml").write_text(GOOD)
    nested = tmp_path / "services" / "api"
    nested.mkdir(parents=True)
    (nested / "fly.toml").write_text('app = "api"\nkill_signal = "SIGFOO"\n')
    for skipped in ("node_modules/pkg", ".git", ".venv", "vendor/x"):
        (tmp_path / skipped).mkdir(parents=True)
        (tmp_path / skipped / "fly.toml").write_text("this is not toml [")
    (tmp_path / "odd-env").mkdir()
    (tmp_path / "odd-env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "odd-env" / "fly.toml").write_text("broken = ")
    return tmp_path


def test_text_output_shows_position_source_and_caret(app: Path, capsys):
    code = main(["lint", str(app / "fly.toml"), "--color", "never"])
    out = capsys.readouterr().out
    assert code == 1
    first = out.splitlines()[0]
    assert first.endswith(":3:3: error: FC101 [unknown-key] unknown key `destinaton` in `mounts[0]`; did you mean `destination`?")
    assert '3 |   destinaton = "/data"' in out
    assert "  |   ^^^^^^^^^^" in out
    assert "Found 1 problem (1 error) in 1 file." in out
    assert "\033[" not in out


def test_directory_search_finds_fly_files_and_skips_dependencies(app: Path):
    proc = run_cli("lint", "--format", "json", ".", cwd=app)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)
    assert sorted({f["path"] for f in findings}) == ["fly.toml", os.path.join("services", "api", "fly.toml")]
    assert [(f["path"], f["line"], f["column"], f["rule"]) for f in findings] == [
        ("fly.toml", 3, 3, "unknown-key"),
        (os.path.join("services", "api", "fly.toml"), 2, 15, "invalid-value"),
    ]


def test_json_has_exactly_the_documented_keys(app: Path, capsys):
    main(["lint", "--format", "json", str(app / "fly.toml")])
    (finding,) = json.loads(capsys.readouterr().out)
    assert set(finding) == {"path", "line", "column", "end_line", "end_column", "code", "rule", "severity", "message", "hint",
                            "url"}
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) == (3, 3, 3, 13)
    assert finding["severity"] == "error" and finding["hint"] is None


def test_exit_codes_and_fail_on(tmp_path: Path, capsys):
    (tmp_path / "fly.toml").write_text('app = "x"\n[experimental]\nprivate_network = true\n')  # one warning
    assert main(["lint", str(tmp_path)]) == 1
    assert main(["lint", "--fail-on", "error", str(tmp_path)]) == 0
    assert main(["lint", "--fail-on", "info", str(tmp_path)]) == 1
    assert main(["lint", "--exit-zero", str(tmp_path)]) == 0
    (tmp_path / "fly.toml").write_text(GOOD)
    assert main(["lint", str(tmp_path)]) == 0
    assert "No problems found in 1 file." in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    assert run_cli("lint", "--format", "yaml").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    assert main(["lint", "--select", "no-such-rule", "."]) == 2
    assert "unknown rule or code: no-such-rule" in capsys.readouterr().err


def test_missing_path_is_a_finding_not_a_traceback(tmp_path: Path):
    proc = run_cli("lint", "--format", "json", str(tmp_path / "nope" / "fly.toml"))
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    (f,) = json.loads(proc.stdout)
    assert (f["rule"], f["code"], f["line"], f["column"]) == ("io-error", "FC001", 1, 1)
    assert "not found" in f["message"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can read any file")
def test_unreadable_file_is_a_finding(tmp_path: Path):  # pragma: no cover - only as non-root
    target = tmp_path / "fly.toml"
    target.write_text(GOOD)
    target.chmod(0)
    proc = run_cli("lint", "--format", "json", str(target))
    (f,) = json.loads(proc.stdout)
    assert f["rule"] == "io-error" and "permission" in f["message"]


def test_a_directory_named_like_a_file_is_reported(tmp_path: Path):
    (tmp_path / "weird.toml").mkdir()
    proc = run_cli("lint", "--format", "json", str(tmp_path / "weird.toml"))
    assert proc.returncode == 0 and json.loads(proc.stdout) == []  # a directory is searched, and holds nothing


def test_stdin_with_filename(tmp_path: Path):
    proc = run_cli("lint", "-", "--stdin-filename", "deploy/fly.toml", "--format", "json", stdin=BAD.encode())
    assert proc.returncode == 1
    (f,) = json.loads(proc.stdout)
    assert (f["path"], f["line"], f["column"]) == ("deploy/fly.toml", 3, 3)


def test_stdin_binary_is_a_syntax_finding():
    proc = run_cli("lint", "-", "--format", "json", stdin=b"\x00\x01\x02")
    (f,) = json.loads(proc.stdout)
    assert (f["rule"], f["path"], f["line"], f["column"]) == ("toml-syntax", "fly.toml", 1, 1)


def test_colour_only_when_asked_or_on_a_terminal_and_never_with_no_color(app: Path, capsys):
    main(["lint", str(app / "fly.toml"), "--color", "always"])
    assert "\033[" in capsys.readouterr().out
    proc = run_cli("lint", str(app / "fly.toml"))  # a pipe is not a terminal
    assert b"\033[" not in proc.stdout
    proc = run_cli("lint", "--color", "auto", str(app / "fly.toml"), env={"NO_COLOR": "1"})
    assert b"\033[" not in proc.stdout


def test_select_and_ignore(tmp_path: Path, capsys):
    (tmp_path / "fly.toml").write_text('kill_signal = "SIGFOO"\n' + BAD)
    main(["lint", "--format", "json", "--select", "FC101", str(tmp_path)])
    assert [f["rule"] for f in json.loads(capsys.readouterr().out)] == ["unknown-key"]
    main(["lint", "--format", "json", "--ignore", "unknown-key", str(tmp_path)])
    assert [f["rule"] for f in json.loads(capsys.readouterr().out)] == ["invalid-value"]
    main(["lint", "--format", "json", "--select", "FC1", str(tmp_path)])
    assert sorted(f["rule"] for f in json.loads(capsys.readouterr().out)) == ["invalid-value", "unknown-key"]


def test_output_file_is_written(tmp_path: Path, app: Path):
    out = tmp_path / "report.json"
    assert main(["lint", "--format", "json", "-o", str(out), str(app / "fly.toml")]) == 1
    assert json.loads(out.read_text())[0]["rule"] == "unknown-key"


def test_statistics(app: Path, capsys):
    main(["lint", "--statistics", str(app)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [["1", "FC101", "error", "unknown-key"], ["1", "FC103", "error", "invalid-value"]]


def test_github_format(app: Path, capsys):
    main(["lint", "--format", "github", str(app / "fly.toml")])
    out = capsys.readouterr().out
    assert out.startswith("::error file=")
    assert ",line=3,col=3,endLine=3,endColumn=13,title=FC101 unknown-key::unknown key" in out


def test_version_is_fast_and_imports_nothing_heavy():
    code = "import sys; from flyconf.cli import main; main(['--version']); print(sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema','jinja2','tomllib','tomli')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version_line, modules = proc.stdout.splitlines()
    assert version_line.startswith("flyconf 0.")
    assert modules == "[]"


def test_lint_never_imports_jinja(app: Path):
    code = (
        "import sys; from flyconf.cli import main; rc = main(['lint', '--format', 'json', sys.argv[1]]);"
        "print('JINJA' if 'jinja2' in sys.modules else 'NOJINJA', file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(app)], capture_output=True, text=True)
    assert proc.stderr.strip().endswith("NOJINJA")


def test_python_dash_m_and_console_script_agree(app: Path):
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.decode().startswith("flyconf ")


def test_rules_lists_every_rule_and_explains_one(capsys):
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    for code, name in [("FC001", "io-error"), ("FC002", "toml-syntax"), ("FC101", "unknown-key"),
                       ("FC102", "invalid-type"), ("FC103", "invalid-value"), ("FC104", "ignored-key")]:
        assert any(line.startswith(f"{code}  {name} ") for line in listing.splitlines()), code
    assert main(["rules", "unknown-key"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("FC101 unknown-key (error, warning)") and "Bad:" in text and "Good:" in text
    assert main(["rules", "FC999"]) == 2


def test_rules_json(capsys):
    main(["rules", "--format", "json"])
    rules = json.loads(capsys.readouterr().out)
    codes = [r["code"] for r in rules]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    names = [r["name"] for r in rules]
    assert len(set(names)) == len(names)
    # Every rule explains itself with a bad and a good example (issue 3).
    assert [r["code"] for r in rules if not (r["explanation"] and r["summary"] and r["bad"] and r["good"])] == []
    for rule in ("release-command-sqlite", "sqlite-not-on-volume", "build-time-migration", "entrypoint-no-exec",
                 "migration-skipped", "invalid-suppression", "duration-unit", "secret-in-env"):
        assert rule in names


def test_internal_error_is_one_line_without_traceback(monkeypatch, capsys, app: Path):
    import flyconf.lint

    def boom(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(flyconf.lint, "run", boom)
    assert main(["lint", str(app)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "flyconf: internal error: RuntimeError: simulated bug (run with --debug for a traceback)"
    with pytest.raises(RuntimeError):
        main(["lint", "--debug", str(app)])


def test_sarif_output_is_valid_sarif_2_1_0(app: Path, capsys):
    """The official SARIF 2.1.0 schema accepts the output; rules carry metadata; columns are real."""
    import jsonschema

    from tests.conftest import PEER

    schema_path = PEER / "sarif" / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip(f"{schema_path} is absent (the shared corpus ships beside the repo)")
    assert main(["lint", "--format", "sarif", str(app)]) == 1
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, json.loads(schema_path.read_text()))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert all(r["shortDescription"]["text"] and r["help"]["text"] for r in rules)
    results = run["results"]
    first = results[0]
    assert rules[first["ruleIndex"]]["id"] == first["ruleId"]
    region = first["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 3)
    assert all("flyconf/v1" in r["partialFingerprints"] for r in results)


# -- issue 10: conventions of the command line ------------------------------------------------------

def test_text_and_concise_show_the_severity(tmp_path: Path, capsys):
    (tmp_path / "fly.toml").write_text('kill_timeout = 5\n[experimental]\nprivate_network = true\n' + BAD)
    expected = [
        "fly.toml:1:16: info: FC505 [duration-unit]",
        "fly.toml:3:1: warning: FC104 [ignored-key]",
        "fly.toml:6:3: error: FC101 [unknown-key] unknown key `destinaton`",
    ]
    for fmt in ("text", "concise"):
        main(["lint", "--format", fmt, "--color", "never", str(tmp_path / "fly.toml")])
        heads = [line.split(os.sep)[-1] for line in capsys.readouterr().out.splitlines() if ": FC" in line]
        assert len(heads) == len(expected), heads
        for head, start in zip(heads, expected, strict=True):
            assert head.startswith(start), (fmt, head)


def test_statistics_follow_the_format(app: Path, capsys):
    assert main(["lint", "--statistics", "--format", "json", str(app)]) == 1
    stats = json.loads(capsys.readouterr().out)
    assert stats == {
        "total": 2,
        "fixable": 0,
        "rules": [
            {"code": "FC101", "rule": "unknown-key", "severity": "error", "count": 1, "fixable": 0},
            {"code": "FC103", "rule": "invalid-value", "severity": "error", "count": 1, "fixable": 0},
        ],
    }
    assert main(["lint", "--statistics", "--format", "concise", str(app)]) == 1
    assert capsys.readouterr().out.split("\n")[0].split() == ["1", "FC101", "error", "unknown-key"]
    assert main(["lint", "--statistics", "--format", "sarif", str(app)]) == 2
    assert "--statistics prints text or json" in capsys.readouterr().err


def test_generate_without_a_subcommand_prints_its_help_and_exits_2():
    proc = run_cli("generate")
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert err.startswith("usage: flyconf generate") and "entrypoint" in err and "dockerfile" in err


def test_stdin_filename_alone_reads_standard_input():
    proc = run_cli("lint", "--stdin-filename", "deploy/fly.toml", "--format", "json", stdin=BAD.encode())
    assert proc.returncode == 1, proc.stderr
    (f,) = json.loads(proc.stdout)
    assert (f["path"], f["line"], f["column"], f["rule"]) == ("deploy/fly.toml", 3, 3, "unknown-key")
    proc = run_cli("lint", "--stdin-filename", "fly.toml", "fly.toml", stdin=BAD.encode())
    assert proc.returncode == 2 and b"cannot be combined" in proc.stderr


APPS = Path(__file__).resolve().parent / "fixtures" / "apps"


@pytest.mark.parametrize("name", ["fly.toml", "Dockerfile"])
@pytest.mark.parametrize("app_name", sorted(p.name for p in APPS.iterdir()))
def test_stdin_filename_beside_real_files_equals_linting_the_file_on_disk(tmp_path: Path, app_name: str, name: str):
    """Cross-file findings (the Dockerfile of a fly.toml, the fly.toml of a Dockerfile) are the same either way."""
    import shutil

    shutil.copytree(APPS / app_name, tmp_path / app_name)
    rel = os.path.join(app_name, name)
    on_disk = run_cli("lint", "--format", "json", "--exit-zero", rel, cwd=tmp_path)
    piped = run_cli("lint", "--format", "json", "--exit-zero", "--stdin-filename", rel, cwd=tmp_path,
                    stdin=(tmp_path / rel).read_bytes())
    assert on_disk.returncode == piped.returncode == 0, piped.stderr
    disk_findings, piped_findings = json.loads(on_disk.stdout), json.loads(piped.stdout)
    assert piped_findings == disk_findings
    if name == "fly.toml" and app_name != "django-sqlite":
        # The files beside it really took part: alone, the same text says something else (rails-sqlite: the
        # Dockerfile's own finding; node-prisma: the database is Prisma's, read from schema.prisma).
        alone = run_cli("lint", "--format", "json", "--exit-zero", "-", "--stdin-filename", "fly.toml",
                        cwd=tmp_path, stdin=(tmp_path / rel).read_bytes())
        assert [(f["rule"], f["line"], f["column"]) for f in json.loads(alone.stdout)] != \
            [(f["rule"], f["line"], f["column"]) for f in piped_findings] or \
            [f["message"] for f in json.loads(alone.stdout)] != [f["message"] for f in piped_findings]
    # The text piped in is what is linted, not the file on disk.
    (tmp_path / rel).write_text("")
    again = run_cli("lint", "--format", "json", "--exit-zero", "--stdin-filename", rel, cwd=tmp_path,
                    stdin=(APPS / app_name / name).read_bytes())
    assert json.loads(again.stdout) == disk_findings
