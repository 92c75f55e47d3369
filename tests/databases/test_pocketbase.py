"""The PocketBase reader: pb_data beside the executable, or `--dir`."""

from __future__ import annotations

from pathlib import Path

from flyconf.assemble import load_app
from flyconf.databases import pocketbase
from flyconf.databases.model import SQLITE, Found
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, pos, write_app

FLY = """
app = "pb"
primary_region = "ams"

[http_service]
  internal_port = 8080

[[mounts]]
  source = "pb_data"
  destination = "/pb/pb_data"
"""

DOWNLOAD = """
FROM alpine:3.20
ARG V=0.22.21
RUN apk add --no-cache unzip ca-certificates
ADD https://github.com/pocketbase/pocketbase/releases/download/v${V}/pocketbase_${V}_linux_amd64.zip /tmp/pb.zip
RUN unzip /tmp/pb.zip -d /pb/
EXPOSE 8080
"""


def dbs(root: Path) -> list[Found]:
    return list(pocketbase.read(app_at(root).context))


def steps(db: Found) -> list[str]:
    return [s.text for s in db.chain]


def test_default_data_dir_beside_the_binary(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY,
                         "Dockerfile": DOWNLOAD + 'CMD ["/pb/pocketbase", "serve", "--http=0.0.0.0:8080"]\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, db.name, db.framework, db.reader) == (SQLITE, "/pb/pb_data/data.db", "pb_data",
                                                                    "pocketbase", "pocketbase")
    assert pos(db) == ("Dockerfile", 7, 1)
    assert (db.groups, db.variable, db.form, db.raw) == (("app",), None, "path", "/pb/pocketbase")
    assert steps(db) == [
        "PocketBase runs `/pb/pocketbase serve --http=0.0.0.0:8080` (the start command of process group app)",
        "no --dir: the data directory is pb_data beside the executable /pb/pocketbase",
        "data.db (and auxiliary.db, or logs.db before v0.23) in /pb/pb_data",
    ]


def test_dir_flag_in_dockerfile_cmd(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        'CMD ["/pb/pocketbase", "serve", "--http=0.0.0.0:8080", "--dir=/pb_data"]\n')})
    [db] = dbs(tmp_path)
    assert (db.path, db.raw) == ("/pb_data/data.db", "/pb_data")
    assert pos(db) == ("Dockerfile", 7, 56)  # the whole JSON string "--dir=/pb_data"
    assert db.declared.span.end_column == 72


def test_dir_flag_in_processes_with_a_separate_value(tmp_path: Path) -> None:
    write_app(tmp_path, {"Dockerfile": DOWNLOAD + 'CMD ["/pb/pocketbase", "serve"]\n', "fly.toml": FLY + """
        [processes]
          app = "/pb/pocketbase serve --http=0.0.0.0:8080 --dir /data/pb"
          worker = "/pb/worker"
        """})
    [db] = dbs(tmp_path)
    assert (db.path, db.groups, db.raw) == ("/data/pb/data.db", ("app",), "/data/pb")
    assert pos(db) == ("fly.toml", 12, 59)
    assert db.declared.span.end_column == 73
    assert steps(db)[1] == "`--dir /data/pb` sets the data directory"


def test_binary_on_path_keeps_its_data_in_the_working_directory(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "RUN mv /pb/pocketbase /usr/local/bin/pocketbase\nWORKDIR /app\n"
        'ENTRYPOINT ["pocketbase"]\nCMD ["serve", "--http=0.0.0.0:8080"]\n')})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/app/pb_data/data.db", ("Dockerfile", 10, 1))
    assert steps(db)[1:3] == [
        "no --dir: `pocketbase` is a relative name: pb_data is beside it, under the working directory (PocketBase "
        "uses os.Args[0])",
        "relative path `pb_data` resolved against the working directory /app"]


