"""Sentiment and category beyond English (triage/multilingual.py, decision 0338): the heads
ship as trained from the written posts, folding them into the token table changes nothing,
analyze() uses them for other languages only, offline, on hostile text too."""

from __future__ import annotations

import socket
from collections import Counter

import numpy as np
import pytest

from tests.conftest import shared_data
from threadline.bench import labels
from threadline.triage import analyze, multilingual


def test_the_shipped_heads_are_the_ones_the_written_posts_give() -> None:
    shipped = multilingual.Heads.load()
    rebuilt = multilingual.fit(multilingual.read_rows())
    assert shipped.sentiment_classes == rebuilt.sentiment_classes
    assert shipped.category_classes == rebuilt.category_classes
    for name in ("sentiment_w", "sentiment_b", "category_w", "category_b"):
        assert np.allclose(getattr(shipped, name), getattr(rebuilt, name), atol=1e-4), name


def test_folding_the_heads_into_the_token_table_reads_as_the_heads_do() -> None:
    heads, reader = multilingual.Heads.load(), multilingual.reader()
    texts = [row["text"] for row in multilingual.read_rows()[::25]]
    x = multilingual.vectors(texts)
    for text, vector in zip(texts, x, strict=True):
        read = reader.read(text)
        assert read is not None
        logits = heads.sentiment_w @ vector + heads.sentiment_b
        assert read.sentiment == heads.sentiment_classes[int(logits.argmax())]
        probs = np.array([read.category_probabilities[c] for c in heads.category_classes])
        expected = heads.category_w @ vector + heads.category_b
        assert int(probs.argmax()) == int(expected.argmax())


def test_the_written_posts_are_valid_and_none_is_an_evaluation_post() -> None:
    rows = multilingual.read_rows()
    assert len({row["id"] for row in rows}) == len(rows) >= 1_300
    for row in rows:
        assert row["sentiment"] in multilingual.SENTIMENTS, row["id"]
        assert row["category"] in multilingual.LABEL_CATEGORIES, row["id"]
        assert row["technical"] is True or row["category"] != "technical", row["id"]
        assert (row["private_reason"] is None) == row["public_ok"], row["id"]
    per_language = Counter(row["language"] for row in rows)
    assert set(labels.MULTILINGUAL_LANGUAGES) | {"en"} == set(per_language)

    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    written = {norm(row["text"]) for row in rows}
    assert not written & {norm(row["text"]) for row in labels.load_multilingual()}
    twcs = labels.read_twcs_texts(shared_data("twcs"))
    assert not written & {norm(text) for text in twcs.values()}


@pytest.mark.parametrize(("text", "sentiment", "category"), [
    ("@TelcoMovil pésimo servicio, tres días sin internet y nadie responde 😡", "negative",
     "complaint"),
    ("@LojaRapida muito obrigado, atendimento excelente! 👏", "positive", "praise"),
    ("@TrenoVeloce l'app si blocca ogni volta che provo a pagare il biglietto", "negative",
     "technical"),
    ("@ColisExpress merci beaucoup, livraison rapide et livreur très sympa", "positive",
     "praise"),
    ("@BahnFix fährt der ICE um 18:10 heute nach Hamburg?", "neutral", "question"),
    ("@ShopKartIN bhai mera refund abhi tak nahi aaya, bahut bura service", "negative",
     "complaint"),
])
def test_posts_in_other_languages(text: str, sentiment: str, category: str) -> None:
    result = analyze(text)
    assert result.language != "en"
    assert (result.sentiment, result.category) == (sentiment, category)
    assert -1.0 <= result.sentiment_score <= 1.0
    assert abs(sum(score for _, score in result.category_scores) - 1.0) < 1e-6


def test_english_is_still_read_by_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the multilingual heads read an English post")

    monkeypatch.setattr(multilingual, "reader", refuse)
    assert analyze("@ShopCo my parcel never arrived, third week now").category == "complaint"


def test_hostile_text_and_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the multilingual heads tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    multilingual.reader.cache_clear()
    multilingual._tokenizer.cache_clear()
    try:
        assert analyze("@ShopCo \ud800 pedido \x00 no llegó " * 50_000).language == "es"
        assert multilingual.reader().read("@ShopCo https://t.co/x") is None  # no words
    finally:
        multilingual.reader.cache_clear()
