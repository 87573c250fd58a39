"""Replay Customer Support on Twitter (twcs) CSV rows as inbound events.

Rows become signed events of the generic API channel (authors as X identities) and enter
through the same verify -> store -> process path as live webhook traffic.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from threadline.channels.api.adapter import sign
from threadline.channels.base import WebhookRequest
from threadline.ingest.service import receive
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import create_channel_account

TWCS_TIME = "%a %b %d %H:%M:%S %z %Y"


@dataclass(frozen=True)
class Tweet:
    tweet_id: str
    author_id: str
    inbound: bool
    created_at: datetime
    text: str
    in_reply_to: str | None


def _clean_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return str(int(float(value)))
    except ValueError:
        return value


def read_twcs(path: Path) -> Iterator[Tweet]:
    """Read a twcs CSV (any of the subsets): bare \\r inside unquoted fields are folded."""
    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    raw = raw.replace("\r\n", "\n").replace("\r", " ")
    for row in csv.DictReader(io.StringIO(raw, newline="")):
        tweet_id = _clean_id(row.get("tweet_id"))
        if not tweet_id or not (row.get("author_id") or "").strip():
            continue  # a malformed row: nothing to replay
        try:
            created = datetime.strptime(row.get("created_at") or "", TWCS_TIME).astimezone(UTC)
        except ValueError:
            created = datetime(1970, 1, 1, tzinfo=UTC)
        yield Tweet(tweet_id=tweet_id, author_id=str(row.get("author_id") or "").strip(),
                    inbound=str(row.get("inbound", "")).strip().lower() == "true",
                    created_at=created, text=row.get("text", "") or "",
                    in_reply_to=_clean_id(row.get("in_response_to_tweet_id")))


def twcs_files(path: Path) -> list[Path]:
    """A file, or every twcs CSV under a folder (head5000 and spotifycares by default)."""
    if path.is_file():
        return [path]
    preferred = [path / "head5000_all_brands" / "twcs_head5000.csv",
                 path / "spotifycares_threads" / "support_requests.csv",
                 path / "spotifycares_threads" / "SpotifyCares.csv"]
    found = [p for p in preferred if p.exists()]
    return found or sorted(path.rglob("*.csv"))


def tweet_event(tweet: Tweet, id_prefix: str = "") -> dict[str, Any]:
    tid = id_prefix + tweet.tweet_id
    message: dict[str, Any] = {
        "id": tid, "text": tweet.text, "visibility": "public",
        "kind": "comment" if tweet.in_reply_to else "post",
        "created_at": tweet.created_at.isoformat(),
        "author": {"id": (id_prefix if tweet.inbound else "") + tweet.author_id, "kind": "x",
                   "handle": tweet.author_id, "is_self": not tweet.inbound},
    }
    if tweet.in_reply_to:
        message["in_reply_to"] = id_prefix + tweet.in_reply_to
    return {"id": f"tweet:{tid}", "type": "message", "message": message}


def replay_account(session: Session, workspace_id: uuid.UUID,
                   name: str = "twcs replay") -> ChannelAccount:
    return create_channel_account(session, workspace_id, kind="api", name=name,
                                  config={"secret": secrets.token_hex(16), "identity_kind": "x"})


def signed_request(account: ChannelAccount, events: list[dict[str, Any]]) -> WebhookRequest:
    body = json.dumps({"events": events}, separators=(",", ":")).encode()
    headers = {"content-type": "application/json",
               "x-threadline-signature": sign(account.config["secret"], body)}
    return WebhookRequest(method="POST", url=f"http://replay/webhooks/api/{account.id}",
                          headers=headers, query={}, body=body)


def chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def store_events(session: Session, account: ChannelAccount,
                 events: list[dict[str, Any]]) -> int:
    """One signed body through the webhook path (verify, split, store)."""
    return receive(session, account.kind, str(account.id), signed_request(account, events)).stored
