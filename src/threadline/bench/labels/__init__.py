"""Hand-labelled triage evaluation sets (issue 16; guidelines in docs/triage-labels.md).

Two files sit next to this module, one JSON object per line:

- `twcs_triage.jsonl`: 614 first inbound tweets of the twcs ("Customer Support on Twitter")
  data, drawn by `scripts/triage_labels/sample_twcs.py`. The data's licence is non-commercial
  (evaluation only), so the file holds tweet ids, companies and labels, never the text:
  `join_twcs_text` adds the text at run time from a local copy of the data.
- `multilingual_triage.jsonl`: posts in Spanish, German, French, Portuguese, Italian, Dutch,
  Arabic, Japanese and Hindi/Hinglish (Latin script), written for Threadline; the text is ours.

Every row carries `split`: `dev` (rules and models may be tuned on it) or `heldout` (only
measured, never read while writing rules or choosing models). The split was drawn with a fixed
seed, stratified (`assign_splits`: per company for twcs, per language for the multilingual
set, about 60 % held out in each group) and is recorded per row: the file is authoritative.
Rows added later get their split from `assign_splits` over the new rows only; existing rows
never change split.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TWCS_FILE = HERE / "twcs_triage.jsonl"
MULTILINGUAL_FILE = HERE / "multilingual_triage.jsonl"
TWCS_CSV = ("head5000_all_brands", "twcs_head5000.csv")  # under the data folder

SPLIT_SEED = "threadline-triage-16"
HELDOUT_SHARE = 0.6
SPLITS = ("dev", "heldout")
CATEGORIES = ("complaint", "technical", "question", "feedback", "praise", "not_for_us")
PRIVATE_REASONS = ("account", "order", "payment", "address", "identity", "claim", "other")
SENTIMENTS = ("negative", "neutral", "positive")
URGENCIES = ("high", "normal")
PII_KINDS = ("email", "phone", "card", "address", "order_number", "account_number", "name", "none")
MULTILINGUAL_LANGUAGES = ("es", "de", "fr", "pt", "it", "nl", "ar", "ja", "hi")
LABEL_FIELDS = ("category", "technical", "needs_reply", "public_ok", "private_reason",
                "sentiment", "urgency", "pii", "language")
TWCS_FIELDS = ("tweet_id", "company", "split", *LABEL_FIELDS)
MULTILINGUAL_FIELDS = ("id", "text", "split", *LABEL_FIELDS)


def assign_splits(keys: Iterable[str]) -> dict[str, str]:
    """key → split for one group (one company, one language): the keys ordered by
    sha256("SPLIT_SEED:<key>"), the first round(HELDOUT_SHARE × n) `heldout`, the rest `dev`."""
    ranked = sorted(keys, key=lambda key: hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).digest())
    held = int(len(ranked) * HELDOUT_SHARE + 0.5)
    return {key: ("heldout" if rank < held else "dev") for rank, key in enumerate(ranked)}


def expected_splits(rows: Iterable[dict[str, Any]], kind: str) -> dict[str, str]:
    """The split each row of a whole file should have: `assign_splits` per company (twcs) or
    per language (multilingual)."""
    key_field, group_field = ("tweet_id", "company") if kind == "twcs" else ("id", "language")
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(row[group_field], []).append(row[key_field])
    return {key: split for keys in groups.values() for key, split in assign_splits(keys).items()}


def _read_jsonl(path: Path, split: str | None) -> list[dict[str, Any]]:
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [row for row in rows if split is None or row["split"] == split]


def load_twcs(split: str | None = None) -> list[dict[str, Any]]:
    """The twcs label rows (no text), optionally only one split."""
    return _read_jsonl(TWCS_FILE, split)


def load_multilingual(split: str | None = None) -> list[dict[str, Any]]:
    """The multilingual rows (with their text), optionally only one split."""
    return _read_jsonl(MULTILINGUAL_FILE, split)


def read_twcs_rows(data_dir: Path | str) -> list[dict[str, str]]:
    """The rows of the twcs data folder's CSV (`../shared/data/twcs`). Bare carriage returns
    inside unquoted fields are blanked first, as its PROVENANCE.md asks."""
    with open(Path(data_dir).joinpath(*TWCS_CSV), newline="", encoding="utf-8") as handle:
        raw = handle.read().replace("\r", " ")
    return list(csv.DictReader(io.StringIO(raw)))


def read_twcs_texts(data_dir: Path | str) -> dict[str, str]:
    """tweet_id → text from the twcs data folder."""
    return {row["tweet_id"]: row["text"] for row in read_twcs_rows(data_dir)}


def twcs_brand_handles(data_dir: Path | str) -> dict[str, tuple[str, ...]]:
    """company → the handles the labelled tweets use for it: its name, and the numeric id the
    data put in place of its handle in some tweets (`@116035` for BofA_Help). That id is the
    numeric handle that is no customer's, seen most often in the company's labelled tweets
    (all splits), when it is seen in two or more and more often than any other."""
    rows = read_twcs_rows(data_dir)
    customers = {row["author_id"] for row in rows if row["inbound"] == "True"}
    texts = {row["tweet_id"]: row["text"] for row in rows}
    seen: dict[str, Counter[str]] = {}
    for row in load_twcs():
        found = seen.setdefault(row["company"], Counter())
        found.update({h for h in re.findall(r"@(\d+)\b", texts[row["tweet_id"]])
                      if h not in customers})
    out: dict[str, tuple[str, ...]] = {}
    for company, found in seen.items():
        ranked = [*found.most_common(2), ("", 0)]
        top, count = ranked[0]
        out[company] = ((company, top) if count >= 2 and count > ranked[1][1]
                        else (company,))
    return out


def join_twcs_text(data_dir: Path | str, split: str | None = None,
                   rows: Iterable[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The twcs rows with their `text` added from the local data (never stored in the repo).
    A row whose tweet is missing from the data raises KeyError."""
    texts = read_twcs_texts(data_dir)
    return [{**row, "text": texts[row["tweet_id"]]}
            for row in (load_twcs(split) if rows is None else rows)]


