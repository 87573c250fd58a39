"""Logs: plain text for people or JSON lines for log shippers, and the context every line carries.

Every record gets `request_id`, `job_id`, `event_id` and `workspace_id` when they are known.
The web sets the request id per request (`web/request_id.py`); a request's API token or desktop
session binds its workspace; an inbound event or outbox job stored during a request keeps the
request's id, and the worker sets all of them while it runs that event or job, so one id
follows a customer's message from the webhook to the reply it caused (docs/logging.md).

Only the standard library: `logging` for records and handlers, `contextvars` for the context
(docs/decisions/0304-structured-logs-and-request-ids.md).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from threadline.config import Settings

CONTEXT_FIELDS = ("request_id", "job_id", "event_id", "workspace_id")
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Clients that log whole URLs (httpx at INFO) or headers (httpcore at DEBUG): a Telegram bot
# token rides in the URL path, provider answers set cookies. Held at WARNING whatever the level.
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "multipart", "python_multipart")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Structured fields that some records carry (the access log), copied into JSON lines.
EXTRA_FIELDS = ("http_method", "http_path", "http_status")
HANDLER_NAME = "threadline"


@dataclass
class LogContext:
    """What the current request or job is. Mutable on purpose: FastAPI runs dependencies and
    sync endpoints in copies of the request's context, and a workspace bound in one of them
    (the caller's token) must reach the lines the others write."""

    request_id: str | None = None
    job_id: int | None = None
    event_id: int | None = None
    workspace_id: str | None = None


_current: ContextVar[LogContext | None] = ContextVar("threadline_log_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def safe_request_id(value: str | None) -> str:
    """`value` when it is a short token ([A-Za-z0-9._-]{1,64}); otherwise a new id, so that
    what a client sends never reaches a log line unless it is harmless."""
    if value is not None and SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def current() -> LogContext | None:
    return _current.get()


def current_request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx is not None else None


@contextmanager
def context(*, request_id: str | None = None, job_id: int | None = None,
            event_id: int | None = None, workspace_id: object = None) -> Iterator[LogContext]:
    """A fresh context for the block (a request, a job, an inbound event), reset after it."""
    ctx = LogContext(request_id=request_id, job_id=job_id, event_id=event_id,
                     workspace_id=str(workspace_id) if workspace_id is not None else None)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def bind_workspace(workspace_id: object) -> None:
    """Name the workspace of the current request (no effect outside a request or job)."""
    ctx = _current.get()
    if ctx is not None and workspace_id is not None:
        ctx.workspace_id = str(workspace_id)


class ContextFilter(logging.Filter):
    """Copies the current context onto each record (a field given with `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = _current.get()
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, getattr(ctx, name) if ctx is not None else None)
        return True


class AccessLogFilter(logging.Filter):
    """uvicorn's access line without the query string (webhook verify tokens, hub.challenge,
    visitor tokens ride there) and without the client's address (personal data):
    `"POST /webhooks/api/… HTTP/1.1" 200`, with method, path and status as fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, full_path, version, status = args
            path = str(full_path).split("?", 1)[0]
            record.msg = '"%s %s HTTP/%s" %s'
            record.args = (method, path, version, status)
            record.http_method = str(method)
            record.http_path = path
            record.http_status = int(str(status)) if str(status).isdigit() else status
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message request_id=… job_id=…` (only the fields that are known)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                 if getattr(record, name, None) is not None]
        if not known:
            return line
        head, newline, rest = line.partition("\n")  # after the message, before a traceback
        return f"{head} {' '.join(known)}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the context
    fields that are known, and `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "time": time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in (*CONTEXT_FIELDS, *EXTRA_FIELDS):
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def make_handler(fmt: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `stream` (stderr) in format `fmt` ("text" or "json"), context added."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(ContextFilter())
    return handler


def configure(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record (Threadline's, uvicorn's, libraries') to one handler on the root
    logger, in the configured format and at the configured level. A second call replaces the
    handler of the first."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = make_handler(settings.log_format, stream)
    handler.set_name(HANDLER_NAME)
    handler.setLevel(settings.log_level)  # also for uvicorn's loggers, which set their own
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's `log_config`: its loggers keep no handler of their own and propagate to the
    root handler of `configure`; the access line loses its query string and client address."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"access": {"()": AccessLogFilter}},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True, "filters": ["access"]},
        },
    }
