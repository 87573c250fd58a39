"""`threadline bench incidents`: burst detection at 1,000 public posts a second.

Default run: a stream of `--rate` posts a second for `--seconds` seconds into a fresh SQLite
database, on one core (this process): real customer tweets of the twcs data as the background
(then random word salads when they run out), with two outages told in many words by many
customers (`incidents.samples`) inside it. Each tick, the posts that have arrived are stored as
messages and placed by the detector (`incidents.detection.observe`, which stores their
membership and makes the suggested incidents) in one transaction; a post's latency is from its
scheduled arrival to that commit. Grouping is scored against the labels: precision is the share
of incident members that belong to the outage their incident stands for (a false incident of
background posts counts against it), recall the share of outage posts inside their outage's
incident.

`-- --twcs` instead runs the detector over the twcs data in time order, per company, and
reports the bursts it finds with sample texts (the data stays where it is; nothing is stored).

Options after `--`: --rate N, --seconds N, --tick-ms N, --twcs, --samples N, --similarity F,
--min-posts N, --window-minutes N.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from threadline.bench.common import fresh_runtime, new_workspace, peak_rss_mb
from threadline.conversations.models import Conversation, Message
from threadline.incidents.detect import BurstDetector, DetectorSettings, terms_of
from threadline.incidents.detection import PostIn, forget, observe
from threadline.incidents.models import Incident, IncidentPost
from threadline.incidents.samples import outage_posts
from threadline.incidents.settings import SETTING, IncidentSettings
from threadline.ingest.replay import read_twcs, replay_account
from threadline.workspace.models import Workspace

HANDLE = re.compile(r"@([A-Za-z_]\w*)")


def _options(args: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="threadline bench incidents")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tick-ms", type=float, default=20.0)
    parser.add_argument("--twcs", action="store_true")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--with-replies", action="store_true",
                        help="--twcs: also the customers' replies to the brand's tweets")
    parser.add_argument("--similarity", type=float, default=IncidentSettings().similarity)
    parser.add_argument("--min-posts", type=int, default=IncidentSettings().min_posts)
    parser.add_argument("--window-minutes", type=int, default=IncidentSettings().window_minutes)
    return parser.parse_args(list(args))


def _twcs_inbound(data: Path) -> list[Any]:
    folder = data / "twcs"
    files = [folder / "head5000_all_brands" / "twcs_head5000.csv",
             folder / "spotifycares_threads" / "support_requests.csv"]
    tweets = []
    for path in files:
        if path.exists():
            tweets += [t for t in read_twcs(path) if t.inbound]
    return tweets


def _first_posts(tweets: list[Any]) -> list[Any]:
    """What the incidents hook sees: posts that start something (a reply to the brand's own
    tweet continues a conversation and is left out, as `detection.public_posts` does)."""
    ids = {t.tweet_id for t in tweets}
    return [t for t in tweets if not t.in_reply_to or t.in_reply_to in ids]


def _salad(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randrange(6, 14)))


def _stream(data: Path, total: int, seconds: float) -> list[tuple[float, str, str, str]]:
    """(arrival second, text, author, label) in arrival order; label "" is background."""
    rng = random.Random(18)
    real = [t.text for t in _first_posts(_twcs_inbound(data))]
    rng.shuffle(real)
    words = sorted({w for text in real[:5000] for w in re.findall(r"[a-z]{4,}", text.lower())}
                   ) or ["order", "parcel", "invoice", "store", "jacket", "coffee", "refund"]
    bursts = {"login": (0.15, 0.45), "payment": (0.55, 0.85)}  # share of the run they span
    per_burst = max(20, total // 10)
    items: list[tuple[float, str, str, str]] = []
    for label, (start, end) in bursts.items():
        texts = outage_posts(per_burst, seed=len(label), theme=label)
        for n, text in enumerate(texts):
            at = seconds * (start + (end - start) * n / per_burst)
            items.append((at, text, f"{label}-{n}", label))
    background = total - len(items)
    for n in range(background):
        text = real[n] if n < len(real) else _salad(rng, words)
        items.append((seconds * n / max(1, background), text, f"bg-{n}", ""))
    items.sort(key=lambda item: item[0])
    return items


def _insert_posts(session: Any, workspace_id: uuid.UUID, account_id: uuid.UUID,
                  batch: list[tuple[float, str, str, str]], base: datetime) -> list[PostIn]:
    convs, messages, posts = [], [], []
    for at, text, _author, _label in batch:
        conv_id, message_id = uuid.uuid4(), uuid.uuid4()
        when = base + timedelta(seconds=at)
        convs.append({"id": conv_id, "workspace_id": workspace_id, "status": "open",
                      "origin_channel": "api", "origin_visibility": "public",
                      "origin_account_id": account_id, "priority": 4, "labels": [],
                      "required_skills": [], "reopen_count": 0, "message_count": 1,
                      "last_message_at": when, "created_at": when, "updated_at": when})
        messages.append({"id": message_id, "workspace_id": workspace_id,
                         "conversation_id": conv_id, "channel_account_id": account_id,
                         "channel": "api", "direction": "inbound", "visibility": "public",
                         "kind": "post", "text": text, "attachments": [], "created_at": when,
                         "delivery": "received", "author_type": "customer", "triage": {},
                         "meta": {}})
        posts.append(PostIn(message_id=message_id, conversation_id=conv_id,
                            account_id=account_id, channel="api", customer_id=None, at=when,
                            text=text))
    session.execute(Conversation.__table__.insert(), convs)  # type: ignore[attr-defined]
    session.execute(Message.__table__.insert(), messages)  # type: ignore[attr-defined]
    return posts


def _score(labels: dict[uuid.UUID, str], membership: dict[uuid.UUID, uuid.UUID | None]
           ) -> tuple[float, float, dict[str, int]]:
    by_incident: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for message_id, incident_id in membership.items():
        if incident_id is not None:
            by_incident[incident_id][labels.get(message_id, "")] += 1
    stands_for = {i: c.most_common(1)[0][0] for i, c in by_incident.items()}
    members = sum(sum(c.values()) for c in by_incident.values())
    right = sum(c[stands_for[i]] for i, c in by_incident.items() if stands_for[i])
    truth = Counter(label for label in labels.values() if label)
    found: Counter[str] = Counter()
    for label in truth:  # the incident that stands for it (the largest, if it split)
        sizes = [c[label] for i, c in by_incident.items() if stands_for[i] == label]
        found[label] = max(sizes, default=0)
    precision = right / members if members else 0.0
    recall = sum(found.values()) / sum(truth.values()) if truth else 0.0
    incidents = Counter(stands_for[i] or "background" for i in by_incident)
    return precision, recall, dict(incidents)


def run_stream(data: Path, opts: argparse.Namespace) -> dict[str, Any]:
    runtime, tmp = fresh_runtime()
    try:
        workspace_id = new_workspace(runtime, "incidents-bench")
        settings = IncidentSettings(similarity=opts.similarity, min_posts=opts.min_posts,
                                    window_minutes=opts.window_minutes)
        with runtime.db.session() as session:
            account_id = replay_account(session, workspace_id).id
            workspace = session.get(Workspace, workspace_id)
            assert workspace is not None
            workspace.settings = {**(workspace.settings or {}), SETTING: settings.model_dump()}
        total = int(opts.rate * opts.seconds)
        stream = _stream(data, total, opts.seconds)
        labels: dict[uuid.UUID, str] = {}
        latencies: list[float] = []
        base = datetime.now(UTC)
        tick = opts.tick_ms / 1000.0
        start = time.perf_counter()
        busy = 0.0
        i = 0
        while i < len(stream):
            now = time.perf_counter() - start
            j = i
            while j < len(stream) and stream[j][0] <= now:
                j += 1
            if j == i:
                time.sleep(min(tick, max(0.0, stream[i][0] - now)))
                continue
            batch = stream[i:j]
            began = time.perf_counter()
            with runtime.db.session() as session:
                posts = _insert_posts(session, workspace_id, account_id, batch, base)
                observe(session, workspace_id, posts,
                        now=base + timedelta(seconds=batch[-1][0]))
            done = time.perf_counter() - start
            busy += time.perf_counter() - began
            for (at, _text, _author, label), post in zip(batch, posts, strict=True):
                latencies.append((done - at) * 1000)
                labels[post.message_id] = label
            i = j
            if j < len(stream):
                time.sleep(max(0.0, min(tick, stream[j][0] - (time.perf_counter() - start))))
        elapsed = time.perf_counter() - start
        with runtime.db.session(write=False) as session:
            membership = dict(session.execute(
                select(IncidentPost.message_id, IncidentPost.incident_id)
                .where(IncidentPost.workspace_id == workspace_id,
                       IncidentPost.incident_id.is_not(None))).tuples().all())
            incident_count = session.query(Incident).filter(
                Incident.workspace_id == workspace_id).count()
        precision, recall, kinds = _score(labels, membership)
        latencies.sort()
        forget(workspace_id)
        return {
            "posts": len(stream), "seconds": round(elapsed, 2),
            "posts_per_s": round(len(stream) / elapsed, 1),
            "offered_posts_per_s": opts.rate,
            "membership_p50_ms": round(latencies[len(latencies) // 2], 1),
            "membership_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
            "membership_max_ms": round(latencies[-1], 1),
            "busy_share_of_one_core": round(busy / elapsed, 3),
            "grouping_precision": round(precision, 4), "grouping_recall": round(recall, 4),
            "incidents": incident_count, "incidents_by_what_they_stand_for": kinds,
            "outage_posts": sum(1 for v in labels.values() if v),
            "settings": settings.model_dump(exclude={"pace_per_minute"}),
            "database": "sqlite", "peak_rss_mb": peak_rss_mb(),
        }
    finally:
        runtime.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _company(text: str) -> str | None:
    for handle in HANDLE.findall(text):
        if not handle.isdigit():
            return str(handle)
    return None


def run_twcs(data: Path, opts: argparse.Namespace) -> dict[str, Any]:
    """The detector over the real customer tweets in time order, one detector per company;
    only posts that start something count (a reply to the brand continues a conversation)."""
    tweets = sorted(_twcs_inbound(data), key=lambda t: t.created_at)
    starts = {t.tweet_id for t in _first_posts(tweets)}
    settings = DetectorSettings(window_seconds=opts.window_minutes * 60.0,
                                similarity=opts.similarity, min_posts=opts.min_posts)
    detectors: dict[str, BurstDetector] = {}
    members: dict[tuple[str, uuid.UUID], list[Any]] = defaultdict(list)
    bursts: list[tuple[str, uuid.UUID]] = []
    posts = Counter[str]()
    for tweet in tweets:
        if tweet.tweet_id not in starts and not opts.with_replies:
            continue  # answers a brand tweet: a conversation going on, not a new voice
        company = _company(tweet.text)
        if company is None:
            continue
        posts[company] += 1
        detector = detectors.setdefault(company, BurstDetector(settings))
        placed = detector.add(tweet.created_at.timestamp(), terms_of(tweet.text),
                              tweet.author_id)
        key = (company, placed.cluster.id)
        for merged in placed.merged:
            members[key] += members.pop((company, merged), [])
        members[key].append(tweet)
        if placed.became_burst:
            detector.pin(placed.cluster.id, placed.cluster.id, True)
            bursts.append(key)
    report = []
    for company, cluster_id in bursts:
        found = members.get((company, cluster_id), [])
        if not found:
            continue
        report.append({
            "company": company, "posts": len(found),
            "authors": len({t.author_id for t in found}),
            "from": found[0].created_at.isoformat(), "to": found[-1].created_at.isoformat(),
            "samples": [t.text[:140] for t in found[:opts.samples]]})
    return {"posts": sum(posts.values()), "companies": len(posts), "bursts": len(report),
            "bursts_per_company": dict(Counter(b["company"] for b in report)),
            "settings": {"similarity": opts.similarity, "min_posts": opts.min_posts,
                         "window_minutes": opts.window_minutes},
            "found": report}


def run(data: Path, args: Sequence[str] = ()) -> dict[str, Any]:
    opts = _options(args)
    return run_twcs(data, opts) if opts.twcs else run_stream(data, opts)
