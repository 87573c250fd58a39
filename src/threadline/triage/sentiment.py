"""Sentiment for customer-care posts: VADER plus the care lexicon (see lexicon.py).

VADER reads general affect ("love", "awful"); the care lexicon reads what VADER misses in posts to
a brand: reported problems ("delayed", "still waiting", "didn't arrive") and thanks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from threadline.triage import lexicon

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)@\w+")


@dataclass(frozen=True, slots=True)
class SentimentSignals:
    compound: float
    problems: int
    thanks: int
    sarcasm: bool
    question: bool

    def features(self) -> list[float]:
        return [
            self.compound,
            min(self.problems, 4) / 4.0,
            min(self.thanks, 3) / 3.0,
            1.0 if self.sarcasm else 0.0,
            1.0 if self.question else 0.0,
        ]


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def clean(text: str) -> str:
    """Lower-cased text without URLs and @handles (they carry no sentiment)."""
    return _HANDLE.sub(" ", _URL.sub(" ", text)).lower()


def signals(text: str, lowered: str | None = None) -> SentimentSignals:
    low = clean(text) if lowered is None else lowered
    compound = float(_vader().polarity_scores(low)["compound"]) if low.strip() else 0.0
    problems = len(lexicon.PROBLEM.findall(low)) + len(lexicon.EMOJI_NEGATIVE.findall(low))
    thanks = len(lexicon.GRATITUDE.findall(low)) + len(lexicon.EMOJI_POSITIVE.findall(low))
    return SentimentSignals(
        compound=compound,
        problems=problems,
        thanks=thanks,
        sarcasm=lexicon.SARCASM.search(low) is not None,
        question=lexicon.QUESTION.search(low.strip()) is not None,
    )


def classify(sig: SentimentSignals) -> tuple[str, float]:
    """Label and score in [-1, 1] from the signals (rules written a priori, see docs/triage.md)."""
    c = sig.compound
    negative = sig.problems > 0 or c <= -0.25 or sig.sarcasm
    positive = sig.thanks > 0 or c >= 0.5
    pos_weight = sig.thanks + 2.0 * max(c, 0.0)
    neg_weight = sig.problems + 2.0 * max(-c, 0.0) + (3.0 if sig.sarcasm else 0.0)
    raw = math.tanh(0.6 * (pos_weight - neg_weight) + 0.5 * c)
    if negative and (not positive or neg_weight >= pos_weight):
        return "negative", min(raw, -0.05)
    if positive:
        return "positive", max(raw, 0.05)
    return "neutral", max(-0.2, min(0.2, raw))
