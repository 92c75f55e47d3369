"""Is `[build] dockerfile` a URL? The same answer flyctl gives.

flyctl treats `[build] dockerfile` as a remote Dockerfile when Go's
``url.Parse`` accepts it with an http or https scheme and a host, and refuses a
value that merely starts with ``http:`` or ``https:`` ("invalid Dockerfile URL")
instead of reading it as a path (superfly/flyctl internal/dockerfileurl
``IsURL``/``LooksLikeURL``, used by internal/command/deploy/deploy_build.go
``resolveDockerfilePath``). This module re-states the parts of Go's URL parser
that decide that answer; flyconf never fetches anything.
"""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEX = "0123456789abcdefABCDEF"
_PORT = re.compile(r"^:[0-9]*$")
# Characters Go's url package lets stand unescaped in a host (RFC 3986 sub-delims, plus
# ':' '[' ']' for ports and IPv6, and '<' '>' '"' which it tolerates).
_HOST_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:[]<>\"")
_USERINFO_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@")


def looks_like_url(value: str) -> bool:
    """flyctl's LooksLikeURL: starts with http: or https: once trimmed, in any case."""
    low = value.strip().lower()
    return low.startswith(("http:", "https:"))


def is_url(value: str) -> bool:
    """flyctl's IsURL: Go's url.Parse succeeds, the scheme is http or https, and there is a host."""
    host = _host(value)
    return bool(host)


def _host(raw: str) -> str | None:
    """The host Go's url.Parse finds in an http(s) URL, or None when it fails or finds none."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None  # "net/url: invalid control character in URL"
    raw, _, fragment = raw.partition("#")
    if not _escapes_ok(fragment):
        return None
    m = _SCHEME.match(raw)
    if m is None:
        return None  # no scheme (or one that starts with a digit): a path, and then not http(s)
    scheme = m.group(0)[:-1].lower()
    if scheme not in ("http", "https"):
        return None
    rest = raw[m.end():]
    rest = rest.split("?", 1)[0]
    if not rest.startswith("//"):
        return None  # "https:/x" or "https:x": no authority, so no host
    authority, slash, path = rest[2:].partition("/")
    if not _escapes_ok(path):
        return None
    userinfo, at, host = authority.rpartition("@")
    if at and not all(c in _USERINFO_OK for c in userinfo):
        return None  # "net/url: invalid userinfo"
    return host if _host_ok(host) else None


def _host_ok(host: str) -> bool:
    if host.startswith("["):
        close = host.rfind("]")
        if close == -1:
            return False  # "missing ']' in host"
        port = host[close + 1 :]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon != -1 else ""
    if port and not _PORT.match(port):
        return False  # "invalid port"
    i = 0
    while i < len(host):
        c = host[i]
        if c == "%":
            # %-escapes must be well formed, and in a host may only encode non-ASCII bytes (or %25).
            if i + 2 >= len(host) or host[i + 1] not in _HEX or host[i + 2] not in _HEX:
                return False
            if int(host[i + 1], 16) < 8 and host[i : i + 3] != "%25":
                return False
            i += 3
            continue
        if ord(c) < 0x80 and c not in _HOST_OK:
            return False  # "invalid character in host name"
        i += 1
    return True


def _escapes_ok(text: str) -> bool:
    i = text.find("%")
    while i != -1:
        if i + 2 >= len(text) or text[i + 1] not in _HEX or text[i + 2] not in _HEX:
            return False
        i = text.find("%", i + 3)
    return True


def for_display(value: str) -> str:
    """The URL without credentials, query or fragment (as flyctl's ForDisplay shows it)."""
    if not is_url(value):
        return "invalid URL" if looks_like_url(value) else value
    scheme, _, rest = value.partition("://")
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    path = path.split("#", 1)[0].split("?", 1)[0]
    return f"{scheme}://{host}{slash}{path}"
