"""Machine settings flyctl turns into Machine configs at deploy: VM memory, machine_config and its
container, the build strategy and the rollout settings. flyctl's own `Validate` misses these; `fly
deploy` stops on them (or, for the warnings, silently does something other than what is written)."""

from __future__ import annotations

import json
from typing import Any, Iterator

from flyconf.app import App
from flyconf.diagnostics import Diagnostic
from flyconf.registry import check, declare
from flyconf.rules.schema import INVALID_VALUE
from flyconf.units import ascii_int, memory_size

MACHINE_CONFIG = declare(
    "FC105", "machine-config-invalid", "error",
    "`machine_config` is neither inline JSON nor a `.json` path, is not valid JSON, or `container` names no "
    "container in it.",
    """
    flyctl reads `machine_config` (or `[experimental] machine_config`, which
    wins) when it builds each Machine's config at deploy: a value starting
    with `{` is inline JSON, a value ending in `.json` is a file, anything else
    stops the deploy with "invalid machine config source" (superfly/flyctl
    internal/config/machine.go `ParseConfig`). JSON that does not parse is
    "invalid machine config". `container` picks the container that receives
    the built image; a name that no container in the config has is
    "container ... not found" (internal/containerconfig/parse.go
    `ParseContainerConfig`). flyconf checks the container name only for inline
    JSON: flyctl opens a `.json` path from the directory `fly deploy` runs in.
    """,
    bad='machine_config = "machine.yaml"\n',
    good='machine_config = "machine.json"\n',
    family="schema",
)

MAX_UNAVAILABLE_IGNORED = declare(
    "FC106", "max-unavailable-ignored", "warning",
    "`[deploy] max_unavailable` with the immediate or bluegreen strategy, which ignore it.",
    """
    `max_unavailable` limits how many Machines a rolling deploy replaces at
    once. The immediate and bluegreen strategies replace Machines their own
    way and never read it; `fly deploy` says "Warning: max-unavailable set for
    non-rolling strategy ..., ignoring" (superfly/flyctl
    internal/command/deploy/deploy.go, and `deployToMachines` in
    machines_deploymachinesapp.go, where only rolling and canary use it).
    """,
    bad='[deploy]\nstrategy = "immediate"\nmax_unavailable = 1\n',
    good='[deploy]\nstrategy = "rolling"\nmax_unavailable = 1\n',
    family="schema",
)

BUILD_STRATEGIES = declare(
    "FC107", "multiple-build-strategies", "warning",
    "`[build]` names more than one way to get the image (image, buildpacks, Dockerfile, builtin).",
    """
    `fly deploy` uses one: a pre-built `image` first, then a buildpack
    `builder`, then the Dockerfile (`dockerfile` or `build-target`), then a
    `builtin` (superfly/flyctl internal/command/deploy/deploy_build.go
    `determineImage`, internal/build/imgsrc/resolver.go `BuildImage`). The
    others are ignored, and flyctl itself warns "more than one build
    configuration found" (internal/appconfig/validation.go
    `validateBuildStrategies`). Keep the one you mean.
    """,
    bad='[build]\nimage = "ghcr.io/acme/app:latest"\ndockerfile = "Dockerfile"\n',
    good='[build]\ndockerfile = "Dockerfile"\n',
    family="schema",
)


@check("app")
def check_machines(app: App) -> Iterator[Diagnostic]:
    yield from _memory(app)
    yield from _machine_config(app)
    yield from _deploy(app)
    yield from _build_strategies(app)


# -- memory ------------------------------------------------------------------------------------

def _memory(app: App) -> Iterator[Diagnostic]:
    """`memory` as internal/appconfig/machines.go `computeToGuest` reads it for each group's Machines."""
    doc = app.fly
    places: list[tuple[tuple[Any, ...], Any, str]] = []
    for entry in app.entries("vm"):
        if "memory" in entry.table and app.groups_of(entry):  # a [[vm]] for no group is never converted
            places.append((entry.key("memory"), entry.get("memory"), "[[vm]]"))
    deploy = app.data.get("deploy")
    if isinstance(deploy, dict) and isinstance(deploy.get("release_command"), str) and deploy["release_command"]:
        vm = deploy.get("release_command_vm")
        if isinstance(vm, dict) and isinstance(vm.get("memory"), str):  # an integer is a load error (schema)
            places.append((("deploy", "release_command_vm", "memory"), vm["memory"], "release_command_vm"))
    for path, raw, where in places:
        size = memory_size(raw)
        if size is None:
            continue
        shown = json.dumps(raw) if isinstance(raw, str) else str(raw)
        if size.amount is None:
            yield INVALID_VALUE.diagnostic(
                doc, doc.value_span(path),
                f"{where} memory {shown} is not a size flyctl can read ({size.error}): the deploy stops",
                hint='write megabytes as a whole number, or a size such as "512mb" or "2gb"',
            )
        elif size.amount == 0:
            whole = isinstance(raw, int) or (isinstance(raw, str) and ascii_int(raw.strip("+-")) is not None)
            why = "is zero" if whole else "is less than 1 MiB, which flyctl truncates to 0 MB"
            yield INVALID_VALUE.diagnostic(
                doc, doc.value_span(path),
                f"{where} memory {shown} {why}: the deploy stops with \"memory cannot be zero\"",
                hint=None if whole else 'a number that is not a whole number of megabytes is read as bytes: write '
                                        'a unit, such as "512mb"',
            )


