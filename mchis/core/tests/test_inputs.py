"""No HTTP 500 on any input (issue 10 item 9), fixed by class: one input-sanitising layer (mchis.core.inputs +
InputSanitizingMiddleware), bounded pagination, strict anchors, clear errors for damaged files."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from mchis.core.errors import DomainError, ValidationFailed
from mchis.core.http import content_disposition
from mchis.core.inputs import InputRejected, clean_idempotency_key, finite_number, parse_json_body
from mchis.core.models import AuditEvent


@pytest.fixture
def collector_client(tree, make_user):
    client = Client()
    client.force_login(make_user("collector", tree.tyt_a1))
    return client


def test_nul_in_a_query_parameter_is_422_in_the_api_and_on_pages(collector_client):
    api = collector_client.get("/api/v1/children", {"q": "Nguy\x00n"})
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "q"
    page = collector_client.get("/children/", {"q": "a\x00"})
    assert page.status_code == 422 and "ký tự điều khiển" in page.content.decode()


def test_nul_in_a_json_string_or_key_is_422(collector_client):
    body = {"full_name": "An\x00", "date_of_birth": "12/03/2018", "sex": "M"}
    response = collector_client.post("/api/v1/children", body, content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "full_name"
    nested = {"changes": {"mother\x01": "x"}, "reason": "r"}
    response = collector_client.post(
        "/api/v1/children/00000000-0000-4000-8000-000000000000/change-requests",
        nested,
        content_type="application/json",
    )
    assert response.status_code == 422


def test_r_sec_05_failed_login_with_nul_in_the_username_is_still_audited(client, tree):
    """Reproduced: the failed-login audit row was lost (the database refused the NUL)."""
    response = client.post(
        reverse("accounts:login"), {"username": "admin\x00", "password": "x"}, REMOTE_ADDR="10.3.3.3"
    )
    assert response.status_code == 422
    row = AuditEvent.objects.get(action="auth.login_failed")
    assert row.changes["username"] == [None, "admin\\x00"] and row.ip == "10.3.3.3"


def test_deep_json_is_422_not_recursion_error(collector_client):
    deep = "[" * 100_000 + "]" * 100_000
    response = collector_client.post("/api/v1/children", deep, content_type="application/json")
    assert response.status_code == 422 and "lồng quá sâu" in response.json()["message"]
    with pytest.raises(InputRejected, match="lồng quá sâu"):
        parse_json_body(('{"a":' * 40 + "1" + "}" * 40).encode())
    assert parse_json_body(b'{"a": "[[[[not nesting]]]]"}') == {"a": "[[[[not nesting]]]]"}


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e309"])
def test_non_finite_numbers_in_json_are_422(collector_client, number):
    body = '{"values": {"I.1:total": ' + number + "}}"
    response = collector_client.put(
        "/api/v1/reports/BCX3/TYT02269/2026-01", body, content_type="application/json"
    )
    assert response.status_code == 422, response.content


@pytest.mark.parametrize("raw", ["inf", "1e309", "nan", "-Infinity"])
def test_finite_number_helper(raw):
    with pytest.raises(InputRejected, match="hữu hạn"):
        finite_number(raw, field="x")


@pytest.mark.parametrize("raw", ["1e309", "inf", "-inf", "nan"])
def test_manual_cell_infinity_from_a_page_is_a_clear_error(forms, tree, make_user, raw):
    """Reproduced: Infinity/1e309 in a manual cell crashed (int(inf) -> OverflowError)."""
    from mchis.reports.services import report_set_manual_values

    reporter = make_user("reporter", tree.tyt_a1)
    with pytest.raises(ValidationFailed, match="chưa hợp lệ|không hợp lệ") as info:
        report_set_manual_values(
            actor=reporter,
            form_code="BCX3",
            unit_code=tree.tyt_a1.code,
            period="2026-01",
            values={"I.1:total": raw},
        )
    assert [e["field"] for e in info.value.errors] == ["I.1:total"]


@pytest.fixture
def forms(db):
    from mchis.reports.services import forms_load, shipped_form_files

    return forms_load(actor=None, paths=shipped_form_files())


def test_a_newline_in_a_period_path_is_404_and_never_reaches_a_header(collector_client, tree):
    from mchis.reports.periods import parse_period

    for url in (
        f"/reports/BCX3/{tree.tyt_a1.code}/2026-01%0A/excel/",
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/2026-01%0A",
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/2026-01%0D%0AX-Evil:%201",
    ):
        assert collector_client.get(url).status_code == 404, url
    with pytest.raises(ValueError, match="không hợp lệ"):
        parse_period("2026-01\n")
    assert content_disposition('a"\r\nX-Evil: 1.xlsx') == 'attachment; filename="a_X-Evil_1.xlsx"'


def test_idempotency_key_is_bounded(collector_client):
    body = {"full_name": "Nguyễn Văn An", "date_of_birth": "12/03/2018", "sex": "M"}
    response = collector_client.post(
        "/api/v1/children", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["message"]
    records = collector_client.post(
        "/api/v1/registers/anc/records", "[]", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert records.status_code == 422
    with pytest.raises(InputRejected, match="ASCII"):
        clean_idempotency_key("khóa", max_length=64)
    assert clean_idempotency_key("  ", max_length=64) is None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=100000", "offset=-1", "offset=100000000000000000000", "limit=abc"],
)
def test_pagination_is_bounded_everywhere(collector_client, query):
    for path in ("/api/v1/children", "/api/v1/registers/anc/records"):
        response = collector_client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query, response.status_code)
    for path in ("/api/v1/units", "/api/v1/admin-units"):
        response = collector_client.get(f"{path}?{query}")
        assert response.status_code in (400, 422), (path, query, response.status_code)


def test_records_list_has_a_maximum_page(collector_client):
    response = collector_client.get("/api/v1/registers/anc/records?limit=200")
    assert response.status_code == 200


def test_non_utf8_csv_and_damaged_workbooks_are_clear_errors():
    from mchis.registry import importing, tabular

    with pytest.raises(DomainError, match="không phải UTF-8"):
        tabular.read_rows(b"ho ten\n\xff\xfe\xc3\n", "f.csv", importing.COLUMNS)
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(DomainError, match="Excel"):
        tabular.read_rows(empty.getvalue(), "f.xlsx", importing.COLUMNS)
    good = tabular.write_xlsx([("a", "A")], [{"a": 1}], title="x")
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith(".rels"):
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(DomainError, match="Excel"):
        tabular.read_rows(broken.getvalue(), "f.xlsx", importing.COLUMNS)


def test_police_import_non_uuid_record_number_is_a_row_error(tree, make_user):
    from mchis.registry import police

    collector = make_user("collector", tree.tyt_a1)
    outcomes = police.police_import(
        actor=collector, rows=[{"_row": 2, "ma_ho_so": "not-a-uuid"}], file_sha="c" * 64, dry_run=True
    )
    assert outcomes[0].outcome == "not_found" and "UUID" in outcomes[0].message


@pytest.mark.parametrize(("slots", "status"), [("abc", 422), ("1000000", 422), ("-1", 422)])
def test_newborn_slots_is_bounded(collector_client, tree, slots, status):
    response = collector_client.post(
        "/registers/delivery/new/",
        {
            "facility": tree.tyt_a1.code,
            "event_date": "2026-01-05",
            "full_name": "Lê Thị Hoa",
            "newborn_slots": slots,
        },
    )
    assert response.status_code == status
    assert "newborn_slots" in response.content.decode()


def test_json_body_helper_rejects_non_utf8():
    with pytest.raises(InputRejected, match="UTF-8"):
        parse_json_body('{"a": "ầ"}'.encode("utf-16"))
    assert json.loads(b"[]") == parse_json_body(b"[]")


_JSON_DOCS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_DOCS, st.booleans(), st.integers(0, 40))
def test_json_fast_path_accepts_and_refuses_exactly_what_the_full_walk_does(doc, ascii_only, wrap):
    """parse_json_body's fast path (issue 20) against the full check: same value or the same refusal, for
    strings with any characters (escaped or raw) and any depth around the limit."""
    from mchis.core import inputs

    for _ in range(wrap):
        doc = [doc]
    text = json.dumps(doc, ensure_ascii=ascii_only)

    def outcome(fn):
        try:
            return ("ok", fn())
        except InputRejected as exc:
            return ("refused", exc.message)

    def full_walk():
        if inputs._max_nesting(text) > inputs.JSON_MAX_DEPTH:
            raise InputRejected("deep", field="body")
        return inputs.check_json_value(json.loads(text))

    fast, full = outcome(lambda: parse_json_body(text.encode())), outcome(full_walk)
    assert fast[0] == full[0]
    if fast[0] == "ok":
        assert fast[1] == full[1]


def _json_way(body: bytes) -> Any:
    """parse_json_body as it was before orjson (issue 20): json.loads with our number rules, then the depth."""
    from mchis.core import inputs

    text = body.decode("utf-8")
    if inputs._MAY_HOLD_CONTROL.search(text) is not None:
        return parse_json_body(body)  # that way is unchanged
    data = inputs._json_loads(text)
    if inputs._depth(data) > inputs.JSON_MAX_DEPTH:
        raise InputRejected(f"Dữ liệu JSON lồng quá sâu (tối đa {inputs.JSON_MAX_DEPTH} cấp).", field="body")
    return data


def _outcome_of(fn: Any, body: bytes) -> tuple[str, str]:
    """What a client sees: the value (json's spelling keeps int/float, -0.0 and key order apart), or the
    refusal (422 message) or the syntax error (400 message, with line and column)."""
    try:
        return ("ok", json.dumps(fn(body)))
    except InputRejected as exc:
        return ("refused", exc.message)
    except ValueError as exc:
        return ("not json", str(exc))


_EDGE_NUMBERS = st.sampled_from(
    [
        "1e309", "-1e999", "1e308", "1.5e-400", "-0", "-0.0", "0e0", "1E+2", "NaN", "Infinity", "-Infinity",
        str(2**63 - 1), str(2**63), str(2**64 - 1), str(2**64), str(-(2**63)), str(-(2**63) - 1),
        "1" * 30, "0." + "3" * 25, "123456789012345678.5", "01", "1.", ".5", "+1", "1e", "-",
    ]
)  # fmt: skip
_ANY_CHAR_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _ANY_CHAR_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ANY_CHAR_TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.integers(0, 40), st.booleans())
def test_json_parsed_by_orjson_is_what_json_gave(doc, wrap, ascii_only):
    """Same value, same refusal, same syntax error as json.loads (issue 20), for any JSON value: integers of
    any size, any float, strings with any characters (lone surrogates escaped), nesting around the limit."""
    for _ in range(wrap):
        doc = {"x": doc}
    text = json.dumps(doc, ensure_ascii=ascii_only)
    try:
        body = text.encode()
    except UnicodeEncodeError:  # a raw lone surrogate: not UTF-8, refused before any parser
        return
    assert _outcome_of(parse_json_body, body) == _outcome_of(_json_way, body)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        _EDGE_NUMBERS
        | st.sampled_from(['"a"', '"\\ud800"', '"\\udc00x"', "[", "]", "{", "}", ",", ":", " ", "\n", "true",
                           "nul", '"k"', '"\\u00e9"', "\ufeff", '"\x7f"', "\t", "tru", '"\\x"'])
        | st.integers().map(str),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_malformed_or_edge_json_is_answered_as_json_answered(text):
    """Malformed bodies (400 naming line and column), NaN/Infinity/1e309 (422), integers past 64 bits, lone
    surrogate escapes, a BOM, trailing commas: orjson's answer is json's."""
    body = text.encode("utf-8")
    assert _outcome_of(parse_json_body, body) == _outcome_of(_json_way, body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[1,]", ("not json", "Expecting value: line 1 column 4 (char 3)")),
        (b'{"a":\n  tru}', ("not json", "Expecting value: line 2 column 3 (char 8)")),
        (b'{"a": NaN}', ("refused", "Giá trị số không hợp lệ: NaN (chỉ chấp nhận số hữu hạn).")),
        (b"[1e999]", ("refused", "Giá trị số quá lớn: 1e999 (chỉ chấp nhận số hữu hạn).")),
        (str(2**64).encode(), ("ok", str(2**64))),
        (str(-(2**63) - 1).encode(), ("ok", str(-(2**63) - 1))),
        (b'"\\ud800"', ("ok", '"\\ud800"')),
    ],
)
def test_json_answers_pinned(body, expected):
    assert _outcome_of(parse_json_body, body) == expected


_FRAGMENTS = st.sampled_from(
    ["\\b", "\\f", "\\B", "\\F", "\\u0000", "\\u001F", "\\U001f", "\\u007f", "\\u007F", "\\u0080", "\\u009f",
     "\\u00a0", "\\u0020", "\\u00ff", "\\\\", "\\n", "\\t", "\\r", '\\"', "\x7f", "\x80", "\x9f", "\xa0", "\xc2",
     "Â", "ầ", "\t", "\n", "\r", "\x00", "\x1f", "u00", "\\u00", "\\u0", "\\"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_FRAGMENTS | st.characters(codec="utf-8"), max_size=10).map("".join))
def test_the_quick_control_test_is_the_regex(text):
    """`_may_hold_control` on the UTF-8 bytes answers as `_MAY_HOLD_CONTROL` on the text (issue 20)."""
    from mchis.core import inputs

    expected = inputs._MAY_HOLD_CONTROL.search(text) is not None
    assert inputs._may_hold_control(text.encode()) is expected
