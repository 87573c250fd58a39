"""What is never stored in clear: card numbers, card security codes (and expiry dates), US
SSNs and passwords (docs/decisions/0104-secrets-at-rest.md).

`redact` replaces each such finding of the PII detector with a fixed mask that keeps what an
agent needs to tell cards apart (the last four digits) and nothing an attacker can use:
``[card •••• 1111]``, ``[SSN •••• 6789]``, ``[removed]`` (security code, expiry) and
``[password removed]``. It is idempotent: masks are never detected again, so a text can go
through it any number of times (the database types run it on every write).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from threadline.triage.pii import detect_pii
from threadline.triage.pii_checks import digits_of
from threadline.triage.types import PiiFinding

PASSES = 4
WINDOW = 2048  # characters per detector call on long texts
MARGIN = 160  # context before a window and overrun after it (card words, 64-char passwords)
NEVER_STORED: frozenset[str] = frozenset({"CREDIT_CARD", "CARD_SECURITY", "US_SSN", "PASSWORD"})

_MASKS = re.compile(r"\[(?:card •••• \d{4}|SSN •••• \d{4}|removed|password removed)\]")
# Cheap gate before the detector (most strings are ids, dates and plain words): a card needs
# eight digits in a row (spaces or dashes allowed between groups of four) and a dashed SSN its
# shape; a security code, expiry or undashed SSN three digits and its word; a password its word.
_NUMBER_SHAPES = re.compile(r"\d{4}[ -]?\d{4}|\d{3}-\d{2}-\d{4}")
_THREE_DIGITS = re.compile(r"\d{3}")
_CODE_WORDS = ("cvv", "cvc", "csc", "cid", "security", "digit", "exp", "valid", "ssn", "social",
               "ss#", "ss #")
_PASSWORD_WORDS = ("pass", "pwd", "pin")
# JSON keys whose values are provider or database identifiers, never typed text.
_ID_KEY = re.compile(r"(?:^|_)(?:id|ids|id_str|sid|mid|to|from|recipient|key|cursor)$|Sid$|Id$",
                     re.IGNORECASE)


def _mask_for(kind: str, value: str) -> str:
    if kind == "CREDIT_CARD":
        return f"[card •••• {digits_of(value)[-4:]}]"
    if kind == "US_SSN":
        return f"[SSN •••• {digits_of(value)[-4:]}]"
    if kind == "PASSWORD":
        return "[password removed]"
    return "[removed]"


def redact_findings(text: str, findings: Iterable[PiiFinding | Mapping[str, Any]]
                    ) -> tuple[str, list[dict[str, Any]]]:
    """`text` with its never-stored findings masked, and every finding's span moved onto the
    new text (a masked finding then spans its mask), as ``{"type", "start", "end"}``."""
    spans = sorted((_as_dict(f) for f in findings), key=lambda f: (f["start"], -f["end"]))
    masks = [(m.start(), m.end()) for m in _MASKS.finditer(text)]
    out: list[str] = []
    moved: list[dict[str, Any]] = []
    pos = shift = m = 0
    for span in spans:
        start, end, kind = span["start"], span["end"], span["type"]
        if start < pos or not 0 <= start < end <= len(text):
            continue
        while m < len(masks) and masks[m][1] <= start:
            m += 1  # spans and masks both go left to right: one pass over each
        if kind not in NEVER_STORED or (m < len(masks) and masks[m][0] < end):
            moved.append({"type": kind, "start": start + shift, "end": end + shift})
            continue
        mask = _mask_for(kind, text[start:end])
        out.append(text[pos:start])
        new_start = start + shift
        out.append(mask)
        moved.append({"type": kind, "start": new_start, "end": new_start + len(mask)})
        shift += len(mask) - (end - start)
        pos = end
    out.append(text[pos:])
    return "".join(out), moved


def stored_text(text: str, triage: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """A message's text as stored, and its triage with the personal-data spans moved onto
    that text (the spans are those the triage found in `text`)."""
    if not triage:
        return redact(text), {}
    stored, spans = redact_findings(text, triage.get("pii") or ())
    return stored, {**triage, "pii": spans}


def _as_dict(finding: PiiFinding | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(finding, PiiFinding):
        return finding.to_dict()
    return {"type": str(finding.get("type")), "start": int(finding.get("start", 0)),
            "end": int(finding.get("end", 0))}


def _maybe(text: str) -> bool:
    if _NUMBER_SHAPES.search(text):
        return True
    low = text.lower()
    if any(w in low for w in _PASSWORD_WORDS):
        return True
    return _THREE_DIGITS.search(text) is not None and any(w in low for w in _CODE_WORDS)


def redact(text: str) -> str:
    """`text` with card numbers, security codes, SSNs and passwords masked."""
    if not text or not _maybe(text):
        return text
    for _ in range(PASSES):
        found = never_stored(text)
        if not found:
            break
        # masking can uncover a neighbour the detector refused next to a digit ("cvc 123
        # 4111 1111 …"): run again until nothing is left
        masked = redact_findings(text, found)[0]
        if masked == text:
            break
        text = masked
    return text


def never_stored(text: str) -> list[PiiFinding]:
    """The never-stored findings of `text`, detected window by window: the work grows with the
    length, never faster, whatever the detector does with a long input. Each window is read
    with a margin on both sides (the words before a number, a number running past the end)
    and keeps the findings that start inside it."""
    if len(text) <= WINDOW + 2 * MARGIN:
        return [f for f in detect_pii(text) if f.type in NEVER_STORED]
    found: list[PiiFinding] = []
    for own in range(0, len(text), WINDOW):
        base = max(0, own - MARGIN)
        for f in detect_pii(text[base:own + WINDOW + MARGIN]):
            if f.type in NEVER_STORED and own <= base + f.start < own + WINDOW:
                found.append(PiiFinding(f.type, base + f.start, base + f.end))
    return found


def redact_json(value: Any, key: str = "") -> Any:
    """Every string of a JSON value redacted (values under identifier keys are left alone:
    a long provider id can pass a card checksum)."""
    if isinstance(value, str):
        return value if _ID_KEY.search(key) else redact(value)
    if isinstance(value, Mapping):
        return {k: redact_json(v, str(k)) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [redact_json(v, key) for v in value]
    return value
