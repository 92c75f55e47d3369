"""Which files a directory walk finds: Dockerfile names, .gitignore, symbolic links."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flyconf.discover import Skipped, discover, is_dockerfile_name, kind_of
from flyconf.lint import run


def names(root: Path, notes: list[Skipped] | None = None) -> list[str]:
    return [t.path.relative_to(root).as_posix() for t in discover([root], notes) if t.kind is not None]


def touch(root: Path, *rels: str, text: str = "FROM scratch\n") -> None:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


# -- names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Dockerfile", "dockerfile", "Dockerfile.prod", "Dockerfile.fly", "prod.Dockerfile",
                                  "app.dockerfile", "Containerfile", "Containerfile.dev"])
def test_dockerfile_names(name):
    assert is_dockerfile_name(name) and kind_of(name, explicit=False) == "dockerfile"


@pytest.mark.parametrize("name", ["dockerfile.py", "dockerfile.go", "Dockerfile.rst", "Dockerfile.md", "Dockerfile.j2",
                                  "Dockerfile.txt", "Dockerfile.dockerignore", "dockerfile.ts", "Dockerfile.yml",
                                  "Dockerfile.", "Dockerfiles", "my-Dockerfile"])
def test_not_dockerfile_names(name):
    assert not is_dockerfile_name(name) and kind_of(name, explicit=False) is None


def test_source_files_about_dockerfiles_are_not_linted(tmp_path):
    """flyconf's own flyconf/sources/dockerfile.py was linted as a Dockerfile (FC701, exit 1)."""
    touch(tmp_path, "pkg/dockerfile.py", text="import re\n")
    touch(tmp_path, "docs/Dockerfile.rst", text="Dockerfiles\n===========\n")
    touch(tmp_path, "Dockerfile")
    assert names(tmp_path) == ["Dockerfile"]
    assert [d.rule for d in run([tmp_path]).diagnostics] == []


# -- .gitignore ------------------------------------------------------------------------------------------

def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    return tmp_path


def test_gitignore_in_a_repository(tmp_path):
    root = repo(tmp_path)
    touch(root, "Dockerfile", "build/Dockerfile", "tmp/x/Dockerfile", "keep/Dockerfile.dev", "keep/Dockerfile.old2",
          "a/deep/generated/Dockerfile", "logs/Dockerfile")
    (root / ".gitignore").write_text("# comment\n/build\ntmp/\n**/generated/\nlogs\n\n")
    (root / "keep" / ".gitignore").write_text("Dockerfile.*\n!Dockerfile.dev\n")
    assert names(root) == ["Dockerfile", "keep/Dockerfile.dev"]


def test_gitignore_negation_cannot_reinclude_under_an_ignored_directory(tmp_path):
    root = repo(tmp_path)
    touch(root, "out/Dockerfile", "out/app/fly.toml")
    (root / ".gitignore").write_text("out/\n!out/app/fly.toml\n")
    assert names(root) == []


def test_gitignore_anchoring_and_wildcards(tmp_path):
    root = repo(tmp_path)
    touch(root, "fly.toml", "sub/fly.toml", "sub/fly.staging.toml", "other/sub/fly.toml", "x/Dockerfile.prod")
    # `sub/fly.toml` has a slash: only beside the .gitignore; `fly.*.toml`: at any level; `x/*` one level.
    (root / ".gitignore").write_text("sub/fly.toml\nfly.*.toml\nx/*\n")
    assert names(root) == ["fly.toml", "other/sub/fly.toml"]


def test_gitignore_directory_only_pattern_keeps_a_file_of_that_name(tmp_path):
    root = repo(tmp_path)
    touch(root, "Dockerfile", "nested/Dockerfile/fly.toml")  # a directory named Dockerfile
    (root / ".gitignore").write_text("Dockerfile/\n")
    assert names(root) == ["Dockerfile"]


def test_info_exclude_and_parent_gitignore_apply_to_a_subdirectory(tmp_path):
    root = repo(tmp_path)
    touch(root, "app/fly.toml", "app/staging/fly.toml", "app/old/Dockerfile")
    (root / ".gitignore").write_text("app/staging/\n")
    (root / ".git" / "info" / "exclude").write_text("old\n")
    assert names(root / "app") == ["fly.toml"]


