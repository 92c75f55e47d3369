"""Rule documentation: docs/rules.md is generated and current, every rule's URL has its anchor, every
example does what it shows, and `explain`, `schema` and the reporters point at the documentation."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
from pathlib import Path

import pytest

from flyconf import lint_paths, lint_text, registry
from flyconf.cli import main
from flyconf.meta import REPOSITORY_URL, RULES_DOC_URL
from flyconf.ruledocs import REGENERATE, render_markdown

REPO = Path(__file__).resolve().parent.parent
RULES_MD = REPO / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date():
    current = RULES_MD.read_text(encoding="utf-8") if RULES_MD.is_file() else ""
    assert current == render_markdown(), f"docs/rules.md is out of date; regenerate it with: {REGENERATE}"


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_rule_url_has_its_anchor_in_docs_rules_md():
    headings, fence = [], None
    for line in RULES_MD.read_text(encoding="utf-8").splitlines():
        if fence is None and line.startswith("```"):
            fence = re.match(r"`+", line).group()  # type: ignore[union-attr]
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None and (m := re.match(r"#{1,6} (.+)$", line)):
            headings.append(m.group(1))
    anchors = [github_slug(h) for h in headings]
    assert len(anchors) == len(set(anchors))  # no heading shadows another
    for rule in registry.all_rules():
        assert rule.url == f"{RULES_DOC_URL}#{rule.anchor}"
        assert rule.url.startswith(REPOSITORY_URL + "/")
        assert rule.anchor in anchors, rule.code


# -- examples -------------------------------------------------------------------------------------

def lint_example(rule: registry.Rule, example: str, root: Path) -> tuple[list[tuple[str, str, int, int]], dict[str, str]]:
    """Findings of an example as (rule, path, line, column), and the example's files by name."""
    files = dict(rule.example_files(example))
    if len(files) == 1 and next(iter(files)) in ("fly.toml", "Dockerfile"):
        name, text = next(iter(files.items()))
        return [(d.rule, d.path, d.line, d.column) for d in lint_text(text, name)], files
    # Several files (or a command line): a small app on disk.
    for name, text in files.items():
        if name != "$":
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        if "$" in files:
            words = shlex.split(files["$"])
            assert words[0] == "flyconf"
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                main([*words[1:], "--format", "json"])
            found = [(f["rule"], f["path"], f["line"], f["column"]) for f in json.loads(out.getvalue())]
        else:
            found = [(d.rule, d.path, d.line, d.column) for d in lint_paths(["."])]
    finally:
        os.chdir(cwd)
    return found, files


@pytest.mark.parametrize("rule", registry.all_rules(), ids=lambda r: r.name)
def test_every_example_does_what_it_shows(rule, tmp_path):
    """`flyconf explain` and docs/rules.md show each rule's examples: the bad one must fire the rule, the good
    one must not, and each finding of the bad one must point at text in the example."""
    assert rule.bad and rule.good
    if rule.name == "internal-error":
        # It reports flyconf's own bugs, so no input fires it on purpose; tests/test_hostile_crashes.py fires
        # it by making a check raise.
        pytest.skip("internal-error fires only on a flyconf bug")
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    bad, files = lint_example(rule, rule.bad, tmp_path / "bad")
    hits = [(path, line, col) for name, path, line, col in bad if name == rule.name]
    assert hits, f"{rule.name}'s bad example does not fire it: {bad}"
    for path, line, col in hits:
        if path not in files:  # io-error: the file the command names does not exist
            assert (rule.name, line, col) == ("io-error", 1, 1)
            continue
        lines = files[path].splitlines() or [""]
        assert 1 <= line <= len(lines), (path, line)
        if rule.name != "empty-config":  # a file with only comments is reported at 1:1
            assert 1 <= col <= len(lines[line - 1]) and not lines[line - 1][col - 1].isspace(), (path, line, col)
    good, _ = lint_example(rule, rule.good, tmp_path / "good")
    assert [f for f in good if f[0] == rule.name] == [], f"{rule.name}'s good example fires it"


def test_examples_split_into_files():
    rule = registry.get("litefs-data-not-on-volume")
    assert rule is not None
    assert [name for name, _ in rule.example_files(rule.bad)] == ["litefs.yml", "fly.toml", "Dockerfile"]
    assert registry.split_example("app = 'x'\n") == [("fly.toml", "app = 'x'\n")]


# -- the command line -----------------------------------------------------------------------------------

def test_explain_is_rules_name_and_prints_the_url(capsys):
    assert main(["explain", "sqlite-not-on-volume"]) == 0
    explained = capsys.readouterr().out
    assert main(["rules", "FC402"]) == 0
    assert capsys.readouterr().out == explained
    assert explained.startswith("FC402 sqlite-not-on-volume (error) - fixable\n")
    assert f"See: {RULES_DOC_URL}#fc402-sqlite-not-on-volume\n" in explained


