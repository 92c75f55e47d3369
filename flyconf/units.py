"""Durations and sizes, read the way flyctl reads them (Go's time.ParseDuration, docker/go-units)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Go's time.ParseDuration: ASCII digits only (`\d` would also take "٣"), units in nanoseconds.
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)(?![^0-9.])")
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9}
_DURATION_LIMIT = 1 << 63  # time.Duration is an int64 count of nanoseconds

_ASCII_DIGITS = re.compile(r"[0-9]+")
# Python refuses to turn longer digit strings into an int (sys.get_int_max_str_digits, 4300 by default).
_MAX_DIGITS = 4000


def ascii_int(text: str) -> int | None:
    """The value of ``text`` if it is ASCII digits only, else None.

    The one way flyconf reads a number out of text (ports, counts, indexes): ``str.isdigit`` also
    accepts "²" and "٣", which ``int`` then refuses or which no shell, Go or BuildKit reads as a digit;
    a number too long for Python to convert is None too (nothing flyconf checks is that large).
    """
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > _MAX_DIGITS:
        return None
    return int(significant or "0")


def finite(value: object) -> bool:
    """Whether ``value`` is an int or a float that is neither infinite nor NaN (TOML allows `inf` and `nan`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)

# What a bare number means for each duration key (flyctl scales some and not others).
BARE_NUMBER_UNIT = {"s": 1.0, "ms": 1e-3, "ns": 1e-9}
UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "ns": "nanoseconds"}


def parse_duration(text: str) -> float | None:
    """Seconds for a Go duration string (``"1m30s"``, ``"500ms"``, ``"0"``), or None if it is not one,
    including one that Go refuses as out of range (over about 292 years)."""
    ns = duration_nanoseconds(text)
    return ns / 1e9 if isinstance(ns, int) else None


