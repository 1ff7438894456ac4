"""Personal-data detectors: e-mail addresses, phone numbers, payment cards and IBANs.

- ``pii_email``: ``local@domain.tld`` (RFC 5322 dot-atom subset, TLD ≥ 2 letters).
- ``pii_card``: 13–19 digits, optionally grouped by single spaces or dashes, that pass the Luhn
  checksum (ISO/IEC 7812-1) and start with a card network's leading digit (2–6).
- ``pii_iban``: country code, 2 check digits and the BBAN (optionally in groups of 4), with the
  country's registered length (ISO 13616 registry, common countries) and the mod-97 check (= 1).
- ``pii_phone``: candidates found by a cheap regex are confirmed with Google's libphonenumber
  (``phonenumbers``): ``+``-prefixed numbers in any region, others as North American numbers.
"""

from __future__ import annotations

import re
from functools import cache
from types import ModuleType

from tollgate.guardrails.spans import Span

EMAIL, PHONE, CARD, IBAN = "pii_email", "pii_phone", "pii_card", "pii_iban"

# Matched around each "@" only: the local part backwards (on a bounded window), the domain forwards.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b")
MAX_LOCAL_PART = 64
# Leading charsets (no look-behind first) let the regex engine skip ahead fast; the boundaries are
# checked in Python on the few candidates.
_CARD = re.compile(r"[2-6]\d{3}(?:[ -]?\d){9,15}")
_IBAN = re.compile(r"[A-Z][A-Z]\d\d(?: ?[A-Z0-9]){11,30}")  # [A-Z][A-Z], not [A-Z]{2}: faster in sre
# Loose on purpose (a leading charset lets the regex engine skip ahead fast); word boundaries and
# digit counts are checked in Python, libphonenumber decides.
_PHONE = re.compile(r"[+(\d][\d ().-]{6,20}\d")
_NOT_DIGITS = str.maketrans("", "", "+ ().-")

# ISO 13616 IBAN lengths (the registry's most used countries; others are checked by mod-97 only
# within the 15..34 bound).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28, "CZ": 24,
    "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IS": 26, "IT": 27, "KW": 30, "KZ": 20, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26, "UA": 29,
}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod-97-10: move the first 4 characters to the end, letters → 10..35."""
    iban = iban.replace(" ", "").upper()
    expected = IBAN_LENGTHS.get(iban[:2])
    if (expected is not None and len(iban) != expected) or not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def find_emails(text: str) -> list[Span]:
    spans = []
    at = text.find("@")
    while at != -1:
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        window_start = max(0, at - MAX_LOCAL_PART)
        local = _EMAIL_LOCAL.search(text, window_start, at) if domain is not None else None
        if domain is not None and local is not None:
            spans.append(Span(local.start(), domain.end(), EMAIL))
        at = text.find("@", at + 1)
    return spans


def _bounded(text: str, start: int, end: int, joiners: str) -> bool:
    """No letter/digit (or one of ``joiners``) right before ``start`` or right after ``end``."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before in joiners or after.isalnum() or after in joiners)


def find_cards(text: str) -> list[Span]:
    spans = []
    for m in _CARD.finditer(text):
        if not _bounded(text, m.start(), m.end(), "-"):
            continue
        digits = re.sub(r"[ -]", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            spans.append(Span(m.start(), m.end(), CARD))
    return spans


def find_ibans(text: str) -> list[Span]:
    return [
        Span(m.start(), m.end(), IBAN)
        for m in _IBAN.finditer(text)
        if _bounded(text, m.start(), m.end(), "") and iban_valid(m.group())
    ]


@cache
def _phonenumbers() -> ModuleType:
    """Imported on first use (~100 ms): only workspaces with ``pii_phone`` on pay for it."""
    import phonenumbers

    return phonenumbers


def find_phones(text: str) -> list[Span]:
    spans = []
    for m in _PHONE.finditer(text):
        if not _bounded(text, m.start(), m.end(), "+"):
            continue
        candidate = m.group()
        digits = len(candidate.translate(_NOT_DIGITS))
        international = candidate.startswith("+")
        if not (8 if international else 10) <= digits <= 15:
            continue
        phonenumbers = _phonenumbers()
        try:
            number = phonenumbers.parse(candidate, None if international else "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            spans.append(Span(m.start(), m.end(), PHONE))
    return spans
