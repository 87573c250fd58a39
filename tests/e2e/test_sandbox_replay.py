"""The sandbox plays real twcs threads as signed X webhooks over HTTP; Threadline threads them
exactly like the reply chains."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import shared_data
from threadline.bench.thread_accuracy import ground_truth, pairwise
from threadline.conversations.models import Message
from threadline.demo.replay_x import replay_twcs_as_x
from threadline.ingest.replay import read_twcs
from threadline.workspace.service import create_channel_account


def test_twcs_rows_as_x_traffic(runtime, workspace_id, live_server, sandbox, tmp_path: Path):
    source = shared_data("twcs", "head5000_all_brands", "twcs_head5000.csv")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    sample = tmp_path / "sample.csv"
    sample.write_text("".join(lines[:121]), encoding="utf-8")
    tweets = list(read_twcs(sample))
    config = {"consumer_key": "k", "consumer_secret": secrets.token_hex(8),
              "access_token": "t", "access_token_secret": "s", "user_id": "4400000002",
              "api_base_url": f"{sandbox.url}/x"}
    with runtime.db.session() as session:
        account = create_channel_account(session, workspace_id, kind="x", name="@brand",
                                         config=config)
    sent = replay_twcs_as_x(live_server.url, str(account.id), config, sample, pause=0)
    assert sent == len(tweets) > 100
    deadline = time.monotonic() + 20
    count = 0
    while time.monotonic() < deadline and count < len(tweets):
        with runtime.db.session(write=False) as session:
            count = session.scalar(select(func.count()).select_from(Message).where(
                Message.channel_account_id == account.id)) or 0
        time.sleep(0.1)
    with runtime.db.session(write=False) as session:
        predicted = {str(pid): str(conv) for pid, conv in session.execute(
            select(Message.provider_id, Message.conversation_id)
            .where(Message.channel_account_id == account.id))}
        outbound = session.scalar(select(func.count()).select_from(Message).where(
            Message.channel_account_id == account.id, Message.direction == "outbound"))
    assert len(predicted) == len(tweets)
    assert outbound == sum(1 for t in tweets if not t.inbound), "brand rows are echoes"
    precision, recall, _, _ = pairwise(ground_truth(tweets), predicted)
    assert (precision, recall) == (1.0, 1.0)
