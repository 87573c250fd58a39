"""The triage figures issue 16 asks for, on Threadline's own hand-labelled sets
(`threadline.bench.labels`, guidelines in docs/triage-labels.md): the held-out split of the
614 first customer tweets from twcs and of the 210 multilingual posts, Threadline's triage and
VADER side by side on the same rows.

Only the `heldout` rows are scored here; the `dev` rows are the ones rules and models may be
tuned on. How Threadline's output is read in the labels' terms (none of it tuned on these rows):

- private channel needed: `public_ok` is false;
- category: `not_for_us` when the post is not addressed to the brand (relevance other than
  `direct`: a mention, a competitor, chatter), else Threadline's category;
- technical: the category is `technical` (the label is true for technical complaints too);
- needs a reply: relevance `direct` (what puts a post in an agents' queue);
- urgency high: an urgency that gives priority P1 or P2 (`inbound.enrich.PRIORITY_BY_URGENCY`);
- the brand: the twcs row's company and the numeric id the data put in tweets in place of its
  handle (`labels.twcs_brand_handles`); for a multilingual post its first handle (every one of
  them is written to a brand, handle first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from threadline.bench import labels
from threadline.bench.metrics import per_class
from threadline.inbound.enrich import PRIORITY_BY_URGENCY
from threadline.triage import analyze
from threadline.triage.types import Triage

URGENT_FROM = min(threshold for threshold, priority in PRIORITY_BY_URGENCY if priority <= 2)
_HANDLE = re.compile(r"@(\w{1,30})")


def _scores(gold: Sequence[str], pred: Sequence[str],
            classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and macro-recall over `classes`, and each class's P/R/F1."""
    per = {c: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
               "f1": round(s.f1, 4), "support": s.support}
           for c, s in per_class(gold, pred, classes).items()}
    n = len(gold)
    return {"n": n,
            "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / n, 4)
            if n else 0.0,
            "macro_f1": round(sum(v["f1"] for v in per.values()) / len(per), 4),
            "macro_recall": round(sum(v["recall"] for v in per.values()) / len(per), 4),
            "per_class": per}


def _binary(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, Any]:
    s = per_class(gold, pred, (True,))[True]
    return {"n": len(gold), "positives": s.support, "precision": round(s.precision, 4),
            "recall": round(s.recall, 4)}


def brand_of_post(text: str) -> tuple[str, ...]:
    """The handle a multilingual post is written to: its first one."""
    found = _HANDLE.search(text)
    return (found.group(1),) if found else ()


def read_triage(result: Triage) -> dict[str, Any]:
    """One triage result in the labels' terms (see the module's docstring)."""
    direct = result.relevance == "direct"
    return {"category": result.category if direct else "not_for_us",
            "technical": result.category == "technical",
            "needs_reply": direct,
            "private": not result.public_ok,
            "sentiment": result.sentiment,
            "urgent": result.urgency >= URGENT_FROM,
            "language": result.language}


def score_rows(rows: Sequence[dict[str, Any]], ours: Sequence[dict[str, Any]],
               theirs: Sequence[str]) -> dict[str, Any]:
    """Every field of `rows` (label rows with their `text`) against Threadline's readings of
    them (`read_triage`), and sentiment against VADER's labels."""
    sentiments = ("negative", "neutral", "positive")
    gold_sent = [row["sentiment"] for row in rows]
    return {
        "n": len(rows),
        "private_channel": _binary([not row["public_ok"] for row in rows],
                                   [o["private"] for o in ours]),
        "category": _scores([row["category"] for row in rows], [o["category"] for o in ours],
                            labels.CATEGORIES),
        "technical": _binary([row["technical"] for row in rows], [o["technical"] for o in ours]),
        "needs_reply": _binary([row["needs_reply"] for row in rows],
                               [o["needs_reply"] for o in ours]),
        "urgency_high": _binary([row["urgency"] == "high" for row in rows],
                                [o["urgent"] for o in ours]),
        "sentiment": {"threadline": _scores(gold_sent, [o["sentiment"] for o in ours],
                                            sentiments),
                      "vader": _scores(gold_sent, theirs, sentiments)},
        "language_right": round(sum(o["language"] == row["language"]
                                    for o, row in zip(ours, rows, strict=True)) / len(rows), 4),
    }


