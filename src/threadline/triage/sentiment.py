"""Sentiment for customer-care posts: VADER plus the care lexicon (see lexicon.py).

VADER reads general affect ("love", "awful"); the care lexicon reads what VADER misses in posts to
a brand: reported problems ("delayed", "still waiting", "didn't arrive") and thanks.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from threadline.triage import lexicon
from threadline.triage.budget import VADER_CHARS

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)@\w+")


@dataclass(frozen=True, slots=True)
class SentimentSignals:
    compound: float
    problems: int
    thanks: int
    sarcasm: bool
    question: bool
    strong: int = 0  # problems with affect (lexicon.STRONG, negative hashtags)
    polite: bool = False  # the only thanks are politeness in a request

    def features(self) -> list[float]:
        return [
            self.compound,
            min(self.problems, 4) / 4.0,
            min(self.thanks, 3) / 3.0,
            1.0 if self.sarcasm else 0.0,
            1.0 if self.question else 0.0,
            min(self.strong, 3) / 3.0,
            1.0 if self.polite else 0.0,
        ]


# VADER's general-purpose valences that mislead on posts to a brand: request words ("please
# help", "I'd like", "hoping"), brand and product words ("united", "credit", "support") and
# words that are affect-free in care ("ok", "yes", "sure", "well"). "joke" is an insult here.
CARE_VALENCE: dict[str, float | None] = {
    "united": None, "help": None, "helping": None, "please": None, "hope": None,
    "hoping": None, "like": None, "care": None, "ok": None, "okay": None, "yes": None,
    "sure": None, "fine": None, "well": None, "pretty": None, "credit": None, "share": None,
    "support": None, "free": None, "special": None, "kind": None, "want": None, "wants": None,
    "joke": -1.5, "jokes": -1.5,
}


class _LinearVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """VADER with its per-word checks made constant-time; same scores as VADER 3.3.2.

    VADER lower-cases the *whole* word list inside ``_negation_check`` and
    ``_special_idioms_check``, once per sentiment word: quadratic in the number of words, and
    every emoji becomes sentiment words ("grinning face"), so 10,000 emoji took a minute. Those
    checks only look at three words before and two after word ``i``: they get that slice.
    ``_but_check`` rescans the list once per word (``list.index``); here it is one pass.
    """

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        lo = max(0, i - 3)
        return float(SentimentIntensityAnalyzer._negation_check(
            valence, words[lo : i + 1], start_i, i - lo))

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        lo = max(0, i - 3)
        return float(SentimentIntensityAnalyzer._special_idioms_check(
            valence, words[lo : i + 3], i - lo))

    @staticmethod
    def _but_check(words: list[str], sentiments: list[float]) -> list[float]:
        return but_check(words, sentiments)


def but_check(words: list[str], sentiments: list[float]) -> list[float]:
    """VADER's contrastive "but" rule in O(n log n), with VADER's exact results.

    VADER walks the list and, for each value ``v`` read at position ``k``, rescales the *first*
    position holding ``v`` (``list.index``): by 0.5 before the first "but", by 1.5 after it. A
    heap of positions per value gives that first position without rescanning.
    """
    lowered = [str(w).lower() for w in words]
    if "but" not in lowered:
        return sentiments
    bi = lowered.index("but")
    where: dict[float, list[int]] = {}
    for pos, value in enumerate(sentiments):
        where.setdefault(value, []).append(pos)  # ascending: already a heap
    for k in range(len(sentiments)):
        value = sentiments[k]
        si = heapq.heappop(where[value])
        if si == bi:
            heapq.heappush(where[value], si)
            continue
        new = value * (0.5 if si < bi else 1.5)
        sentiments[si] = new
        heapq.heappush(where.setdefault(new, []), si)
    return sentiments


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    analyzer = _LinearVader()
    for word, valence in CARE_VALENCE.items():
        if valence is None:
            analyzer.lexicon.pop(word, None)
        else:
            analyzer.lexicon[word] = valence
    return analyzer


def clean(text: str) -> str:
    """Lower-cased text without URLs and @handles (they carry no sentiment)."""
    return _HANDLE.sub(" ", _URL.sub(" ", text)).lower()


def signals(text: str, lowered: str | None = None) -> SentimentSignals:
    low = clean(text) if lowered is None else lowered
    head = low[:VADER_CHARS]  # VADER costs ~15 us a word and an emoji is 2-4 words
    compound = float(_vader().polarity_scores(head)["compound"]) if head.strip() else 0.0
    tags = lexicon.HASHTAG.findall(low)
    bad_tags = sum(1 for t in tags if lexicon.HASHTAG_NEGATIVE.search(t))
    good_tags = sum(1 for t in tags if lexicon.HASHTAG_POSITIVE.search(t)) if not bad_tags else 0
    negative_emoji = len(lexicon.EMOJI_NEGATIVE.findall(low))
    problems = len(lexicon.PROBLEM.findall(low)) + negative_emoji + bad_tags
    strong = len(lexicon.STRONG.findall(low)) + negative_emoji + bad_tags
    not_thanks = len(lexicon.NOT_THANKS.findall(low))
    thanks_words = len(lexicon.GRATITUDE.findall(low))
    thanks = max(0, thanks_words - not_thanks) + len(lexicon.EMOJI_POSITIVE.findall(low))
    thanks += good_tags
    question = lexicon.QUESTION.search(low.strip()) is not None
    polite_words = len(lexicon.POLITE.findall(low))
    polite = (
        thanks > 0
        and thanks_words <= polite_words
        and compound < 0.6
        and (question or lexicon.REQUEST.search(low) is not None)
    )
    return SentimentSignals(
        compound=compound,
        problems=problems,
        thanks=thanks,
        sarcasm=lexicon.SARCASM.search(low) is not None,
        question=question,
        strong=strong,
        polite=polite,
    )


def classify(sig: SentimentSignals) -> tuple[str, float]:
    """Label and score in [-1, 1] from the signals (rules, see docs/triage.md).

    Problem words count fully when they carry affect; topical ones ("cancel", "delayed",
    "refund") count half in a question. Thanks that only soften a request are neutral.
    """
    c = sig.compound
    topical = max(0, sig.problems - sig.strong)
    problems = sig.strong + topical
    thanks = 0.0 if sig.polite else float(sig.thanks)
    negative = problems >= 1 or c <= -0.25 or sig.sarcasm
    positive = thanks > 0 or c >= 0.5
    pos_weight = thanks + 2.0 * max(c, 0.0)
    neg_weight = problems + 2.0 * max(-c, 0.0) + (3.0 if sig.sarcasm else 0.0)
    raw = math.tanh(0.6 * (pos_weight - neg_weight) + 0.5 * c)
    if negative and (not positive or neg_weight >= pos_weight):
        return "negative", min(raw, -0.05)
    if positive:
        return "positive", max(raw, 0.05)
    return "neutral", max(-0.2, min(0.2, raw))
