"""Sentiment rules on posts written for these tests (none comes from an evaluation data set)."""

from __future__ import annotations

import pytest

from threadline.triage import analyze
from threadline.triage.sentiment import _vader, classify, signals


@pytest.mark.parametrize(
    ("text", "sentiment"),
    [
        # thanks that only soften a request are not praise
        ("@AcmeAir can you move me to the 6pm train please? thanks", "neutral"),
        ("@AcmeAir please DM me the form, thank you", "neutral"),
        # real thanks stay positive, also with a question in them
        ("@AcmeAir thank you so much, the crew was amazing!", "positive"),
        ("@AcmeAir loved the new lounge, great coffee. Is it open on Sundays too?", "positive"),
        # sarcastic or causal thanks
        ("@AcmeAir thanks for losing my suitcase and not calling back", "negative"),
        ("@AcmeAir thanks to your delay I missed my meeting", "negative"),
        ("@AcmeAir no thank you, I found another way home", "negative"),
        ("@AcmeAir 3 hours on the tarmac. Rail travel at its best", "negative"),
        ("@AcmeAir great job ruining our holiday", "negative"),
        # request words are not affect: "please help" with a problem is negative
        ("@AcmeAir stuck in Leeds overnight, please help", "negative"),
        ("@AcmeAir I'd like to know where my bag is, nothing since Monday", "negative"),
        # affect hidden in hashtags
        ("@AcmeAir boarding gate changed 4 times #fail", "negative"),
        ("@AcmeAir back home after a week in Lisbon #lovethiscrew", "positive"),
        # brand names are not praise ("united" is positive in VADER's general lexicon)
        ("@united flight 88 to Oslo", "neutral"),
        ("@AcmeAir not very helpful, the agent just read the policy to me", "negative"),
    ],
)
def test_care_sentiment(text: str, sentiment: str) -> None:
    assert analyze(text).sentiment == sentiment


def test_care_valences_only_change_our_vader_instance() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    assert "united" not in _vader().lexicon and _vader().lexicon["joke"] < 0
    assert SentimentIntensityAnalyzer().lexicon["united"] > 0


def test_signals_features_are_stable_in_length_and_range() -> None:
    sig = signals("@AcmeAir worst service, still waiting #fail 😡")
    feats = sig.features()
    assert len(feats) == 7
    assert all(-1.0 <= f <= 1.0 for f in feats)
    assert sig.strong >= 2
    label, score = classify(sig)
    assert label == "negative" and score < -0.5