def problems(row: dict[str, Any], kind: str) -> list[str]:
    """What is wrong with one row of `kind` ("twcs" or "multilingual"); empty when valid."""
    fields = TWCS_FIELDS if kind == "twcs" else MULTILINGUAL_FIELDS
    out = [f"missing {name}" for name in fields if name not in row]
    extra = set(row) - set(fields)
    if extra:
        out.append(f"unexpected fields {sorted(extra)}")
    if out:
        return out
    key = row["tweet_id"] if kind == "twcs" else row["id"]
    if not isinstance(key, str) or not key:
        out.append("id must be a non-empty string")
    if kind == "twcs" and not (isinstance(row["company"], str) and row["company"]):
        out.append("company must be a non-empty string")
    if kind == "multilingual" and not (isinstance(row["text"], str) and row["text"].strip()):
        out.append("text must be a non-empty string")
    checks = (("split", SPLITS), ("category", CATEGORIES), ("sentiment", SENTIMENTS),
              ("urgency", URGENCIES))
    out += [f"{name}={row[name]!r}" for name, allowed in checks if row[name] not in allowed]
    out += [f"{name} must be a boolean" for name in ("technical", "needs_reply", "public_ok")
            if not isinstance(row[name], bool)]
    if row["category"] == "technical" and row["technical"] is not True:
        out.append("category technical needs technical=true")
    if row["public_ok"] is True and row["private_reason"] is not None:
        out.append("private_reason must be null when public_ok")
    if row["public_ok"] is False and row["private_reason"] not in PRIVATE_REASONS:
        out.append(f"private_reason={row['private_reason']!r}")
    pii = row["pii"]
    if (not isinstance(pii, list) or not pii or any(kind_ not in PII_KINDS for kind_ in pii)
            or len(set(pii)) != len(pii) or ("none" in pii and len(pii) > 1)):
        out.append(f"pii={pii!r}")
    language = row["language"]
    if not (isinstance(language, str) and 2 <= len(language) <= 3 and language.isalpha()
            and language.islower()):
        out.append(f"language={language!r}")
    if kind == "multilingual" and language not in MULTILINGUAL_LANGUAGES:
        out.append(f"language {language!r} is not one of {MULTILINGUAL_LANGUAGES}")
    return out
