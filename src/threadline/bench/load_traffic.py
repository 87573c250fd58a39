"""The load bench's traffic: signed single-event X webhooks written as pre-built HTTP/1.1
requests on kept-alive connections at a fixed rate (refusals sent again after their
Retry-After), and a client of the REST event stream noting when each message arrives. An HTTP
library would spend more of the two cores than the server it measures."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import httpx

from threadline.bench.load_deployment import X_CONFIG
from threadline.sandbox.providers import x as sx

# --- webhooks ---------------------------------------------------------------------------------

def request_bytes(port: int, hook: Any) -> bytes:
    head = (f"POST {hook.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Length: {len(hook.body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in hook.headers.items()) + "\r\n")
    return head.encode() + bytes(hook.body)


def hook(account_id: str, tweet_id: str, customer: int, n: int) -> Any:
    return sx.mention_webhook(account_id, X_CONFIG, tweet_id, f"77{customer:08d}",
                              f"load{customer}", f"@brand order {n} has not arrived, "
                              f"customer {customer} asking again")


@dataclass
class Sent:
    tweet_id: str
    first_at: float = 0.0  # when the first attempt left
    accepted_at: float | None = None
    answer_ms: float | None = None
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    retry_after_seen: bool = False


class Connection:
    """One kept-alive HTTP/1.1 connection to a web process; requests in turn."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = asyncio.Lock()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, payload: bytes) -> tuple[int, dict[str, str]]:
        async with self.lock:
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1",
                                                                             self.port)
                assert self.reader is not None
                self.writer.write(payload)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                status = int(status_line.split()[1])
                headers: dict[str, str] = {}
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = line.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length:
                    await self.reader.readexactly(length)
                if headers.get("connection", "").lower() == "close":
                    self.close()
                return status, headers
            except (OSError, ConnectionError, ValueError, IndexError,
                    asyncio.IncompleteReadError):
                self.close()
                return 0, {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(ports: Sequence[int], hooks: list[tuple[Sent, Any]], rate: float,
                 per_port: int = 8) -> None:
    """Each webhook leaves at its slot (i / rate); a refused one is sent again after its
    Retry-After (at least 1 s) to the next web process, up to 60 s after its slot."""
    pools = [[Connection(p) for _ in range(per_port)] for p in ports]
    start = time.perf_counter()
    tasks = []

    async def one(i: int, sent: Sent, hook: Any) -> None:
        slot = start + i / rate
        await asyncio.sleep(max(0.0, slot - time.perf_counter()))
        sent.first_at = time.perf_counter()
        attempt = 0
        while True:
            pool = pools[(i + attempt) % len(pools)]
            conn = pool[(i // len(pools)) % len(pool)]
            t0 = time.perf_counter()
            status, headers = await conn.send(request_bytes(conn.port, hook))
            sent.attempts += 1
            sent.statuses.append(status)
            if 200 <= status < 300:
                sent.accepted_at = time.perf_counter()
                sent.answer_ms = (sent.accepted_at - t0) * 1000
                return
            sent.retry_after_seen |= "retry-after" in headers
            if time.perf_counter() - slot > 60:
                return
            wait = 1.0
            with suppress(ValueError):
                wait = max(wait, float(headers.get("retry-after", "1")))
            attempt += 1
            await asyncio.sleep(wait)

    for i, (sent, hook) in enumerate(hooks):
        tasks.append(asyncio.create_task(one(i, sent, hook)))
    await asyncio.gather(*tasks)
    for pool in pools:
        for conn in pool:
            conn.close()


# --- the stream -------------------------------------------------------------------------------

async def listen(port: int, token: str, seen: dict[str, float], ready: asyncio.Event,
                  stop: asyncio.Event) -> None:
    """`message.created` events of the REST stream: message id -> when it arrived. Reconnects
    with Last-Event-ID when cut (a web process killed)."""
    last: str | None = None
    while not stop.is_set():
        headers = {"authorization": f"Bearer {token}"}
        if last:
            headers["last-event-id"] = last
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
                    client.stream("GET", f"http://127.0.0.1:{port}/api/v1/stream",
                                  headers=headers) as response:
                if response.status_code == 200:
                    ready.set()  # the stream starts after the newest event at this moment
                name = data = None
                async for line in response.aiter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data = line[5:].strip()
                    elif line.startswith("id:"):
                        last = line[3:].strip()
                    elif not line:
                        if name == "message.created" and data:
                            with suppress(ValueError, KeyError, TypeError):
                                seen.setdefault(json.loads(data)["message_id"],
                                                time.perf_counter())
                        name = data = None
        except (httpx.HTTPError, OSError):
            await asyncio.sleep(0.5)
