"""Language identification (triage/language.py, decision 0337): scripts, common-word votes,
Hinglish, and fastText's bundled model for what the words leave open — offline."""

from __future__ import annotations

import socket

import pytest

from threadline.triage import language
from threadline.triage.language import detect_language


@pytest.mark.parametrize(("text", "expected"), [
    ("@ShopCo where is my parcel? it was due on Monday", "en"),
    ("@ShopCo il mio pacco non è ancora arrivato, qualcuno mi risponde?", "it"),
    ("@ShopCo mijn pakket is nog steeds niet bezorgd, wat is er aan de hand", "nl"),
    ("@ShopCo minha encomenda ainda não chegou, alguém pode me ajudar", "pt"),
    ("@ShopCo mi pedido no ha llegado y nadie me contesta", "es"),
    ("@ShopCo mein Paket ist immer noch nicht angekommen", "de"),
    ("@ShopCo ma commande n'est toujours pas arrivée, aidez-moi", "fr"),
    ("@ShopCo mera parcel abhi tak nahi aaya, kya ho raha hai yaar", "hi"),
    ("@ShopCo bhai refund kab milega? 10 din ho gaye", "hi"),
    ("@ShopCo طلبي ما وصل لين الحين", "ar"),
    ("@ShopCo 荷物がまだ届いていません", "ja"),
])
def test_the_language_of_short_customer_posts(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_no_words_gives_the_default() -> None:
    assert detect_language("@ShopCo 👍👍 https://t.co/x #fail") == "en"
    assert detect_language("", default="es") == "es"


def test_the_model_reads_hostile_text_without_failing() -> None:
    # a lone surrogate and a NUL reach the model (fastText reads valid UTF-8 only)
    assert detect_language("\x00 un deux trois \ud800 quatre cinq six sept")
    assert detect_language("ok " * 200_000)


def test_the_model_is_bundled_and_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("language identification tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    language._model.cache_clear()
    try:
        # few common words: the model decides
        assert detect_language("Grazie mille, servizio impeccabile e velocissimo") == "it"
    finally:
        language._model.cache_clear()
