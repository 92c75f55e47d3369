"""Volumes, mounts and process groups: each rule fires where it should, at the right place, and not on near misses."""

from __future__ import annotations

import textwrap

import pytest

from flyconf import lint_text
from flyconf.app import App
from flyconf.sources.flytoml import parse_flytoml


def findings(text: str, rule: str):
    diags = lint_text(textwrap.dedent(text).lstrip("\n"), "fly.toml")
    return [(d.line, d.column) for d in diags if d.rule == rule], diags


def app_of(text: str) -> App:
    doc = parse_flytoml(textwrap.dedent(text).lstrip("\n"), "fly.toml")
    assert not hasattr(doc, "rule")
    return App(doc)


# -- process group resolution (the library view) ------------------------------------------

@pytest.mark.parametrize(
    ("processes", "groups", "default"),
    [
        ("", ["app"], "app"),
        ("[processes]\nweb = 'x'\n", ["web"], "web"),
        ("[processes]\nzzz = ''\nfoo = ''\nbar = ''\n", ["bar", "foo", "zzz"], "bar"),
        ("[processes]\nbbb = ''\napp = ''\naaa = ''\n", ["aaa", "app", "bbb"], "app"),
        ("processes = []\n", ["app"], "app"),
        ("[[processes]]\nname = 'web'\ncommand = 'w'\n[[processes]]\nname = 'worker'\ncommand = 'k'\n", ["web", "worker"], "web"),
    ],
)
def test_groups_and_default_group(processes, groups, default):
    app = app_of(processes)
    assert app.groups == groups
    assert app.default_group == default


def test_sections_apply_to_groups_as_flyctl_resolves_them():
    app = app_of("""
        [processes]
        app = "bin/web"
        worker = "bin/worker"
        cron = "bin/cron"
        [[mounts]]
        source = "data"
        destination = "/data"
        [[mounts]]
        source = "jobs"
        destination = "/jobs"
        processes = ["worker", "nope"]
        [[vm]]
        size = "shared-cpu-1x"
        [[vm]]
        size = "performance-2x"
        processes = ["worker"]
        [http_service]
        internal_port = 8080
    """)
    assert [m.get("source") for m in app.mounts_of("app")] == ["data"]  # no processes: default group only
    assert [m.get("source") for m in app.mounts_of("worker")] == ["jobs"]  # unknown names dropped
    assert app.mounts_of("cron") == []
    by_group = {g: [v.get("size") for v in app.sections_for(g)["vm"]] for g in app.groups}
    assert by_group == {"app": ["shared-cpu-1x"], "cron": ["shared-cpu-1x"], "worker": ["performance-2x"]}
    assert [s.section for s in app.sections_for("app")["services"]] == ["http_service"]
    assert app.sections_for("worker")["services"] == []
    assert app.mounted_groups() == ["app", "worker"]


