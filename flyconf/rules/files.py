"""Rules about reading files at all: I/O failures, syntax, empty files."""

from flyconf.registry import declare

IO_ERROR = declare(
    "FC001",
    "io-error",
    "error",
    "A file could not be read.",
    """
    flyconf could not read a file it was asked to lint: it does not exist, is a
    directory, is not readable, is not a regular file (a FIFO, a device or a
    socket, which a linter must not wait on or read without end), is a loop of
    symbolic links, or is too large to be a configuration file. Nothing else is
    checked in that file.

    A file that fly.toml or a Dockerfile leads to is read only inside the
    project: the git repository that holds the fly.toml, or the working
    directory when it holds the fly.toml (never `/` or the home directory), or
    else the fly.toml's directory; for start scripts and app configuration, the
    build context.
    A `[build] dockerfile` or a symbolic link that leads out of it (`../../.netrc`,
    a link to `/etc/shadow`) is reported here and not read, so that no line of
    it ends up in a CI log.
    """,
    bad=(
        "==> deploy/fly.production.toml <==\n"
        "app = \"my-app\"\n"
        "==> $ <==\n"
        "flyconf lint deploy/fly.toml\n"
    ),
    good=(
        "==> deploy/fly.production.toml <==\n"
        "app = \"my-app\"\n"
        "==> $ <==\n"
        "flyconf lint deploy/fly.production.toml\n"
    ),
    family="files",
    example_file="$",
)

TOML_SYNTAX = declare(
    "FC002",
    "toml-syntax",
    "error",
    "fly.toml is not valid TOML, not UTF-8 text, or is binary.",
    """
    flyctl cannot load a fly.toml that is not valid TOML: every `fly deploy`
    fails before anything else is checked (superfly/flyctl
    internal/appconfig/serde.go `unmarshalTOML`, with pelletier/go-toml). The
    finding points at the line and column of the fault; for a file that is
    not UTF-8 (or is binary), at the first bad byte. flyctl itself reports
    only "row R column C" and stops.
    """,
    bad="""
    [http_service]
    internal_port = 8080
    force_https = yes
    """,
    good="""
    [http_service]
    internal_port = 8080
    force_https = true
    """,
    family="files",
)

EMPTY_CONFIG = declare(
    "FC003",
    "empty-config",
    "warning",
    "fly.toml has no settings at all.",
    """
    An empty fly.toml (or one with only comments) deploys nothing useful:
    flyctl needs at least the app name (`app`, or `-a` on every command;
    superfly/flyctl internal/command/command.go `RequireAppName`), and without
    `[http_service]` or `[[services]]` the app gets no public ports. Usually
    the file was truncated by mistake.
    """,
    bad="# fly.toml\n",
    good='app = "my-app"\nprimary_region = "ams"\n\n[http_service]\ninternal_port = 8080\n',
    family="files",
)

INTERNAL_ERROR = declare(
    "FC004",
    "internal-error",
    "error",
    "flyconf itself failed while reading or checking a file.",
    """
    This is a bug in flyconf, not in your file: reading or checking the file
    raised an error that flyconf did not expect. The finding names the error.
    The other files of the run are still checked and reported, but this file's
    findings may be incomplete, and `flyconf fix` changes nothing in its app.
    Please report it at https://github.com/flyconf/flyconf/issues with the file
    (or the smallest part of it that still fails) and the traceback that
    `flyconf lint --debug` prints for it.
    """,
    bad=(
        "==> $ <==\n"
        "flyconf lint fly.toml\n"
        "# fly.toml:1:1: error: FC004 [internal-error] flyconf failed while checking this file: ...\n"
    ),
    good=(
        "==> $ <==\n"
        "flyconf lint --debug fly.toml\n"
        "# the traceback to report with the file\n"
    ),
    family="files",
    example_file="$",
)
