"""`flyconf fix` on real apps (issue 13, "Kept in CI"): every corpus app with a fixable finding, as committed
upstream and derived from it (CRLF line ends, a UTF-8 BOM, fly.toml with mode 0o640, the Dockerfile a symlink to
a file inside the project).

Each run checks: the exit code; no fixable finding is left; a second fix changes nothing, byte for byte; every
fly.toml still parses (tomllib) and every Dockerfile still parses (flyconf's parser, as BuildKit does); every
comment line is still there; no line ends of another kind are introduced; the BOM, the modes and the symlinks
are kept; and a derived app ends up as the app as committed does, but for its line ends and BOM.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

import pytest

from flyconf.discover import is_dockerfile_name
from flyconf.lint import run
from flyconf.sources.base import ReadFailure
from flyconf.sources.dockerfile import parse_dockerfile
from tests.conftest import CORPUS, needs_shared
from tests.hostile.helpers import Entry, check_outcome, cli, copy_app, inside, snapshot

# The corpus apps in which `flyconf lint` marks a finding [*] (test_the_list_is_every_fixable_app keeps it true).
FIXABLE_APPS = (
    "DeeterCesler__sequel-bank",
    "DevOrtega__portfolio",
    "LycheeOrg__Lychee",
    "PureChart__purechart-website",
    "Wint3rmute__Require",
    "em429__remember",
    "epicweb-dev__node-sqlite-fly-tutorial",
    "fly-apps__actioncable-tester",
)
if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

BOM = b"\xef\xbb\xbf"
pytestmark = needs_shared(CORPUS)


def _is_flytoml(name: str) -> bool:
    return name.startswith("fly") and name.endswith(".toml")


def _is_config(rel: str) -> bool:
    """The files fix edits or may edit: fly.toml files, Dockerfiles, app configuration (database.yml...)."""
    name = os.path.basename(rel)
    return _is_flytoml(name) or is_dockerfile_name(name) or name.endswith((".yml", ".yaml"))


# -- the derived apps ---------------------------------------------------------------------------------------------

def _each_config(app: Path, change: Callable[[Path], None]) -> None:
    for path in sorted(app.rglob("*")):
        if path.is_file() and not path.is_symlink() and _is_config(str(path.relative_to(app))):
            change(path)


def _crlf(app: Path) -> None:
    def change(path: Path) -> None:
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    _each_config(app, change)


def _bom(app: Path) -> None:
    def change(path: Path) -> None:
        if _is_flytoml(path.name) or is_dockerfile_name(path.name):
            data = path.read_bytes()
            path.write_bytes(data if data.startswith(BOM) else BOM + data)
    _each_config(app, change)


def _mode(app: Path) -> None:
    for path in app.rglob("fly*.toml"):
        path.chmod(0o640)


def _symlinked_dockerfile(app: Path) -> None:
    """Each Dockerfile becomes a link to `real-dockerfile` beside it (a name that is not a Dockerfile's)."""
    for path in sorted(app.rglob("*")):
        if path.is_file() and not path.is_symlink() and is_dockerfile_name(path.name):
            target = path.with_name(f"real-{path.name}")
            path.rename(target)
            path.symlink_to(target.name)


VARIANTS: dict[str, Callable[[Path], None] | None] = {
    "as-committed": None, "crlf": _crlf, "bom": _bom, "mode-0640": _mode, "dockerfile-symlink": _symlinked_dockerfile,
}


def _normal(data: bytes) -> bytes:
    """Content without its BOM and with LF line ends: how derived apps compare with the app as committed."""
    return data.removeprefix(BOM).replace(b"\r\n", b"\n")


def _endings(data: bytes) -> set[str]:
    crlf = data.count(b"\r\n")
    return {kind for kind, n in (("crlf", crlf), ("lf", data.count(b"\n") - crlf)) if n}


def _comments(data: bytes) -> list[str]:
    return [line.strip() for line in _normal(data).decode("utf-8", "replace").split("\n")
            if line.strip().startswith("#") and len(line.strip()) > 1]


def _fix(app: Path) -> dict[str, Entry]:
    with inside(app):
        outcome = cli(["fix", "."])
    check_outcome(outcome)
    assert outcome.code in (0, 1), outcome.err
    return snapshot(app)


def _content(app: Path, rel: str) -> bytes:
    return (app / rel).read_bytes()


def _check_parses(app: Path, before: dict[str, Entry], after: dict[str, Entry]) -> None:
    """What parsed before fix still parses after it."""
    for rel in after:
        path = app / rel
        if rel not in before or not path.is_file():
            continue
        old, new = _content_of(app, before, rel), path.read_bytes()
        if _is_flytoml(path.name) and _parses_toml(old):
            assert _parses_toml(new), f"{rel} no longer parses as TOML after fix"
        if is_dockerfile_name(path.name) and _parses_dockerfile(old, rel):
            assert _parses_dockerfile(new, rel), f"{rel} no longer parses as a Dockerfile after fix"


def _content_of(app: Path, snap: dict[str, Entry], rel: str) -> bytes:
    entry = snap[rel]
    if entry.content is not None:
        return entry.content
    assert entry.link is not None
    target = os.path.normpath(os.path.join(os.path.dirname(rel), entry.link))
    return _content_of(app, snap, target)


def _parses_toml(data: bytes) -> bool:
    try:
        tomllib.loads(_normal(data).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return True


def _parses_dockerfile(data: bytes, rel: str) -> bool:
    return not isinstance(parse_dockerfile(_normal(data).decode("utf-8", "replace"), rel), ReadFailure)


def _check_kept(app: Path, before: dict[str, Entry], after: dict[str, Entry]) -> None:
    """Comments, line ends, BOM, modes and links of every file that was there before."""
    for rel, old in before.items():
        assert rel in after, f"fix removed {rel}"
        new = after[rel]
        if old.link is not None:
            assert new.link == old.link, f"{rel} was a link to {old.link}; after fix: {new}"
            continue
        assert new.link is None and new.content is not None and old.content is not None
        assert new.mode == old.mode, f"{rel}: mode {old.mode:o} became {new.mode:o}"
        if new.content == old.content:
            continue
        assert new.content.startswith(BOM) == old.content.startswith(BOM), f"{rel}: the BOM was not kept"
        if _endings(old.content):
            assert _endings(new.content) <= _endings(old.content), f"{rel}: line ends {_endings(new.content)}"
        text = _normal(new.content).decode("utf-8", "replace")
        for comment in _comments(old.content):
            assert comment in text, f"{rel}: the comment {comment!r} is gone"
    for rel, new in after.items():
        if rel not in before and new.content is not None and new.content.startswith(b"#!"):
            assert b"\r" not in new.content, f"fix wrote {rel}, a script, with CR line ends"


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Entry]]:
    """Each app as committed, fixed: what the derived apps must end up as (but for line ends and BOM)."""
    results = {}
    for name in FIXABLE_APPS:
        app = copy_app(name, tmp_path_factory.mktemp("committed"))
        results[name] = _fix(app)
    return results