# -- machine_config and container ----------------------------------------------------------------

def _machine_config(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    build = app.build
    if isinstance(build.get("compose"), dict):
        return  # a compose file takes precedence over machine_config (ParseContainerConfig)
    experimental = app.data.get("experimental")
    path: tuple[Any, ...] = ("machine_config",)
    value = app.data.get("machine_config")
    if isinstance(experimental, dict) and isinstance(experimental.get("machine_config"), str) \
            and experimental["machine_config"]:
        path, value = ("experimental", "machine_config"), experimental["machine_config"]
    if not isinstance(value, str) or not value:
        return
    where = doc.value_span(path)
    if value.startswith("{"):
        try:
            config = json.loads(value, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            yield MACHINE_CONFIG.diagnostic(doc, where, f"`{path[-1]}` is not valid JSON ({_short(exc)}): flyctl "
                                                        "stops the deploy with \"invalid machine config\"")
            return
        yield from _container(app, config)
    elif not value.endswith(".json"):
        yield MACHINE_CONFIG.diagnostic(
            doc, where,
            f"`{path[-1]}` is neither inline JSON (starting with `{{`) nor a path ending in `.json`: flyctl stops the "
            "deploy with \"invalid machine config source\"",
            hint="convert the file to JSON and name it *.json, or write the JSON inline",
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 80 else text[:77] + "..."


def _container(app: App, config: Any) -> Iterator[Diagnostic]:
    name = app.data.get("container")
    if not isinstance(name, str) or not name or not isinstance(config, dict):
        return
    containers = _field(config, "containers")
    if not isinstance(containers, list) or not containers:
        return  # no containers: `container` selects nothing and flyctl does not look at it
    names = [_field(c, "name") for c in containers if isinstance(c, dict)]
    if name in names:
        return
    doc = app.fly
    listed = ", ".join(f"`{n}`" for n in names if isinstance(n, str)) or "none with a name"
    yield MACHINE_CONFIG.diagnostic(
        doc, doc.value_span(("container",)),
        f"`container = \"{name}\"` names no container of machine_config (it has {listed}): flyctl stops the deploy "
        f"with \"container \\\"{name}\\\" not found\"",
    )


def _field(obj: Any, key: str) -> Any:
    """A JSON object's field as Go's encoding/json finds it: the exact key, else one differing only in case."""
    if not isinstance(obj, dict):
        return None
    if key in obj:
        return obj[key]
    return next((v for k, v in obj.items() if isinstance(k, str) and k.lower() == key), None)


# -- [deploy] --------------------------------------------------------------------------------------

def _deploy(app: App) -> Iterator[Diagnostic]:
    deploy = app.data.get("deploy")
    if not isinstance(deploy, dict) or "max_unavailable" not in deploy:
        return
    strategy = deploy.get("strategy")
    if strategy in ("immediate", "bluegreen"):
        doc = app.fly
        yield MAX_UNAVAILABLE_IGNORED.diagnostic(
            doc, doc.key_span(("deploy", "max_unavailable")),
            f"`max_unavailable` has no effect with strategy `{strategy}`: only rolling deploys (the default) use it",
            hint="remove `max_unavailable`, or use `strategy = \"rolling\"`",
        )


# -- [build] ---------------------------------------------------------------------------------------

def _build_strategies(app: App) -> Iterator[Diagnostic]:
    """internal/appconfig/config.go `BuildStrategies`, in the order flyctl prefers them."""
    build = app.build

    def given(key: str) -> bool:
        return isinstance(build.get(key), str) and bool(build.get(key))

    found: list[str] = []
    if given("image"):
        found.append(f"the image `{build['image']}`")
    if given("builder") or (isinstance(build.get("buildpacks"), list) and build["buildpacks"]):
        found.append("a buildpack builder")
    if given("dockerfile") or given("build-target") or given("build_target"):
        found.append("a Dockerfile")
    if given("builtin"):
        found.append(f"the builtin `{build['builtin']}`")
    if len(found) > 1:
        doc = app.fly
        yield BUILD_STRATEGIES.diagnostic(
            doc, doc.key_span(("build",)),
            f"`[build]` names {len(found)} ways to get the image ({', '.join(found)}): flyctl uses {found[0]} and "
            "ignores the rest",
            hint="remove the settings of the ways you do not use",
        )
