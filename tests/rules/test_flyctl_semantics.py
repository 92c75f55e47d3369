"""Where flyctl's code and flyconf's rules must agree: loading, Validate, and the checks `fly deploy` makes.

Each case names the superfly/flyctl function it follows.
"""

from __future__ import annotations

import pytest

from flyconf import lint_text
from flyconf.app import App
from flyconf.sources.flytoml import parse_flytoml


def lint(text: str):
    return lint_text(text, "fly.toml")


def hits(diags, rule: str):
    return [(d.line, d.column) for d in diags if d.rule == rule]


def show(diags):
    return [(d.rule, d.line, d.column, d.message) for d in diags]


# -- schema: what loads and what Validate refuses -------------------------------------------------

@pytest.mark.parametrize(
    ("text", "rule", "where", "fragment"),
    [
        # patchCompute converts only [[vm]] memory; Deploy.ReleaseCommandCompute.Memory is a string.
        ("[deploy]\nrelease_command = 'x'\nrelease_command_vm.memory = 2048\n", "invalid-type", (3, 29), "string"),
        # validateChecksSection -> toMachineCheck: "Missing or invalid check type".
        ("[checks.alive]\nport = 8080\n", "invalid-value", (1, 1), "`type`"),
        ("checks = [{ name = 'alive', port = 8080 }]\n", "invalid-value", (1, 11), "`type`"),
        # validateRestartPolicy -> parseRestartPolicy(""): "invalid restart policy: ".
        ("[[restart]]\nretries = 3\n", "invalid-value", (1, 1), "`policy`"),
    ],
)
def test_validate_errors(text, rule, where, fragment):
    diags = lint(text)
    found = [d for d in diags if d.rule == rule]
    assert [(d.line, d.column) for d in found] == [where], show(diags)
    assert fragment in found[0].message


@pytest.mark.parametrize(
    "text",
    [
        "[deploy]\nrelease_command = 'x'\nrelease_command_vm.memory = '2048'\n",
        "[[vm]]\nmemory = 2048\n",  # patchCompute: castToString
        "[checks.alive]\ntype = 'http'\nport = 8080\npath = '/'\n",
        "[[restart]]\npolicy = 'on-failure'\nretries = 3\n",
        # flyctl writes `protocol = ""` itself (Service's toml tag has no omitempty) and loads it.
        "[[services]]\nprotocol = ''\ninternal_port = 8080\n[[services.ports]]\nport = 80\nhandlers = ['http']\n",
    ],
)
def test_loads_and_validates(text):
    diags = lint(text)
    assert [d for d in diags if d.severity.value == "error"] == [], show(diags)


# -- top-level check durations: a bare number is milliseconds (patches.go _patchCheck) ----------------

@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("[checks.a]\ntype = 'tcp'\nport = 1\ninterval = 1500\n", (4, 12), "under the 2s minimum"),
        ("[checks.a]\ntype = 'tcp'\nport = 1\ntimeout = 60001\n", (4, 11), "over the 60s maximum"),
        ("[checks.a]\ntype = 'tcp'\nport = 1\ninterval = 1999.9\n", (4, 12), "under the 2s minimum"),
    ],
)
def test_toplevel_check_bare_number_limits(text, where, fragment):
    diags = lint(text)
    (d,) = [d for d in diags if d.rule == "check-timing"]
    assert ((d.line, d.column), d.severity.value) == (where, "error"), show(diags)
    assert fragment in d.message and "milliseconds" in d.message
    assert hits(diags, "duration-unit") == []  # one finding for one value


def test_toplevel_check_bare_number_within_limits_is_only_info():
    diags = lint("[checks.a]\ntype = 'tcp'\nport = 1\ninterval = 2000\ntimeout = 60000\n")
    assert hits(diags, "check-timing") == []
    assert [(d.line, d.column, d.severity.value) for d in diags if d.rule == "duration-unit"] == [
        (4, 12, "info"), (5, 11, "info")]


