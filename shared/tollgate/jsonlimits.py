"""JSON at parse time, bounded: nesting depth and number size are checked before anything else runs.

Rule (docs/reliability.md "What is validated where"): a request body may nest arrays and objects at
most ``MAX_DEPTH`` levels deep (pass-through fields included), an integer may have at most
``MAX_INT_DIGITS`` digits, a float literal at most ``MAX_FLOAT_CHARS`` characters and must be finite,
and the non-JSON constants ``NaN``/``Infinity``/``-Infinity`` are refused. Each breach is a 400
``bad_json`` naming the limit — never a ``RecursionError`` or a ``ValueError`` that surfaces as a 500.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from tollgate.errors import InvalidRequest

MAX_DEPTH = 64
MAX_INT_DIGITS = 32
MAX_FLOAT_CHARS = 64

# A run of number characters long enough that orjson might read it differently from the rules here
# (orjson turns integers beyond 64 bits into floats): such a body takes the exact, slower path.
_LONG_NUMBER = re.compile(rb"[0-9][-+.eE0-9]{17,}")

# A JSON string (skipped whole, so brackets inside strings do not count) or one bracket.
_SCAN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest(f"Malformed JSON body: {message}", code="bad_json")


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest array/object nesting in ``text`` (stops counting once past ``limit``)."""
    depth = deepest = 0
    for match in _SCAN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _parse_int(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _bad(f"an integer has {digits} digits; at most {MAX_INT_DIGITS} are accepted")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_FLOAT_CHARS:
        raise _bad(f"a number has {len(literal)} characters; at most {MAX_FLOAT_CHARS} are accepted")
    value = float(literal)
    if not math.isfinite(value):
        raise _bad(f"the number {literal[:20]} is out of range")
    return value


def _parse_constant(name: str) -> Any:
    raise _bad(f"{name} is not valid JSON")


def parse_json_bounded(raw: bytes | str) -> Any:
    """Parse ``raw`` (UTF-8 JSON) within the module's limits.

    Raises ``InvalidRequest`` (400, code ``bad_json``) for malformed JSON, nesting deeper than
    ``MAX_DEPTH``, an integer longer than ``MAX_INT_DIGITS`` digits, a float literal longer than
    ``MAX_FLOAT_CHARS`` or out of range, and ``NaN``/``Infinity``.

    Fast path (the hot execute path): a body with at most ``MAX_DEPTH`` brackets in all cannot nest
    deeper, and one with no long run of number characters holds no number the limits refuse, so
    orjson reads it (orjson itself refuses NaN/Infinity and out-of-range floats). Anything else,
    and anything orjson refuses, takes the standard library with the checking hooks."""
    if isinstance(raw, str):
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only the standard library reads them
            return _parse_strict(raw) if json_depth(raw) <= MAX_DEPTH else _too_deep()
    else:
        data = bytes(raw)
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad("not UTF-8") from None
        if json_depth(text) > MAX_DEPTH:
            _too_deep()
    if _LONG_NUMBER.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return _parse_strict(data)


def _too_deep() -> Any:
    raise _bad(f"nested more than {MAX_DEPTH} levels deep")


def _parse_strict(data: bytes | str) -> Any:
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise _bad("not UTF-8") from None
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise _bad(exc.msg) from None
    except (RecursionError, ValueError):
        raise _bad("could not be parsed within the limits") from None
