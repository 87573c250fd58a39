"""The scoring math, pure: answer scales, what an answer is worth and the weighted score.

A criterion's answer is worth a share of its weight: yes 1, no 0; on a 1-5 scale
(value - 1) / 4, so 1 is 0, 3 is a half and 5 the whole; n.a. is left out of both sides.
The score is 100 * sum(weight * worth) / sum(weight) over the answers that are not n.a.,
rounded half up to two decimals; None when every answer is n.a. (nothing to score)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

NA = "na"
YES, NO = "yes", "no"
SCALES: dict[str, tuple[str, ...]] = {
    "yes_no": (YES, NO),
    "yes_no_na": (YES, NO, NA),
    "one_to_five": ("1", "2", "3", "4", "5"),
    "one_to_five_na": ("1", "2", "3", "4", "5", NA),
}
SCALE_LABELS = {"yes_no": "yes / no", "yes_no_na": "yes / no / n.a.",
                "one_to_five": "1 to 5", "one_to_five_na": "1 to 5 / n.a."}
VALUE_LABELS = {YES: "yes", NO: "no", NA: "n.a."}


class AnswerError(ValueError):
    """An answer that is missing, unknown or outside its criterion's scale."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Criterion:
    key: str
    weight: int
    scale: str


def two_decimals(value: float) -> float:
    """Rounded half up to two decimals (45.535 -> 45.54), the same on every database: the
    float is first read to six decimals, which drops the binary noise of sums and means."""
    return float(Decimal(repr(round(value, 6))).quantize(Decimal("0.01"), ROUND_HALF_UP))


def normalise(scale: str, value: Any) -> str:
    """The stored form of an answer ("yes", "no", "na", "1".."5"); ValueError when it is not
    on the scale. Integers are accepted for 1-5 scales (never booleans)."""
    if isinstance(value, bool):
        raise ValueError("not on the scale")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("not on the scale")
    text = value.strip().lower()
    if text in ("n.a.", "n/a"):
        text = NA
    if text not in SCALES.get(scale, ()):
        raise ValueError("not on the scale")
    return text


def worth(scale: str, value: str) -> float | None:
    """The share of the weight an answer earns (None: n.a.)."""
    if value == NA:
        return None
    if value == YES:
        return 1.0
    if value == NO:
        return 0.0
    if scale.startswith("one_to_five"):
        return (int(value) - 1) / 4
    raise ValueError(f"unknown answer {value!r}")


def check_answers(criteria: Iterable[Criterion], answers: Mapping[str, Any]) -> dict[str, str]:
    """Every criterion answered on its scale, nothing else: the answers in stored form."""
    criteria = list(criteria)
    known = {c.key for c in criteria}
    for key in answers:
        if key not in known:
            raise AnswerError(str(key)[:40], "not a criterion of this scorecard")
    out: dict[str, str] = {}
    for criterion in criteria:
        if criterion.key not in answers:
            raise AnswerError(criterion.key, "an answer is needed")
        try:
            out[criterion.key] = normalise(criterion.scale, answers[criterion.key])
        except ValueError:
            allowed = ", ".join(SCALES.get(criterion.scale, ()))
            raise AnswerError(criterion.key, f"answer one of {allowed}") from None
    return out


def score(criteria: Iterable[Criterion], answers: Mapping[str, str]) -> float | None:
    """The weighted share, 0-100 (see the module's docstring)."""
    earned = 0.0
    total = 0
    for criterion in criteria:
        share = worth(criterion.scale, answers[criterion.key])
        if share is None:
            continue
        earned += criterion.weight * share
        total += criterion.weight
    if total == 0:
        return None
    return two_decimals(100 * earned / total)
