"""Secrets written into fly.toml, which is committed to git."""

from __future__ import annotations

import re
from typing import Iterator
from urllib.parse import urlsplit

from flyconf.app import App
from flyconf.diagnostics import Diagnostic
from flyconf.registry import check, declare

SECRET_IN_ENV = declare(
    "FC601", "secret-in-env", "warning",
    "An `[env]` value looks like a credential: a password in a URL, or a secret, token or API key.",
    """
    fly.toml is committed to git and `[env]` values are visible to anyone who
    can read the repository (and in `fly config show`). Credentials belong in
    Fly secrets, which are encrypted and set as environment variables on every
    Machine: `fly secrets set NAME=value` (Fly's docs, apps/secrets). flyconf
    never prints the value. A warning: a name or value that looks secret may
    not be one.
    """,
    bad='[env]\nDATABASE_URL = "postgres://app:hunter2@db.internal:5432/app"\nSTRIPE_API_KEY = "sk_live_..."\n',
    good='[env]\nPORT = "8080"\n# fly secrets set DATABASE_URL=... STRIPE_API_KEY=...\n',
    family="secrets",
)

# Names that say "this is a secret". Checked on the words of the name, so TOKEN_TTL or
# PASSWORD_MIN_LENGTH (a secret word followed by a setting word) do not count.
_SECRET_WORDS = re.compile(
    r"(^|_)(SECRET|SECRETS|PASSWORD|PASSWD|PASS|PWD|TOKEN|APIKEY|API_KEY|PRIVATE_KEY|ACCESS_KEY|SECRET_KEY|"
    r"SECRET_KEY_BASE|CLIENT_SECRET|AUTH_KEY|MASTER_KEY|SIGNING_KEY|ENCRYPTION_KEY|WEBHOOK_SECRET|DSN_SECRET|CREDENTIALS)$",
    re.I,
)
_PUBLIC_NAMES = re.compile(r"(PUBLIC|PUBLISHABLE|NEXT_PUBLIC_|VITE_|REACT_APP_|_ID$|_URL_PATH|_FILE$|_PATH$|_TTL|"
                           r"_EXPIR|_LENGTH|_HEADER|_NAME$|_PREFIX|_ENABLED|_ISSUER|_AUDIENCE|_ALGORITHM)", re.I)
_PLACEHOLDER = re.compile(
    r"^(|x+|\*+|\.+|-+|changeme|change[-_ ]?me|todo|tbd|none|null|nil|false|true|dummy|example|sample|test|"
    r"placeholder|secret|password|token|your[-_ ].*|<.*>|\$\{.*\}|\$[A-Z_][A-Z0-9_]*|%\(.*\)s|\{\{.*\}\}|"
    r"set[-_ ]?(me|by[-_ ].*|in[-_ ].*|via[-_ ].*)|replace[-_ ]?me|fly[-_ ]secrets?.*|see .*)$",
    re.I,
)


_FILLER_WORDS = frozenset(
    "secret secrets key password passwd token change changeme me your my here the a not real fake dummy test "
    "testing example sample placeholder insecure dev development local default value goes set this".split()
)


def _placeholder_words(value: str) -> bool:
    """`secret-key`, `change_me_in_production`? Values made only of filler words are not secrets."""
    words = [w for w in re.split(r"[-_ .]+", value.lower()) if w]
    return bool(words) and all(w in _FILLER_WORDS or w in ("production", "prod", "staging") for w in words)


def _masked_url(url: str) -> str | None:
    """The URL with its password replaced, if it has a real password; None otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc or parts.password is None:
        return None
    if _PLACEHOLDER.match(parts.password):
        return None
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return f"{parts.scheme}://{user}:****@{host}{port}"


@check("app")
def check_secrets(app: App) -> Iterator[Diagnostic]:
    doc = app.fly
    for var in app.env.values():
        if var.origin != "fly.toml" or not var.path or var.path == ("primary_region",):
            continue
        value = var.value.strip()
        masked = _masked_url(value)
        if masked is not None:
            yield SECRET_IN_ENV.diagnostic(
                doc, doc.value_span(var.path),
                f"`{var.name}` holds a URL with a password ({masked}); fly.toml is committed to git",
                hint=f"remove it from fly.toml and run `fly secrets set {var.name}=...`",
            )
            continue
        if not _SECRET_WORDS.search(var.name) or _PUBLIC_NAMES.search(var.name):
            continue
        if (_PLACEHOLDER.match(value) or _placeholder_words(value) or len(value) < 8
                or value.startswith(("/", "./", "file:"))):
            continue  # a placeholder, a flag or a path to a mounted secret file, not the secret itself
        yield SECRET_IN_ENV.diagnostic(
            doc, doc.value_span(var.path),
            f"`{var.name}` looks like a credential written into fly.toml, which is committed to git",
            hint=f"remove it from fly.toml and run `fly secrets set {var.name}=...`",
        )
