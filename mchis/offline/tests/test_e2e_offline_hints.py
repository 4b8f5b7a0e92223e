"""Browser checks of two offline additions (Playwright + /usr/bin/chromium, docs/offline.md): the duplicate hint
drawn from the unit's children kept on the device (its `fold` held to `mchis.core.text.fold`), and an existing
register record edited offline that meets a newer server version and becomes a conflict resolved field by field.
Screenshots go to test-results/offline/."""

from __future__ import annotations

import os
import shutil
import time
import unicodedata

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from mchis.core.text import fold
from mchis.offline.tests.test_e2e_offline import _session, _shot, _until
from mchis.registry.tests.test_e2e_registry import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Chromium not installed (apt-get install chromium)"
    ),
]

TRICKY_NAMES = [
    "Nguyễn Văn An",
    "NGUYỄN  VĂN   AN",
    "  Đặng Thị Đào ",
    "đỗ đức độ",
    "ĐINH ĐĂNG ĐỨC",
    "Ngô Thị Hoà",
    "Ngô Thị Hòa",
    unicodedata.normalize("NFD", "Trần Thị Thuỷ Tiên"),  # typed with combining marks
    "Nông Thị Ưng Ưởng",
    "Lò\u00a0Văn\tPáo",  # no-break space, tab
    "Hờ A Dình\u3000",  # ideographic space
    "Giàng A Chứ\u2003Sùng\n",
    "Phạm\x1fVăn\x85Ánh",  # separators Python counts as spaces and JavaScript's \s does not
    "Lê\ufeffThị",  # a BOM: JavaScript's \s would eat it, Python keeps it
    "Ǆemal Ñúñez Øle ß",
    "Ｌê Ｔhị",  # full-width letters
    "",
    " ",
]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.REGISTRY_STEP_UP_FOR_CHANGES = False


def test_offline_fold_matches_the_servers_and_the_hint_rule(
    transactional_db, live_server, tree, make_user, browser
):
    collector = make_user("collector", tree.tyt_a1, "cb.goi_y")
    context, page = _session(browser, live_server, collector)
    page.goto(f"{live_server.url}/offline/")
    _until(page, "!!window.MchisDupes")
    assert page.evaluate("names => names.map(n => window.MchisDupes.fold(n))", TRICKY_NAMES) == [
        fold(name) for name in TRICKY_NAMES
    ]
    children = [
        {"id": "a", "name": "Hoàng Văn Sủng", "dob": "02/04/2019", "mother": "Hoàng Thị Dợ", "pid": ""},
        {
            "id": "b",
            "name": "Lò Thị Mai",
            "dob": "10/01/2020",
            "mother": "Lò Thị Xuân",
            "pid": "008320000123",
        },
    ]
    cases = {
        "name_dob": {"full_name": "HOANG  VAN SUNG", "date_of_birth": "2/4/2019"},
        "other_dob": {"full_name": "Hoàng Văn Sủng", "date_of_birth": "03/04/2019"},
        "pid": {"full_name": "Lò Thị Máy", "personal_id": "008 320 000 123"},
        "mother_near": {
            "full_name": "Hoàng Văn Sáng",
            "date_of_birth": "05/04/2019",
            "mother_name": "hoàng thị dợ",
        },
        "mother_far": {
            "full_name": "Hoàng Văn Sáng",
            "date_of_birth": "06/04/2019",
            "mother_name": "Hoàng Thị Dợ",
        },
    }
    found = page.evaluate(
        "([kids, cases]) => Object.fromEntries(Object.entries(cases).map(([k, probe]) =>"
        " [k, window.MchisDupes.find(kids, probe).map(f => f.child.id + ':' + f.reasons.join(','))]))",
        [children, cases],
    )
    assert found == {
        "name_dob": ["a:name_dob"],
        "other_dob": [],
        "pid": ["b:pid"],
        "mother_near": ["a:mother_dob"],
        "mother_far": [],
    }
    context.close()


