"""Legacy Vietnamese encodings → Unicode NFC (R-ORG-04, TCVN 6909:2001).

Old Excel registers were typed with the TCVN3 (ABC, fonts .VnTime) or VNI (VNI-Times) keyboards. Read as
Unicode, such text shows Latin-1 look-alikes: TCVN3 "TrÇn ThÞ Hoa", VNI "Traàn Thò Hoa" for "Trần Thị Hoa".
Pure functions only: `tcvn3_to_unicode`, `vni_to_unicode`, the inverse encoders (used by tests and demo
fixtures) and `to_nfc`, which detects the encoding heuristically (a legacy decode is kept only when it
turns invalid Vietnamese syllables into valid ones).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# TCVN3 (ABC): one byte per precomposed lower-case letter; capitals exist only for Ă Â Đ Ê Ô Ơ Ư.
_TCVN3_PAIRS = (
    "µà ¸á ¶ả ·ã ¹ạ ¨ă »ằ ¾ắ ¼ẳ ½ẵ Æặ ©â Çầ Êấ Èẩ Éẫ Ëậ ®đ Ìè Ðé Îẻ Ïẽ Ñẹ ªê Òề Õế Óể Ôễ Öệ "
    "×ì Ýí Øỉ Üĩ Þị ßò ãó áỏ âõ äọ «ô åồ èố æổ çỗ éộ ¬ơ êờ íớ ëở ìỡ îợ ïù óú ñủ òũ ôụ "
    "\u00adư õừ øứ öử ÷ữ ùự úỳ ýý ûỷ üỹ þỵ ¡Ă ¢Â §Đ £Ê ¤Ô ¥Ơ ¦Ư"
)
TCVN3_TO_UNICODE: dict[str, str] = {pair[0]: pair[1] for pair in _TCVN3_PAIRS.split(" ")}
UNICODE_TO_TCVN3: dict[str, str] = {v: k for k, v in TCVN3_TO_UNICODE.items()}

# VNI: base letter followed by a mark character; a few letters are single characters.
_VNI_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_TONES_UPPER = {"Ù": "\u0301", "Ø": "\u0300", "Û": "\u0309", "Õ": "\u0303", "Ï": "\u0323"}
_VNI_HAT = {"â": "\u0302", "á": "\u0302\u0301", "à": "\u0302\u0300", "å": "\u0302\u0309", "ã": "\u0302\u0303",
            "ä": "\u0302\u0323"}  # fmt: skip
_VNI_BREVE = {"ê": "\u0306", "é": "\u0306\u0301", "è": "\u0306\u0300", "ú": "\u0306\u0309", "ü": "\u0306\u0303",
              "ë": "\u0306\u0323"}  # fmt: skip


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}

    def add(seq: str, base: str, marks: str) -> None:
        table[seq] = unicodedata.normalize("NFC", base + marks)

    for lower in "aeiouy":
        for mark, comb in _VNI_TONES.items():
            add(lower + mark, lower, comb)
        upper = lower.upper()
        for mark, comb in _VNI_TONES_UPPER.items():
            add(upper + mark, upper, comb)
    for base in "ae" + "o":
        for mark, comb in _VNI_HAT.items():
            add(base + mark, base, comb)
        for mark, comb in _VNI_HAT.items():
            add(base.upper() + mark.upper(), base.upper(), comb)
    for mark, comb in _VNI_BREVE.items():
        add("a" + mark, "a", comb)
        add("A" + mark.upper(), "A", comb)
    # ơ / ư are single characters (ô, ö), tones follow them.
    for single, letter in (("ô", "ơ"), ("ö", "ư"), ("Ô", "Ơ"), ("Ö", "Ư")):
        table[single] = letter
        tones = _VNI_TONES if single.islower() else _VNI_TONES_UPPER
        for mark, comb in tones.items():
            add(single + mark, letter, comb)
    singles = {"ñ": "đ", "Ñ": "Đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
               "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ"}  # fmt: skip
    table.update(singles)
    # "i" with a tone is written as the single letters above, never "i"+mark in VNI.
    for mark in list(_VNI_TONES) + list(_VNI_TONES_UPPER):
        table.pop("i" + mark, None)
        table.pop("I" + mark, None)
    return table


VNI_TO_UNICODE: dict[str, str] = _build_vni()
UNICODE_TO_VNI: dict[str, str] = {}
for _seq, _uni in sorted(VNI_TO_UNICODE.items(), key=lambda kv: -len(kv[0])):
    if _seq != _uni:
        UNICODE_TO_VNI.setdefault(_uni, _seq)
_VNI_PATTERN = re.compile(
    "|".join(
        re.escape(seq) for seq in sorted(VNI_TO_UNICODE, key=len, reverse=True) if seq != VNI_TO_UNICODE[seq]
    )
)


def tcvn3_to_unicode(text: str) -> str:
    return "".join(TCVN3_TO_UNICODE.get(ch, ch) for ch in text)


def unicode_to_tcvn3(text: str) -> str:
    """Encode NFC text the way a .VnTime keyboard would (toned capitals do not exist: they are lowered)."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in UNICODE_TO_TCVN3:
            out.append(UNICODE_TO_TCVN3[ch])
        elif ch.lower() in UNICODE_TO_TCVN3 and ch.lower() != ch:
            out.append(UNICODE_TO_TCVN3[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


def vni_to_unicode(text: str) -> str:
    return _VNI_PATTERN.sub(lambda m: VNI_TO_UNICODE[m.group(0)], text)


def unicode_to_vni(text: str) -> str:
    return "".join(UNICODE_TO_VNI.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


# --- detection -------------------------------------------------------------------------------------------

_ONSETS = {"", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh", "p",
           "ph", "q", "qu", "r", "s", "t", "th", "tr", "v", "x"}  # fmt: skip
_CODAS = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"}
_NUCLEI = {
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu",
    "ia", "iê", "iêu", "iu", "oa", "oă", "oai", "oao", "oay", "oe", "oeo", "oi", "ôi", "ơi", "oo", "ua", "uâ",
    "uây", "uê", "ui", "uô", "uôi", "uơ", "uy", "uya", "uyê", "uyu", "ưa", "ưi", "ươ", "ươi", "ươu", "ưu", "yê",
    "yêu", "uyêu", "uia",
}  # fmt: skip
_VOWELS = set("aăâeêioôơuưy")
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_WORD = re.compile(r"[^\s\d.,;:()\-/'\"]+")
_VIET_LETTERS = set("abcdđeghiklmnopqrstuvxyăâêôơư") | set("fjwz")


@lru_cache(maxsize=65536)
def _syllable_ok(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in decomposed if ch in _TONE_MARKS)
    if tones > 1:
        return False
    tone_at = -1  # index (in the toneless NFC word) of the letter carrying the tone
    letters = -1
    for ch in decomposed:
        if ch in _TONE_MARKS:
            tone_at = letters
        elif not unicodedata.combining(ch):
            letters += 1
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    if any(ch not in _VIET_LETTERS for ch in base):
        return False
    i = 0
    while i < len(base) and base[i] not in _VOWELS:
        i += 1
    j = i
    while j < len(base) and base[j] in _VOWELS:
        j += 1
    onset, nucleus, coda = base[:i], base[i:j], base[j:]
    if onset in {"gi", "qu"} and not nucleus:
        return True
    if onset == "g" and nucleus.startswith("i") and len(nucleus) > 1:
        onset, nucleus = "gi", nucleus[1:]
    if onset == "q" and nucleus.startswith("u"):
        onset, nucleus = "qu", nucleus[1:]
    if not (onset in _ONSETS and nucleus in _NUCLEI and coda in _CODAS):
        return False
    # The tone never sits on a final glide ("xaõ" is VNI for "xã", not a word) nor on the a of ia/ưa/ua.
    start = len(base) - len(coda) - len(nucleus)
    pos = tone_at - start
    if tone_at >= 0 and len(nucleus) >= 2 and not coda and pos == len(nucleus) - 1:
        if nucleus[-1] in "iyou" and nucleus != "uy":
            return False
        if nucleus in {"ia", "ưa", "ua"}:
            return False
    return True


def implausibility(text: str) -> int:
    """How un-Vietnamese a text looks: words with non-ASCII letters that are not valid syllables, plus
    mid-word capitals (a legacy code rendered as a capital, e.g. TCVN3 "NguyÔn")."""
    score = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        if not _syllable_ok(word):
            score += 2
        if any(ch.isupper() for ch in word[1:]) and not word.isupper():
            score += 1
    return score


def _is_unicode_vietnamese(text: str) -> bool:
    return any(ord(ch) > 0xFF for ch in text if ch != "\u00ad")


def detect_encoding(samples: list[str]) -> str:
    """'unicode', 'tcvn3' or 'vni' for a set of texts typed with one keyboard (a file, a column): the decoding
    that leaves the fewest invalid syllables overall. Settles single words that fit two encodings."""
    legacy = [s for s in samples if s and not s.isascii() and not _is_unicode_vietnamese(s)]
    if not legacy:
        return "unicode"
    scores = {
        "unicode": sum(implausibility(s) for s in legacy),
        "vni": sum(implausibility(vni_to_unicode(s)) for s in legacy),
        "tcvn3": sum(implausibility(tcvn3_to_unicode(s)) for s in legacy),
    }
    order = {"unicode": 0, "vni": 1, "tcvn3": 2}
    return min(scores, key=lambda k: (scores[k], order[k]))


def to_nfc(value: str | None, encoding: str | None = None) -> str:
    """Any of NFC / NFD / TCVN3 / VNI → NFC (whitespace untouched, '' for None).

    `encoding` ('unicode' / 'tcvn3' / 'vni', from `detect_encoding` over the whole file) overrides the
    per-text guess for text that is not already Unicode Vietnamese."""
    if not value:
        return ""
    if value.isascii():
        return value
    if _is_unicode_vietnamese(value):
        return unicodedata.normalize("NFC", value)
    original = implausibility(value)
    vni, tcvn3 = vni_to_unicode(value), tcvn3_to_unicode(value)
    if encoding in {"vni", "tcvn3", "unicode"}:
        # A text that only one decoding makes valid is decoded so (rows pasted from another file);
        # otherwise the file's encoding decides.
        scored = {
            "unicode": (original, value),
            "vni": (implausibility(vni), vni),
            "tcvn3": (implausibility(tcvn3), tcvn3),
        }
        best = min(scored, key=lambda k: scored[k][0])
        if all(scored[best][0] < scored[k][0] for k in scored if k != best):
            return unicodedata.normalize("NFC", scored[best][1])
        return unicodedata.normalize("NFC", scored[encoding][1])
    if original == 0:
        return unicodedata.normalize("NFC", value)
    # On a tie, VNI wins when it consumed letter+mark pairs: that pattern is rare in real TCVN3 text.
    candidates = [
        (implausibility(vni), 0 if len(vni) < len(value) else 2, vni),
        (implausibility(tcvn3), 1, tcvn3),
    ]
    score, _, best = min(candidates)
    return unicodedata.normalize("NFC", best if score < original else value)
