"""Value types returned by the triage module. All frozen, all JSON-able through ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PII_TYPES: tuple[str, ...] = (
    "CREDIT_CARD",
    "CARD_SECURITY",
    "US_SSN",
    "IBAN",
    "BANK_ACCOUNT",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "DATE_OF_BIRTH",
    "PASSPORT",
    "BOOKING_REFERENCE",
    "ADDRESS",
    "PASSWORD",
    "MEDICAL",
)

RELEVANCES: tuple[str, ...] = ("direct", "mention", "competitor", "chatter")
CATEGORIES: tuple[str, ...] = ("complaint", "feedback", "technical", "question", "praise")
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One piece of personal data: its type and character span. Never holds the matched text."""

    type: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Triage:
    """Annotations for one message (docs/design.md#triage-output)."""

    relevance: str
    relevance_score: float
    category: str
    public_ok: bool
    sentiment: str
    sentiment_score: float
    urgency: float
    language: str
    pii: tuple[PiiFinding, ...] = ()
    complaint_score: float = 0.0
    category_scores: tuple[tuple[str, float], ...] = ()
    private_reasons: tuple[str, ...] = ()
    truncated: bool = False  # the classifiers read only the head (triage/budget.py)

    @property
    def is_complaint(self) -> bool:
        return self.complaint_score >= 0.5

    def to_dict(self) -> dict[str, Any]:
        return {
            "relevance": self.relevance,
            "relevance_score": round(self.relevance_score, 3),
            "category": self.category,
            "category_scores": {k: round(v, 3) for k, v in self.category_scores},
            "complaint_score": round(self.complaint_score, 3),
            "public_ok": self.public_ok,
            "private_reasons": list(self.private_reasons),
            "sentiment": self.sentiment,
            "sentiment_score": round(self.sentiment_score, 3),
            "urgency": round(self.urgency, 3),
            "language": self.language,
            "pii": [f.to_dict() for f in self.pii],
            "truncated": self.truncated,
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an outbound message was blocked; ``message`` is for humans and holds no personal data."""

    code: str
    message: str
    pii_type: str | None = None
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "pii_type": self.pii_type,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class OutboundVerdict:
    blocked: bool
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"blocked": self.blocked, "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True, slots=True)
class TrainReport:
    """Scores of the default and the newly trained models on the same held-out examples."""

    n_train: int
    n_test: int
    category_before: float | None
    category_after: float | None
    sentiment_before: float | None
    sentiment_after: float | None
    model: bytes = field(repr=False, default=b"")

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_train": self.n_train,
            "n_test": self.n_test,
            "category_accuracy": {"before": self.category_before, "after": self.category_after},
            "sentiment_accuracy": {"before": self.sentiment_before, "after": self.sentiment_after},
        }
