"""The matcher and the bot's rules, pure: the right article with a confidence, a message
between two articles or about nothing is not confident, the customer's language is
respected, the model is rebuilt when the articles change, matching takes milliseconds; and
what counts as a request for a person, a confirmation, frustration or a tap."""

from __future__ import annotations

import time
import uuid

import pytest

from threadline.selfservice import rules
from threadline.selfservice.matcher import Doc, Matcher, MatcherCache, normalise

TRACK, REFUND, PASSWORD, REEMBOLSO = (uuid.uuid4() for _ in range(4))
DOCS = [
    Doc(TRACK, "Tracking your order", ("where is my order", "track my package",
                                       "my parcel has not arrived"), ("order",),
        "Open Your orders and choose Track package.", "en"),
    Doc(REFUND, "How to get a refund", ("how do I get a refund", "I want my money back",
                                        "refund my order please"), ("refund",),
        "Start a return and choose Refund.", "en"),
    Doc(PASSWORD, "Recovering your password", ("I forgot my password", "reset my password",
                                               "cannot log in"), ("password",),
        "Choose Forgot password on the sign-in page.", "en"),
    Doc(REEMBOLSO, "Cómo pedir un reembolso", ("cómo pido un reembolso",
                                               "quiero que me devuelvan el dinero"),
        ("reembolso",), "Inicia una devolución.", "es"),
]
THRESHOLD = 0.5


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(DOCS)


class TestMatcher:
    @pytest.mark.parametrize(("text", "expected"), [
        ("Where is my order??", TRACK), ("I'd like to track my pakage", TRACK),
        ("how can I get my money back", REFUND), ("forgot my pasword, help", PASSWORD)])
    def test_the_right_article_confidently(self, matcher: Matcher, text: str,
                                           expected: uuid.UUID) -> None:
        found = matcher.match(text, "en")
        assert found.article_id == expected and found.confident(THRESHOLD), found

    @pytest.mark.parametrize("text", ["Do you sell blue garden chairs?", "asdf qwerty",
                                      "what time does the match start tonight"])
    def test_unrelated_messages_are_not_confident(self, matcher: Matcher, text: str) -> None:
        assert not matcher.match(text, "en").confident(THRESHOLD)

    def test_the_customers_language_is_respected(self, matcher: Matcher) -> None:
        assert matcher.match("quiero un reembolso", "es").article_id == REEMBOLSO
        # an English question never gets the Spanish article, and a known language with
        # no article in it gets nothing
        assert matcher.match("how do I get a refund", "en").article_id == REFUND
        assert matcher.match("how do I get a refund", "de").article_id is None
        assert matcher.match("how do I get a refund", "pt-BR").article_id is None

    def test_empty_input_and_an_empty_knowledge_base(self, matcher: Matcher) -> None:
        assert matcher.match("   ", "en").article_id is None
        assert matcher.match("@brand https://t.co/x #tag", "en").article_id is None
        assert Matcher([]).match("where is my order").article_id is None

    def test_a_long_message_is_read_by_its_head(self, matcher: Matcher) -> None:
        text = "where is my order " + "blah " * 20_000
        started = time.perf_counter()
        found = matcher.match(text, "en")
        assert time.perf_counter() - started < 0.2
        assert found.article_id == TRACK
        assert len(normalise(text)) <= 2000

    def test_a_few_milliseconds_per_message(self, matcher: Matcher) -> None:
        texts = ["where is my order", "refund please", "I forgot my password"] * 100
        started = time.perf_counter()
        for text in texts:
            matcher.match(text, "en")
        per_message_ms = (time.perf_counter() - started) * 1000 / len(texts)
        assert per_message_ms < 10, per_message_ms

    def test_the_cache_builds_again_when_the_version_changes(self) -> None:
        cache = MatcherCache(size=2)
        ws = uuid.uuid4()
        first = cache.get(ws, (3, "a"), DOCS[:3])
        assert cache.get(ws, (3, "a")) is first  # nothing changed: the same model
        assert cache.get(ws, (2, "b")) is None  # changed, and nothing given to build from
        second = cache.get(ws, (2, "b"), DOCS[:2])
        assert second is not first and second is not None
        assert second.match("I forgot my password", "en").article_id != PASSWORD
        for _ in range(3):  # bounded
            cache.get(uuid.uuid4(), (1, "x"), DOCS[:1])
        assert len(cache._items) <= 2


class TestRules:
    @pytest.mark.parametrize("text", [
        "Talk to a person", "I want to speak to a human", "can I talk with an agent please",
        "get me a real person", "agent", "human please", "I need to contact somebody",
        "are you a bot?", "quiero hablar con un agente", "je voudrais parler à quelqu'un",
        "ich will mit einem Menschen sprechen", "quero falar com um atendente",
        "vorrei parlare con un operatore"])
    def test_asking_for_a_person(self, text: str) -> None:
        assert rules.asks_for_person(text)

    @pytest.mark.parametrize("text", ["where is my order", "how do I reset my password",
                                      "I want a refund for the agent's mistake"])
    def test_not_asking_for_a_person(self, text: str) -> None:
        assert not rules.asks_for_person(text)

    @pytest.mark.parametrize(("text", "yes"), [
        ("yes", True), ("Yes, thanks!", True), ("thank you so much", True), ("merci", True),
        ("yes but where is my second parcel?", False), ("no", False), ("", False)])
    def test_confirmations(self, text: str, yes: bool) -> None:
        assert rules.confirms(text) is yes

    def test_frustration_from_triage_and_words(self) -> None:
        assert rules.frustrated("ok", {"category": "complaint", "complaint_score": 0.9})
        assert rules.frustrated("ok", {"sentiment": "negative", "sentiment_score": -0.9})
        assert not rules.frustrated("cancel my order", {"category": "complaint",
                                                        "complaint_score": 0.6})
        assert rules.frustrated("I want to file a complaint", {})
        assert rules.frustrated("WHERE IS MY ORDER I PAID FOR IT", {})
        assert rules.frustrated("where is it???", None)
        assert not rules.frustrated("where is my order?", {"sentiment": "neutral"})

    def test_taps_are_read_strictly(self) -> None:
        answer = uuid.uuid4()
        [yes, person] = rules.choices(answer)
        assert len(person["id"].encode()) <= 64  # Telegram's callback data
        assert rules.tapped({"quick_reply": {"payload": person["id"]}}) == rules.Tap(
            rules.PERSON, answer)
        assert rules.tapped({"reply_id": yes["id"]}) == rules.Tap(rules.YES, answer)
        assert rules.tapped({"callback_data": yes["id"]}) == rules.Tap(rules.YES, answer)
        for forged in ("selfservice:person:xyz", "selfservice:delete:" + answer.hex,
                       "selfservice:yes:" + answer.hex + "00", "csat:" + answer.hex + ":5"):
            assert rules.tapped({"callback_data": forged}) is None
        assert rules.tapped({}) is None

    def test_the_answer_is_plain_text_with_the_link(self) -> None:
        text = rules.answer_text(
            "Tracking", "# Heading\n\n<script>x()</script>Open **Your orders** "
            "[here](https://a.example).\n\n![img](https://i.example/x.png)", "https://h/a",
            with_choices=True)
        assert "<script" not in text and "**" not in text and "![" not in text
        assert "Open Your orders here." in text and "Read more: https://h/a" in text
        assert text.endswith("Was this what you needed?")
        long = rules.excerpt("word " * 1000)
        assert len(long) <= rules.MAX_EXCERPT + 1 and long.endswith("…")
