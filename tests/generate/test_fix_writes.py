"""What `fix` and `generate` write: only inside the project, through no symlink out of it, all files or none, with
the files' mode, owner, BOM and line endings kept, and only for the findings the user did not suppress.

The app is tests/fixtures/apps/node-prisma (its fix changes three files: fly.toml, the new bin/fly-entrypoint and
the Dockerfile), copied into an empty directory; `fix` and `generate` run in this process (flyconf.cli.main).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from flyconf.cli import main
from flyconf.fileio import UnsafeWrite, Write, WriteError, write_files
from flyconf.generate.entrypoint import EntrypointOptions, render_entrypoint, write_entrypoint
from flyconf.generate.fix import apply, plan_fixes
from flyconf.lint import run
from tests.conftest import CORPUS, REPO, needs_shared
from tests.hostile.helpers import flyconf

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

APP = REPO / "tests" / "fixtures" / "apps" / "node-prisma"
FILES = ("fly.toml", "Dockerfile", "bin/fly-entrypoint")


def app_copy(where: Path) -> Path:
    app = where / "app"
    shutil.copytree(APP, app)
    return app


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: a file's bytes, a link's target, a directory."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = path.read_bytes()
    return out


def fix(app: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        *args: str) -> tuple[int, str]:
    monkeypatch.chdir(app)
    code = main(["fix", *args])
    return code, capsys.readouterr().err


def leftovers(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if ".flyconf-" in p.name]


# -- all files or none ------------------------------------------------------------------------------------

def test_a_failed_rename_puts_every_file_back(tmp_path: Path, capsys, monkeypatch):
    """The 2nd rename fails (after fly.toml was replaced): fly.toml is restored, the wrapper and bin/ are not
    created, the Dockerfile is untouched, no temporary file is left, and fix exits 2 saying so."""
    app = app_copy(tmp_path)
    before = snapshot(app)
    real = os.replace
    calls: list[str] = []

    def failing(src, dst, **kw):
        if str(src).endswith(".tmp"):
            calls.append(os.path.basename(dst))
            if len(calls) == 2:
                raise OSError(errno.EIO, "Input/output error")
        return real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", failing)
    code, err = fix(app, capsys, monkeypatch)
    assert calls == ["fly.toml", "fly-entrypoint"]
    assert code == 2, err
    assert "bin/fly-entrypoint: Input/output error; every file was put back as it was" in err
    assert "fixed:" not in err
    assert snapshot(app) == before
    assert leftovers(app) == []


def test_a_read_only_directory_changes_nothing(tmp_path: Path):
    """bin/ exists and cannot be written (the wrapper's temporary file cannot be made there): nothing is written,
    fly.toml included. Run as an ordinary user, for whom a directory's mode counts (root ignores it)."""
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv is not installed (needed to run as nobody)")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        base = Path(tempfile.mkdtemp(prefix="flyconf-ro-", dir="/tmp"))
        base.chmod(0o755)
    else:
        prefix, base = [], tmp_path
    try:
        app = app_copy(base)
        (app / "bin").mkdir()
        if prefix:
            for path in (app, *app.rglob("*")):
                os.lchown(path, 65534, 65534)
        (app / "bin").chmod(0o555)
        before = snapshot(app)
        proc = subprocess.run([*prefix, sys.executable, "-m", "flyconf", "fix"], cwd=app, capture_output=True,
                              text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"})
        assert proc.returncode == 2, proc.stderr
        assert "bin/fly-entrypoint: Permission denied; nothing was written" in proc.stderr
        assert snapshot(app) == before
        assert leftovers(app) == []
    finally:
        if prefix:
            shutil.rmtree(base, ignore_errors=True)


def test_write_files_restores_a_file_it_replaced_and_removes_new_directories(tmp_path: Path, monkeypatch):
    (tmp_path / "a.txt").write_text("a\n")
    real = os.replace
    seen: list[str] = []

    def failing(src, dst, **kw):
        if str(src).endswith(".tmp"):
            seen.append(str(dst))
            if dst == "c.txt":
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(WriteError, match="c.txt: No space left on device; every file was put back as it was"):
        write_files([Write(tmp_path / "a.txt", "A\n", tmp_path), Write(tmp_path / "new/b/b.txt", "B\n", tmp_path),
                     Write(tmp_path / "c.txt", "C\n", tmp_path)])
    assert seen == ["a.txt", "b.txt", "c.txt"]
    assert snapshot(tmp_path) == {"a.txt": b"a\n"}


# -- inside the project, and no symlink out of it ------------------------------------------------------------

@pytest.mark.parametrize("named", ["../shared/Dockerfile", "ABSOLUTE"])
def test_fix_declines_to_edit_a_dockerfile_outside_the_project(tmp_path: Path, capsys, monkeypatch, named: str):
    app = app_copy(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    (app / "Dockerfile").rename(shared / "Dockerfile")
    where = str(shared / "Dockerfile") if named == "ABSOLUTE" else named
    fly = app / "fly.toml"
    fly.write_text(fly.read_text() + f'\n[build]\n  dockerfile = "{where}"\n')
    outside = snapshot(shared)
    code, err = fix(app, capsys, monkeypatch)
    assert code == 1, err
    assert "not fixed: fly.toml:5:21: FC401 [release-command-sqlite]" in err
    # Declined for being outside the project, or, where lint does not read a Dockerfile outside the build context
    # (an absolute path), because the app has no Dockerfile: either way it is not edited.
    assert ("release_command not moved: the Dockerfile cannot be edited: ../shared/Dockerfile is outside the "
            f"project directory {app}") in err or "the app has no Dockerfile" in err
    assert snapshot(shared) == outside
    assert "release_command" in tomllib.loads(fly.read_text())["deploy"]
    assert not (app / "bin").exists()


def test_fix_declines_to_write_through_a_symlinked_bin(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (app / "bin").symlink_to(elsewhere)
    code, err = fix(app, capsys, monkeypatch)
    assert code == 1, err
    assert f"release_command not moved: bin/fly-entrypoint is outside the project directory {app} (it resolves to " \
           f"{elsewhere}/fly-entrypoint, through a symbolic link)" in err
    assert list(elsewhere.iterdir()) == []
    assert 'release_command = "npx prisma migrate deploy"' in (app / "fly.toml").read_text()


def test_fix_writes_a_symlinked_fly_toml_inside_the_project_through_its_link(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    (app / "config").mkdir()
    (app / "fly.toml").rename(app / "config" / "fly.toml")
    (app / "fly.toml").symlink_to("config/fly.toml")
    code, err = fix(app, capsys, monkeypatch)
    assert code == 0, err
    assert os.readlink(app / "fly.toml") == "config/fly.toml"  # still a link
    assert "release_command" not in tomllib.loads((app / "config" / "fly.toml").read_text())["deploy"]


def test_fix_refuses_a_symlinked_fly_toml_whose_target_is_outside(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    outside = tmp_path / "outside.toml"
    (app / "fly.toml").rename(outside)
    (app / "fly.toml").symlink_to(outside)
    before = outside.read_bytes()
    code, err = fix(app, capsys, monkeypatch, "fly.toml")  # named: a directory walk skips a link out of it
    assert code == 1, err
    assert f"not fixed: fly.toml:5:21: FC401 [release-command-sqlite] fly.toml is outside the project directory " \
           f"{app} (it resolves to {outside}, through a symbolic link)" in err
    assert outside.read_bytes() == before
    assert not (app / "bin").exists() and (app / "Dockerfile").read_text() == (APP / "Dockerfile").read_text()


def test_write_files_refuses_paths_that_leave_the_root(tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "secret").write_text("token\n")
    (root / "link").symlink_to(tmp_path / "secret")
    (root / "loop").symlink_to("loop")
    (root / "fifo-dir").mkdir()
    os.mkfifo(root / "fifo-dir" / "fifo")
    for path, message in ((root / ".." / "secret", "is outside the project directory"),
                          (root / "link", "through a symbolic link"),
                          (Path("/etc/passwd"), "is outside the project directory"),
                          (root / "loop", "is not a regular file"),
                          (root / "fifo-dir" / "fifo", "is not a regular file"),
                          (root, "is outside the project directory")):
        with pytest.raises(UnsafeWrite, match=message):
            write_files([Write(path, "x\n", root)])
    assert (tmp_path / "secret").read_text() == "token\n"
    assert leftovers(tmp_path) == []


def test_a_directory_swapped_for_a_link_after_the_check_is_not_followed(tmp_path: Path, monkeypatch):
    """The directories are opened one by one without following links: a `bin` that becomes a link between the
    path check and the write is refused, not followed."""
    import flyconf.fileio as fileio

    root = tmp_path / "project"
    (root / "bin").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    real = fileio._locate

    def swap_after_check(path, base):
        located = real(path, base)
        (root / "bin").rmdir()
        (root / "bin").symlink_to(elsewhere)
        return located

    monkeypatch.setattr(fileio, "_locate", swap_after_check)
    with pytest.raises(UnsafeWrite, match="bin is a symbolic link or not a directory; not followed"):
        write_files([Write(root / "bin" / "x", "x\n", root)])
    assert list(elsewhere.iterdir()) == []


# -- mode, owner, BOM, line endings ---------------------------------------------------------------------------

def test_mode_and_owner_are_kept(tmp_path: Path):
    target = tmp_path / "fly.toml"
    target.write_text("a = 1\n")
    target.chmod(0o640)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:
        owner = (65534, 65534)
        os.chown(target, *owner)
    write_files([Write(target, "a = 2\n", tmp_path)])
    st = target.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, *owner)
    assert target.read_text() == "a = 2\n"


def test_fix_keeps_bom_crlf_mode_and_comments_and_is_idempotent(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    fly, dockerfile = app / "fly.toml", app / "Dockerfile"
    fly.write_bytes(b"\xef\xbb\xbf" + fly.read_bytes().replace(b"\n", b"\r\n"))
    dockerfile.write_bytes(dockerfile.read_bytes().replace(b"\n", b"\r\n"))
    fly.chmod(0o600)
    dockerfile.chmod(0o664)
    code, err = fix(app, capsys, monkeypatch)
    assert code == 0, err
    data = fly.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf" * 2)
    for path in (fly, dockerfile):
        raw = path.read_bytes()
        assert raw.count(b"\n") == raw.count(b"\r\n"), f"{path.name} lost a CR"
    assert b"  # Prisma reads this.\r\n" in data
    assert b'# release_command = "npx prisma migrate deploy"\r\n' in data
    assert tomllib.loads(data.decode("utf-8-sig"))["env"]["DATABASE_URL"] == "file:/data/dev.db"
    assert b"COPY --chmod=755 bin/fly-entrypoint /usr/local/bin/fly-entrypoint\r\n" in dockerfile.read_bytes()
    assert (stat.S_IMODE(fly.stat().st_mode), stat.S_IMODE(dockerfile.stat().st_mode)) == (0o600, 0o664)
    after = snapshot(app)
    code, err = fix(app, capsys, monkeypatch)
    assert (code, err) == (0, "flyconf: nothing to fix\n")
    assert snapshot(app) == after


# -- an inline deploy table -------------------------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_fix_takes_release_command_out_of_an_inline_deploy_table(tmp_path: Path, capsys, monkeypatch, newline):
    app = app_copy(tmp_path)
    fly = app / "fly.toml"
    text = fly.read_text().replace('[deploy]\n  release_command = "npx prisma migrate deploy"\n',
                                   'deploy = { release_command = "npx prisma migrate deploy", strategy = "rolling", '
                                   'wait_timeout = "5m" }  # how it ships\n')
    fly.write_bytes(text.replace("\n", newline).encode())
    code, err = fix(app, capsys, monkeypatch)
    assert code == 0, err
    fixed = fly.read_bytes().decode()
    assert (f'# release_command = "npx prisma migrate deploy"{newline}'
            "# flyconf: moved to bin/fly-entrypoint, which migrates on every Machine at start-up (the release "
            f'Machine has no volume){newline}deploy = {{ strategy = "rolling", wait_timeout = "5m" }}  # how it ships'
            f"{newline}") in fixed
    assert tomllib.loads(fixed)["deploy"] == {"strategy": "rolling", "wait_timeout": "5m"}
    assert [line for line in fixed.split(newline) if line not in text.split("\n")] == [
        '# release_command = "npx prisma migrate deploy"',
        "# flyconf: moved to bin/fly-entrypoint, which migrates on every Machine at start-up (the release Machine "
        "has no volume)",
        'deploy = { strategy = "rolling", wait_timeout = "5m" }  # how it ships',
        '  DATABASE_URL = "file:/data/dev.db"', "[[mounts]]", '  source = "data"', '  destination = "/data"']
    assert main(["fix"]) == 0 and capsys.readouterr().err == "flyconf: nothing to fix\n"


# -- suppressed and unselected findings are not fixed ------------------------------------------------------------

SUPPRESSED_DB = ('  # Prisma reads this.\n  DATABASE_URL = "file:/app/prisma/dev.db"  '
                 "# flyconf: ignore[sqlite-not-on-volume] a scratch copy\n")


def _findings(app: Path, monkeypatch) -> list[tuple[str, int, int, bool]]:
    monkeypatch.chdir(app)
    return [(d.code, d.line, d.column, d.fixable) for d in run(["."]).diagnostics if d.code in ("FC401", "FC402")]


def test_fix_leaves_a_suppressed_database_where_it_is(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    fly = app / "fly.toml"
    fly.write_text(fly.read_text().replace('  # Prisma reads this.\n  DATABASE_URL = "file:/app/prisma/dev.db"\n',
                                           SUPPRESSED_DB))
    before = fly.read_text()
    # lint reports no FC402 and promises no fix of the release_command: the wrapper cannot migrate a database
    # that is not on a volume, so fix declines it too, and says why.
    assert _findings(app, monkeypatch) == [("FC401", 5, 21, False)]
    plan = plan_fixes(".")
    assert plan.fixed == frozenset() and len(plan) == 0
    code, err = fix(app, capsys, monkeypatch)
    assert code == 1
    assert "FC402" not in err and "not fixed: fly.toml:5:21: FC401" in err
    assert fly.read_text() == before and not (app / "bin").exists()


def test_fix_leaves_a_suppressed_release_command_and_still_moves_the_database(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    fly = app / "fly.toml"
    fly.write_text(fly.read_text().replace('[deploy]\n', '[deploy]\n  # flyconf: ignore[FC401] migrates a seed copy\n'))
    assert _findings(app, monkeypatch) == [("FC402", 10, 18, True)]
    code, err = fix(app, capsys, monkeypatch)
    assert code == 0, err
    data = tomllib.loads(fly.read_text())
    assert data["deploy"]["release_command"] == "npx prisma migrate deploy"
    assert data["env"]["DATABASE_URL"] == "file:/data/dev.db"
    assert not (app / "bin").exists() and (app / "Dockerfile").read_text() == (APP / "Dockerfile").read_text()


@pytest.mark.parametrize("config", ['[tool.flyconf]\nignore = ["sqlite-not-on-volume"]\n',
                                    '[tool.flyconf.per-file-ignores]\n"fly.toml" = ["FC402"]\n'])
def test_fix_leaves_a_database_whose_rule_the_configuration_ignores(tmp_path: Path, capsys, monkeypatch, config):
    app = app_copy(tmp_path)
    (app / "pyproject.toml").write_text(config)
    before = (app / "fly.toml").read_text()
    code, err = fix(app, capsys, monkeypatch)
    assert code == 1 and "FC402" not in err, err
    assert (app / "fly.toml").read_text() == before
    # lint with the same configuration marks nothing
    monkeypatch.chdir(app)
    assert main(["lint", "--format", "concise", "."]) == 1
    assert "[*]" not in capsys.readouterr().out


# -- generate, write_entrypoint and the generated header -------------------------------------------------------------

def test_generate_entrypoint_does_not_overwrite_a_hand_written_file_that_mentions_flyconf(tmp_path: Path, capsys,
                                                                                          monkeypatch):
    app = app_copy(tmp_path)
    (app / "bin").mkdir()
    mine = "#!/bin/sh\n# Our wrapper, once generated by flyconf, since edited by hand.\nexec \"$@\"\n"
    (app / "bin" / "fly-entrypoint").write_text(mine)
    monkeypatch.chdir(app)
    generate = ["generate", "entrypoint", "--preset", "prisma", "--volume", "/data", "--database", "/data/dev.db"]
    assert main(generate) == 2
    assert "bin/fly-entrypoint exists and was not written by flyconf; use --force" in capsys.readouterr().err
    assert (app / "bin" / "fly-entrypoint").read_text() == mine
    code, err = fix(app, capsys, monkeypatch)
    assert code == 1 and "bin/fly-entrypoint exists and was not written by flyconf" in err
    # What generate wrote is recognised, and replaced without --force.
    (app / "bin" / "fly-entrypoint").unlink()
    assert main(generate) == 0
    assert main([*generate, "--backups", "1"]) == 0
    assert "flyconf_backups='1'" in (app / "bin" / "fly-entrypoint").read_text()


def test_generate_refuses_to_write_through_a_symlink_out_of_the_project(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (app / "bin").symlink_to(elsewhere)
    monkeypatch.chdir(app)
    assert main(["generate", "entrypoint", "--preset", "prisma", "--volume", "/data", "--database", "/data/x.db"]) == 2
    assert "through a symbolic link): flyconf writes only inside it; not written" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_generate_dockerfile_does_not_edit_a_dockerfile_outside_the_project(tmp_path: Path, capsys, monkeypatch):
    app = app_copy(tmp_path)
    (tmp_path / "shared").mkdir()
    (app / "Dockerfile").rename(tmp_path / "shared" / "Dockerfile")
    fly = app / "fly.toml"
    fly.write_text(fly.read_text() + '\n[build]\n  dockerfile = "../shared/Dockerfile"\n')
    before = (tmp_path / "shared" / "Dockerfile").read_text()
    monkeypatch.chdir(app)
    assert main(["generate", "dockerfile"]) == 2
    # Not even read: lint's finding on `[build] dockerfile` says why.
    assert ("flyconf: error: fly.toml:18:16: `[build] dockerfile` names ../shared/Dockerfile, which leads outside "
            in capsys.readouterr().err)
    assert (tmp_path / "shared" / "Dockerfile").read_text() == before


def test_write_entrypoint_is_atomic_and_never_follows_a_link_out(tmp_path: Path):
    options = EntrypointOptions(volume="/data", database="/data/app.db", migrate="true")
    out = write_entrypoint(options, tmp_path / "fly-entrypoint")
    assert out.read_text() == render_entrypoint(options) and stat.S_IMODE(out.stat().st_mode) == 0o755
    secret = tmp_path.parent / f"{tmp_path.name}-secret"
    secret.write_text("token\n")
    try:
        (tmp_path / "linked").symlink_to(secret)
        with pytest.raises(UnsafeWrite, match="through a symbolic link"):
            write_entrypoint(options, tmp_path / "linked")
        assert secret.read_text() == "token\n"
    finally:
        secret.unlink()
    assert leftovers(tmp_path) == []


def test_apply_writes_a_plan_made_by_plan_fixes(tmp_path: Path, monkeypatch):
    app = app_copy(tmp_path)
    monkeypatch.chdir(app)
    plan = plan_fixes(".")
    assert sorted(str(e.path) for e in plan) == sorted(FILES)
    assert {e.root for e in plan} == {app.resolve()}
    assert sorted(str(p) for p in apply(plan)) == sorted(FILES)
    assert len(plan_fixes(".")) == 0


# -- real apps, with CRLF, a BOM and their own modes ------------------------------------------------------------

def _corpus_candidates() -> list[Path]:
    """Corpus apps whose fly.toml could have something to fix (a release_command or a SQLite-looking path)."""
    import re

    hint = re.compile(r"release_command|sqlite|\.db\b", re.IGNORECASE)
    return sorted({p.parent for p in CORPUS.glob("*/fly*.toml") if hint.search(p.read_text(errors="replace"))})


@needs_shared(CORPUS)
def test_fix_on_real_apps_keeps_crlf_bom_mode_comments_and_is_idempotent(tmp_path: Path):
    """Every corpus app that fix changes, with each file it edits saved with CRLF line endings, a BOM and mode
    0640: the fixed files parse, keep all three and every comment line, and a second fix changes nothing."""
    fixed = 0
    for src in _corpus_candidates():
        if not len(plan_fixes(src)):
            continue
        app = tmp_path / src.name
        shutil.copytree(src, app, symlinks=True)
        edited = [e.path for e in plan_fixes(app) if e.old is not None]
        originals = {}
        for path in edited:
            text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
            originals[path] = text
            path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
            path.chmod(0o640)
        plan = plan_fixes(app)
        assert sorted(e.path for e in plan if e.old is not None) == sorted(edited), src.name
        apply(plan)
        fixed += 1
        for path in edited:
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\n") == raw.count(b"\r\n"), path
            assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
            text = raw.decode("utf-8-sig").replace("\r\n", "\n")
            for line in originals[path].split("\n"):
                if line.strip().startswith("#"):
                    assert line in text, (path, line)
            if path.name.endswith(".toml"):
                tomllib.loads(text)
        assert len(plan_fixes(app)) == 0, f"a second fix of {src.name} changed something"
    assert fixed >= 3  # the corpus has real fixable apps (4 today): the test is not vacuous


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_wrapper_that_is_a_device_or_a_fifo_is_never_read(tmp_path: Path, kind: str):
    """bin/fly-entrypoint -> /dev/zero, or a FIFO: fix and generate neither hang nor fill memory reading it; they
    decline (fix) or refuse (generate) to replace it."""
    app = app_copy(tmp_path)
    (app / "bin").mkdir()
    wrapper = app / "bin" / "fly-entrypoint"
    if kind == "fifo":
        os.mkfifo(wrapper)
    else:
        wrapper.symlink_to("/dev/zero")
    for args, code, message in ((["fix"], 1, "release_command not moved: bin/fly-entrypoint "),
                                (["generate", "entrypoint", "--preset", "prisma", "--volume", "/data", "--database",
                                  "/data/dev.db"], 2, "flyconf: error: bin/fly-entrypoint ")):
        proc = flyconf(args, app)  # in a subprocess with time and memory limits
        assert proc.code == code, proc.err
        assert message + ("is not a regular file" if kind == "fifo" else "is outside the project directory") \
            in proc.err
    assert stat.S_ISFIFO(os.lstat(wrapper).st_mode) if kind == "fifo" else os.readlink(wrapper) == "/dev/zero"


def test_an_interrupt_between_renames_puts_every_file_back(tmp_path: Path, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).write_text(f"{name}\n")
    real = os.replace

    def interrupted(src, dst, **kw):
        if dst == "b" and str(src).endswith(".tmp"):
            raise KeyboardInterrupt
        return real(src, dst, **kw)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_files([Write(tmp_path / "a", "A\n", tmp_path), Write(tmp_path / "b", "B\n", tmp_path)])
    assert snapshot(tmp_path) == {"a": b"a\n", "b": b"b\n"}