def _read_all(rows: Sequence[dict[str, Any]], brands: Callable[[dict[str, Any]], Sequence[str]],
              vader: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Threadline's readings and VADER's sentiment labels of `rows`, once."""
    return ([read_triage(analyze(row["text"], brand_handles=brands(row))) for row in rows],
            [vader(row["text"]) for row in rows])


def _per_language(rows: Sequence[dict[str, Any]], ours: Sequence[dict[str, Any]],
                  theirs: Sequence[str]) -> dict[str, Any]:
    out = {}
    for language in labels.MULTILINGUAL_LANGUAGES:
        mine = [(row, o, t) for row, o, t in zip(rows, ours, theirs, strict=True)
                if row["language"] == language]
        out[language] = {
            "n": len(mine),
            "language_right": sum(o["language"] == language for _, o, _ in mine),
            "sentiment_right": sum(o["sentiment"] == row["sentiment"] for row, o, _ in mine),
            "category_right": sum(o["category"] == row["category"] for row, o, _ in mine),
            "sentiment_and_category_right": sum(
                o["sentiment"] == row["sentiment"] and o["category"] == row["category"]
                for row, o, _ in mine),
            "vader_sentiment_right": sum(t == row["sentiment"] for row, _, t in mine)}
    return out


def bench_labelled(data: Path, vader: Any) -> dict[str, Any]:
    """`vader(text)` gives VADER's label. Returns the twcs and multilingual held-out figures
    beside the issue's targets."""
    twcs = labels.join_twcs_text(data / "twcs", split="heldout")
    multilingual = labels.load_multilingual("heldout")
    handles = labels.twcs_brand_handles(data / "twcs")
    twcs_scores = score_rows(twcs, *_read_all(
        twcs, lambda row: handles.get(row["company"], (row["company"],)), vader))
    ml_read = _read_all(multilingual, lambda row: brand_of_post(row["text"]), vader)
    ml_scores = score_rows(multilingual, *ml_read)
    per_language = _per_language(multilingual, *ml_read)
    both = sum(v["sentiment_and_category_right"] for v in per_language.values())
    return {
        "split": "held-out rows only (never read while writing rules or choosing models); "
                 "labels in threadline/bench/labels, guidelines docs/triage-labels.md",
        "reading": "category not_for_us = not addressed to the brand (relevance other than "
                   "direct); technical = category technical; needs a reply = relevance direct; "
                   f"urgency high = urgency >= {URGENT_FROM} (P1 or P2)",
        "twcs_heldout": twcs_scores,
        "multilingual_heldout": {**ml_scores, "per_language": per_language,
                                 "sentiment_and_category_right": round(both / len(multilingual),
                                                                       4)},
        "targets": {
            "private_channel_recall": [twcs_scores["private_channel"]["recall"], ">= 0.80"],
            "private_channel_precision": [twcs_scores["private_channel"]["precision"],
                                          ">= 0.75"],
            "category_macro_f1": [twcs_scores["category"]["macro_f1"], ">= 0.70"],
            "technical_recall": [twcs_scores["technical"]["recall"], ">= 0.70"],
            "not_for_us_precision": [
                twcs_scores["category"]["per_class"]["not_for_us"]["precision"], ">= 0.80"],
            "sentiment_macro_f1": [twcs_scores["sentiment"]["threadline"]["macro_f1"],
                                   ">= 0.80"],
            "non_english_language_right": [ml_scores["language_right"], ">= 0.95"],
            "non_english_sentiment_right": [
                ml_scores["sentiment"]["threadline"]["accuracy"], ">= 0.80"],
            "non_english_category_right": [ml_scores["category"]["accuracy"], ">= 0.80"],
        },
    }