# -- miscased top-level sections ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "rule", "where", "fragment"),
    [
        # patchMounts always sets cfg["mounts"]; the JSON decoder meets "Mounts" first (keys are sorted),
        # matches it case-insensitively, then `"mounts": null` overwrites it.
        ("[[Mounts]]\nsource = 'data'\ndestination = '/data'\n", "unknown-key", (1, 3), "drops"),
        ("[[VM]]\nmemory = '1gb'\n", "unknown-key", (1, 3), "drops"),
        ("[[Metrics]]\nport = 9091\npath = '/metrics'\n", "unknown-key", (1, 3), "drops"),
        # A single table cannot be decoded into the []Mount it then matches: the file fails to load.
        ("[Mounts]\nsource = 'data'\ndestination = '/data'\n", "invalid-type", (1, 2), "fails to load"),
        ("[VM]\nmemory = '1gb'\n", "invalid-type", (1, 2), "fails to load"),
        # Aliases exist only in the patches, which look for the exact name: no struct field matches.
        ("[Mount]\nsource = 'data'\ndestination = '/data'\n", "unknown-key", (1, 2), "drops"),
        ("[[Compute]]\nmemory = '1gb'\n", "unknown-key", (1, 3), "drops"),
    ],
)
def test_miscased_sections(text, rule, where, fragment):
    diags = lint(text)
    found = [d for d in diags if d.rule in ("unknown-key", "invalid-type")]
    assert [(d.rule, d.line, d.column) for d in found] == [(rule, *where)], show(diags)
    assert found[0].severity.value == "error" and fragment in found[0].message


def test_miscased_key_that_decodes_is_a_warning():
    diags = lint("[Env]\nPORT = '8080'\n")
    (d,) = [d for d in diags if d.rule == "unknown-key"]
    assert (d.line, d.column, d.severity.value) == (1, 2, "warning")
    assert "case" in d.message


# -- VM memory: machines.go computeToGuest ------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("[[vm]]\nmemory = 0\n", (2, 10), "memory cannot be zero"),
        ("[[vm]]\nmemory = '0'\n", (2, 10), "memory cannot be zero"),
        ("[[vm]]\nmemory = '512kb'\n", (2, 10), "less than 1 MiB"),
        ("[[vm]]\nmemory = 0.5\n", (2, 10), "less than 1 MiB"),
        ("[[vm]]\nmemory = '1 gigabyte'\n", (2, 10), "invalid suffix: 'gigabyte'"),
        ("[[vm]]\nmemory = '10Gi'\n", (2, 10), "invalid suffix: 'gi'"),
        ("[deploy]\nrelease_command = 'x'\nrelease_command_vm.memory = '0mb'\n", (3, 29), "memory cannot be zero"),
    ],
)
def test_memory(text, where, fragment):
    diags = lint(text)
    (d,) = [d for d in diags if d.rule == "invalid-value"]
    assert (d.line, d.column) == where, show(diags)
    assert fragment in d.message


@pytest.mark.parametrize(
    "text",
    [
        "[[vm]]\nmemory = '1gb'\n",
        "[[vm]]\nmemory = '+512'\n",  # Atoi accepts a sign
        "[[vm]]\nmemory = '1e3mb'\n",  # go-units takes Go floats
        "[[vm]]\nmemory = '2 GiB'\n",
        "[[vm]]\nmemory = '1024.0mb'\n",
        # a [[vm]] that applies to no group is never converted
        "[processes]\napp = 'x'\n[[vm]]\nmemory = 0\nprocesses = ['nope']\n",
        # release_command_vm is used only by the release command
        "[deploy]\nrelease_command_vm.memory = '0'\n",
    ],
)
def test_memory_near_misses(text):
    diags = lint(text)
    assert [d for d in diags if d.rule == "invalid-value"] == [], show(diags)


# -- machine_config and container: internal/config/machine.go, internal/containerconfig/parse.go ----------

