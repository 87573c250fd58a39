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
from threadline.inbound.enrich import PRIORITY_BY_URGENCY
from threadline.triage import analyze
from threadline.triage.types import Triage

URGENT_FROM = min(threshold for threshold, priority in PRIORITY_BY_URGENCY if priority <= 2)
_HANDLE = re.compile(r"@(\w{1,30})")


def _scores(gold: Sequence[str], pred: Sequence[str],
            classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 and macro-recall over `classes`, and each class's P/R/F1."""
    per: dict[str, dict[str, float]] = {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[c] = {"precision": round(precision, 4), "recall": round(recall, 4),
                  "f1": round(f1, 4), "support": tp + fn}
    n = len(gold)
    return {"n": n,
            "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / n, 4)
            if n else 0.0,
            "macro_f1": round(sum(v["f1"] for v in per.values()) / len(per), 4),
            "macro_recall": round(sum(v["recall"] for v in per.values()) / len(per), 4),
            "per_class": per}


def _binary(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, Any]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    return {"n": len(gold), "positives": tp + fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0}


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


def score_rows(rows: Sequence[dict[str, Any]], brands: Callable[[dict[str, Any]], Sequence[str]],
               vader: Any) -> dict[str, Any]:
    """Every field of `rows` (label rows with their `text`) against Threadline's triage, and
    sentiment against VADER's."""
    ours = [read_triage(analyze(row["text"], brand_handles=brands(row))) for row in rows]
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
                      "vader": _scores(gold_sent, [vader(row["text"]) for row in rows],
                                       sentiments)},
        "language_right": round(sum(o["language"] == row["language"]
                                    for o, row in zip(ours, rows, strict=True)) / len(rows), 4),
    }


def _per_language(rows: Sequence[dict[str, Any]], vader: Any) -> dict[str, Any]:
    out = {}
    for language in labels.MULTILINGUAL_LANGUAGES:
        mine = [row for row in rows if row["language"] == language]
        ours = [read_triage(analyze(row["text"], brand_handles=brand_of_post(row["text"])))
                for row in mine]
        out[language] = {
            "n": len(mine),
            "language_right": sum(o["language"] == language for o in ours),
            "sentiment_right": sum(o["sentiment"] == row["sentiment"]
                                   for o, row in zip(ours, mine, strict=True)),
            "category_right": sum(o["category"] == row["category"]
                                  for o, row in zip(ours, mine, strict=True)),
            "sentiment_and_category_right": sum(
                o["sentiment"] == row["sentiment"] and o["category"] == row["category"]
                for o, row in zip(ours, mine, strict=True)),
            "vader_sentiment_right": sum(vader(row["text"]) == row["sentiment"]
                                         for row in mine)}
    return out


def bench_labelled(data: Path, vader: Any) -> dict[str, Any]:
    """`vader(text)` gives VADER's label. Returns the twcs and multilingual held-out figures
    beside the issue's targets."""
    twcs = labels.join_twcs_text(data / "twcs", split="heldout")
    multilingual = labels.load_multilingual("heldout")
    handles = labels.twcs_brand_handles(data / "twcs")
    twcs_scores = score_rows(twcs, lambda row: handles.get(row["company"], (row["company"],)),
                             vader)
    ml_scores = score_rows(multilingual, lambda row: brand_of_post(row["text"]), vader)
    per_language = _per_language(multilingual, vader)
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