def _params() -> list[object]:
    # Before issue 13's fixes, fix dropped a UTF-8 BOM and wrote a regular file over a symlinked Dockerfile.
    return [pytest.param(app, variant, id=f"{app}-{variant}") for app in FIXABLE_APPS for variant in VARIANTS]


@pytest.mark.parametrize(("name", "variant"), _params())
def test_fix_on_a_real_app(tmp_path: Path, committed: dict[str, dict[str, Entry]], name: str, variant: str) -> None:
    app = copy_app(name, tmp_path)
    derive = VARIANTS[variant]
    if derive is not None:
        derive(app)
    before = snapshot(app)
    with inside(app):
        assert any(d.fixable for d in run(["."]).diagnostics), "nothing to fix: the case tests nothing"
    after = _fix(app)
    assert after != before, "fix changed nothing"
    with inside(app):
        left = [(d.path, d.line, d.column, d.code) for d in run(["."]).diagnostics if d.fixable]
    assert not left, f"fixable findings left after fix: {left}"
    assert _fix(app) == after, "a second fix changed something"
    _check_parses(app, before, after)
    _check_kept(app, before, after)
    expected = committed[name]
    assert sorted(after) == sorted(_renamed(expected, variant)), "fix wrote other files than on the app as committed"
    for rel in after:
        mine, theirs = _content_of(app, after, rel), expected[_original_name(rel, variant)]
        assert theirs.content is not None
        assert _normal(mine) == _normal(theirs.content), f"{rel} differs from the fixed app as committed"


def _original_name(rel: str, variant: str) -> str:
    """The file of the app as committed that ``rel`` of the derived app stands for."""
    head, base = os.path.split(rel)
    if variant == "dockerfile-symlink" and base.startswith("real-") and is_dockerfile_name(base[5:]):
        return os.path.join(head, base[5:])
    return rel


def _renamed(snap: dict[str, Entry], variant: str) -> list[str]:
    names = list(snap)
    if variant == "dockerfile-symlink":
        names += [os.path.join(os.path.dirname(rel), f"real-{os.path.basename(rel)}")
                  for rel in snap if is_dockerfile_name(os.path.basename(rel))]
    return names


def test_the_list_is_every_fixable_app() -> None:
    """FIXABLE_APPS is every corpus app in which lint marks a finding [*] (none missed, none stale)."""
    report = run([CORPUS])
    root = CORPUS.resolve()
    apps = {Path(d.path).resolve().relative_to(root).parts[0] for d in report.diagnostics if d.fixable}
    assert apps == set(FIXABLE_APPS)
