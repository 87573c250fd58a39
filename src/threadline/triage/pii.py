"""Personal-data detection with types and spans, and masking.

Hand-written patterns plus checksums (Luhn, mod-97, SSN rules) and libphonenumber. Number-like
strings that only look like personal data (order and tracking numbers, versions, flight numbers,
plain dates) are rejected by shape and by the words right before them. See
docs/decisions/0100-triage-rules-and-hand-written-pii-detector.md.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from threadline.triage.budget import MAX_PHONE_LOOKUPS, PII_WINDOW_CHARS, bounded_scan, folded
from threadline.triage.pii_checks import (
    card_network_prefix,
    digits_of,
    longest_iban,
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
)
_ADDRESS_BEFORE = re.compile(
    r"(?:apt|apartment|suite|ste|unit|flat|box)\.?\s*#?\s*$"
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
)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|usd|eur|gbp|rs\.?)\s*$")
_CARD_CONTEXT = re.compile(r"\b(?:card|cc|visa|mastercard|amex|debit|credit)\b")
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social\s+security|social\s+sec|ss\s?#)")
_SSN_CONTEXT_B = re.compile(rb"s(?<=\bs)(?:sn|ocial\s+security|ocial\s+sec|s\s?#)")
_BIRTH_CONTEXT = re.compile(
    r"\b(?:dob|d\.o\.b\.?|date\s+of\s+birth|birth\s?date|birthday|born|bday)\b"
)

_EMAIL = re.compile(  # RFC 5321 lengths: 64 for the local part, 63 a label, 255 the domain
    r"[A-Za-z0-9](?<![\w.+-][A-Za-z0-9])[A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}"
    r"(?:\.[A-Za-z0-9-]{1,63}){0,7}\.[A-Za-z]{2,63}(?![\w-])"
)
_CARD = re.compile(
    r"\d(?<![\w-]\d)(?<!\d[ -]\d)"
    r"(?:\d{11,18}|\d{3}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?|\d{3}[ -]\d{6}[ -]\d{4,5})"
    r"(?![\w-])(?![ -]\d{3,4}\b(?!/))"
)
# Anchored on its first dash (rare) rather than its first digit (everywhere in a digit dump).
_SSN_DASHED = re.compile(r"-(?<=(?<![\w-])\d{3}-)\d{2}-\d{4}(?![\w-])")
_SSN_LOOSE = re.compile(r"\d(?<![\w-]\d)(?:\d{2} \d{2} \d{4}|\d{8})(?![\w-])")
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?"
    r"(?![A-Za-z0-9])"
)
_SORT_CODE = re.compile(r"\b(?i:sort[\s-]?code)\s*(?:is|:)?\s*(\d{2}[-\s]?\d{2}[-\s]?\d{2})\b")
_ACCOUNT = re.compile(
    r"\b(?i:(?:bank\s+)?(?:account|acct|a/c)\s*(?:number|num|no\.?|#)|routing\s*(?:number|no\.?|#)?|"
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
    r"\b(?i:passport)\s*(?i:number|num|no\.?|#)?\s*(?i:is|:)?\s*([A-Za-z]{0,2}\d[A-Za-z0-9]{5,8})\b"
)
_BOOKING = re.compile(
    r"\b(?i:booking|reservation|confirmation|pnr|record\s+locator|e-?ticket)\s*"
    r"(?i:reference|ref\.?|code|number|no\.?|#)?\s*(?i:is|:|#)?\s*#?\s*([A-Z0-9]{5,10})\b"
)
# The never-stored types are looked for in the whole text: these run over its ASCII-folded,
# lower-cased bytes (``budget.folded``), where a case-blind scan costs nothing extra.
_CVV = re.compile(
    rb"\b(?:cvv2?|cvc2?|csc|cid|security\s+code|3[-\s]digit\s+code)\s*(?:is|:|#|code)?\s*(\d{3,4})\b"
)
_EXPIRY = re.compile(
    rb"\b(?:exp(?:iry|iration|ires|\.)?(?:\s+date)?|valid\s+(?:thru|through|until))\s*"
    rb"(?:is|:|on)?\s*((?:0?[1-9]|1[0-2])\s?/\s?(?:20)?\d{2})\b"
)
_MMYY = re.compile(r"\b(?:0[1-9]|1[0-2])/(?:20)?\d{2}\b")
_PASSWORD = re.compile(
    rb"\b(?:pass(?:word|code|wd)|pwd|pin(?:\s+code|\s+number)?)\s*(?:(?:is|was)\s+|[:=]\s*)"
    rb"(\S{4,64})"
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
    """The lower-cased ``width`` characters before ``start``, for the context patterns (which are
    lower-case: a case-blind alternation costs the engine 20 times more per character)."""
    return text[max(0, start - width) : start].lower()


def _lookalike(text: str, start: int) -> bool:
    return bool(_LOOKALIKE_BEFORE.search(_before(text, start, 30)))


def _emails(text: str) -> Iterator[PiiFinding]:
    if "@" not in text:
        return
    yield from bounded_scan(_EMAIL, text, "EMAIL_ADDRESS", _whole("EMAIL_ADDRESS"))


def _whole(kind: str) -> Callable[[re.Match[str]], PiiFinding]:
    return lambda m: PiiFinding(kind, m.start(), m.end())


def _group(kind: str) -> Callable[[re.Match[Any]], PiiFinding]:
    return lambda m: PiiFinding(kind, m.start(1), m.end(1))


def _cards(text: str) -> Iterator[PiiFinding]:
    def check(m: re.Match[str]) -> PiiFinding | None:
        number = digits_of(m.group())
        if not luhn_ok(number) or len(set(number)) < 2:
            return None
        context = _CARD_CONTEXT.search(_before(text, m.start(), 50)) is not None
        if _lookalike(text, m.start()) and not context:
            return None
        if (len(number) >= 13 and card_network_prefix(number)) or context:
            return PiiFinding("CREDIT_CARD", m.start(), m.end())
        return None

    yield from bounded_scan(_CARD, text, "CREDIT_CARD", check)


def _ssns(text: str) -> Iterator[PiiFinding]:
    def dashed(m: re.Match[str]) -> PiiFinding | None:
        start = m.start() - 3
        if ssn_ok(digits_of(text[start : m.end()])) and not _lookalike(text, start):
            return PiiFinding("US_SSN", start, m.end())
        return None

    def loose(m: re.Match[str]) -> PiiFinding | None:
        if ssn_ok(digits_of(m.group())) and _SSN_CONTEXT.search(_before(text, m.start(), 50)):
            return PiiFinding("US_SSN", m.start(), m.end())
        return None

    yield from bounded_scan(_SSN_DASHED, text, "US_SSN", dashed)
    if _SSN_CONTEXT_B.search(folded(text)):
        yield from bounded_scan(_SSN_LOOSE, text, "US_SSN", loose)


def _ibans(text: str) -> Iterator[PiiFinding]:
    def check(m: re.Match[str]) -> PiiFinding | None:
        raw = m.group()
        length = longest_iban(raw.replace(" ", ""))
        if not length:
            return None
        # map the compact length back onto the raw span (spaces included)
        seen, end = 0, m.start()
        for i, ch in enumerate(raw):
            if ch != " ":
                seen += 1
            if seen == length:
                end = m.start() + i + 1
                break
        return PiiFinding("IBAN", m.start(), end)

    yield from bounded_scan(_IBAN, text, "IBAN", check)


def _bank(text: str) -> Iterator[PiiFinding]:
    yield from bounded_scan(_SORT_CODE, text, "BANK_ACCOUNT", _group("BANK_ACCOUNT"))
    yield from bounded_scan(_ACCOUNT, text, "BANK_ACCOUNT", _group("BANK_ACCOUNT"))


def _phones(text: str) -> Iterator[PiiFinding]:
    lookups = 0

    def check(m: re.Match[str]) -> PiiFinding | None:
        nonlocal lookups
        cand = m.group()
        n_digits = sum(c.isdigit() for c in cand)
        if n_digits < 6 or _IPV4.match(cand):
            return None
        before = _before(text, m.start(), 30)
        if (
            _lookalike(text, m.start())
            or _CURRENCY_BEFORE.search(before[-6:])
            or _ADDRESS_BEFORE.search(before)
            or _STREET_AFTER.match(text, m.end())
        ):
            return None
        context = _PHONE_CONTEXT.search(before) is not None
        if n_digits == 6 and not (context and cand.count(" ") + cand.count("-") >= 2):
            return None
        lookups += 1
        if n_digits == 6 or phone_structure_ok(
            cand, context=context, lookup=lookups <= MAX_PHONE_LOOKUPS
        ):
            return PiiFinding("PHONE_NUMBER", m.start(), m.end())
        return None

    yield from bounded_scan(_PHONE, text, "PHONE_NUMBER", check)


def _birth_dates(text: str) -> Iterator[PiiFinding]:
    if not _BIRTH_CONTEXT.search(text.lower()):
        return

    def check(m: re.Match[str]) -> PiiFinding | None:
        if _BIRTH_CONTEXT.search(_before(text, m.start(), 45)):
            return PiiFinding("DATE_OF_BIRTH", m.start(), m.end())
        return None

    yield from bounded_scan(_DATE_RE, text, "DATE_OF_BIRTH", check)


def _card_security(text: str) -> Iterator[PiiFinding]:
    lowered = folded(text)
    yield from bounded_scan(_CVV, lowered, "CARD_SECURITY", _group("CARD_SECURITY"))
    yield from bounded_scan(_EXPIRY, lowered, "CARD_SECURITY", _group("CARD_SECURITY"))


def _passwords(text: str) -> Iterator[PiiFinding]:
    def check(m: re.Match[bytes]) -> PiiFinding | None:
        token = text[m.start(1) : m.end(1)].rstrip(".,!?)'\"")
        explicit = b":" in m.group(0)[: m.start(1) - m.start()] or b"=" in m.group(0)
        unusual = any(c.isdigit() for c in token) or any(not c.isalnum() for c in token)
        mixed = token[1:] != token[1:].lower()
        if explicit or unusual or mixed:
            return PiiFinding("PASSWORD", m.start(1), m.start(1) + len(token))
        return None

    yield from bounded_scan(_PASSWORD, folded(text), "PASSWORD", check)


def _booking_reference(m: re.Match[str]) -> PiiFinding | None:
    token = m.group(1)
    if any(c.isdigit() for c in token) or len(token) == 6:
        return PiiFinding("BOOKING_REFERENCE", m.start(1), m.end(1))
    return None


def _booking(text: str) -> Iterator[PiiFinding]:
    yield from bounded_scan(_BOOKING, text, "BOOKING_REFERENCE", _booking_reference)


def _passports(text: str) -> Iterator[PiiFinding]:
    yield from bounded_scan(_PASSPORT, text, "PASSPORT", _group("PASSPORT"))


def _addresses(text: str) -> Iterator[PiiFinding]:
    yield from bounded_scan(_STREET, text, "ADDRESS", _whole("ADDRESS"))
    yield from bounded_scan(_ADDRESS_CONTEXT, text, "ADDRESS", _group("ADDRESS"))
    for pattern in (_UNIT, _UK_POSTCODE):
        yield from bounded_scan(pattern, text, "ADDRESS", _whole("ADDRESS"))


Detector = Callable[[str], Iterable[PiiFinding]]
# What is never stored in clear is looked for in the whole text; the rest in its head.
_EVERYWHERE: tuple[Detector, ...] = (_cards, _ssns, _card_security, _passwords)
_IN_WINDOW: tuple[Detector, ...] = (
    _ibans,
    _emails,
    _bank,
    _passports,
    _booking,
    _birth_dates,
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


def _run(detectors: tuple[Detector, ...], text: str) -> Iterator[PiiFinding]:
    has_digit = _HAS_DIGIT.search(text) is not None
    for detector in detectors:
        if has_digit or detector in _DIGIT_FREE:
            yield from detector(text)


def detect_pii(text: str) -> list[PiiFinding]:
    """All personal data found in ``text``, without overlaps, ordered by position.

    Cards, security codes, SSNs and passwords anywhere in the text; the other types in its first
    ``PII_WINDOW_CHARS`` characters (triage/budget.py).
    """
    found = [*_run(_EVERYWHERE, text), *_run(_IN_WINDOW, text[:PII_WINDOW_CHARS])]
    if not found:
        return []
    cards = [f for f in found if f.type == "CREDIT_CARD"]
    found.extend(_expiry_after_cards(text, cards))
    found.sort(key=lambda f: (_PRIORITY[f.type], -(f.end - f.start), f.start))
    starts: list[int] = []  # the kept spans, which never overlap, by position
    kept: list[PiiFinding] = []
    for finding in found:
        if finding.end <= finding.start:
            continue
        i = bisect.bisect_right(starts, finding.start)
        if (i and kept[i - 1].end > finding.start) or (
            i < len(kept) and kept[i].start < finding.end
        ):
            continue
        starts.insert(i, finding.start)
        kept.insert(i, finding)
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
