"""The outbound guard: public replies must neither contain personal data nor ask for it."""

from __future__ import annotations

import re

from threadline.triage.pii import detect_pii
from threadline.triage.types import OutboundVerdict, Reason

LABELS: dict[str, str] = {
    "CREDIT_CARD": "a payment card number",
    "CARD_SECURITY": "a card security code or expiry date",
    "US_SSN": "a social security number",
    "IBAN": "an IBAN",
    "BANK_ACCOUNT": "bank account details",
    "PHONE_NUMBER": "a phone number",
    "EMAIL_ADDRESS": "an email address",
    "DATE_OF_BIRTH": "a date of birth",
    "PASSPORT": "a passport number",
    "BOOKING_REFERENCE": "a booking reference",
    "ADDRESS": "a postal address",
    "PASSWORD": "a password or PIN",
    "MEDICAL": "health information",
}

_ASKED_FOR: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(r"(?<![\w])(?:" + words + r")(?![\w])", re.IGNORECASE))
    for kind, words in (
        ("CARD_SECURITY", r"cvv2?|cvc|security code|expiry(?: date)?|expiration date"),
        (
            "CREDIT_CARD",
            r"(?:credit |debit |payment )?card (?:number|details|no\.?)|credit card|"
            r"long card number",
        ),
        ("US_SSN", r"ssn|social security(?: number)?"),
        ("IBAN", r"iban"),
        (
            "BANK_ACCOUNT",
            r"(?:bank )?account (?:number|details)|sort code|routing number|bank details",
        ),
        ("PHONE_NUMBER", r"(?:phone|mobile|cell|telephone|contact) (?:number|no\.?)|your number"),
        (
            "EMAIL_ADDRESS",
            r"e-?mail address|e-?mail id|"
            r"your e-?mail(?= (?:so|and|to|here|below|publicly)|[?.!]|$)",
        ),
        ("DATE_OF_BIRTH", r"date of birth|dob|d\.o\.b\.?|birth ?date|birthday"),
        ("PASSPORT", r"passport(?: number| details| no\.?)?"),
        (
            "BOOKING_REFERENCE",
            r"booking (?:reference|ref|number|code)|confirmation (?:number|code)|"
            r"reservation (?:number|code)|pnr|record locator",
        ),
        (
            "ADDRESS",
            r"(?:your|home|postal|full|street|billing|shipping|delivery) address|"
            r"post ?code|zip code",
        ),
        ("PASSWORD", r"password|passcode|pin(?: code| number)?|login details|credentials"),
        (
            "MEDICAL",
            r"medical (?:history|details|records|condition)|"
            r"health (?:condition|details|information)|medications?|diagnosis",
        ),
    )
)
_REQUEST = re.compile(
    r"(?<![\w])(?:reply|respond|tweet|post|comment|send|share|give|provide|tell|confirm|include|"
    r"let us know|let me know|write|drop|type|enter|add|what(?:'s| is| are)|"
    r"can (?:you|we|i) (?:get|have)|"
    r"could you|can you|may we have|need|please|list)(?![\w])",
    re.IGNORECASE,
)
_PRIVATE = re.compile(
    r"(?<![\w])(?:dm|dms|direct message|private message|privately|in private|pm|inbox|"
    r"secure (?:link|form|page|chat|portal)|this link|the link|link below|form|online chat|"
    r"live chat|chat|message us|email us|e-mail us|call us|give us a call|phone us|ring us|"
    r"whatsapp|messenger|"
    r"over the phone|securely|encrypted)(?![\w])",
    re.IGNORECASE,
)
_PUBLIC = re.compile(
    r"(?<![\w])(?:publicly|in public|here|below|in this thread|in the comments|reply to this tweet)"
    r"(?![\w])",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"(?<![\w])(?:don't|do not|never|please don't|avoid|without|not (?:to )?(?:share|post|include))"
    r"(?![\w])",
    re.IGNORECASE,
)
_BUSINESS_CONTACT = re.compile(
    r"(?:\b(?:us|our|we)\b[^.!?\n]{0,25}|\b(?:helpline|hotline|support line|customer service|"
    r"team)\b[^.!?\n]{0,15})$",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"[^.!?\n;]+[.!?\n;]*")


def _requests(text: str) -> list[Reason]:
    reasons: list[Reason] = []
    sentences = [m for m in _SENTENCES.finditer(text) if m.group().strip()]
    for i, m in enumerate(sentences):
        sentence = m.group()
        if not _REQUEST.search(sentence) or _NEGATED.search(sentence):
            continue
        previous = sentences[i - 1].group() if i else ""
        private = bool(_PRIVATE.search(sentence) or _PRIVATE.search(previous))
        if private and not _PUBLIC.search(sentence):
            continue
        for kind, pattern in _ASKED_FOR:
            hit = pattern.search(sentence)
            if hit:
                label = LABELS[kind]
                reasons.append(
                    Reason(
                        code="requests_personal_data",
                        message=(
                            f"This public reply asks the customer for {label}. Ask them to send "
                            "it privately instead (a direct message, chat link or secure form)."
                        ),
                        pii_type=kind,
                        start=m.start() + hit.start(),
                        end=m.start() + hit.end(),
                    )
                )
                break
    return reasons


def check_outbound(text: str, *, visibility: str) -> OutboundVerdict:
    """Block a public message that contains or asks for personal data; private is never blocked."""
    if visibility != "public":
        return OutboundVerdict(blocked=False, reasons=[])
    reasons: list[Reason] = []
    for f in detect_pii(text):
        if f.type in ("PHONE_NUMBER", "EMAIL_ADDRESS") and _BUSINESS_CONTACT.search(
            text[max(0, f.start - 40) : f.start]
        ):
            continue  # the brand's own support line or address is not personal data
        reasons.append(
            Reason(
                code="personal_data",
                message=(
                    f"This public reply contains {LABELS[f.type]} (characters {f.start}-{f.end}). "
                    "Remove it or send the message on a private channel."
                ),
                pii_type=f.type,
                start=f.start,
                end=f.end,
            )
        )
    reasons.extend(_requests(text))
    return OutboundVerdict(blocked=bool(reasons), reasons=reasons)
