"""Volumes and mounts: where the data that must survive a deploy lives."""

from __future__ import annotations

import json
import posixpath
import re
from typing import Iterator

from flyconf.app import App, Entry
from flyconf.diagnostics import Diagnostic, Severity
from flyconf.registry import check, declare
from flyconf.suggest import did_you_mean, listing
from flyconf.units import mount_size

DEST_NOT_ABSOLUTE = declare(
    "FC201", "mount-destination-not-absolute", "warning",
    "A mount's destination is relative, empty or missing.",
    """
    `destination` is where the volume appears inside the Machine: an absolute
    path such as `/data` in every example of Fly's docs (reference/configuration,
    "The mounts section"). flyctl passes the value to the Machine as it is
    (superfly/flyctl internal/appconfig/machines.go `updateMachineConfig`) and
    does not check it. Where a relative or empty path ends up is not
    documented, so this is a warning: most likely the app writes to a
    directory that is not the volume, on the root file system that is rebuilt
    on every deploy and restart.
    """,
    bad='[[mounts]]\nsource = "data"\ndestination = "data"\n',
    good='[[mounts]]\nsource = "data"\ndestination = "/data"\n',
    family="mounts",
)

DEST_RESERVED = declare(
    "FC202", "mount-destination-reserved", "error",
    "A mount's destination is `/` or a system directory, or two mounts of one group share it.",
    """
    Fly's docs forbid `destination = "/"`, which holds the root file system
    (docs: apps/volume-storage, "You can't mount a volume with destination
    /"): an error. Mounting over `/etc`, `/usr`, `/bin`, `/lib`, `/proc`,
    `/sys`, `/dev` and similar hides what the image put there (or what the
    kernel provides); that the Machine then fails is our reading, not a
    documented rule, so those are warnings. Two mounts of one process group on
    the same destination cannot both be attached (a Machine takes one volume:
    "only 1 volume supported", superfly/flyctl#2625).
    """,
    bad='[[mounts]]\nsource = "data"\ndestination = "/"\n',
    good='[[mounts]]\nsource = "data"\ndestination = "/data"\n',
    family="mounts",
    severities=("warning",),
)

VOLUME_NAME = declare(
    "FC203", "volume-name-invalid", "error",
    "A volume name (`source`) is empty, or has characters other than letters, digits and _.",
    """
    Fly's docs allow only alphanumeric characters and underscores in a volume
    name (Fly Volumes, `fly volumes create`), and `source` must name the volume
    exactly as it was created, so a hyphen or a dot is an error. flyctl does
    not check the name (the mistake surfaces when `fly volumes create` or the
    deploy fails). Upper-case letters and names over 30 characters are
    warnings: the platform has been reported to refuse them (lower-case only,
    at most 30 characters: fly-apps/terraform-provider-fly#213 and later
    reports), which the docs do not say.
    """,
    bad='[[mounts]]\nsource = "my-app-data"\ndestination = "/data"\n',
    good='[[mounts]]\nsource = "my_app_data"\ndestination = "/data"\n',
    family="mounts",
    severities=("warning",),
)

MOUNT_UNKNOWN_GROUP = declare(
    "FC204", "mount-unknown-process-group", "error",
    "A mount's `processes` names a process group that is not defined.",
    """
    flyctl silently drops unknown group names from `processes` when it splits
    the config per group (superfly/flyctl internal/appconfig/processgroups.go
    `Flatten`), so a typo leaves the group you meant without its volume: its
    Machines start with an empty root file system instead.
    """,
    bad='[processes]\napp = "bin/server"\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\nprocesses = ["web"]\n',
    good='[processes]\napp = "bin/server"\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\nprocesses = ["app"]\n',
    family="mounts",
)

MULTIPLE_MOUNTS = declare(
    "FC205", "multiple-mounts-per-process", "error",
    "A process group has more than one mount; a Machine can attach only one volume.",
    """
    After resolving which mounts apply to which group (a mount without
    `processes` applies to the default group), every group may have at most
    one mount. flyctl checks this only on a config split per group, under
    `fly deploy --process-groups` (superfly/flyctl internal/appconfig/
    validation.go `validateMounts`); otherwise the platform rejects the deploy
    with "invalid config.mounts, only 1 volume supported" (superfly/flyctl#2625).
    """,
    bad=('[[mounts]]\nsource = "data"\ndestination = "/data"\n\n'
         '[[mounts]]\nsource = "uploads"\ndestination = "/uploads"\n'),
    good='[[mounts]]\nsource = "data"\ndestination = "/data"\n# keep uploads under /data/uploads\n',
    family="mounts",
)

