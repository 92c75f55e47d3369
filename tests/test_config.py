"""Configuration: files found upwards from each linted file, the keys, the command line on top, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flyconf import lint_paths
from flyconf.cli import main
from flyconf.config import ConfigError, Settings

# Three findings: invalid-value (FC103, error) at 2:15, ignored-key (FC104, warning) at 4:1,
# unknown-key (FC101, error) at 7:3.
FLY = ('app = "x"\nkill_signal = "SIGFOO"\n[experimental]\nprivate_network = true\n'
       '[[mounts]]\n  source = "data"\n  destinaton = "/data"\n')
ALL3 = [("invalid-value", 2, 15), ("ignored-key", 4, 1), ("unknown-key", 7, 3)]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def lint_json(capsys, *args: str) -> tuple[int, list[tuple[str, str, int, int, str]]]:
    code = main(["lint", "--format", "json", *args])
    out = json.loads(capsys.readouterr().out)
    return code, [(f["path"], f["rule"], f["line"], f["column"], f["severity"]) for f in out]


def found(items, path: str = "fly.toml") -> list[tuple[str, int, int]]:
    return [(rule, line, col) for p, rule, line, col, _ in items if p == path]


def test_pyproject_tool_flyconf_is_used(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "pyproject.toml": (
        '[project]\nname = "x"\n\n[tool.flyconf]\nignore = ["ignored-key"]\n'
        'severity = { unknown-key = "warning" }\nfail-on = "error"\n')})
    monkeypatch.chdir(tmp_path)
    code, items = lint_json(capsys, ".")
    assert [(r, ln, c, sev) for _, r, ln, c, sev in items] == [
        ("invalid-value", 2, 15, "error"), ("unknown-key", 7, 3, "warning")]
    assert code == 1  # invalid-value is an error, and fail-on is "error"
    (tmp_path / "fly.toml").write_text(FLY.replace("SIGFOO", "SIGTERM"))
    code, items = lint_json(capsys, ".")
    assert [(r, ln, c, sev) for _, r, ln, c, sev in items] == [("unknown-key", 7, 3, "warning")]
    assert code == 0  # a warning does not reach fail-on = "error"


def test_the_closest_configuration_wins_per_file(tmp_path, monkeypatch, capsys):
    write(tmp_path, {
        "fly.toml": FLY,
        "flyconf.toml": 'ignore = ["FC101"]\n',
        "api/fly.toml": FLY,
        "api/.flyconf.toml": 'select = ["FC103"]\n',
        "web/fly.toml": FLY,
        "web/pyproject.toml": '[project]\nname = "web"\n',  # no [tool.flyconf]: passed over
    })
    monkeypatch.chdir(tmp_path)
    _, items = lint_json(capsys, ".")
    assert found(items) == [("invalid-value", 2, 15), ("ignored-key", 4, 1)]
    assert found(items, "api/fly.toml") == [("invalid-value", 2, 15)]
    assert found(items, "web/fly.toml") == [("invalid-value", 2, 15), ("ignored-key", 4, 1)]


def test_in_one_directory_dot_flyconf_beats_flyconf_beats_pyproject(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "pyproject.toml": '[tool.flyconf]\nselect = ["FC101"]\n',
                     "flyconf.toml": 'select = ["FC103"]\n', ".flyconf.toml": 'select = ["FC104"]\n'})
    monkeypatch.chdir(tmp_path)
    assert found(lint_json(capsys, ".")[1]) == [("ignored-key", 4, 1)]
    (tmp_path / ".flyconf.toml").unlink()
    assert found(lint_json(capsys, ".")[1]) == [("invalid-value", 2, 15)]
    (tmp_path / "flyconf.toml").unlink()
    assert found(lint_json(capsys, ".")[1]) == [("unknown-key", 7, 3)]


def test_config_option_and_isolated(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "flyconf.toml": 'ignore = ["FC1"]\n', "ci/strict.toml": 'select = ["FC101"]\n'})
    monkeypatch.chdir(tmp_path)
    assert found(lint_json(capsys, "--config", "ci/strict.toml", ".")[1]) == [("unknown-key", 7, 3)]
    assert found(lint_json(capsys, "--isolated", ".")[1]) == ALL3
    with pytest.raises(SystemExit) as exit_:
        main(["lint", "--isolated", "--config", "ci/strict.toml", "."])
    assert exit_.value.code == 2
    assert "argument --config: not allowed with argument --isolated" in capsys.readouterr().err


def test_command_line_overrides_the_file_by_specificity(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "flyconf.toml": 'ignore = ["FC103"]\n'})
    monkeypatch.chdir(tmp_path)
    # A code named on the command line beats the file's ignore of the same code ...
    assert found(lint_json(capsys, "--select", "FC103", ".")[1]) == [("invalid-value", 2, 15)]
    # ... but a prefix does not beat the file's more specific ignore.
    assert found(lint_json(capsys, "--select", "FC1", ".")[1]) == [("ignored-key", 4, 1), ("unknown-key", 7, 3)]
    (tmp_path / "flyconf.toml").write_text('select = ["FC1"]\nextend-select = ["FC2"]\n')
    assert found(lint_json(capsys, "--ignore", "unknown-key", ".")[1]) == [("invalid-value", 2, 15), ("ignored-key", 4, 1)]
    # --select replaces the file's select and extend-select.
    assert found(lint_json(capsys, "--select", "FC101", ".")[1]) == [("unknown-key", 7, 3)]
    # --fail-on beats fail-on.
    (tmp_path / "flyconf.toml").write_text('fail-on = "error"\nignore = ["FC101", "FC103"]\n')
    assert lint_json(capsys, ".")[0] == 0
    assert lint_json(capsys, "--fail-on", "warning", ".")[0] == 1


def test_select_by_name_prefix_and_all_with_specific_ignores(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "flyconf.toml": 'select = ["ALL"]\nignore = ["FC1"]\nextend-select = ["unknown-key"]\n'})
    monkeypatch.chdir(tmp_path)
    # extend-select names unknown-key exactly: more specific than the FC1 prefix that ignores it.
    assert found(lint_json(capsys, ".")[1]) == [("unknown-key", 7, 3)]


def test_fail_on_follows_each_files_configuration(tmp_path, monkeypatch, capsys):
    warning_only = 'app = "x"\n[experimental]\nprivate_network = true\n'
    write(tmp_path, {"a/fly.toml": warning_only, "a/flyconf.toml": 'fail-on = "error"\n', "b/fly.toml": warning_only})
    monkeypatch.chdir(tmp_path)
    assert lint_json(capsys, "a")[0] == 0
    code, items = lint_json(capsys, "a", "b")
    assert [(p, r, ln, c) for p, r, ln, c, _ in items] == [
        ("a/fly.toml", "ignored-key", 3, 1), ("b/fly.toml", "ignored-key", 3, 1)]
    assert code == 1  # b has no configuration: the default fail-on, warning


def test_per_file_ignores(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "deploy/fly.staging.toml": FLY, "flyconf.toml": (
        '[per-file-ignores]\n"deploy/*.toml" = ["FC1"]\n"!fly.toml" = ["ignored-key"]\n"fly.toml" = ["FC103"]\n')})
    monkeypatch.chdir(tmp_path)
    _, items = lint_json(capsys, ".")
    assert found(items) == [("ignored-key", 4, 1), ("unknown-key", 7, 3)]
    assert found(items, "deploy/fly.staging.toml") == []
    # per-file-ignores wins over --select, as ruff's does.
    _, items = lint_json(capsys, "--select", "FC103", ".")
    assert items == []


def test_exclude_extend_exclude_and_the_command_line(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "legacy/fly.toml": FLY, "node_modules/x/fly.toml": FLY, "other/fly.toml": FLY})
    monkeypatch.chdir(tmp_path)
    paths = lambda *args: sorted({p for p, *_ in lint_json(capsys, *args, ".")[1]})  # noqa: E731
    assert paths() == ["fly.toml", "legacy/fly.toml", "other/fly.toml"]  # node_modules: a default exclusion
    (tmp_path / "flyconf.toml").write_text('extend-exclude = ["legacy/"]\n')
    assert paths() == ["fly.toml", "other/fly.toml"]
    assert paths("--exclude", "other,nothing") == ["fly.toml"]
    # `exclude` replaces the defaults: node_modules is walked again.
    (tmp_path / "flyconf.toml").write_text('exclude = ["legacy"]\n')
    assert paths() == ["fly.toml", "node_modules/x/fly.toml", "other/fly.toml"]
    # A file named on the command line is excluded by the user's patterns (pre-commit names files) ...
    code, items = lint_json(capsys, "legacy/fly.toml")
    assert (code, items) == (0, [])
    # ... but not by the default folders.
    (tmp_path / "flyconf.toml").unlink()
    assert {p for p, *_ in lint_json(capsys, "node_modules/x/fly.toml")[1]} == {"node_modules/x/fly.toml"}


def test_findings_in_an_excluded_file_are_dropped(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": 'app = "x"\n', "Dockerfile": "FROM node:20\nCMD npm start\n",
                     "flyconf.toml": 'extend-exclude = ["Dockerfile"]\n'})
    monkeypatch.chdir(tmp_path)
    assert lint_json(capsys, ".")[1] == []
    (tmp_path / "flyconf.toml").unlink()
    assert [(p, r, ln, c) for p, r, ln, c, _ in lint_json(capsys, ".")[1]] == [("Dockerfile", "cmd-shell-form", 2, 1)]


@pytest.mark.parametrize(("text", "where", "message"), [
    ('[tool.flyconf]\nselct = ["FC1"]\n', "pyproject.toml:2:1:",
     "[tool.flyconf] unknown key `selct`; did you mean `select`?"),
    ('[tool.flyconf]\nextend_select = ["FC1"]\n', "pyproject.toml:2:1:",
     "[tool.flyconf] unknown key `extend_select`; did you mean `extend-select`?"),
    ('[tool.flyconf]\nignore = "FC1"\n', "pyproject.toml:2:10:",
     "[tool.flyconf] `ignore` must be a list of rule codes, code prefixes or names"),
    ('[tool.flyconf]\nignore = ["FC1", "sqlite-not-on-volum"]\n', "pyproject.toml:2:18:",
     "[tool.flyconf] unknown rule or code `sqlite-not-on-volum` in `ignore`; did you mean `sqlite-not-on-volume`?"),
    ('[tool.flyconf]\nfail-on = "fatal"\n', "pyproject.toml:2:11:",
     '[tool.flyconf] `fail-on` must be one of "info", "warning", "error"'),
    ('[tool.flyconf.severity]\nFC4 = "loud"\n', "pyproject.toml:2:7:",
     '[tool.flyconf] `severity.FC4` must be one of "info", "warning", "error"'),
    ('[tool.flyconf.severity]\nFC499 = "info"\n', "pyproject.toml:2:1:",
     "[tool.flyconf] unknown rule or code `FC499` in `severity`"),
    ('[tool.flyconf.per-file-ignores]\n"*.toml" = ["nope"]\n', "pyproject.toml:2:13:",
     '[tool.flyconf] unknown rule or code `nope` in `per-file-ignores."*.toml"`'),
    ('[tool.flyconf]\nexclude = ["!keep"]\n', "pyproject.toml:2:12:",
     "[tool.flyconf] `exclude` does not take negated patterns"),
    ('[tool.flyconf]\nignore = ["FC1"\n', "pyproject.toml:2:16:", "invalid TOML:"),
])
def test_a_bad_configuration_exits_2_naming_file_line_and_key(tmp_path, monkeypatch, capsys, text, where, message):
    write(tmp_path, {"fly.toml": FLY, "pyproject.toml": text})
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "."]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"flyconf: error: {where} {message}"), line


def test_flyconf_toml_errors_have_no_table_prefix(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "flyconf.toml": '\nfail_on = "error"\n'})
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "."]) == 2
    assert capsys.readouterr().err == "flyconf: error: flyconf.toml:2:1: unknown key `fail_on`; did you mean `fail-on`?\n"


def test_config_option_errors(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "pyproject.toml": '[project]\nname = "x"\n'})
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "--config", "pyproject.toml", "."]) == 2
    assert capsys.readouterr().err == "flyconf: error: pyproject.toml: has no [tool.flyconf] table\n"
    assert main(["lint", "--config", "missing.toml", "."]) == 2
    assert capsys.readouterr().err == "flyconf: error: missing.toml: cannot read the configuration file: file not found\n"


def test_show_settings_says_where_each_setting_came_from(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "pyproject.toml": (
        '[project]\nname = "x"\n\n[tool.flyconf]\nignore = ["FC305"]\nfail-on = "error"\n'
        '[tool.flyconf.severity]\nsqlite-multiple-machines = "error"\n')})
    monkeypatch.chdir(tmp_path)
    assert main(["lint", "--show-settings", "--select", "FC4", "fly.toml"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["# Settings for fly.toml", "# configuration file: pyproject.toml [tool.flyconf]"]
    assert 'select = ["FC4"]  # command line (--select)' in out
    assert 'ignore = ["FC305"]  # pyproject.toml:5' in out
    assert 'fail-on = "error"  # pyproject.toml:6' in out
    assert 'severity = { "sqlite-multiple-machines" = "error" }  # pyproject.toml:7' in out
    assert 'extend-exclude = []  # default' in out
    from flyconf import registry

    family = [r for r in registry.all_rules() if r.code.startswith("FC4")]
    assert any(line.startswith(f"# rules in effect: {len(family)} of ") and "FC403 sqlite-multiple-machines" in line
               for line in out)
    assert "# severity changed: FC403 sqlite-multiple-machines error (default warning)" in out
    assert main(["lint", "--show-settings", "--isolated", "fly.toml"]) == 0
    assert "# configuration file: none (defaults)" in capsys.readouterr().out


def test_the_library_reads_no_configuration_file_unless_asked(tmp_path, monkeypatch):
    write(tmp_path, {"fly.toml": FLY, "flyconf.toml": 'select = ["FC101"]\n'})
    monkeypatch.chdir(tmp_path)
    at = lambda diags: [(d.rule, d.line, d.column) for d in diags]  # noqa: E731
    assert at(lint_paths(["."])) == ALL3
    assert at(lint_paths(["."], config=True)) == [("unknown-key", 7, 3)]
    assert at(lint_paths(["."], config="flyconf.toml", select=["FC103"])) == [("invalid-value", 2, 15)]
    settings = Settings.from_mapping({"ignore": ["FC101", "invalid-value"], "severity": {"ignored-key": "error"}})
    (d,) = lint_paths(["."], settings=settings)
    assert (d.rule, d.line, d.column, d.severity.value) == ("ignored-key", 4, 1, "error")
    with pytest.raises(ConfigError, match="unknown key `selekt`; did you mean `select`"):
        Settings.from_mapping({"selekt": []})
    (tmp_path / "flyconf.toml").write_text("select = 1\n")
    with pytest.raises(ConfigError) as info:
        lint_paths(["."], config=True)
    assert (info.value.path, info.value.line, info.value.column, info.value.key) == ("flyconf.toml", 1, 10, "select")


def test_stdin_uses_the_configuration_of_its_file_name(tmp_path, monkeypatch, capsys):
    import io
    import sys

    write(tmp_path, {"deploy/flyconf.toml": 'ignore = ["FC103", "FC104"]\n'})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FLY.encode())))
    code, items = lint_json(capsys, "-", "--stdin-filename", "deploy/fly.toml")
    assert [(p, r, ln, c) for p, r, ln, c, _ in items] == [("deploy/fly.toml", "unknown-key", 7, 3)]


def test_the_readme_configuration_example_is_valid(tmp_path, monkeypatch, capsys):
    """The pyproject.toml shown in the README loads, and does what its comments say."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n# pyproject.toml\n", 1)[1].split("```", 1)[0]
    write(tmp_path, {"pyproject.toml": block, "fly.toml": 'app = "x"\n[env]\nAPI_TOKEN = "sk_live_0123456789"\n',
                     "deploy/fly.staging.toml": 'app = "x"\n[env]\nDATABASE_URL = "file:/tmp/app.db"\n',
                     "legacy/fly.toml": 'app = "x"\nkill_signal = "SIGFOO"\n'})
    monkeypatch.chdir(tmp_path)
    code, items = lint_json(capsys, "--isolated", ".")
    assert (code, [(p, r, ln, c) for p, r, ln, c, _ in items]) == (1, [
        ("deploy/fly.staging.toml", "sqlite-not-on-volume", 3, 16), ("fly.toml", "secret-in-env", 3, 13),
        ("legacy/fly.toml", "invalid-value", 2, 15)])
    code, items = lint_json(capsys, ".")
    # secret-in-env is ignored, FC4 is ignored for the staging file, legacy/ is excluded.
    assert (code, items) == (0, [])
    assert main(["lint", "--show-settings", "fly.toml"]) == 0
    assert 'fail-on = "error"  # pyproject.toml:4' in capsys.readouterr().out.splitlines()


def test_exclude_patterns_are_gitignore_style(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"fly.toml": FLY, "fly.staging.toml": FLY, "a/fly.staging.toml": FLY, "a/other/fly.toml": FLY,
                     "other/fly.toml": FLY, "svc/flyconf.toml": 'extend-exclude = ["/fly.toml"]\n',
                     "svc/fly.toml": FLY, "svc/x/fly.toml": FLY,
                     "flyconf.toml": 'extend-exclude = ["*.staging.toml", "/other/"]\n'})
    monkeypatch.chdir(tmp_path)
    # `*.staging.toml` matches at any depth, `/other/` only at the configuration's directory; svc/ has its
    # own configuration, whose `/fly.toml` is anchored to svc/.
    assert sorted({p for p, *_ in lint_json(capsys, ".")[1]}) == ["a/other/fly.toml", "fly.toml", "svc/x/fly.toml"]