def test_relative_dir_without_a_workdir_is_unknown(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY,
                         "Dockerfile": DOWNLOAD + 'CMD ["/pb/pocketbase", "serve", "--dir", "data"]\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("Dockerfile", 7, 33))
    assert db.declared.span.end_column == 48
    assert db.unknown == "relative data directory `data`: the working directory of the image is not known"


def test_go_run_heuristic_for_binaries_under_tmp(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": "FROM alpine\nWORKDIR /srv\nCOPY pocketbase /tmp/pocketbase\n"
                                                        'CMD ["/tmp/pocketbase", "serve"]\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/srv/pb_data/data.db", ("Dockerfile", 4, 1))


def test_start_script_with_cd(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + "COPY start.sh /start.sh\nCMD [\"/start.sh\"]\n",
                         "start.sh": """
                         #!/bin/sh
                         set -e
                         cd /srv
                         ./bin/pocketbase migrate up
                         exec ./bin/pocketbase serve --http=0.0.0.0:8080
                         """})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/srv/bin/pb_data/data.db", ("start.sh", 5, 1))
    assert steps(db)[0] == ("PocketBase runs `exec ./bin/pocketbase serve --http=0.0.0.0:8080` (start script "
                            "start.sh)")
    assert steps(db)[2] == "relative path `bin/pb_data` resolved against the working directory /srv (`cd /srv` in " \
                           "start script start.sh)"


def test_start_script_dir_from_dockerfile_env(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "ENV PB_DATA=/pb/pb_data\nCOPY entrypoint.sh /pb/entrypoint.sh\nENTRYPOINT [\"/pb/entrypoint.sh\"]\n"),
        "entrypoint.sh": '#!/bin/sh\nexec /pb/pocketbase serve --http=0.0.0.0:8080 --dir="$PB_DATA"\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/pb/pb_data/data.db", ("entrypoint.sh", 2, 47))
    assert "PB_DATA = '/pb/pb_data' is set in Dockerfile ENV" in steps(db)


def test_arguments_that_may_hold_dir_make_it_unknown(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "COPY entrypoint.sh /pb/entrypoint.sh\nENTRYPOINT [\"/pb/entrypoint.sh\"]\n"),
        "entrypoint.sh": '#!/bin/sh\n. /pb/env.sh\nexec /pb/pocketbase serve --http=0.0.0.0:$PORT "$@"\n'})
    [db] = dbs(tmp_path)
    assert (db.kind, db.path, pos(db)) == (SQLITE, None, ("entrypoint.sh", 3, 1))
    assert db.unknown == '`"$@"` may set --dir: the data directory is not known'


def test_dir_from_a_variable_the_script_sets_is_unknown(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "ENV DIR=/nope\nCOPY run.sh /run.sh\nCMD [\"/run.sh\"]\n"),
        "run.sh": '#!/bin/sh\nDIR=/pb/pb_data\n/pb/pocketbase serve --dir "$DIR"\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == (None, ("run.sh", 3, 22))
    assert db.unknown == 'the data directory `--dir "$DIR"` depends on a value flyconf cannot see'


def test_go_module_binary_and_default_data_dir_in_code(tmp_path: Path) -> None:
    files = {"fly.toml": FLY,
             "go.mod": "module example.com/app\n\ngo 1.22\n\nrequire github.com/pocketbase/pocketbase v0.22.0\n",
             "Dockerfile": "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n\n"
                           "FROM alpine\nCOPY --from=build /out/app /usr/local/bin/app\nWORKDIR /srv\n"
                           'CMD ["/usr/local/bin/app", "serve", "--http=0.0.0.0:8080"]\n'}
    write_app(tmp_path, files)
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/usr/local/bin/pb_data/data.db", ("Dockerfile", 9, 1))
    write_app(tmp_path, {"main.go": """
        package main

        import "github.com/pocketbase/pocketbase"

        func main() {
        	app := pocketbase.NewWithConfig(pocketbase.Config{
        		DefaultDataDir: "./storage/pb",
        	})
        	app.Start()
        }
        """})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/srv/storage/pb/data.db", ("main.go", 7, 19))


def test_a_script_given_serve_is_not_pocketbase(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY,
                         "go.mod": "module x\n\nrequire github.com/pocketbase/pocketbase v0.22.0\n",
                         "Dockerfile": "FROM alpine\nCOPY run.sh /run.sh\nCMD [\"/run.sh\", \"serve\"]\n",
                         "run.sh": "#!/bin/sh\necho starting\n"})
    assert dbs(tmp_path) == []


def test_other_commands_and_programs_are_nothing(tmp_path: Path) -> None:
    write_app(tmp_path, {"Dockerfile": DOWNLOAD + 'CMD ["/pb/pocketbase", "migrate", "up"]\n', "fly.toml": FLY + """
        [processes]
          app = "/pb/pocketbase superuser upsert a@b.c secret"
          web = "node server.js serve"
        """})
    assert dbs(tmp_path) == []


