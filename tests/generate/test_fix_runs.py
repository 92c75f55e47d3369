"""Fixed apps really start: `flyconf fix` on a copy of an app, then the wrapper it wrote is run as the image would
run it, once per fly.toml, with that file's `[env]`.

"As the image would run it": in a private mount namespace, chrooted into a root made of this machine's /usr,
/etc, /dev, /proc and /tmp, with the app's build context at its WORKDIR (/app) and a fresh volume directory
bind-mounted at the fly.toml's mount destination (/data, /mnt/staging): a real mount point, at the real path,
so the wrapper's /proc/self/mountinfo check sees what it sees on a Machine. The command is the fixed
Dockerfile's ENTRYPOINT and CMD (the wrapper run from the build context, where COPY takes it from).

The apps migrate with goose (`goose up`), which this machine does not have: a stand-in on PATH applies the
`-- +goose Up` sections of migrations/*.sql with the real sqlite3 and records them in goose's version table, so
each migration runs once. gosu is likewise a stand-in (over setpriv). Switching users needs root.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from flyconf.sources.dockerfile import parse_dockerfile
from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

APPS = REPO / "tests" / "fixtures" / "apps"
IMAGE_WRAPPER = "/usr/local/bin/fly-entrypoint"

GOOSE = r"""#!/bin/sh
# Stand-in for pressly/goose `up` (GOOSE_DRIVER=sqlite3, GOOSE_DBSTRING, GOOSE_MIGRATION_DIR): applies each
# pending migration's "-- +goose Up" section with sqlite3 and records its version, as goose does.
set -eu
[ "$1" = up ] && [ "$GOOSE_DRIVER" = sqlite3 ]
db=$GOOSE_DBSTRING
applied=0
sqlite3 "$db" 'CREATE TABLE IF NOT EXISTS goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime()));'
for file in "$GOOSE_MIGRATION_DIR"/*.sql; do
    name=${file##*/}
    version=$(expr "${name%%_*}" + 0)
    if [ "$(sqlite3 "$db" "SELECT count(*) FROM goose_db_version WHERE version_id = $version")" -ne 0 ]; then
        continue
    fi
    { echo 'BEGIN;'; sed -n '/^-- +goose Up/,/^-- +goose Down/p' "$file";
      echo "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($version, 1); COMMIT;"; } | sqlite3 "$db"
    echo "goose: OK   $name"
    applied=$((applied + 1))
done
if [ "$applied" -eq 0 ]; then
    echo "goose: no migrations to run. current version: $(sqlite3 "$db" 'SELECT max(version_id) FROM goose_db_version')"
fi
"""

GOSU = """#!/bin/sh
# Stand-in for gosu USER COMMAND...: switch to USER (its groups too), then run the command.
user=$1
shift
exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
"""

# What the chroot's /etc/passwd and /etc/group add: the users the images run as.
USERS = {"node": 1000, "app": 1001}

ROOT_SETUP = r"""
set -eu
root=$1 passwd=$2 group=$3 tools=$4 app=$5 volume=$6 destination=$7 workdir=$8 userspec=$9 chroot=${10}
shift 10
for d in usr etc tmp dev proc; do
    mkdir -p "$root/$d"
    mount --rbind "/$d" "$root/$d"
done
for d in bin lib lib64 sbin; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"; fi
done
mount --bind "$passwd" "$root/etc/passwd"
mount --bind "$group" "$root/etc/group"
mkdir -p "$root/opt/tools" "$root$workdir" "$root$destination"
mount --bind "$tools" "$root/opt/tools"
mount --bind "$app" "$root$workdir"
mount --bind "$volume" "$root$destination"
if [ -n "$userspec" ]; then
    exec "$chroot" --userspec="$userspec" --groups= "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
