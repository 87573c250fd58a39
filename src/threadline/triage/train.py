"""Learning from agents' corrections: fit workspace heads, report before/after on held-out data."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

from threadline.errors import MissingExtra
from threadline.triage import rules
from threadline.triage.budget import classify_window
from threadline.triage.model import LinearModel, TriageModel, save_model, tokens
from threadline.triage.sentiment import classify, clean, signals
from threadline.triage.types import CATEGORIES, SENTIMENTS, TrainReport


def dense_features(text: str) -> tuple[str, list[float], str, str]:
    """(cleaned text, dense features, rule category, rule sentiment) for one message, read as
    ``analyze`` reads it (its bounded head)."""
    text = classify_window(text)[0]
    low = clean(text)
    sig = signals(text, low)
    sentiment, score = classify(sig)
    scores = rules.category_scores(low, sig, sentiment, score)
    category = max(scores, key=lambda k: scores[k])
    feats = [*sig.features(), score, *(scores[c] for c in CATEGORIES)]
    return low, feats, category, sentiment


def fit_head(
    lows: Sequence[str], feats: Sequence[list[float]], labels: Sequence[str], *, c: float = 1.0
) -> LinearModel:
    """Logistic regression over unigrams+bigrams and the dense rule features.

    Classes are weighted by inverse frequency: agents' corrections are imbalanced (few praise,
    many questions) and the rare classes are the ones worth learning.
    """
    try:
        import numpy as np
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # the `train` extra; a trained model loads without it
        raise MissingExtra(
            "training a triage model needs the 'train' extra: pip install 'threadline[train]'",
            details={"missing": exc.name or ""},
        ) from None

    df: Counter[str] = Counter()
    docs = [set(tokens(low)) for low in lows]
    for doc in docs:
        df.update(doc)
    min_df = 2 if len(lows) >= 200 else 1
    vocab = {tok: i for i, tok in enumerate(sorted(t for t, n in df.items() if n >= min_df))}
    rows, cols = [], []
    for r, doc in enumerate(docs):
        for tok in doc:
            j = vocab.get(tok)
            if j is not None:
                rows.append(r)
                cols.append(j)
    sparse = csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float64
    )
    matrix = hstack([sparse, csr_matrix(np.asarray(feats, dtype=np.float64))]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(matrix, list(labels))
    coef = clf.coef_
    n_vocab = len(vocab)
    by_index = sorted(vocab.items(), key=lambda kv: kv[1])
    weights = {
        tok: tuple(float(w) for w in coef[:, j])
        for tok, j in by_index
        if any(abs(float(w)) > 1e-4 for w in coef[:, j])
    }
    dense = tuple(tuple(float(w) for w in coef[:, n_vocab + k]) for k in range(len(feats[0])))
    return LinearModel(
        classes=tuple(str(c) for c in clf.classes_),
        bias=tuple(float(b) for b in clf.intercept_),
        dense=dense,
        vocab=weights,
    )


def _accuracy(pred: Sequence[str], gold: Sequence[str]) -> float | None:
    if not gold:
        return None
    return round(sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold), 4)


def _head(
    rows: list[tuple[str, list[float], str, str]],
    labels: list[str],
    test: set[int],
    rule_index: int,
) -> tuple[LinearModel | None, float | None, float | None]:
    """Fit one head; returns (model on all rows, accuracy before, accuracy after) on ``test``."""
    if len(set(labels)) < 2:
        return None, None, None
    train_idx = [i for i in range(len(rows)) if i not in test]
    test_idx = sorted(test)
    gold = [labels[i] for i in test_idx]
    before = _accuracy([str(rows[i][rule_index]) for i in test_idx], gold)
    after: float | None = None
    if test_idx and len({labels[i] for i in train_idx}) >= 2:
        held = fit_head(
            [rows[i][0] for i in train_idx],
            [rows[i][1] for i in train_idx],
            [labels[i] for i in train_idx],
        )
        after = _accuracy([held.predict(rows[i][0], rows[i][1])[0] for i in test_idx], gold)
    final = fit_head([r[0] for r in rows], [r[1] for r in rows], labels)
    return final, before, after


def train(
    examples: Iterable[tuple[str, str | None, str | None]],
    *,
    test_fraction: float = 0.2,
    seed: int = 13,
) -> TrainReport:
    """Fit category and sentiment heads from ``(text, category, sentiment)`` corrections.

    Scores before (built-in rules) and after (trained head) are measured on the same held-out
    ``test_fraction`` of the examples; the returned model is then refit on all of them.
    """
    items = [
        (text, cat if cat in CATEGORIES else None, sent if sent in SENTIMENTS else None)
        for text, cat, sent in examples
        if text and text.strip()
    ]
    random.Random(seed).shuffle(items)
    n_test = int(len(items) * test_fraction) if len(items) >= 10 else 0
    test = set(range(n_test))
    feats = [dense_features(text) for text, _, _ in items]

    def subset(col: int) -> tuple[list[tuple[str, list[float], str, str]], list[str], set[int]]:
        keep = [i for i, item in enumerate(items) if item[col] is not None]
        return (
            [feats[i] for i in keep],
            [str(items[i][col]) for i in keep],
            {k for k, i in enumerate(keep) if i in test},
        )

    cat_model, cat_before, cat_after = _head(*subset(1), rule_index=2)
    sent_model, sent_before, sent_after = _head(*subset(2), rule_index=3)
    model = TriageModel(category=cat_model, sentiment=sent_model)
    return TrainReport(
        n_train=len(items) - n_test,
        n_test=n_test,
        category_before=cat_before,
        category_after=cat_after,
        sentiment_before=sent_before,
        sentiment_after=sent_after,
        model=save_model(model),
    )
