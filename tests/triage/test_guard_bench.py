"""The guard bench reads brand tweets in place (BOM, CRLF, bare CR, mojibake, duplicates across
files), drops the leading @mentions, and counts refusals with and without brand lists."""

from __future__ import annotations

from pathlib import Path

from threadline.bench.guard import run

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"


def write(path: Path, rows: list[str], *, index: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [("," if index else "") + HEADER] + [("0," if index else "") + r for r in rows]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())


def test_counts_with_and_without_brand_lists(tmp_path: Path) -> None:
    twcs = tmp_path / "twcs"
    helpline = "Call 1-800-555-0199 for help"
    write(twcs / "brand_outbound_extracts" / "Acme.csv", [
        f"1,Acme,FALSE,t,@115712 {helpline},,",
        f"2,Acme,FALSE,t,{helpline} today,,",
        f"3,Acme,FALSE,t,@9 @10 {helpline} now,,",
        "4,Acme,FALSE,t,@115712 We need the last 4 digits of your card,,",
        "5,Acme,FALSE,t,@115712 DM us the last 4 digits of your card,,",
        "6,Acme,FALSE,t,\"@1 1: Thanks\r we\u00e2\u20ac\u2122re on it\",,",
        "7,115712,TRUE,t,my number is +44 7911 123456,,"])
    write(twcs / "spotifycares_threads" / "SpotifyCares.csv", ["2,Acme,FALSE,t,duplicate,,"])
    write(twcs / "head5000_all_brands" / "twcs_head5000.csv",
          ["8,Acme,False,t,@5 Sorry we will call you at +44 7911 123456,,"], index=True)
    result = run(tmp_path)
    assert result["tweets"] == 7 and result["brands_with_a_list"] == 1
    none, listed = result["no_brand_list"], result["brand_lists"]
    assert none["refused"] == 5 and listed["refused"] == 2  # the card request, the customer
    assert listed["tweets_by_reason"] == {"requests_personal_data:CARD_PARTIAL": 1,
                                          "customer_coordinate:PHONE_NUMBER": 1}
    assert all(not r["text"].startswith("@") for r in none["sample"])
    assert none["ms_per_reply"] >= 0
