"""Classification figures shared by the triage benches: precision, recall and F1 from counts,
and per class from gold and predicted labels."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import NamedTuple


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float
    support: int  # how many gold labels are of the class


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """(precision, recall, F1) from true positives, false positives and false negatives."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def per_class(gold: Sequence[Hashable], pred: Sequence[Hashable],
              classes: Sequence[Hashable]) -> dict[Hashable, Scores]:
    """Each class's precision, recall, F1 and support."""
    out = {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        out[c] = Scores(*f1(tp, fp, fn), support=tp + fn)
    return out
