"""The pure rules: how each channel asks, the choices' ids and titles (within every
provider's limits), reading a tap and a typed rating back."""

from __future__ import annotations

import uuid

import pytest

from threadline.channels.base import (
    MAX_CHOICE_ID_BYTES,
    SendPolicyError,
    choices_of,
)
from threadline.channels.registry import kinds
from threadline.csat import rules
from threadline.csat.models import Method

SURVEY = uuid.UUID("0190f000-0000-7000-8000-000000000001")


class TestMethods:
    @pytest.mark.parametrize(("kind", "method"), [
        ("facebook", Method.QUICK_REPLIES), ("messenger", Method.QUICK_REPLIES),
        ("instagram", Method.QUICK_REPLIES), ("whatsapp", Method.BUTTONS),
        ("telegram", Method.BUTTONS), ("webchat", Method.INLINE), ("sms", Method.LINK),
        ("email", Method.LINK), ("x", Method.LINK), ("api", Method.LINK), ("voice", None)])
    def test_each_channel_asks_its_own_way(self, kind: str, method: str | None) -> None:
        assert rules.method_for(kind, {}) == method

    def test_every_registered_channel_is_decided(self) -> None:
        decided = (rules.QUICK_REPLY_KINDS | rules.BUTTON_KINDS | rules.INLINE_KINDS
                   | rules.LINK_KINDS | rules.SILENT_KINDS)
        assert set(kinds()) == decided

    def test_an_account_without_quick_replies_gets_the_link(self) -> None:
        assert rules.method_for("instagram", {"csat_quick_replies": False}) == Method.LINK


class TestChoices:
    def test_ids_and_titles_fit_every_provider(self) -> None:
        for choices in (rules.scale_choices(SURVEY), rules.whatsapp_choices(SURVEY, "buttons"),
                        rules.whatsapp_choices(SURVEY, "list")):
            parsed = choices_of({"choices": choices})
            assert all(len(c.id.encode()) <= MAX_CHOICE_ID_BYTES for c in parsed)
            assert all(len(c.title) <= 20 for c in parsed)
        assert [c["title"] for c in rules.whatsapp_choices(SURVEY, "buttons")] == [
            "Good", "OK", "Bad"]
        assert [rules.parse_choice(c["id"]).score
                for c in rules.whatsapp_choices(SURVEY, "buttons")] == [5, 3, 1]

    def test_a_choice_reads_back(self) -> None:
        choice = rules.parse_choice(rules.choice_id(SURVEY, 4))
        assert (choice.survey_id, choice.score) == (SURVEY, 4)
        assert rules.parse_choice("csat:nothex:4") == rules.Choice(None, None)
        assert rules.parse_choice(f"csat:{SURVEY.hex}:99").score == 99  # refused later
        assert not rules.valid_score(99) and not rules.valid_score(True)

    @pytest.mark.parametrize("bad", [None, [], [{"id": "a"}], [{"id": "", "title": "x"}],
                                     [{"id": "x" * 65, "title": "t"}],
                                     [{"id": "a", "title": "t"}, {"id": "a", "title": "u"}],
                                     "choices", [{"id": "a", "title": "t"}] * 14])
    def test_malformed_choices_are_refused(self, bad: object) -> None:
        if bad is None:
            assert choices_of({"choices": None}) == ()
            return
        with pytest.raises(SendPolicyError):
            choices_of({"choices": bad})

    def test_taps_are_found_where_each_provider_puts_them(self) -> None:
        tap = rules.choice_id(SURVEY, 2)
        for meta in ({"quick_reply": {"payload": tap}}, {"postback_payload": tap},
                     {"reply_id": tap}, {"callback_data": tap}):
            assert rules.tapped(meta) == tap
        assert rules.tapped({"quick_reply": {"payload": "MENU"}, "reply_id": "x"}) is None


class TestTypedRatings:
    @pytest.mark.parametrize(("text", "answer"), [
        ("4", (4, "")), (" 5 ", (5, "")), ("5 great", (5, "great")),
        ("3/5 - slow", (3, "slow")), ("5 stars!", (5, "")), ("2. too slow", (2, "too slow")),
        ("1: rude", (1, "rude")), ("4, thanks\nbye", (4, "thanks bye")),
        ("5\u2b50", (5, ""))])
    def test_ratings(self, text: str, answer: tuple[int, str]) -> None:
        assert rules.text_answer(text) == answer

    @pytest.mark.parametrize("text", ["", "0", "6", "45 minutes late", "10/10",
                                      "5 items are missing?", "hello", "1st of all",
                                      "5" + " word" * 120, "-5", "five"])
    def test_not_ratings(self, text: str) -> None:
        assert rules.text_answer(text) is None

    def test_the_link_text_says_how_to_answer(self) -> None:
        text = rules.survey_text("Rate us?", Method.LINK, "https://s.example/r/abc")
        assert text.startswith("Rate us?") and text.endswith("https://s.example/r/abc")
        assert rules.survey_text("Rate us?", Method.QUICK_REPLIES, None) == "Rate us?"
