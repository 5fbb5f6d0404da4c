"""Untrusted input at the edge, read one way everywhere: JSON bodies (strict UTF-8, plain JSON,
bounded depth) and integers bounded to what MongoDB stores (signed 64-bit).

Bad input answers 400/422 with a stable code and changes nothing (docs/architecture.md): a body
that is not UTF-8, ``NaN``, a lone surrogate or JSON nested thousands of levels deep must never
reach a handler or the database as a 500.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, NoReturn

from pydantic import Field

from app.errors import MalformedJSON

INT64_MAX = 2**63 - 1
"""The largest integer BSON stores (``int64``); a larger one fails to encode in PyMongo."""

NonNegativeInt64 = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A query/body integer ``0 … 2^63−1`` (sequence numbers such as ``after_seq``)."""

PositiveInt64 = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""A query/body integer ``1 … 2^63−1`` (cursors such as ``before``, ``up_to_seq``)."""

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays/objects a body may have. Our deepest shape (a Stripe event) is
about 8; the limit keeps recursion in the parser, pydantic and BSON far from Python's stack."""


def _refuse_constant(name: str) -> NoReturn:
    raise MalformedJSON(f"{name} is not JSON", details={"reason": "syntax", "constant": name})


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        raise MalformedJSON(
            f"{text[:40]} is out of range", details={"reason": "syntax", "number": text[:40]}
        )
    return value


def _check_shape(value: Any) -> None:
    """Walk the parsed value without recursion: depth at most ``MAX_JSON_DEPTH``, and every
    string (key or value) encodable as UTF-8 (``"\\ud800"`` parses to a lone surrogate)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise MalformedJSON(
                        "a string holds a lone UTF-16 surrogate",
                        details={"reason": "syntax"},
                    ) from exc
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise MalformedJSON(
                f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                details={"reason": "too_deep", "max_depth": MAX_JSON_DEPTH},
            )
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


def parse_json(raw: bytes) -> Any:
    """Parse a request body: ``bytes`` → the JSON value (dict, list, str, int, float, bool, None).

    Strict: UTF-8 only, no ``NaN``/``Infinity`` (nor numbers that overflow to it), no lone
    surrogates, at most ``MAX_JSON_DEPTH`` levels (RFC 8259 §8.1, §6, §7).

    Raises:
        MalformedJSON (400 ``malformed_json``): ``details.reason`` is ``not_utf8``, ``syntax``
            or ``too_deep``.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON(
            "the body is not UTF-8", details={"reason": "not_utf8", "position": exc.start}
        ) from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise MalformedJSON(
            f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
            details={"reason": "too_deep", "max_depth": MAX_JSON_DEPTH},
        ) from exc
    except json.JSONDecodeError as exc:
        raise MalformedJSON(
            f"the body is not JSON: {exc.msg}", details={"reason": "syntax", "position": exc.pos}
        ) from exc
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise MalformedJSON("the body is not JSON we read", details={"reason": "syntax"}) from exc
    _check_shape(value)
    return value
