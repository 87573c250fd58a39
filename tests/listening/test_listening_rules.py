"""Listening's pure logic: rule validation (hostile input refused, naming the field), the
X search query and matching (escaped literals, never the user's patterns), and the noise
filter's reasons."""

from __future__ import annotations

import time

import pytest

from threadline.errors import ValidationFailed
from threadline.listening.rules import (
    MAX_QUERY,
    NoiseInput,
    Rule,
    RuleSet,
    noise_reason,
    normalise_rules,
    search_query,
)


def refused(items: list[dict[str, object]]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        normalise_rules(items)
    assert caught.value.status == 422
    return caught.value


class TestRuleValidation:
    def test_values_are_normalised(self) -> None:
        rules = normalise_rules([
            {"kind": "keyword", "value": "  Outage   Today "},
            {"kind": "hashtag", "value": "#AcmeDown"},
            {"kind": "competitor_handle", "value": "@Globex"},
            {"kind": "brand_name", "value": "Acme Air"},
            {"kind": "keyword", "value": "outage today"},  # a duplicate once normalised
        ])
        assert [r.key for r in rules] == ["keyword:outage today", "hashtag:acmedown",
                                          "competitor_handle:globex", "brand_name:acme air"]

    @pytest.mark.parametrize(("item", "field"), [
        ({"kind": "regex", "value": "x"}, "rules.0.kind"),
        ({"kind": "keyword", "value": "(a|b)*"}, "rules.0.value"),
        ({"kind": "keyword", "value": '" OR from:someone'}, "rules.0.value"),
        ({"kind": "keyword", "value": "OR"}, "rules.0.value"),
        ({"kind": "keyword", "value": "x" * 61}, "rules.0.value"),
        ({"kind": "keyword", "value": "<script>alert(1)</script>"}, "rules.0.value"),
        ({"kind": "keyword", "value": "'; DROP TABLE listening_rules; --"}, "rules.0.value"),
        ({"kind": "brand_name", "value": "@acme"}, "rules.0.value"),
        ({"kind": "competitor_handle", "value": "globex corp"}, "rules.0.value"),
        ({"kind": "hashtag", "value": "#a b"}, "rules.0.value"),
        ({"kind": "keyword", "value": 42}, "rules.0.value"),
        ({"kind": "keyword", "value": "a"}, "rules.0.value"),
    ])
    def test_hostile_or_bad_rules_are_refused_naming_the_field(
            self, item: dict[str, object], field: str) -> None:
        error = refused([item])
        assert error.details["field"] == field
        assert error.code == "bad_listening_rule"

    def test_the_index_of_the_bad_rule_is_named(self) -> None:
        error = refused([{"kind": "keyword", "value": "fine"},
                         {"kind": "keyword", "value": "fine too"},
                         {"kind": "hashtag", "value": "not ok!"}])
        assert error.details["field"] == "rules.2.value"

    def test_too_many_rules_or_too_long_a_query(self) -> None:
        assert refused([{"kind": "keyword", "value": f"word{i}"} for i in range(51)]
                       ).details["field"] == "rules"
        long_words = [{"kind": "keyword", "value": f"{'w' * 50}{i}"} for i in range(12)]
        error = refused(long_words)
        assert error.code == "listening_query_too_long" and error.details["field"] == "rules"


class TestQueryAndMatching:
    def test_query_is_built_from_literals(self) -> None:
        query = search_query([Rule("keyword", "outage today"), Rule("hashtag", "acmedown"),
                              Rule("competitor_handle", "globex")])
        assert query == ('("outage today" OR #acmedown OR @globex OR from:globex OR '
                         "to:globex) -is:retweet")
        assert len(query) <= MAX_QUERY and search_query([]) == ""

    def test_words_match_whole_words_and_regex_characters_are_literal(self) -> None:
        rules = RuleSet([Rule("keyword", "a.b"), Rule("brand_name", "acme air"),
                         Rule("competitor_handle", "globex"), Rule("hashtag", "fail")])
        assert [r.key for r in rules.match("Flew Acme Air today #fail")] == [
            "brand_name:acme air", "hashtag:fail"]
        assert rules.match("axb") == []  # "." is not a wildcard
        assert [r.key for r in rules.match("a.b is down")] == ["keyword:a.b"]
        assert rules.match("acme airline") == []  # whole words only
        matched = rules.match("thanks for nothing", author_handle="@Globex")
        assert [r.key for r in matched] == ["competitor_handle:globex"]
        assert rules.competitor_of(matched) == "globex"

    def test_matching_hostile_text_stays_linear(self) -> None:
        rules = RuleSet([Rule("keyword", "outage"), Rule("brand_name", "acme air")])
        text = ("a" * 50_000) + "!" + ("@" * 50_000)
        start = time.monotonic()
        assert rules.match(text) == []
        assert time.monotonic() - start < 1.0


class TestNoise:
    @pytest.mark.parametrize(("text", "meta", "reason"), [
        ("RT @acme: we are back", {}, "retweet"),
        ("nice", {"retweet_of": "1"}, "retweet"),
        ("GIVEAWAY! Use code WIN50 at checkout", {}, "promotion"),
        ("Huge sale, shop now: https://deals.example/x", {}, "promotion"),
        ("Earn $500 a day from home, get rich fast", {}, "spam"),
        ("buy cheap followers here", {}, "spam"),
        ("@acme my order never arrived, can you help?", {}, None),
        ("@acme the 20% off coupon you sent does not work", {}, None),
        ("@acme https://a.example https://b.example https://c.example broken links", {}, None),
    ])
    def test_reasons(self, text: str, meta: dict[str, object], reason: str | None) -> None:
        assert noise_reason(NoiseInput(text, meta)) == reason

    def test_a_reply_to_someone_else_that_names_the_brand_nowhere(self) -> None:
        meta = {"in_reply_to_user_id": "999"}
        post = NoiseInput("@bob totally agree lol", meta, own_user_id="1",
                          brand_handles=("acme",), brand_names=("acme air",))
        assert noise_reason(post) == "not_for_brand"
        named = NoiseInput("@bob Acme Air lost mine too", meta, own_user_id="1",
                           brand_handles=("acme",), brand_names=("acme air",))
        assert noise_reason(named) is None
        to_us = NoiseInput("@bob @acme same here", meta, own_user_id="1",
                           brand_handles=("acme",))
        assert noise_reason(to_us) is None
        unknown_brand = NoiseInput("@bob totally agree", meta, own_user_id="1")
        assert noise_reason(unknown_brand) is None  # cannot tell without the brand's names

    def test_switched_off_keeps_only_retweets_out(self) -> None:
        assert noise_reason(NoiseInput("GIVEAWAY! use code X", {}), all_reasons=False) is None
        assert noise_reason(NoiseInput("RT @a: b", {}), all_reasons=False) == "retweet"