@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("machine_config = 'machine.yaml'\n", (1, 18), "invalid machine config source"),
        (" machine_config = ' {\"init\": {}}'\n", (1, 19), "invalid machine config source"),  # no trimming
        ("machine_config = '{\"containers\": [}'\n", (1, 18), "invalid machine config"),
        ("[experimental]\nmachine_config = 'cfg.toml'\n", (2, 18), "invalid machine config source"),
        ("container = 'web'\nmachine_config = '{\"containers\": [{\"name\": \"app\"}, {\"name\": \"db\", \"image\": "
         "\"postgres\"}]}'\n", (1, 13), "container \\\"web\\\" not found"),
    ],
)
def test_machine_config(text, where, fragment):
    diags = lint(text)
    (d,) = [d for d in diags if d.rule == "machine-config-invalid"]
    assert (d.line, d.column) == where, show(diags)
    assert fragment in d.message


@pytest.mark.parametrize(
    "text",
    [
        "machine_config = 'machine.json'\n",
        "machine_config = '{\"init\": {\"exec\": [\"/bin/sleep\", \"inf\"]}}'\n",
        "container = 'web'\nmachine_config = '{\"containers\": [{\"Name\": \"web\"}]}'\n",  # Go matches keys in any case
        "container = 'web'\nmachine_config = '{\"init\": {}}'\n",  # no containers: container is not looked at
        "container = 'web'\n",  # no machine_config at all
        "container = 'web'\nmachine_config = 'containers.json'\n",  # a file flyctl opens from its working dir
        "machine_config = 'x.yaml'\n[build.compose]\nfile = 'compose.yaml'\n",  # compose wins
    ],
)
def test_machine_config_near_misses(text):
    diags = lint(text)
    assert [d for d in diags if d.rule == "machine-config-invalid"] == [], show(diags)


# -- top-level checks without a port: machines.go updateMachineConfig ----------------------------------

def test_check_without_port_and_no_http_service():
    diags = lint("[checks.alive]\ntype = 'tcp'\n")
    assert hits(diags, "check-port-missing") == [(1, 9)], show(diags)


def test_check_without_port_in_a_group_without_http_service():
    text = ("[processes]\nweb = 'w'\nworker = 'k'\n[http_service]\ninternal_port = 8080\nprocesses = ['web']\n"
            "[checks.alive]\ntype = 'tcp'\nprocesses = ['web', 'worker']\n")
    (d,) = [d for d in lint(text) if d.rule == "check-port-missing"]
    assert (d.line, d.column) == (7, 9) and "`worker`" in d.message and "`web`" not in d.message


@pytest.mark.parametrize(
    "text",
    [
        "[http_service]\ninternal_port = 8080\n[checks.alive]\ntype = 'http'\npath = '/'\n",
        "[checks.alive]\ntype = 'tcp'\nport = 8080\n",
        "[processes]\napp = 'x'\n[checks.alive]\ntype = 'tcp'\nprocesses = ['nope']\n",  # applies to no group
    ],
)
def test_check_port_near_misses(text):
    assert hits(lint(text), "check-port-missing") == []


# -- machine checks without command: machines.go ToTestMachineConfig ---------------------------------------

@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[http_service]\ninternal_port = 8080\n[[http_service.machine_checks]]\nimage = 'curl'\n", (3, 16)),
        ("[[machine_checks]]\ncommand = []\n", (1, 3)),
        ("[[services]]\ninternal_port = 1\nprotocol = 'tcp'\n[[services.ports]]\nport = 80\n"
         "[[services.machine_checks]]\nimage = 'x'\n", (6, 12)),
    ],
)
def test_machine_check_without_command(text, where):
    diags = lint(text)
    assert hits(diags, "machine-check-command-missing") == [where], show(diags)


def test_machine_check_with_command_is_fine():
    text = "[[machine_checks]]\ncommand = ['curl', '-f', 'http://x']\nimage = 'curlimages/curl'\n"
    assert hits(lint(text), "machine-check-command-missing") == []


# -- bluegreen: internal/command/deploy/strategy_bluegreen.go ---------------------------------------------

def test_bluegreen_without_checks():
    diags = lint("[deploy]\nstrategy = 'bluegreen'\n[http_service]\ninternal_port = 8080\n")
    assert hits(diags, "bluegreen-without-checks") == [(2, 12)], show(diags)


