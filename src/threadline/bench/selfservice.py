"""Self-service bot quality, measured through the web chat's HTTP API.

A fresh workspace gets one published article per bitext intent (selfservice_data.py: the
article's questions are the intent's training split, seeded), the bot switched on at its
shipped threshold, and a web chat account. A real uvicorn serves Threadline on loopback;
every held-out utterance is a new visitor's first question (`POST /webchat/{id}/session`),
processed by the worker (ingest, triage, threading, the bot's hook, its reply job, the send
job); the outcome is what the bot did with that conversation (its `selfservice_sessions`
row) and what the visitor sees (`GET /webchat/{id}/history` shows the bot's answer).

Figures, at the shipped threshold:
- `precision`: answered with the right article / answered;
- `coverage`: answered / utterances of answerable intents;
- `wrong_rate`: answered with a wrong article / utterances of answerable intents;
- `handover_ok`: complaint and "I want a human" utterances handed over / all of them.
The same on the labelled real tweets (`tweets`): intents as above, "handover" labels count
in `handover_ok`, "none" labels must not be answered (`none_answered`).

Nothing is tuned here: the threshold and the handover rules were chosen on the development
split (THREADLINE_BENCH_SELFSERVICE_SPLIT=dev runs the bench on it); the figures that count
are the held-out split's (`test`, a seeded sample of PER_INTENT utterances per intent: each
one is a whole conversation through the pipeline) and the tweets'.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from threadline.bench import selfservice_data as data_
from threadline.channels.webchat.adapter import thread_key
from threadline.config import Settings
from threadline.conversations.models import Message
from threadline.conversations.service import Actor
from threadline.db.migrate import upgrade
from threadline.handlers import install
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.knowledge.schemas import ArticleIn
from threadline.knowledge.service import publish_article, save_article
from threadline.selfservice.models import BotSession, BotState
from threadline.selfservice.service import save_settings
from threadline.selfservice.settings import DEFAULT_THRESHOLD, SelfServiceSettings
from threadline.web.app import create_app
from threadline.workspace.service import create_channel_account, create_workspace

CHUNK = 250
ADMIN = Actor("system", id="bench")


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Server:
    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _setup(runtime: Runtime, splits: data_.Splits) -> tuple[uuid.UUID, str, dict[uuid.UUID, str]]:
    with runtime.db.session() as session:
        workspace_id = create_workspace(session, "Self-service bench",
                                        f"selfservice-{uuid.uuid4().hex[:6]}").id
        account = create_channel_account(
            session, workspace_id, kind="webchat", name="Bench chat",
            config={"sessions_per_minute": 1_000_000, "messages_per_minute": 1_000_000})
        intents: dict[uuid.UUID, str] = {}
        for intent, (title, category, body) in data_.TITLES.items():
            questions = [q[:300] for q in splits.questions[intent] if q.strip()]
            article = save_article(session, workspace_id, ArticleIn(
                title=title, body=body, category=category, language="en",
                tags=intent.split("_"), questions=questions), ADMIN)
            publish_article(session, workspace_id, article.id, ADMIN)
            intents[article.id] = intent
        save_settings(session, workspace_id, SelfServiceSettings(enabled=True), ADMIN)
        return workspace_id, str(account.id), intents


def _ask(http: httpx.Client, base: str, texts: list[str]) -> list[tuple[str, str]]:
    """Each text as a new visitor's first question; returns their (token, visitor id)."""
    visitors = []
    for text in texts:
        resp = http.post(f"{base}/session", json={"question": text[:4000]})
        resp.raise_for_status()
        visitors.append((resp.json()["token"], resp.json()["visitor_id"]))
    return visitors


def _outcomes(runtime: Runtime, account_id: str, visitors: list[str],
              intents: dict[uuid.UUID, str]) -> list[tuple[str, str | None]]:
    """(state, answered intent) per visitor: "answer" with the article's intent, "handover",
    or "none" (the bot did not look: off, or nothing to look at)."""
    out: list[tuple[str, str | None]] = []
    with runtime.db.session(write=False) as session:
        rows = dict(session.execute(
            select(Message.thread_key, Message.conversation_id).where(
                Message.channel_account_id == uuid.UUID(account_id),
                Message.direction == "inbound",
                Message.thread_key.in_([thread_key(v) for v in visitors]))).all())
        sessions = {s.conversation_id: s for s in session.scalars(select(BotSession).where(
            BotSession.conversation_id.in_(list(rows.values()))))}
    for visitor in visitors:
        found = sessions.get(rows.get(thread_key(visitor)))  # type: ignore[arg-type]
        if found is None:
            out.append(("none", None))
        elif found.answers > 0 and found.state in (BotState.BOT, BotState.DEFLECTED):
            out.append(("answer", intents.get(found.article_id)))  # type: ignore[arg-type]
        else:
            out.append(("handover", None))
    return out


def _visible(http: httpx.Client, base: str, token: str) -> bool:
    """The visitor sees the bot's answer, with its article, in his chat."""
    items = http.get(f"{base}/history", headers={"x-visitor-token": token}).json()["items"]
    return any(item.get("bot") and item["bot"].get("title") for item in items)