def test_explain_a_code_prefix_lists_the_family(capsys):
    assert main(["explain", "FC4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [r.code for r in registry.all_rules() if r.code.startswith("FC4")]
    assert lines[0].startswith("FC401  release-command-sqlite ")


def test_explain_an_unknown_rule(capsys):
    assert main(["explain", "sqlite-not-on-volum"]) == 2
    assert capsys.readouterr().err == ("flyconf: error: unknown rule 'sqlite-not-on-volum'; did you mean "
                                       "`sqlite-not-on-volume`? (`flyconf rules` lists them)\n")
    assert main(["explain", "FC99"]) == 2
    assert "unknown rule 'FC99'" in capsys.readouterr().err


def test_rules_markdown_is_the_document(capsys):
    assert main(["rules", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == render_markdown()
    assert main(["explain", "--format", "markdown", "FC902"]) == 0
    assert capsys.readouterr().out.startswith("### FC902 unused-suppression\n")


def test_rules_json_has_the_url(capsys):
    assert main(["rules", "--format", "json", "unknown-key"]) == 0
    (rule,) = json.loads(capsys.readouterr().out)
    assert rule["url"] == f"{RULES_DOC_URL}#fc101-unknown-key"


def test_schema_prints_the_fly_toml_schema(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert out == (REPO / "schemas" / "fly.schema.json").read_text(encoding="utf-8")
    schema = json.loads(out)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#" and "app" in schema["properties"]


# -- the reporters ------------------------------------------------------------------------------------

BAD = '[[mounts]]\n  source = "data"\n  destinaton = "/data"\n'


def test_text_output_has_see_with_the_rules_url(tmp_path, capsys):
    (tmp_path / "fly.toml").write_text(BAD)
    main(["lint", "--isolated", "--color", "never", str(tmp_path / "fly.toml")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(":3:3: error: FC101 [unknown-key] unknown key `destinaton` in `mounts[0]`; "
                             "did you mean `destination`?")
    assert lines[4] == f"  = see: {RULES_DOC_URL}#fc101-unknown-key"
    main(["lint", "--isolated", "--format", "concise", str(tmp_path / "fly.toml")])
    assert "see:" not in capsys.readouterr().out  # one line per finding


def test_json_output_adds_url(tmp_path, capsys):
    (tmp_path / "fly.toml").write_text(BAD)
    main(["lint", "--isolated", "--format", "json", str(tmp_path / "fly.toml")])
    (finding,) = json.loads(capsys.readouterr().out)
    assert (finding["line"], finding["column"], finding["code"]) == (3, 3, "FC101")
    assert finding["url"] == f"{RULES_DOC_URL}#fc101-unknown-key"


def test_sarif_rules_have_help_uri(tmp_path, capsys):
    (tmp_path / "fly.toml").write_text(BAD)
    main(["lint", "--isolated", "--format", "sarif", str(tmp_path / "fly.toml")])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert all(r["helpUri"] == registry.get(r["id"]).url for r in rules)
    (result,) = run["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (result["ruleId"], region["startLine"], region["startColumn"]) == ("FC101", 3, 3)
    assert rules[result["ruleIndex"]]["helpUri"] == f"{RULES_DOC_URL}#fc101-unknown-key"


def test_the_schema_works_in_taplo_as_the_readme_shows(tmp_path):
    """`flyconf schema`, named in `.taplo.toml` or by `#:schema`, is what Even Better TOML / taplo use."""
    import shutil
    import subprocess

    taplo = shutil.which("taplo")
    if taplo is None:
        pytest.skip("taplo is not installed (it comes with the test extras)")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    taplo_toml = readme.split("a `.taplo.toml` at the root of the repository:\n\n```toml\n", 1)[1].split("```", 1)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema"]) == 0
    (tmp_path / "fly.schema.json").write_text(out.getvalue())
    (tmp_path / ".taplo.toml").write_text(taplo_toml)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "fly.staging.toml").write_text(BAD)
    (tmp_path / "fly.toml").write_text('app = "x"\n[[mounts]]\n  source = "data"\n  destination = "/data"\n')

    def lint(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([taplo, "lint", "--colors", "never", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)

    assert lint("fly.toml").returncode == 0
    bad = lint("deploy/fly.staging.toml")
    assert bad.returncode != 0 and "deploy/fly.staging.toml:3:3" in bad.stderr  # the misspelt `destinaton`
    (tmp_path / "other.toml").write_text('#:schema ./fly.schema.json\napp = "x"\nkill_signl = "SIGTERM"\n')
    other = lint("--no-auto-config", "other.toml")
    assert other.returncode != 0 and "'kill_signl' was unexpected" in other.stderr and "other.toml:3:14" in other.stderr
