"""The pure-Python Dockerfile parser against BuildKit's rules.

Two kinds of test: what the parser gives for hand-written cases, asserted here (these run everywhere);
and the same cases, generated Dockerfiles and every real Dockerfile in the corpus compared with
BuildKit's own parser (the ``dockerfile`` package), where that package is installed.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.sources.dockersyntax import DockerfileSyntaxError, RawInstruction, parse_instructions
from tests.buildkit_oracle import (
    WrapperCannotSay,
    buildkit_instructions,
    buildkit_outcome,
    needs_buildkit,
)
from tests.conftest import CORPUS, needs_shared


def ours(text: str) -> list[RawInstruction] | tuple[str, str]:
    try:
        return parse_instructions(text)
    except DockerfileSyntaxError as exc:
        return ("error", exc.message)


def error_of(text: str) -> tuple[str, int]:
    with pytest.raises(DockerfileSyntaxError) as info:
        parse_instructions(text)
    return info.value.message, info.value.line


def brief(text: str) -> list[tuple[str, tuple[str, ...], bool, tuple[str, ...], int, int]]:
    return [(i.cmd, i.value, i.json, i.flags, i.start_line, i.end_line) for i in parse_instructions(text)]


# Hand-written cases for everything flyconf takes from the parser. Each is compared with BuildKit below.
CASES: dict[str, str] = {
    # heredocs
    "heredoc-run": "FROM x\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\nCMD [\"x\"]\n",
    "heredoc-chomp-tabs": "FROM x\nRUN <<-EOT bash\n\techo one\n\t\techo two\n\t\tEOT\n",
    "heredoc-quoted-names": "FROM x\nRUN <<'A' cat && <<\"B\" cat\n$HOME\nA\n${PATH}\nB\n",
    "heredoc-copy-with-dest": "FROM x\nCOPY --chmod=755 <<EOF /usr/local/bin/start\n#!/bin/sh\nexec \"$@\"\nEOF\n",
    "heredoc-two-in-one": "FROM x\nCOPY <<one <<two /dest/\nfirst\none\nsecond\ntwo\n",
    "heredoc-fd": "FROM x\nRUN cat 0<<EOF >/out\nbody\nEOF\n",
    "heredoc-in-json-form-is-text": "FROM x\nRUN [\"cat\", \"<<EOF\"]\nEOF\n",
    "heredoc-in-cmd-is-text": "FROM x\nCMD cat <<EOF\nEOF\n",
    "heredoc-word-glued": "FROM x\nRUN cat<<EOF\nEOF\n",
    "heredoc-semicolon-name": "FROM x\nRUN <<EOF; echo\nbody\nEOF;\n",
    "heredoc-terminator-with-space": "FROM x\nRUN <<EOF\nbody\nEOF \nEOF\n",
    "heredoc-crlf": "FROM x\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nCMD [\"x\"]\r\n",
    "heredoc-after-continuation": "FROM x\nRUN --mount=type=cache,target=/c \\\n    <<EOF\nbody\nEOF\n",
    "heredoc-onbuild": "FROM x\nONBUILD RUN <<EOF\nbody\nEOF\nRUN y\n",
    "heredoc-bad-substitution-ignored": "FROM x\nRUN <<EOF ${}\nRUN y\n",
    "heredoc-unterminated": "FROM node:20\nRUN <<EOF\nnpm ci\n",
    "heredoc-name-with-space": "FROM x\nRUN <<${x:-a b}\nRUN y\n",
    # the escape directive and line continuations
    "escape-backtick": "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir c:\\ `\n    && echo done\nCOPY a\\b c:\\dest\\\n",
    "escape-after-syntax": "# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n  b\n",
    "escape-not-first": "# a comment\n# escape=`\nFROM x\nRUN a `\n  b\n",
    "escape-after-blank-line": "\n# escape=`\nFROM x\nRUN a `\nRUN b\n",
    "escape-twice": "# escape=`\n# escape=`\nFROM x\n",
    "escape-invalid": "# escape=x\nFROM node:20\n",
    "syntax-twice": "# syntax=a\n# syntax=b\nFROM x\n",
    "continuation-comments-and-blanks": "FROM x\nRUN apt-get update \\\n# install\n    && apt-get install -y curl \\\n\n    && rm -rf /var/lib/apt/lists/*\nCMD [\"x\"]\n",
    "continuation-space-after-backslash": "FROM x\nRUN a \\  \n  b\n",
    "continuation-escaped-backslash": "FROM x\nRUN echo a\\\\\nRUN echo b\n",
    "continuation-at-eof": "FROM x\nRUN a \\\n",
    "continuation-only-backslash": "FROM x\n\\\nRUN a\n",
    "continuation-stray-at-end": "FROM x\n\\\n",
    "continuation-crlf": "FROM x\r\nRUN a \\\r\n  b\r\n",
    "continuation-into-next-instruction": "FROM x\nRUN a \\\nRUN b\n",
    # JSON and shell forms
    "json-exec-form": "FROM x\nCMD [\"node\", \"server.js\"]\nENTRYPOINT [ \"tini\" , \"--\" ]\n",
    "json-single-quotes-is-shell": "FROM x\nCMD ['node', 'server.js']\n",
    "json-trailing-text-ignored": "FROM x\nCMD [\"a\"] and more\n",
    "json-empty": "FROM x\nCMD []\n",
    "json-escapes": "FROM x\nCMD [\"a\\\"b\", \"\\u00e9\", \"tab\\tend\", \"\\ud83d\\ude00\"]\n",
    "json-non-strings": "FROM x\nCMD [\"a\", 1]\n",
    "json-nested": "FROM x\nRUN [[\"a\"]]\n",
    "json-nan-is-shell": "FROM x\nCMD [NaN]\n",
    "json-unterminated-is-shell": "FROM x\nCMD [\"a\", \"b\"\n",
    "json-copy-and-volume": "FROM x\nCOPY [\"a b\", \"/c d/\"]\nVOLUME [\"/data\", \"/logs\"]\nVOLUME /one /two\n",
    "json-shell": "FROM x\nSHELL [\"/bin/bash\", \"-c\"]\n",
    # flags
    "flags-copy": "FROM x AS build\nFROM y\nCOPY --from=build --chown=app:app /src /dst\n",
    "flags-quoted": "FROM x\nCOPY --chown=\"app user\" --chmod='755' a b\n",
    "flags-double-dash-ends": "FROM x\nCOPY --from=a -- --not-a-flag /dst\n",
    "flags-single-dash-is-argument": "FROM x\nRUN -x --y\n",
    "flags-run-mount": "FROM x\nRUN --mount=type=cache,target=/root/.npm --network=none npm ci\n",
    "flags-backslash": "FROM x\nCOPY --chown=a\\ b c d\n",
    "flags-non-ascii": "FROM x\nCOPY --chown=jos\u00e9 a b\n",
    # ENV, ARG, LABEL
    "env-forms": "FROM x\nENV A=1 B=\"two words\" C='three' D=a\\ b\nENV OLD value with spaces\nENV E=\n",
    "env-one-word": "FROM node:20\nRUN npm ci\nENV NODE_ENV\nCMD [\"node\"]\n",
    "env-missing-equals": "FROM x\nENV A=1 B\n",
    "env-error-on-continuation": "FROM x\nENV \\\n  A=1 \\\n  B\n",
    "label-forms": "FROM x\nLABEL org.opencontainers.image.title=\"My app\" version=1\nLABEL single value\n",
    "arg-forms": "ARG BASE=node:20\nFROM $BASE\nARG A B=2 C=\"x y\"\n",
    # other instructions
    "healthcheck": "FROM x\nHEALTHCHECK NONE\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\nHEALTHCHECK CMD [\"curl\", \"x\"]\n",
    "onbuild": "FROM x\nONBUILD COPY --from=a . /app\nONBUILD\nONBUILD ONBUILD RUN x\n",
    "no-arguments": "FROM\nRUN\nCMD\nEXPOSE\nWORKDIR\n",
    "unknown-and-lower-case": "from node:20\nrun npm ci\nRUNN npm ci\nExpose 3000\n",
    "whitespace-kinds": "FROM\tnode:20\nEXPOSE 3000\t8080  9090\nUSER  node \nWORKDIR /app\u00a0dir\n",
    "from-as": "FROM --platform=linux/amd64 node:20 AS Build\nFROM build\n",
    "maintainer-stopsignal": "FROM x\nMAINTAINER Jane Doe <jane@example.com>\nSTOPSIGNAL SIGTERM\n",
    "indented": "  FROM x\n\tRUN a\n    # comment\n  CMD [\"b\"]\n",
    "bom": "\ufeffFROM x\n",
    # files with nothing to build
    "empty": "",
    "only-comments": "# nothing\n# here\n",
    "only-blank": "\n\n  \n",
    "no-final-newline": "FROM x\nCMD y",
    "lone-carriage-returns": "FROM x\rRUN a\r\nCMD b\n",
}


# -- what the parser gives (runs everywhere) ------------------------------------------------------------

def test_heredoc_body_lines_and_terminator():
    (_, run, cmd) = parse_instructions(CASES["heredoc-run"])
    assert (run.cmd, run.value, run.start_line, run.end_line) == ("RUN", ("<<EOF",), 2, 5)
    assert run.heredocs == (("EOF", "apt-get update\napt-get install -y curl\n"),)
    assert (cmd.cmd, cmd.start_line) == ("CMD", 6)


def test_heredoc_chomp_keeps_the_body_and_ends_at_the_tabbed_terminator():
    (_, run) = parse_instructions(CASES["heredoc-chomp-tabs"])
    assert run.heredocs == (("EOT", "\techo one\n\t\techo two\n"),) and run.end_line == 5


def test_heredoc_names_lose_their_quotes_and_follow_each_other():
    (_, run) = parse_instructions(CASES["heredoc-quoted-names"])
    assert run.heredocs == (("A", "$HOME\n"), ("B", "${PATH}\n")) and run.end_line == 6


def test_heredocs_only_in_run_copy_add_and_never_in_exec_form():
    assert [i.cmd for i in parse_instructions(CASES["heredoc-in-cmd-is-text"])] == ["FROM", "CMD", "EOF"]
    assert [i.cmd for i in parse_instructions(CASES["heredoc-in-json-form-is-text"])] == ["FROM", "RUN", "EOF"]
    assert [i.cmd for i in parse_instructions(CASES["heredoc-word-glued"])] == ["FROM", "RUN", "EOF"]


def test_heredoc_crlf_terminator_and_body():
    (_, run, cmd) = parse_instructions(CASES["heredoc-crlf"])
    assert run.heredocs == (("EOF", "echo hi\r\n"),) and (run.end_line, cmd.start_line) == (4, 5)


def test_unterminated_heredoc_is_an_error_at_its_instruction():
    assert error_of(CASES["heredoc-unterminated"]) == ("unterminated heredoc", 2)
    assert error_of("FROM x\nRUN a \\\n  && cat <<EOF\nbody\n")[1] == 2


def test_backtick_escape_continues_lines_and_keeps_backslashes():
    assert brief(CASES["escape-backtick"]) == [
        ("FROM", ("mcr.microsoft.com/windows",), False, (), 2, 2),
        ("RUN", ("dir c:\\     && echo done",), False, (), 3, 4),
        ("COPY", ("a\\b", "c:\\dest\\"), False, (), 5, 5),
    ]


def test_escape_directive_only_at_the_very_top():
    assert [i.start_line for i in parse_instructions(CASES["escape-after-syntax"])] == [3, 4]
    # After a comment or a blank line it is a comment: the backtick is an ordinary character.
    assert [i.start_line for i in parse_instructions(CASES["escape-not-first"])] == [3, 4, 5]
    assert [i.start_line for i in parse_instructions(CASES["escape-after-blank-line"])] == [3, 4, 5]


def test_directive_errors_point_at_the_directive():
    assert error_of(CASES["escape-invalid"]) == ("invalid escape token 'x' does not match ` or \\", 1)
    assert error_of(CASES["escape-twice"]) == ("only one escape parser directive can be used", 2)
    assert error_of(CASES["syntax-twice"]) == ("only one syntax parser directive can be used", 2)


def test_continuations_skip_comments_and_blank_lines():
    (_, run, cmd) = parse_instructions(CASES["continuation-comments-and-blanks"])
    assert run.value == ("apt-get update     && apt-get install -y curl     && rm -rf /var/lib/apt/lists/*",)
    assert (run.start_line, run.end_line, cmd.start_line) == (2, 6, 7)


def test_continuation_edge_cases():
    assert brief(CASES["continuation-escaped-backslash"])[1:] == [
        ("RUN", ("echo a\\\\",), False, (), 2, 2), ("RUN", ("echo b",), False, (), 3, 3)]
    assert brief(CASES["continuation-at-eof"])[1] == ("RUN", ("a",), False, (), 2, 2)
    assert brief(CASES["continuation-into-next-instruction"])[1] == ("RUN", ("a RUN b",), False, (), 2, 3)
    assert brief(CASES["continuation-only-backslash"])[1] == ("RUN", ("a",), False, (), 2, 3)
    assert brief(CASES["continuation-stray-at-end"])[1] == ("", ("",), False, (), 2, 2)
    assert brief(CASES["continuation-crlf"])[1] == ("RUN", ("a   b",), False, (), 2, 3)


def test_json_and_shell_forms():
    assert brief(CASES["json-exec-form"])[1:] == [
        ("CMD", ("node", "server.js"), True, (), 2, 2), ("ENTRYPOINT", ("tini", "--"), True, (), 3, 3)]
    assert brief(CASES["json-single-quotes-is-shell"])[1][1:3] == (("['node', 'server.js']",), False)
    assert brief(CASES["json-trailing-text-ignored"])[1][1:3] == (("a",), True)
    assert brief(CASES["json-empty"])[1][1:3] == ((), True)
    assert brief(CASES["json-escapes"])[1][1] == ('a"b', "\u00e9", "tab\tend", "\U0001f600")
    assert brief(CASES["json-nan-is-shell"])[1][1:3] == (("[NaN]",), False)
    assert brief(CASES["json-copy-and-volume"])[1:] == [
        ("COPY", ("a b", "/c d/"), True, (), 2, 2), ("VOLUME", ("/data", "/logs"), True, (), 3, 3),
        ("VOLUME", ("/one", "/two"), False, (), 4, 4)]


def test_json_arrays_of_other_things_are_errors():
    message = "when using JSON array syntax, arrays must be comprised of strings only"
    assert error_of(CASES["json-non-strings"]) == (message, 2)
    assert error_of(CASES["json-nested"]) == (message, 2)


def test_flags():
    assert brief(CASES["flags-copy"])[2] == (
        "COPY", ("/src", "/dst"), False, ("--from=build", "--chown=app:app"), 3, 3)
    assert brief(CASES["flags-quoted"])[1][1:4] == (("a", "b"), False, ("--chown=app user", "--chmod=755"))
    assert brief(CASES["flags-double-dash-ends"])[1][1:4] == (("--not-a-flag", "/dst"), False, ("--from=a",))
    assert brief(CASES["flags-single-dash-is-argument"])[1][1:4] == (("-x --y",), False, ())
    assert brief(CASES["flags-run-mount"])[1][1:4] == (
        ("npm ci",), False, ("--mount=type=cache,target=/root/.npm", "--network=none"))


def test_env_label_arg_values_keep_their_quotes():
    assert brief(CASES["env-forms"])[1:] == [
        ("ENV", ("A", "1", "B", '"two words"', "C", "'three'", "D", "a\\ b"), False, (), 2, 2),
        ("ENV", ("OLD", "value with spaces"), False, (), 3, 3),
        ("ENV", ("E", ""), False, (), 4, 4),
    ]
    assert brief(CASES["label-forms"])[1][1] == ("org.opencontainers.image.title", '"My app"', "version", "1")
    assert brief(CASES["arg-forms"])[2][1] == ("A", "B=2", 'C="x y"')


def test_env_errors_at_the_instruction_start():
    assert error_of(CASES["env-one-word"]) == ("ENV must have two arguments", 3)
    assert error_of(CASES["env-missing-equals"]) == (
        "Syntax error - can't find = in \"B\". Must be of the form: name=value", 2)
    assert error_of(CASES["env-error-on-continuation"])[1] == 2


def test_other_instructions():
    assert brief(CASES["healthcheck"])[1:] == [
        ("HEALTHCHECK", ("NONE",), False, (), 2, 2),
        ("HEALTHCHECK", ("CMD", "curl -f http://localhost/"), False, ("--interval=5s",), 3, 3),
        ("HEALTHCHECK", ("CMD", "curl", "x"), True, (), 4, 4),
    ]
    assert brief(CASES["onbuild"])[1:] == [
        ("ONBUILD", (".", "/app"), False, (), 2, 2), ("ONBUILD", (), False, (), 3, 3),
        ("ONBUILD", ("",), False, (), 4, 4)]
    assert [i.value for i in parse_instructions(CASES["no-arguments"])] == [(), (), (), (), ()]
    assert brief(CASES["unknown-and-lower-case"]) == [
        ("from", ("node:20",), False, (), 1, 1), ("run", ("npm ci",), False, (), 2, 2),
        ("RUNN", ("",), False, (), 3, 3), ("Expose", ("3000",), False, (), 4, 4)]
    assert [i.value for i in parse_instructions(CASES["whitespace-kinds"])] == [
        ("node:20",), ("3000", "8080", "9090"), ("node",), ("/app\u00a0dir",)]


def test_files_without_instructions():
    for name in ("empty", "only-comments", "only-blank"):
        assert error_of(CASES[name]) == ("file with no instructions", 1), name


def test_a_line_longer_than_buildkit_reads_is_an_error_at_that_line():
    ok = "FROM x\nRUN " + "a" * (65535 - 4) + "\n"
    assert len(parse_instructions(ok)) == 2
    assert error_of("FROM x\nRUN " + "a" * (65536 - 4) + "\nCMD y\n") == (
        "dockerfile line greater than max allowed size of 65535", 2)


def test_lines_end_at_newline_only():
    # BuildKit splits on \n alone: a lone \r is part of the line (and white space between words).
    assert brief(CASES["lone-carriage-returns"]) == [
        ("FROM", ("x", "RUN", "a"), False, (), 1, 1), ("CMD", ("b",), False, (), 2, 2)]


# -- the same cases, and more, compared with BuildKit's parser -----------------------------------------

@needs_buildkit
@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_written_case_matches_buildkit(name: str):
    text = CASES[name]
    expected = buildkit_outcome(text)
    assert ours(text) == expected
    if isinstance(expected, tuple) and "\n" in text:
        # The oracle finds an error's line by parsing prefixes, which is the instruction's line when the
        # faulty instruction is on one line; the cases above with a multi-line one are asserted directly.
        if name not in ("env-error-on-continuation",):
            with pytest.raises(DockerfileSyntaxError) as theirs:
                buildkit_instructions(text)
            assert error_of(text)[1] == theirs.value.line


LINE_STARTS = ["FROM x", "RUN", "run", "CMD", "COPY", "ADD", "ENV", "ARG", "LABEL", "ONBUILD RUN", "ONBUILD",
               "HEALTHCHECK", "HEALTHCHECK CMD", "EXPOSE", "VOLUME", "USER", "WORKDIR", "SHELL", "ENTRYPOINT",
               "STOPSIGNAL", "FOO", "# escape=`", "# escape=\\", "# syntax=docker/dockerfile:1", "#", "", "\\", "  "]
FRAGMENTS = [" ", "  ", "\t", "a", "b=c", 'A="x y"', "A=a\\ b", '"', "'", '["a"]', '["a", 1]', '[ "a" , "b" ] x',
             "[]", "[NaN]", "--from=x", '--chown="a b"', "--", "-x", "$", "${a:-b}", "${}", "\u00a0", "\u00e9",
             "NONE", "--mount=type=cache,target=/x", "\\ ", "\\", "`", "<<EOF", "<<-EOF", "<<'EOF'", '<<"EOF"',
             "2<<EOF", "<<EOF;", "cat<<EOF", "<<", "<<A <<B", " #x", "=", "a=", "''", '""']
BODY = ["EOF", "\tEOF", "EOF ", "A", "B", "hello", "# c", "", "\\", "RUN x"]
ENDS = ["\n", "\n", "\n", "\r\n", "\\\n", "`\n", "\\ \n", "\\\\\n"]

dockerfile_lines = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(LINE_STARTS), st.lists(st.sampled_from(FRAGMENTS), max_size=5),
                  st.sampled_from(ENDS)).map(lambda t: t[0] + "".join(t[1]) + t[2]),
        st.tuples(st.sampled_from(BODY), st.sampled_from(["\n", "\r\n"])).map("".join),
    ),
    min_size=1, max_size=10,
).map("".join)


@needs_buildkit
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfile_lines, st.booleans())
def test_generated_dockerfiles_match_buildkit(text: str, strip_end: bool):
    if strip_end:
        text = text.rstrip("\n")
    try:
        expected = buildkit_outcome(text)
    except WrapperCannotSay:
        return  # the Go wrapper cannot hand this result to Python
    assert ours(text) == expected


@needs_shared(CORPUS)
@needs_buildkit
def test_every_corpus_dockerfile_parses_as_buildkit_parses_it():
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and (
        p.name.startswith(("Dockerfile", "Containerfile")) or p.name.endswith(".Dockerfile")))
    assert len(paths) >= 200
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        assert ours(text) == buildkit_outcome(text), path
