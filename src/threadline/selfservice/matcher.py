"""Which published article answers a customer's message, and how sure we are.

Pure: no database. A workspace's published articles become one small model: every example
question of an article (and its title, its title with its tags, and the head of its body) is
a training text for that article; texts are TF-IDF vectors of word 1-2-grams and character
3-5-grams (typos, inflections, other scripts), and a message is scored by cosine similarity
against every training text. An article's score is the best similarity of its own texts; the
confidence blends that score with its margin over the runner-up article, so a message that
sits between two articles is not answered. Building takes tens of milliseconds for a few
hundred articles; a match takes about a millisecond.

Language: when the customer's language is known, only articles in that language (or with no
language) are candidates; when nothing fits his language, nothing is answered.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import uuid
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded when a workspace's articles are first matched, not at start-up
    import numpy as np

MAX_BODY_CHARS = 400  # the head of the body: what the article is about, not all it says
MAX_MESSAGE_CHARS = 2000  # a longer message is read by its head only
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(^|\s)[@#](\w+)")
_MARKDOWN = re.compile(r"[`*_>#\[\]()!|~-]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, no links, no @handles, no Markdown punctuation, accents kept."""
    text = unicodedata.normalize("NFKC", text[:MAX_MESSAGE_CHARS]).lower()
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _MARKDOWN.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Doc:
    """What the matcher needs of an article."""

    id: uuid.UUID
    title: str
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    body: str = ""
    language: str | None = None


@dataclass(frozen=True)
class Match:
    article_id: uuid.UUID | None
    confidence: float  # 0..1
    score: float  # the best cosine similarity
    runner_up: float  # the best similarity of any other article

    def confident(self, threshold: float) -> bool:
        return self.article_id is not None and self.confidence >= threshold


NO_MATCH = Match(None, 0.0, 0.0, 0.0)


def _texts(doc: Doc) -> list[str]:
    texts = [doc.title, f"{doc.title} {' '.join(doc.tags)}", *doc.questions]
    head = doc.body[:MAX_BODY_CHARS]
    if head.strip():
        texts.append(f"{doc.title} {head}")
    return [t for t in (normalise(t) for t in texts) if t]


def _lang(value: str | None) -> str | None:
    return (value or "").split("-")[0].lower() or None


class Matcher:
    """A workspace's articles, ready to match messages (immutable; build a new one when the
    articles change)."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.docs = list(docs)
        texts: list[str] = []
        owners: list[int] = []
        for index, doc in enumerate(self.docs):
            for text in _texts(doc):
                texts.append(text)
                owners.append(index)
        self.owners = np.asarray(owners, dtype=np.int64)
        self.languages = [_lang(d.language) for d in self.docs]
        if not texts:
            self.words = self.chars = None
            return
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                     min_df=1, token_pattern=r"(?u)\b\w+\b")  # noqa: S106
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                     min_df=1)
        matrix = self._join(self.words.fit_transform(texts), self.chars.fit_transform(texts))
        self.columns = matrix.tocsc()  # type: ignore[attr-defined]
        # the transform by hand (sklearn's validates its input on every call: 5 ms a
        # message); the same vocabulary, idf and normalisation as fit_transform
        self.word_analyzer = self.words.build_analyzer()
        self.char_analyzer = self.chars.build_analyzer()
        self.word_vocab: dict[str, int] = dict(self.words.vocabulary_)
        self.char_vocab: dict[str, int] = dict(self.chars.vocabulary_)
        self.word_idf = np.asarray(self.words.idf_)
        self.char_idf = np.asarray(self.chars.idf_)
        self.offset = len(self.word_vocab)

    @staticmethod
    def _join(words: object, chars: object) -> object:
        # both halves are L2-normalised; each scaled by sqrt(0.5), their join is too, so a
        # dot product is a cosine similarity
        import numpy as np
        from scipy.sparse import hstack

        scale = float(np.sqrt(0.5))
        return hstack([words * scale, chars * scale]).tocsr()  # type: ignore[operator]

    @staticmethod
    def _half(tokens: list[str], vocab: dict[str, int], idf: np.ndarray,
              offset: int) -> tuple[list[int], list[float]]:
        import numpy as np

        counts: dict[int, int] = {}
        for token in tokens:
            index = vocab.get(token)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        if not counts:
            return [], []
        cols = list(counts)
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * idf[cols]
        weights *= float(np.sqrt(0.5)) / float(np.linalg.norm(weights))
        return [c + offset for c in cols], weights.tolist()

    def _similarities(self, clean: str) -> np.ndarray:
        import numpy as np

        wc, wv = self._half(self.word_analyzer(clean), self.word_vocab, self.word_idf, 0)
        cc, cv = self._half(self.char_analyzer(clean), self.char_vocab, self.char_idf,
                            self.offset)
        cols = wc + cc
        if not cols:
            return np.zeros(len(self.owners))
        return np.asarray(self.columns[:, cols] @ np.asarray(wv + cv)).ravel()

    def match(self, text: str, language: str | None = None) -> Match:
        if self.words is None or self.chars is None:
            return NO_MATCH
        clean = normalise(text)
        if not clean:
            return NO_MATCH
        import numpy as np

        sims = self._similarities(clean)
        best = np.full(len(self.docs), -1.0)
        np.maximum.at(best, self.owners, sims)
        wanted = _lang(language)
        if wanted is not None:
            for index, lang in enumerate(self.languages):
                if lang is not None and lang != wanted:
                    best[index] = -1.0
        order = np.argsort(-best)
        top = int(order[0])
        if best[top] <= 0.0:
            return NO_MATCH
        second = max(float(best[order[1]]) if len(order) > 1 else 0.0, 0.0)
        score = float(best[top])
        return Match(self.docs[top].id, confidence(score, second), score, second)


def confidence(score: float, runner_up: float) -> float:
    """The best similarity, discounted when another article is nearly as close."""
    margin = max(score - runner_up, 0.0)
    return round(min(1.0, 0.5 * score + 1.5 * margin), 4)


# --- a small cache: one model per workspace, rebuilt when its articles change -----------------


class MatcherCache:
    """Models per workspace, keyed by a version of its articles (the latest update time and
    their count): a changed, published or archived article builds a new one."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: dict[uuid.UUID, tuple[Hashable, Matcher]] = {}

    def get(self, workspace_id: uuid.UUID, version: Hashable,
            load: Iterable[Doc] | None = None) -> Matcher | None:
        with self._lock:
            found = self._items.get(workspace_id)
        if found is not None and found[0] == version:
            return found[1]
        if load is None:
            return None
        matcher = Matcher(list(load))
        with self._lock:
            if len(self._items) >= self.size and workspace_id not in self._items:
                self._items.pop(next(iter(self._items)))
            self._items[workspace_id] = (version, matcher)
        return matcher

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = MatcherCache()
