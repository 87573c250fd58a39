"""False positives of the public-reply guard on real agent wording: every brand-authored (outbound)
tweet of the Customer Support on Twitter subsets in ``<data>/twcs`` is checked as a public reply.

Brand tweets are public replies that went out, so every refusal is a candidate false positive to
read (many are real: a brand asking for a booking number or an account email in public). The
leading @mentions are dropped (Threadline's agents write the text; the reply target is not part of
it). Two passes: with no brand contact list (a brand's own numbers are refusals, shown by type),
and with each brand's list set to the phones and emails it posted in at least
`BRAND_MIN_TWEETS` tweets (what its admin would list). The data is read in place, never copied
(licence: evaluation only, see its PROVENANCE.md).
"""

from __future__ import annotations

import csv
import io
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from threadline.triage import Known, check_outbound, detect_pii
from threadline.triage.coordinates import digits

SAMPLE = 40
BRAND_MIN_TWEETS = 3
_MENTIONS = re.compile(r"^(?:\s*@\w+)+\s*")


def _repair(text: str) -> str:
    """Undo the Excel round-trip (UTF-8 read as Windows-1252) where it is lossless."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def brand_tweets(twcs: Path) -> Iterator[tuple[str, str, str]]:
    """(tweet id, brand, text) of every outbound tweet, each tweet once."""
    files = sorted((twcs / "brand_outbound_extracts").glob("*.csv"))
    files += [twcs / "spotifycares_threads" / "SpotifyCares.csv",
              twcs / "head5000_all_brands" / "twcs_head5000.csv"]
    seen: set[str] = set()
    for path in files:
        raw = path.read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\n")
        for row in csv.DictReader(io.StringIO(raw.replace("\r", " "))):
            if str(row.get("inbound", "")).strip().lower() != "false":
                continue
            tweet = str(row.get("tweet_id") or "").strip()
            if not tweet or tweet in seen:
                continue
            seen.add(tweet)
            text = _repair(str(row.get("text") or "")).replace("&gt;", ">").replace(
                "&lt;", "<").replace("&amp;", "&")
            yield tweet, str(row.get("author_id") or ""), _MENTIONS.sub("", text)


def brand_lists(tweets: list[tuple[str, str, str]]) -> dict[str, tuple[str, ...]]:
    """Per brand: the phones (as +digits) and emails it posted in BRAND_MIN_TWEETS tweets."""
    seen: Counter[tuple[str, str]] = Counter()
    for _, brand, text in tweets:
        values = set()
        for f in detect_pii(text):
            if f.type == "PHONE_NUMBER":
                values.add("+" + digits(text[f.start:f.end]).lstrip("0"))
            elif f.type == "EMAIL_ADDRESS":
                values.add(text[f.start:f.end].lower())
        seen.update((brand, v) for v in values)
    lists: dict[str, list[str]] = {}
    for (brand, value), n in seen.items():
        if n >= BRAND_MIN_TWEETS:
            lists.setdefault(brand, []).append(value)
    return {brand: tuple(sorted(values)) for brand, values in lists.items()}


# A customer as the pipeline passes one (two phones, an email, a Telegram name): the matching
# cost is part of the figure.
CUSTOMER = ("+447911123456", "+14155550132", "maria.lopez88@example.org", "maria_tg_77")


def _pass(tweets: list[tuple[str, str, str]],
          lists: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    by_type: Counter[str] = Counter()
    refused: list[dict[str, Any]] = []
    known = {brand: Known(customer=CUSTOMER, brand=values) for brand, values in lists.items()}
    started = time.perf_counter()
    for tweet, brand, text in tweets:
        verdict = check_outbound(text, visibility="public",
                                 known=known.get(brand) or Known(customer=CUSTOMER))
        if not verdict.blocked:
            continue
        by_type.update({f"{r.code}:{r.pii_type}" for r in verdict.reasons})
        refused.append({"tweet_id": tweet, "brand": brand, "text": text,
                        "reasons": sorted({f"{r.code}:{r.pii_type}" for r in verdict.reasons})})
    elapsed = time.perf_counter() - started
    sample = random.Random(10).sample(refused, min(SAMPLE, len(refused)))
    return {"refused": len(refused),
            "ms_per_reply": round(1000 * elapsed / len(tweets), 3) if tweets else 0.0,
            "refused_pct": round(100 * len(refused) / len(tweets), 2) if tweets else 0.0,
            "tweets_by_reason": dict(by_type.most_common()),
            "sample": sorted(sample, key=lambda r: r["tweet_id"])}


def run(data_dir: Path) -> dict[str, Any]:
    tweets = list(brand_tweets(data_dir / "twcs"))
    lists = brand_lists(tweets)
    return {"tweets": len(tweets), "brands_with_a_list": len(lists),
            "no_brand_list": _pass(tweets, {}), "brand_lists": _pass(tweets, lists)}
