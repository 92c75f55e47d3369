"""Issue 13: inputs under the 2 MB limit that took minutes or gigabytes, and text no output can encode.

Each heavy case runs in a child process under a time limit and an address-space limit. The limits are
generous, to catch a hang or a blow-up and not a slow machine: every input here took far longer (or far
more memory) before its fix, as its comment says, and takes about a second now. Speed itself is
measured in benchmarks, never here.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyconf import shsplit
from flyconf.lint import lint_text
from flyconf.sources.dockersyntax import DockerfileSyntaxError, parse_instructions
from tests.buildkit_oracle import WrapperCannotSay, buildkit_instructions, buildkit_outcome, needs_buildkit
from tests.conftest import REPO
from tests.hostile.helpers import limit_memory  # the address-space limit every hostile case runs under

SECONDS = 30  # for each case


# The heavy cases, by test name: each sets ``result``. They run in one child process (one start-up for
# all), each under an alarm; a case that raises or runs out of time or memory fails its own test.
HEAVY: dict[str, str] = {}

CHILD = """
import json, signal, sys
from flyconf.lint import lint_text

def show(text, name):
    return [[d.code, d.line, d.column] for d in lint_text(text, name)]

class Late(Exception):
    pass

def late(signum, frame):
    raise Late()

signal.signal(signal.SIGALRM, late)
out = {}
for name, code in json.loads(sys.stdin.read()).items():
    signal.alarm(SECONDS)
    try:
        scope = {"show": show}
        exec(code, scope)
        out[name] = {"result": scope["result"]}
    except Late:
        out[name] = {"error": "still running after SECONDS s"}
    except BaseException as exc:  # MemoryError and RecursionError too: the case failed
        out[name] = {"error": (type(exc).__name__ + ": " + str(exc))[:2000]}
    finally:
        signal.alarm(0)