# -- mounts ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "rule", "where"),
    [
        ("[[mounts]]\nsource = 'data'\ndestination = 'data'\n", "mount-destination-not-absolute", [(3, 15)]),
        ("[[mounts]]\nsource = 'data'\ndestination = ''\n", "mount-destination-not-absolute", [(3, 15)]),
        ("[mounts]\n  source = 'data'\n", "mount-destination-not-absolute", [(1, 2)]),
        ("[[mounts]]\nsource = 'data'\ndestination = '/'\n", "mount-destination-reserved", [(3, 15)]),
        ("[[mounts]]\nsource = 'data'\ndestination = '/etc'\n", "mount-destination-reserved", [(3, 15)]),
        ("[[mounts]]\nsource = 'data'\ndestination = '/proc/self'\n", "mount-destination-reserved", [(3, 15)]),
        ("[[mounts]]\nsource = 'my-data'\ndestination = '/data'\n", "volume-name-invalid", [(2, 10)]),
        ("[[mounts]]\nsource = 'Data'\ndestination = '/data'\n", "volume-name-invalid", [(2, 10)]),
        ("[[mounts]]\nsource = 'a_very_long_volume_name_over_thirty'\ndestination = '/data'\n", "volume-name-invalid", [(2, 10)]),
        ("[[mounts]]\nsource = ''\ndestination = '/data'\n", "volume-name-invalid", [(2, 10)]),
        ("[processes]\napp = 'a'\n[[mounts]]\nsource = 'd'\ndestination = '/d'\nprocesses = ['ap', 'app']\n",
         "mount-unknown-process-group", [(6, 14)]),
        ("[[mounts]]\nsource = 'd'\ndestination = '/d'\nprocesses = ['web']\n", "mount-unknown-process-group", [(4, 14)]),
        ("[[mounts]]\nsource = 'a'\ndestination = '/a'\n[[mounts]]\nsource = 'b'\ndestination = '/b'\n",
         "multiple-mounts-per-process", [(4, 3)]),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\ninitial_size = '999MB'\n", "mount-size-invalid", [(4, 16)]),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\ninitial_size = 'ten gigs'\n", "mount-size-invalid", [(4, 16)]),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\nsnapshot_retention = 90\n", "mount-size-invalid", [(4, 22)]),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\nauto_extend_size_threshold = 80\n", "mount-size-invalid", [(4, 1)]),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\nauto_extend_size_threshold = 40\n"
         "auto_extend_size_increment = '1GB'\nauto_extend_size_limit = '600GB'\n", "mount-size-invalid", [(4, 30), (6, 26)]),
        ("[deploy]\nstrategy = 'canary'\n[[mounts]]\nsource = 'a'\ndestination = '/data'\n", "volume-deploy-strategy", [(2, 12)]),
        ("[deploy]\nstrategy = 'bluegreen'\n[[mounts]]\nsource = 'a'\ndestination = '/data'\n", "volume-deploy-strategy", [(2, 12)]),
    ],
)
def test_mount_rules_fire(text, rule, where):
    found, diags = findings(text, rule)
    assert found == where, [(d.rule, d.line, d.column, d.message) for d in diags]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[[mounts]]\nsource = 'data'\ndestination = '/data'\n", "mount-destination-not-absolute"),
        ("[[mounts]]\nsource = 'data'\ndestination = '/usr/src/app/data'\n", "mount-destination-reserved"),
        ("[[mounts]]\nsource = 'data'\ndestination = '/etc/letsencrypt'\n", "mount-destination-reserved"),
        ("[[mounts]]\nsource = 'my_data_2'\ndestination = '/data'\n", "volume-name-invalid"),
        ("[processes]\nweb = 'a'\nworker = 'b'\n[[mounts]]\nsource = 'a'\ndestination = '/a'\nprocesses = ['web']\n"
         "[[mounts]]\nsource = 'b'\ndestination = '/b'\nprocesses = ['worker']\n", "multiple-mounts-per-process"),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\ninitial_size = '1500MB'\n", "mount-size-invalid"),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\ninitial_size = 3\nsnapshot_retention = 60\n", "mount-size-invalid"),
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\nauto_extend_size_threshold = 80\n"
         "auto_extend_size_increment = '1GB'\nauto_extend_size_limit = '10GB'\n", "mount-size-invalid"),
        # `fly launch` writes a zero threshold, which flyctl treats as unset.
        ("[[mounts]]\nsource = 'a'\ndestination = '/data'\nauto_extend_size_threshold = 0\n", "mount-size-invalid"),
        ("[deploy]\nstrategy = 'rolling'\n[[mounts]]\nsource = 'a'\ndestination = '/data'\n", "volume-deploy-strategy"),
        ("[deploy]\nstrategy = 'canary'\n", "volume-deploy-strategy"),
    ],
)
def test_mount_rules_near_misses(text, rule):
    found, diags = findings(text, rule)
    assert found == [], [(d.rule, d.line, d.column, d.message) for d in diags]


def test_misspelt_destination_is_one_finding_not_two():
    found, diags = findings("[[mounts]]\nsource = 'data'\ndestinaton = '/data'\n", "mount-destination-not-absolute")
    assert found == [] and [d.rule for d in diags] == ["unknown-key"]


def test_size_message_explains_decimal_truncation():
    _, diags = findings("[[mounts]]\nsource = 'a'\ndestination = '/data'\ninitial_size = '999MB'\n", "mount-size-invalid")
    (d,) = diags
    assert d.message == 'mount `a`: initial_size "999MB" is less than 1 GB (flyctl reads it as 0 GB)'


