"""docs/rules.md, generated from the registry: `flyconf rules --format markdown > docs/rules.md`.

Each rule gets a section whose heading, `FC402 sqlite-not-on-volume`, gives the anchor of the rule's
documentation URL (``Rule.url``): what it checks, why it matters on Fly, where the claim comes from,
whether `flyconf fix` fixes it, and its bad and good examples.
"""

from __future__ import annotations

import re
from typing import Sequence

from flyconf import registry
from flyconf.registry import Rule

REGENERATE = "python -m flyconf rules --format markdown > docs/rules.md"

# The families, by the first digit of the code.
FAMILIES = {
    "0": "Files",
    "1": "Schema and Machine settings",
    "2": "Volumes and mounts",
    "3": "Process groups and commands",
    "4": "SQLite and LiteFS",
    "5": "Services, checks and durations",
    "6": "Secrets",
    "7": "Dockerfile",
    "8": "Start scripts",
    "9": "Suppressions",
}

# What names a source in an explanation: flyctl's or fly-go's code, Fly's docs, an issue, a standard.
_EVIDENCE = re.compile(r"superfly/|fly-go|Fly's docs|\bdocs\b|#\d+|Docker's|BuildKit|POSIX|go-units|google/shlex|"
                       r"boot log|flyctl's own|\bSources?:|\.go\b|LiteFS's|Litestream's|dash\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"])")


def evidence(rule: Rule) -> list[str]:
    """The sentences of a rule's explanation that name where its claim comes from."""
    text = " ".join(rule.explanation.split())
    return [s for s in _SENTENCE_END.split(text) if _EVIDENCE.search(s)]


def _language(name: str) -> str:
    base = name.rsplit("/", 1)[-1].lower()
    if name == "$":
        return "console"
    if base.endswith(".toml"):
        return "toml"
    if "dockerfile" in base or "containerfile" in base:
        return "dockerfile"
    if base.endswith((".yml", ".yaml")):
        return "yaml"
    if base.endswith((".sh", "entrypoint")) or "/" in name and "." not in base:
        return "sh"
    return "text"


def _example(rule: Rule, example: str) -> list[str]:
    files = rule.example_files(example)
    out: list[str] = []
    for name, text in files:
        body = text.rstrip("\n")
        if name == "$":
            body = "\n".join(f"$ {line}" for line in body.splitlines())
        elif len(files) > 1 or name != "fly.toml":
            out.append(f"`{name}`:")
            out.append("")
        fence = "````" if "```" in body else "```"
        out += [f"{fence}{_language(name)}", body, fence, ""]
    return out


def rule_section(rule: Rule) -> list[str]:
    """One rule's section, starting with its heading."""
    fix = "`flyconf fix` fixes it" if rule.fixable else "no automatic fix"
    out = [
        f"### {rule.code} {rule.name}",
        "",
        f"**{rule.severity.value.capitalize()}** by default · {fix} · "
        f"[{rule.code}]({rule.url})",
        "",
        rule.summary,
        "",
        "**Why it matters.** " + rule.explanation,
        "",
    ]
    found = evidence(rule)
    if found:
        out += ["**Evidence.**", ""] + [f"- {s}" for s in found] + [""]
    else:
        out += ["**Evidence.** None needed: the rule is about flyconf's own reading of the files.", ""]
    if rule.bad:
        out += ["**Bad**", ""] + _example(rule, rule.bad)
    if rule.good:
        out += ["**Good**", ""] + _example(rule, rule.good)
    return out


def render_markdown(rules: Sequence[Rule] | None = None) -> str:
    """docs/rules.md (every rule), or the sections of the rules given."""
    if rules is not None:
        return "\n".join(line for r in rules for line in rule_section(r)).rstrip("\n") + "\n"
    every = registry.all_rules()
    out = [
        "# flyconf rules",
        "",
        f"<!-- Generated from flyconf's rule registry; do not edit. Regenerate with: {REGENERATE} -->",
        "",
        f"flyconf has {len(every)} rules. Codes and names are stable; both work in `--select`, `--ignore`, the "
        "configuration (`select`, `ignore`, `severity`, `per-file-ignores`) and `# flyconf: ignore[...]` comments. "
        "`flyconf explain RULE` prints a rule's section; each finding links here (`url` in JSON, `helpUri` in "
        "SARIF, `see:` in the text output).",
        "",
        "| Code | Name | Severity | Fix | Summary |",
        "|---|---|---|---|---|",
    ]
    for r in every:
        out.append(f"| [{r.code}](#{r.anchor}) | `{r.name}` | {r.severity.value} | {'yes' if r.fixable else ''} | "
                   f"{r.summary.replace('|', '&#124;')} |")
    out.append("")
    family = None
    for r in every:
        digit = r.code[2]
        if digit != family:
            family = digit
            out += [f"## FC{digit}xx: {FAMILIES.get(digit, 'Other')}", ""]
        out += rule_section(r)
    return "\n".join(out).rstrip("\n") + "\n"
