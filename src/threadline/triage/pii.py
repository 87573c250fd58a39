"""Personal-data detection with types and spans, and masking.

Hand-written patterns plus checksums (Luhn, mod-97, SSN rules) and libphonenumber. Number-like
strings that only look like personal data (order and tracking numbers, versions, flight numbers,
plain dates) are rejected by shape and by the words right before them. See
docs/decisions/0100-triage-pii-detector.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from threadline.triage.pii_checks import (
    card_network_prefix,
    digits_of,
    iban_ok,
    luhn_ok,
    phone_structure_ok,
    ssn_ok,
)
from threadline.triage.pii_medical import find_medical
from threadline.triage.types import PII_TYPES, PiiFinding

# Overlaps keep the finding whose type comes first: checksummed and context-anchored types
# before the generic phone and address shapes.
_ORDER = (
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
    "EMAIL_ADDRESS",
    "BANK_ACCOUNT",
    "CARD_SECURITY",
    "PASSPORT",
    "BOOKING_REFERENCE",
    "DATE_OF_BIRTH",
    "PASSWORD",
    "MEDICAL",
    "PHONE_NUMBER",
    "ADDRESS",
)
_PRIORITY = {name: i for i, name in enumerate(_ORDER)}
assert set(_ORDER) == set(PII_TYPES)

# Words that, right before a number, say "this is an identifier, not a phone/card/SSN".
_LOOKALIKE_BEFORE = re.compile(
    r"(?:order|tracking|track|invoice|ticket|case|ref|reference|confirmation|version|ver|build|"
    r"model|serial|flight|receipt|transaction|txn|item|sku|isbn|imei|po|parcel|package|shipment|"
    r"awb|claim|incident|request|rma|licen[cs]e|permit|zip|postcode|v)\s*(?:code\s*)?"
    r"(?:number|num|no\.?|id|#)?\s*(?:is\s+|was\s+)?[:#.]?\s*#?\s*$",
    re.IGNORECASE,
)
_ADDRESS_BEFORE = re.compile(
    r"(?:apt|apartment|suite|ste|unit|flat|box)\.?\s*#?\s*$", re.IGNORECASE
)
_STREET_SUFFIX = (
    r"(?:Street|St|Str|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Close|Crescent|Cres|Gardens|Row)"
)
_STREET_AFTER = re.compile(
    r"[ \t]+(?:[A-Za-z][\w'.-]*[ \t]+){1,4}" + _STREET_SUFFIX + r"\b", re.IGNORECASE
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|call|tel|telephone|mobile|cell|fax|desk|text|whatsapp|reach|ring|number)\b",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|usd|eur|gbp|rs\.?)\s*$", re.IGNORECASE)
_CARD_CONTEXT = re.compile(r"\b(?:card|cc|visa|mastercard|amex|debit|credit)\b", re.IGNORECASE)
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social\s+security|social\s+sec|ss\s?#)", re.IGNORECASE)
_BIRTH_CONTEXT = re.compile(
    r"\b(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s?date|birthday|born|bday)\b", re.IGNORECASE
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![\w-])"
)
_CARD = re.compile(
    r"(?<![\w-])(?<!\d[ -])"
    r"(?:\d{12,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5})"
    r"(?![\w-])(?![ -]\d{3,4}\b(?!/))"
)
_SSN_DASHED = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_SSN_LOOSE = re.compile(r"(?<![\w-])(?:\d{3} \d{2} \d{4}|\d{9})(?![\w-])")
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?"
    r"(?![A-Za-z0-9])"
)
_SORT_CODE = re.compile(r"(?i:sort[\s-]?code)\s*(?:is|:)?\s*(\d{2}[-\s]?\d{2}[-\s]?\d{2})\b")
_ACCOUNT = re.compile(
    r"(?i:(?:bank\s+)?(?:account|acct|a/c)\s*(?:number|num|no\.?|#)|routing\s*(?:number|no\.?|#)?|"
    r"bank\s+account)\s*(?:is|:|#)?\s*(\d{6,17})\b"
)
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,15}(?:[ .-]\d{1,8}){0,5}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w/]|[.,-]\d)"
)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2}|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
    r"[a-z]*\.?,?\s+(?:19|20)\d{2}|"
    r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?"
    r",?\s+(?:19|20)\d{2})"
)
_DATE_RE = re.compile(r"(?<![\w/.-])" + _DATE + r"(?![\w/-])")
_PASSPORT = re.compile(
    r"(?i:passport)\s*(?i:number|num|no\.?|#)?\s*(?i:is|:)?\s*([A-Za-z]{0,2}\d[A-Za-z0-9]{5,8})\b"
)
_BOOKING = re.compile(
    r"(?i:booking|reservation|confirmation|pnr|record\s+locator|e-?ticket)\s*"
    r"(?i:reference|ref\.?|code|number|no\.?|#)?\s*(?i:is|:|#)?\s*#?\s*([A-Z0-9]{5,10})\b"
)
_CVV = re.compile(
    r"(?i:cvv2?|cvc2?|csc|cid|security\s+code|3[-\s]digit\s+code)\s*(?i:is|:|#|code)?\s*(\d{3,4})\b"
)
_EXPIRY = re.compile(
    r"(?i:exp(?:iry|iration|ires|\.)?(?:\s+date)?|valid\s+(?:thru|through|until))\s*"
    r"(?i:is|:|on)?\s*((?:0?[1-9]|1[0-2])\s?/\s?(?:20)?\d{2})\b"
)
_MMYY = re.compile(r"\b(?:0[1-9]|1[0-2])/(?:20)?\d{2}\b")
_PASSWORD = re.compile(
    r"(?i:pass(?:word|code|wd)|pwd|pin(?:\s+code|\s+number)?)\s*(?:(?i:is|was)\s+|[:=]\s*)"
    r"(\S{4,64})"
)
_STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?(?:[ -]\d{1,5})?\s+(?:[A-Z][\w'.-]*\s+){1,4}"
    + _STREET_SUFFIX
    + r"\b\.?(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*\w+)?"
    r"(?:,?\s+[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,?\s+[A-Z]{2}(?:\s+\d{5}(?:-\d{4})?)?)?"
)
_UNIT = re.compile(r"\b(?:Apt|Apartment|Suite|Ste|Flat|Unit)\.?\s+#?\d{1,5}[A-Za-z]?\b")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b")
_ADDRESS_CONTEXT = re.compile(
    r"(?i:\baddress(?:\s+is|\s+to|:)|\b(?:i\s+live|we\s+live|live)\s+at|deliver(?:ed)?\s+to)"
    r"\s*(?:[:\n]\s*)?((?:\d|[A-Z])[^.?!;]{6,120})"
)


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width) : start]


def _lookalike(text: str, start: int) -> bool:
    return bool(_LOOKALIKE_BEFORE.search(_before(text, start, 30)))


def _emails(text: str) -> Iterator[PiiFinding]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield PiiFinding("EMAIL_ADDRESS", m.start(), m.end())


def _cards(text: str) -> Iterator[PiiFinding]:
    for m in _CARD.finditer(text):
        number = digits_of(m.group())
        if not luhn_ok(number) or len(set(number)) < 2:
            continue
        context = _CARD_CONTEXT.search(_before(text, m.start(), 50)) is not None
        if _lookalike(text, m.start()) and not context:
            continue
        if (len(number) >= 13 and card_network_prefix(number)) or context:
            yield PiiFinding("CREDIT_CARD", m.start(), m.end())


def _ssns(text: str) -> Iterator[PiiFinding]:
    for m in _SSN_DASHED.finditer(text):
        if ssn_ok(digits_of(m.group())) and not _lookalike(text, m.start()):
            yield PiiFinding("US_SSN", m.start(), m.end())
    if _SSN_CONTEXT.search(text):
        for m in _SSN_LOOSE.finditer(text):
            if ssn_ok(digits_of(m.group())) and _SSN_CONTEXT.search(_before(text, m.start(), 50)):
                yield PiiFinding("US_SSN", m.start(), m.end())


def _ibans(text: str) -> Iterator[PiiFinding]:
    for m in _IBAN.finditer(text):
        raw = m.group()
        compact = raw.replace(" ", "")
        for length in range(len(compact), 14, -1):
            if iban_ok(compact[:length]):
                # map the compact length back onto the raw span (spaces included)
                seen, end = 0, m.start()
                for i, ch in enumerate(raw):
                    if ch != " ":
                        seen += 1
                    if seen == length:
                        end = m.start() + i + 1
                        break
                yield PiiFinding("IBAN", m.start(), end)
                break


def _groups(pattern: re.Pattern[str], kind: str, text: str) -> Iterator[PiiFinding]:
    for m in pattern.finditer(text):
        yield PiiFinding(kind, m.start(1), m.end(1))


def _bank(text: str) -> Iterator[PiiFinding]:
    yield from _groups(_SORT_CODE, "BANK_ACCOUNT", text)
    yield from _groups(_ACCOUNT, "BANK_ACCOUNT", text)


def _phones(text: str) -> Iterator[PiiFinding]:
    for m in _PHONE.finditer(text):
        cand = m.group()
        n_digits = sum(c.isdigit() for c in cand)
        if n_digits < 6 or _IPV4.match(cand):
            continue
        before = _before(text, m.start(), 30)
        if (
            _lookalike(text, m.start())
            or _CURRENCY_BEFORE.search(before[-6:])
            or _ADDRESS_BEFORE.search(before)
            or _STREET_AFTER.match(text, m.end())
        ):
            continue
        context = _PHONE_CONTEXT.search(before) is not None
        if n_digits == 6 and not (context and cand.count(" ") + cand.count("-") >= 2):
            continue
        if n_digits == 6 or phone_structure_ok(cand, context=context):
            yield PiiFinding("PHONE_NUMBER", m.start(), m.end())


def _birth_dates(text: str) -> Iterator[PiiFinding]:
    if not _BIRTH_CONTEXT.search(text):
        return
    for m in _DATE_RE.finditer(text):
        if _BIRTH_CONTEXT.search(_before(text, m.start(), 45)):
            yield PiiFinding("DATE_OF_BIRTH", m.start(), m.end())


def _card_security(text: str) -> Iterator[PiiFinding]:
    yield from _groups(_CVV, "CARD_SECURITY", text)
    yield from _groups(_EXPIRY, "CARD_SECURITY", text)


def _passwords(text: str) -> Iterator[PiiFinding]:
    for m in _PASSWORD.finditer(text):
        token = m.group(1).rstrip(".,!?)'\"")
        explicit = ":" in m.group(0)[: m.start(1) - m.start()] or "=" in m.group(0)
        unusual = any(c.isdigit() for c in token) or any(not c.isalnum() for c in token)
        mixed = token[1:] != token[1:].lower()
        if explicit or unusual or mixed:
            yield PiiFinding("PASSWORD", m.start(1), m.start(1) + len(token))


def _booking(text: str) -> Iterator[PiiFinding]:
    for m in _BOOKING.finditer(text):
        token = m.group(1)
        if any(c.isdigit() for c in token) or len(token) == 6:
            yield PiiFinding("BOOKING_REFERENCE", m.start(1), m.end(1))


def _addresses(text: str) -> Iterator[PiiFinding]:
    for m in _STREET.finditer(text):
        yield PiiFinding("ADDRESS", m.start(), m.end())
    for m in _ADDRESS_CONTEXT.finditer(text):
        yield PiiFinding("ADDRESS", m.start(1), m.end(1))
    for pattern in (_UNIT, _UK_POSTCODE):
        for m in pattern.finditer(text):
            yield PiiFinding("ADDRESS", m.start(), m.end())


_DETECTORS: tuple[Callable[[str], Iterable[PiiFinding]], ...] = (
    _cards,
    _ibans,
    _ssns,
    _emails,
    _bank,
    _card_security,
    lambda t: _groups(_PASSPORT, "PASSPORT", t),
    _booking,
    _birth_dates,
    _passwords,
    _phones,
    _addresses,
    find_medical,
)

_HAS_DIGIT = re.compile(r"\d")
_DIGIT_FREE = frozenset({_emails, _passwords, _addresses, find_medical})


def _expiry_after_cards(text: str, cards: list[PiiFinding]) -> Iterator[PiiFinding]:
    for card in cards:
        m = _MMYY.search(text, card.end, card.end + 16)
        if m:
            yield PiiFinding("CARD_SECURITY", m.start(), m.end())


def detect_pii(text: str) -> list[PiiFinding]:
    """All personal data found in ``text``, without overlaps, ordered by position."""
    has_digit = _HAS_DIGIT.search(text) is not None
    found: list[PiiFinding] = []
    for detector in _DETECTORS:
        if has_digit or detector in _DIGIT_FREE:
            found.extend(detector(text))
    if not found:
        return []
    cards = [f for f in found if f.type == "CREDIT_CARD"]
    found.extend(_expiry_after_cards(text, cards))
    found.sort(key=lambda f: (_PRIORITY[f.type], -(f.end - f.start), f.start))
    kept: list[PiiFinding] = []
    for finding in found:
        if finding.end <= finding.start:
            continue
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    kept.sort(key=lambda f: (f.start, f.end))
    return kept


def mask(text: str, findings: Iterable[PiiFinding]) -> str:
    """Replace each finding's span with ``[TYPE]``; overlapping spans keep the first one."""
    out: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.start < pos:
            continue
        out.append(text[pos : f.start])
        out.append(f"[{f.type}]")
        pos = f.end
    out.append(text[pos:])
    return "".join(out)
