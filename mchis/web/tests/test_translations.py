"""The English catalogue is complete, compiled and actually used.

The .po is parsed with a tiny stdlib parser (no polib at test time); the committed .mo is read with
gettext.GNUTranslations, so a .po edited without re-running compilemessages fails here.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sd]|%%|%[sd]|\{[A-Za-z_]\w*\}|</?[A-Za-z][^>]*>")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0
    awaiting_msgid: bool = False


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file (obsolete `#~` entries skipped); the header entry (msgid "") included."""
    entries: list[Entry] = []
    current: Entry | None = None
    pending_flags: set[str] = set()
    target: tuple[str, int] | None = None

    def unquote(text: str) -> str:
        return ast.literal_eval(text.strip())

    def append(value: str) -> None:
        assert current is not None and target is not None
        name, index = target
        if name == "msgstr":
            current.msgstr[index] = current.msgstr.get(index, "") + value
        else:
            setattr(current, name, (getattr(current, name) or "") + value)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            append(unquote(line))
            continue
        keyword, _, rest = line.partition(" ")
        starts_entry = keyword == "msgctxt" or (
            keyword == "msgid" and (current is None or current.msgstr or not current.awaiting_msgid)
        )
        if starts_entry:
            current = Entry(flags=pending_flags, line=number, awaiting_msgid=True)
            entries.append(current)
            pending_flags = set()
        assert current is not None, f"{path}:{number}: text outside an entry"
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            target = ("msgstr", int(match.group(1)))
            current.msgstr[target[1]] = ""
        elif keyword == "msgstr":
            target = ("msgstr", 0)
            current.msgstr[0] = ""
        elif keyword in ("msgid", "msgid_plural", "msgctxt"):
            target = (keyword, 0)
            setattr(current, keyword, "")
            if keyword == "msgid":
                current.awaiting_msgid = False
        else:
            raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
        append(unquote(rest))
    return entries


def messages() -> list[Entry]:
    return [entry for entry in parse_po(CATALOGUE / "django.po") if entry.msgid]


def test_the_parser_reads_the_whole_catalogue():
    entries = parse_po(CATALOGUE / "django.po")
    header = entries[0]
    assert header.msgid == "" and "Language: en" in header.msgstr[0]
    assert "fuzzy" not in header.flags
    source = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    assert len(entries) == len(re.findall(r"^msgid ", source, flags=re.MULTILINE))
    assert len(messages()) > 500


