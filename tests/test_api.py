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


def test_public_names_are_listed_and_resolve():
    for name in flyconf.__all__:
        assert getattr(flyconf, name) is not None, name
    with pytest.raises(AttributeError):
        flyconf.no_such_name  # noqa: B018
