"""Services, ports, health checks and durations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterator

from flyconf.app import App, Entry
from flyconf.app import tables as _tables
from flyconf.diagnostics import Diagnostic, Severity
from flyconf.registry import check, declare
from flyconf.rules.schema import INVALID_VALUE
from flyconf.sources.tomlspan import KeyPath
from flyconf.suggest import listing
from flyconf.units import UNIT_WORDS, ascii_int, duration_nanoseconds, duration_seconds, format_duration

PORT_INVALID = declare(
    "FC501", "port-invalid", "error",
    "A service has no `internal_port`, or a port is outside 1-65535, or `start_port` > `end_port`.",
    """
    Every service needs the port the app listens on (`internal_port`), and
    every port must be 1-65535 (a TCP/UDP port number). flyctl accepts a
    service with no internal port, for example a misplaced
    `[services.concurrency]` that creates a service of its own
    (superfly/flyctl#2521), and the deploy then routes nothing. A
    `[[services]]` without ports is flyctl's own warning ("Service must expose
    at least one port", internal/appconfig/validation.go
    `validateServicesSection`).
    """,
    bad="[[services]]\nprotocol = \"tcp\"\n\n[[services.ports]]\nport = 80\n",
    good="[[services]]\nprotocol = \"tcp\"\ninternal_port = 8080\n\n[[services.ports]]\nport = 80\n",
    family="services",
    severities=("warning",),
)

DUPLICATE_PORT = declare(
    "FC502", "duplicate-service-port", "error",
    "Two services expose the same public port, or route to the same internal port and protocol.",
    """
    An app has one set of public ports: two services (or a service and
    `[http_service]`, which takes 80 and 443) cannot both listen on the same
    one (superfly/flyctl#3583 asks flyctl to report overlapping ports). Two
    services with the same internal port and protocol for the same Machines
    make the deploy fail with an unexplained error (superfly/flyctl#1635).
    """,
    bad=("[http_service]\ninternal_port = 8080\n\n"
         "[[services]]\ninternal_port = 8080\n\n[[services.ports]]\nport = 443\n"),
    good="[http_service]\ninternal_port = 8080\n",
    family="services",
)

HANDLER_INVALID = declare(
    "FC503", "handler-invalid", "warning",
    "A port has an unknown handler, or `force_https` without an `http` handler.",
    """
    Fly's docs list the handlers `http`, `tls`, `proxy_proto`, `pg_tls` and
    `edge_http` (networking/services, "Connection handlers"); `https` is
    written `["tls", "http"]`. `force_https` redirects HTTP to HTTPS, so it can
    only act on a port with the `http` handler, and a UDP service is passed
    through without handlers. flyctl checks none of this, and what the
    platform does with an unknown handler is not documented, so this is a
    warning.
    """,
    bad='[[services.ports]]\nport = 443\nhandlers = ["https"]\n',
    good='[[services.ports]]\nport = 443\nhandlers = ["tls", "http"]\n',
    family="services",
)

CHECK_TIMING = declare(
    "FC504", "check-timing", "warning",
    "A health check interval, timeout or grace period that flyctl clamps or rejects.",
    """
    flyctl raises service-check intervals and timeouts below 1 second to 1
    second, a non-zero grace period below 1 second to 1 second, and lowers
    anything above 1 minute to 1 minute (a warning, as flyctl's own). Top-level
    `[checks]` must have an interval of at least 2 seconds and a timeout of at
    most 60 seconds, or `fly deploy` and `fly config validate` fail (an error);
    a bare number there is milliseconds. Both from superfly/flyctl
    internal/appconfig/validation.go (`validateServiceCheckDurations`,
    `validateChecksSection`). The finding says the value flyctl will use.
    """,
    bad='[[http_service.checks]]\ninterval = "500ms"\ntimeout = "2m"\n',
    good='[[http_service.checks]]\ninterval = "15s"\ntimeout = "5s"\n',
    family="services",
    severities=("error",),
)

DURATION_UNIT = declare(
    "FC505", "duration-unit", "warning",
    "A bare number where a duration belongs; flyctl's unit for it depends on the key.",
    """
    A bare number means seconds for the top-level `kill_timeout`, milliseconds
    for service `tcp_checks`/`http_checks` and top-level `[checks]`, and
    nanoseconds for `http_service.checks`, machine checks' `kill_timeout` and
    the `[deploy]` timeouts (so `interval = 10000` there is 10 microseconds).
    Floats are truncated (`kill_timeout = 0.5` is 0 seconds). Write a duration
    with its unit. From superfly/flyctl internal/appconfig/patches.go
    (`_castDuration`: seconds for `patchTopFields`, milliseconds for
    `_patchCheck`) and superfly/fly-go duration.go (nanoseconds otherwise).
    """,
    bad="kill_timeout = 30\n\n[[http_service.checks]]\ninterval = 10000\n",
    good='kill_timeout = "30s"\n\n[[http_service.checks]]\ninterval = "10s"\n',
    family="services",
    severities=("info",),
)

KILL_TIMEOUT = declare(
    "FC506", "kill-timeout-range", "error",
    "`kill_timeout` is negative or longer than 5 minutes.",
    """
    `kill_timeout` is how long Fly waits after `kill_signal` before stopping the
    Machine by force. The platform rejects values above 300 seconds ("invalid
    stop_config.timeout, cannot exceed 5 minutes", tldraw/tldraw#8656; Fly's
    docs give 300 s as the maximum): an error. A negative value is a warning:
    it means nothing, but what the platform does with it is not documented.
    """,
    bad='kill_timeout = "10m"\n',
    good='kill_timeout = "5m"\n',
    family="services",
    severities=("warning",),
)

CHECK_PORT = declare(
    "FC507", "check-port-missing", "error",
    "A top-level check has no `port`, and a process group it applies to has no `[http_service]` to take it from.",
    """
    A `[checks]` entry without `port` checks the group's `http_service`
    internal port. When a group the check applies to has no `[http_service]`,
    flyctl stops the deploy: "Check '<name>' for process group '<group>' has
    no port set and the group has no http_service to take it from"
    (superfly/flyctl internal/appconfig/machines.go `updateMachineConfig`).
    `fly config validate` does not report it (validation.go
    `validateMachineConversion` never fires).
    """,
    bad='[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n\n[checks.alive]\ntype = "tcp"\n',
    good='[[services]]\ninternal_port = 8080\nprotocol = "tcp"\n\n[checks.alive]\ntype = "tcp"\nport = 8080\n',
    family="services",
)

MACHINE_CHECK_COMMAND = declare(
    "FC508", "machine-check-command-missing", "error",
    "A machine check has no `command`.",
    """
    `fly deploy` runs each machine check (`[[services.machine_checks]]`,
    `[[http_service.machine_checks]]`, `[[machine_checks]]`) in a test Machine
    started with the check's `command`; without one the deploy stops with
    "missing command for test machine" (superfly/flyctl
    internal/appconfig/machines.go `ToTestMachineConfig`, run from
    internal/command/deploy/machinebasedtest.go).
    """,
    bad='[[http_service.machine_checks]]\nimage = "curlimages/curl"\n',
    good='[[http_service.machine_checks]]\nimage = "curlimages/curl"\ncommand = ["curl", "-f", "http://[$FLY_TEST_MACHINE_IP]:8080/up"]\n',
    family="services",
)

BLUEGREEN_CHECKS = declare(
    "FC509", "bluegreen-without-checks", "error",
    "`strategy = \"bluegreen\"` in an app with no health checks.",
    """
    A blue-green deploy waits for the new Machines' health checks before it
    moves traffic; with no top-level `[checks]` and no service checks
    (`tcp_checks`, `http_checks`, `http_service.checks`) flyctl stops: "You
    need to define at least 1 check in order to use blue-green deployments"
    (superfly/flyctl internal/command/deploy/strategy_bluegreen.go). Machine
    checks do not count. The first deploy, which has no Machines to replace,
    passes; every later one fails.
    """,
    bad='[deploy]\nstrategy = "bluegreen"\n\n[http_service]\ninternal_port = 8080\n',
    good=('[deploy]\nstrategy = "bluegreen"\n\n[http_service]\ninternal_port = 8080\n\n'
          '[[http_service.checks]]\ninterval = "10s"\ntimeout = "2s"\npath = "/up"\n'),
    family="services",
)

AUTOSTART_UDP = declare(
    "FC510", "autostart-udp", "warning",
    "Autostop or autostart on a UDP service.",
    """
    Fly's proxy starts and stops Machines by the requests and connections it
    proxies; a UDP service is passed through, and autostart is reported not to
    work for it (superfly/flyctl#3583, which asks flyctl to warn about
    "auto-start requested on UDP"). A Machine that is stopped for lack of
    traffic may then never start again for UDP clients. flyctl does not check
    this, and the evidence is a report rather than code, so this is a warning.
    """,
    bad=('[[services]]\nprotocol = "udp"\ninternal_port = 5353\n'
         'auto_stop_machines = "stop"\nauto_start_machines = true\n'),
    good='[[services]]\nprotocol = "udp"\ninternal_port = 5353\nauto_stop_machines = "off"\nmin_machines_running = 1\n',
    family="services",
)

KNOWN_HANDLERS = ("http", "tls", "proxy_proto", "pg_tls", "edge_http")


@dataclass(frozen=True)
class _Duration:
    path: KeyPath
    value: Any
    bare_unit: str  # what a bare number means: "s", "ms" or "ns"
    kind: str  # "service-check", "toplevel-check", "kill", "deploy", "machine-check"


def _durations(app: App) -> Iterator[_Duration]:
    data = app.data
    for key in ("kill_timeout",):
        if key in data:
            yield _Duration((key,), data[key], "s", "kill")
    experimental = data.get("experimental")
    if isinstance(experimental, dict) and "kill_timeout" in experimental:
        yield _Duration(("experimental", "kill_timeout"), experimental["kill_timeout"], "s", "kill")
    deploy = data.get("deploy")
    if isinstance(deploy, dict):
        for key in ("wait_timeout", "release_command_timeout"):
            if key in deploy:
                yield _Duration(("deploy", key), deploy[key], "ns", "deploy")
    timing_keys = ("interval", "timeout", "grace_period")

    def checks_of(base: KeyPath, value: Any, keys: tuple[str, ...], unit: str, kind: str) -> Iterator[_Duration]:
        for path, table in _tables(base, value):
            for key in keys:
                if key in table:
                    yield _Duration(path + (key,), table[key], unit, kind)

    for service in app.entries("services"):
        for section in ("tcp_checks", "http_checks"):
            yield from checks_of(service.key(section), service.get(section), timing_keys, "ms", "service-check")
        yield from checks_of(service.key("machine_checks"), service.get("machine_checks"), ("kill_timeout",), "ns",
                             "machine-check")
    for http in app.entries("http_service"):
        yield from checks_of(http.key("checks"), http.get("checks"), timing_keys, "ns", "service-check")
        yield from checks_of(http.key("machine_checks"), http.get("machine_checks"), ("kill_timeout",), "ns",
                             "machine-check")
    for chk in app.entries("checks"):
        yield from checks_of(chk.path, chk.table, timing_keys, "ms", "toplevel-check")
    for mc in app.entries("machine_checks"):
        yield from checks_of(mc.path, mc.table, ("kill_timeout",), "ns", "machine-check")


@check("app")
def check_durations(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    top_kill_set = "kill_timeout" in app.data
    for d in _durations(app):
        if isinstance(d.value, bool) or not isinstance(d.value, (int, float, str)):
            continue
        seconds = duration_seconds(d.value, d.bare_unit)
        name = _key_name(d.path)
        bare = isinstance(d.value, (int, float))
        if bare and seconds is None:
            # TOML's inf and nan, or a float beyond an int64: fly-go turns a bare number into a Duration
            # with Go's int64(), whose result for a value an int64 cannot hold is undefined (Go spec,
            # Conversions). An integer that large never gets here: the file does not load (FC002).
            yield INVALID_VALUE.diagnostic(
                doc, doc.value_span(d.path),
                f"`{name} = {_toml_number(d.value)}` is not a duration: flyctl converts a bare number here to a "
                "whole number with Go's int64(), whose result for a value an int64 cannot hold (such as infinity "
                "or NaN) is undefined",
                hint=f'write the duration as a string with its unit, such as `{name} = "30s"`',
            )
            continue
        if isinstance(d.value, str) and duration_nanoseconds(d.value) == "out of range":
            shown = d.value if len(d.value) <= 40 else d.value[:37] + "..."
            yield INVALID_VALUE.diagnostic(
                doc, doc.value_span(d.path),
                f"`{name} = {json.dumps(shown, ensure_ascii=False)}` is longer than the longest Go duration "
                "(about 292 years): flyctl fails to load the file (Go's time.ParseDuration: \"invalid duration\")",
                hint=f'write a shorter duration, such as `{name} = "30s"`',
            )
            continue
        if bare:
            consequence = _clamp(d, seconds) if seconds is not None else None
            if d.kind == "toplevel-check" and consequence and seconds is not None:
                # validation.go validateChecksSection: the limits apply to the number read as milliseconds.
                yield CHECK_TIMING.diagnostic(
                    doc, doc.value_span(d.path),
                    f"`{name} = {d.value}` has no unit, so flyctl reads it as milliseconds ({format_duration(seconds)})"
                    f", {consequence}",
                    hint=f'write the duration with its unit, such as '
                         f'`{name} = "{"10s" if name == "interval" else "5s"}"`',
                    severity=Severity.ERROR,
                )
                continue
            truncated = isinstance(d.value, float) and d.bare_unit in ("s", "ms") and d.value != int(d.value)
            read_as = format_duration(seconds) if seconds is not None else "?"
            msg = (f"`{name} = {d.value}` has no unit: flyctl reads a bare number here as "
                   f"{UNIT_WORDS[d.bare_unit]}, so this is {read_as}")
            if truncated:
                msg += " (the fraction is dropped)"
            if consequence:
                msg += f", {consequence}"
            suggestion = _suggest(d, seconds)
            # Where flyctl's unit is the documented one (seconds for kill_timeout, milliseconds for
            # service and top-level checks) a whole number does what the user meant: info. Where it
            # is nanoseconds, or a fraction is dropped, the value is almost certainly not what was meant.
            documented = d.bare_unit in ("s", "ms") and not truncated and not consequence
            yield DURATION_UNIT.diagnostic(doc, doc.value_span(d.path), msg,
                                           hint=f'write `{name} = "{suggestion}"`' if suggestion else None,
                                           severity=Severity.INFO if documented else None)
        elif seconds is not None:
            clamp = _clamp(d, seconds)
            if clamp:
                severity = Severity.ERROR if d.kind == "toplevel-check" else None
                yield CHECK_TIMING.diagnostic(doc, doc.value_span(d.path), f"`{name} = \"{d.value}\"`: {clamp}",
                                              severity=severity)
        if d.kind == "kill" and seconds is not None and (d.path == ("kill_timeout",) or not top_kill_set):
            if seconds < 0 or seconds > 300:
                yield KILL_TIMEOUT.diagnostic(
                    doc, doc.value_span(d.path),
                    f"kill_timeout {format_duration(seconds)} is "
                    + ("negative" if seconds < 0 else "longer than the 5 minutes the platform allows"),
                    hint='use a value between "0s" and "5m"',
                    severity=Severity.WARNING if seconds < 0 else None,
                )


def _toml_number(value: object) -> str:
    """A number as TOML writes it: Python's str() would write "nan" and "inf" too, but TOML has no "+inf"."""
    if not isinstance(value, float) or math.isfinite(value):
        return str(value)
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _key_name(path: KeyPath) -> str:
    return next((p for p in reversed(path) if isinstance(p, str)), "value")


def _suggest(d: _Duration, seconds: float | None) -> str | None:
    """A string with a unit that keeps what the user most likely meant."""
    if seconds is None:
        return None
    if d.bare_unit == "ns" and isinstance(d.value, (int, float)) and d.value >= 1:
        # Almost always meant as milliseconds (the docs say so) or seconds; prefer the docs' reading.
        meant = float(d.value) / 1000 if d.value >= 100 else float(d.value)
        return format_duration(meant)
    return format_duration(seconds)


def _clamp(d: _Duration, seconds: float) -> str | None:
    name = _key_name(d.path)
    if d.kind == "service-check":
        if name in ("interval", "timeout") and seconds < 1:
            return "which is under 1s, so flyctl raises it to 1s"
        if name == "grace_period" and 0 < seconds < 1:
            return "which is non-zero and under 1s, so flyctl raises it to 1s"
        if seconds > 60:
            return "which is over 1 minute, so flyctl lowers it to 1m"
    if d.kind == "toplevel-check":
        if name == "interval" and seconds < 2:
            return "which is under the 2s minimum for top-level checks: flyctl refuses to deploy"
        if name == "timeout" and seconds > 60:
            return "which is over the 60s maximum for top-level checks: flyctl refuses to deploy"
    return None


# -- services and ports ----------------------------------------------------------------------

@dataclass(frozen=True)
class _Public:
    low: int
    high: int
    protocol: str
    path: KeyPath
    owner: str


def _as_port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return ascii_int(value.strip())
    return None


@check("app")
def check_services(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    publics: list[_Public] = []
    internals: list[tuple[int, str, list[str], KeyPath, str]] = []
    for service in app.services():
        if service.section == "services" and not service.table:
            continue  # flyctl drops an empty [[services]]
        label = service.label
        protocol = service.get("protocol") if isinstance(service.get("protocol"), str) else "tcp"
        yield from _internal_port(app, service, label)
        port = _as_port(service.get("internal_port"))
        if port is not None and 1 <= port <= 65535:
            internals.append((port, protocol, app.groups_of(service), service.key("internal_port"), label))
        if service.section == "http_service":
            publics.append(_Public(80, 80, "tcp", service.path, label))
            publics.append(_Public(443, 443, "tcp", service.path, label))
            continue
        if "ports" not in service.table:
            yield PORT_INVALID.diagnostic(
                doc, doc.key_span(service.path),
                f"{label} exposes no public port, so no traffic reaches it (flyctl warns about this too)",
                hint="add a `[[services.ports]]` table with `port = 443` and `handlers`, or remove the service",
                severity=Severity.WARNING,
            )
        for ppath, entry in _tables(service.key("ports"), service.get("ports")):
            yield from _port_entry(app, ppath, entry, protocol)
            low = _as_port(entry.get("port"))
            high = low
            where = ppath + ("port",)
            if low is None:
                low, high = _as_port(entry.get("start_port")), _as_port(entry.get("end_port"))
                where = ppath + ("start_port",)
            if low is not None and high is not None and 1 <= low <= high <= 65535:
                publics.append(_Public(low, high, protocol, where, label))
    yield from _duplicates(app, publics, internals)


def _internal_port(app: App, service: Entry, label: str) -> Iterator[Diagnostic]:
    doc = app.fly
    if "internal_port" not in service.table:
        yield PORT_INVALID.diagnostic(
            doc, doc.key_span(service.path),
            f"{label} has no `internal_port`: Fly does not know which port of the Machine to route to",
            hint="add `internal_port = 8080` (the port your server listens on)",
        )
        return
    port = _as_port(service.get("internal_port"))
    if port is not None and not 1 <= port <= 65535:
        yield PORT_INVALID.diagnostic(doc, doc.value_span(service.key("internal_port")),
                                      f"{label}: internal_port {port} is outside 1-65535")


def _port_entry(app: App, ppath: KeyPath, entry: dict[str, Any], protocol: str) -> Iterator[Diagnostic]:
    doc = app.fly
    for key in ("port", "start_port", "end_port"):
        value = _as_port(entry.get(key))
        if value is not None and not 1 <= value <= 65535:
            yield PORT_INVALID.diagnostic(doc, doc.value_span(ppath + (key,)), f"{key} {value} is outside 1-65535")
    start, end = _as_port(entry.get("start_port")), _as_port(entry.get("end_port"))
    if start is not None and end is not None and start > end:
        yield PORT_INVALID.diagnostic(doc, doc.value_span(ppath + ("start_port",)),
                                      f"start_port {start} is greater than end_port {end}")
    if entry.get("port") is None and (start is None) != (end is None):
        key = "end_port" if start is None else "start_port"
        yield PORT_INVALID.diagnostic(doc, doc.key_span(ppath), f"a port range needs both start_port and end_port; "
                                      f"`{key}` is missing")
    if entry.get("port") is None and start is None and end is None:
        yield PORT_INVALID.diagnostic(doc, doc.key_span(ppath), "this port entry has no `port` (or port range)",
                                      hint="add `port = 443` (the public port)")
    handlers = entry.get("handlers")
    names = [h for h in handlers if isinstance(h, str)] if isinstance(handlers, list) else []
    if isinstance(handlers, list):
        for i, h in enumerate(handlers):
            if isinstance(h, str) and h not in KNOWN_HANDLERS:
                hint = 'for HTTPS write `handlers = ["tls", "http"]`' if h.lower() in ("https", "ssl") else \
                    "known handlers: " + ", ".join(KNOWN_HANDLERS)
                yield HANDLER_INVALID.diagnostic(doc, doc.value_span(ppath + ("handlers", i)),
                                                 f"unknown handler `{h}`", hint=hint)
        if protocol == "udp" and names:
            yield HANDLER_INVALID.diagnostic(doc, doc.value_span(ppath + ("handlers",)),
                                             "a UDP service takes no handlers; Fly's proxy passes UDP through as is")
    if entry.get("force_https") is True and "http" not in names:
        yield HANDLER_INVALID.diagnostic(
            doc, doc.value_span(ppath + ("force_https",)),
            "`force_https` redirects HTTP requests, but this port has no `http` handler",
            hint='add `handlers = ["http"]` to this port (usually port 80)',
        )


def _duplicates(app: App, publics: list[_Public], internals: list[tuple[int, str, list[str], KeyPath, str]]
                ) -> Iterator[Diagnostic]:
    """One finding per pair of services that collide, however many ports they share."""
    doc = app.fly
    clashes: dict[tuple[str, str], dict[str, Any]] = {}
    for i, later in enumerate(publics):
        for earlier in publics[:i]:
            if earlier.protocol != later.protocol or earlier.high < later.low or later.high < earlier.low:
                continue
            if earlier.path == later.path:
                continue
            clash = clashes.setdefault((earlier.owner, later.owner),
                                       {"ports": [], "path": later.path, "internal": None})
            shown = str(later.low) if later.low == later.high else f"{later.low}-{later.high}"
            if shown not in clash["ports"]:
                clash["ports"].append(shown)
            break
    for i, (port, proto, groups, path, label) in enumerate(internals):
        for other_port, other_proto, other_groups, _other_path, other_label in internals[:i]:
            if port == other_port and proto == other_proto and set(groups) & set(other_groups):
                clash = clashes.setdefault((other_label, label), {"ports": [], "path": path, "internal": None})
                clash["internal"] = f"{proto.upper()} {port}"
                clash["path"] = path
                break
    for (first, second), clash in clashes.items():
        parts = []
        if clash["ports"]:
            s = "s" if len(clash["ports"]) > 1 else ""
            parts.append(f"public port{s} {', '.join(clash['ports'])}")
        if clash["internal"]:
            parts.append(f"internal port {clash['internal']} for the same Machines")
        what = " and ".join(parts)
        if first == second:
            message = f"{second} lists {what} twice"
        else:
            message = f"{second} duplicates {first}: {what}"
            if first == "`[http_service]`" and clash["ports"]:
                message += " (`[http_service]` takes ports 80 and 443)"
        yield DUPLICATE_PORT.diagnostic(
            doc, doc.value_span(clash["path"]), message,
            hint="each public port belongs to one service; to serve more ports from one internal port, add "
                 "`[[services.ports]]` to a single service",
        )


# -- what fly deploy checks when it builds Machine configs ---------------------------------------

@check("app")
def check_deploy_time(app: App) -> Iterator[Diagnostic]:
    yield from _check_ports(app)
    yield from _machine_check_commands(app)
    yield from _bluegreen(app)
    yield from _autostart_udp(app)


def _check_ports(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    http = app.entries("http_service")
    for chk in app.entries("checks"):
        if "port" in chk.table:
            continue
        lacking = [g for g in app.groups_of(chk) if not any(g in app.groups_of(h) for h in http)]
        if not lacking:
            continue
        groups = listing(lacking)
        yield CHECK_PORT.diagnostic(
            doc, doc.key_span(chk.path),
            f"{chk.label} has no `port`, and process group{'s' if len(lacking) > 1 else ''} {groups} "
            f"{'have' if len(lacking) > 1 else 'has'} no `[http_service]` to take it from: flyctl stops the deploy",
            hint="add `port = <the port the app listens on>` to the check",
        )


def _runs(app: App, service: Entry) -> bool:
    """Whether a service's machine checks run: for every Machine when it has no `processes`
    (internal/command/deploy/machinebasedtest.go `runTestMachines`), else for its defined groups."""
    listed = service.processes
    return listed is None or any(g in app.group_set for g in listed)


def _machine_check_commands(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    places: list[tuple[KeyPath, Any]] = []
    for service in app.services():
        if _runs(app, service):
            places.append((service.key("machine_checks"), service.get("machine_checks")))
    places.append((("machine_checks",), app.data.get("machine_checks")))
    for base, value in places:
        if not isinstance(value, list):
            continue
        for path, table in _tables(base, value):
            command = table.get("command")
            if command is None or command == []:
                yield MACHINE_CHECK_COMMAND.diagnostic(
                    doc, doc.key_span(path),
                    "this machine check has no `command`: the deploy stops with \"missing command for test machine\"",
                    hint='add `command = ["..."]`, the test to run in the check\'s Machine',
                )


def _bluegreen(app: App) -> Iterator[Diagnostic]:
    deploy = app.data.get("deploy")
    if not isinstance(deploy, dict) or deploy.get("strategy") != "bluegreen":
        return
    if any(app.groups_of(chk) for chk in app.entries("checks")):
        return
    for service in app.services():
        if not app.groups_of(service):
            continue
        keys = ("checks",) if service.section == "http_service" else ("tcp_checks", "http_checks")
        if any(any(True for _ in _tables(service.key(k), service.get(k))) for k in keys):
            return
    doc = app.fly
    yield BLUEGREEN_CHECKS.diagnostic(
        doc, doc.value_span(("deploy", "strategy")),
        "strategy `bluegreen` needs at least one health check, and no Machine of this app has one: every deploy "
        "after the first stops with \"You need to define at least 1 check in order to use blue-green deployments\"",
        hint="add `[[http_service.checks]]` (or `[checks.<name>]`), or use `strategy = \"rolling\"`",
    )


def _autostart_udp(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    for service in app.entries("services"):
        if service.get("protocol") != "udp":
            continue
        for key, on in (("auto_start_machines", (True,)), ("auto_stop_machines", (True, "stop", "suspend"))):
            value = service.get(key)
            if any(value is v or (isinstance(v, str) and value == v) for v in on):
                yield AUTOSTART_UDP.diagnostic(
                    doc, doc.value_span(service.key(key)),
                    f"{service.label} is UDP, and Fly's proxy is reported not to start Machines for UDP traffic "
                    f"(superfly/flyctl#3583): `{key} = {json.dumps(value)}` may leave it stopped",
                    hint='keep Machines running for UDP: `auto_stop_machines = "off"` and `min_machines_running = 1`',
                )
                break