def test_every_entry_is_translated_and_not_fuzzy():
    untranslated = [
        f"line {e.line}: {e.msgid}"
        for e in messages()
        if not e.msgstr or not all(s.strip() for s in e.msgstr.values())
    ]
    fuzzy = [f"line {e.line}: {e.msgid}" for e in messages() if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_plural_entries_have_both_forms():
    for entry in messages():
        if entry.msgid_plural is not None:
            assert sorted(entry.msgstr) == [0, 1], entry.msgid


def test_translations_keep_every_placeholder():
    for entry in messages():
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in entry.msgstr.values():
            assert sorted(PLACEHOLDER.findall(text)) == expected, (entry.msgid, text)


def test_the_committed_mo_matches_the_po():
    with (CATALOGUE / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in messages():
        if entry.msgid_plural is not None:
            for n, index in ((1, 0), (2, 1)):
                if entry.msgctxt is not None:
                    got = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                else:
                    got = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                if got != entry.msgstr[index]:
                    stale.append(entry.msgid)
        else:
            if entry.msgctxt is not None:
                got = compiled.pgettext(entry.msgctxt, entry.msgid)
            else:
                got = compiled.gettext(entry.msgid)
            if got != entry.msgstr[0]:
                stale.append(entry.msgid)
    assert stale == [], "the .mo is stale: run python manage.py compilemessages -l en"


@pytest.mark.django_db
def test_login_page_is_vietnamese_by_default(client):
    page = client.get("/accounts/login/").content.decode()
    assert "Đăng nhập" in page
    assert "Log in" not in page


@pytest.mark.django_db
def test_login_page_is_english_after_choosing_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert "Log in" in page
    assert "Username" in page and "Password" in page
    assert "Đăng nhập" not in page
    assert "Mật khẩu" not in page


# --- nothing left untranslated in templates and in the choices people read (issue 13 item 2) -------------

VIETNAMESE = re.compile(r"[À-ỹĐđ]")
TEMPLATE_TAGS = re.compile(
    r"{%\s*(?:translate|trans)\s.*?%}"
    r"|{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}"
    r"|{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{{.*?}}|{%.*?%}",
    re.S,
)
# Legal documents printed in Vietnamese whatever the UI language (their wording is set by the circulars).
VIETNAMESE_DOCUMENTS = {
    "quality/minutes.html": "biên bản phúc tra (PDF, Thông tư/QĐ 3978 Điều 15)",
    "reports/report_pdf.html": "báo cáo thống kê in ra (PDF, mẫu của Thông tư 37/2019)",
}


def test_every_vietnamese_text_in_the_templates_goes_through_translate():
    untranslated = []
    for path in sorted((Path(settings.BASE_DIR) / "mchis").rglob("templates/**/*.html")):
        name = path.as_posix().split("/templates/", 1)[1]
        if name in VIETNAMESE_DOCUMENTS:
            continue
        text = TEMPLATE_TAGS.sub(" ", path.read_text(encoding="utf-8"))
        untranslated += [
            f"{name}: {line.strip()[:80]}" for line in text.splitlines() if VIETNAMESE.search(line)
        ]
    assert not untranslated, "wrap in {% translate %}:\n" + "\n".join(untranslated)


# Choices people read on the main pages: a record's sex and state, a request's kind and state, a report's state.
MAIN_CHOICES = (
    "mchis.registry.models.Sex",
    "mchis.registry.models.ChildStatus",
    "mchis.registry.models.RequestKind",
    "mchis.registry.models.RequestStatus",
    "mchis.registry.models.VerificationStatus",
    "mchis.registry.models.CorrectionStatus",
    "mchis.reports.models.ReportStatus",
    "mchis.accounts.roles.Role",
)


@pytest.mark.parametrize("dotted", MAIN_CHOICES)
def test_choices_on_the_main_pages_read_in_english_in_the_english_ui(dotted):
    from django.utils import translation
    from django.utils.module_loading import import_string

    choices = import_string(dotted)
    with translation.override("en"):
        still_vietnamese = [str(label) for _value, label in choices.choices if VIETNAMESE.search(str(label))]
    assert not still_vietnamese, f"{dotted}: wrap the labels in gettext_lazy and translate {still_vietnamese}"


def _every_choice_field() -> list[tuple[str, list[tuple[object, object]]]]:
    """(model.field, choices) for every field with choices in the project's own models."""
    from django.apps import apps

    fields = []
    for model in apps.get_models():
        if not model.__module__.startswith("mchis."):
            continue
        for f in model._meta.get_fields():
            choices = getattr(f, "flatchoices", None)
            if choices:
                fields.append((f"{model._meta.label}.{f.name}", list(choices)))
    return fields


def test_every_choice_a_person_can_read_is_a_word_in_both_languages():
    """The class of defect behind "codes instead of words" (issue 13 item 2): a stored choice whose label is
    its own code, or a Vietnamese label left out of the English catalogue. Covers every model field with
    choices, so a new one cannot slip in."""
    from django.utils import translation

    fields = _every_choice_field()
    assert len(fields) > 40  # registry, registers, quality, reports, places, units, accounts…
    code_as_label, still_vietnamese = [], []
    for name, choices in fields:
        with translation.override("vi"):
            code_as_label += [
                f"{name}: {v!r}" for v, label in choices if v not in ("", None) and str(label) == str(v)
            ]
        with translation.override("en"):
            still_vietnamese += [f"{name}: {label}" for _v, label in choices if VIETNAMESE.search(str(label))]
    assert not code_as_label, "give these choices a label a person reads:\n" + "\n".join(code_as_label)
    assert not still_vietnamese, "wrap in gettext_lazy and translate:\n" + "\n".join(still_vietnamese)


def test_register_field_labels_read_in_english_in_the_english_ui():
    from django.utils import translation

    from mchis.registers.definitions import NEWBORN_FIELDS, REGISTERS

    labels = (
        {reg.label for reg in REGISTERS.values()}
        | {spec.label for reg in REGISTERS.values() for spec in reg.all_fields}
        | {spec.label for spec in NEWBORN_FIELDS}
    )
    with translation.override("en"):
        untranslated = sorted(label for label in labels if VIETNAMESE.search(translation.gettext(label)))
    assert not untranslated, "mark with gettext_noop in registers/definitions.py and translate: " + ", ".join(
        untranslated
    )