def test_shell_form_command(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "CMD /bin/sh -c 'cd /pb && exec ./pocketbase serve --http=0.0.0.0:8080'\n")})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/pb/pb_data/data.db", ("Dockerfile", 7, 1))


def test_two_groups_share_one_database(tmp_path: Path) -> None:
    write_app(tmp_path, {"Dockerfile": DOWNLOAD + 'CMD ["/pb/pocketbase", "serve"]\n', "fly.toml": FLY + """
        [processes]
          web = "/pb/pocketbase serve --http=0.0.0.0:8080 --dir=/pb/pb_data"
          admin = "/pb/pocketbase serve --http=0.0.0.0:8090 --dir=/pb/pb_data"
        """})
    found = sorted(dbs(tmp_path), key=lambda d: d.declared.span.line)
    # one database, written in two places: each place is where its group's fix belongs
    assert [(d.path, d.groups, pos(d)) for d in found] == [
        ("/pb/pb_data/data.db", ("web",), ("fly.toml", 12, 59)),
        ("/pb/pb_data/data.db", ("admin",), ("fly.toml", 13, 61)),
    ]


@needs_shared(CORPUS)
def test_corpus_pocketbase_apps() -> None:
    apps = sorted(p for p in CORPUS.rglob("*.toml") if p.name == "fly.toml" or p.name.startswith("fly."))
    assert apps
    seen: dict[str, tuple[str | None, str | None]] = {}
    for path in apps:
        app, _ = load_app(path)
        if app is None:
            continue
        for db in pocketbase.read(app.context):
            assert db.declared.span.line >= 1 and db.declared.span.column >= 1
            seen[path.parent.name] = (db.path, db.unknown)
    tig = CORPUS / "tigawanna__pocketbase-fly"
    if tig.is_dir():
        assert seen[tig.name] == ("/pb/pb_data/data.db", None)


def test_relative_dir_and_user_wrapper(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        'WORKDIR /home/pb\nCMD ["su-exec", "pb", "/pb/pocketbase", "serve", "--dir", "./data"]\n')})
    [db] = dbs(tmp_path)
    assert (db.path, db.relative, db.base, pos(db)) == ("/home/pb/data/data.db", "./data/data.db", "/home/pb",
                                                        ("Dockerfile", 8, 50))
    assert db.declared.span.end_column == 67


def test_unexpanded_variable_in_exec_form(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        'ENV PB_DIR=/data\nCMD ["/pb/pocketbase", "serve", "--dir=$PB_DIR"]\n')})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == (None, ("Dockerfile", 8, 33))
    assert db.unknown == "the data directory `--dir $PB_DIR` is not expanded by a shell"


def test_entrypoint_script_that_runs_the_cmd(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "COPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]\n"
        'CMD ["/pb/pocketbase", "serve", "--http=0.0.0.0:8080", "--dir=/pb/pb_data"]\n'),
        "docker-entrypoint.sh": '#!/bin/sh\nset -e\nchown -R pb /pb/pb_data\nexec "$@"\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/pb/pb_data/data.db", ("Dockerfile", 9, 56))
    assert steps(db)[0] == ("PocketBase runs `/pb/pocketbase serve --http=0.0.0.0:8080 --dir=/pb/pb_data` (the command "
                            "of process group app, run by the ENTRYPOINT script docker-entrypoint.sh)")


def test_cd_in_a_command_substitution_does_not_move_the_script(tmp_path: Path) -> None:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": DOWNLOAD + (
        "WORKDIR /pb\nCOPY run.sh /pb/run.sh\nCMD [\"/pb/run.sh\"]\n"),
        "run.sh": '#!/bin/sh\nHERE="$(cd "$(dirname "$0")" && pwd)"\necho "$HERE"\n'
                  'if [ -n "$DEBUG" ]; then cd /tmp; fi\nexec ./pocketbase serve\n'})
    [db] = dbs(tmp_path)
    # the cd inside `if` may or may not run: the working directory is not known
    assert (db.path, pos(db)) == (None, ("run.sh", 5, 1))
    assert db.unknown == ("relative data directory `pb_data`: the working directory after `cd /tmp` in start script "
                          "run.sh is not known")
    write_app(tmp_path, {"run.sh": '#!/bin/sh\nHERE="$(cd "$(dirname "$0")" && pwd)"\nexec ./pocketbase serve\n'})
    [db] = dbs(tmp_path)
    assert (db.path, pos(db)) == ("/pb/pb_data/data.db", ("run.sh", 3, 1))
