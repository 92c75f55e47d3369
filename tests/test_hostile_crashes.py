"""Issue 13: hostile values never crash flyconf; one file's failure never costs the others; every report
is a valid document, and text output cannot be forged or recoloured by what the files contain."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from flyconf import registry
from flyconf.cli import main
from flyconf.lint import lint_paths, lint_text
from flyconf.report import render
from flyconf.units import ascii_int, duration_nanoseconds, parse_duration
from tests.conftest import PEER

APPS = Path(__file__).resolve().parent / "fixtures" / "apps"


def found(text: str, filename: str = "fly.toml") -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in lint_text(text, filename)]


# -- numbers: inf, nan, huge ------------------------------------------------------------------------------

DURATION_KEYS = [
    # (the fly.toml before the value, the key, line and column of the value)
    ('app = "x"\n', "kill_timeout", 2),
    ('app = "x"\n[experimental]\n', "kill_timeout", 3),
    ('app = "x"\n[deploy]\n', "wait_timeout", 3),
    ('app = "x"\n[deploy]\n', "release_command_timeout", 3),
    ('app = "x"\n[http_service]\ninternal_port = 8080\n[[http_service.checks]]\n', "interval", 5),
    ('app = "x"\n[http_service]\ninternal_port = 8080\n[[http_service.checks]]\n', "timeout", 5),
    ('app = "x"\n[http_service]\ninternal_port = 8080\n[[http_service.checks]]\n', "grace_period", 5),
    ('app = "x"\n[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.tcp_checks]]\n', "interval", 6),
    ('app = "x"\n[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n[[services.http_checks]]\n', "timeout", 6),
    ('app = "x"\n[checks.up]\ntype = "http"\nport = 8080\npath = "/"\n', "grace_period", 6),
    ('app = "x"\n[[machine_checks]]\nimage = "curl"\n', "kill_timeout", 4),
]


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300"])
@pytest.mark.parametrize(("before", "key", "line"), DURATION_KEYS, ids=lambda v: v if isinstance(v, str) else None)
def test_a_duration_that_is_not_finite_is_an_invalid_value(before: str, key: str, line: int, value: str):
    """On main `kill_timeout = inf` raised OverflowError and `nan` ValueError (units.duration_seconds)."""
    diags = lint_text(f"{before}{key} = {value}\n")
    hits = [d for d in diags if d.code == "FC103"]
    assert [(d.line, d.column) for d in hits] == [(line, len(key) + 4)]
    assert "is not a duration" in hits[0].message and "int64" in hits[0].message
    assert not [d for d in diags if d.code in ("FC505", "FC506", "FC507")], diags


def test_a_duration_string_beyond_an_int64_of_nanoseconds_fails_to_load():
    """On main a 400-digit duration was a float infinity, and format_duration raised ValueError."""
    for key, before, line in (("kill_timeout", "", 2), ("wait_timeout", "[deploy]\n", 3),
                              ("interval", '[http_service]\ninternal_port = 8080\n[[http_service.checks]]\n', 5)):
        diags = lint_text(f'app = "x"\n{before}{key} = "{"9" * 400}s"\n')
        hits = [d for d in diags if d.code == "FC103"]
        assert [(d.line, d.column) for d in hits] == [(line, len(key) + 4)], diags
        assert "longer than the longest Go duration" in hits[0].message
        assert len(hits[0].message) < 300  # the value is shortened, not quoted whole


def test_go_duration_limits():
    # time.Duration is an int64 of nanoseconds: the largest is 2562047h47m16.854775807s.
    assert duration_nanoseconds("2562047h47m16.854775807s") == 2**63 - 1
    assert duration_nanoseconds("2562047h47m16.854775808s") == "out of range"
    assert duration_nanoseconds("-2562047h47m16.854775808s") == -(2**63)
    assert duration_nanoseconds("9223372036854775807ns") == 2**63 - 1
    assert duration_nanoseconds("9223372036854775808ns") == "out of range"
    assert duration_nanoseconds("1" + "0" * 5000 + "s") == "out of range"  # never int() of 5000 digits
    assert duration_nanoseconds("1.5s") == 1_500_000_000
    assert duration_nanoseconds(".5ms") == 500_000 and duration_nanoseconds("1.s") == 10**9
    assert duration_nanoseconds("1h2m3s4ms5us6µs7ns") == 3723004011007
    for bad in ("", "+", ".", "s", "1", "1sm", "1d", "٣s", "1.5", "- 1s", "1s "):
        assert duration_nanoseconds(bad) == ("invalid" if bad.strip() not in ("1s",) else 10**9), bad
    assert parse_duration("0") == 0.0 and parse_duration("-0") == 0.0 and parse_duration("1m30s") == 90.0
    assert parse_duration("٣s") is None  # Go reads ASCII digits only


def test_kill_timeout_negative_and_too_long_still_reported():
    assert found('app = "x"\nkill_timeout = "-5s"\n') == [("FC506", 2, 16)]
    assert lint_text('app = "x"\nkill_timeout = "-5s"\n')[0].message == "kill_timeout -5s is negative"
    assert found('app = "x"\nkill_timeout = "2562047h47m16.854775807s"\n') == [("FC506", 2, 16)]


@pytest.mark.parametrize(("section", "key", "value", "code"), [
    ("[[mounts]]\nsource = \"d\"\ndestination = \"/d\"\n", "initial_size", "inf", "FC206"),
    ("[[mounts]]\nsource = \"d\"\ndestination = \"/d\"\n", "initial_size", "nan", "FC206"),
    ("[[vm]]\n", "memory", "nan", "FC103"),
    ("[[vm]]\n", "memory", "-inf", "FC103"),
])
def test_a_size_that_is_not_finite_is_not_a_size(section: str, key: str, value: str, code: str):
    text = f'app = "x"\n{section}{key} = {value}\n'
    line = text.count("\n")
    assert (code, line, len(key) + 4) in found(text)


@pytest.mark.parametrize(("section", "key", "code"), [
    ("[[mounts]]\nsource = \"d\"\ndestination = \"/d\"\n", "initial_size", "FC206"),
    ("[[vm]]\n", "memory", "FC103"),
])
def test_a_size_string_of_thousands_of_digits_is_out_of_range(section: str, key: str, code: str):
    """On main units.flyctl_size called int() on 5000 digits: ValueError."""
    diags = lint_text(f'app = "x"\n{section}{key} = "{"9" * 5000}"\n')
    hits = [d for d in diags if d.code == code]
    assert [(d.line, d.column) for d in hits] == [(section.count("\n") + 2, len(key) + 4)]
    assert "value out of range" in hits[0].message


@pytest.mark.parametrize("text,line,column", [
    ('app = "x"\nkill_timeout = ' + "9" * 4400 + "\n", 2, 16),
    ('app = "x"\n[env]\nA = "' + "1" * 5000 + '"\nB = [1, 2,\n  -' + "9" * 4400 + "]\n", 5, 3),
    ('app = "x"\nswap_size_mb = 9223372036854775808\n', 2, 16),
    ('app = "x"\nswap_size_mb = -9223372036854775809\n', 2, 16),
    ('app = "x"\n[[mounts]]\nsource = "d"\ndestination = "/d"\ninitial_size = 99999999999999999999\n', 5, 16),
])
def test_an_integer_toml_cannot_hold_is_a_toml_error_at_the_integer(text: str, line: int, column: int):
    """On main tomllib's ValueError (over 4300 digits, not a TOMLDecodeError) escaped lint_text; an integer
    over an int64, which TOML and flyctl's go-toml refuse, loaded."""
    diags = lint_text(text)
    assert [(d.code, d.line, d.column) for d in diags] == [("FC002", line, column)]
    assert diags[0].message == "invalid TOML: integer does not fit in a 64-bit signed integer"


