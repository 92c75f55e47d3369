"""One line model for every source (flyconf.sources.base): lines end at "\\n" only, "\\r\\n" is one ending.

TOML, BuildKit and sh break lines at "\\n" only; str.splitlines() also breaks at "\\r", "\\f", "\\v",
"\\x1c"-"\\x1e", "\\x85", U+2028 and U+2029. Every test here puts those characters in comments, strings and
values and requires the findings (line, column, end) of the same text with a space in their place.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf import lint_paths, lint_text
from flyconf.diagnostics import Diagnostic, Span
from flyconf.report.sarif import render_sarif
from flyconf.report.text import render_text
from flyconf.rules.scripts import check_start_script
from flyconf.sources.base import LineIndex, end_position, lines_with_ends, split_lines
from flyconf.sources.dockersyntax import DockerfileSyntaxError, RawInstruction, parse_instructions
from flyconf.sources.script import parse_script
from tests.buildkit_oracle import WrapperCannotSay, buildkit_outcome, needs_buildkit

# Every character str.splitlines() breaks at, besides "\n".
ODD = ["\r", "\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
# TOML forbids control characters in comments and strings: only these reach TOML's positions.
TOML_ODD = ["\x85", "\u2028", "\u2029"]
# YAML refuses "\f", "\v" and "\x1c"-"\x1e"; it breaks lines at these itself (its marks count them).
YAML_ODD = ["\x85", "\u2028", "\u2029"]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def where(diags: list[Diagnostic]) -> list[tuple[str, int, int, int | None, int | None]]:
    return [(d.code, d.line, d.column, d.end_line, d.end_column) for d in diags]


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(textwrap.dedent(text).lstrip("\n").encode("utf-8"))  # bytes: no newline translation
    return root


def assert_inside(text: str, diags: list[Diagnostic]) -> None:
    """Every finding's line is one of the file's "\\n"-separated lines, its column within the line or just after."""
    pieces = text.split("\n")  # the "\r" of a "\r\n" is not shown; one after the last "\n" is a character
    lines = [line.removesuffix("\r") for line in pieces[:-1]] + [pieces[-1]]
    for d in diags:
        assert 1 <= d.line <= len(lines), (d, len(lines))
        assert 1 <= d.column <= len(lines[d.line - 1]) + 1, (d, lines[d.line - 1])
        if d.end_line is not None:
            assert d.line <= d.end_line <= len(lines), d
            if d.end_column is not None:
                assert 1 <= d.end_column <= len(lines[d.end_line - 1]) + 1, (d, lines[d.end_line - 1])


# -- the model ------------------------------------------------------------------------------------------

def test_split_lines_breaks_at_newline_only():
    assert split_lines("a\fb\u2028c\r\nd\re\x85\n") == ["a\fb\u2028c", "d\re\x85"]
    assert split_lines("") == []
    assert split_lines("\n") == [""]
    assert split_lines("a") == ["a"]
    assert split_lines("a\n\nb") == ["a", "", "b"]
    assert split_lines("a\r\r\n") == ["a\r"]  # one "\r" is the line ending's; another is the line's
    assert split_lines("a\r\nb\r") == ["a", "b\r"]  # a "\r" without "\n" is no line ending


def test_lines_with_ends_and_positions():
    text = "x = 1\u2028\r\n# \f\nlast"
    assert lines_with_ends(text) == ["x = 1\u2028\r\n", "# \f\n", "last"]
    index = LineIndex(text)
    assert index.position(0) == (1, 1)
    assert index.position(text.index("\r")) == (1, 7)  # the "\r" of "\r\n": just after the line's text
    assert index.position(text.index("#")) == (2, 1)
    assert index.position(text.index("\f")) == (2, 3)
    assert index.position(text.index("last") + 2) == (3, 3)
    assert index.position(len(text)) == (3, 5)
    assert index.span(text.index("#"), text.index("last")) == Span(2, 1, 3, 1)
    assert end_position(text) == (3, 5)
    assert end_position(text + "\n") == (3, 5)  # a final "\n" opens no line to point at
    assert end_position("") == (1, 1)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", " ", "\n", "\r\n", *ODD, "é", "😀"]), max_size=60).map("".join))
def test_positions_name_the_characters_split_lines_shows(text: str):
    lines = split_lines(text)
    assert "".join(lines_with_ends(text)) == text
    assert len(lines_with_ends(text)) == len(lines)
    index = LineIndex(text)
    for offset, ch in enumerate(text):
        line, column = index.position(offset)
        if ch == "\n" or (ch == "\r" and text[offset + 1 : offset + 2] == "\n"):
            assert column == len(lines[line - 1]) + 1  # a line ending is just after its line's text
        else:
            assert lines[line - 1][column - 1] == ch


# -- regressions: each failed before the line model -------------------------------------------------------

@pytest.mark.parametrize("odd", ODD, ids=repr)
def test_dockerfile_findings_after_a_comment_holding_a_line_break_lookalike(odd: str):
    df = f"FROM alpine\n# a{odd}b\nVOLUME /data\nCMD node server.js\n"
    # dockerfile-volume at `/data`, cmd-shell-form at `CMD`, as with a space in the comment.
    assert where(lint_text(df, "Dockerfile")) == [("FC708", 3, 8, 3, 13), ("FC703", 4, 1, 4, 4)]


@pytest.mark.parametrize("odd", ODD, ids=repr)
def test_dockerfile_suppression_after_a_comment_holding_a_line_break_lookalike(odd: str):
    df = f"FROM node:20\n# a{odd}b\n# flyconf: ignore[cmd-shell-form]\nCMD npm start\n"
    assert where(lint_text(df, "Dockerfile")) == []
    df = f"FROM node:20\n# a{odd}b\n# flyconf: ignore[cmd-shell-form]\nRUN npm ci\nCMD npm start\n"
    assert where(lint_text(df, "Dockerfile")) == [("FC902", 3, 19, 3, 33), ("FC703", 5, 1, 5, 4)]


@pytest.mark.parametrize("odd", TOML_ODD, ids=repr)
def test_fly_toml_column_inside_a_command_after_a_comment(odd: str):
    text = f"app = \"x\"\n# a{odd}b\n[processes]\n  web = \"sh -c 'npm start\"\n"
    # the quote that is never closed, as a space in the comment gives.
    assert where(lint_text(text)) == [("FC304", 4, 16, 4, 17)]


@pytest.mark.parametrize("odd", TOML_ODD, ids=repr)
def test_fly_toml_table_suppression_after_a_comment(odd: str):
    text = (f'app = "x"\n# note{odd}more\n# flyconf: ignore[unknown-key]\n[[mounts]]\n  source = "data"\n'
            '  destinaton = "/data"\n')
    assert where(lint_text(text)) == []
    assert where(lint_text(text.replace("# flyconf: ignore[unknown-key]", "#"))) == [("FC101", 6, 3, 6, 13)]


@pytest.mark.parametrize("odd", TOML_ODD, ids=repr)
def test_text_report_shows_the_line_of_the_finding(odd: str):
    text = f'app = "x"\n# comment{odd}here\n[[mounts]]\nsource = "data"\ndestination = "relative"\n'
    diags = lint_text(text)
    assert where(diags) == [("FC201", 5, 15, 5, 25)]
    out = render_text(diags, sources={"fly.toml": text})
    assert '5 | destination = "relative"\n' in out
    assert "  |               ^^^^^^^^^^\n" in out
    # SARIF's fingerprint is made from the finding's line: the same as with a space in the comment.
    spaced = text.replace(odd, " ")
    assert render_sarif(diags, sources={"fly.toml": text}) == render_sarif(lint_text(spaced),
                                                                           sources={"fly.toml": spaced})


@pytest.mark.parametrize("odd", ["\r", "\f", "\x1e", "\x85", "\u2028"], ids=repr)
def test_script_suppression_after_a_comment(tmp_path: Path, odd: str):
    files = {
        "fly.toml": 'app = "x"\n[http_service]\n  internal_port = 8080\n',
        "Dockerfile": 'FROM node:20\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["/app/docker-entrypoint.sh"]\n'
                      'CMD ["node", "server.js"]\n',
        "docker-entrypoint.sh": f"#!/bin/sh\n# a{odd}b\nset -e\nnode server.js\n",
    }
    root = write(tmp_path, files)
    diags = lint_paths([root])
    assert [Path(d.path).name for d in diags] == ["docker-entrypoint.sh"]
    assert where(diags) == [("FC801", 4, 1, 4, 15)]
    (root / "docker-entrypoint.sh").write_bytes(
        f"#!/bin/sh\n# a{odd}b\nset -e\n# flyconf: ignore[entrypoint-no-exec]\nnode server.js\n".encode())
    assert where(lint_paths([root])) == []


@pytest.mark.parametrize("odd", YAML_ODD, ids=repr)
def test_compose_positions_come_from_the_character_index(odd: str):
    text = (f'services:\n  web:\n    image: "nginx{odd}x"\n    environment:\n'
            '      DATABASE_URL: file:/app/data/app.db\n    volumes:\n      - cache:/cache\nvolumes:\n  cache:\n')
    assert where(lint_text(text, "compose.yaml")) == [("FC411", 5, 21, 5, 42)]


@pytest.mark.parametrize(("odd", "column"), [("\f", 13), ("\v", 13), ("\x1c", 13), ("\x1e", 13)])
def test_compose_refused_character_is_placed(odd: str, column: int):
    (d,) = lint_text(f"services:\n  web:\n    image: a{odd}b\n", "compose.yaml")
    assert (d.code, d.line, d.column) == ("FC410", 3, column)
    assert d.message == f"not valid YAML: the character U+{ord(odd):04X} is not allowed in YAML"


@pytest.mark.parametrize("odd", YAML_ODD, ids=repr)
def test_litefs_yml_positions_come_from_the_character_index(tmp_path: Path, odd: str):
    files = {
        "fly.toml": 'app = "x"\n[[mounts]]\n  source = "data"\n  destination = "/data"\n',
        "Dockerfile": 'FROM node:20\nWORKDIR /app\nCOPY litefs.yml /etc/litefs.yml\nCOPY . .\n'
                      'ENTRYPOINT ["litefs", "mount"]\n',
        "litefs.yml": f"fuse:\n  dir: /litefs  # a comment{odd}\ndata:\n  dir: /var/lib/litefs\n",
    }
    diags = [d for d in lint_paths([write(tmp_path, files)]) if d.rule == "litefs-data-not-on-volume"]
    assert where(diags) == [("FC404", 4, 8, 4, 23)]


def test_django_settings_with_a_lone_carriage_return(tmp_path: Path):
    """Python ends a line at a lone "\\r" too: its line numbers are converted to the "\\n" lines shown."""
    from tests.databases.test_django import STARTPROJECT, app, one, span

    settings = STARTPROJECT.replace("DEBUG = True\n\nALLOWED", "DEBUG = True\rALLOWED")  # line 12 for Python
    db = one(app(tmp_path, settings))
    lines = split_lines(settings)
    assert span(db) == (20, 17, 20, 40)  # line 21 for Python
    assert lines[19][16:39] == "BASE_DIR / 'db.sqlite3'" == db.raw


def test_fix_comments_out_the_release_command_line():
    from flyconf.generate.plan import comment_out_release_command
    from flyconf.sources.flytoml import parse_flytoml

    text = 'app = "x"\n# deploys\u2028run the migration\n[deploy]\n  release_command = "bin/migrate"\n  strategy = "rolling"\n'
    new, _ = comment_out_release_command(parse_flytoml(text, "fly.toml"))
    assert split_lines(new)[:4] == split_lines(text)[:3] + ['  # release_command = "bin/migrate"']
    assert split_lines(new)[-1] == '  strategy = "rolling"'


def test_dockerfile_edit_replaces_the_cmd_lines():
    from flyconf.generate.dockerfile_edit import add_entrypoint
    from flyconf.sources.dockerfile import parse_dockerfile

    df = parse_dockerfile("FROM node:20\n# start\u2028it\fhere\nCMD npm start\nEXPOSE 8080\n", "Dockerfile")
    edit = add_entrypoint(df)  # type: ignore[arg-type]
    # The wrapper goes above the comment that introduces the CMD; the CMD is rewritten in exec form.
    assert split_lines(edit.text) == [
        "FROM node:20", "COPY --chmod=755 bin/fly-entrypoint /usr/local/bin/fly-entrypoint",
        'ENTRYPOINT ["/usr/local/bin/fly-entrypoint"]', "# start\u2028it\fhere", 'CMD ["npm", "start"]', "EXPOSE 8080"]


def test_diffs_end_lines_at_newline_only():
    from flyconf.generate.plan import unified_diff

    diff = unified_diff("fly.toml", "# a\u2028b\nx = 1\n", "# a\u2028b\nx = 2\n")
    assert diff == ("diff --git a/fly.toml b/fly.toml\n--- a/fly.toml\n+++ b/fly.toml\n@@ -1,2 +1,2 @@\n"
                    " # a\u2028b\n-x = 1\n+x = 2\n")


def test_dockerignore_line_numbers():
    from flyconf.sources.dockerignore import matching_line

    assert matching_line("# caches\fand logs\n*.db\n", "app.db") == (2, 1, 5)


def test_env_file_line_numbers():
    from flyconf.compose.interpolate import parse_env_file

    (line,) = parse_env_file("# a\u2028b\nDATABASE_URL=file:/data/app.db\n")
    assert (line.name, line.line, line.column) == ("DATABASE_URL", 2, 14)


def test_go_mod_comment_runs_to_the_newline():
    from flyconf.databases.native import go_requires
    from flyconf.generate.presets import _go_requires

    text = "module m\n\n// not yet\u2028require github.com/mattn/go-sqlite3 v1.14.22\nrequire golang.org/x/net v0.1.0\n"
    assert go_requires(text) == {"golang.org/x/net": True}
    assert _go_requires(text) == {"golang.org/x/net"}


def test_gitignore_pattern_holds_its_whole_line(tmp_path: Path):
    from flyconf.discover import read_gitignore

    (tmp_path / ".gitignore").write_bytes("*.log\u2028secret\n".encode())
    (rule,) = read_gitignore(tmp_path / ".gitignore")
    assert not rule.regex.match("secret") and not rule.regex.match("x.log")


# -- properties: the invariant, and the same places with a space ------------------------------------------

ODD_OR_SPACE = st.sampled_from([" ", *ODD])
FLY_LINES = ['app = "x"', "[[mounts]]", '  source = "data"', '  destination = "data"', "  destinaton = '/data'",
             "[processes]", "  web = \"sh -c 'npm start\"", '  worker = "bin/worker"', "[env]",
             '  DATABASE_URL = "file:/app/db.sqlite"', "kill_timeout = 5", 'kill_signal = "SIGFOO"', "[deploy]",
             '  release_command = "npx prisma migrate deploy"', "[http_service]", "  internal_port = 8080",
             "[experimental]", "  private_network = true", "# flyconf: ignore[unknown-key]", "[[services]]",
             "  [[services.ports]]", "    port = 80", "", "[build]", "  dockerfile = 'Dockerfile'"]
DOCKER_LINES = ["FROM node:20 AS build", "FROM alpine", "WORKDIR /app", "COPY . .", "RUN npm ci && npm run build",
                "VOLUME /data", "EXPOSE 8080", "CMD node server.js", 'CMD ["node", "server.js"]', "USER app",
                "ENV DATABASE_URL=file:/app/db.sqlite", "ENTRYPOINT /app/start.sh", "RUN cd /app \\",
                "  && npx prisma migrate deploy", "# flyconf: ignore[cmd-shell-form]", "", 'RUN echo "a b"']
SCRIPT_LINES = ["#!/bin/sh", "set -e", "npx prisma migrate deploy", "node server.js", "exec node server.js",
                "if [ -n \"$X\" ]; then", "fi", "echo 'a b' >&2", "[[ -f x ]] && echo y", "cd /app", "",
                "# flyconf: ignore[entrypoint-no-exec]", "trap 'kill $PID' TERM", "bin/rails db:migrate &"]


def _with_odd(lines: list[str], slots: list[tuple[int, str]], odd: str, placed_as: str | None = None) -> str:
    """``lines`` with, before line i, the comment ``# a<odd>b``, or ``x<odd>y`` put into a string of line i.

    Where it goes depends on ``placed_as`` (default ``odd``), so that a space takes the same places.
    """
    out = list(lines)
    for i, how in sorted(slots, reverse=True):
        i = min(i, len(out))
        # JSON forbids raw control characters in strings (a true finding): those go into a comment there.
        json = i < len(out) and (placed_as or odd) < " " and "[" in out[i]
        if how == "comment" or i == len(out) or json or ('"' not in out[i] and "'" not in out[i]):
            out.insert(i, f"# a{odd}b")
        else:
            quote = '"' if '"' in out[i] else "'"
            at = out[i].index(quote) + 1
            out[i] = out[i][:at] + f"x{odd}y" + out[i][at:]
    return "\n".join(out) + "\n"


def _same_places(lint: Callable[[str], list[Diagnostic]], lines: list[str], slots: list[tuple[int, str]],
                 odd: str) -> None:
    text = _with_odd(lines, slots, odd)
    spaced = _with_odd(lines, slots, " ", placed_as=odd)
    found, expected = lint(text), lint(spaced)
    assert_inside(text, found)
    assert where(found) == where(expected)
    assert where(lint(spaced.replace("\n", "\r\n"))) == where(expected)  # CRLF: the same places as LF
    shown = [d for d in found if odd in (split_lines(text)[d.line - 1] if d.line <= len(split_lines(text)) else "")]
    if not shown:  # the report shows the same lines (only where they do not hold the character)
        assert render_text(found, sources={d.path: text for d in found}) == \
               render_text(expected, sources={d.path: spaced for d in expected})


SLOTS = st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["comment", "string"])), min_size=1, max_size=4)


@PROPERTY
@given(st.lists(st.sampled_from(FLY_LINES), max_size=20), SLOTS, st.sampled_from(TOML_ODD))
def test_fly_toml_same_places(lines: list[str], slots: list[tuple[int, str]], odd: str):
    _same_places(lambda t: lint_text(t, "fly.toml"), lines, slots, odd)


@PROPERTY
@given(st.lists(st.sampled_from(DOCKER_LINES), max_size=20), SLOTS, st.sampled_from(ODD))
def test_dockerfile_same_places(lines: list[str], slots: list[tuple[int, str]], odd: str):
    _same_places(lambda t: lint_text(t, "Dockerfile"), lines, slots, odd)


def ours(text: str) -> list[RawInstruction] | tuple[str, str]:
    try:
        return parse_instructions(text)
    except DockerfileSyntaxError as exc:
        return ("error", exc.message)


@needs_buildkit
@PROPERTY
@given(st.lists(st.sampled_from(DOCKER_LINES), min_size=1, max_size=12), SLOTS, st.sampled_from(ODD),
       st.sampled_from(["\n", "\r\n"]))
def test_buildkit_numbers_lines_as_split_lines_does(lines: list[str], slots: list[tuple[int, str]], odd: str,
                                                   ending: str):
    """BuildKit's own parser: a lone "\r", "\f", U+2028... is inside a line; "\r\n" ends one, as "\n" does."""
    text = _with_odd(lines, slots, odd).replace("\n", ending)
    try:
        expected = buildkit_outcome(text)
    except WrapperCannotSay:
        return
    assert ours(text) == expected
    if isinstance(expected, tuple):
        return
    shown = split_lines(text)
    for ins in expected:
        assert shown[ins.start_line - 1].lstrip(" \t").startswith(ins.cmd), (ins, shown)


