"""The hand-labelled triage evaluation sets (issue 16, docs/triage-labels.md): schema, sizes,
held-out share, no tweet text committed, and the twcs sample reproducible from the data."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

from tests.conftest import shared_data
from threadline.bench import labels

ROOT = Path(__file__).resolve().parents[2]
SAMPLER = ROOT / "scripts" / "triage_labels" / "sample_twcs.py"


def _sampler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sample_twcs", SAMPLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_twcs_rows_are_valid_and_hold_no_text() -> None:
    raw = labels.TWCS_FILE.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in raw]
    bad = {row.get("tweet_id"): found for row in rows if (found := labels.problems(row, "twcs"))}
    assert bad == {}
    assert all("text" not in row for row in rows)
    ids = [row["tweet_id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert len(rows) >= 600
    companies = Counter(row["company"] for row in rows)
    assert len(companies) >= 40
    assert max(companies.values()) <= 40  # no brand dominates
    assert {row["category"] for row in rows} == set(labels.CATEGORIES)


def test_multilingual_rows_are_valid() -> None:
    rows = labels.load_multilingual()
    bad = {row.get("id"): found for row in rows if (found := labels.problems(row, "multilingual"))}
    assert bad == {}
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    texts = [row["text"] for row in rows]
    assert len(texts) == len(set(texts))
    assert len(rows) >= 200
    per_language = Counter(row["language"] for row in rows)
    assert set(per_language) == set(labels.MULTILINGUAL_LANGUAGES)
    assert min(per_language.values()) >= 20


def test_splits_follow_the_recorded_rule_and_hold_out_most() -> None:
    for kind, rows, key in (("twcs", labels.load_twcs(), "tweet_id"),
                            ("multilingual", labels.load_multilingual(), "id")):
        assert {row[key]: row["split"] for row in rows} == labels.expected_splits(rows, kind)
        share = sum(row["split"] == "heldout" for row in rows) / len(rows)
        assert 0.5 <= share <= 0.7, (kind, share)
    total = len(labels.load_twcs())
    assert len(labels.load_twcs("heldout")) + len(labels.load_twcs("dev")) == total
    per_language = Counter((row["language"], row["split"]) for row in labels.load_multilingual())
    assert all(per_language[(language, "dev")] > 0 and per_language[(language, "heldout")] > 0
               for language in labels.MULTILINGUAL_LANGUAGES)


def test_sampler_reproduces_the_committed_twcs_rows() -> None:
    data = shared_data("twcs")
    shared_data("twcs", *labels.TWCS_CSV)
    sampled = _sampler().sample(data)
    committed = [(row["tweet_id"], row["company"], row["split"]) for row in labels.load_twcs()]
    assert sampled == committed
    assert _sampler().sample(data) == sampled  # deterministic


def test_twcs_rows_join_to_first_inbound_tweets() -> None:
    data = shared_data("twcs")
    shared_data("twcs", *labels.TWCS_CSV)
    joined = labels.join_twcs_text(data, split="dev")
    assert len(joined) == len(labels.load_twcs("dev"))
    assert all(row["text"].strip() for row in joined)
    rows = {row["tweet_id"]: row for row in _sampler().read_rows(data)}
    for row in labels.load_twcs():
        source = rows[row["tweet_id"]]
        assert source["inbound"] == "True" and not source["in_response_to_tweet_id"].strip()


def test_brand_handles_include_the_ids_the_data_put_in_place_of_handles() -> None:
    handles = labels.twcs_brand_handles(shared_data("twcs"))
    assert handles["BofA_Help"] == ("BofA_Help", "116035")  # "@116035 is this how u treat…"
    assert handles["SouthwestAir"] == ("SouthwestAir",)  # its handle stayed a name
    assert set(handles) == {row["company"] for row in labels.load_twcs()}


def test_the_labelled_bench_scores_the_held_out_rows_beside_vader() -> None:
    from threadline.bench.triage import _vader
    from threadline.bench.triage_labelled import bench_labelled

    result = bench_labelled(shared_data(), _vader())
    twcs, multilingual = result["twcs_heldout"], result["multilingual_heldout"]
    assert twcs["n"] == len(labels.load_twcs("heldout"))
    assert multilingual["n"] == len(labels.load_multilingual("heldout"))
    assert sum(v["n"] for v in multilingual["per_language"].values()) == multilingual["n"]
    for scores in (twcs, multilingual):
        assert scores["category"]["per_class"].keys() == set(labels.CATEGORIES)
        assert scores["sentiment"]["vader"]["n"] == scores["sentiment"]["threadline"]["n"]
        assert 0 < scores["sentiment"]["threadline"]["accuracy"] <= 1
    for value, target in result["targets"].values():
        assert 0 <= value <= 1 and target.startswith(">= ")


def test_triage_is_read_in_the_labels_terms() -> None:
    from threadline.bench.triage_labelled import brand_of_post, read_triage
    from threadline.triage import analyze

    to_brand = read_triage(analyze("@ShopCo my order never arrived and nobody answers",
                                   brand_handles=brand_of_post("@ShopCo my order")))
    assert to_brand["needs_reply"] and to_brand["category"] != "not_for_us"
    aside = read_triage(analyze("lovely sunset tonight", brand_handles=("ShopCo",)))
    assert not aside["needs_reply"] and aside["category"] == "not_for_us"
    assert brand_of_post("hola @MovilPlus y @otro") == ("MovilPlus",)
