"""The native reader: SQLite files opened with a string literal in Go and Rust sources."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.assemble import load_app
from flyconf.databases import native
from flyconf.databases.model import SERVER, SQLITE, Found
from tests.conftest import CORPUS, needs_shared
from tests.databases.helpers import app_at, pos, write_app

FLY = """
app = "links"
primary_region = "fra"

[http_service]
  internal_port = 8080

[mounts]
  source = "data"
  destination = "/data"
"""

GO_DOCKERFILE = """
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -o /out/server ./cmd/server

FROM debian:bookworm-slim
WORKDIR /app
COPY --from=build /out/server /app/server
CMD ["/app/server"]
"""

GO_MOD = """
module github.com/acme/links

go 1.22

require (
	github.com/mattn/go-sqlite3 v1.14.22
	gorm.io/driver/sqlite v1.5.6
	gorm.io/gorm v1.25.10
	zombiezen.com/go/sqlite v1.3.0
)

require (
	github.com/jinzhu/inflection v1.0.0 // indirect
	modernc.org/sqlite v1.29.0 // indirect
)
"""

RUST_DOCKERFILE = """
FROM rust:1.79 AS builder
WORKDIR /usr/src/app
COPY . .
RUN cargo build --release

FROM debian:bookworm-slim
WORKDIR /srv
COPY --from=builder /usr/src/app/target/release/links /usr/local/bin/links
CMD ["links"]
"""


def dbs(root: Path) -> list[Found]:
    return list(native.read(app_at(root).context))


def go_app(tmp_path: Path, files: dict[str, str], go_mod: str = GO_MOD) -> list[Found]:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": GO_DOCKERFILE, "go.mod": go_mod, **files})
    return dbs(tmp_path)


def rust_app(tmp_path: Path, files: dict[str, str], cargo: str) -> list[Found]:
    write_app(tmp_path, {"fly.toml": FLY, "Dockerfile": RUST_DOCKERFILE, "Cargo.toml": cargo, **files})
    return dbs(tmp_path)


# -- Go -------------------------------------------------------------------------------------------

def test_go_sql_open_relative_dsn(tmp_path: Path) -> None:
    [db] = go_app(tmp_path, {"cmd/server/main.go": """
        package main

        import (
        	"database/sql"
        	"log"

        	_ "github.com/mattn/go-sqlite3"
        )

        func main() {
        	// db, err := sql.Open("sqlite3", "old.db")
        	db, err := sql.Open("sqlite3", "./data/links.db?_journal_mode=WAL&_busy_timeout=5000")
        	if err != nil {
        		log.Fatal(err)
        	}
        	defer db.Close()
        }
        """})
    assert (db.kind, db.path, db.framework, db.reader, db.name) == (SQLITE, "/app/data/links.db", "go", "native",
                                                                    "links.db")
    assert pos(db) == ("main.go", 12, 33)
    assert db.declared.span.end_column == 87
    assert (db.relative, db.base, db.variable, db.form) == ("data/links.db", "/app", None, "path")
    assert [s.text for s in db.chain] == [
        '`sql.Open("./data/links.db?_journal_mode=WAL&_busy_timeout=5000")` in cmd/server/main.go',
        "relative path `data/links.db` resolved against the working directory /app"]


def test_go_gorm_with_raw_string_and_alias(tmp_path: Path) -> None:
    [db] = go_app(tmp_path, {"internal/store/store.go": """
        package store

        import (
        	gsqlite "gorm.io/driver/sqlite"
        	"gorm.io/gorm"
        )

        func Open() (*gorm.DB, error) {
        	return gorm.Open(gsqlite.Open(`/data/links.db`), &gorm.Config{})
        }
        """})
    assert (db.path, pos(db)) == ("/data/links.db", ("store.go", 9, 32))


def test_go_modernc_file_uri_and_zombiezen_pool(tmp_path: Path) -> None:
    go_mod = GO_MOD.replace("modernc.org/sqlite v1.29.0 // indirect", "modernc.org/sqlite v1.29.0")
    found = go_app(tmp_path, {"main.go": """
        package main

        import (
        	"database/sql"
        	_ "modernc.org/sqlite"
        	"zombiezen.com/go/sqlite/sqlitex"
        )

        func main() {
        	db, _ := sql.Open("sqlite", "file:/data/app.db?_pragma=busy_timeout(5000)")
        	pool, _ := sqlitex.NewPool("file:cache.db", sqlitex.PoolOptions{PoolSize: 4})
        	_, _ = db, pool
        }
        """}, go_mod)
    assert [(d.path, d.form, pos(d)) for d in found] == [("/data/app.db", "file:", ("main.go", 10, 30)),
                                                        ("/app/cache.db", "file:", ("main.go", 11, 29))]


def test_go_libsql_server_and_non_literal_dsn(tmp_path: Path) -> None:
    go_mod = GO_MOD.replace("zombiezen.com/go/sqlite v1.3.0", "github.com/tursodatabase/libsql-client-go v0.0.0")
    found = go_app(tmp_path, {"main.go": """
        package main

        import (
        	"database/sql"
        	"os"
        	_ "github.com/tursodatabase/libsql-client-go/libsql"
        )

        func main() {
        	remote, _ := sql.Open("libsql", "libsql://links-acme.turso.io?authToken=x")
        	local, _ := sql.Open("sqlite3", os.Getenv("DB_PATH"))
        	pg, _ := sql.Open("postgres", "postgres://u@h/db")
        	_, _, _ = remote, local, pg
        }
        """}, go_mod)
    assert [(d.kind, d.path, pos(d)) for d in found] == [(SERVER, None, ("main.go", 10, 34))]


def test_go_needs_a_direct_sqlite_requirement(tmp_path: Path) -> None:
    go_mod = "module x\n\ngo 1.22\n\nrequire github.com/pocketbase/pocketbase v0.22.0\n\n" \
             "require modernc.org/sqlite v1.29.0 // indirect\n"
    assert go_app(tmp_path, {"main.go": 'package main\nimport "database/sql"\nvar _, _ = sql.Open("sqlite", "x.db")\n'},
                  go_mod) == []


def test_go_tests_vendor_and_testdata_are_skipped(tmp_path: Path) -> None:
    src = 'package x\nimport "database/sql"\nvar _, _ = sql.Open("sqlite3", "/data/{}.db")\n'
    assert go_app(tmp_path, {"store_test.go": src.format("t"), "vendor/a/a.go": src.format("v"),
                             "testdata/x.go": src.format("d"), "scripts/seed/main.go": src.format("s")}) == []


def test_go_string_escapes_and_comments(tmp_path: Path) -> None:
    [db] = go_app(tmp_path, {"db.go": """
        package main

        import "database/sql"

        /* sql.Open("sqlite3", "/data/block.db") */
        var r = 'x'
        var db, _ = sql.Open("sqlite3", "/data/t\\u00e9st.db")
        """})
    assert (db.path, pos(db)) == ("/data/tést.db", ("db.go", 7, 33))


# -- Rust -----------------------------------------------------------------------------------------

CARGO_RUSQLITE = """
[package]
name = "links"
version = "0.1.0"
edition = "2021"

