"""The outbound guard: block public replies that contain or ask for personal data."""

from __future__ import annotations

import pytest

from threadline.triage import check_outbound

BLOCKED_REQUESTS = [
    ("Please reply with your date of birth so we can verify you.", "DATE_OF_BIRTH"),
    ("Tweet us your card number and we'll refund it.", "CREDIT_CARD"),
    ("What's your booking reference?", "BOOKING_REFERENCE"),
    ("Can you confirm your home address here?", "ADDRESS"),
    ("Send us your account number and sort code below.", "BANK_ACCOUNT"),
    ("Please post your passport number publicly", "PASSPORT"),
]

ALLOWED_REQUESTS = [
    "DM us your booking reference and we'll look into it.",
    "Please send us a private message with your account number.",
    "Use this secure link to share your card details: https://example.com/secure",
    "Send us a DM. Include your date of birth and postcode.",
    "Please don't share your card number here, we'll never ask for it.",
    "Sorry about the delay! Flights to Boston are running about 30 minutes late today.",
]


@pytest.mark.parametrize(("text", "kind"), BLOCKED_REQUESTS)
def test_public_request_for_personal_data_is_blocked(text: str, kind: str) -> None:
    verdict = check_outbound(text, visibility="public")
    assert verdict.blocked
    assert any(r.code == "requests_personal_data" and r.pii_type == kind for r in verdict.reasons)
    assert all(r.message for r in verdict.reasons)


@pytest.mark.parametrize("text", ALLOWED_REQUESTS)
def test_private_requests_and_plain_replies_are_allowed(text: str) -> None:
    verdict = check_outbound(text, visibility="public")
    assert not verdict.blocked, verdict.reasons


def test_public_reply_containing_personal_data_is_blocked_without_echoing_it() -> None:
    text = "Hi Jane, we refunded card 4111 1111 1111 1111 and emailed jane@example.com"
    verdict = check_outbound(text, visibility="public")
    assert verdict.blocked
    assert {r.pii_type for r in verdict.reasons} >= {"CREDIT_CARD", "EMAIL_ADDRESS"}
    for reason in verdict.reasons:
        assert "4111" not in reason.message and "jane@" not in reason.message
    spans = [(r.start, r.end) for r in verdict.reasons if r.pii_type == "CREDIT_CARD"]
    assert spans == [(26, 45)]


@pytest.mark.parametrize(
    "text",
    [
        "Please reply with your date of birth so we can verify you.",
        "We refunded card 4111 1111 1111 1111",
    ],
)
def test_private_visibility_is_never_blocked(text: str) -> None:
    verdict = check_outbound(text, visibility="private")
    assert not verdict.blocked
    assert verdict.to_dict() == {"blocked": False, "reasons": []}


def test_to_dict_shape() -> None:
    data = check_outbound("Reply with your DOB", visibility="public").to_dict()
    assert data["blocked"] is True
    assert set(data["reasons"][0]) == {"code", "message", "pii_type", "start", "end"}
