"""Each Compose service as an App, and where each of its SQLite databases lives.

A service with `build:` has a build context and a Dockerfile: its App reads them like a fly.toml's
(ENV, WORKDIR, COPY, the app's configuration files) and runs the same database discovery. A service
with only `image:` has only what Compose says: its environment. The environment readers see is the
service's `environment` and `env_file` over the Dockerfile's ENV (Compose overrides ENV); the working
directory is the service's `working_dir`, else the image's WORKDIR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flyconf.app import App
from flyconf.compose.project import ANONYMOUS, BIND, IMAGE_VOLUME, TMPFS, UNKNOWN, VOLUME, Mount, Project, Service
from flyconf.databases.model import Location
from flyconf.sources.base import is_directory, is_regular_file, project_root

if TYPE_CHECKING:
    from flyconf.assemble import Workspace
    from flyconf.databases.model import Found
    from flyconf.diagnostics import Diagnostic


@dataclass
class ServiceApp:
    """A service with its App (None-free: an image-only service gets an App with no build context)."""

    service: Service
    app: App
    findings: list["Diagnostic"] = field(default_factory=list)  # reading its Dockerfile

    @property
    def name(self) -> str:
        return self.service.name

    def databases(self) -> list["Found"]:
        """SQLite databases with an absolute path in the container."""
        return [d for d in self.app.databases if d.path is not None and d.path.startswith("/")]


@dataclass(frozen=True)
class Placement:
    """Where a database of a service lives.

    ``kind``: "volume" (a named volume), "bind" (a bind mount), "anonymous" (an anonymous volume,
    also the image's VOLUME), "tmpfs", "none" (the container's writable layer), "replicated"
    (Litestream restores it at start-up), "unknown" (LiteFS, a mount flyconf cannot read).
    """

    kind: str
    mount: Mount | None = None

    @property
    def keeps_data(self) -> bool:
        return self.kind in (VOLUME, BIND, "replicated")


def service_apps(project: Project, ws: "Workspace") -> list[ServiceApp]:
    from flyconf.assemble import DOCKERFILE, attach_scripts

    out: list[ServiceApp] = []
    for service in project.services.values():
        findings: list[Diagnostic] = []
        directory = None
        dockerfile = None
        build = service.build
        if build is not None and build.context is not None and is_directory(build.context):
            directory = build.context
            if build.dockerfile is not None and is_regular_file(build.dockerfile):
                first = project.files[0].fs_path if project.files else None
                root = project_root(first.parent) if first is not None else None
                loaded = ws.load(build.dockerfile, DOCKERFILE, within=root)
                findings.extend(loaded.findings)
                dockerfile = loaded.doc
            elif build.dockerfile is not None:
                service.notes.append(f"the Dockerfile {build.dockerfile} is not there: the image is not known")
        elif build is not None and build.context is not None:
            service.notes.append(f"the build context {build.context_raw} is not there")
        app = App(None, directory=directory, dockerfile=dockerfile, compose_service=service)
        app.read_document = ws.reader(directory)
        attach_scripts(app, ws, findings)
        out.append(ServiceApp(service, app, findings))
    return out


def image_volumes(sa: ServiceApp) -> list[Mount]:
    """The image's `VOLUME` paths that no Compose mount covers: Docker gives each an anonymous volume."""
    app = sa.app
    if app.image is None or app.dockerfile is None:
        return []
    out = []
    for path, ins in app.image.volumes:
        if not path.startswith("/"):
            continue
        from flyconf.databases.model import normpath

        target = normpath(path)
        if any(m.target == target for m in sa.service.mounts):
            continue  # Compose mounts something there itself
        out.append(Mount(IMAGE_VOLUME, target, Location(app.dockerfile, app.dockerfile.instruction_span(ins)),
                         origin="the image's VOLUME"))
    return out


def placement(sa: ServiceApp, db: "Found") -> Placement:
    """Where ``db`` lives for this service: the deepest mount that holds its path, or none."""
    from flyconf.app import is_under

    app = sa.app
    path = db.path
    if path is None:
        return Placement("unknown")
    litestream = app.litestream
    if litestream is not None and (not litestream.paths or any(path == p for p, _at in litestream.paths)):
        return Placement("replicated")
    if app.litefs_serving(path) is not None:
        return Placement("unknown")  # LiteFS keeps the data in its own directory; not judged here
    if app.uses_litefs and (app.runs_litefs is None or app.runs_litefs.fuse_dir is None):
        return Placement("unknown")  # LiteFS's FUSE directory may well be this path
    mount = sa.service.mount_containing(path)
    image_mount = None
    for m in image_volumes(sa):
        if m.target is not None and is_under(path, m.target) and (
                image_mount is None or len(m.target) > len(image_mount.target or "")):
            image_mount = m
    if image_mount is not None and (mount is None or len(image_mount.target or "") > len(mount.target or "")):
        mount = image_mount
    if mount is None:
        if any(m.type == UNKNOWN and m.target is None for m in sa.service.mounts):
            return Placement("unknown")  # a mount whose target flyconf cannot see may hold it
        return Placement("none")
    kind = {VOLUME: VOLUME, BIND: BIND, TMPFS: TMPFS, ANONYMOUS: ANONYMOUS, IMAGE_VOLUME: ANONYMOUS}.get(mount.type)
    return Placement(kind or "unknown", mount)




def anchor(sa: ServiceApp, db: "Found") -> Location:
    """Where a finding about ``db`` in this service goes: its declaration when that is in a Compose file
    of the project, else the service's name (the fix belongs in the Compose file)."""
    from flyconf.sources.compose import ComposeFile

    if isinstance(db.declared.doc, ComposeFile) and sa.service.defines(db.declared):
        return db.declared
    return sa.service.at



@dataclass
class ComposeUnit:
    """What the Compose rules look at: a project and its services as Apps."""

    project: Project
    services: list[ServiceApp]
