"""The library: what `import flyconf` offers, with the argument forms people pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import flyconf
from flyconf import lint_paths, lint_text

BAD = 'kill_signal = "SIGFOO"\n[[mounts]]\n  source = "data"\n  destinaton = "/data"\n'


def _positions(diags) -> list[tuple[str, int, int]]:
    return [(d.rule, d.line, d.column) for d in diags]


@pytest.fixture
def bad_app(tmp_path: Path) -> Path:
    (tmp_path / "fly.toml").write_text(BAD)
    return tmp_path


def test_lint_paths_takes_one_path_as_str_or_pathlike(bad_app: Path, monkeypatch):
    monkeypatch.chdir(bad_app)
    expected = [("unknown-key", 4, 3)]
    as_list = lint_paths(["fly.toml"], select="FC101")
    assert _positions(as_list) == expected
    # A string is one path, never iterated character by character (which would lint "f", "l", ... and "/").
    assert _positions(lint_paths("fly.toml", select="FC101")) == expected
    assert _positions(lint_paths(Path("fly.toml"), select="FC101")) == expected
    assert _positions(lint_paths(str(bad_app), select="FC101")) == expected
    assert _positions(lint_paths(bad_app, select="FC101")) == expected


def test_select_and_ignore_take_one_string_or_an_iterable():
    both = [("invalid-value", 1, 15), ("unknown-key", 4, 3)]
    assert _positions(lint_text(BAD)) == both
    assert _positions(lint_text(BAD, select="FC101")) == [("unknown-key", 4, 3)]
    assert _positions(lint_text(BAD, select=["FC101"])) == [("unknown-key", 4, 3)]
    assert _positions(lint_text(BAD, select=("unknown-key",))) == [("unknown-key", 4, 3)]
    assert _positions(lint_text(BAD, ignore="unknown-key")) == [("invalid-value", 1, 15)]
    assert _positions(lint_text(BAD, ignore={"FC101"})) == [("invalid-value", 1, 15)]
    # One string may list several keys, as --select does.
    assert _positions(lint_text(BAD, select="FC101,invalid-value")) == both
    with pytest.raises(ValueError, match="unknown rule or code: nope"):
        lint_text(BAD, select="nope")


def test_import_flyconf_is_light():
    """`import flyconf` loads only the package itself: the API is imported on first use."""
    code = ("import sys; import flyconf; "
            "print(sorted(m for m in sys.modules if m == 'flyconf' or m.startswith('flyconf.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "['flyconf', 'flyconf._version']"


def test_linting_never_imports_buildkits_parser():
    """BuildKit's Go parser (the `dockerfile` package) is a test oracle only: linting, fixing and inspecting every
    fixture app (fly.toml, Dockerfile, scripts, Compose) never load it, so flyconf works where it is absent."""
    apps = Path(__file__).resolve().parent / "fixtures" / "apps"
    code = ("import sys; import flyconf; "
            f"flyconf.lint_paths([{str(apps)!r}]); flyconf.inspect({str(apps)!r}); flyconf.plan_fixes({str(apps)!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dockerfile'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_public_names_are_listed_and_resolve():
    for name in flyconf.__all__:
        assert getattr(flyconf, name) is not None, name
    with pytest.raises(AttributeError):
        flyconf.no_such_name  # noqa: B018


# -- the API for what the command line does -----------------------------------------------------------

APPS = Path(__file__).resolve().parent / "fixtures" / "apps"


def test_inspect_returns_the_app_model_as_data(tmp_path: Path, capsys):
    import shutil

    shutil.copytree(APPS / "two-configs", tmp_path / "app")
    report = flyconf.inspect(tmp_path / "app")
    assert report["version"] == 1 and report["problems"] == []
    by_config = {Path(a["config"]).name: a for a in report["apps"]}
    assert sorted(by_config) == ["fly.staging.toml", "fly.toml"]
    (db,) = [d for d in by_config["fly.staging.toml"]["databases"] if d["name"] == "DATABASE_PATH"]
    assert db["path"] == "/mnt/staging/notes.sqlite3" and db["placement"]["verdict"] == "on-volume"
    assert (db["declared"]["line"], db["declared"]["column"]) == (9, 19)
    assert flyconf.inspect(str(tmp_path / "nope"))["problems"] == [
        {"path": str(tmp_path / "nope"), "problem": "file or directory not found"}]
    assert capsys.readouterr() == ("", "")


def test_plan_fixes_then_apply(tmp_path: Path, capsys):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(APPS / "two-configs", app)
    before = {p: p.read_bytes() for p in app.rglob("*") if p.is_file()}
    plan = flyconf.plan_fixes(app)
    assert isinstance(plan, flyconf.FixPlan)
    assert [type(edit) for edit in plan] == [flyconf.PlannedEdit] * 4
    assert [edit.path.relative_to(app).as_posix() for edit in plan] == [
        "fly.toml", "fly.staging.toml", "bin/fly-entrypoint", "Dockerfile"]
    assert plan[2].old is None and plan[2].mode == 0o755
    assert {(o.finding.path, o.finding.line, o.finding.column, o.finding.code, o.fixed) for o in plan.outcomes} == {
        (str(app / "fly.toml"), 6, 21, "FC401", True), (str(app / "fly.staging.toml"), 6, 21, "FC401", True)}
    assert {p: p.read_bytes() for p in app.rglob("*") if p.is_file()} == before, "planning writes nothing"
    written = flyconf.apply(plan)
    assert sorted(written) == sorted(edit.path for edit in plan)
    assert (app / "bin" / "fly-entrypoint").read_text() == plan[2].new
    assert len(flyconf.plan_fixes([app])) == 0
    assert [d for d in lint_paths(app) if d.rule == "release-command-sqlite"] == []
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        flyconf.plan_fixes(tmp_path / "nope")
    assert capsys.readouterr() == ("", "")


def test_generate_entrypoint_returns_the_script():
    options = flyconf.EntrypointOptions(volume="/data", database="/data/app.db", migrate="bin/migrate",
                                        other_databases=("/data/cache.db",))
    script = flyconf.generate_entrypoint(options)
    assert script.startswith("#!/bin/sh\n")
    assert "\nflyconf_default_databases='/data/app.db:/data/cache.db'\n" in script
    with pytest.raises(ValueError, match="not on the volume"):
        flyconf.generate_entrypoint(flyconf.EntrypointOptions(volume="/data", database="/tmp/x.db", migrate="m"))


def test_the_readme_example_runs(tmp_path: Path, monkeypatch, capsys):
    """The library example in README.md, run as written on a copy of a fixture app."""
    import re
    import shutil

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### As a library"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shutil.copytree(APPS / "rails-sqlite", tmp_path / "app")
    monkeypatch.chdir(tmp_path / "app")
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "fly.toml 9 21 FC401 release-command-sqlite error" in out
    assert (tmp_path / "app" / "bin" / "fly-entrypoint").is_file()