def test_escaped_and_trailing_space_patterns(tmp_path):
    root = repo(tmp_path)
    touch(root, "#odd/Dockerfile", "sp /Dockerfile", "plain/Dockerfile")
    (root / ".gitignore").write_text("\\#odd\nsp\\ \nplain   \n")
    assert names(root) == []


def test_gitignore_outside_a_repository_is_not_read(tmp_path):
    """ruff (like git) reads .gitignore only inside a git repository (astral-sh/ruff#6335)."""
    touch(tmp_path, "build/Dockerfile")
    (tmp_path / ".gitignore").write_text("build/\n")
    assert names(tmp_path) == ["build/Dockerfile"]


def test_explicit_paths_are_linted_even_if_ignored(tmp_path):
    root = repo(tmp_path)
    touch(root, "build/Dockerfile")
    (root / ".gitignore").write_text("build/\n")
    assert [t.path for t in discover([root / "build" / "Dockerfile"])] == [root / "build" / "Dockerfile"]


def test_gitignore_matches_git_itself(tmp_path):
    """The same tree, asked of git check-ignore when git is installed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    rels = ["Dockerfile", "a/Dockerfile", "a/b/Dockerfile.prod", "b/fly.toml", "c/d/fly.staging.toml", "e/Dockerfile",
            "e/f/Dockerfile", "g/h/i/Dockerfile", "lib/x.Dockerfile", "[x]/Dockerfile"]
    touch(tmp_path, *rels)
    (tmp_path / ".gitignore").write_text("a/b\n*.prod\n/b/\nc/**/fly.*.toml\ne/*\n!e/Dockerfile\ng/**/i\nlib/*.Dockerfile\n"
                                         "\\[x]\n")
    (tmp_path / "e" / ".gitignore").write_text("")
    proc = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "--no-index", *rels], capture_output=True,
                          text=True)
    by_git = set(proc.stdout.split())
    assert sorted(set(rels) - by_git) == names(tmp_path)


# -- symbolic links --------------------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_symlink_loop_and_link_to_root_are_skipped_with_a_note(tmp_path):
    touch(tmp_path, "app/fly.toml", text='app = "x"\n')
    (tmp_path / "app" / "loop").symlink_to(tmp_path / "app")
    (tmp_path / "app" / "root").symlink_to("/")
    (tmp_path / "app" / "fly.self.toml").symlink_to("fly.self.toml")  # a link to itself
    notes: list[Skipped] = []
    assert names(tmp_path, notes) == ["app/fly.toml"]
    assert sorted((n.path.name, "loop" in n.reason or "nowhere" in n.reason) for n in notes) == [
        ("fly.self.toml", True), ("loop", True), ("root", True)]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_links_out_of_the_tree_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    touch(outside, "Dockerfile", "deep/fly.toml")
    app = tmp_path / "app"
    touch(app, "fly.toml", text='app = "x"\n')
    (app / "Dockerfile").symlink_to(outside / "Dockerfile")
    (app / "more").symlink_to(outside / "deep")
    notes: list[Skipped] = []
    assert names(app, notes) == ["fly.toml"]
    assert sorted(n.path.name for n in notes) == ["Dockerfile", "more"]
    assert all("outside" in n.reason for n in notes)


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_a_link_inside_the_tree_is_linted_once(tmp_path):
    touch(tmp_path, "docker/Dockerfile.prod")
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "docker" / "Dockerfile.prod")
    (tmp_path / "again").symlink_to(tmp_path / "docker")
    notes: list[Skipped] = []
    found = names(tmp_path, notes)
    assert found in (["Dockerfile"], ["docker/Dockerfile.prod"]) and notes == []


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_cli_warns_about_skipped_links_and_does_not_crash(tmp_path):
    touch(tmp_path, "fly.toml", text='app = "x"\n')
    (tmp_path / "up").symlink_to(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "flyconf", "lint", str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "flyconf: warning:" in proc.stderr and "up: a symbolic link" in proc.stderr and "Traceback" not in proc.stderr
    report = run([tmp_path])
    assert len(report.notes) == 1 and report.notes[0].endswith("(a loop): not followed")
