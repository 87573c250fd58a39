"""Workspace models learnt from agents' corrections: small linear classifiers stored as JSON.

Inference is plain Python (dictionary look-ups), so loading a stored model runs no code from the
blob (no pickle) and needs no scikit-learn. Training (``train.py``) uses scikit-learn.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

FORMAT = "threadline-triage-model/1"
_TOKEN = re.compile(r"[a-z0-9']+|[!?]")


def tokens(low: str) -> list[str]:
    """Unigrams and bigrams of a cleaned, lower-cased text."""
    words = _TOKEN.findall(low)
    return words + [f"{a} {b}" for a, b in pairwise(words)]


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    dense: tuple[tuple[float, ...], ...]  # one row per dense feature
    vocab: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def logits(self, low: str, features: list[float]) -> list[float]:
        out = list(self.bias)
        for tok in set(tokens(low)):
            row = self.vocab.get(tok)
            if row is not None:
                for i, w in enumerate(row):
                    out[i] += w
        for value, row in zip(features, self.dense, strict=False):
            for i, w in enumerate(row):
                out[i] += w * value
        return out

    def probabilities(self, low: str, features: list[float]) -> dict[str, float]:
        z = self.logits(low, features)
        if len(self.classes) == 2 and len(z) == 1:
            p = 1.0 / (1.0 + math.exp(-z[0]))
            return {self.classes[0]: 1.0 - p, self.classes[1]: p}
        top = max(z)
        exp = [math.exp(v - top) for v in z]
        total = sum(exp)
        return {c: e / total for c, e in zip(self.classes, exp, strict=True)}

    def predict(self, low: str, features: list[float]) -> tuple[str, float]:
        probs = self.probabilities(low, features)
        label = max(probs, key=lambda k: probs[k])
        return label, probs[label]

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "bias": list(self.bias),
            "dense": [list(r) for r in self.dense],
            "vocab": {k: [round(w, 5) for w in v] for k, v in self.vocab.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        return cls(
            classes=tuple(str(c) for c in data["classes"]),
            bias=tuple(float(b) for b in data["bias"]),
            dense=tuple(tuple(float(w) for w in r) for r in data["dense"]),
            vocab={str(k): tuple(float(w) for w in v) for k, v in data["vocab"].items()},
        )


@dataclass(frozen=True)
class TriageModel:
    """A workspace's trained heads; ``None`` means "use the built-in rules"."""

    category: LinearModel | None = None
    sentiment: LinearModel | None = None


def save_model(model: TriageModel) -> bytes:
    """Compact bytes for storage (zlib-compressed JSON)."""
    payload = {
        "format": FORMAT,
        "category": model.category.to_json() if model.category else None,
        "sentiment": model.sentiment.to_json() if model.sentiment else None,
    }
    return zlib.compress(json.dumps(payload, separators=(",", ":")).encode("utf-8"), 9)


def load_model(data: bytes) -> TriageModel:
    """Inverse of ``save_model``; raises ``ValueError`` on anything else."""
    try:
        payload = json.loads(zlib.decompress(data).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not a triage model") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError("not a triage model")
    cat, sent = payload.get("category"), payload.get("sentiment")
    return TriageModel(
        category=LinearModel.from_json(cat) if cat else None,
        sentiment=LinearModel.from_json(sent) if sent else None,
    )
