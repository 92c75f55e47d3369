"""Start scripts: the shell reader, and entrypoint-no-exec, entrypoint-not-posix, migration-skipped."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf.diagnostics import Span
from flyconf.rules.scripts import Invocation, check_command, check_start_script
from flyconf.sources.base import Document
from flyconf.sources.script import If, Simple, parse_script
from tests.conftest import CORPUS, needs_shared

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "scripts"


def script(text: str, name: str = "start.sh"):
    return parse_script(textwrap.dedent(text).lstrip("\n"), name)


def lint(text: str, name: str = "start.sh"):
    return check_start_script(script(text, name))


def at(diags, rule: str) -> list[tuple[int, int]]:
    return [(d.line, d.column) for d in diags if d.rule == rule]


def fixture(name: str):
    s = parse_script((FIXTURES / name).read_text(), f"scripts/{name}")
    assert s.parse_error is None
    return s, check_start_script(s)


# -- the reader ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("first_line", "shebang", "dialect"),
    [
        ("#!/bin/sh", "/bin/sh", "sh"),
        ("#! /bin/sh -e", "/bin/sh -e", "sh"),
        ("#!/bin/dash", "/bin/dash", "sh"),
        ("#!/bin/ash", "/bin/ash", "sh"),
        ("#!/bin/busybox sh", "/bin/busybox sh", "sh"),
        ("#!/usr/bin/env sh", "/usr/bin/env sh", "sh"),
        ("#!/bin/bash -e", "/bin/bash -e", "bash"),
        ("#!/usr/bin/env bash", "/usr/bin/env bash", "bash"),
        ("#!/usr/bin/env -S bash -eu", "/usr/bin/env -S bash -eu", "bash"),
        ("#!/usr/bin/zsh", "/usr/bin/zsh", "other"),
        ("#!/usr/bin/env python3", "/usr/bin/env python3", "other"),
        ("echo no shebang", None, "sh"),
        ("# a comment first\n#!/bin/bash", None, "sh"),
    ],
)
def test_shebang_and_dialect(first_line, shebang, dialect):
    s = parse_script(first_line + "\necho hi\n", "x")
    assert (s.shebang, s.dialect) == (shebang, dialect)


def test_words_positions_and_quoting():
    s = script("""
        #!/bin/sh
        FOO=1 node "server.js" --name='a b' \\
          --port $PORT # trailing comment with 'quotes
        """)
    (cmd,) = s.commands()
    assert cmd.name == "node" and [w.value for w in cmd.argv] == ["node", "server.js", "--name=a b", "--port", "$PORT"]
    assert [(w.line, w.column, w.quoted) for w in cmd.words] == [
        (2, 1, False), (2, 7, False), (2, 12, True), (2, 24, True), (3, 3, False), (3, 10, False)]
    assert (cmd.line, cmd.column) == (2, 1)
    assert s.comments == [(1, 1, "!/bin/sh"), (3, 16, " trailing comment with 'quotes")]


def test_hash_inside_words_and_expansions_is_no_comment():
    s = script("""
        echo a#b $# ${#x} "#not" '#not'
        """)
    (cmd,) = s.commands()
    assert [w.value for w in cmd.argv] == ["echo", "a#b", "$#", "${#x}", "#not", "#not"]
    assert s.comments == []


def test_heredoc_bodies_are_not_code():
    s = script("""
        cat <<EOF >/etc/conf
        exec not-a-command "$x"
        EOF
        cat <<-'END'
        \tsource nothing
        \tEND
        echo after
        """.replace("\\t", "\t"))
    assert [c.name for c in s.commands()] == ["cat", "cat", "echo"]
    assert s.heredocs == [(2, 3), (5, 6)]


def test_substitutions_backticks_and_contexts():
    s = script("""
        if [ "$(id -u)" = 0 ] && grep -q x `ls /etc`; then
          run $(printf '%s' "$(date)")
        elif test -f x; then :
        else
          node server.js &
        fi
        """)
    names = [(c.name, c.line, c.column) for c in s.commands()]
    assert names == [("[", 1, 4), ("id", 1, 9), ("grep", 1, 26), ("ls", 1, 37), ("run", 2, 3), ("printf", 2, 9),
                     ("date", 2, 24), ("test", 3, 6), (":", 3, 22), ("node", 5, 3)]
    by_name = {c.name: c for c in s.commands()}
    then = [c for c in by_name["run"].context if c.kind == "if"][0]
    assert then.part == "then" and [c.name for c in then.condition] == ["[", "grep"]
    assert by_name["grep"].inside("and", "right") and by_name["id"].inside("substitution")
    assert by_name["date"].inside("substitution") and by_name["date"].inside("if", "then")
    els = [c for c in by_name["node"].context if c.kind == "if"][0]
    assert els.part == "else" and [c.name for c in els.prior] == ["[", "grep", "test"]
    assert by_name["node"].background and not by_name["run"].background
    assert isinstance(s.tree[0], If) and len(s.tree[0].branches) == 2


def test_case_loops_functions_and_groups():
    s = script("""
        main() {
          for f in /docker-entrypoint.d/*.sh; do . "$f"; done
          while ! nc -z db 5432; do sleep 1; done
          case "$1" in
            web|server) exec gunicorn app:app ;;
            (worker) exec celery worker ;;
            *) exec "$@" ;;
          esac
        }
        { echo a; echo b; } > /tmp/log 2>&1
        ( cd /app && make )
        main "$@"
        """)
    assert set(s.functions) == {"main"}
    gunicorn = next(c for c in s.commands() if c.name == "exec" and c.argv[1].value == "gunicorn")
    case = next(c for c in gunicorn.context if c.kind == "case")
    assert case.subject.text == '"$1"' and [p.value for p in case.patterns] == ["web", "server"]
    nc = next(c for c in s.commands() if c.name == "nc")
    assert nc.negated and nc.inside("while", "condition")
    assert isinstance(s.tree[-1], Simple) and s.tree[-1].command.name == "main"


def test_line_continuations_and_crlf():
    s = parse_script("#!/bin/sh\r\nexec node \\\r\n  server.js\r\n", "x")
    # a backslash before CR-LF is not a continuation in sh; the reader must still not fail
    assert s.parse_error is None and s.commands()[0].name == "exec"
    s = parse_script("exec node \\\n  server.js --port \\\n  8080\n", "x")
    (cmd,) = s.commands()
    assert [w.value for w in cmd.argv] == ["exec", "node", "server.js", "--port", "8080"]
    assert (cmd.argv[-1].line, cmd.argv[-1].column) == (3, 3)


# Valid POSIX shapes that tree-sitter-bash (0.23.3 to 0.25.1) reads wrongly without marking an error, which is
# why flyconf keeps its own reader (benchmarks/script_reader.py --treesitter measures it).
@pytest.mark.parametrize(
    ("text", "commands", "heredocs"),
    [
        ("exec >>/data/log 2>&1 node server.js\n",
         [(1, 1, ["exec", "node", "server.js"], [(">>", "/data/log"), (">&", "1")])], []),
        ('echo >&2 "missing" && exit 1\n',
         [(1, 1, ["echo", "missing"], [(">&", "2")]), (1, 23, ["exit", "1"], [])], []),
        ("ls | grep db | head -1\nmigrate && exec node s.js\n",
         [(1, 1, ["ls"], []), (1, 6, ["grep", "db"], []), (1, 16, ["head", "-1"], []), (2, 1, ["migrate"], []),
          (2, 12, ["exec", "node", "s.js"], [])], []),
        ("cat <<EOF; chmod 600 .env\nA=1\nEOF\nexec node s.js\n",
         [(1, 1, ["cat"], [("<<", "EOF")]), (1, 12, ["chmod", "600", ".env"], []),
          (4, 1, ["exec", "node", "s.js"], [])],
         [(2, 3)]),
    ],
    ids=["redirection-first", "redirection-then-word", "newline-after-pipeline", "heredoc-then-semicolon"],
)
def test_reader_keeps_commands_and_their_words_apart(text, commands, heredocs):
    s = parse_script(text, "x")
    assert [(c.line, c.column, [w.value for w in c.words], [(op, w.value) for op, w in c.redirects])
            for c in s.commands()] == commands
    assert s.heredocs == heredocs


def test_two_expansions_joined_by_dots_are_one_word():
    (cmd,) = script("dig $FLY_ALLOC_ID.vm.$FLY_APP_NAME.internal +short\n").commands()
    word = cmd.argv[1]
    assert (word.line, word.column, word.end_column) == (1, 5, 44)
    assert [(p.kind, p.text) for p in word.parts] == [
        ("param", "$FLY_ALLOC_ID"), ("lit", ".vm."), ("param", "$FLY_APP_NAME"), ("lit", ".internal")]
    assert cmd.argv[2].value == "+short" and (cmd.argv[2].line, cmd.argv[2].column) == (1, 45)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#!/bin/sh\nnode worker.js &\nexec >>/data/log 2>&1 node server.js\n", []),
        ("#!/bin/sh\nls -la /data | grep sqlite | head -5\nnpx prisma migrate deploy && exec node server.js\n", []),
        ('#!/bin/sh\ncat <<EOF; chmod 600 /app/.env\nDATABASE_URL=file:/data/db.sqlite\nEOF\n'
         'if [[ "$1" == web ]]; then npx prisma migrate deploy; fi\nnode server.js\n',
         [("FC802", 5, 4), ("FC801", 6, 1)]),
    ],
    ids=["redirection-first-exec", "newline-after-pipeline", "heredoc-then-semicolon"],
)
def test_findings_on_shapes_other_grammars_misread(text, expected):
    assert [(d.code, d.line, d.column) for d in check_start_script(parse_script(text, "start.sh"))] == expected


@pytest.mark.parametrize("text", [
    "", "\n", "#!/bin/sh", "'", '"', "`", "$(", "${", "$((", "if", "fi", "case", "esac", ")", "((", "))",
    "<<", "<<EOF", "cat <<EOF\n", "a=(", "function", "{", "}", "[[", "]]", "f()", "f() {", "echo \\", ";;",
    "for ((", "case $x in (", "$'", "<(", "|", "&&", "!", "! !", "x=$(case a in a) b;; esac)",
    "echo $( ( echo ) )", "a <<A <<B\nA\nB\n", "\x00\x01", "if $(", "echo \"$(echo \"$(echo ')')\")\"",
])
def test_malformed_input_never_raises(text):
    s = parse_script(text, "x")
    assert s.parse_error is None
    assert isinstance(check_start_script(s), list)


def test_deep_nesting_is_read_without_recursion_errors():
    for text in ("$(" * 3000, "if " * 3000, "(" * 3000, "{ " * 3000, "`" * 500, '"$(' * 2000, "a && " * 1000):
        s = parse_script(text, "x")
        assert s.parse_error is None


_SHELLISH = st.lists(
    st.sampled_from([
        " ", "\n", "\t", "\\", "'", '"', "`", "$", "(", ")", "{", "}", "[", "]", "[[", "]]", "#", ";", ";;", "&",
        "&&", "||", "|", "<", ">", "<<", "<<-", "<<<", "&>", "!", "=", "==", "-n", "$1", "$@", "${@: -2:1}",
        "${a[0]}", "$(", "$((", "${", "$'", "if ", "then ", "elif ", "else ", "fi", "case ", " in ", "esac",
        "while ", "until ", "for ", "do ", "done", "function ", "exec ", "trap ", "wait", "EOF", "a=(", "x",
        "npx prisma migrate deploy", "./bin/rails db:prepare", "[ ", " ]", "test ", "source ", "\r",
    ]),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), _SHELLISH))
def test_random_text_never_raises(text):
    s = parse_script(text, "fuzz.sh")
    assert s.parse_error is None
    for cmd in s.commands():
        assert cmd.line >= 1 and cmd.column >= 1
    for d in check_start_script(s):
        assert d.line >= 1 and d.column >= 1
    check_command(Document("fly.toml", "x"), Span(3, 7), text)


# -- FC801 entrypoint-no-exec ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#!/bin/sh -ex\nnpx prisma migrate deploy\nnpm run start\n", [(3, 1)]),
        ('#!/bin/sh\nset -e\n./bin/rails db:prepare\n"$@"\n# trailing comment\n\n', [(4, 1)]),
        ('#!/bin/sh\nif [ -n "$X" ]; then\n  exec "$@"\nelse\n  node server.js\nfi\n', [(5, 3)]),
        ("#!/bin/sh\nnode server.js &\nlitestream replicate &\nwait\n", [(4, 1)]),
        ("#!/bin/sh\n./bin/rails server -b 0.0.0.0\nexit $?\n", [(2, 1)]),
        ("#!/bin/sh\nsupervisord -c /etc/supervisord.conf || echo failed\n", [(2, 1)]),
        ("#!/bin/sh\nnode server.js 2>&1 | tee /data/log\n", [(2, 1)]),
        ("#!/bin/sh\nnginx &\nphp-fpm &\nsleep infinity\n", [(4, 1)]),
        ("#!/bin/sh\nmain() {\n  node server.js\n}\nmain \"$@\"\n", [(3, 3)]),
        ("#!/bin/sh\ncd /app\nnode server.js &\n", [(3, 1)]),
        ('#!/bin/sh\nset -e\nlitestream restore -if-replica-exists /data/db\nlitestream replicate -exec "$*"\n',
         [(4, 1)]),
    ],
    ids=["npm-start", "dollar-at", "one-branch", "wait-no-trap", "exit-after", "or-echo", "pipeline",
         "sleep-infinity", "function", "background-last", "litestream-exec"],
)
def test_no_exec_fires(text, expected):
    diags = check_start_script(parse_script(text, "start.sh"))
    assert at(diags, "entrypoint-no-exec") == expected


def test_no_exec_messages_say_what_to_do():
    (d,) = lint('#!/bin/sh\nnpx prisma migrate deploy\n"$@"\n')
    assert d.code == "FC801" and d.hint == 'end the script with `exec "$@"`'
    assert "main process" in d.message and "kill_signal" in d.message
    assert (d.end_line, d.end_column) == (3, 5)
    (d,) = lint("#!/bin/sh\nnpm run start\n")
    assert d.hint == "replace the shell with the server: `exec npm run start`"
    (d,) = lint("#!/bin/sh\nnode a.js &\nwait\n")
    assert "`node a.js`" in d.message and "trap" in d.hint


def test_no_exec_real_world_shapes():
    _, diags = fixture("litestream.sh")  # flyctl's Phoenix litestream.sh: only the no-bucket branch execs
    assert at(diags, "entrypoint-no-exec") == [(16, 3)]
    assert 'exec litestream replicate -exec "$*"' in diags[0].hint
    _, diags = fixture("redwood-start.sh")
    assert at(diags, "entrypoint-no-exec") == [(9, 1)]


@pytest.mark.parametrize(
    "text",
    [
        '#!/bin/sh\nif [ $# -gt 0 ]; then\n  exec "$@"\nelse\n  exec supervisord -c /etc/supervisord.conf\nfi\n',
        '#!/bin/sh\nset -e\nnpx prisma migrate deploy\nexec "$@"\n\n# the end\n',
        "#!/bin/sh\nnode server.js &\npid=$!\ntrap 'kill -TERM $pid' TERM INT\nwait $pid\nexit $?\n",
        '#!/bin/sh\nmain() {\n  migrate\n  exec node server.js\n}\nmain "$@"\n',
        '#!/bin/sh\n[ -f .env ] && . ./.env\ntest -d /data || mkdir /data\nexec "$@"\n',
        '#!/bin/sh\ncase "$1" in\n  web) exec gunicorn app ;;\n  *) echo "usage: $0 web" >&2; exit 64 ;;\nesac\n',
        "#!/bin/sh\nnpx prisma migrate deploy --schema /app/prisma/schema.prisma\n",  # a release script
        '#!/bin/sh\nstop() { kill -INT "$child"; }\ntrap stop INT TERM\nnode server.js &\nchild=$!\nwait\n',
        "#!/bin/sh\nmigrate && exec node server.js\n",
        "#!/usr/bin/env python3\nprint('not a shell script')\n",
        "#!/bin/sh\n# only comments\n",
        '#!/bin/sh\nexport A=1\n. /docker-entrypoint-common.sh\n',
    ],
    ids=["exec-both-branches", "exec-then-comments", "trap-forwards", "function-execs", "guards-then-exec",
         "case-dispatch", "migration-script", "trap-function", "and-exec", "python", "empty", "sourced"],
)
def test_no_exec_near_misses(text):
    assert at(check_start_script(parse_script(text, "start.sh")), "entrypoint-no-exec") == []


def test_trap_forwarding_fixture_is_clean():
    _, diags = fixture("trap-forward.sh")
    assert diags == []


# -- FC802 entrypoint-not-posix --------------------------------------------------------------------

def test_not_posix_rails_gate_under_sh():
    _, diags = fixture("rails-alpine-docker-entrypoint")
    found = [(d.line, d.column, d.end_column) for d in diags if d.rule == "entrypoint-not-posix"]
    assert found == [(9, 7, 17), (9, 19, 21), (9, 44, 54), (9, 56, 58)]
    messages = [d.message for d in diags if d.code == "FC802"]
    assert "`${@: -2:1}`" in messages[0] and "Bad substitution" in messages[0]
    assert "`==`" in messages[1] and "#!/bin/sh -e" in messages[1]
    assert all("#!/bin/bash" in d.hint for d in diags if d.code == "FC802")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('#!/bin/sh\nif [[ "$1" = web ]]; then exec web; fi\n', [(2, 4)]),
        ("#!/bin/sh\nsource /app/.env\nfunction start {\n  exec node server.js\n}\n", [(2, 1), (3, 1)]),
        ('#!/bin/sh\nargs=(--port 8080)\nexec node "${args[@]}" ${NAME:0:3}\n', [(2, 1), (3, 12), (3, 24)]),
        ("#!/bin/sh\nmigrate &> /dev/null\ncat <<< \"$x\"\necho $'a\\tb'\n", [(2, 9), (3, 5), (4, 6)]),
        ("mkdir -p /data/{db,uploads}\nlet n=1\nlocal -a x\nset -euo pipefail\n", [(1, 16), (2, 1), (3, 7), (4, 10)]),
        ('#!/bin/sh\ntest "$a" == b && (( n++ ))\ndeclare -x A=1\n', [(2, 11), (2, 19), (3, 1)]),
    ],
    ids=["double-bracket", "source-function", "arrays-substring", "redirections-ansi", "no-shebang", "test-arith"],
)
def test_not_posix_fires(text, expected):
    assert at(check_start_script(parse_script(text, "start.sh")), "entrypoint-not-posix") == expected


@pytest.mark.parametrize(
    "text",
    [
        '#!/bin/bash\nif [[ "$1" == web ]]; then source .env; fi\narr=(a b)\nexec "${arr[@]}"\n',
        '#!/usr/bin/env bash\n[[ -n $X ]] && echo "${X:1:2}"\nexec "$@"\n',
        '#!/bin/sh\ncase "$x" in a==b) echo eq ;; esac\necho "$(( a == b ))"\n[ "$((x == 1))" -eq 1 ]\n',
        ('#!/bin/sh\n# source ./env.sh and [[ ]] in a comment\ncat <<EOF\nsource me; [[ x ]]; ${a[@]}\nEOF\n'
         'echo "source ./env.sh" \'[[ == ]]\' "{a,b}"\n'),
        '#!/bin/sh\nfind /data -name "*.db" -exec chmod 600 {} \\;\necho "${x:-a,b}" ${x#*:} ${#x} $# ${1:+x}\n',
        '#!/bin/sh\n[ "$a" = "$b" ] || [ "$a" != c ]\necho a==b "==" x=\'==\'\nexec "$@"\n',
        '#!/bin/sh\nawk \'{print $1}\' f | sed -e "s/{a,b}/c/"\nprintf \'%s\\n\' "$@"\n',
    ],
    ids=["bash", "env-bash", "case-arith", "comment-heredoc-quotes", "posix-expansions", "posix-test", "quoted"],
)
def test_not_posix_near_misses(text):
    assert at(check_start_script(parse_script(text, "start.sh")), "entrypoint-not-posix") == []


# -- FC803 migration-skipped -----------------------------------------------------------------------

def _run(text: str, *argvs: tuple[str, ...]):
    s = parse_script(text, "start.sh")
    invocations = [Invocation(tuple(a), " ".join(a), "the Machines") for a in argvs]
    return check_start_script(s, invocations)


def test_migration_skipped_rails_gate_is_judged_against_the_real_command():
    text = (FIXTURES / "rails-alpine-docker-entrypoint").read_text().replace("#!/bin/sh -e", "#!/bin/bash -e")
    # The stock command satisfies the gate: no finding.
    assert at(_run(text, ("./bin/rails", "server")), "migration-skipped") == []
    assert at(_run(text, ("./bin/thrust", "./bin/rails", "server")), "migration-skipped") == []
    # A [processes] command without `./` (or with a flag after `server`) does not.
    (d,) = [d for d in _run(text, ("bin/rails", "server")) if d.code == "FC803"]
    assert (d.line, d.column, d.end_column) == (9, 6, 18)  # the word "${@: -2:1}", quotes included
    assert "`rails db:prepare`" in d.message and "never runs" in d.message and "`bin/rails server`" in d.message
    assert "RELEASE_COMMAND" in d.hint and "FLY_PROCESS_GROUP" in d.hint
    (d,) = [d for d in _run(text, ("./bin/rails", "server", "-b", "0.0.0.0")) if d.code == "FC803"]
    assert (d.line, d.column) == (9, 6)


def test_migration_skipped_leaves_bash_only_expansions_under_sh_to_entrypoint_not_posix():
    _, diags = fixture("rails-alpine-docker-entrypoint")
    assert at(diags, "migration-skipped") == []
    assert at(diags, "entrypoint-not-posix") != []
    s = parse_script((FIXTURES / "rails-alpine-docker-entrypoint").read_text(), "x")
    assert at(check_start_script(s, [Invocation(("bin/rails", "server"), "bin/rails server", "the Machines")]),
              "migration-skipped") == []


def test_migration_skipped_redwood_unquoted_n():
    _, diags = fixture("redwood-start.sh")
    (d,) = [d for d in diags if d.code == "FC803"]
    assert (d.line, d.column) == (5, 9)
    assert "always true" in d.message and "always runs" in d.message
    assert d.hint == 'quote the variable: `-n "$MIGRATE_ON_BOOT"`'
    _, diags = fixture("redwood-release.sh")
    (d,) = [d for d in diags if d.code == "FC803"]
    assert (d.line, d.column) == (5, 11)
    assert "always false" in d.message and "never runs" in d.message
    assert at(diags, "entrypoint-no-exec") == []  # a release script ending in its migration


# (script, arguments for which the gate is false, arguments for which it holds, where the finding points)
GATES = [
    ('#!/bin/bash -e\nif [ "$*" == "npm run start" ]; then\n  npx prisma migrate deploy\nfi\nexec "$@"\n',
     ("node", "server.js"), ("npm", "run", "start"), [(2, 6)]),
    ('#!/bin/sh\ncase "$1" in\n  gunicorn) python manage.py migrate --noinput ;;\nesac\nexec "$@"\n',
     ("uvicorn", "app:app"), ("gunicorn", "app.wsgi"), [(2, 6)]),
    ('#!/bin/sh\n[ "$2" = server ] && bin/rails db:migrate\nexec "$@"\n',
     ("bin/rails", "s"), ("bin/rails", "server"), [(2, 3)]),
    ('#!/bin/sh\nif echo "${1}" | grep -q "rails$"; then\n  ./bin/rails db:prepare\nfi\nexec "$@"\n',
     ("bundle", "exec", "puma"), ("./bin/rails", "server"), [(2, 9)]),
    ('#!/bin/sh\nif [ $# -eq 0 ]; then\n  php artisan migrate --force\nfi\nexec "$@"\n',
     ("php-fpm",), (), [(2, 6)]),
    ('#!/bin/sh\nif [ "$1" != "./bin/rails" ]; then\n  :\nelse\n  ./bin/rails db:migrate\nfi\n',
     ("bin/rails", "server"), ("./bin/rails", "server"), [(2, 6)]),
    ('#!/bin/sh\nmigrate() { npx prisma migrate deploy; }\nif test x"$1" = xnode; then migrate; fi\n',
     ("npm", "start"), ("node", "server.js"), [(3, 9)]),
    ('#!/bin/sh\nsh -c \'[ "$1" = web ] && npx knex migrate:latest\' sh "$@"\n',
     ("worker",), ("web",), [(2, 10)]),
    ('#!/bin/bash\nif [[ "$1" == *rails* && "$2" == s* ]]; then bin/rails db:prepare; fi\nexec "$@"\n',
     ("bin/rails", "console"), ("bin/rails", "server"), [(2, 7)]),
    ('#!/bin/sh\nif [ "${1:-web}" = web ]; then npx prisma migrate deploy; fi\nexec "$@"\n',
     ("worker",), (), [(2, 6)]),
]


@pytest.mark.parametrize(("text", "false_for", "true_for", "expected"), GATES,
                         ids=["node-star", "case-subject", "and-list", "echo-grep", "arg-count", "else-of-not-equal",
                              "function", "sh-c", "double-bracket-glob", "default-value"])
def test_migration_skipped_fires_only_for_commands_that_fail_the_gate(text, false_for, true_for, expected):
    assert at(_run(text, false_for), "migration-skipped") == expected
    assert at(_run(text, true_for), "migration-skipped") == []
    assert at(_run(text, true_for, false_for), "migration-skipped") == expected  # one failing command is enough
    assert at(_run(text), "migration-skipped") == []  # invocations unknown: nothing to judge


def test_quoted_glob_characters_match_literally():
    text = '#!/bin/sh\ncase "$1" in\n  "*") npx prisma migrate deploy ;;\nesac\nexec "$@"\n'
    assert at(_run(text, ("node",)), "migration-skipped") == [(2, 6)]
    assert at(_run(text, ("*",)), "migration-skipped") == []


def test_migration_skipped_names_every_failing_command():
    text = '#!/bin/sh\nif [ "$1" = web ]; then npx prisma migrate deploy; fi\nexec "$@"\n'
    s = parse_script(text, "start.sh")
    invs = [Invocation(("api",), "api", "the `api` Machines"), Invocation(("www",), "www", "the `www` Machines")]
    (d,) = [d for d in check_start_script(s, invs) if d.code == "FC803"]
    assert "`api` Machines" in d.message and "`www` Machines" in d.message


@pytest.mark.parametrize(
    "text",
    [
        '#!/bin/sh\nif [ -n "$MIGRATE_ON_BOOT" ]; then\n  npx prisma migrate deploy\nfi\nexec "$@"\n',
        '#!/bin/sh\nif [ -z "$RELEASE_COMMAND" ]; then\n  ./bin/rails db:prepare\nfi\nexec "$@"\n',
        '#!/bin/sh\n[ "$FLY_PROCESS_GROUP" = app ] && npx prisma migrate deploy\nexec "$@"\n',
        '#!/bin/sh\nif [ "$1" = "migrate" ]; then\n  exec python manage.py migrate\nfi\nexec "$@"\n',
        '#!/bin/sh\nif [ "$1" = "sh" ]; then\n  exec sh\nelse\n  ./bin/rails db:prepare\nfi\nexec "$@"\n',
        '#!/bin/sh\ncase " $* " in\n  *"rails server "*) ./bin/rails db:prepare ;;\nesac\nexec "$@"\n',
        '#!/bin/bash\nif [[ -n $MIGRATE ]]; then npx prisma migrate deploy; fi\nexec "$@"\n',
        '#!/bin/sh\nif [ "$1" = server ]; then\n  echo "Running migrations"\nfi\nnpx prisma migrate deploy\nexec "$@"\n',
        '#!/bin/sh\nif [ -z $SKIP_MIGRATIONS ]; then\n  npx prisma migrate deploy\nfi\nexec "$@"\n',
        '#!/bin/sh\ncase "$1" in\n  *) npx prisma migrate deploy ;;\nesac\nexec "$@"\n',
        '#!/bin/sh\nif [ "$1" = server ]; then\n  exec node server.js\nfi\nnpx prisma migrate deploy\nexec "$@"\n',
        '#!/bin/sh\nif [ "$(id -u)" = 0 ] && [ "$1" = rails ]; then bin/rails db:prepare; fi\nexec "$@"\n',
    ],
    ids=["quoted-n", "release-command", "process-group", "dispatcher", "else-of-equal", "contains",
         "bash-double-bracket", "echo-only", "unquoted-z", "default-branch", "after-the-gate", "unknown-first"],
)
def test_migration_skipped_near_misses(text):
    # Each gate holds for these arguments (or depends on what flyconf cannot see).
    assert at(_run(text, ("rails", "server"), ("./bin/rails", "server")), "migration-skipped") == []


def test_check_command_maps_positions_onto_the_span():
    doc = Document("fly.toml", 'app = "..."\n')
    cmd = "sh -c '[ -n $MIGRATE ] && npx prisma migrate deploy; exec node server.js'"
    (d,) = check_command(doc, Span(7, 9, 7, 9 + len(cmd)), cmd)
    assert d.path == "fly.toml" and d.code == "FC803"
    assert (d.line, d.column, d.end_column) == (7, 9 + cmd.index("$MIGRATE"), 9 + cmd.index("$MIGRATE") + 8)
    inner = '[ "$1" = web ] && python manage.py migrate; exec gunicorn app'  # the string of CMD ["sh", "-c", ...]
    (d,) = check_command(doc, Span(4, 20), inner, script=True)  # run with no arguments: $1 is empty
    assert (d.line, d.column, d.end_column) == (4, 22, 26)


def test_check_command_counts_from_inside_the_quotes_when_the_span_starts_at_one():
    cmd = "sh -c '[ -n $M ] && npx prisma migrate deploy; exec node s.js'"
    doc = Document("fly.toml", f'[processes]\napp = "{cmd}"\n')
    (d,) = check_command(doc, Span(2, 7, 2, 9 + len(cmd)), cmd)  # the span of the TOML string, quotes included
    assert (d.line, d.column) == (2, 8 + cmd.index("$M"))
    assert doc.line_text(2)[d.column - 1:d.end_column - 1] == "$M"


def test_check_command_finds_a_json_escaped_command_on_its_line():
    inner = 'if [ "$1" = web ]; then npx prisma migrate deploy; fi; exec node s.js'
    line = 'CMD ["sh", "-c", "if [ \\"$1\\" = web ]; then npx prisma migrate deploy; fi; exec node s.js"]'
    doc = Document("Dockerfile", f"FROM node:20\n{line}\n")
    (d,) = check_command(doc, Span(2, 1, 2, 4), inner, script=True)  # the span of the CMD keyword
    assert (d.line, d.column) == (2, 24) and line[d.column - 1:d.end_column - 1] == '\\"$1\\"'


def test_check_command_only_reports_migration_skipped_and_uses_a_multiline_span_as_is():
    doc = Document("Dockerfile", "")
    cmd = 'if [[ "$1" == web ]]; then npx prisma migrate deploy; fi\nnode server.js'
    span = Span(3, 5, 4, 20)
    diags = check_command(doc, span, cmd, script=True)
    assert [(d.code, d.line, d.column, d.end_line, d.end_column) for d in diags] == [("FC803", 3, 5, 4, 20)]
    assert check_command(doc, Span(1, 1), "npm run start") == []
    assert check_command(doc, Span(1, 1), "") == []


def test_good_wrapper_is_clean():
    _, diags = fixture("fly-entrypoint-good.sh")
    assert diags == []
    s = parse_script((FIXTURES / "node-argv-gate").read_text(), "scripts/node-argv-gate")
    run = [Invocation(("npm", "run", "start"), "npm run start", "the Machines")]
    assert check_start_script(s, run) == []  # bash: == is fine there, and the gate holds for the real command
    run = [Invocation(("npm", "start"), "npm start", "the Machines")]
    assert [(d.code, d.line, d.column) for d in check_start_script(s, run)] == [("FC803", 3, 6)]


# -- the shared corpus -----------------------------------------------------------------------------

def _corpus_scripts() -> list[Path]:
    out = []
    for row in (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 6 or "entrypoint" not in cols[5].split(","):
            continue
        path = CORPUS / cols[0]
        if path.suffix in (".js", ".mjs", ".cjs", ".ts", ".rb", ".rake", ".yml", ".yaml", ".toml", ".json", ".py"):
            continue
        if path.is_file():
            out.append(path)
    return out


CORPUS_COUNTS: Counter = Counter()


@needs_shared(CORPUS)
def test_every_corpus_start_script_parses_and_checks():
    scripts = _corpus_scripts()
    assert len(scripts) >= 50
    CORPUS_COUNTS.clear()
    for path in scripts:
        text = path.read_text(encoding="utf-8", errors="replace")
        s = parse_script(text, str(path.relative_to(CORPUS)))
        assert s.parse_error is None, (path, s.parse_error)
        for d in check_start_script(s):
            assert 1 <= d.line <= max(1, len(text.split("\n"))) and d.column >= 1, d
            assert d.message and d.path == s.display_path
            CORPUS_COUNTS[d.rule] += 1
    # Judged on their own (how the Machines call them is not known here), only constant gates are reported.
    assert set(CORPUS_COUNTS) <= {"entrypoint-no-exec", "entrypoint-not-posix", "migration-skipped"}
    assert CORPUS_COUNTS["entrypoint-no-exec"] and CORPUS_COUNTS["entrypoint-not-posix"]