@pytest.mark.parametrize(
    "checks",
    [
        "[[http_service.checks]]\npath = '/'\n",
        "[checks.alive]\ntype = 'tcp'\nport = 8080\n",
    ],
)
def test_bluegreen_with_a_check(checks):
    diags = lint("[deploy]\nstrategy = 'bluegreen'\n[http_service]\ninternal_port = 8080\n" + checks)
    assert hits(diags, "bluegreen-without-checks") == []


def test_bluegreen_machine_checks_do_not_count():
    text = ("[deploy]\nstrategy = 'bluegreen'\n[http_service]\ninternal_port = 8080\n"
            "[[http_service.machine_checks]]\ncommand = ['true']\n")
    assert hits(lint(text), "bluegreen-without-checks") == [(2, 12)]


# -- max_unavailable, build strategies --------------------------------------------------------------------

@pytest.mark.parametrize(("strategy", "expected"), [("immediate", [(3, 1)]), ("bluegreen", [(3, 1)]),
                                                    ("rolling", []), ("canary", [])])
def test_max_unavailable(strategy, expected):
    diags = lint(f"[deploy]\nstrategy = '{strategy}'\nmax_unavailable = 0.5\n")
    assert hits(diags, "max-unavailable-ignored") == expected


def test_max_unavailable_with_the_default_strategy_is_used():
    """flyctl's warning also fires when strategy is unset, but the default (rolling) uses the value."""
    assert hits(lint("[deploy]\nmax_unavailable = 2\n"), "max-unavailable-ignored") == []


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        ("image = 'nginx'\ndockerfile = 'Dockerfile'\n", "uses the image `nginx`"),
        ("builder = 'heroku/builder:24'\nbuild-target = 'web'\n", "uses a buildpack builder"),
        ("dockerfile = 'Dockerfile'\nbuiltin = 'node'\n", "uses a Dockerfile"),
    ],
)
def test_multiple_build_strategies(build, fragment):
    diags = lint("[build]\n" + build)
    (d,) = [d for d in diags if d.rule == "multiple-build-strategies"]
    assert (d.line, d.column, d.severity.value) == (1, 2, "warning") and fragment in d.message


def test_one_build_strategy_with_its_settings():
    assert hits(lint("[build]\ndockerfile = 'Dockerfile'\nbuild-target = 'web'\n[build.args]\nA = 'b'\n"),
                "multiple-build-strategies") == []


# -- UDP autostop/autostart (superfly/flyctl#3583) ------------------------------------------------------------

@pytest.mark.parametrize(
    ("keys", "where"),
    [("auto_start_machines = true\n", (4, 23)), ("auto_stop_machines = 'suspend'\n", (4, 22)),
     ("auto_stop_machines = true\n", (4, 22))],
)
def test_autostart_on_udp(keys, where):
    diags = lint("[[services]]\nprotocol = 'udp'\ninternal_port = 53\n" + keys)
    (d,) = [d for d in diags if d.rule == "autostart-udp"]
    assert ((d.line, d.column), d.severity.value) == (where, "warning")


@pytest.mark.parametrize(
    "text",
    [
        "[[services]]\nprotocol = 'udp'\ninternal_port = 53\nauto_stop_machines = 'off'\nauto_start_machines = false\n",
        "[[services]]\nprotocol = 'tcp'\ninternal_port = 53\nauto_stop_machines = 'stop'\nauto_start_machines = true\n",
    ],
)
def test_autostart_near_misses(text):
    assert hits(lint(text), "autostart-udp") == []


# -- [processes] commands are split with google/shlex ---------------------------------------------------------

def test_process_command_comment_is_fine_and_argv_matches_flyctl():
    text = "[processes]\nweb = \"node server.js # it's the main one\"\nworker = 'bin/jobs \"a\\b\" \"\"'\n"
    assert hits(lint(text), "command-unparseable") == []
    doc = parse_flytoml(text, "fly.toml")
    app = App(doc)
    assert app.process_argv == {"web": ["node", "server.js"], "worker": ["bin/jobs", "ab", ""]}