print(json.dumps(out))
""".replace("SECONDS", str(SECONDS))


@pytest.fixture(scope="module")
def heavy() -> dict[str, dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cases = {name: textwrap.dedent(code) for name, code in HEAVY.items()}
    proc = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=SECONDS * len(cases) + 30, preexec_fn=limit_memory, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return found


def bounded(heavy: dict[str, dict[str, object]], name: str) -> object:
    """The result of the heavy case ``name``; the test fails if it raised or ran out of time."""
    outcome = heavy[name]
    assert "error" not in outcome, outcome["error"]
    return outcome["result"]


# -- lone surrogates: a str from the library's caller -----------------------------------------------------

@pytest.mark.parametrize(("name", "text", "code", "line", "column"), [
    # Dockerfile: UnicodeEncodeError on main; BuildKit's extension (once the runtime parser) crashed on it.
    ("Dockerfile", "FROM x\nRUN echo \udc80\n", "FC701", 2, 10),
    # fly.toml, and a command in it that the shell reader reads: silently linted on main.
    ("fly.toml", 'app = "a"\n[processes]\napp = "sh -c \'echo \ud800\'"\n', "FC002", 3, 20),
    ("docker-compose.yml", 'services:\n  web:\n    image: "x\udfff"\n', "FC410", 3, 14),
])
def test_lone_surrogate_is_a_finding_at_its_place(name: str, text: str, code: str, line: int, column: int):
    found = lint_text(text, name)
    assert [(d.code, d.line, d.column) for d in found] == [(code, line, column)]
    assert "lone surrogate" in found[0].message


def test_lone_surrogate_from_an_escape_in_compose_is_read_as_go_reads_it():
    # YAML's "\ud800" escape gives PyYAML a lone surrogate; on main the text report then failed to encode
    # (internal error). Go's YAML reader writes U+FFFD for it, and so does flyconf.
    text = 'services:\n  web:\n    image: x\n    volumes: ["d\\ud800:/data"]\n'
    found = lint_text(text, "docker-compose.yml")
    assert [(d.code, d.line, d.column) for d in found] == [("FC413", 4, 15)]
    assert "`d\ufffd`" in found[0].message
    found[0].message.encode("utf-8")


# -- a Dockerfile flag of non-ASCII characters ----------------------------------------------------------

def test_non_ascii_flag_is_split_as_buildkit_splits_its_bytes():
    # U+0800 is E0 A0 80 in UTF-8, and BuildKit reads flags byte by byte: A0, NBSP as a Latin-1 character,
    # is white space to it, so the flag ends inside the character. Reported to raise UnicodeDecodeError (in
    # the extension flyconf once used); the pure-Python parser has given this since it was written.
    text = "FROM x\nCOPY --chown=\u0800 . .\n"
    copy = parse_instructions(text)[1]
    assert (copy.flags, copy.value) == (("--chown=\u00e0",), ("\ufffd", ".", "."))
    assert lint_text(text, "Dockerfile") == []


# -- Dockerfile lines over 64 KiB -----------------------------------------------------------------------

HEAVY["test_a_200_kb_line_is_located_without_reparsing"] = """
result = show("FROM x\\n" + "RUN true\\n" * 2000 + "RUN echo " + "a" * 200_000 + "\\nCMD [\\"x\\"]\\n", "Dockerfile")
"""


def test_a_200_kb_line_is_located_without_reparsing(heavy: dict[str, dict[str, object]]):
    # Once located by parsing every prefix with BuildKit's extension (118 KB: 71 s, 2.3 GB).
    found = bounded(heavy, "test_a_200_kb_line_is_located_without_reparsing")
    assert found == [["FC701", 2002, 1]]


# -- quadratic paths ------------------------------------------------------------------------------------

HEAVY["test_many_unclosed_braces_in_a_shell_word"] = """
from flyconf.sources.script import parse_script
n = 100_000
script = parse_script("#!/bin/sh\\necho a" + "{" * n + " {a,b}\\n", "start.sh")
result = [[b.kind, b.line, b.column, b.end_column] for b in script.bashisms]
"""


def test_many_unclosed_braces_in_a_shell_word(heavy: dict[str, dict[str, object]]):
    # Each `{` was matched by scanning to the end of the word: 10,000 took 14 s on main, 100,000 minutes.
    found = bounded(heavy, "test_many_unclosed_braces_in_a_shell_word")
    assert found == [["brace", 2, 100_008, 100_013]]


HEAVY["test_many_suppressions_in_fly_toml"] = """
result = show("[env]\\n" + "".join(f"# flyconf: ignore[FC402]\\nK{i} = '1'\\n" for i in range(10_000)), "fly.toml")
"""


def test_many_suppressions_in_fly_toml(heavy: dict[str, dict[str, object]]):
    # Each comment looked for its key among all statements, each finding among all suppressions:
    # 5,000 took over 30 s on main.
    found = bounded(heavy, "test_many_suppressions_in_fly_toml")
    assert isinstance(found, list) and len(found) == 10_000
    assert found[0] == ["FC902", 2, 19] and found[-1] == ["FC902", 20_000, 19]


HEAVY["test_many_suppressions_in_a_dockerfile"] = """
result = show("FROM x\\n" + "".join(f"# flyconf: ignore[FC402]\\nRUN x{i}\\n" for i in range(10_000)), "Dockerfile")
"""


def test_many_suppressions_in_a_dockerfile(heavy: dict[str, dict[str, object]]):
    # Each comment scanned the instructions for the next one: 5,000 took over 30 s on main.
    found = bounded(heavy, "test_many_suppressions_in_a_dockerfile")
    assert isinstance(found, list) and len(found) == 10_000
    assert found[0] == ["FC902", 2, 19] and found[-1] == ["FC902", 20_000, 19]


HEAVY["test_many_suppressions_in_a_row_in_a_script"] = """
from flyconf.sources.script import parse_script
from flyconf.suppress import suppressions
n = 20_000
sups, bad = suppressions(parse_script("#!/bin/sh\\n" + "# flyconf: ignore[FC402]\\n" * n + "exec x\\n", "start.sh"))
result = [len(sups), [sups[0].first, sups[0].last], [sups[-1].first, sups[-1].last], len(bad)]
"""


def test_many_suppressions_in_a_row_in_a_script(heavy: dict[str, dict[str, object]]):
    # Each comment scanned the comments after it for the next command: 20,000 in a row, 200 million lines.
    found = bounded(heavy, "test_many_suppressions_in_a_row_in_a_script")
    assert found == [20_000, [20_002, 20_002], [20_002, 20_002], 0]


HEAVY["test_a_long_shell_form_command_is_split_in_linear_time"] = """
result = show("FROM x\\nCMD node " + ("a" * 60_000 + "\\\\\\n") * 16 + "a\\n", "Dockerfile")
"""


def test_a_long_shell_form_command_is_split_in_linear_time(heavy: dict[str, dict[str, object]]):
    # shlex.split reads a character at a time: this 960 KB word (continued lines) took minutes on main.
    found = bounded(heavy, "test_a_long_shell_form_command_is_split_in_linear_time")
    assert found == [["FC703", 2, 1]]


HEAVY["test_many_process_groups_with_their_mounts"] = """
n = 800
groups = "".join(f'g{i} = "x"\\n' for i in range(n))
mounts = "".join(f'[[mounts]]\\nsource = "d{i}"\\ndestination = "/data"\\nprocesses = ["g{i}"]\\n' for i in range(n))
result = show("[processes]\\n" + groups + mounts + '[[mounts]]\\nsource = "e"\\ndestination = "/e"\\nprocesses = ["nope"]\\n',
     "fly.toml")
