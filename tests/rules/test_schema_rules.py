"""The core rules: toml-syntax, unknown-key, invalid-type, invalid-value, ignored-key, empty-config."""

from __future__ import annotations

import textwrap

import pytest

from flyconf import lint_text
from tests.conftest import at

SCHEMA_RULES = ["FC0", "FC1"]


def lint(text: str, filename: str = "fly.toml"):
    """Only the file and schema rules: semantic rules have tests of their own."""
    return lint_text(textwrap.dedent(text).lstrip("\n"), filename, select=SCHEMA_RULES)


def only(diags, rule):
    found = [d for d in diags if d.rule == rule]
    others = [d for d in diags if d.rule != rule]
    assert not others, f"unexpected findings: {[(d.rule, d.line, d.column, d.message) for d in others]}"
    return found


# -- toml-syntax --------------------------------------------------------------

def test_syntax_error_points_at_the_fault():
    diags = lint("""
        app = "x"
        [http_service]
        force_https = yes
    """)
    (d,) = diags
    assert (d.rule, d.code, d.line, d.column) == ("toml-syntax", "FC002", 3, 15)
    assert d.message.startswith("invalid TOML")
    assert d.hint and "quotes" in d.hint


def test_syntax_error_duplicate_table_has_a_hint():
    diags = lint("""
        [mounts]
        source = "a"
        [[mounts]]
        source = "b"
    """)
    (d,) = diags
    assert (d.rule, d.line) == ("toml-syntax", 3)
    assert "[[mounts]]" in d.hint


def test_syntax_error_at_end_of_document():
    (d,) = lint('app = "x"\nenv = {')
    assert d.rule == "toml-syntax"
    assert d.line == 2


def test_invalid_utf8_is_reported_at_the_first_bad_byte():
    from flyconf.lint import lint_bytes

    (d,) = lint_bytes(b'app = "ok"\nname = "caf\xe9"\n', "fly.toml")
    assert (d.rule, d.line, d.column) == ("toml-syntax", 2, 12)
    assert "UTF-8" in d.message


def test_binary_file_is_reported_at_the_nul_byte():
    from flyconf.lint import lint_bytes

    (d,) = lint_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "fly.toml")
    assert d.rule == "toml-syntax"
    assert "binary" in d.message or "UTF-8" in d.message
    assert (d.line, d.column) == (1, 1)  # 0x89 is already not UTF-8


def test_nul_byte_in_text_is_binary():
    from flyconf.lint import lint_bytes

    (d,) = lint_bytes(b'app = "x"\nkill_signal = "SIG\x00INT"\n', "fly.toml")
    assert (d.rule, d.line, d.column) == ("toml-syntax", 2, 19)
    assert "binary" in d.message


def test_utf8_bom_is_accepted():
    from flyconf.lint import lint_bytes

    assert lint_bytes(b'\xef\xbb\xbfapp = "x"\n', "fly.toml") == []


# -- empty-config -------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n"])
def test_empty_file(text):
    (d,) = lint(text)
    assert (d.rule, d.code, d.line, d.column, d.severity.value) == ("empty-config", "FC003", 1, 1, "warning")


# -- unknown-key ---------------------------------------------------------------

def test_unknown_key_in_mounts_suggests_the_closest_key():
    diags = lint("""
        [[mounts]]
          source = "data"
          destinaton = "/data"
    """)
    (d,) = only(diags, "unknown-key")
    assert (d.code, d.line, d.column, d.end_line, d.end_column) == ("FC101", 3, 3, 3, 13)
    assert "`destinaton`" in d.message and "did you mean `destination`" in d.message


@pytest.mark.parametrize(
    ("text", "line", "column", "key", "suggestion"),
    [
        ("[[services]]\ninternal_prot = 8080\n", 2, 1, "internal_prot", "internal_port"),
        ("[[vm]]\nmemroy = '1gb'\n", 2, 1, "memroy", "memory"),
        ("[[metrics]]\nprot = 9091\npath = '/m'\n", 2, 1, "prot", "port"),
        ("primary_regoin = 'ams'\n", 1, 1, "primary_regoin", "primary_region"),
        ("[http_service]\ninternal_port = 8080\n[[http_service.checks]]\ninterval = '10s'\ntimout = '2s'\n", 5, 1, "timout", "timeout"),
        ("[mount]\nsource = 'a'\ndestination = '/d'\nsize = 1\n", 4, 1, "size", None),
    ],
)
def test_unknown_keys_at_every_depth(text, line, column, key, suggestion):
    diags = lint(text)
    (d,) = only(diags, "unknown-key")
    assert (d.line, d.column) == (line, column)
    assert f"`{key}`" in d.message
    if suggestion:
        assert f"did you mean `{suggestion}`" in d.message


def test_unknown_key_in_a_single_services_table_and_in_an_array():
    single = lint("[services]\ninternal_port = 8080\nprotocl = 'tcp'\n")
    array = lint("[[services]]\ninternal_port = 8080\n[[services]]\ninternal_port = 9\nprotocl = 'tcp'\n")
    assert at(single, "unknown-key") == [(3, 1)]
    assert at(array, "unknown-key") == [(5, 1)]
    assert len(single) == 1 and len(array) == 1


