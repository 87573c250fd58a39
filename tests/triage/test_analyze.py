"""analyze(): relevance, category, public suitability, sentiment, urgency, language."""

from __future__ import annotations

import dataclasses

import pytest

from threadline.triage import CATEGORIES, RELEVANCES, SENTIMENTS, Triage, analyze

BRAND = ("AcmeAir",)
RIVAL = ("OtherAir",)


def test_direct_question_ranks_above_mention_and_chatter() -> None:
    question = analyze("@AcmeAir how do I add a bag to my trip?", brand_handles=BRAND)
    mention = analyze("flying @AcmeAir to Rome tomorrow, lovely crew", brand_handles=BRAND)
    chatter = analyze("what a sunny day in Rome", brand_handles=BRAND)
    assert question.relevance == "direct"
    assert mention.relevance == "mention"
    assert chatter.relevance == "chatter"
    assert question.relevance_score > mention.relevance_score > chatter.relevance_score


def test_competitor_mentions_are_flagged_separately() -> None:
    t = analyze("@OtherAir lost my bag again", brand_handles=BRAND, competitor_handles=RIVAL)
    assert t.relevance == "competitor"


def test_private_channels_are_direct() -> None:
    t = analyze("hi, my order has not arrived", channel="whatsapp", brand_handles=BRAND)
    assert t.relevance == "direct"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("@AcmeAir worst airline ever, 5 hours delayed and rude staff. Unacceptable", "complaint"),
        ("@AcmeAir the app keeps crashing when I open my boarding pass", "technical"),
        ("@AcmeAir what time does the lounge at JFK open?", "question"),
        ("@AcmeAir thank you so much, the crew was amazing!", "praise"),
        ("@AcmeAir you should add an option to pick seats in the app, would be nice", "feedback"),
    ],
)
def test_categories(text: str, category: str) -> None:
    assert analyze(text, brand_handles=BRAND).category == category


@pytest.mark.parametrize(
    ("text", "public_ok"),
    [
        ("@AcmeAir is flight AA100 on time today?", True),
        ("@AcmeAir what are your opening hours at the airport desk?", True),
        ("@AcmeAir I need to change my booking to Friday", False),
        ("@AcmeAir you charged my card twice, I want a refund", False),
        ("@AcmeAir I can't log in to my account", False),
    ],
)
def test_public_or_private(text: str, public_ok: bool) -> None:
    assert analyze(text).public_ok is public_ok


def test_pii_makes_the_message_private_and_is_reported_with_spans() -> None:
    t = analyze("@AcmeAir refund to card 4111 1111 1111 1111 please")
    assert t.public_ok is False
    assert [(f.type, f.start, f.end) for f in t.pii] == [("CREDIT_CARD", 24, 43)]


def test_sentiment_and_urgency() -> None:
    angry = analyze("@AcmeAir STILL stranded at the gate, 3rd time this week!! No one helps")
    calm = analyze("@AcmeAir do you fly to Lisbon?")
    happy = analyze("@AcmeAir thanks, great flight")
    assert angry.sentiment == "negative" and angry.sentiment_score < 0
    assert calm.sentiment == "neutral"
    assert happy.sentiment == "positive" and happy.sentiment_score > 0
    assert angry.urgency > 0.7 > calm.urgency
    assert 0.0 <= calm.urgency <= 1.0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("my bag is lost and nobody answers the phone", "en"),
        ("mi maleta no ha llegado y nadie me ayuda", "es"),
        ("mon vol est annulé et je ne sais pas quoi faire", "fr"),
        ("mein Koffer ist nicht angekommen, bitte helfen Sie mir", "de"),
        ("荷物が届きません", "ja"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert analyze(text).language == language


def test_result_is_frozen_and_json_shaped() -> None:
    t = analyze("@AcmeAir my card 4111 1111 1111 1111 was charged twice")
    assert isinstance(t, Triage)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.category = "praise"  # type: ignore[misc]
    data = t.to_dict()
    for key in ("relevance", "category", "public_ok", "sentiment", "urgency", "language", "pii"):
        assert key in data
    assert data["relevance"] in RELEVANCES
    assert data["category"] in CATEGORIES
    assert data["sentiment"] in SENTIMENTS
    assert data["pii"] == [{"type": "CREDIT_CARD", "start": 17, "end": 36}]
