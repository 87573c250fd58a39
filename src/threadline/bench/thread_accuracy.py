"""Threading accuracy: replay twcs files and compare conversation membership with the
reply-chain components (from in_response_to_tweet_id). Pairwise precision and recall."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from threadline.bench.common import drain, fresh_runtime, new_workspace, peak_rss_mb
from threadline.conversations.models import Message
from threadline.ingest.replay import (
    Tweet,
    chunks,
    read_twcs,
    replay_account,
    store_events,
    twcs_files,
    tweet_event,
)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def _pairs(sizes: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def pairwise(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float, int, int]:
    ids = [i for i in truth if i in predicted]
    t_pairs = _pairs(Counter(truth[i] for i in ids))
    p_pairs = _pairs(Counter(predicted[i] for i in ids))
    tp = _pairs(Counter((truth[i], predicted[i]) for i in ids))
    precision = tp / p_pairs if p_pairs else 1.0
    recall = tp / t_pairs if t_pairs else 1.0
    return precision, recall, t_pairs, p_pairs


def ground_truth(tweets: list[Tweet]) -> dict[str, str]:
    uf = _UnionFind()
    for t in tweets:
        uf.find(t.tweet_id)
        if t.in_reply_to:
            uf.union(t.tweet_id, t.in_reply_to)
    return {t.tweet_id: uf.find(t.tweet_id) for t in tweets}


def run_dataset(name: str, files: list[Path], url: str | None = None) -> dict[str, Any]:
    tweets: dict[str, Tweet] = {}
    for f in files:
        for t in read_twcs(f):
            tweets.setdefault(t.tweet_id, t)
    rows = list(tweets.values())
    runtime, tmp = fresh_runtime(url)
    try:
        ws = new_workspace(runtime, name)
        with runtime.db.session() as session:
            account = replay_account(session, ws)
        started = time.perf_counter()
        for batch in chunks((tweet_event(t) for t in rows), 200):
            with runtime.db.session() as session:
                store_events(session, account, batch)
        drain(runtime)
        elapsed = time.perf_counter() - started
        with runtime.db.session(write=False) as session:
            predicted = {str(pid): str(conv) for pid, conv in session.execute(
                select(Message.provider_id, Message.conversation_id)
                .where(Message.workspace_id == ws))}
        truth = ground_truth(rows)
        precision, recall, t_pairs, p_pairs = pairwise(truth, predicted)
        return {"dataset": name, "files": [f.name for f in files], "tweets": len(rows),
                "messages": len(predicted), "conversations": len(set(predicted.values())),
                "reply_chain_components": len(set(truth.values())),
                "precision": round(precision, 6), "recall": round(recall, 6),
                "true_pairs": t_pairs, "predicted_pairs": p_pairs,
                "seconds": round(elapsed, 2)}
    finally:
        runtime.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run(data_dir: Path, url: str | None = None) -> dict[str, Any]:
    twcs = data_dir / "twcs" if (data_dir / "twcs").exists() else data_dir
    files = twcs_files(twcs)
    head = [f for f in files if "head5000" in f.name]
    spotify = [f for f in files if f.parent.name == "spotifycares_threads"]
    groups = [("head5000", head), ("spotifycares", spotify)]
    groups = [(n, fs) for n, fs in groups if fs] or [("files", files)]
    results = [run_dataset(n, fs, url) for n, fs in groups]
    return {"bench": "threading", "datasets": results,
            "precision": min(r["precision"] for r in results),
            "recall": min(r["recall"] for r in results), "peak_rss_mb": peak_rss_mb()}
