"""Where flyconf's documentation lives: one place, so that a new repository name is one change."""

from __future__ import annotations

# The repository that holds docs/rules.md (its anchors are the rules' documentation URLs).
REPOSITORY_URL = "https://github.com/flyconf/flyconf"
RULES_DOC_URL = f"{REPOSITORY_URL}/blob/main/docs/rules.md"


def rule_anchor(code: str, name: str) -> str:
    """The anchor of a rule's section in docs/rules.md: GitHub's slug of its heading `FC402 sqlite-not-on-volume`."""
    return f"{code.lower()}-{name}"


def rule_url(code: str, name: str) -> str:
    return f"{RULES_DOC_URL}#{rule_anchor(code, name)}"