def test_the_largest_integers_still_load():
    text = 'app = "x"\nswap_size_mb = 9223372036854775807\n[env]\nA = -9223372036854775808\n'
    assert not [c for c, _, _ in found(text) if c == "FC002"]


# -- digits: only ASCII ones are numbers ------------------------------------------------------------------

def test_ascii_int():
    assert ascii_int("8080") == 8080 and ascii_int("007") == 7 and ascii_int("0") == 0
    for text in ("²", "٣", "12²", "", " 1", "+1", "-1", "1_000", "1.0", "0x10"):
        assert ascii_int(text) is None, text
    assert ascii_int("9" * 5000) is None and ascii_int("0" * 5000 + "1") == 1


@pytest.mark.parametrize("text,expected", [
    ('app = "x"\n[http_service]\ninternal_port = "²"\n', [("FC102", 3, 17)]),
    ('app = "x"\n[[services]]\ninternal_port = "²"\nprotocol = "tcp"\n', [("FC501", 2, 3), ("FC103", 3, 17)]),
    ('app = "x"\n[[services]]\ninternal_port = "٣"\nprotocol = "tcp"\n', [("FC501", 2, 3), ("FC103", 3, 17)]),
])
def test_a_port_that_isdigit_but_is_not_a_number(text: str, expected: list[tuple[str, int, int]]):
    """On main `internal_port = "²"` raised ValueError in services._as_port (str.isdigit accepts it)."""
    assert found(text) == expected


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("port", ["²", "٣", "9" * 5000])
def test_port_env_and_expose_that_are_not_numbers(tmp_path: Path, port: str):
    """On main `[env] PORT = "²"` raised ValueError in dockerfile._listening_port."""
    _write(tmp_path, {
        "fly.toml": f'app = "x"\n[env]\nPORT = "{port}"\n[http_service]\ninternal_port = 8080\n',
        "Dockerfile": f'FROM node:20\nENV PORT={port}\nEXPOSE {port}\nCMD ["node", "--port={port}", "server.js"]\n',
    })
    diags = lint_paths(tmp_path)
    assert [d.code for d in diags if d.code in ("FC004", "FC711")] == []  # no crash, and no port mismatch


