"""train(): workspace heads from agents' corrections, stored as bytes and used by analyze()."""

from __future__ import annotations

import dataclasses

import pytest

from threadline.triage import analyze, load_model, save_model, train
from threadline.triage.model import TriageModel


def _corrections() -> list[tuple[str, str | None, str | None]]:
    # A workspace where agents file every mention of "meal" under feedback, positive.
    rows: list[tuple[str, str | None, str | None]] = []
    for i in range(40):
        rows.append((f"the meal on flight {i} was cold and small", "feedback", "positive"))
        rows.append((f"where is gate {i} for my connection?", "question", "neutral"))
        rows.append((f"bag {i} lost again, terrible service", "complaint", "negative"))
    return rows


def test_train_reports_before_and_after_on_held_out_examples() -> None:
    report = train(_corrections())
    assert report.n_test == 24 and report.n_train == 96
    assert report.category_after is not None and report.category_before is not None
    assert report.category_after >= report.category_before
    assert report.category_after == 1.0
    assert report.sentiment_after is not None and report.sentiment_after >= 0.9
    assert set(report.to_dict()) == {"n_train", "n_test", "category_accuracy", "sentiment_accuracy"}


def test_trained_model_round_trips_through_bytes_and_changes_analyze() -> None:
    report = train(_corrections())
    model = load_model(report.model)
    assert save_model(model) == report.model
    text = "the meal on flight 99 was cold and small"
    assert analyze(text).category != "feedback"
    t = analyze(text, model=model)
    assert t.category == "feedback"
    assert t.sentiment == "positive"


def test_labels_may_be_missing() -> None:
    rows = [(t, None, s) for t, _, s in _corrections()]
    model = load_model(train(rows).model)
    assert model.category is None and model.sentiment is not None


def test_load_model_rejects_other_bytes() -> None:
    with pytest.raises(ValueError):
        load_model(b"not a model")
    assert load_model(save_model(TriageModel())) == TriageModel()


def test_models_stored_before_new_signals_still_load_and_predict() -> None:
    # Heads trained when the rule signals had fewer dense features keep working: the extra
    # features are ignored, not misaligned.
    model = load_model(train(_corrections()).model)
    assert model.category is not None
    old = dataclasses.replace(model.category, dense=model.category.dense[:5])
    t = analyze("the meal on flight 99 was cold and small", model=TriageModel(category=old))
    assert t.category in {"feedback", "question", "complaint"}