def duration_nanoseconds(text: str) -> int | str:
    """Go's time.ParseDuration: the duration in nanoseconds, or ``"invalid"`` or ``"out of range"``.

    Exact integer arithmetic as Go does it, so a 400-digit number is out of range rather than a float
    infinity (Go: `time: invalid duration`, from the overflow checks in time/format.go).
    """
    s = text.strip()
    neg = False
    if s[:1] in ("+", "-"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        return "invalid"
    total = 0
    pos = 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None or not (m.group(1) or m.group(2)):
            return "invalid"
        whole, frac, unit = m.group(1), m.group(2) or "", _UNIT_NS[m.group(3)]
        whole = whole.lstrip("0")
        if len(whole) > 19:  # more than any int64 holds: do not convert a huge string
            return "out of range"
        value = int(whole or "0") * unit
        frac = frac[:30]  # Go stops accumulating fraction digits once they overflow; these suffice for ns
        if frac.strip("0"):
            value += int(frac) * unit // 10 ** len(frac)
        if value > _DURATION_LIMIT:
            return "out of range"
        total += value
        if total > _DURATION_LIMIT:
            return "out of range"
        pos = m.end()
    if not neg and total == _DURATION_LIMIT:
        return "out of range"
    return -total if neg else total


def duration_seconds(value: object, bare_unit: str) -> float | None:
    """A duration value from fly.toml in seconds: strings parsed, numbers scaled by ``bare_unit``.

    flyctl truncates floats where it scales (seconds, milliseconds) before scaling.
    Returns None for values it cannot read (reported by the schema rules).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not finite(value) or abs(value) >= _DURATION_LIMIT:
            # inf, nan, or beyond an int64: fly-go converts the number with Go's int64(), whose result
            # is then undefined (Go spec, Conversions); there is no reading to report.
            return None
        number = float(int(value)) if bare_unit in ("s", "ms") else float(value)
        return number * BARE_NUMBER_UNIT[bare_unit]
    if isinstance(value, str):
        return parse_duration(value)
    return None


def format_duration(seconds: float) -> str:
    """A short Go-style duration: 90 -> "1m30s", 0.5 -> "500ms", 1e-05 -> "10µs"."""
    if not math.isfinite(seconds):
        return "+Inf" if seconds > 0 else "-Inf" if seconds < 0 else "NaN"
    if seconds < 0:
        return "-" + format_duration(-seconds)
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


# -- sizes ---------------------------------------------------------------------------------------
#
# flyctl reads sizes with helpers.ParseSize (superfly/flyctl helpers/units.go): a string that
# Go's strconv.Atoi accepts is already in the target unit (GB for mounts, MB for memory); anything
# else goes to docker/go-units v0.5.0 (flyctl's go.mod), FromHumanSize (decimal) for mounts and
# RAMInBytes (binary) for memory, and the bytes are divided by the unit, truncating. Numbers
# written in fly.toml are first turned into text with Go's %v (internal/appconfig/patches.go
# castToString), so `initial_size = 1.5` is the string "1.5": 1.5 bytes, not 1.5 GB.

_GO_INT = re.compile(r"^[+-]?[0-9]+$")
_GO_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_GO_HEX = re.compile(r"^[+-]?0[xX](_?[0-9a-fA-F])*(\.([0-9a-fA-F](_?[0-9a-fA-F])*)?)?[pP][+-]?[0-9]+$")
_GO_SPECIAL = re.compile(r"^[+-]?(inf|infinity|nan)$", re.I)
_DECIMAL_UNITS = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_BINARY_UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
_INT64_MAX = 2**63 - 1


def go_parse_float(text: str) -> float | None:
    """Go's strconv.ParseFloat(text, 64), or None where it fails (including out of range)."""
    if _GO_SPECIAL.match(text):
        return float(text.lower().lstrip("+").replace("infinity", "inf"))
    try:
        if _GO_DECIMAL.match(text):
            value = float(text)
        elif _GO_HEX.match(text):
            value = float.fromhex(text.replace("_", ""))
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return None if math.isinf(value) else value


def go_value_text(value: object) -> str | None:
    """A TOML value as flyctl's castToString writes it (Go's %v), or None for tables, lists and dates."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_g(value)
    if isinstance(value, str):
        return value
    return None


def _go_g(value: float) -> str:
    """Go's %v of a float64 (strconv 'g' with the shortest precision): exponent form when the exponent
    is < -4 or >= 6, so 1000000.0 is "1e+06"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, exp = _shortest(abs(value))
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"


def _shortest(value: float) -> tuple[str, int]:
    """The shortest decimal digits that round-trip ``value`` (Python's repr agrees with Go here),
    and the exponent of the first digit."""
    mantissa, _, exponent = f"{value!r}".lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")
    digits = (whole + frac).lstrip("0")
    exp = int(exponent or 0) + len(whole.lstrip("0")) - 1 if whole.strip("0") else \
        int(exponent or 0) - (len(frac) - len(frac.lstrip("0"))) - 1
    return digits.rstrip("0") or "0", exp


def go_units_bytes(text: str, binary: bool) -> int | str:
    """docker/go-units v0.5.0 parseSize: the number of bytes, or go-units' error text."""
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep == -1:
        return f"invalid size: '{text}'"
    if text[sep] == " ":
        num, sfx = text[:sep], text[sep + 1 :]
    else:
        num, sfx = text[: sep + 1], text[sep + 1 :]
    size = go_parse_float(num)
    if size is None:
        return f'strconv.ParseFloat: parsing "{num}": invalid syntax'
    if size < 0:
        return f"invalid size: '{text}'"
    if sfx:
        units = _BINARY_UNITS if binary else _DECIMAL_UNITS
        low = sfx.lower()
        bad = f"invalid suffix: '{low}'"
        if len(sfx) > 3:
            return f"invalid suffix: '{sfx}'"
        if low[0] == "b":
            if len(low) > 1:
                return bad
        elif low[0] in units:
            if (len(low) == 2 and low[1] != "b") or (len(low) == 3 and low[1:] != "ib"):
                return bad
            size *= units[low[0]]
        else:
            return bad
    if math.isnan(size) or math.isinf(size) or size > _INT64_MAX:
        return f"invalid size: '{text}' is out of range"  # Go's float-to-int64 conversion is undefined here
    return int(size)


@dataclass(frozen=True)
class Size:
    """A size as flyctl reads it: ``amount`` in the target unit (GB or MB), or ``error``."""

    amount: int | None
    error: str | None = None


def flyctl_size(value: object, unit: int, binary: bool) -> Size | None:
    """A fly.toml size value read as helpers.ParseSize reads it; None for values that are not sizes at all
    (tables, lists: the schema rules report those)."""
    text = go_value_text(value)
    if text is None or isinstance(value, bool):
        return None
    if _GO_INT.match(text):
        digits = text.lstrip("+-").lstrip("0")
        # Beyond 19 digits it is out of range anyway; never int() a string of thousands of digits.
        number = int(text) if len(digits) <= 19 else None
        if number is None or abs(number) > _INT64_MAX:
            shown = text if len(text) <= 40 else text[:37] + "..."
            return Size(None, f'strconv.Atoi: parsing "{shown}": value out of range')
        return Size(number)
    result = go_units_bytes(text, binary)
    if isinstance(result, str):
        return Size(None, "invalid size: " + result)
    return Size(result // unit)


GB = 10**9
MIB = 2**20


def mount_size(value: object) -> Size | None:
    """A mount size in whole GB (initial_size, auto_extend_size_*), decimal units, truncated.

    An integer, or a string of digits, is already GB. ``"10GiB"`` is still 10 x 10^9 bytes (flyctl
    uses the decimal parser for mounts), so it is 10; ``"1500MB"`` is 1; ``"999MB"`` is 0;
    ``"10Gi"`` is an error (go-units: "invalid suffix: 'gi'").
    """
    return flyctl_size(value, GB, binary=False)


def mount_size_gb(value: object) -> int | None:
    """:func:`mount_size` as a number of GB, or None when flyctl cannot read it."""
    size = mount_size(value)
    return size.amount if size is not None else None


def memory_size(value: object) -> Size | None:
    """`[[vm]] memory` (and `release_command_vm.memory`) in MB: binary units (RAMInBytes), truncated."""
    return flyctl_size(value, MIB, binary=True)
