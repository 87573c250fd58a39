"""The scoring math, computed by hand: weights, the 1-5 scale, n.a. left out of both sides,
every answer n.a., answers that are missing, unknown or off their scale, rounding half up;
and, over random scorecards, the score stays in 0-100, equals the weighted mean by hand and
ignores the weights of n.a. criteria."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.quality.rules import (
    SCALES,
    AnswerError,
    Criterion,
    check_answers,
    score,
    worth,
)

TONE = Criterion("tone", 2, "one_to_five")
ACCURACY = Criterion("accuracy", 3, "one_to_five")
POLICY = Criterion("policy", 3, "yes_no_na")
JUDGEMENT = Criterion("public_private", 2, "yes_no_na")
STANDARD = [TONE, ACCURACY, POLICY, JUDGEMENT]


class TestWorth:
    def test_yes_no_and_the_five_steps(self) -> None:
        assert worth("yes_no", "yes") == 1.0
        assert worth("yes_no", "no") == 0.0
        assert [worth("one_to_five", str(v)) for v in range(1, 6)] == [0, 0.25, 0.5, 0.75, 1]
        assert worth("yes_no_na", "na") is None
        assert worth("one_to_five_na", "na") is None


class TestScore:
    def test_weighted_share(self) -> None:
        # tone 4 -> 0.75 * 2 = 1.5; accuracy 5 -> 3; policy no -> 0; judgement yes -> 2
        # earned 6.5 of 10 -> 65.0
        answers = check_answers(STANDARD, {"tone": 4, "accuracy": "5", "policy": "no",
                                           "public_private": "yes"})
        assert score(STANDARD, answers) == 65.0

    def test_na_is_left_out_of_both_sides(self) -> None:
        # tone 3 -> 0.5 * 2 = 1; accuracy 2 -> 0.25 * 3 = 0.75; policy n.a.; judgement yes 2
        # earned 3.75 of 2 + 3 + 2 = 7 -> 53.571... -> 53.57
        answers = check_answers(STANDARD, {"tone": 3, "accuracy": 2, "policy": "na",
                                           "public_private": "yes"})
        assert score(STANDARD, answers) == 53.57
        # had n.a. counted as a "no", it would be 3.75 / 10 = 37.5
        assert score(STANDARD, {**answers, "policy": "no"}) == 37.5

    def test_every_answer_na_has_no_score(self) -> None:
        card = [POLICY, JUDGEMENT]
        assert score(card, {"policy": "na", "public_private": "na"}) is None

    def test_all_best_and_all_worst(self) -> None:
        best = {"tone": "5", "accuracy": "5", "policy": "yes", "public_private": "yes"}
        worst = {"tone": "1", "accuracy": "1", "policy": "no", "public_private": "no"}
        assert score(STANDARD, best) == 100.0
        assert score(STANDARD, worst) == 0.0

    def test_a_heavier_criterion_moves_the_score_more(self) -> None:
        light = [Criterion("a", 1, "yes_no"), Criterion("b", 9, "yes_no")]
        assert score(light, {"a": "yes", "b": "no"}) == 10.0
        assert score(light, {"a": "no", "b": "yes"}) == 90.0


class TestCheckAnswers:
    def test_normalised_forms(self) -> None:
        assert check_answers(STANDARD, {"tone": 5, "accuracy": " 4 ", "policy": "N/A",
                                        "public_private": "YES"}) == {
            "tone": "5", "accuracy": "4", "policy": "na", "public_private": "yes"}

    @pytest.mark.parametrize("answers, key", [
        ({"tone": 6, "accuracy": 5, "policy": "yes", "public_private": "yes"}, "tone"),
        ({"tone": 0, "accuracy": 5, "policy": "yes", "public_private": "yes"}, "tone"),
        ({"tone": "na", "accuracy": 5, "policy": "yes", "public_private": "yes"}, "tone"),
        ({"tone": 5, "accuracy": "yes", "policy": "yes", "public_private": "yes"}, "accuracy"),
        ({"tone": 5, "accuracy": 5, "policy": 1, "public_private": "yes"}, "policy"),
        ({"tone": 5, "accuracy": 5, "policy": True, "public_private": "yes"}, "policy"),
        ({"tone": 5, "accuracy": 5, "policy": "maybe", "public_private": "yes"}, "policy"),
        ({"tone": 5, "accuracy": 2.5, "policy": "yes", "public_private": "yes"}, "accuracy"),
        ({"tone": 5, "accuracy": 5, "policy": "yes"}, "public_private"),
        ({"tone": 5, "accuracy": 5, "policy": "yes", "public_private": "yes", "extra": "yes"},
         "extra"),
    ])
    def test_refused(self, answers: dict[str, object], key: str) -> None:
        with pytest.raises(AnswerError) as caught:
            check_answers(STANDARD, answers)
        assert caught.value.key == key


class TestRounding:
    def test_half_up_to_two_decimals(self) -> None:
        from threadline.quality.rules import two_decimals

        assert two_decimals(45.535) == 45.54
        assert two_decimals((53.57 + 37.5) / 2) == 45.54
        assert two_decimals(3.125) == 3.13
        assert two_decimals(53.571428) == 53.57
        # 1/8 of the weight: 12.5 exactly; 1 of 3 equal criteria: 33.33
        assert score([Criterion("a", 1, "yes_no"), Criterion("b", 7, "yes_no")],
                     {"a": "yes", "b": "no"}) == 12.5
        card = [Criterion(k, 1, "yes_no") for k in "abc"]
        assert score(card, {"a": "yes", "b": "no", "c": "no"}) == 33.33
        assert score(card, {"a": "yes", "b": "yes", "c": "no"}) == 66.67



@st.composite
def reviews(draw: st.DrawFn) -> tuple[list[Criterion], dict[str, str]]:
    """A scorecard of 1-8 criteria with random weights and scales, and answers on them."""
    size = draw(st.integers(min_value=1, max_value=8))
    card = [Criterion(f"c{i}", draw(st.integers(min_value=1, max_value=100)),
                      draw(st.sampled_from(sorted(SCALES)))) for i in range(size)]
    return card, {c.key: draw(st.sampled_from(SCALES[c.scale])) for c in card}


class TestProperties:
    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(reviews(), st.integers(min_value=1, max_value=100))
    def test_bounds_by_hand_and_na_weights_do_not_matter(
            self, review: tuple[list[Criterion], dict[str, str]], other_weight: int) -> None:
        card, answers = review
        value = score(card, answers)
        counted = [c for c in card if answers[c.key] != "na"]
        if not counted:
            assert value is None
            return
        assert value is not None and 0.0 <= value <= 100.0
        # by hand: the weighted mean of the worths of the answers that count
        shares = [c.weight * (worth(c.scale, answers[c.key]) or 0.0) for c in counted]
        expected = 100 * sum(shares) / sum(c.weight for c in counted)
        assert abs(value - expected) <= 0.005 + 1e-9
        # an n.a. criterion's weight changes nothing
        reweighed = [Criterion(c.key, other_weight, c.scale) if answers[c.key] == "na" else c
                     for c in card]
        assert score(reweighed, answers) == value
