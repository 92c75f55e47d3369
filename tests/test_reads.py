"""Reading hostile file systems (issue 13): FIFOs, devices, loops of links, NUL bytes in paths, files outside
the project, unreadable directories. Every case that could hang or eat memory runs the command line in a
subprocess with a timeout and an address-space limit, so a regression fails instead of hanging the suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flyconf import lint_paths
from flyconf.lint import run
from flyconf.sources import base
from flyconf.sources.base import ReadFailure, read_bytes
from tests.conftest import REPO
from tests.hostile.helpers import cli as in_process
from tests.hostile.helpers import flyconf, inside, limit_memory

APPS = REPO / "tests" / "fixtures" / "apps"
MOUNT = "[[mounts]]\nsource = 'data'\ndestination = '/data'\n"
SECRET = "ghp_Zq7TopSecretTokenXk42"  # a token a CI log must never show


def findings(*args: str, cwd: Path) -> list[tuple[str, int, int, str, str]]:
    """`lint --format json` in a subprocess: for files that could hang or exhaust memory."""
    proc = flyconf(["lint", "--format", "json", *args], cwd)
    assert "internal error" not in proc.err, proc.err
    return [(d["path"], d["line"], d["column"], d["code"], d["message"]) for d in json.loads(proc.out)]


def cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """The command line in this process (exit code, stdout, stderr): for files that cannot hang it."""
    with inside(cwd):
        o = in_process(args)
    return o.code, o.out, o.err


def lint_json(*args: str, cwd: Path) -> list[tuple[str, int, int, str, str]]:
    code, out, err = cli("lint", "--format", "json", *args, cwd=cwd)
    assert "internal error" not in err, err
    return [(d["path"], d["line"], d["column"], d["code"], d["message"]) for d in json.loads(out)]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# -- the reader ------------------------------------------------------------------------------------------

@pytest.fixture
def deadline():
    """In-process reads of FIFOs: a regression raises instead of blocking the suite forever."""
    import signal

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("a read blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_reader_refuses_what_is_not_a_regular_file(tmp_path: Path, deadline: None):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    expected = {
        "fifo": "not a regular file (a FIFO): not read",
        "zero": "not a regular file (a character device): not read",
        "a": "a symbolic link loop: the file cannot be read",
        ".": "is a directory, not a file",
        "missing": "file not found",
        "x\0y": "file not found (the path contains a NUL character)",
    }
    for name, message in expected.items():
        got = read_bytes(tmp_path / name)
        assert isinstance(got, ReadFailure) and (got.rule, got.message) == ("io-error", message), name
    assert read_bytes(tmp_path / "zero", head=5) == ReadFailure(
        "io-error", "not a regular file (a character device): not read")


def test_reader_does_not_trust_the_size_the_file_system_gives(monkeypatch: pytest.MonkeyPatch):
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs /proc, whose regular files say they are empty")
    data = read_bytes(status)
    assert isinstance(data, bytes) and data.startswith(b"Name:")  # read although st_size is 0
    monkeypatch.setattr(base, "MAX_BYTES", 16)
    got = read_bytes(status)
    assert isinstance(got, ReadFailure) and got.message.startswith("file is too large")
    assert read_bytes(status, head=5) == b"Name:"


def test_reader_refuses_a_file_over_the_limit_without_reading_it(tmp_path: Path):
    big = tmp_path / "fly.toml"
    with open(big, "wb") as fh:
        fh.truncate(base.MAX_BYTES + 1)
    got = read_bytes(big)
    assert isinstance(got, ReadFailure) and got.message == (
        f"file is too large to be a configuration file ({base.MAX_BYTES + 1} bytes or more; "
        f"the limit is {base.MAX_BYTES})")


# -- special files named fly.toml or Dockerfile ---------------------------------------------------------

def test_a_fifo_named_fly_toml_is_a_finding_not_a_hang(tmp_path: Path):
    os.mkfifo(tmp_path / "fly.toml")
    assert findings("fly.toml", cwd=tmp_path) == [
        ("fly.toml", 1, 1, "FC001", "not a regular file (a FIFO): not read")]


def test_a_fifo_named_dockerfile_is_a_finding_not_a_hang(tmp_path: Path):
    write(tmp_path, {"fly.toml": 'app = "x"\n'})
    os.mkfifo(tmp_path / "Dockerfile")
    want = [("Dockerfile", 1, 1, "FC001", "not a regular file (a FIFO): not read")]
    assert findings(".", cwd=tmp_path) == want  # found by the walk, and as fly.toml's Dockerfile: once
    assert findings("Dockerfile", cwd=tmp_path) == want


def test_a_device_named_fly_toml_or_dockerfile_is_not_read(tmp_path: Path):
    (tmp_path / "fly.toml").symlink_to("/dev/zero")
    assert findings("fly.toml", cwd=tmp_path) == [
        ("fly.toml", 1, 1, "FC001", "not a regular file (a character device): not read")]
    (tmp_path / "fly.toml").unlink()
    write(tmp_path, {"fly.toml": 'app = "x"\n[build]\ndockerfile = "docker/Dockerfile"\n'})
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").symlink_to("/dev/zero")
    assert findings("fly.toml", cwd=tmp_path) == [(  # /dev/zero is outside the project, first of all
        "fly.toml", 3, 14, "FC001", f"`[build] dockerfile` names docker/Dockerfile, which leads outside {tmp_path}: "
        "flyconf reads no file outside the project, so the Dockerfile is not checked")]


@pytest.mark.parametrize("special", ["zero", "fifo"])
def test_fix_and_generate_do_not_read_a_special_entrypoint(tmp_path: Path, special: str):
    app = tmp_path / "app"
    shutil.copytree(APPS / "rails-sqlite", app)
    (app / "bin").mkdir()
    wrapper = app / "bin" / "fly-entrypoint"
    if special == "zero":
        wrapper.symlink_to("/dev/zero")
    else:
        os.mkfifo(wrapper)
    proc = flyconf(["fix"], app)
    assert (proc.code, "internal error" in proc.err) == (1, False), proc.err
    # fix declines before reading it: the link leads out of the project, the FIFO is not a regular file
    why = (f"is outside the project directory {app} (it resolves to /dev/zero, through a symbolic link)"
           if special == "zero" else "is not a regular file")
    assert f"release_command not moved: bin/fly-entrypoint {why}" in proc.err
    if special == "zero":
        return  # generate reads it as fix does: once is enough for a device
    proc = flyconf(["generate", "entrypoint", "--preset", "rails"], app)
    assert proc.code == 2
    assert proc.err == "flyconf: error: bin/fly-entrypoint is not a regular file; not written\n"


def test_a_special_or_huge_litefs_yml_is_not_read(tmp_path: Path):
    litefs = "fuse:\n  dir: /litefs\ndata:\n  dir: /var/lib/litefs\n"
    write(tmp_path, {"fly.toml": f"[env]\nDATABASE_URL = 'file:/litefs/app.db'\n{MOUNT}", "litefs.yml": litefs})

    def litefs_findings() -> list[tuple[int, int]]:
        return [(d.line, d.column) for d in lint_paths([tmp_path]) if d.rule == "litefs-data-not-on-volume"]

    assert litefs_findings() == [(4, 8)]  # read when it is a file of the project
    (tmp_path / "litefs.yml").write_text(litefs + "#" * base.MAX_BYTES + "\n")
    assert litefs_findings() == []
    (tmp_path / "litefs.yml").unlink()
    os.mkfifo(tmp_path / "litefs.yml")
    assert flyconf(["lint", "."], tmp_path).code in (0, 1)  # and within the timeout


def test_a_fifo_gitignore_does_not_stop_the_walk(tmp_path: Path):
    write(tmp_path, {".git/HEAD": "ref: refs/heads/main\n", "app/fly.toml": "app = 'x'\n[http_service]\n"
                     "internal_port = 99999\n"})
    os.mkfifo(tmp_path / ".gitignore")
    os.mkfifo(tmp_path / "app" / ".gitignore")
    assert [f[:4] for f in findings(".", cwd=tmp_path)] == [("app/fly.toml", 3, 17, "FC501")]


# -- loops of links, NUL bytes ------------------------------------------------------------------------

def test_a_symlink_loop_named_fly_toml_or_dockerfile(tmp_path: Path):
    (tmp_path / "fly.toml").symlink_to("x.toml")
    (tmp_path / "x.toml").symlink_to("fly.toml")
    assert lint_json("fly.toml", cwd=tmp_path) == [
        ("fly.toml", 1, 1, "FC001", "a symbolic link loop: the file cannot be read")]
    for p in ("fly.toml", "x.toml"):
        (tmp_path / p).unlink()
    write(tmp_path, {"fly.toml": 'app = "x"\n'})
    (tmp_path / "Dockerfile").symlink_to("other")
    (tmp_path / "other").symlink_to("Dockerfile")
    want = [("Dockerfile", 1, 1, "FC001", "a symbolic link loop: the file cannot be read")]
    assert lint_json("Dockerfile", cwd=tmp_path) == want  # crashed in Path.resolve
    assert lint_json(".", cwd=tmp_path) == want


def test_a_nul_in_build_dockerfile_is_a_missing_file_not_a_crash(tmp_path: Path):
    write(tmp_path, {"fly.toml": 'app = "x"\n[build]\ndockerfile = "a\\u0000b"\n', "Dockerfile": "FROM alpine\n"})
    for args in ((".",), ("Dockerfile",), ("fly.toml",)):
        got = lint_json(*args, cwd=tmp_path)
        assert [f[:4] for f in got] == ([("fly.toml", 3, 14, "FC702")] if args != ("Dockerfile",) else []), args
    code, stdout, stderr = cli("inspect", ".", cwd=tmp_path)
    assert code == 0 and "internal error" not in stderr


# -- nothing outside the project is read ----------------------------------------------------------------

def _outside(tmp_path: Path) -> Path:
    # Looks like a Dockerfile with a finding, so that reading it would show.
    return write(tmp_path / "home", {".netrc": f"{SECRET}\nFROM alpine\n"})


@pytest.mark.parametrize("named", ["../home/.netrc", "../../../../../../../../..{home}/.netrc", "link/.netrc"])
def test_build_dockerfile_outside_the_project_is_not_read(tmp_path: Path, named: str):
    home = _outside(tmp_path)
    named = named.format(home=home)
    project = write(tmp_path / "project", {"fly.toml": f'app = "x"\n[build]\ndockerfile = "{named}"\n'})
    (project / "link").symlink_to(home)
    code, stdout, stderr = cli("lint", "fly.toml", cwd=project)
    assert code == 1 and SECRET not in stdout + stderr
    assert lint_json("fly.toml", cwd=project) == [(
        "fly.toml", 3, 14, "FC001",
        f"`[build] dockerfile` names {named}, which leads outside {project}: flyconf reads no file outside the "
        "project, so the Dockerfile is not checked")]


def test_a_dockerfile_linking_out_of_the_project_is_not_read(tmp_path: Path):
    home = _outside(tmp_path)
    project = write(tmp_path / "project", {"fly.toml": 'app = "x"\n'})
    (project / "Dockerfile").symlink_to(home / ".netrc")
    code, stdout, stderr = cli("lint", ".", cwd=project)
    assert SECRET not in stdout + stderr
    assert lint_json(".", cwd=project) == [(
        "Dockerfile", 1, 1, "FC001",
        f"not read: the file (or the symbolic link it is) leads outside {project}, and flyconf reads no file "
        "outside the project")]


def test_a_dockerfile_elsewhere_in_the_repository_is_read(tmp_path: Path):
    # In a git work tree the project is the repository: a monorepo's `../../Dockerfile` is linted.
    write(tmp_path, {".git/HEAD": "ref: refs/heads/main\n", "Dockerfile": "FROM alpine\nRUN apt-get update\nNOPE\n",
                     "apps/web/fly.toml": 'app = "x"\n[build]\ndockerfile = "../../Dockerfile"\n'})
    assert [f[:4] for f in lint_json("apps/web/fly.toml", cwd=tmp_path)] == [("Dockerfile", 3, 1, "FC701")]


def test_the_working_directory_holding_the_app_is_the_project(tmp_path: Path):
    # No git work tree (a tarball, the corpus): run at the top of a monorepo, its apps' `../Dockerfile` is linted;
    # run in the app's own directory, the Dockerfile above it is outside the project and not read.
    write(tmp_path, {"Dockerfile": "FROM alpine\nNOPE\n",
                     "web/fly.toml": 'app = "x"\n[build]\ndockerfile = "../Dockerfile"\n'})
    assert [f[:4] for f in lint_json(".", cwd=tmp_path)] == [("Dockerfile", 2, 1, "FC701")]
    assert [f[:4] for f in lint_json("fly.toml", cwd=tmp_path / "web")] == [("fly.toml", 3, 14, "FC001")]


def test_a_start_script_linking_out_of_the_build_context_is_not_read(tmp_path: Path):
    dockerfile = 'FROM node:20\nWORKDIR /app\nCOPY start.sh /app/start.sh\nCMD ["/app/start.sh"]\n'
    script = "#!/bin/sh\nnode server.js\n"
    project = write(tmp_path / "project", {"fly.toml": 'app = "x"\n', "Dockerfile": dockerfile, "start.sh": script})
    assert ("start.sh", 2, 1, "FC801") in [f[:4] for f in lint_json(".", cwd=project)]  # read when inside
    write(tmp_path / "elsewhere", {"start.sh": script})
    (project / "start.sh").unlink()
    (project / "start.sh").symlink_to(tmp_path / "elsewhere" / "start.sh")
    report = run([project])
    assert not any(d.path.endswith("start.sh") for d in report.diagnostics)
    assert not any(p.endswith("start.sh") for p in report.sources)


def test_app_configuration_linking_out_of_the_build_context_is_not_read(tmp_path: Path):
    write(tmp_path / "elsewhere", {"litefs.yml": "fuse:\n  dir: /litefs\ndata:\n  dir: /var/lib/litefs\n"})
    write(tmp_path / "project", {"fly.toml": f"[env]\nDATABASE_URL = 'file:/litefs/app.db'\n{MOUNT}"})
    (tmp_path / "project" / "litefs.yml").symlink_to(tmp_path / "elsewhere" / "litefs.yml")
    assert [d for d in lint_paths([tmp_path / "project"]) if d.path.endswith("litefs.yml")] == []


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github"])
def test_no_line_of_a_file_not_named_as_its_kind_is_shown(tmp_path: Path, fmt: str):
    # Inside the project, but `.netrc` is not a Dockerfile's name: what it holds is never echoed.
    write(tmp_path, {"fly.toml": 'app = "x"\n[build]\ndockerfile = "secrets/.netrc"\n',
                     "secrets/.netrc": f"{SECRET}\nmachine example.com password {SECRET}2\n"})
    code, stdout, stderr = cli("lint", "--format", fmt, ".", cwd=tmp_path)
    assert code == 1 and "internal error" not in stderr
    assert SECRET not in stdout + stderr
    assert SECRET.upper() not in (stdout + stderr).upper()
    assert "secrets/.netrc" in stdout  # the finding is there, without the text


def test_a_file_named_as_its_kind_is_still_quoted(tmp_path: Path):
    write(tmp_path, {"fly.toml": 'app = "x"\n[build]\ndockerfile = "docker/Dockerfile.prod"\n',
                     "docker/Dockerfile.prod": "FROM alpine\nNOPE now\n"})
    code, stdout, stderr = cli("lint", ".", cwd=tmp_path)
    assert "docker/Dockerfile.prod:2:1: error: FC701" in stdout and "2 | NOPE now" in stdout


def test_a_netrc_parsed_as_a_dockerfile_keeps_its_place_but_not_its_words(tmp_path: Path):
    write(tmp_path, {"fly.toml": 'app = "x"\n[build]\ndockerfile = ".netrc"\n', ".netrc": f"{SECRET}\n"})
    (found,) = lint_json(".", cwd=tmp_path)
    assert found[:4] == (".netrc", 1, 1, "FC701")
    assert "`.netrc` is not the name of a Dockerfile" in found[4]


# -- unreadable directories ------------------------------------------------------------------------------

def _locked_tree(tmp_path: Path) -> Path:
    write(tmp_path, {"b/fly.toml": 'app = "x"\n[http_service]\ninternal_port = 99999\n',
                     "a/locked/fly.toml": 'app = "y"\n'})
    return tmp_path / "a" / "locked"


def test_an_unreadable_directory_is_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Simulated, so that it runs as root too: the directory can be neither listed nor searched.
    locked = _locked_tree(tmp_path)
    real_scandir, real_stat = os.scandir, os.stat

    def deny(path: object) -> None:
        p = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if p == str(locked) or p.startswith(str(locked) + os.sep):
            raise PermissionError(13, "Permission denied", p)

    def scandir(path: object = ".") -> object:
        deny(path)
        return real_scandir(path)  # type: ignore[call-overload]

    def stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if isinstance(path, (str, bytes, os.PathLike)) and os.fsdecode(path).startswith(str(locked) + os.sep):
            deny(path)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)
    report = run([tmp_path])
    assert report.notes == [f"{base.display(locked)}: cannot read it (Permission denied): skipped"]
    assert [(Path(d.path).parent.name, d.line, d.column, d.code) for d in report.diagnostics] == [("b", 3, 17, "FC501")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any directory")
def test_an_unreadable_directory_is_a_note_on_the_command_line(tmp_path: Path):
    locked = _locked_tree(tmp_path)
    locked.chmod(0)
    try:
        proc = flyconf(["lint", "."], tmp_path)
    finally:
        locked.chmod(0o755)
    assert "flyconf: warning: a/locked: cannot read it (Permission denied): skipped" in proc.err
    assert "b/fly.toml:3:17" in proc.out


def test_standard_input_is_read_up_to_the_limit(tmp_path: Path):
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run([sys.executable, "-m", "flyconf", "lint", "--format", "json", "-"], cwd=tmp_path,
                              stdin=zero, capture_output=True, text=True, timeout=30, preexec_fn=limit_memory,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1, proc.stderr
    assert [(d["path"], d["line"], d["column"], d["code"], d["message"]) for d in json.loads(proc.stdout)] == [
        ("fly.toml", 1, 1, "FC001", f"file is too large to be a configuration file ({base.MAX_BYTES + 1} bytes or "
                                    f"more; the limit is {base.MAX_BYTES})")]


def test_compose_env_file_outside_the_project_is_not_read(tmp_path: Path):
    write(tmp_path / "elsewhere", {"app.env": f"TOKEN={SECRET}\n"})
    project = write(tmp_path / "project", {
        "compose.yaml": "services:\n  web:\n    image: nginx\n    env_file: ../elsewhere/app.env\n"})
    (project / "linked.env").symlink_to(tmp_path / "elsewhere" / "app.env")
    report = run([project])
    assert "app.env" not in {Path(p).name for p in report.sources}
    (project / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    env_file: linked.env\n")
    assert {Path(p).name for p in run([project]).sources} == {"compose.yaml"}
    (project / "inside.env").write_text("TOKEN=x\n")  # and the same file inside is read
    (project / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n    env_file: inside.env\n")
    assert {Path(p).name for p in run([project]).sources} == {"compose.yaml", "inside.env"}