@pytest.mark.parametrize(
    ("command", "column", "fragment"),
    [("bin/run 'unclosed", 16, "single quote"), ('bin/run "unclosed', 16, "double quote"),
     ("bin/run x\\", 17, "backslash"), ('bin/run "a\\', 18, "backslash")],
)
def test_process_command_unsplittable(command, column, fragment):
    quote = "'" if "'" not in command else '"'
    diags = lint(f"[processes]\nweb = {quote}{command}{quote}\n")
    (d,) = [d for d in diags if d.rule == "command-unparseable"]
    assert (d.line, d.column) == (2, column), show(diags)
    assert fragment in d.message


# -- severities follow the evidence: documented or in flyctl's code is an error, a belief a warning ------

@pytest.mark.parametrize(
    ("text", "rule", "where", "severity"),
    [
        ("[[mounts]]\nsource = 'data'\ndestination = 'data'\n", "mount-destination-not-absolute", (3, 15), "warning"),
        ("[[mounts]]\nsource = 'data'\ndestination = '/'\n", "mount-destination-reserved", (3, 15), "error"),
        ("[[mounts]]\nsource = 'data'\ndestination = '/etc'\n", "mount-destination-reserved", (3, 15), "warning"),
        ("[[mounts]]\nsource = 'my-data'\ndestination = '/data'\n", "volume-name-invalid", (2, 10), "error"),
        ("[[mounts]]\nsource = 'MyData'\ndestination = '/data'\n", "volume-name-invalid", (2, 10), "warning"),
        ("[[mounts]]\nsource = '" + "a" * 31 + "'\ndestination = '/data'\n", "volume-name-invalid", (2, 10),
         "warning"),
        ("[processes]\n'web server' = 'bin/web'\n", "process-group-name-invalid", (2, 1), "warning"),
        ("[[services]]\ninternal_port = 8080\nprotocol = 'tcp'\n[[services.ports]]\nport = 443\nhandlers = ['https']\n",
         "handler-invalid", (6, 13), "warning"),
        ("kill_timeout = '-5s'\n", "kill-timeout-range", (1, 16), "warning"),
        ("kill_timeout = '10m'\n", "kill-timeout-range", (1, 16), "error"),
    ],
)
def test_severity_follows_the_evidence(text, rule, where, severity):
    diags = lint(text)
    found = [d for d in diags if d.rule == rule]
    assert [((d.line, d.column), d.severity.value) for d in found] == [(where, severity)], show(diags)


def test_every_rule_names_its_evidence():
    """A rule's explanation says where its claim comes from: flyctl's or fly-go's code, a docs page, an issue,
    or a tool's own reference. Rules about flyconf itself (reading files, suppressions) need none."""
    import re

    from flyconf import registry

    markers = re.compile(r"superfly/|fly-go|Fly's docs|docs\b|#\d+|Docker's|BuildKit|POSIX|go-units|google/shlex|"
                         r"boot log|dash|flyctl's own|Compose specification|compose-go")
    # io-error, internal-error, invalid-suppression and unused-suppression are about flyconf itself;
    # migration-skipped is about the shell's own positional parameters and test(1), which its explanation
    # spells out.
    about_flyconf = {"io-error", "internal-error", "invalid-suppression", "unused-suppression", "migration-skipped"}
    missing = [r.name for r in registry.all_rules()
               if r.name not in about_flyconf and not markers.search(r.explanation)]
    assert missing == []


@pytest.mark.parametrize("name", ["machine-config-invalid", "max-unavailable-ignored", "multiple-build-strategies",
                                  "check-port-missing", "machine-check-command-missing", "bluegreen-without-checks",
                                  "autostart-udp"])
def test_new_rules_examples(name):
    """`flyconf rules NAME` shows a bad and a good example: the bad one must fire, the good one must not."""
    from flyconf import registry

    rule = registry.get(name)
    assert rule is not None and rule.bad and rule.good
    assert name in [d.rule for d in lint(rule.bad + "\n")]
    assert name not in [d.rule for d in lint(rule.good + "\n")]
