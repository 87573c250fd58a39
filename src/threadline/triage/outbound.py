"""The outbound guard: public replies must neither contain personal data nor ask for it.

A phone or email in a public reply is allowed only when it is one of the brand's own contacts
(an explicit workspace setting, passed in `Known.brand`) and not one of the customer's
coordinates (`Known.customer`: refused whatever the wording and format). Asking for personal
data is allowed only as a move to private ("DM us the last 4 digits of your card").
"""

from __future__ import annotations

import re

from threadline.triage.coordinates import NOTHING, Known, Spans
from threadline.triage.pii import detect_pii
from threadline.triage.types import OutboundVerdict, Reason

MAX_REASONS = 50  # a verdict names at most this many places (the 422 stays small)
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
    "ORDER_NUMBER": "an order number",
    "ADDRESS": "a postal address",
    "PASSWORD": "a password or PIN",
    "MEDICAL": "health information",
    "CARD_PARTIAL": "part of a payment card number (its first or last digits)",
    "ACCOUNT_HANDLE": "an account name or id",
}

_ASKED_FOR: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(r"(?<![\w])(?:" + words + r")(?![\w])", re.IGNORECASE))
    for kind, words in (
        (
            "CARD_PARTIAL",
            r"(?:first|last|final) (?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)"
            r"(?: (?:digits?|numbers?|nos?\.?|characters)| of| and)|"
            r"card (?:ending|that ends|ends)|ending (?:digits|numbers)",
        ),
        (
            "CARD_SECURITY",
            r"cvv2?|cvc2?|cid|security code|(?:3|4|three|four)[ -]digit code|"
            r"card verification(?: code| value)?|expiry(?: date)?|expiration date|"
            r"exp\.? date|valid (?:thru|through|until) date",
        ),
        (
            "CREDIT_CARD",
            r"(?:credit |debit |payment )?card (?:number|details|no\.?)|long card number",
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
            r"(?<!check )(?<!checking )your e-?mail(?= (?:so|and|to|here|below|publicly)|[?.!]|$)",
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
    r"(?<![\w])(?:dm|dms|direct message|private message|privately|in private|(?<!\d)(?<!\d )pm|"
    r"inbox|secure (?:link|form|page|chat|portal)|this link|the link|link below|form|"
    r"online chat|live chat|chat|message us|email us|e-mail us|call us|give us a call|phone us|"
    r"ring us|whatsapp|messenger|over the phone|securely|encrypted)(?![\w])",
    re.IGNORECASE,
)
# A private route named in the sentence before counts unless that sentence only acknowledges
# one ("Thanks for the DM."); in the sentence after, only when it refers back ("DM it to us").
_ACKNOWLEDGED = re.compile(
    r"(?<![\w])(?:thanks|thank you|thx|got|received|saw|have seen|read)(?![\w])", re.IGNORECASE
)
_REFERS_BACK = re.compile(
    r"(?<![\w])(?:it|them|this|that|these|those|both|the details|that info(?:rmation)?)(?![\w])",
    re.IGNORECASE,
)
_PUBLIC = re.compile(
    r"(?<![\w])(?:publicly|in public|here|below|in this thread|in the comments|reply to this tweet)"
    r"(?![\w])",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"(?<![\w])(?:don't|do not|never|please don't|avoid|without|not (?:to )?(?:share|post|include)|"
    r"delete|deleting|remove|removing)(?![\w])|\(no ",
    re.IGNORECASE,
)
# Part of a card number given in the text: "the card ending *1166", "Visa ending in 4242".
_CARD_ENDING = re.compile(
    r"(?<![\w])(?:card|visa|mastercard|amex|debit|credit)(?![\w])[^.!?\n\d]{0,30}?"
    r"(?:ending|ends|last (?:4|four)(?: digits)?)(?: (?:in|with|of|is|are))?[\s:*x#•.-]{0,6}"
    r"\d{4}(?!\d)",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"[^.!?\n;]+[.!?\n;]*")


def _private_route(sentences: list[re.Match[str]], i: int) -> bool:
    if _PRIVATE.search(sentences[i].group()):
        return True
    if i and _PRIVATE.search(prev := sentences[i - 1].group()) and not _ACKNOWLEDGED.search(prev):
        return True
    if i + 1 < len(sentences):
        after = sentences[i + 1].group()
        return bool(_PRIVATE.search(after) and _REFERS_BACK.search(after))
    return False


def _requests(text: str) -> list[Reason]:
    reasons: list[Reason] = []
    sentences = [m for m in _SENTENCES.finditer(text) if m.group().strip()]
    for i, m in enumerate(sentences):
        sentence = m.group()
        if not _REQUEST.search(sentence) or _NEGATED.search(sentence):
            continue
        if _private_route(sentences, i) and not _PUBLIC.search(sentence):
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


def _contained(text: str, known: Known) -> list[Reason]:
    """Personal data in the text: the customer's coordinates first (in any format), then what
    the detector finds, less the brand's own contacts."""
    matches = known.customer_matches(text)
    reasons = [
        Reason(
            code="customer_coordinate",
            message=(
                f"This public reply contains the customer's own {LABELS[m.kind].split(' ', 1)[1]} "
                f"(characters {m.start}-{m.end}). Remove it or send the message in private."
            ),
            pii_type=m.kind,
            start=m.start,
            end=m.end,
        )
        for m in matches
    ]
    customer = Spans((m.start, m.end) for m in matches)
    detected = [(f.type, f.start, f.end) for f in detect_pii(text)]
    seen = Spans((s, e) for _, s, e in detected)
    found = detected + [("CARD_PARTIAL", m.start(), m.end()) for m in _CARD_ENDING.finditer(text)
                        if not seen.overlaps(m.start(), m.end())]
    brand_urls = known.brand_url_spans(text)
    for kind, start, end in found:
        if customer.overlaps(start, end):
            continue
        if known.is_brand(kind, text[start:end], brand_urls.contains(start, end)):
            continue  # one of the brand's own contacts (a workspace setting)
        reasons.append(
            Reason(
                code="personal_data",
                message=(
                    f"This public reply contains {LABELS[kind]} (characters {start}-{end}). "
                    "Remove it or send the message on a private channel."
                ),
                pii_type=kind,
                start=start,
                end=end,
            )
        )
    return reasons


def check_outbound(text: str, *, visibility: str, known: Known = NOTHING) -> OutboundVerdict:
    """Block a public message that contains or asks for personal data; private is never blocked.
    `known` holds the conversation's customer coordinates and the brand's own contacts."""
    if visibility != "public":
        return OutboundVerdict(blocked=False, reasons=[])
    reasons = _contained(text, known) + _requests(text)
    return OutboundVerdict(blocked=bool(reasons), reasons=reasons[:MAX_REASONS])
