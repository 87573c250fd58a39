"""Known coordinates for the outbound guard: the conversation's customer (refused in public in any
wording or format) and the brand's own contacts (the only phones and emails allowed in public).

Plain data in, spans out: the pipeline loads the coordinates from the database; nothing here
knows where they came from. Phones are compared as digits in every form a person writes them
(with or without the country code, with the trunk 0, or only the last seven digits or more),
emails case-insensitively and also when written "name at example dot org".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import phonenumbers

MIN_PHONE_DIGITS = 7  # fewer digits of a number say nothing about whose it is
MIN_HANDLE = 4
_DIGIT_RUN = re.compile(r"\+?\d(?:[ \t().\-/]{0,3}\d)*")
_AT = r"\s*(?:@|[\[({]\s*at\s*[\])}]|(?<=\s)at(?=\s))\s*"
_DOT = r"\s*(?:\.|[\[({]\s*dot\s*[\])}]|(?<=\s)dot(?=\s))\s*"


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def phone_forms(number: str) -> frozenset[str]:
    """The digit strings a number is written as: +CC NSN, NSN, and the national form."""
    forms = {digits(number)}
    try:
        parsed = phonenumbers.parse(number if number.startswith("+") else "+" + number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None:
        nsn = phonenumbers.national_significant_number(parsed)
        forms |= {f"{parsed.country_code}{nsn}", nsn, digits(phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.NATIONAL))}
    return frozenset(f for f in forms if len(f) >= MIN_PHONE_DIGITS)


def _kind(value: str) -> str:
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        return "url"
    if "@" in text[1:]:
        return "email"
    if text.startswith("+") and len(digits(text)) >= MIN_PHONE_DIGITS and \
            not text[1:].replace(" ", "").replace("-", "").isalpha():
        return "phone"
    return "handle"


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # PHONE_NUMBER | EMAIL_ADDRESS | ACCOUNT_HANDLE
    start: int
    end: int


@dataclass(frozen=True)
class Known:
    """What the guard knows beyond the text. `customer`: every email, phone (E.164) and handle
    of the conversation's customer(s); `brand`: the workspace's own emails, phones and URLs."""

    customer: tuple[str, ...] = ()
    brand: tuple[str, ...] = ()
    _phones: tuple[frozenset[str], ...] = field(init=False, repr=False, compare=False)
    _emails: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _handles: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _brand_phones: frozenset[str] = field(init=False, repr=False, compare=False)
    _brand_emails: frozenset[str] = field(init=False, repr=False, compare=False)
    _brand_urls: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[str]] = {"phone": [], "email": [], "handle": [], "url": []}
        for value in self.customer:
            if value and value.strip():
                by_kind[_kind(value)].append(value.strip())
        set_ = object.__setattr__
        set_(self, "_phones", tuple(f for f in map(phone_forms, by_kind["phone"]) if f))
        set_(self, "_emails", tuple(_email_pattern(e) for e in dict.fromkeys(
            e.lower() for e in by_kind["email"])))
        handles = {h.lstrip("@").lower() for h in by_kind["handle"] + by_kind["url"]}
        set_(self, "_handles", tuple(
            re.compile(r"(?<![\w@.+-])@?" + re.escape(h) + r"(?![\w-])", re.IGNORECASE)
            for h in sorted(handles) if len(h) >= MIN_HANDLE))
        brand: dict[str, list[str]] = {"phone": [], "email": [], "handle": [], "url": []}
        for value in self.brand:
            if value and value.strip():
                brand[_kind(value)].append(value.strip())
        set_(self, "_brand_phones", frozenset().union(*map(phone_forms, brand["phone"])))
        set_(self, "_brand_emails", frozenset(e.lower() for e in brand["email"]))
        set_(self, "_brand_urls", tuple(u.lower().rstrip("/") for u in brand["url"]))

    def customer_matches(self, text: str) -> list[Match]:
        """Every place the text gives one of the customer's coordinates."""
        found = list(self._phone_matches(text))
        for pattern in self._emails:
            found += [Match("EMAIL_ADDRESS", m.start(), m.end()) for m in pattern.finditer(text)]
        for pattern in self._handles:
            found += [Match("ACCOUNT_HANDLE", m.start(), m.end())
                      for m in pattern.finditer(text)]
        return sorted(found, key=lambda m: (m.start, m.end))

    def _phone_matches(self, text: str) -> Iterator[Match]:
        if not self._phones:
            return
        for run in _DIGIT_RUN.finditer(text):
            found = digits(run.group())
            if len(found) < MIN_PHONE_DIGITS:
                continue
            if any(found in form or form in found for forms in self._phones for form in forms):
                yield Match("PHONE_NUMBER", run.start(), run.end())

    def is_brand(self, kind: str, text: str, start: int, end: int) -> bool:
        """Is the phone or email at text[start:end] one of the brand's own contacts?"""
        value = text[start:end]
        if kind == "EMAIL_ADDRESS" and value.strip().lower() in self._brand_emails:
            return True
        if kind == "PHONE_NUMBER" and digits(value) in self._brand_phones:
            return True
        return kind in ("EMAIL_ADDRESS", "PHONE_NUMBER") and _inside_any(
            text.lower(), self._brand_urls, start, end)


def _email_pattern(email: str) -> re.Pattern[str]:
    local, _, domain = email.rpartition("@")
    parts = [re.escape(p) for p in domain.split(".")]
    return re.compile(r"(?<![\w.+-])" + re.escape(local) + _AT + _DOT.join(parts) +
                      r"(?![\w-])", re.IGNORECASE)


def _inside_any(lowered: str, needles: Iterable[str], start: int, end: int) -> bool:
    for needle in needles:
        at = lowered.find(needle)
        while at != -1:
            if at <= start and end <= at + len(needle):
                return True
            at = lowered.find(needle, at + 1)
    return False


NOTHING = Known()