[dependencies]
rusqlite = { version = "0.31", features = ["bundled"] }
axum = "0.7"
"""

CARGO_SQLX = """
[package]
name = "links"
version = "0.1.0"
edition = "2021"

[dependencies]
sqlx = { version = "0.8", features = ["runtime-tokio", "sqlite", "macros"] }
tokio = { version = "1", features = ["full"] }
"""


def test_rust_rusqlite_open_relative(tmp_path: Path) -> None:
    [db] = rust_app(tmp_path, {"src/main.rs": """
        use rusqlite::{params, Connection};

        fn main() -> rusqlite::Result<()> {
            // let conn = Connection::open("old.db")?;
            let conn = Connection::open("links.db")?;
            conn.execute("CREATE TABLE IF NOT EXISTS link (id INTEGER PRIMARY KEY)", params![])?;
            Ok(())
        }
        """}, CARGO_RUSQLITE)
    assert (db.kind, db.path, db.framework, db.form) == (SQLITE, "/srv/links.db", "rust", "path")
    assert pos(db) == ("main.rs", 5, 33)
    assert [s.text for s in db.chain] == ['`Connection::open("links.db")` in src/main.rs',
                                          "relative path `links.db` resolved against the working directory /srv"]


def test_rust_sqlx_url_forms(tmp_path: Path) -> None:
    found = rust_app(tmp_path, {"src/db.rs": r"""
        use std::str::FromStr;
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

        pub async fn pools() -> anyhow::Result<()> {
            let a = SqlitePoolOptions::new().max_connections(5).connect("sqlite:///data/links.db").await?;
            let b = SqlitePool::connect("sqlite://cache.db?mode=rwc").await?;
            let c = SqliteConnectOptions::from_str("sqlite:sessions.db")?.create_if_missing(true);
            let d = SqliteConnectOptions::new().filename(r#"/data/raw "name".db"#);
            let m = SqlitePool::connect("sqlite::memory:").await?;
            let p = sqlx::PgPool::connect("postgres://u@h/db").await?;
            Ok(())
        }
        """}, CARGO_SQLX)
    assert [(d.path, d.form, pos(d)) for d in found] == [
        ("/data/links.db", "sqlite://", ("db.rs", 5, 65)),
        ("/srv/cache.db", "sqlite://", ("db.rs", 6, 33)),
        ("/srv/sessions.db", "sqlite://", ("db.rs", 7, 44)),
        ('/data/raw "name".db', "path", ("db.rs", 8, 50)),
    ]


def test_rust_sqlx_without_the_sqlite_feature_is_nothing(tmp_path: Path) -> None:
    cargo = CARGO_SQLX.replace('"sqlite", ', '"postgres", ')
    assert rust_app(tmp_path, {"src/main.rs": 'fn main() { let _ = SqlitePool::connect("sqlite://x.db"); }\n'},
                    cargo) == []


def test_rust_workspace_member_and_sea_orm(tmp_path: Path) -> None:
    found = rust_app(tmp_path, {
        "crates/server/Cargo.toml": '[package]\nname = "server"\n\n[dependencies]\nsea-orm = { workspace = true }\n',
        "crates/server/src/main.rs": 'async fn db() { let db = Database::connect("sqlite:///data/sea.db?mode=rwc")'
                                     '.await.unwrap(); }\n',
        "crates/server/tests/it.rs": 'async fn t() { Database::connect("sqlite://test.db").await; }\n',
        "crates/server/examples/demo.rs": 'async fn t() { Database::connect("sqlite://demo.db").await; }\n'},
        '[workspace]\nmembers = ["crates/*"]\n\n[workspace.dependencies]\n'
        'sea-orm = { version = "1", features = ["sqlx-sqlite", "runtime-tokio-rustls"] }\n')
    assert [(d.path, pos(d)) for d in found] == [("/data/sea.db", ("main.rs", 1, 44))]


def test_rust_comments_chars_and_lifetimes(tmp_path: Path) -> None:
    [db] = rust_app(tmp_path, {"src/lib.rs": """
        /* outer /* Connection::open("nested.db") */ still a comment */
        pub fn open<'a>(_x: &'a str) -> rusqlite::Result<rusqlite::Connection> {
            let _q = '"';
            rusqlite::Connection::open("/data/lib.db")
        }
        """}, CARGO_RUSQLITE)
    assert (db.path, pos(db)) == ("/data/lib.db", ("lib.rs", 4, 32))


def test_rust_without_a_sqlite_crate_is_nothing(tmp_path: Path) -> None:
    cargo = '[package]\nname = "x"\n\n[dependencies]\nserde = "1"\n\n[dev-dependencies]\nrusqlite = "0.31"\n'
    assert rust_app(tmp_path, {"src/main.rs": 'fn main() { Connection::open("x.db").unwrap(); }\n'}, cargo) == []


def test_unreadable_cargo_toml_is_nothing(tmp_path: Path) -> None:
    assert rust_app(tmp_path, {"src/main.rs": 'fn main() { Connection::open("x.db").unwrap(); }\n'},
                    "[package\nname = ") == []


def test_tokenizers_decode_strings() -> None:
    assert [t.text for t in native.go_tokens('x := "a\\tb\\x41\\101" + `raw\\n`') if t.kind == "str"] == \
        ["a\tbAA", "raw\\n"]
    assert [t.text for t in native.rust_tokens('let s = "a\\\n     b\\u{41}"; let r = r##"x"#y"##;')
            if t.kind == "str"] == ["abA", 'x"#y']


NATIVE_WORDS = ["sql", ".", "Open", "(", '"sqlite3"', ",", '"x.db"', ")", "`", "'", "r#\"", '"#', "/*", "*/", "//",
                "\n", "Connection", "::", "open", "import", '"database/sql"', "<", ">", "'a", "\\", '"', "b\""]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(NATIVE_WORDS), max_size=60))
def test_go_and_rust_noise_never_raises(words: list[str]) -> None:
    text = " ".join(words)
    for _call, literal in native._go_opens(native.go_tokens(text)):
        assert 0 <= literal.start < literal.end <= len(text)
    for _call, literal, _how in native._rust_opens(native.rust_tokens(text), True):
        assert 0 <= literal.start < literal.end <= len(text)


@needs_shared(CORPUS)
def test_every_corpus_app_reads_without_error() -> None:
    apps = sorted(p for p in CORPUS.rglob("*.toml") if p.name == "fly.toml" or p.name.startswith("fly."))
    assert apps
    for path in apps:
        app, _ = load_app(path)
        if app is None:
            continue
        for db in native.read(app.context):
            assert db.declared.span.line >= 1 and db.declared.span.column >= 1