"""


def test_many_process_groups_with_their_mounts(heavy: dict[str, dict[str, object]]):
    # Every group's mounts were found by resolving every mount's groups again: 400 groups with a mount
    # each took 17 s on main, 800 over a minute.
    found = bounded(heavy, "test_many_process_groups_with_their_mounts")
    # The last mount names an undefined group (mount-unknown-process-group), at the name.
    assert found == [["FC204", 4005, 14]]


# -- growth of Dockerfile variables ---------------------------------------------------------------------

HEAVY["test_env_that_doubles_each_line_is_bounded"] = """
lines = "".join(f"ENV V{i}=${{V{i - 1}}}${{V{i - 1}}}\\n" for i in range(1, 60))
result = show("FROM x\\nENV V0=abcdefgh\\n" + lines + "USER $V59\\nCMD [\\"x\\"]\\n", "Dockerfile")
"""


def test_env_that_doubles_each_line_is_bounded(heavy: dict[str, dict[str, object]]):
    # `ENV V1=${V0}${V0}` doubled a value each line: MemoryError on main after 30 lines.
    found = bounded(heavy, "test_env_that_doubles_each_line_is_bounded")
    assert found == []


HEAVY["test_a_long_chain_of_env_values"] = """
result = show("FROM x\\n" + "".join(f"ENV V{i}=$V{i - 1}x\\n" for i in range(20_000)) + "CMD [\\"x\\"]\\n", "Dockerfile")
"""


def test_a_long_chain_of_env_values(heavy: dict[str, dict[str, object]]):
    # Every instruction merged all ARG and ENV values into a new dict: 4,000 ENV took 9 s on main, 8,000 35 s.
    found = bounded(heavy, "test_a_long_chain_of_env_values")
    assert found == []


# -- the splitter that replaced shlex, and BuildKit's extension as an oracle -----------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\r\n'\"\\ab#$`\u00e9", max_size=16))
def test_shsplit_splits_as_shlex_does(command: str):
    def outcome(split: Callable[[str], list[str]]) -> list[str] | str:
        try:
            return split(command)
        except ValueError as exc:
            return str(exc)

    assert outcome(shsplit.split) == outcome(shlex.split)


@needs_buildkit
@pytest.mark.parametrize("text", ["FROM x\nRUN echo \udc80\n", "FROM x\nRUN echo a\x00b\n"])
def test_the_oracle_never_hands_the_extension_what_it_cannot_take(text: str):
    # A lone surrogate made the extension kill the test process (SIGSEGV); a NUL cut the text short.
    with pytest.raises(WrapperCannotSay):
        buildkit_outcome(text)
    with pytest.raises(WrapperCannotSay):
        buildkit_instructions(text)


class _Late(Exception):
    pass


def _late(signum: int, frame: object) -> None:
    raise _Late()


@needs_buildkit
def test_the_oracle_locates_an_error_by_bisection():
    # Lines before one over 64 KiB: parsing every prefix took 35 s and 600 MB for 2,000 of them. The
    # extension cannot run under an address-space limit (Go reserves more), so only time is bounded here.
    text = "FROM x\n" + "RUN true\n" * 5000 + "RUN " + "a" * 70_000 + "\n"
    previous = signal.signal(signal.SIGALRM, _late)
    signal.alarm(SECONDS)
    try:
        with pytest.raises(DockerfileSyntaxError) as theirs:
            buildkit_instructions(text)
    except _Late:
        pytest.fail(f"still running after {SECONDS} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert theirs.value.line == 5002
    assert "greater than max allowed size" in theirs.value.message
