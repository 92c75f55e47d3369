"""Durations and sizes, read the way flyctl reads them (Go's time.ParseDuration, docker/go-units)."""

from __future__ import annotations

import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

# What a bare number means for each duration key (flyctl scales some and not others).
BARE_NUMBER_UNIT = {"s": 1.0, "ms": 1e-3, "ns": 1e-9}
UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "ns": "nanoseconds"}


def parse_duration(text: str) -> float | None:
    """Seconds for a Go duration string (``"1m30s"``, ``"500ms"``, ``"0"``), or None if it is not one."""
    s = text.strip()
    if not s:
        return None
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            return None
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    return sign * total if pos else None


def duration_seconds(value: object, bare_unit: str) -> float | None:
    """A duration value from fly.toml in seconds: strings parsed, numbers scaled by ``bare_unit``.

    flyctl truncates floats where it scales (seconds, milliseconds) before scaling.
    Returns None for values it cannot read (reported by the schema rules).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(int(value)) if bare_unit in ("s", "ms") else float(value)
        return number * BARE_NUMBER_UNIT[bare_unit]
    if isinstance(value, str):
        return parse_duration(value)
    return None


def format_duration(seconds: float) -> str:
    """A short Go-style duration: 90 -> "1m30s", 0.5 -> "500ms", 1e-05 -> "10µs"."""
    if seconds == 0:
        return "0s"
    if seconds < 1e-6:
        return f"{round(seconds * 1e9)}ns"
    if seconds < 1e-3:
        return f"{_num(seconds * 1e6)}µs"
    if seconds < 1:
        return f"{_num(seconds * 1e3)}ms"
    whole_minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(whole_minutes), 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return out + (f"{_num(rest)}s" if rest or not out else "")


def _num(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


# docker/go-units FromHumanSize: decimal units; flyctl takes a plain integer string as-is in its unit.
_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_DECIMAL = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}


def mount_size_gb(value: object) -> int | None:
    """A mount size in whole GB as flyctl computes it (decimal units, truncated), or None if unparseable.

    An integer, or a string of digits, is already GB. ``"10GiB"`` is still 10 x 10^9 bytes
    (flyctl uses the decimal parser for mounts), so it is 10; ``"1500MB"`` is 1; ``"999MB"`` is 0.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    m = _SIZE.match(text)
    if m is None:
        return None
    number = float(m.group(1))
    unit = (m.group(2) or "").lower()
    return int(number * _DECIMAL[unit] // 10**9)
