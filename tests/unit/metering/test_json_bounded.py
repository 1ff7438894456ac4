"""JSON at parse time: depth and number size are bounded with a clear 400."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate.errors import InvalidRequest
from tollgate.jsonlimits import MAX_DEPTH, json_depth, parse_json_bounded


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('{"model":"m","extra":' + "[" * 900 + "]" * 900 + "}", "nested"),
        ('{"n":' + "9" * 5000 + "}", "5000 digits"),
        ('{"x":1e999}', "out of range"),
        ('{"x":NaN}', "NaN"),
        ('{"x":-Infinity}', "-Infinity"),
        ('{"x":1', "Malformed"),
        (b'{"x":"\xff"}', "UTF-8"),
    ],
)
def test_hostile_json_is_a_clear_400(raw: str | bytes, says: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_json_bounded(raw)
    assert raised.value.http_status == 400 and raised.value.code == "bad_json"
    assert says in raised.value.message


def test_brackets_inside_strings_do_not_count() -> None:
    raw = json.dumps({"text": "[" * 10_000, "quote": 'a "[[[" b \\" [[', "deep": [[[1]]]})
    assert json_depth(raw) == 4
    assert parse_json_bounded(raw)["text"] == "[" * 10_000


def test_the_limit_itself_parses() -> None:
    assert parse_json_bounded("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_ordinary_json_parses_exactly_like_json_loads(value: object) -> None:
    raw = json.dumps(value)
    assert parse_json_bounded(raw) == json.loads(raw)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_the_fast_path_reads_exactly_what_the_checking_parser_reads(value: object) -> None:
    """orjson serves bodies within the limits; integers beyond 64 bits stay exact integers."""
    raw = json.dumps(value)
    assert parse_json_bounded(raw.encode()) == json.loads(raw)
    assert parse_json_bounded(raw) == json.loads(raw)


def test_a_big_integer_is_not_turned_into_a_float() -> None:
    parsed = parse_json_bounded(b'{"seed": 123456789012345678901234567890}')
    assert parsed == {"seed": 123456789012345678901234567890} and isinstance(parsed["seed"], int)


def test_many_shallow_objects_are_accepted() -> None:
    body = {"messages": [{"role": "user", "content": str(i)} for i in range(500)]}
    assert parse_json_bounded(json.dumps(body).encode()) == body