# -- process groups --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "rule", "where"),
    [
        ("[processes]\nweb = 'a'\nworker = 'b'\n[[vm]]\nsize = 'shared-cpu-1x'\nprocesses = ['wroker']\n",
         "unknown-process-group", [(6, 14)]),
        ("[http_service]\ninternal_port = 8080\nprocesses = ['web']\n", "unknown-process-group", [(3, 14)]),
        ("[processes]\nweb = 'a'\n[checks.alive]\ntype = 'tcp'\nport = 8080\nprocesses = ['web', 'api']\n",
         "unknown-process-group", [(6, 21)]),
        ("[processes]\nweb = 'a'\n[[restart]]\npolicy = 'always'\nprocesses = ['worker']\n", "unknown-process-group", [(5, 14)]),
        ("[processes]\nweb = 'a'\n[http_service]\ninternal_port = 8080\n", "service-missing-processes", [(3, 2)]),
        ("[processes]\nweb = 'a'\nworker = 'b'\n[[services]]\ninternal_port = 8080\n[[services.ports]]\nport = 80\n",
         "service-missing-processes", [(4, 3)]),
        ("[processes]\n'' = 'a'\n", "process-group-name-invalid", [(2, 1)]),
        ("[processes]\nfly_app_release_command = 'a'\n", "process-group-name-invalid", [(2, 1)]),
        ("[processes]\n\"web server\" = 'a'\n", "process-group-name-invalid", [(2, 1)]),
        ("[deploy]\nrelease_command = \"bin/rails runner 'X.run\"\n", "command-unparseable", [(2, 37)]),
        ("[processes]\nweb = 'bin/web --flag \\'\n", "command-unparseable", [(2, 23)]),
        ("console_command = 'bin/rails \"console'\n", "command-unparseable", [(1, 30)]),
        ("[deploy]\nseed_command = 'x \"y'\n", "command-unparseable", [(2, 19)]),
        ("[processes]\napp = 'a'\nworker = 'b'\n[[mounts]]\nsource = 'd'\ndestination = '/d'\n", "default-group-only", [(4, 3)]),
        ("[processes]\napp = 'a'\nworker = 'b'\n[checks.alive]\ntype = 'tcp'\nport = 8080\n", "default-group-only", [(4, 9)]),
    ],
)
def test_process_rules_fire(text, rule, where):
    found, diags = findings(text, rule)
    assert found == where, [(d.rule, d.line, d.column, d.message) for d in diags]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("[http_service]\ninternal_port = 8080\nprocesses = ['app']\n", "unknown-process-group"),
        ("[processes]\nweb = 'a'\n[http_service]\ninternal_port = 8080\nprocesses = ['web']\n", "service-missing-processes"),
        ("[http_service]\ninternal_port = 8080\n", "service-missing-processes"),
        ("[processes]\nweb-2 = 'a'\nworker_1 = 'b'\n", "process-group-name-invalid"),
        ("[deploy]\nrelease_command = \"bin/rails runner 'X.run'\"\n", "command-unparseable"),
        ("[processes]\napp = ''\n", "command-unparseable"),
        ("[processes]\napp = 'a'\n[[mounts]]\nsource = 'd'\ndestination = '/d'\n", "default-group-only"),
        # [[vm]] without processes applies to every group: nothing to say.
        ("[processes]\napp = 'a'\nworker = 'b'\n[[vm]]\nsize = 'shared-cpu-1x'\n", "default-group-only"),
        ("[processes]\napp = 'a'\nworker = 'b'\n[[mounts]]\nsource = 'd'\ndestination = '/d'\nprocesses = ['app']\n",
         "default-group-only"),
    ],
)
def test_process_rules_near_misses(text, rule):
    found, diags = findings(text, rule)
    assert found == [], [(d.rule, d.line, d.column, d.message) for d in diags]


def test_unknown_group_message_lists_groups_and_suggests():
    _, diags = findings("[processes]\nweb = 'a'\nworker = 'b'\n[[vm]]\nprocesses = ['wroker']\n", "unknown-process-group")
    (d,) = [d for d in diags if d.rule == "unknown-process-group"]
    assert "`wroker`" in d.message and "`web`, `worker`" in d.message
    assert d.hint == "did you mean `worker`?"


def test_default_group_only_names_the_default_group():
    _, diags = findings("[processes]\nweb = 'a'\nworker = 'b'\n[[metrics]]\nport = 9091\npath = '/m'\n", "default-group-only")
    (d,) = [d for d in diags if d.rule == "default-group-only"]
    assert d.severity.value == "info"
    assert "default group `web`, not to `worker`" in d.message
