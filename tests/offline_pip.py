"""Installing flyconf from this checkout with pip, without any network.

The GitHub Action and the pre-commit hook each pip-install flyconf into a fresh virtual environment.
Tests run them for real but offline: pip gets no index and no configuration, any network access goes
to a closed local port, the build backend runs without isolation, and flyconf's dependencies and
hatchling are found on PYTHONPATH: a directory of links to the packages of the environment running the
tests, flyconf itself left out (else pip would take the installed flyconf-lint for the one to install).
pip honours all of these through its own PIP_* variables, so the scripts under test run unchanged.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sysconfig
from pathlib import Path

import pytest

HAVE_BUILD_BACKEND = importlib.util.find_spec("hatchling") is not None
needs_build_backend = pytest.mark.skipif(
    not HAVE_BUILD_BACKEND, reason="hatchling (test extra) is needed to build flyconf without an index")

_CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, so any download fails at once
# flyconf's own files in site-packages: its package, its metadata, an editable install's hooks.
_FLYCONF = re.compile(r"(flyconf|flyconf[-_]lint-.*\.dist-info|flyconf-.*\.dist-info|.*editable.*flyconf.*|_flyconf.*)",
                      re.IGNORECASE)


def dependency_dir(scratch: Path) -> Path:
    """Links to every package installed beside the tests, except flyconf."""
    target = scratch / "site-packages"
    target.mkdir()
    paths = sysconfig.get_paths()
    for base in dict.fromkeys([paths["purelib"], paths["platlib"]]):
        for entry in sorted(Path(base).iterdir()):
            if not _FLYCONF.fullmatch(entry.name) and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="session")
def offline_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dependency_dir(tmp_path_factory.mktemp("offline"))


def offline_env(site: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with pip offline and the packages in ``site`` visible."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.upper().startswith("PIP_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    paths = [str(site)]
    env.update({
        "PIP_CONFIG_FILE": os.devnull,  # no pip.conf: no extra index, find-links or constraints from the machine
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip reads this negative option inverted: "0" turns isolation off
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONPATH": os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])),
        "http_proxy": _CLOSED, "https_proxy": _CLOSED, "HTTP_PROXY": _CLOSED, "HTTPS_PROXY": _CLOSED,
        "NO_COLOR": "1",
    })
    return env