MOUNT_SIZE = declare(
    "FC206", "mount-size-invalid", "error",
    "A mount's size settings are unparseable or out of range (initial_size, snapshot_retention, auto-extend).",
    """
    flyctl checks these in `fly config validate` and `fly deploy` (superfly/flyctl
    internal/appconfig/validation.go `validateMounts`). Sizes are read with
    docker/go-units v0.5.0 in decimal units and truncated to whole GB
    ("1500MB" is 1 GB, "999MB" is 0, "10Gi" is "invalid suffix: 'gi'"), a
    string of digits or an integer being GB already; `initial_size` must come
    to at least 1 GB. `snapshot_retention` is 1 to 60 days. Auto-extend needs a
    threshold of 50-99 percent and an increment of 1-100 GB; the limit, when
    given, is 1-500 GB (flyctl lets it be left out).
    """,
    bad='[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "500MB"\nauto_extend_size_threshold = 80\n',
    good=('[[mounts]]\nsource = "data"\ndestination = "/data"\ninitial_size = "1GB"\n'
          'auto_extend_size_threshold = 80\nauto_extend_size_increment = "1GB"\nauto_extend_size_limit = "10GB"\n'),
    family="mounts",
)

VOLUME_STRATEGY = declare(
    "FC207", "volume-deploy-strategy", "error",
    "`strategy = \"canary\"` or `\"bluegreen\"` in an app whose Machines mount volumes.",
    """
    Canary and blue-green deploys start extra Machines next to the old ones, and
    a volume can be attached to only one Machine: the new Machine cannot get the
    old one's volume. flyctl refuses canary with mounts ("canary deployment
    strategy is not supported when using mounted volumes", superfly/flyctl
    internal/appconfig/validation.go `validateDeploySection`); Fly's docs
    forbid blue-green with volumes (reference/configuration, `strategy`). Use
    `rolling` or `immediate`.
    """,
    bad='[deploy]\nstrategy = "bluegreen"\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n',
    good='[deploy]\nstrategy = "rolling"\n\n[[mounts]]\nsource = "data"\ndestination = "/data"\n',
    family="mounts",
)

# Directories a volume must never hide. Exact matches, except the kernel's own trees, which
# cover everything below them. /usr/src/app or /etc/letsencrypt are legitimate places.
_RESERVED_EXACT = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin",
    "/sys", "/usr", "/usr/bin", "/usr/lib", "/usr/sbin", "/usr/local", "/usr/local/bin", "/var", "/var/lib",
    "/.fly", "/.fly-upper-layer",
})
_RESERVED_TREES = ("/proc", "/sys", "/dev", "/.fly")


