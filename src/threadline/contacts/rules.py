"""Pure rules for coordinates: normalise phones to E.164, emails to lower case."""

from __future__ import annotations

import phonenumbers

from threadline.errors import ValidationFailed

PHONE_KINDS = frozenset({"phone", "whatsapp", "sms"})


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+") and text.isdigit() and default_region is None:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed("not a phone number", code="invalid_phone") from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed("not a possible phone number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    text = raw.strip().lower()
    if text.startswith("mailto:"):
        text = text[7:]
    local, _, domain = text.rpartition("@")
    if not local or not domain or "." not in domain or " " in text:
        raise ValidationFailed("not an email address", code="invalid_email")
    return text


def normalize_address(kind: str, address: str) -> str:
    """The canonical form of an address, so equal coordinates compare equal."""
    if kind in PHONE_KINDS:
        return normalize_phone(address)
    if kind == "email":
        return normalize_email(address)
    text = str(address).strip()
    if not text:
        raise ValidationFailed("empty address", code="invalid_address")
    return text


def canonical_kind(kind: str) -> str:
    """Phone-numbered channels share one identity kind: a number is one coordinate."""
    return "phone" if kind in PHONE_KINDS else kind