@PROPERTY
@given(st.lists(st.sampled_from(SCRIPT_LINES), max_size=20), SLOTS, st.sampled_from(ODD))
def test_script_same_places(lines: list[str], slots: list[tuple[int, str]], odd: str):
    _same_places(lambda t: check_start_script(parse_script(t, "start.sh")), lines, slots, odd)


COMPOSE = [
    "services:", "  web:  #", "    build: .", "    image: \"nginx\"", "    environment:  #",
    "      DATABASE_URL: 'file:/app/data/app.db'", "      NOTE: \"hello\"", "    volumes:", "      - cache:/cache  #",
    "      - \"data:/data\"", "  worker:", "    image: 'app'", "    command: \"bin/worker\"", "volumes:", "  cache:  #",
    "  data:",
]


@PROPERTY
@given(st.lists(st.integers(0, len(COMPOSE) - 1), min_size=1, max_size=5), st.sampled_from(YAML_ODD))
def test_compose_same_places(slots: list[int], odd: str):
    """YAML breaks lines at these characters itself: put them where that changes nothing (a comment's end,
    inside a quoted string)."""
    def fill(sep: str) -> str:
        out = list(COMPOSE)
        for i in set(slots):
            line = out[i]
            if line.endswith("#"):
                out[i] = line + " note" + sep
            elif '"' in line or "'" in line:
                quote = '"' if '"' in line else "'"
                at = line.index(quote) + 1
                out[i] = line[:at] + "x" + sep + "y" + line[at:]
        return "\n".join(out) + "\n"

    text, spaced = fill(odd), fill(" ")
    found = lint_text(text, "compose.yaml")
    assert_inside(text, found)
    assert where(found) == where(lint_text(spaced, "compose.yaml"))
    assert where(lint_text(spaced.replace("\n", "\r\n"), "compose.yaml")) == where(lint_text(spaced, "compose.yaml"))


NOISE = st.lists(st.sampled_from([*"ab =[]{}\"'#.,\\$&|;()-", "\n", "\r\n", *ODD, "FROM ", "RUN ", "CMD ",
                                  "[[mounts]]", "source", "destination", "services:", "  web:", "é"]),
                 max_size=60).map("".join)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NOISE, st.sampled_from(["fly.toml", "Dockerfile", "compose.yaml"]))
def test_every_finding_is_inside_the_file(text: str, name: str):
    assert_inside(text, lint_text(text, name))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NOISE)
def test_every_script_finding_is_inside_the_file(text: str):
    assert_inside(text, check_start_script(parse_script(text, "start.sh")))