@check("app")
def check_mounts(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    mounts = app.entries("mounts")
    for mount in mounts:
        yield from _destination(app, mount)
        yield from _source(app, mount)
        yield from _sizes(app, mount)
        for i, name in _named_groups(mount):
            if name not in app.group_set:
                defined = listing(app.groups, quote=False)
                yield MOUNT_UNKNOWN_GROUP.diagnostic(
                    doc, mount.key("processes", i),
                    f"mount `{mount.get('source', '?')}` names process group `{name}`, which is not defined "
                    f"(defined: {defined}); flyctl drops it silently",
                    hint=did_you_mean(name, app.groups, cutoff=0.5),
                )
    yield from _per_group(app)


def _named_groups(entry: Entry) -> Iterator[tuple[int, str]]:
    value = entry.get("processes")
    if isinstance(value, list):
        for i, name in enumerate(value):
            if isinstance(name, str):
                yield i, name


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def _looks_like(key: str, wanted: str) -> bool:
    import difflib

    return key != wanted and difflib.SequenceMatcher(None, key, wanted).ratio() >= 0.6


def _destination(app: App, mount: Entry) -> Iterator[Diagnostic]:
    doc = app.fly
    dest = mount.get("destination")
    if dest is None:
        if any(_looks_like(key, "destination") for key in mount.table):
            return  # a misspelt `destination` is already an unknown-key finding
        yield DEST_NOT_ABSOLUTE.diagnostic(
            doc, doc.key_span(mount.path), "mount has no `destination`: the volume is attached nowhere",
            hint='add `destination = "/data"` (an absolute path the app writes to)',
        )
        return
    if not isinstance(dest, str):
        return  # a type problem, reported by invalid-type
    where = doc.value_span(mount.key("destination"))
    if not dest.strip():
        yield DEST_NOT_ABSOLUTE.diagnostic(doc, where, "mount `destination` is empty",
                                           hint='use an absolute path such as "/data"')
        return
    if not dest.startswith("/"):
        yield DEST_NOT_ABSOLUTE.diagnostic(
            doc, where, f"mount destination `{dest}` is not an absolute path",
            hint=f'write `destination = "/{dest.lstrip("./")}"`',
        )
        return
    norm = posixpath.normpath(dest)
    norm = "/" if norm == "//" else norm
    if norm in _RESERVED_EXACT or any(norm.startswith(t + "/") for t in _RESERVED_TREES):
        what = "the root of the file system" if norm == "/" else f"the system directory `{norm}`"
        yield DEST_RESERVED.diagnostic(
            doc, where,
            f"mount destination `{dest}` is {what}: the volume would hide what the image or kernel put there",
            hint='mount the volume on a directory of its own, such as "/data"',
            severity=None if norm == "/" else Severity.WARNING,  # only "/" is forbidden by the docs
        )


def _source(app: App, mount: Entry) -> Iterator[Diagnostic]:
    doc = app.fly
    source = mount.get("source")
    if source is None:
        if any(_looks_like(key, "source") for key in mount.table):
            return
        yield VOLUME_NAME.diagnostic(doc, doc.key_span(mount.path), "mount has no `source` (the volume's name)",
                                     hint='add `source = "data"`, the name given to `fly volumes create`')
        return
    if not isinstance(source, str):
        return
    where = doc.value_span(mount.key("source"))
    if not source:
        yield VOLUME_NAME.diagnostic(doc, where, "mount `source` (the volume's name) is empty")
        return
    problems = []
    documented = False  # the docs' own rule (letters, digits, _), not only the reported platform limits
    bad = sorted({c for c in source if not re.match(r"[A-Za-z0-9_]", c)})
    if bad:
        documented = True
        problems.append("has " + ", ".join(f"`{c}`" for c in bad[:5]) + " (Fly's docs allow letters, digits and _)")
    if any(c.isupper() for c in source):
        problems.append("has upper-case letters (reported to be refused: use a-z)")
    if len(source) > 30:
        problems.append(f"is {len(source)} characters long (reported limit: 30)")
    if problems:
        fixed = re.sub(r"[^a-z0-9_]", "_", source.lower())[:30]
        yield VOLUME_NAME.diagnostic(
            doc, where, f"volume name `{source}` " + " and ".join(problems),
            hint=f'rename it, for example `source = "{fixed}"` (and create the volume with that name)',
            severity=None if documented else Severity.WARNING,
        )


def _sizes(app: App, mount: Entry) -> Iterator[Diagnostic]:
    """Sizes as superfly/flyctl internal/appconfig/validation.go `validateMounts` checks them."""
    doc = app.fly
    label = mount.get("source") if isinstance(mount.get("source"), str) else "?"
    gb: dict[str, int] = {}  # what flyctl goes on with: 0 when unset or unreadable
    for key, hint in (("initial_size", 'write a size such as "1GB" or "10gb", or an integer number of GB'),
                      ("auto_extend_size_increment", 'write a size such as "1GB"'),
                      ("auto_extend_size_limit", 'write a size such as "10GB"')):
        raw = mount.get(key)
        if raw is None or raw == "" or (key != "initial_size" and not isinstance(raw, str)):
            continue  # unset (flyctl skips ""), or a type the schema rules report
        size = mount_size(raw)
        if size is None:
            continue
        where = doc.value_span(mount.key(key))
        if size.amount is None:
            yield MOUNT_SIZE.diagnostic(doc, where, f"mount `{label}`: {key} {_shown(raw)} is not a size "
                                                    f"(flyctl: {size.error})", hint=hint)
            continue
        gb[key] = size.amount
        if size.amount < 1:
            yield MOUNT_SIZE.diagnostic(
                doc, where,
                f"mount `{label}`: {key} {_shown(raw)} is less than 1 GB (flyctl reads it as {size.amount} GB)",
                hint="volumes are at least 1 GB; sizes use decimal units and are truncated to whole GB",
            )
    if "snapshot_retention" in mount.table:
        days = mount.get("snapshot_retention")
        if isinstance(days, int) and not isinstance(days, bool) and not 1 <= days <= 60:
            yield MOUNT_SIZE.diagnostic(doc, doc.value_span(mount.key("snapshot_retention")),
                                        f"mount `{label}`: snapshot_retention {days} is outside 1 to 60 days")
    raw_threshold = mount.get("auto_extend_size_threshold")
    threshold = raw_threshold if isinstance(raw_threshold, int) and not isinstance(raw_threshold, bool) else 0
    increment = gb.get("auto_extend_size_increment", 0)
    limit = gb.get("auto_extend_size_limit", 0)
    if not (threshold or increment or limit):
        return  # zero means unset (`fly launch` writes `auto_extend_size_threshold = 0`)
    example = ('for example: auto_extend_size_threshold = 80, auto_extend_size_increment = "1GB", '
               'auto_extend_size_limit = "10GB"')
    if threshold and not increment and not limit:
        if not any(k in gb or mount.get(k) not in (None, "") for k in ("auto_extend_size_increment",
                                                                          "auto_extend_size_limit")):
            yield MOUNT_SIZE.diagnostic(
                doc, doc.key_span(mount.key("auto_extend_size_threshold")),
                f"mount `{label}`: auto_extend_size_threshold needs auto_extend_size_increment (flyctl: threshold, "
                "increment and limit must be all defined or none)", hint=example)
        return
    if not 50 <= threshold <= 99:
        if threshold:
            yield MOUNT_SIZE.diagnostic(doc, doc.value_span(mount.key("auto_extend_size_threshold")),
                                        f"mount `{label}`: auto_extend_size_threshold {threshold} is outside 50 to 99 "
                                        "percent")
        else:
            first = next(k for k in ("auto_extend_size_increment", "auto_extend_size_limit") if gb.get(k))
            yield MOUNT_SIZE.diagnostic(doc, doc.key_span(mount.key(first)),
                                        f"mount `{label}`: auto-extend needs `auto_extend_size_threshold` (50 to 99 "
                                        "percent)", hint=example)
    if increment > 100:
        yield MOUNT_SIZE.diagnostic(
            doc, doc.value_span(mount.key("auto_extend_size_increment")),
            f"mount `{label}`: auto_extend_size_increment {_shown(mount.get('auto_extend_size_increment'))} is "
            f"{increment} GB, outside 1 to 100 GB")
    elif mount.get("auto_extend_size_increment") in (None, ""):  # (a value under 1 GB is reported above)
        yield MOUNT_SIZE.diagnostic(doc, doc.key_span(mount.key("auto_extend_size_limit" if limit else
                                                                "auto_extend_size_threshold")),
                                    f"mount `{label}`: auto-extend needs `auto_extend_size_increment` (1 to 100 GB)",
                                    hint=example)
    if limit > 500:
        yield MOUNT_SIZE.diagnostic(doc, doc.value_span(mount.key("auto_extend_size_limit")),
                                    f"mount `{label}`: auto_extend_size_limit "
                                    f"{_shown(mount.get('auto_extend_size_limit'))} is {limit} GB, outside 1 to 500 GB")


def _per_group(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    for group in app.groups:
        mounts = app.mounts_of(group)
        if len(mounts) > 1:
            first = doc.key_span(mounts[0].path)
            for extra in mounts[1:]:
                yield MULTIPLE_MOUNTS.diagnostic(
                    doc, doc.key_span(extra.path),
                    f"process group `{group}` gets a second mount here (the first is on line {first.line}); "
                    "a Machine can attach only one volume",
                    hint="keep one mount per group and use subdirectories of it, or give each mount its own "
                         "`processes`",
                )
        seen: dict[str, Entry] = {}
        for mount in mounts:
            dest = mount.get("destination")
            if not isinstance(dest, str) or not dest.startswith("/"):
                continue
            key = posixpath.normpath(dest)
            if key in seen:
                yield DEST_RESERVED.diagnostic(
                    doc, doc.value_span(mount.key("destination")),
                    f"process group `{group}` mounts two volumes on `{dest}`",
                )
            seen[key] = mount
    strategy = (app.data.get("deploy") or {}).get("strategy") if isinstance(app.data.get("deploy"), dict) else None
    if strategy in ("canary", "bluegreen"):
        mounted = app.mounted_groups()
        if mounted:
            yield VOLUME_STRATEGY.diagnostic(
                doc, doc.value_span(("deploy", "strategy")),
                f"strategy `{strategy}` starts new Machines beside the old ones, but group"
                f"{'s' if len(mounted) > 1 else ''} {', '.join(f'`{g}`' for g in mounted)} mount"
                f"{'' if len(mounted) > 1 else 's'} a volume, which only one Machine can hold",
                hint='use `strategy = "rolling"` (the default) or "immediate"',
            )