fi
exec "$chroot" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
"""


def _namespace_problem() -> str | None:
    if os.geteuid() != 0:
        return "needs root: a mount namespace with a chroot, and users to switch to"
    for tool in ("unshare", "mount", "chroot", "setpriv", "sqlite3", "sed"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = subprocess.run(["unshare", "--mount", "/bin/sh", "-c", "mount --bind /tmp /tmp"], capture_output=True)
    if probe.returncode != 0:
        return f"mount namespaces are not permitted here: {probe.stderr.decode().strip()}"
    return None


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> "Image":
    problem = _namespace_problem()
    if problem:
        pytest.skip(problem)
    base = tmp_path_factory.mktemp("image")
    tools = base / "tools"
    tools.mkdir()
    for name, text in (("goose", GOOSE), ("gosu", GOSU)):
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    passwd, group = base / "passwd", base / "group"
    passwd.write_text(Path("/etc/passwd").read_text()
                      + "".join(f"{u}:x:{n}:{n}::/home/{u}:/bin/sh\n" for u, n in USERS.items()))
    group.write_text(Path("/etc/group").read_text() + "".join(f"{u}:x:{n}:\n" for u, n in USERS.items()))
    base.chmod(0o755)
    tools.chmod(0o755)
    return Image(base, tools, passwd, group)


@dataclass
class Image:
    base: Path
    tools: Path
    passwd: Path
    group: Path
    runs: int = 0

    def run(self, app: Path, config: str, volume: Path, *, env_override: dict[str, str] | None = None,
            user: str | None = None, shell: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """Start the fixed image of ``app`` as a Machine deployed with ``config`` would start (the wrapper run
        by ``shell`` when given, else by its #!/bin/sh)."""
        data = tomllib.loads((app / config).read_text())
        (mount,) = data["mounts"]
        env = {k: str(v) for k, v in data.get("env", {}).items()}
        env.update(env_override or {})
        env.update(PATH="/opt/tools:/usr/local/bin:/usr/bin:/bin", FLY_PROCESS_GROUP="app", FLY_APP_NAME=data["app"],
                   SERVER_SECONDS="0", HOME="/root")
        argv = image_command(app)
        if shell:
            at = argv.index("/app/bin/fly-entrypoint")
            argv = argv[:at] + list(shell) + argv[at:]
        self.runs += 1
        root = self.base / f"root{self.runs}"
        root.mkdir()
        uid = USERS[user] if user else None
        userspec = f"{uid}:{uid}" if uid is not None else ""
        return subprocess.run(
            [str(shutil.which("unshare")), "--mount", "/bin/sh", "-c", ROOT_SETUP, "sh", str(root), str(self.passwd),
             str(self.group), str(self.tools), str(app), str(volume), mount["destination"], "/app", userspec,
             str(shutil.which("chroot")), *argv],
            env=env, capture_output=True, text=True, timeout=60,
        )


def image_command(app: Path) -> list[str]:
    """The fixed Dockerfile's ENTRYPOINT + CMD, with the wrapper run from the build context (COPY's source)."""
    df = parse_dockerfile((app / "Dockerfile").read_text(), "Dockerfile", app / "Dockerfile")
    image = df.effective(None)  # type: ignore[union-attr]
    entrypoint = image.entrypoint.argv(strict=True) if image.entrypoint is not None else []
    assert IMAGE_WRAPPER in entrypoint, entrypoint
    assert f"COPY --chmod=755 bin/fly-entrypoint {IMAGE_WRAPPER}" in (app / "Dockerfile").read_text()
    argv = entrypoint + image.cmd.argv(strict=True)
    return ["/app/bin/fly-entrypoint" if a == IMAGE_WRAPPER else a for a in argv]


def flyconf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "flyconf", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def fixed_copy(tmp_path: Path, name: str) -> Path:
    app = tmp_path / name
    shutil.copytree(APPS / name, app)
    app.chmod(0o755)
    proc = flyconf("fix", cwd=app)
    assert proc.returncode == 0, proc.stderr
    return app


def volume(tmp_path: Path, name: str, owner: int = 0) -> Path:
    v = tmp_path / name
    v.mkdir()
    v.chmod(0o755)
    os.chown(v, owner, owner)  # Fly makes a new volume the image's user's
    return v


def rows(db: Path, sql: str) -> int:
    con = sqlite3.connect("file:" + urllib.parse.quote(str(db)) + "?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


# -- several fly.toml files, one Dockerfile -------------------------------------------------------------

SHELLS = {"sh": (), "bash": ("/bin/bash",), "busybox-ash": ("/bin/busybox", "ash")}


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_two_configs_share_one_wrapper_and_both_start(tmp_path: Path, image_root: Image, shell: str):
    """The image is Alpine's, whose /bin/sh is BusyBox ash; dash (this machine's sh) and bash too."""
    if SHELLS[shell] and not Path(SHELLS[shell][0]).exists():
        pytest.skip(f"{SHELLS[shell][0]} is not installed")
    app = fixed_copy(tmp_path, "two-configs")
    assert (app / "bin" / "fly-entrypoint").stat().st_mode & stat.S_IXUSR
    production = tomllib.loads((app / "fly.toml").read_text())["env"]
    staging = tomllib.loads((app / "fly.staging.toml").read_text())["env"]
    assert (production["FLYCONF_VOLUME"], staging["FLYCONF_VOLUME"]) == ("/data", "/mnt/staging")
    assert staging["FLYCONF_DATABASES"] == "/mnt/staging/notes.sqlite3:/mnt/staging/cache/cache.sqlite3"
    assert "FLYCONF_MIGRATE_GROUPS" not in staging  # one group each: the default "*" serves both

    volumes = {"fly.toml": volume(tmp_path, "data-volume"), "fly.staging.toml": volume(tmp_path, "staging-volume")}
    where = {"fly.toml": "/data", "fly.staging.toml": "/mnt/staging"}
    for config, vol in volumes.items():
        for start in (1, 2):  # a second start migrates nothing new
            proc = image_root.run(app, config, vol, shell=SHELLS[shell])
            assert proc.returncode == 0, proc.stderr
            assert "flyconf: migrating: goose up" in proc.stderr
            assert "WARNING" not in proc.stderr  # the volume was really mounted: no override needed
            *migration, served = proc.stdout.splitlines()
            assert served == f"serving 1 notes from {where[config]}/notes.sqlite3 as uid 0; cache directory: yes"
            assert migration == (["goose: OK   00001_notes.sql"] if start == 1 else
                                 ["goose: no migrations to run. current version: 1"])
        assert rows(vol / "notes.sqlite3", "SELECT count(*) FROM goose_db_version") == 1
        assert (vol / "cache").is_dir()
    # Each Machine migrated its own volume, and only that.
    assert sorted(p.name for p in volumes["fly.toml"].iterdir() if not p.name.startswith(".")) == \
        sorted(p.name for p in volumes["fly.staging.toml"].iterdir() if not p.name.startswith(".")) == \
        ["cache", "notes.sqlite3"]


def test_without_its_env_the_staging_machine_would_not_start(tmp_path: Path, image_root: Image):
    """What the [env] settings prevent: the wrapper's defaults are production's, and /data is not mounted on a
    staging Machine, so it stops (78) rather than migrate a throw-away file."""
    app = fixed_copy(tmp_path, "two-configs")
    unset = {name: "" for name in ("FLYCONF_VOLUME", "FLYCONF_DATABASES")}
    proc = image_root.run(app, "fly.staging.toml", volume(tmp_path, "staging-volume"), env_override=unset)
    assert proc.returncode == 78, proc.stderr
    assert "no volume is mounted at /data" in proc.stderr
    assert proc.stdout == ""


def test_fix_diff_is_a_patch_git_applies_once(tmp_path: Path):
    """Each file's change once (the Dockerfile is shared by both configs), as a patch `git apply` accepts,
    giving exactly what `fix` writes, the wrapper's run bit included; --diff exits 1 (changes pending)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    patched = tmp_path / "patched"
    shutil.copytree(APPS / "two-configs", patched)
    diff = flyconf("fix", "--diff", cwd=patched)
    assert diff.returncode == 1, diff.stderr
    heads = [line for line in diff.stdout.splitlines() if line.startswith("diff --git ")]
    assert heads == ["diff --git a/fly.toml b/fly.toml", "diff --git a/fly.staging.toml b/fly.staging.toml",
                     "diff --git a/bin/fly-entrypoint b/bin/fly-entrypoint", "diff --git a/Dockerfile b/Dockerfile"]
    assert "new file mode 100755\n--- /dev/null\n+++ b/bin/fly-entrypoint\n" in diff.stdout
    run = {"cwd": patched, "capture_output": True, "text": True}
    subprocess.run([git, "init", "-q"], check=True, **run)
    check = subprocess.run([git, "apply", "--check", "-"], input=diff.stdout, **run)
    assert check.returncode == 0, check.stderr
    assert subprocess.run([git, "apply", "-"], input=diff.stdout, **run).returncode == 0

    fixed = tmp_path / "fixed"
    shutil.copytree(APPS / "two-configs", fixed)
    assert flyconf("fix", cwd=fixed).returncode == 0
    for rel in ("fly.toml", "fly.staging.toml", "Dockerfile", "bin/fly-entrypoint"):
        assert (patched / rel).read_text() == (fixed / rel).read_text(), rel
    assert (patched / "bin/fly-entrypoint").stat().st_mode & 0o111
    again = flyconf("fix", "--diff", cwd=fixed)
    assert (again.returncode, again.stdout) == (0, "")
    assert "nothing to fix" in again.stderr


# -- who owns the volume --------------------------------------------------------------------------------

def test_non_root_image_starts_on_a_volume_of_its_own_without_chown(tmp_path: Path, image_root: Image):
    """`USER node`: Fly gives the new volume to node; the wrapper runs as node, changes no owner, migrates."""
    app = fixed_copy(tmp_path, "user-node")
    script = (app / "bin" / "fly-entrypoint").read_text()
    assert "flyconf_run_as" not in script
    body = script.split("\nset -eu\n", 1)[1]
    assert not [line for line in body.splitlines() if line.strip().startswith("chown")
                or " chown " in line and not line.strip().startswith("flyconf_log")]
    node = USERS["node"]
    vol = volume(tmp_path, "node-volume", owner=node)
    proc = image_root.run(app, "fly.toml", vol, user="node")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["goose: OK   00001_notes.sql",
                                        f"serving 1 notes from /data/notes.sqlite3 as uid {node}; cache directory: yes"]
    assert vol.stat().st_uid == node and (vol / "notes.sqlite3").stat().st_uid == node
    # The same image on a volume made while it ran as root: the wrapper says so and changes nothing.
    root_vol = volume(tmp_path, "old-root-volume")
    proc = image_root.run(app, "fly.toml", root_vol, user="node")
    assert proc.returncode == 73, proc.stderr
    assert "keeps its owner" in proc.stderr and root_vol.stat().st_uid == 0
    assert not (root_vol / "notes.sqlite3").exists()


def test_root_image_that_switches_users_gets_chown_then_drop(tmp_path: Path, image_root: Image):
    """No USER, and the entrypoint runs `gosu app`: Fly gives the volume to root, so the wrapper (first in the
    ENTRYPOINT, as root) gives it to app, migrates as app, and starts the entrypoint, which switches to app."""
    lint = flyconf("lint", "--format", "json", "--exit-zero", ".", cwd=APPS / "root-gosu")
    import json

    before = [(f["rule"], f["path"], f["line"], f["column"]) for f in json.loads(lint.stdout)]
    assert ("volume-not-writable", "bin/docker-entrypoint", 4, 6) in before
    app = fixed_copy(tmp_path, "root-gosu")
    assert image_command(app)[:2] == ["/app/bin/fly-entrypoint", "/app/bin/docker-entrypoint"]
    assert "\nflyconf_run_as='app'\n" in (app / "bin" / "fly-entrypoint").read_text()
    uid = USERS["app"]
    vol = volume(tmp_path, "root-volume")
    for _ in range(2):
        proc = image_root.run(app, "fly.toml", vol)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[-1] == \
            f"serving 1 notes from /data/db/notes.sqlite3 as uid {uid}; cache directory: yes"
    assert vol.stat().st_uid == uid
    assert (vol / "db").stat().st_uid == uid and (vol / "db" / "notes.sqlite3").stat().st_uid == uid
    after = json.loads(flyconf("lint", "--format", "json", "--exit-zero", ".", cwd=app).stdout)
    assert [f for f in after if f["rule"] in ("volume-not-writable", "release-command-sqlite")] == []

