"""Logs: text and JSON lines with the request's context; the request id from the edge (kept
when safe, minted otherwise) to the worker's lines for the events and jobs it caused."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.conftest import Serving, free_port
from tests.factories import api_account, body, message_event, signed_headers
from threadline import logs
from threadline.config import Settings
from threadline.jobs.worker import Worker
from threadline.web.app import create_app
from threadline.web.proxies import server_config
from threadline.web.request_id import RequestId


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger (and the loggers `configure` quietens) back as they were."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET_LOGGERS}
    yield
    for handler in list(root.handlers):
        if handler not in saved[0]:
            root.removeHandler(handler)
    root.setLevel(saved[1])
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


class TestFormats:
    def test_json_lines_parse_and_carry_the_context(self, restore_logging: None) -> None:
        out = io.StringIO()
        logs.configure(Settings(log_format="json", log_level="debug"), stream=out)
        log = logging.getLogger("threadline.test")
        log.debug("outside any request")
        with logs.context(request_id="req-1", job_id=7, workspace_id="ws-1"):
            log.info("inside %s", "a job")
            try:
                raise ValueError("boom")
            except ValueError:
                log.exception("it failed")
        first, second, third = json_lines(out)
        assert set(first) == {"time", "level", "logger", "message"}
        assert first["level"] == "DEBUG" and first["logger"] == "threadline.test"
        assert first["time"].endswith("Z") and "T" in first["time"]
        assert second == {**second, "message": "inside a job", "request_id": "req-1",
                          "job_id": 7, "workspace_id": "ws-1", "level": "INFO"}
        assert "ValueError: boom" in third["exception"] and third["request_id"] == "req-1"

    def test_text_lines_name_the_known_fields(self, restore_logging: None) -> None:
        out = io.StringIO()
        logs.configure(Settings(log_format="text", log_level="INFO"), stream=out)
        log = logging.getLogger("threadline.test")
        log.debug("hidden at INFO")
        with logs.context(request_id="req-2", event_id=3):
            log.warning("careful")
        (line,) = out.getvalue().splitlines()
        assert " WARNING threadline.test careful request_id=req-2 event_id=3" in line
        assert "job_id" not in line and "workspace_id" not in line

    def test_a_second_configure_replaces_the_handler(self, restore_logging: None) -> None:
        first, second = io.StringIO(), io.StringIO()
        logs.configure(Settings(log_format="json"), stream=first)
        logs.configure(Settings(log_format="json"), stream=second)
        logging.getLogger("threadline.test").warning("once")
        assert first.getvalue() == "" and len(json_lines(second)) == 1

    def test_settings(self) -> None:
        assert Settings(log_level="debug").log_level == "DEBUG"
        assert Settings().log_format == "text" and Settings().log_level == "INFO"
        with pytest.raises(ValidationError):
            Settings(log_format="xml")
        with pytest.raises(ValidationError):
            Settings(log_level="chatty")


class TestRequestId:
    @pytest.mark.parametrize("sent", ["abc", "trace-1.2_3", "A" * 64])
    def test_a_safe_id_comes_back(self, client: Any, sent: str) -> None:
        answer = client.get("/healthz", headers={"X-Request-ID": sent})
        assert answer.headers["x-request-id"] == sent

    @pytest.mark.parametrize("sent", [b"A" * 65, b"has space", b"<script>", b"a/b",
                                      "\u00fc".encode(), b"", b"a\x00b"])
    def test_an_unsafe_id_is_replaced(self, client: Any, sent: bytes) -> None:
        answer = client.get("/healthz", headers={"X-Request-ID": sent})
        got = answer.headers["x-request-id"]
        assert got.encode() != sent and logs.SAFE_REQUEST_ID.fullmatch(got) and len(got) == 32

    def test_without_a_header_every_request_gets_a_new_id(self, client: Any) -> None:
        ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
        assert len(ids) == 3

    def test_the_context_does_not_leak_between_concurrent_requests(self) -> None:
        """A real server, requests interleaving in async and in thread-pool endpoints: each
        sees its own id, and none is left in the context once it is over."""

        async def slow(request: Request) -> PlainTextResponse:
            await asyncio.sleep(0.05)
            return PlainTextResponse(logs.current_request_id() or "none")

        def blocking(request: Request) -> PlainTextResponse:
            time.sleep(0.02)
            return PlainTextResponse(logs.current_request_id() or "none")

        app = RequestId(Starlette(routes=[Route("/slow", slow), Route("/blocking", blocking)]))
        with Serving(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                     log_level="warning")) as url:
            def call(i: int) -> tuple[str, str, str]:
                headers = {"X-Request-ID": f"req-{i}"} if i % 3 else {}
                path = "/slow" if i % 2 else "/blocking"
                answer = httpx.get(url + path, headers=headers)
                return headers.get("X-Request-ID", ""), answer.headers["x-request-id"], answer.text

            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(call, range(24)))
        for sent, returned, seen in results:
            assert seen == returned and (not sent or returned == sent)
        assert len({seen for _, _, seen in results}) == 24
        assert logs.current() is None


class TestFollowingARequest:
    def test_web_and_worker_lines_share_the_request_id(
            self, runtime: Any, workspace_id: Any, token: str, sandbox: Any,
            restore_logging: None) -> None:
        """Over real HTTP with the production server options: the access line of a webhook,
        the worker's line for the event it stored, and (for a reply posted through the API)
        the worker's line for the send job, each with the id of the request behind it."""
        out = io.StringIO()
        logs.configure(Settings(log_format="json", log_level="INFO"), stream=out)
        account = api_account(runtime, workspace_id,
                              outbound_url=f"{sandbox.url}/api/outbound")
        config = server_config(create_app(runtime, workers=0), runtime.settings,
                               host="127.0.0.1", port=free_port(), log_level="info")
        worker = Worker(runtime, name="logs-test")
        with Serving(config) as url:
            raw = body([message_event("log-1", author="c-logs", text="where is my parcel")])
            answer = httpx.post(f"{url}/webhooks/api/{account.id}?hub.verify_token=hush",
                                content=raw, headers={**signed_headers(account, raw),
                                                      "X-Request-ID": "hook-42"})
            assert answer.status_code == 200 and answer.headers["x-request-id"] == "hook-42"
            worker.drain()
            api = {"Authorization": f"Bearer {token}", "X-Request-ID": "reply-7"}
            conv = httpx.get(f"{url}/api/v1/conversations", headers=api).json()["items"][0]
            sent = httpx.post(f"{url}/api/v1/conversations/{conv['id']}/messages", headers=api,
                              json={"text": "On its way", "visibility": "public"})
            assert sent.status_code == 201, sent.text
            worker.drain()
        lines = json_lines(out)
        hook = [r for r in lines if r["logger"] == "uvicorn.access"
                and r.get("http_method") == "POST" and "/webhooks/" in r["http_path"]]
        assert len(hook) == 1 and hook[0]["request_id"] == "hook-42"
        assert hook[0]["http_status"] == 200 and "hush" not in hook[0]["message"]
        assert "?" not in hook[0]["http_path"] and "127.0.0.1" not in hook[0]["message"]
        processed = [r for r in lines if r["logger"] == "threadline.worker"
                     and r["message"].startswith("inbound event")]
        assert [r["request_id"] for r in processed] == ["hook-42"]
        assert processed[0]["workspace_id"] == str(workspace_id) and processed[0]["event_id"]
        jobs = [r for r in lines if r["logger"] == "threadline.worker"
                and "(message.send) done" in r["message"]]
        assert len(jobs) == 1 and jobs[0]["request_id"] == "reply-7" and jobs[0]["job_id"]
        api_lines = [r for r in lines if r["logger"] == "uvicorn.access"
                     and r.get("request_id") == "reply-7"]
        assert {r["workspace_id"] for r in api_lines} == {str(workspace_id)}
        assert "hush" not in out.getvalue()

    def test_jobs_enqueued_by_a_job_inherit_its_request_id(self, runtime: Any,
                                                           workspace_id: Any) -> None:
        from sqlalchemy import select

        from threadline.events.models import OutboxJob
        from threadline.events.service import enqueue
        from threadline.jobs.registry import handler

        @handler("test.logs.parent")
        def parent(rt: Any, job: Any) -> None:
            with rt.db.session() as session:
                enqueue(session, "test.logs.child", {}, workspace_id=job.workspace_id)

        @handler("test.logs.child")
        def child(rt: Any, job: Any) -> None:
            return None

        with logs.context(request_id="outer-9"), runtime.db.session() as session:
            enqueue(session, "test.logs.parent", {}, workspace_id=workspace_id)
        Worker(runtime, name="logs-test").drain()
        with runtime.db.session(write=False) as session:
            rows = session.execute(select(OutboxJob.name, OutboxJob.request_id, OutboxJob.status)
                                   .where(OutboxJob.workspace_id == workspace_id,
                                          OutboxJob.name.like("test.logs.%"))).all()
        assert sorted(rows) == [("test.logs.child", "outer-9", "done"),
                                ("test.logs.parent", "outer-9", "done")]


def test_the_level_holds_for_loggers_that_set_their_own(restore_logging: None) -> None:
    """uvicorn sets its access logger to INFO; THREADLINE_LOG_LEVEL=WARNING still hides it."""
    out = io.StringIO()
    logs.configure(Settings(log_format="json", log_level="WARNING"), stream=out)
    access = logging.getLogger("threadline.test.own-level")
    access.setLevel(logging.INFO)
    access.info("an access line")
    access.warning("a warning")
    assert [r["message"] for r in json_lines(out)] == ["a warning"]
