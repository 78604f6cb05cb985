"""The `| yaml` filter: every value parses back, with the real parser, to itself."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml

from osuny_pipeline.render.yamlfmt import yaml_scalar

# Values that break naive YAML writers. Shared with the renderer tests.
HOSTILE: list[str] = [
    "",
    " ",
    "plain",
    'double "quotes" inside',
    "single 'quotes' inside",
    "colon: value",
    "ends with colon:",
    "# not a comment",
    "text # trailing comment?",
    "- leading dash",
    "---",
    "...",
    "--- a\n... b",
    "line one\nline two",
    "crlf\r\nline",
    "lone\rcarriage",
    "\ttab\tseparated\t",
    "trailing newline\n",
    "\n\nleading newlines",
    "  leading and trailing spaces  ",
    "yes", "no", "on", "off", "true", "False", "null", "~", "NULL",
    "0", "007", "1e3", "0x1F", "3.14", "-.inf", ".nan", "1_000", "2025-01-07", "2025-01-07T10:00:00+01:00",
    "{flow: mapping}", "[flow, sequence]", "&anchor", "*alias", "!tag", "%directive", "@at", "`backtick",
    "| literal", "> folded", "? complex key", "key: {nested: [1, 2]}",
    "back\\slash and \\n not a newline",
    "unicode: Colloque « Les vacances et l’animation » — été",
    "emoji 🎉👩‍🔬🇫🇷",
    "right-to-left: مرحبا بالعالم עברית",
    "C0 controls \x00\x01\x07\x08\x0b\x0c\x1b\x1f",
    "NUL\x00inside",
    "DEL\x7f and C1 \x80\x85\x9f",
    "next line \x85 here",
    "line separator \u2028 and paragraph \u2029",
    "\ufeffBOM first",
    "non-characters \ufffe\uffff",
    "lone surrogates \ud800 \udfff",
    "astral \U0001F600 and \U0010FFFD",
    "<p>HTML &amp; entities &#39;</p>",
    "{{ jinja }} {% raw %}",
    "x" * 1_000_000,
]


def roundtrip(value: object) -> object:
    return yaml.safe_load(f"key: {yaml_scalar(value)}\n")["key"]


def test_there_are_at_least_thirty_hostile_values():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:30]))
def test_hostile_strings_round_trip(value: str):
    emitted = yaml_scalar(value)
    assert "\n" not in emitted and "\r" not in emitted, "a scalar must stay on one line"
    assert roundtrip(value) == value
    # The text is valid UTF-8 for a file (lone surrogates are escaped, never written raw).
    emitted.encode("utf-8")


@pytest.mark.parametrize("value", HOSTILE[:60], ids=lambda v: repr(v[:30]))
def test_hostile_strings_round_trip_as_keys_and_in_lists(value: str):
    document = f"{yaml_scalar(value)}:\n  - {yaml_scalar(value)}\n"
    assert yaml.safe_load(document) == {value: [value]}


@pytest.mark.parametrize("value", [0, -1, 2**63, 10**30, True, False, None, 0.0, -0.0, 1.5, 1 / 3, 1e16, 1e-7,
                                   1.7976931348623157e308, 5e-324])
def test_numbers_booleans_and_null_round_trip(value):
    result = roundtrip(value)
    assert result == value and type(result) is type(value)


def test_float_specials():
    assert math.isnan(roundtrip(float("nan")))
    assert roundtrip(float("inf")) == float("inf")
    assert roundtrip(float("-inf")) == float("-inf")


def test_aware_datetimes_are_timestamps_with_their_offset():
    paris = timezone(timedelta(hours=1))
    moment = datetime(2025, 1, 7, 10, 0, tzinfo=paris)
    assert yaml_scalar(moment) == "2025-01-07T10:00:00+01:00"
    assert roundtrip(moment) == moment
    assert roundtrip(datetime(2025, 7, 1, tzinfo=UTC)) == datetime(2025, 7, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", [datetime(2025, 1, 1), {"a": 1}, [1], b"bytes", object()])
def test_other_values_are_refused(value):
    with pytest.raises(TypeError):
        yaml_scalar(value)