def _figures(labels: list[str], outcomes: list[tuple[str, str | None]]) -> dict[str, Any]:
    answerable = [(label, o) for label, o in zip(labels, outcomes, strict=True)
                  if label not in ("none", "handover", *data_.HANDOVER_INTENTS)]
    must_hand = [o for label, o in zip(labels, outcomes, strict=True)
                 if label in ("handover", *data_.HANDOVER_INTENTS)]
    none = [o for label, o in zip(labels, outcomes, strict=True) if label == "none"]
    answered = [(label, o) for label, o in answerable if o[0] == "answer"]
    right = sum(1 for label, o in answered if o[1] == label)
    wrong = len(answered) - right
    handed = sum(1 for o in must_hand if o[0] == "handover")
    figures: dict[str, Any] = {
        "utterances": len(labels), "answerable": len(answerable), "answered": len(answered),
        "right": right, "wrong": wrong,
        "precision": round(right / len(answered), 4) if answered else None,
        "coverage": round(len(answered) / len(answerable), 4) if answerable else None,
        "wrong_rate": round(wrong / len(answerable), 4) if answerable else None,
        "must_hand_over": len(must_hand), "handed_over": handed,
        "handover_ok": round(handed / len(must_hand), 4) if must_hand else None,
    }
    if none:
        figures["none"] = len(none)
        figures["none_answered"] = sum(1 for o in none if o[0] == "answer")
    return figures


def _run_set(runtime: Runtime, http: httpx.Client, base: str, account_id: str,
             intents: dict[uuid.UUID, str], texts: list[str], labels: list[str],
             worker: Worker) -> tuple[dict[str, Any], float]:
    outcomes: list[tuple[str, str | None]] = []
    visible_ok = 0
    answered = 0
    started = time.perf_counter()
    for i in range(0, len(texts), CHUNK):
        asked = _ask(http, base, texts[i:i + CHUNK])
        worker.drain()
        got = _outcomes(runtime, account_id, [v for _, v in asked], intents)
        for (token, _), outcome in zip(asked, got, strict=True):
            if outcome[0] == "answer":
                answered += 1
                visible_ok += _visible(http, base, token)
        outcomes += got
    elapsed = time.perf_counter() - started
    figures = _figures(labels, outcomes)
    figures["answers_visible_in_chat"] = visible_ok
    figures["answers_sent"] = answered
    return figures, elapsed


def selfservice_bench(data: Path, split_name: str = "test") -> dict[str, Any]:
    """`split_name`: "test" (the held-out utterances: the figures that count) or "dev"
    (the development split the threshold and rules were chosen on)."""
    install()
    tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-selfservice-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    port = _port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, public_url=base_url)
    runtime = Runtime.create(settings, database_url=url, redis_url="")
    try:
        upgrade(runtime.db)
        return _measure(runtime, data, base_url, port, split_name)
    finally:
        _cleanup(runtime, tmp)


def _measure(runtime: Runtime, data: Path, base_url: str, port: int,
             split_name: str) -> dict[str, Any]:
    splits = data_.split(data_.read_bitext(data))
    _, account_id, intents = _setup(runtime, splits)
    tweets = data_.read_tweets(data)
    labelled = [(tweets[i], label) for i, label in data_.read_labels() if i in tweets]
    worker = Worker(runtime, name="bench")
    result: dict[str, Any] = {"threshold": DEFAULT_THRESHOLD, "articles": len(intents),
                              "questions_per_article": data_.MAX_QUESTIONS,
                              "seed": data_.SEED, "split": split_name,
                              "per_intent": data_.PER_INTENT}
    with _Server(create_app(runtime, workers=0), port), \
            httpx.Client(timeout=30) as http:
        base = f"{base_url}/webchat/{account_id}"
        held = data_.sample(splits.test if split_name == "test" else splits.dev)
        for name, texts, labels in (
                (split_name, [u.text for u in held], [u.intent for u in held]),
                ("tweets", [t for t, _ in labelled], [label for _, label in labelled])):
            figures, elapsed = _run_set(runtime, http, base, account_id, intents, texts,
                                        labels, worker)
            figures["seconds"] = round(elapsed, 1)
            result[name] = figures
    test = result[split_name]
    result.update({"precision": test["precision"], "coverage": test["coverage"],
                   "wrong_rate": test["wrong_rate"], "handover_ok": test["handover_ok"]})
    result["labels"] = dict(Counter(label if label in ("none", "handover") else "intent"
                                    for _, label in labelled))
    return result


def run(data: Path) -> dict[str, Any]:
    split_name = os.environ.get("THREADLINE_BENCH_SELFSERVICE_SPLIT", "test")
    if split_name not in ("test", "dev"):
        raise SystemExit("THREADLINE_BENCH_SELFSERVICE_SPLIT is test or dev")
    return selfservice_bench(data, split_name)


def _cleanup(runtime: Runtime, tmp: Path) -> None:
    runtime.db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)  # its own folder only
