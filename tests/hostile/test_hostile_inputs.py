"""Hostile files and file systems (issue 13, "Kept in CI"): each case runs the command line in a subprocess with
a wall-time and an address-space limit, and checks that flyconf exits 0, 1 or 2 without a traceback or an
internal error, prints a bounded amount, keeps every finding inside its file, echoes nothing it must not, and
reports the finding the case calls for (rule, line and column).

The time limits catch hangs, they do not measure speed: 60 s where flyconf should take well under a second.
Each case failed before issue 13's fixes (a traceback, a hang, memory exhausted, a finding outside its file, a
secret echoed, a file written outside the project) unless its comment says it guards what already held.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from flyconf import registry
from tests.buildkit_oracle import HAVE_BUILDKIT
from tests.conftest import REPO
from tests.hostile.helpers import (
    OUTPUT_LIMIT,
    Outcome,
    assert_inside,
    check_outcome,
    findings_of,
    flyconf,
    python,
    snapshot,
    text_of,
    validate_sarif,
)

SECRET = "machine api.example.com login ci password SECRET-TOKEN-7f3a"

NODE = 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n'
FIXTURE_APP = REPO / "tests" / "fixtures" / "apps" / "node-prisma"  # fix writes all three kinds of file here


def code(rule: str) -> str:
    found = registry.get(rule)
    assert found is not None, rule
    return found.code


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content)
    return root


def fixture_app(root: Path) -> Path:
    """The node-prisma fixture app, which `fix` and `generate` write a wrapper, fly.toml and a Dockerfile for."""
    for src in FIXTURE_APP.rglob("*"):
        if src.is_file():
            (root / src.relative_to(FIXTURE_APP)).parent.mkdir(parents=True, exist_ok=True)
            (root / src.relative_to(FIXTURE_APP)).write_bytes(src.read_bytes())
    return root


@dataclass(frozen=True)
class Case:
    """``build(project)`` lays the files out (and returns the directory to run in); flyconf runs there with
    ``args`` once per format; ``expect`` lists findings (rule, path, line, column) the JSON report must hold;
    ``absent``: text no output may contain; ``check(project, outcomes)``: anything else. With ``script``, that
    Python code runs there instead (the library, or a test helper) and must print "ok"."""

    build: Callable[[Path], Path]
    args: tuple[str, ...] = ("lint", "--isolated", ".")
    formats: tuple[str, ...] = ("json",)
    expect: tuple[tuple[str, str, int, int], ...] = ()
    absent: tuple[str, ...] = ()
    check: Callable[[Path, list[Outcome]], None] | None = None
    timeout: float = 60
    as_user: bool = False
    script: str | None = None
    output_limit: int = OUTPUT_LIMIT


def _files(files: dict[str, str | bytes]) -> Callable[[Path], Path]:
    return lambda root: write(root, files)


def _run(case: Case, project: Path) -> list[Outcome]:
    assert not case.expect or "json" in case.formats, "findings are checked in the JSON report"
    cwd = case.build(project)
    if case.script is not None:
        done = python(["-c", case.script], cwd, timeout=case.timeout)
        assert (done.code, done.out) == (0, "ok\n"), done.err[-3000:]
        return [done]
    outcomes = []
    for fmt in case.formats:
        args = list(case.args)
        if args[0] == "lint":
            args[1:1] = ["--format", fmt]
        outcome = flyconf(args, cwd, timeout=case.timeout, as_user=case.as_user)
        check_outcome(outcome, output_limit=case.output_limit)
        for text in case.absent:
            assert text not in outcome.out + outcome.err, f"{text!r} in the {fmt} output"
        if args[0] == "lint" and fmt in ("json", "sarif"):
            found = findings_of(outcome, fmt)
            assert_inside(found, _texts(cwd, found))
            if fmt == "sarif":
                validate_sarif(outcome.out)
            if fmt == "json":
                positions = {(f["code"], f["path"], f["line"], f["column"]) for f in found}
                for rule, path, line, column in case.expect:
                    assert (code(rule), path, line, column) in positions, (rule, path, line, column, found)
        outcomes.append(outcome)
    if case.check is not None:
        case.check(cwd, outcomes)
    return outcomes


def _texts(cwd: Path, found: list[dict]) -> dict[str, str]:  # type: ignore[type-arg]
    """The text of each regular file, under 4 MB, that a finding is on (a path relative to ``cwd``)."""
    texts = {}
    for path in {f["path"] for f in found}:
        file = cwd / path
        try:
            if stat.S_ISREG(os.lstat(file).st_mode) and file.stat().st_size < 4_000_000:
                texts[path] = text_of(file.read_bytes())
        except OSError:
            pass
    return texts


CASES: dict[str, Case] = {}


def case(name: str, **kwargs: object) -> None:
    CASES[name] = Case(**kwargs)  # type: ignore[arg-type]


# -- crashes on numbers -----------------------------------------------------------------------------------------

for value in ("inf", "-inf", "nan"):
    case(f"kill_timeout-{value}", build=_files({"fly.toml": f'app = "x"\nkill_timeout = {value}\n'}))
case("check-durations-inf-nan", build=_files({"fly.toml": (
    'app = "x"\n[[services]]\n  internal_port = 8080\n  protocol = "tcp"\n  [[services.http_checks]]\n'
    '    interval = inf\n    timeout = nan\n    grace_period = -inf\n  [[services.tcp_checks]]\n    interval = nan\n'
    '[http_service]\n  internal_port = 8080\n  [[http_service.checks]]\n    interval = inf\n    timeout = -inf\n'
    '    grace_period = nan\n[checks.alive]\n  type = "tcp"\n  port = 8080\n  interval = inf\n')}))
case("deploy-wait_timeout-inf", build=_files({"fly.toml": 'app = "x"\n[deploy]\n  wait_timeout = inf\n'}))
case("duration-400-digits", build=_files({"fly.toml": f'app = "x"\nkill_timeout = "{"9" * 400}s"\n'
                                                      f'[deploy]\n  wait_timeout = "{"9" * 400}s"\n'}))
case("mount-initial_size-inf", build=_files({"fly.toml": 'app = "x"\n[[mounts]]\n  source = "data"\n'
                                                         '  destination = "/data"\n  initial_size = inf\n'}))
# TOML integers are 64-bit; tomllib raises ValueError (not TOMLDecodeError) past 4,300 digits.
case("integer-4400-digits", build=_files({"fly.toml": f'app = "x"\nswap_size_mb = {"9" * 4400}\n'}),
     expect=(("toml-syntax", "fly.toml", 2, 16),))
case("port-superscript-two", build=_files({"fly.toml": (
    'app = "x"\n[http_service]\n  internal_port = "²"\n[[services]]\n  internal_port = "²"\n'
    '  [[services.ports]]\n    port = "²"\n')}))
case("superscript-in-dockerfile-and-script", build=_files({
    "fly.toml": 'app = "x"\n[http_service]\n  internal_port = 8080\n',
    "Dockerfile": 'FROM node:20-slim\nENV PORT=²\nEXPOSE ²\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n',
    "start.sh": '#!/bin/sh\nexport PORT="²"\nexec node server.js --port ² -p ²\n'}))
case("one-bad-file-keeps-the-others", build=_files({
    "a/fly.toml": 'app = "a"\nkill_timeout = inf\n', "b/fly.toml": 'app = "b"\nkill_timeout = 5\n'}),
     formats=("json", "sarif"), expect=(("duration-unit", "b/fly.toml", 2, 16),))

# -- the Dockerfile parser and odd paths ------------------------------------------------------------------------

case("copy-chown-non-ascii", build=_files({"fly.toml": 'app = "x"\n', "Dockerfile": "FROM node:20\nCOPY --chown=\u0800 . .\n"}))
# A NUL in the path: no crash, and the finding that names the path does not print the NUL raw.
case("nul-in-build-dockerfile", build=_files({"fly.toml": 'app = "x"\n[build]\n  dockerfile = "Docker\\u0000file"\n'}),
     formats=("json", "text", "concise"), absent=("\x00",))


def _loop(name: str, files: dict[str, str | bytes]) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        write(root, files)
        (root / name).symlink_to(name + ".other")
        (root / (name + ".other")).symlink_to(name)
        return root
    return build


case("symlink-loop-fly.toml", build=_loop("fly.toml", {}), args=("lint", "--isolated", "fly.toml"),
     expect=(("io-error", "fly.toml", 1, 1),))
case("symlink-loop-fly.toml-in-a-directory", build=_loop("fly.toml", {}))
case("symlink-loop-Dockerfile", build=_loop("Dockerfile", {"fly.toml": 'app = "x"\n'}))


case("lone-surrogate-through-lint_text", build=lambda root: root, script=(
    "from flyconf import lint_text\n"
    "for name in ('Dockerfile', 'fly.toml', 'compose.yaml'):\n"
    "    for text in ('FROM a\\nRUN \\udc80\\n', 'FROM \\udc80', 'COPY --chown=\\udcff . .\\n',\n"
    "                 'app = \"\\udc80\"\\n', 'services:\\n  a:\\n    image: \\udc80\\n'):\n"
    "        lint_text(text, name)\n"
    "print('ok')\n"))

# -- line breaks: TOML, BuildKit and sh break lines at "\n" only ------------------------------------------------


def _shows(line: str) -> Callable[[Path, list[Outcome]], None]:
    """The text report quotes ``line`` as the source of its finding."""
    def check(project: Path, outcomes: list[Outcome]) -> None:
        assert any(f"| {line}" in o.out for o in outcomes), [o.out for o in outcomes]
    return check


case("u2028-and-nel-in-a-toml-comment", build=_files({"fly.toml": '# one\u2028two\x85three\nkill_timeout = 5\n'}),
     formats=("json", "text"), expect=(("duration-unit", "fly.toml", 2, 16),), check=_shows("kill_timeout = 5"))
case("u2028-in-a-toml-string", build=_files({"fly.toml": 'app = "a\u2028b\u2029c"\nkill_timeout = 5\n'}),
     formats=("json", "text"), expect=(("duration-unit", "fly.toml", 2, 16),), check=_shows("kill_timeout = 5"))
case("ff-vt-cr-u2028-in-a-dockerfile", build=_files({
    "Dockerfile": "FROM node:20\nRUN echo a\fb\vc\rd\u2028e\x85f\nCOPY . .\nCMD node server.js\n"}),
     formats=("json", "text"), expect=(("cmd-shell-form", "Dockerfile", 4, 1),), check=_shows("CMD node server.js"))
case("crlf-fly.toml", build=_files({"fly.toml": 'app = "x"\r\nkill_timeout = 5\r\n[env]\r\n  A = "1"\r\n'}),
     formats=("json", "text"), expect=(("duration-unit", "fly.toml", 2, 16),))
case("crlf-dockerfile", build=_files({"Dockerfile": "FROM node:20\r\nCOPY . .\r\nCMD node server.js\r\n"}),
     expect=(("cmd-shell-form", "Dockerfile", 3, 1),))
case("cr-only-line-ends", build=_files({"fly.toml": 'app = "x"\rkill_timeout = 5\r',
                                        "Dockerfile": "FROM node:20\rCMD node server.js\r"}))
case("crlf-start-script", build=_files({
    "fly.toml": 'app = "x"\n', "Dockerfile": 'FROM node:20\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n',
    "start.sh": "#!/bin/sh\r\nset -e\r\nnpx prisma migrate deploy\r\nexec node server.js\r\n"}))

# -- control characters in keys and values are escaped ----------------------------------------------------------

case("escape-sequence-in-a-key", build=_files({"fly.toml": 'app = "x"\n"\\u001b[2J\\u001b]0;pwned\\u0007" = 1\n'
                                                           '[env]\n  "\\u001b[31mRED" = "1"\n'}),
     formats=("json", "text", "concise", "github"), expect=(("unknown-key", "fly.toml", 2, 1),), absent=("\x1b",))


def _no_forged_line(project: Path, outcomes: list[Outcome]) -> None:
    for o in outcomes:
        assert not any(line.startswith("fly.toml:9:9: error: FC999") for line in o.out.splitlines()), o.out


case("newline-forging-a-finding", build=_files({"fly.toml": 'app = "x"\n"a\\nfly.toml:9:9: error: FC999 forged" = 1\n'
                                                            'kill_signal = "\\nfly.toml:9:9: error: FC999 forged"\n'}),
     formats=("text", "concise", "github"), check=_no_forged_line)

# -- odd files ----------------------------------------------------------------------------------------------------

case("nul-bytes", build=_files({"fly.toml": b'app = "x"\nkill\x00 = 1\n', "Dockerfile": b"FROM a\nRUN \x00\n"}),
     expect=(("toml-syntax", "fly.toml", 2, 5), ("dockerfile-syntax", "Dockerfile", 2, 5)))
case("utf-16-with-bom", build=_files({"fly.toml": 'app = "x"\nkill_timeout = 5\n'.encode("utf-16"),
                                      "Dockerfile": "FROM node:20\nCMD node server.js\n".encode("utf-16")}),
     expect=(("toml-syntax", "fly.toml", 1, 1), ("dockerfile-syntax", "Dockerfile", 1, 1)))
case("utf-8-bom", build=_files({"fly.toml": '\ufeffkill_timeout = 5\n'}), expect=(("duration-unit", "fly.toml", 1, 16),))
case("deep-nesting", build=_files({
    "fly.toml": "a = " + "[" * 20_000 + "]" * 20_000 + "\nb = " + "{ c = " * 5_000 + "1" + " }" * 5_000 + "\n",
    "sub/fly.toml": 'app = "x"\n[env]\n' + "".join(f"[{'.'.join(['t'] * n)}]\n" for n in range(1, 300)),
    "compose.yaml": "services:\n  web:\n    x: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "Dockerfile": "FROM node:20\nRUN " + "$(" * 20_000 + ")" * 20_000 + "\n"}))
case("twenty-megabyte-files", build=_files({"fly.toml": 'app = "x"\n' + "# padding\n" * 2_000_000,
                                            "Dockerfile": "FROM a\n" + "# padding\n" * 2_000_000}),
     expect=(("io-error", "fly.toml", 1, 1), ("io-error", "Dockerfile", 1, 1)))

# -- time and memory ----------------------------------------------------------------------------------------------

for size in (70_000, 200_000):  # BuildKit's scanner stops at 64 KiB a line
    case(f"dockerfile-line-of-{size // 1000}-kb", build=_files({
        "fly.toml": 'app = "x"\n', "Dockerfile": "FROM node:20\nRUN echo " + "a" * size + "\nCMD node server.js\n"}))
if HAVE_BUILDKIT:  # the test oracle finds the line of BuildKit's error by parsing each prefix of the file
    case("buildkit-oracle-on-a-long-line", build=_files({
        "Dockerfile": "FROM node:20\n" + "RUN true\n" * 1500 + "RUN echo " + "a" * 118_000 + "\n"}),
         script=(
        "from pathlib import Path\n"
        "from flyconf.sources.dockersyntax import DockerfileSyntaxError\n"
        "from tests.buildkit_oracle import buildkit_instructions\n"
        "try:\n"
        "    buildkit_instructions(Path('Dockerfile').read_text())\n"
        "except DockerfileSyntaxError as exc:\n"
        "    assert exc.line == 1502, exc.line\n"
        "print('ok')\n"))
case("100-kb-of-braces-in-a-script", build=_files({
    "fly.toml": 'app = "x"\n', "Dockerfile": 'FROM node:20\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n',
    "start.sh": "#!/bin/sh\necho " + "{" * 100_000 + "\nexec node server.js\n"}))
case("20000-suppression-comments", build=_files({  # each before a statement: found by a scan of those after it
    "fly.toml": 'app = "x"\n[env]\n' + "".join(f'# flyconf: ignore[FC505]\n  K{i} = "1"\n' for i in range(20_000)),
    "Dockerfile": "FROM node:20\n" + "# flyconf: ignore[FC703]\nRUN true\n" * 20_000}),
     output_limit=32 << 20)  # each suppression silences nothing: 40,000 findings of FC902, about 19 MB of JSON
case("1.9-mb-command-in-a-dockerfile", build=_files({  # shlex over the whole CMD
    "Dockerfile": "FROM node:20\nCMD node" + " \\\n a b c d e f g h i j k l m n o p q r s t u v w x y z" * 36_000 + "\n"}))
case("1.9-mb-command-in-fly.toml", build=_files({
    "fly.toml": 'app = "x"\n[processes]\n  app = "' + "node server.js " * 130_000 + '"\n'
                '[deploy]\n  release_command = "' + "x 'a b' " * 1000 + '"\n'}))
case("1200-process-groups-by-1200-mounts", build=_files({
    "fly.toml": 'app = "x"\n[processes]\n' + "".join(f'  g{i} = "node s.js"\n' for i in range(1200))
                + "".join(f'[[mounts]]\n  source = "v{i}"\n  destination = "/d{i}"\n  processes = ["g{i}"]\n'
                          for i in range(1200))}))

# -- special files --------------------------------------------------------------------------------------------


def _fifo(name: str, files: dict[str, str | bytes]) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        write(fixture_app(root) if name.startswith("bin/") else root, files)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / name)
        return root
    return build


case("fifo-named-fly.toml", build=_fifo("fly.toml", {}), expect=(("io-error", "fly.toml", 1, 1),))
case("fifo-named-fly.toml-given-by-name", build=_fifo("fly.toml", {}), args=("lint", "--isolated", "fly.toml"),
     expect=(("io-error", "fly.toml", 1, 1),))
case("fifo-named-Dockerfile", build=_fifo("Dockerfile", {"fly.toml": 'app = "x"\n'}))


def _entrypoint_to(target: str) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        fixture_app(root)
        (root / "bin").mkdir()
        if target == "fifo":
            os.mkfifo(root / "bin" / "fly-entrypoint")
        else:
            (root / "bin" / "fly-entrypoint").symlink_to(target)
        return root
    return build


GENERATE = ("generate", "entrypoint", "--preset", "prisma", "--volume", "/data", "--database", "/data/dev.db")


def _generated(project: Path, outcomes: list[Outcome]) -> None:
    assert [o.code for o in outcomes] == [0], outcomes
    assert (project / "bin" / "fly-entrypoint").read_text().startswith("#!/bin/sh\n")


# The control: with these arguments, generate writes the wrapper (the cases below reach the file).
case("generate-on-the-fixture-app", build=fixture_app, args=GENERATE, check=_generated)
for target in ("/dev/zero", "fifo"):
    for command in (("fix", "."), GENERATE):
        case(f"{command[0]}-with-bin/fly-entrypoint-{target.strip('/').replace('/', '-')}",
             build=_entrypoint_to(target), args=command)
case("huge-litefs.yml", build=_files({
    "fly.toml": 'app = "x"\n[env]\n  DATABASE_URL = "file:/litefs/app.db"\n[[mounts]]\n  source = "litefs"\n'
                '  destination = "/var/lib/litefs"\n',
    "Dockerfile": 'FROM node:20\nCOPY litefs.yml /etc/litefs.yml\nENTRYPOINT ["litefs", "mount"]\n',
    "litefs.yml": "fuse:\n  dir: /litefs\ndata:\n  dir: /var/lib/litefs\nexec:\n" + "  - cmd: node server.js\n" * 400_000}))


def _locked(root: Path) -> Path:
    write(root, {"fly.toml": 'app = "x"\n', "locked/fly.toml": 'app = "y"\nkill_timeout = 5\n'})
    (root / "locked").chmod(0)
    return root


def _says_locked(project: Path, outcomes: list[Outcome]) -> None:
    (project / "locked").chmod(0o755)  # so that the directory can be removed
    assert all("locked" in o.out + o.err for o in outcomes), [o.err for o in outcomes]


case("unreadable-directory", build=_locked, formats=("json", "text"), check=_says_locked, as_user=True)

# -- reading and writing outside the project ------------------------------------------------------------------


def _outside(how: str) -> Callable[[Path], Path]:
    """A project whose [build] dockerfile names a file outside it (absolute, ../, or through a symlink) whose
    first line is a secret."""
    def build(root: Path) -> Path:
        write(root, {"outside/credentials": SECRET + "\nFROM node:20\n"})
        named = {"absolute": str(root / "outside" / "credentials"), "dotdot": "../outside/credentials",
                 "symlink": "Dockerfile"}[how]
        write(root, {"project/fly.toml": f'app = "x"\n[build]\n  dockerfile = {json.dumps(named)}\n'})
        if how == "symlink":
            (root / "project" / "Dockerfile").symlink_to(root / "outside" / "credentials")
        return root / "project"
    return build


for how in ("absolute", "dotdot", "symlink"):
    case(f"dockerfile-outside-the-project-{how}", build=_outside(how),
         formats=("json", "text", "sarif", "github"), absent=("SECRET-TOKEN",))


def _fix_outside(how: str) -> Callable[[Path], Path]:
    """The fixture app with its Dockerfile (``dockerfile``) or its bin/ (``bin``) outside the project."""
    def build(root: Path) -> Path:
        project = fixture_app(root / "project")
        if how == "dockerfile":
            (root / "elsewhere").mkdir()
            (project / "Dockerfile").rename(root / "elsewhere" / "Dockerfile")
            toml = (project / "fly.toml").read_text()
            (project / "fly.toml").write_text(toml.replace('primary_region = "fra"\n', 'primary_region = "fra"\n'
                                                           '[build]\n  dockerfile = "../elsewhere/Dockerfile"\n'))
        else:
            (root / "elsewhere").mkdir()
            (project / "bin").symlink_to(root / "elsewhere")
        return project
    return build


def _untouched(how: str) -> Callable[[Path, list[Outcome]], None]:
    def check(project: Path, outcomes: list[Outcome]) -> None:
        after = {name: entry.content for name, entry in snapshot(project.parent / "elsewhere").items()}
        before = {"Dockerfile": (FIXTURE_APP / "Dockerfile").read_bytes()} if how == "dockerfile" else {}
        assert after == before, f"fix wrote outside the project: {sorted(after)}"
    return check


for how in ("dockerfile", "bin"):
    case(f"fix-with-{how}-outside-the-project", build=_fix_outside(how), args=("fix", "."), check=_untouched(how))


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(tmp_path: Path, name: str) -> None:
    _run(CASES[name], tmp_path)
