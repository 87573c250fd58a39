"""Checksums and number-shape validators used by the PII detector (pure functions)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# The SWIFT IBAN registry: country code -> the length(s) of its IBANs (Nicaragua moved from
# 32 to 28 characters; both are accepted). A code outside the registry is never an IBAN.
IBAN_LENGTHS: dict[str, tuple[int, ...]] = {
    "AD": (24,),
    "AE": (23,),
    "AL": (28,),
    "AT": (20,),
    "AZ": (28,),
    "BA": (20,),
    "BE": (16,),
    "BG": (22,),
    "BH": (22,),
    "BI": (27,),
    "BR": (29,),
    "BY": (28,),
    "CH": (21,),
    "CR": (22,),
    "CY": (28,),
    "CZ": (24,),
    "DE": (22,),
    "DJ": (27,),
    "DK": (18,),
    "DO": (28,),
    "EE": (20,),
    "EG": (29,),
    "ES": (24,),
    "FI": (18,),
    "FK": (18,),
    "FO": (18,),
    "FR": (27,),
    "GB": (22,),
    "GE": (22,),
    "GI": (23,),
    "GL": (18,),
    "GR": (27,),
    "GT": (28,),
    "HR": (21,),
    "HU": (28,),
    "IE": (22,),
    "IL": (23,),
    "IQ": (23,),
    "IS": (26,),
    "IT": (27,),
    "JO": (30,),
    "KW": (30,),
    "KZ": (20,),
    "LB": (28,),
    "LC": (32,),
    "LI": (21,),
    "LT": (20,),
    "LU": (20,),
    "LV": (21,),
    "LY": (25,),
    "MC": (27,),
    "MD": (24,),
    "ME": (22,),
    "MK": (19,),
    "MN": (20,),
    "MR": (27,),
    "MT": (31,),
    "MU": (30,),
    "NI": (28, 32),
    "NL": (18,),
    "NO": (15,),
    "OM": (23,),
    "PK": (24,),
    "PL": (28,),
    "PS": (29,),
    "PT": (25,),
    "QA": (29,),
    "RO": (24,),
    "RS": (22,),
    "RU": (33,),
    "SA": (24,),
    "SC": (31,),
    "SD": (18,),
    "SE": (24,),
    "SI": (19,),
    "SK": (24,),
    "SM": (27,),
    "SO": (23,),
    "ST": (25,),
    "SV": (28,),
    "TL": (23,),
    "TN": (24,),
    "TR": (26,),
    "UA": (29,),
    "VA": (22,),
    "VG": (24,),
    "XK": (20,),
    "YE": (30,),
}

_ISO_DATE = re.compile(r"^(?:19|20)\d\d[-. ](?:0?[1-9]|1[0-2])[-. ](?:0?[1-9]|[12]\d|3[01])\b")
_DMY_DATE = re.compile(r"^(?:0?[1-9]|[12]\d|3[01])[-. ](?:0?[1-9]|1[0-2])[-. ](?:19|20)\d\d$")
_MDY_DATE = re.compile(r"^(?:0?[1-9]|1[0-2])[-. ](?:0?[1-9]|[12]\d|3[01])[-. ](?:19|20)\d\d$")


def digits_of(text: str) -> str:
    return "".join(filter(str.isdigit, text))


def luhn_ok(number: str) -> bool:
    values = [ord(ch) - 48 for ch in reversed(number)]
    doubled = sum(2 * d - 9 if d > 4 else 2 * d for d in values[1::2])
    return (sum(values[0::2]) + doubled) % 10 == 0


def card_network_prefix(number: str) -> bool:
    """True when the number starts like a real payment card (Visa, Mastercard, Amex, ...)."""
    if number[0] == "4":
        return True
    two = int(number[:2])
    four = int(number[:4])
    return (
        51 <= two <= 55
        or 2221 <= four <= 2720
        or two in (34, 37, 36, 38, 39, 30, 35, 62, 64, 65, 60, 63, 67, 50, 56, 57, 58)
        or number.startswith(("1800", "2131"))
    )


def iban_ok(compact: str) -> bool:
    """Checks country length (when known) and the ISO 13616 mod-97 checksum."""
    return longest_iban(compact) == len(compact) > 0


def longest_iban(compact: str) -> int:
    """Length of the longest valid IBAN that ``compact`` starts with (0 for none), in one pass:
    the mod-97 remainder of each prefix extends the previous one (ISO 13616 moves the first four
    characters to the end, so they are added last)."""
    letters = [c for c in compact[:34] if c.isalpha()]
    if any(c.isupper() for c in letters) and any(c.islower() for c in letters):
        return 0  # IBANs are written in one case; mixed case is a token, code or URL part
    iban = compact[:34].upper()
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return 0
    try:
        head = "".join(str(int(c, 36)) for c in iban[:4])
    except ValueError:
        return 0
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None:
        return 0  # not a country of the IBAN registry: a code that happens to start like one
    scale, head_value = 10 ** len(head), int(head)
    remainder = best = 0
    for length, ch in enumerate(iban[4:], start=5):
        try:
            value = int(ch, 36)
        except ValueError:
            break
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
        if (
            length >= 15
            and length in expected
            and (remainder * scale + head_value) % 97 == 1
        ):
            best = length
    return best


def ssn_ok(number: str) -> bool:
    """US SSN structural rules: no 000/666/9xx area, no 00 group, no 0000 serial."""
    if len(number) != 9:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def looks_like_date(candidate: str) -> bool:
    c = candidate.strip()
    return bool(_ISO_DATE.match(c) or _DMY_DATE.match(c) or _MDY_DATE.match(c))


def phone_structure_ok(candidate: str, *, context: bool = False, lookup: bool = True) -> bool:
    """A separated group of 7-15 digits that is not a date and not a plain decimal number.

    Without ``lookup`` (a message past its libphonenumber budget) a run that would need
    libphonenumber counts as a phone when it starts with "+" or follows a phone word."""
    digits = digits_of(candidate.split("x")[0].split("ext")[0])
    if not 7 <= len(digits) <= 15 or looks_like_date(candidate):
        return False
    groups = re.split(r"[^\d]+", candidate.strip("+() "))
    groups = [g for g in groups if g]
    if (len(groups) == 1 or candidate.startswith("+")) and not lookup:
        return context or candidate.startswith("+")
    if len(groups) == 1 or candidate.startswith("+"):
        return phone_valid(candidate, possible=context or candidate.startswith("+"))
    # "1.2.3" versions and "3.5" decimals have tiny groups only
    return max(len(g) for g in groups) >= 3 or len(groups) >= 4


@lru_cache(maxsize=4096)
def phone_valid(candidate: str, *, possible: bool = False) -> bool:
    """Unseparated digit runs must be a valid number for a common region (libphonenumber)."""
    regions = (None,) if candidate.startswith("+") else ("US", "GB", "DE", "FR", "IN", "AU")
    for region in regions:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed) or (
            possible and phonenumbers.is_possible_number(parsed)
        ):
            return True
    return False