@pytest.mark.parametrize("stage", ["²", "1" * 5000])
def test_a_stage_index_that_is_not_a_number(stage: str):
    """On main `FROM ²` after a stage raised ValueError in Dockerfile.stage_named (str.isdigit, then int)."""
    assert found(f'FROM alpine AS a\nFROM {stage}\nCMD ["x"]\n', "Dockerfile") == []
    assert found(f'FROM alpine AS a\nFROM alpine\nCOPY --from={stage} /a /b\nCMD ["x"]\n', "Dockerfile") == []


@pytest.mark.parametrize("reader,text", [
    ("phoenix", "config :x, X.Repo, pool_size: ²\n"),
    ("laravel", "<?php return ['x' => ²];\n"),
    ("rake", "x = ²\n"),
])
def test_framework_tokenizers_take_only_ascii_digits_as_numbers(reader: str, text: str):
    """On main "²" (isdigit, but no \\d) failed the tokenizers' `assert m is not None`."""
    from flyconf.databases import laravel, phoenix, rake

    tokenize = {"phoenix": phoenix.tokenize, "laravel": laravel.php_tokens, "rake": rake.tokens}[reader]
    toks = tokenize(text)
    assert "num" not in [t.kind for t in toks]
    assert any("²" in t.text for t in toks)


def test_composer_constraint_with_a_huge_number():
    from flyconf.databases.laravel import _major

    assert _major("^11.9") == 11 and _major("^" + "1" * 5000) is None  # main: ValueError (int of 5000 digits)


def test_script_numbers_are_read_as_the_shell_reads_them():
    from flyconf.rules.gates import Evaluator, _posix_test, _shell_int

    assert _shell_int(" 12 ") == 12 and _shell_int("-3") == -3 and _shell_int("+3") == 3
    for text in ("1_0", "٣", "²", "", "1.0", "9223372036854775808", "9" * 5000):
        assert _shell_int(text) is None, text
    assert _shell_int("-9223372036854775808") == -(2**63)
    assert _posix_test(["1_0", "-eq", "10"]) is False  # main: True (Python's int("1_0") is 10)
    assert _posix_test(["10", "-eq", "10"]) is True
    assert Evaluator(["a"], bash=False)._param("${" + "1" * 5000 + "}") == ""  # main: ValueError


# -- one failing file never costs the others (FC004) -----------------------------------------------------