def test_key_in_the_wrong_table_says_where_it_belongs():
    diags = lint("app = 'x'\ninternal_port = 8080\n")
    (d,) = only(diags, "unknown-key")
    assert (d.line, d.column) == (2, 1)
    assert d.hint and "http_service" in d.hint


def test_unknown_table_is_one_finding_not_one_per_child():
    diags = lint("[http_machine]\na = 1\nb = 2\nc = 3\n")
    (d,) = only(diags, "unknown-key")
    assert (d.line, d.column) == (1, 2)


def test_every_problem_is_reported_not_only_the_first():
    diags = lint("""
        app = "x"
        kill_signal = "SIGFOO"
        [[mounts]]
        source = "data"
        destinaton = "/data"
        [http_service]
        internal_port = "8080"
        [[statics]]
        guest_path = "/app/public"
        url_prefx = "/static"
    """)
    assert sorted((d.rule, d.line, d.column) for d in diags) == [
        ("invalid-type", 7, 17),
        ("invalid-value", 2, 15),
        ("unknown-key", 5, 1),
        ("unknown-key", 10, 1),
    ]


# -- invalid-type --------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("[http_service]\ninternal_port = '8080'\n", 2, 17, "must be an integer"),
        ("[statics]\nguest_path = '/a'\nurl_prefix = '/'\n", 1, 1, "must be an array"),
        ("[[vm]]\nkernel_args = 'quiet'\n", 2, 15, "must be an array"),
        ("[build.args]\nNODE_VERSION = 20\n", 2, 16, "must be a string"),
        ("[[mounts]]\nsource = 'a'\ndestination = '/d'\nauto_extend_size_increment = 1\n", 4, 30, "must be a string"),
        ("[[services]]\ninternal_port = 8080\nconcurrency = 20\n", 3, 15, "must be a table or a string"),
        ("[[restart]]\npolicy = 'always'\nprocesses = 'app'\n", 3, 13, "must be an array"),
        ("swap_size_mb = '512'\n", 1, 16, "must be an integer"),
    ],
)
def test_invalid_types(text, line, column, fragment):
    diags = lint(text)
    (d,) = only(diags, "invalid-type")
    assert (d.code, d.line, d.column) == ("FC102", line, column)
    assert fragment in d.message


def test_string_where_integer_belongs_hints_to_drop_quotes():
    (d,) = lint("[http_service]\ninternal_port = '8080'\n")
    assert d.hint == "remove the quotes: `internal_port = 8080`"


def test_type_error_does_not_print_whole_tables():
    (d,) = lint("[[services]]\ninternal_port = 8080\nports = 'x'\n")
    assert d.rule == "invalid-type" and len(d.message) < 120


# -- invalid-value -------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("kill_signal = 'SIGFOO'\n", 1, 15, "must be one of"),
        ("[deploy]\nstrategy = 'rolling-eyes'\n", 2, 12, "canary"),
        ("kill_timeout = '30'\n", 1, 16, "duration"),
        ("[deploy]\nwait_timeout = '5 minutes'\n", 2, 16, "duration"),
        ("[[vm]]\nmemory = '1 gigabyte'\n", 2, 10, "size"),
        ("[build]\ncompression = 'brotli'\n", 2, 15, "gzip"),
        ("[build]\ncompression_level = 12\n", 2, 21, "at most 9"),
        ("[[services]]\ninternal_port = 8080\nprotocol = 'http'\n", 3, 12, "tcp"),
        ("[http_service]\ninternal_port = 8080\nauto_stop_machines = 'always'\n", 3, 22, "must be"),
    ],
)
def test_invalid_values(text, line, column, fragment):
    diags = lint(text)
    (d,) = only(diags, "invalid-value")
    assert (d.code, d.line, d.column) == ("FC103", line, column)
    assert fragment in d.message, d.message


def test_enum_typo_gets_a_suggestion():
    (d,) = lint("[deploy]\nstrategy = 'bluegren'\n")
    assert d.hint == 'did you mean "bluegreen"?'


# -- ignored-key ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line", "column", "key", "severity"),
    [
        ("[experimental]\nprivate_network = true\n", 2, 1, "private_network", "warning"),
        ("[experimental]\nallowed_public_ports = [5432]\n", 2, 1, "allowed_public_ports", "warning"),
        ("[experimental]\n  allowed_public_ports = []\n", 2, 3, "allowed_public_ports", "info"),
        ("[[services]]\ninternal_port = 8080\nscript_checks = []\n", 3, 1, "script_checks", "info"),
        ("[[services]]\ninternal_port = 8080\n[[services.tcp_checks]]\nrestart_limit = 6\n", 4, 1, "restart_limit", "warning"),
        ("[[services]]\ninternal_port = 8080\n[[services.tcp_checks]]\nrestart_limit = 0\n", 4, 1, "restart_limit", "info"),
    ],
)
def test_ignored_v1_keys_are_not_errors(text, line, column, key, severity):
    """Ignored keys warn; an empty or zero leftover written by old flyctl loses nothing and is info."""
    diags = lint(text)
    (d,) = only(diags, "ignored-key")
    assert (d.code, d.line, d.column, d.severity.value) == ("FC104", line, column, severity)
    assert f"`{key}`" in d.message


