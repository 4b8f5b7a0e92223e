"""The one input-sanitising layer: what any text, JSON body, number or key may contain (no HTTP 500 on input).

Applied by `InputSanitizingMiddleware` to every request (pages and API) before any view runs:

* text (query parameters, form fields, JSON strings and keys) may not contain NUL or other control characters
  (tab, line feed and carriage return are allowed in values): 422 with the field named;
* a control character in the URL path is 404 (no route can match it; no header can echo it);
* JSON bodies must be UTF-8, at most `JSON_MAX_DEPTH` levels deep, with finite numbers only (no NaN/Infinity,
  no 1e309): 422 (or 400 when the body is not JSON at all).

Helpers used by services for single values: `clean_idempotency_key`, `finite_number`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from itertools import compress
from typing import Any

import orjson

from .errors import ValidationFailed

# C0 controls except tab/LF/CR, DEL, and the C1 block; NUL is the one databases refuse outright.
CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_ANYWHERE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
JSON_MAX_DEPTH = 32
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]+")  # visible ASCII, no spaces

CONTROL_MESSAGE = "Dữ liệu chứa ký tự điều khiển không hợp lệ (ví dụ NUL)."


class InputRejected(ValidationFailed):
    """Input that no operation accepts; 422 with the offending field (location.name)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__([{"field": field, "message": message}], message=message)
        self.field = field


def has_control_chars(value: str, *, allow_whitespace: bool = True) -> bool:
    pattern = CONTROL_IN_VALUE if allow_whitespace else CONTROL_ANYWHERE
    return pattern.search(value) is not None


def check_text(value: str, *, field: str, allow_whitespace: bool = True) -> str:
    if has_control_chars(value, allow_whitespace=allow_whitespace):
        raise InputRejected(f"{field}: {CONTROL_MESSAGE}", field=field)
    return value


