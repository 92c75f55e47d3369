"""The distribution name, licence and install instructions agree everywhere a user copies them from."""

from __future__ import annotations

import re
import sys

import yaml

from flyconf.report import sarif
from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
README = (REPO / "README.md").read_text()
NAME = "flyconf-lint"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_distribution_is_flyconf_lint_with_the_flyconf_command_and_package():
    project = PYPROJECT["project"]
    assert project["name"] == NAME
    assert project["scripts"] == {"flyconf": "flyconf.cli:main"}
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["flyconf"]


def test_license_file_matches_pyproject():
    assert PYPROJECT["project"]["license"] == "MIT"
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert re.search(r"^Copyright \(c\) \d{4} flyconf developers$", text, re.M)
    assert "LICENSE" in PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_sarif_points_at_the_distribution():
    assert sarif.INFORMATION_URI == f"https://pypi.org/project/{NAME}/"


def test_readme_install_commands_name_the_distribution():
    commands = [line for block in _blocks("sh") for line in block.splitlines()
                if re.search(r"\b(pip|pipx|uv tool) install\b", line)]
    from_index = [c for c in commands if not re.search(r"install (-e )?['\"]?\.", c)]  # not the checkout
    assert len(from_index) >= 3
    for command in from_index:
        assert NAME in command or "git+https://" in command, command
    assert not re.search(r"install\s+['\"]?flyconf(?!-lint)\b", README)


def test_buildkit_parser_is_only_a_test_oracle():
    assert not any(d.startswith("dockerfile") for d in PYPROJECT["project"]["dependencies"])
    (oracle,) = [d for d in PYPROJECT["project"]["optional-dependencies"]["test"] if d.startswith("dockerfile")]
    assert ";" in oracle  # a marker: only where a wheel exists


def test_ci_runs_the_readme_test_command_first_then_again_without_buildkit():
    # The README's test command; the other pytest line is the long fuzzing run, which CI does not make.
    (command, fuzz) = [line for block in _blocks("sh") for line in block.splitlines() if "pytest" in line]
    assert fuzz.startswith("FLYCONF_FUZZ_EXAMPLES=")
    ci = (REPO / ".ci" / "run").read_text()
    runs = [line for line in ci.splitlines() if "pytest" in line and not line.lstrip().startswith("#")]
    assert runs[0] == command
    # The second run: the tests that compare with BuildKit's parser, or could differ without it.
    assert runs[1:] == ['.venv/bin/python -m pytest -m "not packaging" tests/sources tests/corpus tests/test_cli.py '
                        'tests/test_api.py \\']
    assert ci.index("pip uninstall -y -q dockerfile") < ci.rindex(runs[1])


def test_readme_pre_commit_snippet_pins_a_tag_of_this_hook():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    snippets = [yaml.safe_load(b) for b in _blocks("yaml") if "repos:" in b]
    (config,) = snippets
    (repo,) = config["repos"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"])
    assert [h["id"] for h in repo["hooks"]] == [hook["id"]]


def test_readme_workflows_use_the_action_with_its_inputs():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    workflows = [yaml.safe_load(b) for b in _blocks("yaml") if "jobs:" in b]
    assert len(workflows) == 2
    modes = set()
    for workflow in workflows:
        steps = workflow["jobs"]["flyconf"]["steps"]
        (step,) = [s for s in steps if s.get("uses", "").endswith("/flyconf@v0.1.0")]
        assert set(step["with"]) <= set(action["inputs"])
        modes.add(step["with"].get("sarif", "false"))
        if step["with"].get("sarif") == "true":
            assert workflow["permissions"]["security-events"] == "write"
    assert modes == {"true", "false"}
