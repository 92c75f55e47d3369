"""The GitHub Action (action.yml): its structure, and its scripts run the way a runner runs them.

A small runner emulation executes the composite action's steps in order: `if:` conditions and
`${{ }}` expressions in `env:` are evaluated (only the simple forms the action uses; anything else
fails the test), `run:` scripts run under bash with the step's environment, and GITHUB_OUTPUT and
GITHUB_PATH work as on GitHub. `uses:` steps are not run; the test checks what they would be given.
Installation is real (a fresh virtual environment, pip, this checkout) but offline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.offline_pip import HAVE_BUILD_BACKEND, needs_build_backend, offline_env, offline_site  # noqa: F401

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
BAD_FLY = 'app = "x"\n[[mounts]]\nsource = "data"\ndestinaton = "/data"\n'
GOOD_FLY = 'app = "x"\n[[mounts]]\nsource = "data"\ndestination = "/data"\n'


# -- structure --------------------------------------------------------------------------------------------

def test_action_is_composite_with_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert set(inputs) == {"paths", "version", "sarif", "sarif-file", "fail-on", "args", "python-version"}
    for name, spec in inputs.items():
        assert spec["description"].strip() and isinstance(spec["default"], str), name
        assert spec.get("required", False) is False, name
    assert inputs["paths"]["default"] == "." and inputs["sarif"]["default"] == "false"
    assert inputs["fail-on"]["default"] == "warning" and inputs["version"]["default"] == ""
    assert set(ACTION["outputs"]) == {"exit-code", "sarif-file"}


def test_steps_run_bash_and_take_inputs_only_through_env():
    steps = ACTION["runs"]["steps"]
    ids = {s.get("id") for s in steps}
    used_inputs: set[str] = set()
    for step in steps:
        assert step.get("name"), step
        if "run" in step:
            assert step["shell"] == "bash", step["name"]
            # An input spliced into the script would be executed as shell code; env keeps it data.
            assert "${{" not in step["run"], step["name"]
            assert step["run"].lstrip().startswith(("set -eu", "echo")), step["name"]
        else:
            assert "@v" in step["uses"], step["name"]  # pinned to a major version
        texts = [str(v) for v in (step.get("env") or {}).values()] + [str(v) for v in (step.get("with") or {}).values()]
        texts.append(str(step.get("if", "")))
        for text in texts:
            for ref in re.findall(r"inputs\.([\w-]+)", text):
                assert ref in ACTION["inputs"], ref
                used_inputs.add(ref)
            for ref in re.findall(r"steps\.([\w-]+)\.", text):
                assert ref in ids, ref
    assert used_inputs == set(ACTION["inputs"])  # every input does something
    for output in ACTION["outputs"].values():
        (ref,) = re.findall(r"steps\.([\w-]+)\.outputs", output["value"])
        assert ref in ids
    uploads = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    (upload,) = uploads
    assert "inputs.sarif == 'true'" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.lint.outputs.sarif-file }}"


def test_action_installs_the_flyconf_lint_distribution():
    (install,) = [s for s in ACTION["runs"]["steps"] if s.get("id") == "install"]
    assert 'spec="flyconf-lint==$FLYCONF_VERSION"' in install["run"]
    assert install["env"]["FLYCONF_SOURCE"] == "${{ github.action_path }}"  # by default: the action's own ref


def test_action_scripts_pass_shellcheck(tmp_path: Path):
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (test extra)")
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            continue
        script = tmp_path / "step.sh"
        script.write_text("#!/bin/bash\n" + step["run"])
        proc = subprocess.run(["shellcheck", "-s", "bash", str(script)], capture_output=True, text=True)
        assert proc.returncode == 0, step["name"] + "\n" + proc.stdout


# -- running it -------------------------------------------------------------------------------------------

@dataclass
class Run:
    steps: list[tuple[str, int | None, str]] = field(default_factory=list)  # (name, status (None: `uses`), output)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    uses: dict[str, dict[str, str]] = field(default_factory=dict)  # what each `uses:` step would get
    path_added: dict[str, list[str]] = field(default_factory=dict)  # step id -> its GITHUB_PATH lines
    failed: bool = False

    def step(self, name: str) -> tuple[int | None, str]:
        (found,) = [(status, out) for n, status, out in self.steps if n == name]
        return found

    @property
    def names(self) -> list[str]:
        return [n for n, _, _ in self.steps]


def _value(expr: str, inputs: dict[str, str], ctx: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    m = re.fullmatch(r"inputs\.([\w-]+)", expr)
    if m:
        return inputs[m.group(1)]
    m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
    if m:
        return outputs.get(m.group(1), {}).get(m.group(2), "")
    m = re.fullmatch(r"'([^']*)'", expr)
    if m:
        return m.group(1)
    if expr in ctx:
        return ctx[expr]
    raise AssertionError(f"the emulation does not know the expression {expr!r}")


def _render(text: str, *args: object) -> str:
    return EXPRESSION.sub(lambda m: _value(m.group(1), *args), text)  # type: ignore[arg-type]


def _condition(cond: str, *args: object) -> bool:
    result = True
    for part in cond.split("&&"):
        m = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*(\S+)\s*", part)
        assert m, f"the emulation does not know the condition {part!r}"
        left, right = _value(m.group(1), *args), _value(m.group(3), *args)  # type: ignore[arg-type]
        result = result and ((left == right) if m.group(2) == "==" else (left != right))
    return result


def run_action(workspace: Path, temp: Path, given: dict[str, str], env: dict[str, str], *,
               installed: Run | None = None) -> Run:
    """Run action.yml's steps as a runner would, in ``workspace``, with the inputs ``given``.

    With ``installed``, the install step is taken from that earlier run (its output and the PATH entry
    it added) instead of being run again: installing takes seconds, and one test checks it fully.
    """
    inputs = {name: spec["default"] for name, spec in ACTION["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, unknown
    inputs.update(given)
    ctx = {"github.action_path": str(REPO), "runner.temp": str(temp)}
    run = Run()
    path_file, extra_path = temp / "github_path", []
    for step in ACTION["runs"]["steps"]:
        name = step["name"]
        if "if" in step and not _condition(step["if"], inputs, ctx, run.outputs):
            continue
        if run.failed:
            continue  # a failed step stops the job: later steps have no `always()`
        if "uses" in step:
            run.uses[step["uses"]] = {k: _render(str(v), inputs, ctx, run.outputs) for k, v in step["with"].items()}
            run.steps.append((name, None, ""))
            continue
        if installed is not None and step.get("id") == "install":
            run.steps.append((name, *installed.step(name)))
            run.outputs["install"] = installed.outputs["install"]
            extra_path = installed.path_added["install"] + extra_path
            continue
        output_file = temp / f"output-{step['id'] if 'id' in step else len(run.steps)}"
        output_file.write_text("")
        path_file.write_text("")
        step_env = dict(env)
        step_env.update({k: _render(str(v), inputs, ctx, run.outputs) for k, v in (step.get("env") or {}).items()})
        step_env.update({"GITHUB_OUTPUT": str(output_file), "GITHUB_PATH": str(path_file),
                         "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp)})
        step_env["PATH"] = os.pathsep.join(extra_path + [env["PATH"]])
        # GitHub runs a bash step as `bash --noprofile --norc -eo pipefail {0}`.
        script = temp / "step.sh"
        script.write_text(step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env=step_env, capture_output=True, text=True, timeout=600)
        run.steps.append((name, proc.returncode, proc.stdout + proc.stderr))
        if "id" in step:
            run.outputs[step["id"]] = dict(
                line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
        added = [p for p in path_file.read_text().splitlines() if p]
        run.path_added[step.get("id", name)] = added
        extra_path = added + extra_path
        run.failed = proc.returncode != 0
    return run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "fly.toml").write_text(BAD_FLY)
    (repo / "deploy" / "fly.toml").write_text(GOOD_FLY)
    return repo


def _runner_env(site: Path) -> dict[str, str]:
    env = offline_env(site)
    env.pop("VIRTUAL_ENV", None)
    # python3 on PATH is the interpreter running the tests, as a runner's python3 would be.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, offline_site: Path) -> Run:
    """The action installed once from this checkout (its default), for the tests of what comes after."""
    if not HAVE_BUILD_BACKEND or shutil.which("bash") is None or shutil.which("git") is None:
        pytest.skip("needs hatchling, bash and git")
    scratch = tmp_path_factory.mktemp("scratch")
    (scratch / "fly.toml").write_text(GOOD_FLY)
    run = run_action(scratch, tmp_path_factory.mktemp("runner"), {}, _runner_env(offline_site))
    assert run.step("Install flyconf")[0] == 0, run.step("Install flyconf")[1]
    return run


needs_bash_and_git = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("git") is None,
                                        reason="bash and git are needed to run the action's steps")
packaging = pytest.mark.packaging


@packaging
def test_installs_from_its_own_checkout_into_the_runners_temp(installed: Run):
    assert installed.names == ["Install flyconf", "Lint"] and not installed.failed
    status, out = installed.step("Install flyconf")
    assert status == 0 and re.search(r"^flyconf \d+\.\d+", out, re.M), out
    (bin_dir,) = installed.path_added["install"]
    assert Path(bin_dir).parent.name == "flyconf-venv" and (Path(bin_dir) / "flyconf").exists()
    assert installed.step("Lint") == (0, "")  # the scratch project's fly.toml is clean


@packaging
@needs_build_backend
@needs_bash_and_git
def test_annotations_on_findings_fail_the_step(workspace: Path, tmp_path: Path, installed: Run,
        offline_site: Path):
    run = run_action(workspace, tmp_path, {}, _runner_env(offline_site), installed=installed)
    assert run.names == ["Install flyconf", "Lint"]
    status, out = run.step("Lint")
    assert status == 1, out
    assert ("::error file=fly.toml,line=4,col=1,endLine=4,endColumn=11,title=FC101 unknown-key::"
            "unknown key `destinaton` in `mounts[0]`") in out
    assert "deploy/fly.toml" not in out  # the good file has nothing to say
    assert run.outputs["lint"]["exit-code"] == "1" and "sarif-file" not in run.outputs["lint"]


@packaging
@needs_build_backend
@needs_bash_and_git
def test_sarif_is_written_uploaded_and_then_fails_the_job(workspace: Path, tmp_path: Path, installed: Run,
        offline_site: Path):
    env = _runner_env(offline_site)
    run = run_action(workspace, tmp_path, {"sarif": "true", "paths": "fly.toml deploy"}, env, installed=installed)
    assert run.names == ["Install flyconf", "Lint", "Upload SARIF to code scanning", "Fail on findings"]
    assert run.step("Lint")[0] == 0  # the upload must still happen
    assert run.outputs["lint"] == {"exit-code": "1", "sarif-file": "flyconf.sarif"}
    assert run.uses["github/codeql-action/upload-sarif@v4"] == {"sarif_file": "flyconf.sarif", "category": "flyconf"}
    log = json.loads((workspace / "flyconf.sarif").read_text())
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://pypi.org/project/flyconf-lint/"
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "FC101"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "fly.toml"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert result["locations"][0]["physicalLocation"]["region"]["startColumn"] == 1
    status, out = run.step("Fail on findings")
    assert status == 1 and "see the code scanning alerts" in out


@packaging
@needs_build_backend
@needs_bash_and_git
def test_clean_paths_pass_in_both_modes(workspace: Path, tmp_path: Path, installed: Run,
        offline_site: Path):
    env = _runner_env(offline_site)
    run = run_action(workspace, tmp_path, {"paths": "deploy"}, env, installed=installed)
    assert run.step("Lint") == (0, "") and not run.failed
    run = run_action(workspace, tmp_path, {"paths": "deploy/fly.toml", "sarif": "true"}, env, installed=installed)
    assert run.names == ["Install flyconf", "Lint", "Upload SARIF to code scanning"]
    assert run.outputs["lint"]["exit-code"] == "0"
    assert json.loads((workspace / "flyconf.sarif").read_text())["runs"][0]["results"] == []


@packaging
@needs_build_backend
@needs_bash_and_git
def test_fail_on_and_args_reach_flyconf(workspace: Path, tmp_path: Path, installed: Run,
        offline_site: Path):
    env = _runner_env(offline_site)
    run = run_action(workspace, tmp_path, {"fail-on": "never"}, env, installed=installed)
    status, out = run.step("Lint")
    assert status == 0 and "title=FC101 unknown-key" in out
    run = run_action(workspace, tmp_path, {"fail-on": "error"}, env, installed=installed)
    assert run.step("Lint")[0] == 1
    run = run_action(workspace, tmp_path, {"args": "--ignore FC101  --select FC1"}, env, installed=installed)
    assert run.step("Lint") == (0, "")
    run = run_action(workspace, tmp_path, {"fail-on": "sometimes"}, env, installed=installed)
    status, out = run.step("Lint")
    assert status == 2 and "fail-on must be error, warning, info or never, not 'sometimes'" in out
    assert run.outputs["lint"]["exit-code"] == "2"


@packaging
@needs_build_backend
@needs_bash_and_git
def test_version_input_pins_the_distribution(workspace: Path, tmp_path: Path, offline_site: Path):
    # A local wheel stands in for PyPI: pip finds flyconf-lint there by name and version.
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                           env=offline_env(offline_site), capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("flyconf_lint-*.whl")
    version = wheel.name.split("-")[1]
    env = _runner_env(offline_site)
    env["PIP_FIND_LINKS"] = str(wheels)
    run = run_action(workspace, tmp_path, {"version": version}, env)
    status, out = run.step("Install flyconf")
    assert status == 0 and f"flyconf {version}" in out, out
    assert run.step("Lint")[0] == 1
