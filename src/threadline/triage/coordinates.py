"""Known coordinates for the outbound guard: the conversation's customer (refused in public in any
wording or format) and the brand's own contacts (the only phones and emails allowed in public).

Plain data in, spans out: the pipeline loads the coordinates from the database; nothing here
knows where they came from. Phones are compared as digits in every form a person writes them
(with or without the country code, with the trunk 0, or only the last seven digits or more),
emails case-insensitively and also when written "name at example dot org".
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
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


MIN_DETAIL = 5  # a shorter part of an address ("Flat", "Main") says nothing about whose it is
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def detail_forms(kind: str, value: str) -> list[str]:
    """The ways a secure-form value is written again: an address whole and by its lines or
    comma-separated parts, a date of birth (YYYY-MM-DD) in the usual numeric and English
    forms, anything else as given."""
    text = " ".join(value.split())
    if kind == "DATE_OF_BIRTH":
        try:
            year, month, day = (int(p) for p in value.strip().split("-"))
        except ValueError:
            return [text]
        name = MONTHS[month - 1] if 1 <= month <= 12 else ""
        forms = [f"{year:04d}-{month:02d}-{day:02d}"]
        for d, m in ((f"{day:02d}", f"{month:02d}"), (str(day), str(month))):
            forms += [f"{d}/{m}/{year}", f"{m}/{d}/{year}", f"{d}.{m}.{year}", f"{d}-{m}-{year}"]
        if name:
            forms += [f"{day} {name} {year}", f"{name} {day}, {year}", f"{name} {day} {year}",
                      f"{day} {name[:3]} {year}", f"{name[:3]} {day}, {year}"]
        return forms
    if kind == "ADDRESS":
        parts = [" ".join(p.split()) for p in re.split(r"[\n,;]+", value)]
        return [text, *(p for p in parts if len(p) >= MIN_DETAIL)]
    return [text] if len(text) >= 3 else []


def _detail_pattern(form: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in form.split()]
    return re.compile(r"(?<!\w)" + r"[\s,]+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # PHONE_NUMBER | EMAIL_ADDRESS | ACCOUNT_HANDLE
    start: int
    end: int


@dataclass(frozen=True)
class Known:
    """What the guard knows beyond the text. `customer`: every email, phone (E.164) and handle
    of the conversation's customer(s); `brand`: the workspace's own emails, phones and URLs."""

    customer: tuple[str, ...] = field(default=(), repr=False)  # personal data: never logged
    brand: tuple[str, ...] = ()
    # What the customer gave on a secure form: (kind, value), kind ADDRESS, ORDER_NUMBER or
    # DATE_OF_BIRTH; refused in public in any spacing or case (an address also by its lines,
    # a date in the usual written forms).
    details: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    _details: tuple[tuple[str, re.Pattern[str]], ...] = field(init=False, repr=False,
                                                              compare=False)
    _phone_forms: frozenset[str] = field(init=False, repr=False, compare=False)
    _phone_parts: frozenset[str] = field(init=False, repr=False, compare=False)
    _emails: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _handles: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _brand_phones: frozenset[str] = field(init=False, repr=False, compare=False)
    _brand_emails: frozenset[str] = field(init=False, repr=False, compare=False)
    _brand_urls: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[str]] = {"phone": [], "email": [], "handle": [], "url": []}
        for value in self.customer:
            if value and value.strip():
                by_kind[_kind(value)].append(value.strip())
        set_ = object.__setattr__
        forms = frozenset().union(*map(phone_forms, by_kind["phone"]))
        set_(self, "_phone_forms", forms)
        set_(self, "_phone_parts", frozenset(  # every run of 7+ digits inside a form
            f[i:j] for f in forms for i in range(len(f))
            for j in range(i + MIN_PHONE_DIGITS, len(f) + 1)))
        set_(self, "_emails", tuple(_email_pattern(e) for e in dict.fromkeys(
            e.lower() for e in by_kind["email"])))
        handles = {h.lstrip("@").lower() for h in by_kind["handle"] + by_kind["url"]}
        set_(self, "_handles", tuple(
            re.compile(r"(?<![\w@.+-])@?" + re.escape(h) + r"(?![\w-])", re.IGNORECASE)
            for h in sorted(handles) if len(h) >= MIN_HANDLE))
        set_(self, "_details", tuple(
            (kind, _detail_pattern(form)) for kind, value in self.details
            for form in dict.fromkeys(detail_forms(kind, value))))
        brand: dict[str, list[str]] = {"phone": [], "email": [], "handle": [], "url": []}
        for value in self.brand:
            if value and value.strip():
                brand[_kind(value)].append(value.strip())
        set_(self, "_brand_phones", frozenset().union(*map(phone_forms, brand["phone"])))
        set_(self, "_brand_emails", frozenset(e.lower() for e in brand["email"]))
        set_(self, "_brand_urls", tuple(re.compile(re.escape(u.rstrip("/")), re.IGNORECASE)
                                        for u in dict.fromkeys(brand["url"])))

    def customer_matches(self, text: str) -> list[Match]:
        """Every place the text gives one of the customer's coordinates."""
        found = list(self._phone_matches(text))
        for pattern in self._emails:
            found += [Match("EMAIL_ADDRESS", m.start(), m.end()) for m in pattern.finditer(text)]
        for pattern in self._handles:
            found += [Match("ACCOUNT_HANDLE", m.start(), m.end())
                      for m in pattern.finditer(text)]
        for kind, pattern in self._details:
            found += [Match(kind, m.start(), m.end()) for m in pattern.finditer(text)]
        return sorted(found, key=lambda m: (m.start, m.end))

    def _phone_matches(self, text: str) -> Iterator[Match]:
        """Digit runs that are part of one of his numbers or hold a whole one (set lookups:
        linear in the text)."""
        if not self._phone_forms:
            return
        lengths = sorted({len(f) for f in self._phone_forms})
        for run in _DIGIT_RUN.finditer(text):
            found = digits(run.group())
            if len(found) < MIN_PHONE_DIGITS:
                continue
            if found in self._phone_parts or any(
                    found[i:i + n] in self._phone_forms
                    for n in lengths for i in range(len(found) - n + 1)):
                yield Match("PHONE_NUMBER", run.start(), run.end())

    def brand_url_spans(self, text: str) -> Spans:
        """Where the brand's listed URLs occur in the text."""
        return Spans((m.start(), m.end()) for url in self._brand_urls for m in url.finditer(text))

    def is_brand(self, kind: str, value: str, inside: bool) -> bool:
        """Is this phone or email (`inside` a listed brand URL or not) the brand's own?"""
        if kind == "EMAIL_ADDRESS":
            return inside or value.strip().lower() in self._brand_emails
        if kind == "PHONE_NUMBER":
            return inside or digits(value) in self._brand_phones
        return False


class Spans:
    """Character spans, asked "does any of you overlap / contain this one?" in log time."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self._spans = sorted(spans)
        self._starts = [s for s, _ in self._spans]
        self._max_end: list[int] = []
        for _, end in self._spans:
            self._max_end.append(max(end, self._max_end[-1] if self._max_end else end))

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self._starts, end)
        return i > 0 and self._max_end[i - 1] > start

    def contains(self, start: int, end: int) -> bool:
        i = bisect_right(self._starts, start)
        return i > 0 and self._max_end[i - 1] >= end


def _email_pattern(email: str) -> re.Pattern[str]:
    local, _, domain = email.rpartition("@")
    parts = [re.escape(p) for p in domain.split(".")]
    return re.compile(r"(?<![\w.+-])" + re.escape(local) + _AT + _DOT.join(parts) +
                      r"(?![\w-])", re.IGNORECASE)


NOTHING = Known()
