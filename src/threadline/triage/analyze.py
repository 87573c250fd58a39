"""``analyze``: one pass over a message giving every triage annotation."""

from __future__ import annotations

from collections.abc import Sequence

from threadline.triage import multilingual, rules
from threadline.triage.budget import classify_window
from threadline.triage.language import detect_language
from threadline.triage.model import TriageModel
from threadline.triage.pii import detect_pii
from threadline.triage.sentiment import classify, clean, signals
from threadline.triage.types import CATEGORIES, Triage

_NEEDS_ANSWER = frozenset({"complaint", "technical", "question"})


def analyze(
    text: str,
    *,
    channel: str | None = None,
    visibility: str = "public",
    brand_handles: Sequence[str] = (),
    competitor_handles: Sequence[str] = (),
    model: TriageModel | None = None,
) -> Triage:
    """Triage one message; ``model`` is a workspace model from ``train`` (default: the rules
    for English, the multilingual heads for sentiment and category in other languages).

    The classifiers read a bounded head of the text (``Triage.truncated`` says when it is not
    all of it); PII is looked for in the whole text (see budget.py).
    """
    pii = tuple(detect_pii(text))
    text, truncated = classify_window(text)
    low = clean(text)
    sig = signals(text, low)
    sentiment, score = classify(sig)
    scores = rules.category_scores(low, sig, sentiment, score)
    language = detect_language(text)
    if model is None and language != "en" and (read := multilingual.reader().read(text)):
        # the rules read English words; other languages go through the multilingual heads
        sentiment, score = read.sentiment, read.sentiment_score
        total = sum(read.category_probabilities.get(k, 0.0) for k in scores) or 1.0
        scores = {k: read.category_probabilities.get(k, 0.0) / total for k in scores}
    if model is not None:
        feats = [*sig.features(), score, *(scores[c] for c in CATEGORIES)]
        if model.category is not None:
            probs = model.category.probabilities(low, feats)
            scores = {k: probs.get(k, 0.0) for k in scores}
        if model.sentiment is not None:
            sentiment, confidence = model.sentiment.predict(low, feats)
            sign = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[sentiment]
            score = sign * max(abs(score), confidence) if sign else score * 0.3
    category = max(scores, key=lambda k: scores[k])
    reasons = rules.private_reasons(low, bool(pii))
    relevance, relevance_score = rules.relevance(
        text,
        channel=channel,
        visibility=visibility,
        brand_handles=brand_handles,
        competitor_handles=competitor_handles,
        needs_answer=category in _NEEDS_ANSWER,
        is_question=category == "question" or sig.question,
    )
    complaint = scores["complaint"] if category == "complaint" else min(0.49, scores["complaint"])
    if category == "technical" and sentiment == "negative":
        complaint = max(complaint, 0.5 + 0.3 * max(0.0, -score))
    return Triage(
        relevance=relevance,
        relevance_score=min(1.0, relevance_score),
        category=category,
        public_ok=not reasons,
        sentiment=sentiment,
        sentiment_score=max(-1.0, min(1.0, score)),
        urgency=rules.urgency(low, text, sig),
        language=language,
        pii=pii,
        complaint_score=min(1.0, complaint),
        category_scores=tuple(sorted(scores.items(), key=lambda kv: -kv[1])),
        private_reasons=tuple(reasons),
        truncated=truncated,
    )
