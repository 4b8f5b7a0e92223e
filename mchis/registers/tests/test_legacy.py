"""R-ORG-04: Vietnamese text in NFC, NFD, TCVN3 (ABC) and VNI is stored as NFC. Property-based (hypothesis)."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mchis.registers.legacy import (
    detect_encoding,
    implausibility,
    tcvn3_to_unicode,
    to_nfc,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "t",
          "th", "tr", "v", "x"]  # fmt: skip
NUCLEI = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "ai", "ao", "âu", "ây", "oa", "ôi", "ơi", "ươ",
          "ưa", "uô", "iê", "uy", "ươi", "oai"]  # fmt: skip
CODAS = ["", "c", "m", "n", "ng", "nh", "t", "p"]
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]


@st.composite
def syllable(draw: st.DrawFn) -> str:
    onset, nucleus, coda, tone = (draw(st.sampled_from(x)) for x in (ONSETS, NUCLEI, CODAS, TONES))
    if (onset == "qu" and nucleus[0] in "uưoôơ") or (onset == "gi" and nucleus[0] == "i"):
        onset = "t"  # "quứa", "giiê" are not Vietnamese syllables
    # the tone sits on the last vowel carrying a hat/horn/breve, else on the first vowel
    marked = [i for i, ch in enumerate(nucleus) if ch in "ăâêôơư"]
    where = marked[-1] if marked else 0
    word = onset + nucleus[: where + 1] + tone + nucleus[where + 1 :] + coda
    return unicodedata.normalize("NFC", word)


@st.composite
def name(draw: st.DrawFn) -> str:
    words = draw(st.lists(syllable(), min_size=2, max_size=5))
    return " ".join(words)


@given(name())
def test_r_org_04_tcvn3_converters_are_inverse(text):
    assert tcvn3_to_unicode(unicode_to_tcvn3(text)) == text


@given(name())
def test_r_org_04_vni_converters_are_inverse(text):
    assert vni_to_unicode(unicode_to_vni(text)) == text
    titled = text.title()
    assert vni_to_unicode(unicode_to_vni(titled)) == titled


@given(name())
def test_r_org_04_nfd_and_nfc_input_give_nfc(text):
    assert to_nfc(unicodedata.normalize("NFD", text)) == text
    assert to_nfc(text) == text


@given(name())
@settings(max_examples=300)
def test_r_org_04_detected_tcvn3_is_decoded(text):
    encoded = unicode_to_tcvn3(text)
    assume(encoded != text and implausibility(encoded) > 0)
    assert to_nfc(encoded) == text


@given(name())
@settings(max_examples=300)
def test_r_org_04_detected_vni_is_decoded(text):
    encoded = unicode_to_vni(text.title())
    # a lone word may fit TCVN3 and VNI both; detect_encoding settles it over a whole file (test below)
    assume(encoded != text.title() and implausibility(encoded) > 0)
    assume(implausibility(tcvn3_to_unicode(encoded)) > 0)
    assert to_nfc(encoded) == text.title()


@given(st.lists(name(), min_size=8, max_size=15))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
def test_r_org_04_file_level_detection(texts):
    vni = [unicode_to_vni(t.title()) for t in texts]
    assume(sum(implausibility(v) for v in vni) > 2)
    assert detect_encoding(vni) == "vni"
    assert [to_nfc(v, "vni") for v in vni] == [t.title() for t in texts]
    tcvn = [unicode_to_tcvn3(t) for t in texts]
    if sum(implausibility(v) for v in tcvn) > 2:
        assert detect_encoding(tcvn) == "tcvn3"
    assert [to_nfc(v, "tcvn3") for v in tcvn] == texts
    assert detect_encoding(texts) == "unicode"


REAL_NAMES = [
    "Nguyễn Thị Hường", "Trần Văn Đức", "Lê Thị Mỹ Duyên", "Phạm Quốc Việt", "Hoàng Thị Thuỷ", "Bùi Thị Ngọc",
    "Đặng Văn Lộc", "Vũ Thị Phương Thảo", "Lò Thị Mai", "Hà Thị Nguyệt", "Xã Kim Bình", "Phường Minh Xuân",
    "Trạm Y tế xã Hồng Phong", "Thôn Bản Chang", "Giàng Thị Dở", "Ma Thị Hiền",
]  # fmt: skip


def test_r_org_04_real_names_in_every_encoding():
    for text in REAL_NAMES:
        assert to_nfc(unicode_to_vni(text)) == text, text
        assert to_nfc(unicodedata.normalize("NFD", text)) == text
        # TCVN3 has no toned capitals: the expected value keeps what .VnTime can carry
        expected = tcvn3_to_unicode(unicode_to_tcvn3(text))
        assert to_nfc(unicode_to_tcvn3(text)) == expected, text


def test_ascii_and_foreign_text_untouched():
    for text in ("Nguyen Van A", "Müller", "O'Brien", "12/03/2026", "Lê Tú"):
        assert to_nfc(text) == text
