"""Personal data kept out of residents' free-text answers.

The survey promises anonymity, yet residents type their phone number, ID number, e-mail or car plate
into the suggestion box ("请联系我 138 1234 5678").  `mask_personal_data` finds them and replaces each
with a marker before the answer is stored, so the original never reaches the database.

Recognised (after reading full-width digits and letters as half-width, and allowing spaces and
dashes inside numbers, as people type them on phones):

- mobile numbers: 11 digits 1[3-9]…, optionally after +86 / 86 / 0086;
- landlines: an area code 0xx / 0xxx (optionally in brackets) and a 7–8 digit local number;
- resident ID numbers: 18 characters with a valid region digit, birth date and ISO 7064 MOD 11-2
  check digit (GB 11643), so an 18-digit form or order number is left alone;
- e-mail addresses;
- mainland car plates: a province's one-character abbreviation, a letter, and 5 (or 6 for new-energy
  vehicles) letters and digits.

Dates, amounts, form numbers and hotlines such as 12345 stay as written.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MASKS = {
    "phone": "〔电话已隐去〕",
    "id_number": "〔身份证号已隐去〕",
    "email": "〔邮箱已隐去〕",
    "plate": "〔车牌已隐去〕",
}
MASK_PATTERN = re.compile("|".join(re.escape(marker) for marker in MASKS.values()))

# Between the digits of a number people type spaces, hyphens and dashes of every width.
_SEP = r"[ \u00a0\-\u2010-\u2015\u2212]{0,2}"
_NOT_DIGIT_BEFORE = r"(?<![0-9A-Za-z])(?<![0-9][ \-])"
_NOT_DIGIT_AFTER = r"(?![0-9A-Za-z])(?!-[0-9])"


def _digits(count: int, first: str = r"\d") -> str:
    return first + "".join(_SEP + r"\d" for _ in range(count - 1))


_MOBILE = re.compile(
    _NOT_DIGIT_BEFORE + r"(?:(?:\+|00)?86" + _SEP + r")?1" + _SEP + r"[3-9]" + "".join(_SEP + r"\d" for _ in range(9))
    + _NOT_DIGIT_AFTER
)
_LANDLINE = re.compile(
    _NOT_DIGIT_BEFORE + r"(?:\(0\d{2,3}\)|0\d{2,3})" + _SEP + r"[2-9](?:" + _SEP + r"\d){6,7}" + _NOT_DIGIT_AFTER
)
_ID_CANDIDATE = re.compile(_NOT_DIGIT_BEFORE + _digits(17, "[1-9]") + _SEP + r"[0-9Xx]" + _NOT_DIGIT_AFTER)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z])")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    r"[" + _PROVINCES + r"][A-HJ-NP-Z][ ·•.\-]?(?=[A-HJ-NP-Z0-9]{0,5}[0-9])[A-HJ-NP-Z0-9]{5,6}"
    r"(?![A-Za-z0-9])"
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_resident_id(number: str) -> bool:
    """Whether 18 characters are a plausible PRC resident ID number: region, birth date, check digit."""
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit() or number[0] == "0":
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17]


def _half_width(text: str) -> str:
    """Full-width digits, letters and punctuation read as their half-width forms, one character for
    one, so a match's position in this text is its position in the original."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char) if ord(char) > 0x7F else char
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text)


def find_personal_data(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every piece of personal data in ``text``, without overlaps, in order."""
    if not isinstance(text, str) or not text:
        return []
    folded = _half_width(text)
    found: list[tuple[int, int, str]] = []
    for match in _ID_CANDIDATE.finditer(folded):
        if is_resident_id(_compact(match.group())):
            found.append((match.start(), match.end(), "id_number"))
    for kind, pattern in (("email", _EMAIL), ("phone", _MOBILE), ("phone", _LANDLINE), ("plate", _PLATE)):
        for match in pattern.finditer(folded):
            start, end = match.start(), match.end()
            if not any(start < taken_end and taken_start < end for taken_start, taken_end, _ in found):
                found.append((start, end, kind))
    return sorted(found)


def mask_personal_data(text: str) -> tuple[str, int]:
    """``text`` with each phone number, ID number, e-mail address and car plate replaced by a marker
    (〔电话已隐去〕 …), and how many were replaced."""
    found = find_personal_data(text)
    if not found:
        return text, 0
    pieces, position = [], 0
    for start, end, kind in found:
        pieces += [text[position:start], MASKS[kind]]
        position = end
    pieces.append(text[position:])
    return "".join(pieces), len(found)


def count_masks(text: str) -> int:
    """How many markers a stored text holds: what was masked before it was stored."""
    return len(MASK_PATTERN.findall(text)) if isinstance(text, str) else 0