def test_offline_duplicate_hint_and_a_stale_register_edit_becomes_a_conflict(
    transactional_db, live_server, tree, make_user, browser
):
    from mchis.offline.models import ItemStatus, OfflineItem, RecordConflict
    from mchis.registers import services as register_services
    from mchis.registers.definitions import REGISTERS
    from mchis.registers.models import AncVisit
    from mchis.registers.webform import form_data, record_form_fields
    from mchis.registry.models import ChangeRequest, RequestKind
    from mchis.registry.services import change_request_approve, child_propose_create

    collector = make_user("collector", tree.tyt_a1, "cb.goi_y")
    leader = make_user("leader", tree.tyt_a1, "ld.goi_y")
    start = child_propose_create(
        actor=collector, unit=tree.tyt_a1, reason="Sổ", acknowledge_warnings=True,
        data={"full_name": "Hoàng Văn Sủng", "date_of_birth": "2019-04-02", "sex": "M", "mother_name": "Hoàng Thị Dợ"},
    )  # fmt: skip
    assert change_request_approve(actor=leader, request=start).child is not None
    anc = {"event_date": "03/11/2026", "place": "at_facility", "full_name": "Sùng Thị Lan", "dob": "01/01/1998",
           "gestational_age_weeks": "12", "visit_number": "1", "facility": tree.tyt_a1.code}  # fmt: skip
    record, errors = register_services.record_save(actor=collector, register="anc", data=anc)
    assert record is not None, errors

    context, page = _session(browser, live_server, collector)
    base = live_server.url
    page.goto(f"{base}/offline/")
    _until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    _until(page, f"window.MchisOutbox.key('{collector.pk}', {{cachedOnly: true}}).then(k => !!k)")
    page.goto(f"{base}/children/new/")
    _until(page, f"window.MchisOutbox.getState('reference:{collector.pk}').then(b => !!b)")
    page.goto(f"{base}/registers/anc/{record.pk}/")
    page.goto(f"{base}/offline/")
    context.set_offline(True)

    # a child typed offline who is already on the unit's list: the hint, as online, and its confirmation
    page.goto(f"{base}/children/new/")
    page.fill("#id_full_name", "HOÀNG VĂN SỦNG")
    page.fill("#id_date_of_birth", "02/04/2019")
    page.select_option("#id_sex", "M")
    page.fill("#id_mother_name", "Hoàng Thị Dợ")
    hint = page.locator("[data-testid=possible-duplicates][data-offline]")
    hint.wait_for()
    assert "Hoàng Văn Sủng" in hint.inner_text() and "cùng họ tên và ngày sinh" in hint.inner_text()
    page.click("main form[method=post] button[name=send]")
    assert "đây là trẻ khác" in page.locator("#offline-status").inner_text()
    assert page.locator("[data-testid=outbox-count] [data-outbox-n]").inner_text() == "0"
    page.check("#id_not_duplicate")
    page.fill("#id_not_duplicate_reason", "Khác mẹ: đã hỏi gia đình")
    _shot(page, "duplicate-hint-offline")
    page.click("main form[method=post] button[name=send]")
    _until(page, "document.querySelector('[data-outbox-n]').textContent === '1'")

    # an existing register record edited offline, on the version the page showed
    page.goto(f"{base}/registers/anc/{record.pk}/")
    page.fill("#id-gestational_age_weeks", "15")
    page.click("form[data-register-form] button[name=save]")
    page.wait_for_url("**/offline/")
    _until(page, "document.querySelector('[data-outbox-n]').textContent === '2'")

    # meanwhile, online, someone corrects the same field
    online = form_data(
        REGISTERS["anc"], {**record_form_fields(REGISTERS["anc"], record), "gestational_age_weeks": "13"}
    )
    assert register_services.record_save(actor=collector, register="anc", data=online, instance=record)[0]

    context.set_offline(False)
    _until(page, "document.querySelectorAll('[data-outbox-item][data-status=waiting]').length === 0", 90)
    # "not waiting" includes "sending": wait for the server's rows themselves, not for a fixed time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        OfflineItem.objects.filter(kind="register_edit").exists()
        and ChangeRequest.objects.filter(kind=RequestKind.CREATE, client_key__isnull=False).exists()
    ):
        time.sleep(0.2)
    created = ChangeRequest.objects.get(kind=RequestKind.CREATE, client_key__isnull=False)
    assert created.not_duplicate_reason == "Khác mẹ: đã hỏi gia đình"
    edit = OfflineItem.objects.get(kind="register_edit")
    assert edit.status == ItemStatus.CONFLICT
    assert AncVisit.objects.get(pk=record.pk).gestational_age_weeks == 13  # nothing overwritten
    conflict = RecordConflict.objects.get()
    ga = conflict.conflict["gestational_age_weeks"]
    assert (ga["base"], ga["theirs"], ga["ours"]) == ("12", "13", "15")
    page.reload()
    _until(page, "document.querySelectorAll('[data-outbox-item][data-status=conflict]').length === 1")

    # resolved field by field from the conflicts list
    page.goto(f"{base}/offline/conflicts/")
    page.click("[data-testid=record-conflicts] a")
    table = page.locator("[data-testid=record-conflict-table]")
    for text in ("12", "13", "15"):
        assert text in table.inner_text()
    _shot(page, "record-conflict-resolve")
    page.check("input[name=choice_gestational_age_weeks][value=ours]")
    page.click("[data-testid=resolve]")
    page.wait_for_url("**/offline/conflicts/")
    assert AncVisit.objects.get(pk=record.pk).gestational_age_weeks == 15
    context.close()