def _walk(value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    if depth > JSON_MAX_DEPTH:
        raise InputRejected(f"Dữ liệu JSON lồng quá sâu (tối đa {JSON_MAX_DEPTH} cấp).", field=path or "body")
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, key
            yield from _walk(item, sub, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", depth + 1)
    else:
        yield path or "body", value


def check_json_value(data: Any) -> Any:
    """Depth, control characters and finiteness of an already-parsed JSON document."""
    for path, value in _walk(data, "", 0):
        if isinstance(value, str):
            check_text(value, field=path[:120])
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputRejected(f"{path[:120]}: số không hợp lệ (phải là số hữu hạn).", field=path[:120])
    return data


def _reject_constant(name: str) -> Any:
    raise InputRejected(f"Giá trị số không hợp lệ: {name} (chỉ chấp nhận số hữu hạn).", field="body")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise InputRejected(f"Giá trị số quá lớn: {text[:40]} (chỉ chấp nhận số hữu hạn).", field="body")
    return number


def _max_nesting(text: str) -> int:
    """Bracket depth outside strings, stopping early past the limit (json.loads recurses in C)."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    depth = deepest = 0
    for char in re.sub(r"[^\[\]{}]", "", stripped):
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > JSON_MAX_DEPTH:
                    return deepest
        else:
            depth -= 1
    return deepest


# A decoded JSON string can only hold a refused character if the text holds it raw (DEL and C1 are legal raw
# inside JSON strings; raw C0 is a syntax error) or as an escape (\b, \f, \u0000-\u001f, \u007f-\u009f).
# Conservative: an escaped backslash followed by "b" also matches, and only sends the body the slow way.
_MAY_HOLD_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\\[bf]|\\u00[01][0-9a-f]|\\u007f|\\u00[89][0-9a-f]", re.IGNORECASE
)


# The same test, quicker (issue 20: the regex above was 5-12 µs per record of a bulk register batch, as much as
# the parsing): raw C0 controls and DEL are single bytes in UTF-8, U+0080-U+009F are 0xC2 0x80-0x9F, and every
# escape starts with a backslash (a pattern starting with a literal is searched at C speed).
_RAW_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_NOT_RAW_CONTROL_OR_C2 = bytes(b for b in range(256) if b not in _RAW_CONTROL_BYTES and b != 0xC2)
_RAW_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_ESCAPED_CONTROL = re.compile(rb"\\(?:[bfBF]|[uU]00(?:[0189][0-9a-fA-F]|7[fF]))")


def _may_hold_control(body: bytes) -> bool:
    """`_MAY_HOLD_CONTROL.search(body.decode())` for a UTF-8 body (test_inputs compares the two)."""
    raw = body.translate(None, _NOT_RAW_CONTROL_OR_C2)
    if raw and (raw.replace(b"\xc2", b"") or _RAW_C1.search(body)):
        return True
    return _ESCAPED_CONTROL.search(body) is not None


_CONTAINERS = frozenset((dict, list))
_IS_CONTAINER = _CONTAINERS.__contains__


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar 0, `[]` 1), stopping early past the limit. Level by level, each
    node's child containers picked at C speed (parsed JSON holds exact dicts and lists)."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > JSON_MAX_DEPTH:
            return depth
        below: list[Any] = []
        for node in level:
            items = node.values() if type(node) is dict else node
            below.extend(compress(items, map(_IS_CONTAINER, map(type, items))))
        level = below
    return depth


# orjson reads an integer past 64 bits as a float where json keeps it exact: a run of 19 or more digits (anywhere,
# strings included: conservative) sends the body to json. (Digits all made "0", then one substring search.)
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_NINETEEN_DIGITS = b"0" * 19


def _may_hold_wide_number(body: bytes) -> bool:
    return _NINETEEN_DIGITS in body.translate(_DIGITS_AS_ZERO)


def _json_loads(text: str) -> Any:
    """json.loads under our number rules: NaN/Infinity and non-finite numbers (1e309) are 422."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise InputRejected(
            f"Dữ liệu JSON lồng quá sâu (tối đa {JSON_MAX_DEPTH} cấp).", field="body"
        ) from exc


def _loads(body: bytes, text: str) -> Any:
    """orjson where it gives what json gives (issue 20: json.loads with a Python callback per float was ~10 %
    of a bulk register request); whatever orjson refuses (NaN, 1e309, a lone surrogate escape, trailing
    garbage, nesting past 1,024) goes to json, which accepts it or refuses it with the same status and
    message as before (a syntax error names its line and column)."""
    if not _may_hold_wide_number(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return _json_loads(text)


def parse_json_body(body: bytes) -> Any:
    """Parse a JSON request body under the rules above; raises InputRejected (422) or ValueError (not JSON).

    Fast path (issue 20: a 1,000-record register batch spent ~15 % of its time here): when the text cannot
    decode to a string with a refused character, parse once (orjson, see `_loads`) and check the depth on the
    parsed value. Otherwise every string and key is walked and checked."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRejected("Dữ liệu gửi lên không phải UTF-8.", field="body") from exc
    body = bytes(body)
    if not _may_hold_control(body):
        data = _loads(body, text)
        if _depth(data) > JSON_MAX_DEPTH:
            raise InputRejected(f"Dữ liệu JSON lồng quá sâu (tối đa {JSON_MAX_DEPTH} cấp).", field="body")
        return data
    if _max_nesting(text) > JSON_MAX_DEPTH:
        raise InputRejected(f"Dữ liệu JSON lồng quá sâu (tối đa {JSON_MAX_DEPTH} cấp).", field="body")
    data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    return check_json_value(data)


def finite_number(value: Any, *, field: str) -> float:
    """A finite float from user input (str/int/float), else a 422 naming the field."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputRejected(f"{field}: phải là một số.", field=field) from exc
    if not math.isfinite(number):
        raise InputRejected(f"{field}: phải là số hữu hạn.", field=field)
    return number


def clean_idempotency_key(value: str | None, *, max_length: int) -> str | None:
    """An idempotency key (header or body): visible ASCII, at most `max_length` characters; '' → None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > max_length:
        raise InputRejected(
            f"Idempotency-Key: tối đa {max_length} ký tự (nhận {len(value)}).", field="Idempotency-Key"
        )
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        raise InputRejected(
            "Idempotency-Key: chỉ gồm ký tự ASCII nhìn thấy được, không có khoảng trắng.",
            field="Idempotency-Key",
        )
    return value