def test_key_differing_only_in_case_is_a_warning():
    """flyctl matches keys case-insensitively, so `Internal_Port` works; it is not a lost setting."""
    (d,) = lint("[http_service]\nInternal_Port = 8080\n")
    assert (d.rule, d.severity.value, d.line, d.column) == ("unknown-key", "warning", 2, 1)
    assert "write `internal_port`" in d.message


def test_word_order_typo_gets_the_right_suggestion():
    (d,) = lint("[[services]]\ninternal_port = 8080\nauto_machine_start = true\n")
    assert "did you mean `auto_start_machines`" in d.message


def test_misplaced_top_level_key_says_where_it_belongs():
    (d,) = lint("[[vm]]\nsize = 'shared-cpu-1x'\nkill_signal = 'SIGTERM'\n")
    assert (d.rule, d.line, d.column) == ("unknown-key", 3, 1)
    assert d.hint.startswith("`kill_signal` is valid at the top level")


# -- legacy and alternative forms are accepted --------------------------------

LEGACY_FORMS = {
    "mount single table": "[mount]\nsource = 'data'\ndestination = '/data'\ninitial_size = 200\n",
    "mounts table": "[mounts]\nsource = 'data'\ndestination = '/data'\n",
    "mounts array": "[[mounts]]\nsource = 'data'\ndestination = '/data'\n",
    "vm table": "[vm]\nmemory = 512\n",
    "compute alias": "[[compute]]\nsize = 'shared-cpu-1x'\nmemory = '1gb'\n",
    "computes alias": "[[computes]]\ncpus = 2\n",
    "metric alias": "[metric]\nport = 9091\npath = '/metrics'\n",
    "metrics table": "[metrics]\nport = 9091\npath = '/metrics'\n",
    "services table": "[services]\ninternal_port = 8080\nprotocol = 'tcp'\n[services.ports]\nport = '80'\nhandlers = ['http']\n",
    "v1 processes array": "[[processes]]\nname = 'web'\ncommand = 'bin/web'\n[[processes]]\nname = 'worker'\ncommand = 'bin/worker'\n",
    "empty processes array": "processes = []\n",
    "env array": "[[env]]\nFOO = 'BAR'\nTWO = 2\nTRUE = true\n",
    "soft,hard concurrency": "[[services]]\ninternal_port = '8080'\nconcurrency = '12,23'\n[[services.ports]]\nport = 80\n",
    "auto_stop bool": "[http_service]\ninternal_port = 8080\nauto_stop_machines = false\n",
    "auto_stop suspend": "[http_service]\ninternal_port = 8080\nauto_stop_machines = 'suspend'\n",
    "build_target": "[build]\nbuild_target = 'prod'\n",
    "build-target": "[build]\nbuild-target = 'prod'\n",
    "experimental kill_timeout": "[experimental]\nkill_timeout = 3\nmetrics_port = 9000\nmetrics_path = '/foo'\n",
    "experimental cmd string": "[experimental]\ncmd = 'bin/start'\nentrypoint = 'tini'\nexec = 'x'\n",
    "checks array with name": "[[checks]]\nname = 'alive'\ntype = 'tcp'\nport = 8080\n",
    "checks table": "[checks.alive]\ntype = 'http'\nport = 8080\npath = '/'\ninterval = '15s'\ntimeout = '2s'\n",
    "headers array": "[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\n"
                     "[[services.http_checks]]\ninterval = 10000\npath = '/'\n"
                     "[[services.http_checks.headers]]\nname = 'Host'\nvalue = 'x'\n",
    "headers table non-string": "[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\n"
                                "[[services.http_checks]]\ngrace_period = ''\n"
                                "[services.http_checks.headers]\nX-Num = 1\n",
    "empty headers array": "[checks.pg]\ntype = 'http'\nport = 5500\nheaders = []\n",
    "empty experimental": "[experimental]\n",
    "empty services": "[[services]]\n",
    "empty compose": "[build.compose]\n",
    "release_command_vm": "[deploy]\nrelease_command = 'x'\n[deploy.release_command_vm]\nsize = 'shared-cpu-2x'\nmemory = '1gb'\n",
    "response headers false": "[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 443\nhandlers = ['tls', 'http']\n"
                              "[services.ports.http_options.response.headers]\nServer = false\nX-A = 'b'\nX-B = ['c', 'd']\n",
}


@pytest.mark.parametrize("name", sorted(LEGACY_FORMS))
def test_legacy_forms_are_accepted(name):
    """No rule, schema or semantic, complains about a form flyctl loads (info-level style notes aside)."""
    diags = lint_text(LEGACY_FORMS[name], "fly.toml")
    assert [(d.rule, d.line, d.column, d.message) for d in diags if d.severity.value != "info"] == []
    assert all(d.rule == "duration-unit" for d in diags)
