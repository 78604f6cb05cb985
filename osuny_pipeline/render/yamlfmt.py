"""The one YAML scalar emitter every template goes through (`| yaml`).

Why double-quoted JSON: a JSON string literal is a valid YAML double-quoted scalar, so the
only work left is to escape what YAML refuses or reads differently from JSON: characters
outside YAML's printable set (C0/C1 controls, DEL, surrogates, U+FFFE/U+FFFF), the
characters YAML treats as line breaks (U+0085, U+2028, U+2029) and the BOM (U+FEFF),
which some readers strip. Everything else (quotes, `#`, `: `, `- `, `---`, `yes`, `~`,
emoji, right-to-left text) is inert inside double quotes. Nothing is ever folded or
wrapped: one scalar is one line, whatever its length.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from json.encoder import encode_basestring  # json.dumps(s, ensure_ascii=False) without its per-call setup

# json.dumps already escapes C0 controls, '"' and '\\'; these are the characters it leaves
# raw that a YAML reader would reject or normalise.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04X}"


def yaml_string(value: str) -> str:
    return _YAML_UNSAFE.sub(_escape, encode_basestring(value))


def yaml_float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.1 (PyYAML) reads "1e+16" as a string: its float pattern wants a dot.
    mantissa, sep, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + sep + exponent


def yaml_scalar(value: object) -> str:
    """`value` as one YAML flow scalar that parses back to exactly `value`.

    Datetimes must be aware: they are written ISO 8601 with their offset, unquoted, as
    Osuny writes dates (a YAML timestamp)."""
    if type(value) is str:  # the common case first
        return _YAML_UNSAFE.sub(_escape, encode_basestring(value))
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return yaml_float(value)
    if isinstance(value, str):
        return yaml_string(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError(f"naive datetime {value!r} cannot be written: give a time zone")
        return value.isoformat()
    raise TypeError(f"cannot write a {type(value).__name__} as a YAML scalar")
