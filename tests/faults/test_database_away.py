"""The database away: webhooks and the API answer 503 with Retry-After and the error
envelope (no traceback, nothing stored), and a worker backs off with a few log lines instead
of one per poll, then resumes by itself when the database is back."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import free_port
from threadline.config import Settings
from threadline.db.migrate import upgrade
from threadline.events.models import OutboxJob, WorkStatus
from threadline.events.service import enqueue
from threadline.handlers import install
from threadline.jobs.registry import handler
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.web.app import create_app

DONE: list[str] = []


@handler("test.faults.noop")
def _noop(runtime: Runtime, job: object) -> None:
    DONE.append("ran")


def _unreachable(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":  # a file in a folder that does not exist: unable to open it
        return f"sqlite:///{tmp_path / 'missing' / 'threadline.db'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/threadline"  # refused


@pytest.fixture(params=["sqlite", "postgresql"])
def away(request, settings: Settings, tmp_path: Path):
    url = _unreachable(request.param, tmp_path)
    rt = Runtime.create(settings.model_copy(update={"database_url": url}), database_url=url,
                        redis_url="")
    yield rt
    rt.close()


def test_webhooks_and_the_api_answer_503_with_retry_after(away: Runtime) -> None:
    with TestClient(create_app(away, workers=0), raise_server_exceptions=False) as client:
        answers = [
            client.post(f"/webhooks/api/{uuid.uuid4()}", content=b'{"events": []}',
                        headers={"content-type": "application/json",
                                 "x-threadline-signature": "sha256=00"}),
            client.get("/api/v1/conversations", headers={"authorization": "Bearer tl_x"}),
            client.get(f"/webhooks/meta/{uuid.uuid4()}",
                       params={"hub.mode": "subscribe", "hub.challenge": "1"}),
        ]
    for answer in answers:
        assert answer.status_code == 503, (answer.request.url, answer.text)
        assert answer.headers["retry-after"] == "5"
        body = answer.json()
        assert body["error"]["code"] == "database_unavailable"
        text = json.dumps(body)
        assert "Traceback" not in text and "SELECT" not in text and "sqlalchemy" not in text


def test_a_worker_backs_off_and_resumes_when_the_database_returns(
        settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    install()  # the inbound processor and the job handlers
    folder = tmp_path / "later"
    url = f"sqlite:///{folder / 'threadline.db'}"
    rt = Runtime.create(settings.model_copy(update={"database_url": url,
                                                    "worker_poll_seconds": 0.05}),
                        database_url=url, redis_url="")
    stop = threading.Event()
    worker = Worker(rt, name="faults")
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    DONE.clear()
    try:
        with caplog.at_level(logging.INFO, logger="threadline.worker"):
            thread.start()
            time.sleep(3)  # away: at 20 polls a second this would be 60 failed rounds
            away_lines = [r for r in caplog.records if r.name == "threadline.worker"]
            folder.mkdir()
            upgrade(rt.db)
            with rt.db.session() as session:
                enqueue(session, "test.faults.noop", {})
            deadline = time.monotonic() + 15  # the longest backoff after 3 s is under 4 s
            # wait for the job to be marked done and for the line: a round may succeed (and
            # log that the worker resumed) between the schema's creation and the enqueue

            def job_done() -> bool:
                with rt.db.session(write=False) as session:
                    return session.scalar(select(OutboxJob.status).where(
                        OutboxJob.name == "test.faults.noop")) == WorkStatus.DONE

            while time.monotonic() < deadline and not (job_done() and any(
                    "worker resumed after" in r.getMessage() for r in caplog.records)):
                time.sleep(0.05)
        assert DONE == ["ran"]
        assert 1 <= len(away_lines) <= 2, [r.getMessage() for r in away_lines]
        assert "retrying with backoff" in away_lines[0].getMessage()
        assert not away_lines[0].exc_info  # the database away: no traceback
        assert any("worker resumed after" in r.getMessage() for r in caplog.records)
        with rt.db.session(write=False) as session:
            job = session.scalar(select(OutboxJob).where(OutboxJob.name == "test.faults.noop"))
            assert job is not None and job.status == WorkStatus.DONE
    finally:
        stop.set()
        thread.join(timeout=10)
        rt.close()
