"""Draw the hand-labelled twcs triage sample (issue 16): first inbound tweets of threads,
spread across companies, with a fixed seed; prints one `tweet_id<TAB>company<TAB>split` line
per sampled tweet, in labelling order. Deterministic: the same data folder gives the same lines.

    python scripts/triage_labels/sample_twcs.py ../shared/data/twcs

Reads only `head5000_all_brands/twcs_head5000.csv` (the first 5,000 rows of the Kaggle
"Customer Support on Twitter" data, CC BY-NC-SA: evaluation only; its text is never committed).

A tweet is in the population when it is inbound (`inbound` is True), answers nothing
(`in_response_to_tweet_id` empty) and can be given to one company: the author of the first
brand (non-inbound) reply to it that is in the file, else the first @mention in its text that
is a brand account seen in the file. At most CAP tweets per company are kept (the same seeded
shuffle per company), so that no brand dominates. The split is decided per tweet id, not by
position: within each company, the sampled ids are ordered by sha256("SPLIT_SEED:<tweet_id>")
and the first round(HELDOUT_SHARE × n) of them are `heldout`, the others `dev` (the same rule as
`threadline.bench.labels.assign_splits`, copied here so that the script stands alone).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import sys
from pathlib import Path

SEED = 16
SPLIT_SEED = "threadline-triage-16"
CAP = 16
HELDOUT_SHARE = 0.6
CSV_PATH = ("head5000_all_brands", "twcs_head5000.csv")


def read_rows(data_dir: Path) -> list[dict[str, str]]:
    """The head5000 rows; bare carriage returns inside unquoted fields are blanked first
    (PROVENANCE.md), which gives exactly 5,000 rows."""
    with open(Path(data_dir).joinpath(*CSV_PATH), newline="", encoding="utf-8") as handle:
        raw = handle.read().replace("\r", " ")
    return list(csv.DictReader(io.StringIO(raw)))


def assign_splits(ids: list[str]) -> dict[str, str]:
    """id → `heldout` for the first round(HELDOUT_SHARE × n) ids in hash order, else `dev`."""
    ranked = sorted(ids, key=lambda key: hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).digest())
    held = int(len(ranked) * HELDOUT_SHARE + 0.5)
    return {key: ("heldout" if rank < held else "dev") for rank, key in enumerate(ranked)}


def population(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Company → tweet ids (sorted numerically) of the first inbound tweets addressed to it."""
    by_id = {row["tweet_id"]: row for row in rows}
    brands = {row["author_id"] for row in rows if row["inbound"] == "False"}
    out: dict[str, list[str]] = {}
    for row in rows:
        if row["inbound"] != "True" or row["in_response_to_tweet_id"].strip():
            continue
        company = None
        for reply_id in (part.strip() for part in row["response_tweet_id"].split(",")):
            reply = by_id.get(reply_id)
            if reply is not None and reply["inbound"] == "False":
                company = reply["author_id"]
                break
        if company is None:
            company = next((m for m in re.findall(r"@(\w+)", row["text"]) if m in brands), None)
        if company is not None:
            out.setdefault(company, []).append(row["tweet_id"])
    return {company: sorted(ids, key=int) for company, ids in out.items()}


def sample(data_dir: Path) -> list[tuple[str, str, str]]:
    """(tweet_id, company, split) in labelling order (one seeded shuffle of the whole sample)."""
    rng = random.Random(SEED)
    picked: list[tuple[str, str, str]] = []
    for company, ids in sorted(population(read_rows(data_dir)).items()):
        ids = list(ids)
        rng.shuffle(ids)
        splits = assign_splits(ids[:CAP])
        picked.extend((tweet_id, company, splits[tweet_id]) for tweet_id in ids[:CAP])
    rng.shuffle(picked)
    return picked


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: sample_twcs.py DATA_DIR (the twcs folder of ../shared/data)", file=sys.stderr)
        return 2
    for tweet_id, company, split in sample(Path(argv[0])):
        print(f"{tweet_id}\t{company}\t{split}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