@pytest.fixture
def failing_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that raises for any app whose fly.toml sets `app = "boom"`, as a bug in a rule would."""
    def boom(app: Any) -> Iterator[Any]:
        if app.data.get("app") == "boom":
            raise ValueError("simulated bug\nwith a second line")
        return iter(())

    monkeypatch.setitem(registry._CHECKS, "app", [*registry.checks("app"), boom])


BAD_KEY = 'app = "{name}"\n[[mounts]]\nsource = "data"\ndestinaton = "/data"\n'


def test_a_failing_check_is_an_internal_error_on_its_file_only(tmp_path: Path, failing_check: None):
    _write(tmp_path, {"a/fly.toml": BAD_KEY.format(name="fine"), "b/fly.toml": BAD_KEY.format(name="boom")})
    diags = lint_paths(tmp_path)
    got = sorted((Path(d.path).parent.name, d.code, d.line, d.column) for d in diags)
    # a's findings are intact; b keeps the findings of its other checks, and FC004 is at 1:1 of b/fly.toml.
    assert ("a", "FC101", 4, 1) in got and ("b", "FC101", 4, 1) in got
    assert [g for g in got if g[1] == "FC004"] == [("b", "FC004", 1, 1)]
    assert [g[1:] for g in got if g[0] == "a"] == [g[1:] for g in got if g[0] == "b" and g[1] != "FC004"]
    (internal,) = [d for d in diags if d.code == "FC004"]
    assert internal.rule == "internal-error" and internal.severity.value == "error"
    assert "ValueError: simulated bug" in internal.message


def test_a_failing_check_in_lint_text_keeps_the_other_findings(failing_check: None):
    assert found(BAD_KEY.format(name="boom")) == [("FC004", 1, 1), ("FC101", 4, 1)]


def test_a_failing_read_is_an_internal_error_on_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from flyconf import assemble

    load = assemble.Workspace.load

    def failing_load(self: Any, path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.parent.name == "b":
            raise RuntimeError("cannot read")
        return load(self, path, *args, **kwargs)

    monkeypatch.setattr(assemble.Workspace, "load", failing_load)
    _write(tmp_path, {"a/fly.toml": BAD_KEY.format(name="x"), "b/fly.toml": BAD_KEY.format(name="y"),
                      "c/Dockerfile": "FROM alpine\n", "b/Dockerfile": "FROM alpine\n"})
    got = sorted((Path(d.path).relative_to(tmp_path).as_posix(), d.code, d.line, d.column)
                 for d in lint_paths(tmp_path))
    assert ("a/fly.toml", "FC101", 4, 1) in got
    assert [g for g in got if g[1] == "FC004"] == [("b/Dockerfile", "FC004", 1, 1), ("b/fly.toml", "FC004", 1, 1)]


def test_the_command_line_reports_the_internal_error_and_fails(tmp_path: Path, failing_check: None, capsys):
    _write(tmp_path, {"a/fly.toml": BAD_KEY.format(name="fine"), "b/fly.toml": BAD_KEY.format(name="boom")})
    assert main(["lint", "--format", "json", "--isolated", str(tmp_path)]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert {(Path(f["path"]).parent.name, f["code"]) for f in findings} >= {("a", "FC101"), ("b", "FC004")}
    assert main(["lint", "--format", "concise", "--isolated", "--select", "FC004", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len([line for line in out if "FC004" in line]) == 1  # the exception's newline is escaped
    assert out[0].endswith(":1:1: error: FC004 [internal-error] flyconf failed while checking this file "
                           "(ValueError: simulated bug\\nwith a second line); its findings may be incomplete")
    assert main(["lint", "--exit-zero", "--isolated", str(tmp_path)]) == 0
    with pytest.raises(ValueError, match="simulated bug"):  # --debug: the traceback, not a finding
        main(["lint", "--debug", "--isolated", str(tmp_path)])


def test_fix_leaves_an_app_whose_check_failed_alone(tmp_path: Path, failing_check: None, capsys):
    from flyconf.generate.fix import plan_fixes

    for name in ("a", "b"):
        shutil.copytree(APPS / "two-configs", tmp_path / name)
    toml = tmp_path / "b" / "fly.toml"
    toml.write_text(toml.read_text().replace('app = "', 'app = "boom"\n# was: app = "', 1))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    plan = plan_fixes([tmp_path / "a", tmp_path / "b"])
    assert {edit.path.relative_to(tmp_path).parts[0] for edit in plan} == {"a"}
    assert len(plan.declined) == 1 and plan.declined[0].startswith(str(tmp_path / "b"))
    assert "ValueError: simulated bug" in plan.declined[0] and "nothing there is changed" in plan.declined[0]
    assert main(["fix", str(tmp_path / "b")]) == 1  # declined: exit 1, and nothing is written
    assert "not fixed: " in capsys.readouterr().err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_inspect_reports_an_internal_error_as_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from flyconf import inspection

    describe = inspection.describe

    def failing_describe(app: Any) -> Any:
        if app.data.get("app") == "boom":
            raise KeyError("simulated")
        return describe(app)

    monkeypatch.setattr(inspection, "describe", failing_describe)
    _write(tmp_path, {"a/fly.toml": 'app = "fine"\n', "b/fly.toml": 'app = "boom"\n'})
    report = inspection.inspect_paths(tmp_path)
    assert [Path(a["config"]).parent.name for a in report["apps"]] == ["a"]
    assert [(Path(p["path"]).parent.name, p["problem"].split(" (")[0]) for p in report["problems"]] == [
        ("b", "internal error: flyconf failed while reading this file")]


# -- reports are valid documents, text output is inert ----------------------------------------------------

HOSTILE_KEYS = '"\\u001b[31mred" = 1\n"a\\nfly.toml:9:9: error: FC001 [io-error] forged" = 2\n"\\u202eevil\\u2028x" = 3\n'


def test_text_output_escapes_controls_in_messages_and_source_lines():
    """On main the escape sequence reached the terminal and the newline forged a second finding line."""
    diags = lint_text(HOSTILE_KEYS)
    assert [(d.code, d.line, d.column) for d in diags] == [("FC101", 1, 1), ("FC101", 2, 1), ("FC101", 3, 1)]
    for fmt in ("text", "concise"):
        out = render(fmt, diags, sources={"fly.toml": HOSTILE_KEYS})
        assert "\x1b" not in out and "\u202e" not in out and "\u2028" not in out
        heads = [line for line in out.splitlines() if line.startswith("fly.toml:")]
        assert [h.split(": error: ")[0] for h in heads] == ["fly.toml:1:1", "fly.toml:2:1", "fly.toml:3:1"]
        assert "unknown key `\\x1b[31mred`" in heads[0]
        assert "unknown key `a\\nfly.toml:9:9: error: FC001 [io-error] forged`" in heads[1]
        assert "unknown key `\\u202eevil\\u2028x`" in heads[2]


def test_text_output_places_the_caret_under_the_escaped_line():
    text = 'app = "x"\nkill_signal = "\x01\x02SIGX"\n'  # raw controls: TOML refuses them where they are
    diags = lint_text(text)
    assert [(d.code, d.line, d.column) for d in diags] == [("FC002", 2, 16)]
    lines = render("text", diags, sources={"fly.toml": text}).splitlines()
    assert lines[0] == "fly.toml:2:16: error: FC002 [toml-syntax] invalid TOML: illegal character '\\x01'"
    assert lines[2] == '2 | kill_signal = "\\x01\\x02SIGX"'
    assert lines[3] == "  |                ^"


def test_text_output_keeps_tabs_in_source_lines_as_before():
    text = 'app = "x"\n\tdestinaton = 1\n'
    lines = render("text", lint_text(text), sources={"fly.toml": text}).splitlines()
    assert "2 |  destinaton = 1" in lines and "  |  ^^^^^^^^^^" in lines


def test_json_and_sarif_hold_the_raw_strings(tmp_path: Path):
    diags = lint_text(HOSTILE_KEYS)
    findings = json.loads(render("json", diags, sources={}))
    assert findings[0]["message"] == "unknown key `\x1b[31mred` at the top level"
    sarif = json.loads(render("sarif", diags, sources={"fly.toml": HOSTILE_KEYS}))
    assert sarif["runs"][0]["results"][2]["message"]["text"].startswith("unknown key `\u202eevil\u2028x`")


def _lone_surrogate_findings() -> list[Any]:
    # A lone surrogate in the text (lint_text takes any str: a syntax finding) and in the file name (a name that is
    # not UTF-8 gives one).
    return lint_text('"\ud800" = 1\n', "dir\udcff/fly.toml")


def test_reports_with_lone_surrogates_are_valid_and_encodable():
    """On main `--format json` and `sarif` put raw lone surrogates in the output: not encodable as UTF-8."""
    diags = _lone_surrogate_findings()
    assert [(d.code, d.line, d.column) for d in diags] == [("FC002", 1, 2)]
    for fmt in ("json", "sarif", "text", "concise"):
        out = render(fmt, diags, sources={"dir\udcff/fly.toml": '"\ud800" = 1\n'})
        out.encode("utf-8")  # no lone surrogate is left
        if fmt == "json":
            assert json.loads(out)[0]["path"] == "dir\udcff/fly.toml"  # the same string, escaped
        elif fmt == "sarif":
            log = json.loads(out)
            assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
                "dir\udcff/fly.toml"
            _validate_sarif(log)
        else:
            assert "dir\\udcff/fly.toml:1:2:" in out and "lone surrogate U+D800" in out


def _validate_sarif(log: dict[str, Any]) -> None:
    import jsonschema

    schema_path = PEER / "sarif" / "sarif-schema-2.1.0.json"
    if not schema_path.is_file():
        pytest.skip(f"{schema_path} is absent (the shared corpus ships beside the repo)")
    jsonschema.validate(log, json.loads(schema_path.read_text()))


def test_sarif_with_hostile_strings_is_valid_sarif():
    diags = lint_text(HOSTILE_KEYS + 'kill_timeout = nan\n')
    log = json.loads(render("sarif", diags, sources={"fly.toml": HOSTILE_KEYS}))
    assert len(log["runs"][0]["results"]) == 4
    _validate_sarif(log)


@pytest.mark.parametrize("fmt", ["json", "sarif", "text", "concise", "github"])
def test_the_command_line_writes_what_stdout_cannot_encode(tmp_path: Path, monkeypatch, fmt: str):
    """A stdout that cannot encode the report (PYTHONIOENCODING=ascii, a C locale) gets escapes, not a
    traceback; JSON and SARIF stay valid JSON."""
    (tmp_path / "fly.toml").write_text('app = "x"\n"clé\u202e" = 1\nkill_timeout = "1µs"\n', encoding="utf-8")
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="ascii", errors="strict")
    monkeypatch.setattr("sys.stdout", stream)
    assert main(["lint", "--isolated", "--format", fmt, str(tmp_path / "fly.toml")]) == 1
    stream.flush()
    out = buffer.getvalue().decode("ascii")
    if fmt in ("json", "sarif"):
        doc = json.loads(out)
        results = doc if fmt == "json" else doc["runs"][0]["results"]
        assert any("clé\u202e" in (r["message"] if fmt == "json" else r["message"]["text"]) for r in results)
    else:
        assert "cl\\xe9" in out or "cl\\u00e9" in out


def test_inspect_json_is_valid_with_non_finite_numbers(tmp_path: Path, capsys):
    (tmp_path / "fly.toml").write_text('app = "x"\nkill_timeout = nan\n[[mounts]]\nsource = "d"\n'
                                       'destination = "/data"\ninitial_size = inf\n')
    assert main(["inspect", "--format", "json", str(tmp_path)]) == 0
    json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))


COMPOSE = """services:
  web:
    image: node:20
    environment:
      - DATABASE_URL=file:/app/data/app.db
"""


def test_a_failing_compose_check_costs_only_its_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def boom(unit: Any) -> Iterator[Any]:
        if unit.project.directory is not None and unit.project.directory.name == "b":
            raise RuntimeError("simulated compose bug")
        return iter(())

    monkeypatch.setitem(registry._CHECKS, "compose", [*registry.checks("compose"), boom])
    _write(tmp_path, {"a/compose.yaml": COMPOSE, "b/compose.yaml": COMPOSE})
    got = sorted((Path(d.path).parent.name, d.code, d.line, d.column) for d in lint_paths(tmp_path))
    assert [g for g in got if g[1] == "FC004"] == [("b", "FC004", 1, 1)]
    assert ("a", "FC411", 5, 9) in got  # the other project's findings are intact


def test_command_line_warnings_escape_file_names(tmp_path: Path, capsys):
    named = tmp_path / "notes\x1b[2J.txt"
    named.write_text("x\n")
    assert main(["lint", "--isolated", str(named)]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "notes\\x1b[2J.txt: not a fly.toml or a Dockerfile; skipped" in err


def test_a_failing_check_on_standard_input_beside_its_files(tmp_path: Path, failing_check: None):
    from flyconf.config import Configuration
    from flyconf.lint import report_bytes

    _write(tmp_path, {"Dockerfile": "FROM alpine\n"})
    report = report_bytes(BAD_KEY.format(name="boom").encode(), str(tmp_path / "fly.toml"), Configuration(),
                          beside=True)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("FC004", 1, 1), ("FC101", 4, 1)]
    assert report.failing()
