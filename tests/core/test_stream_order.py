"""The live stream under out-of-order commits (decision 0317). Two writers: the first inserts
its event and holds its transaction open, the second inserts after it and commits first. A
reader that read "id > last id seen" jumped past the first event for good; reading by
position, given after commit, it gets both, each once."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from threadline.events.models import StreamEvent
from threadline.events.service import latest_stream_position, publish
from threadline.web.events_stream import _fetch


def _names(items):
    return [item["event"] for item in items]


def test_an_event_committed_late_is_not_skipped(runtime, workspace_id):
    db = runtime.db
    with db.session(write=False) as session:
        start = latest_stream_position(session, workspace_id)
    first_open = threading.Event()
    release_first = threading.Event()
    first_done = threading.Event()

    def first_writer():
        with db.session() as session:
            publish(session, workspace_id, "test.first", {"n": 1})
            session.flush()
            first_open.set()
            release_first.wait(timeout=30)
        first_done.set()

    writer = threading.Thread(target=first_writer)
    writer.start()
    assert first_open.wait(timeout=30)

    second_done = threading.Event()

    def second_writer():
        with db.session() as session:
            publish(session, workspace_id, "test.second", {"n": 2})
        second_done.set()

    other = threading.Thread(target=second_writer)
    other.start()
    if db.dialect == "sqlite":
        # one writer at a time: the second waits for the first, so ids are in commit order
        assert not second_done.wait(timeout=0.5)
        release_first.set()
        writer.join(timeout=30)
        other.join(timeout=30)
        assert _names(_fetch(runtime, workspace_id, start)) == ["test.first", "test.second"]
        return

    assert second_done.wait(timeout=30)  # committed while the first is still open
    seen = _fetch(runtime, workspace_id, start)
    assert _names(seen) == ["test.second"]
    cursor = int(seen[-1]["id"])

    release_first.set()
    writer.join(timeout=30)
    assert first_done.is_set()
    with db.session(write=False) as session:
        ids = dict(session.execute(select(StreamEvent.name, StreamEvent.id).where(
            StreamEvent.workspace_id == workspace_id,
            StreamEvent.name.in_(["test.first", "test.second"]))).all())
    assert ids["test.first"] < ids["test.second"]  # the late one has the lower id
    later = _fetch(runtime, workspace_id, cursor)
    assert _names(later) == ["test.first"]  # delivered, once, after what was read before
    assert int(later[-1]["id"]) > cursor
    assert _fetch(runtime, workspace_id, int(later[-1]["id"])) == []
    # the cursor of before ("id > last id seen") would have skipped it for good
    with db.session(write=False) as session:
        after_last_id = list(session.scalars(select(StreamEvent.name).where(
            StreamEvent.workspace_id == workspace_id,
            StreamEvent.id > ids["test.second"])))
    assert "test.first" not in after_last_id


def test_many_writers_committing_in_any_order_are_each_read_once(runtime, workspace_id):
    """Twelve writers that hold their transactions for random times; a reader polling all
    along gets every event exactly once."""
    import random

    rng = random.Random(7)
    holds = [rng.uniform(0, 0.3) for _ in range(12)]
    start = 0
    got: list[str] = []
    stop = threading.Event()

    def reader():
        nonlocal start
        while not stop.is_set():
            items = _fetch(runtime, workspace_id, start)
            if items:
                got.extend(item["event"] for item in items)
                start = int(items[-1]["id"])
            time.sleep(0.01)

    def writer(i: int, hold: float):
        with runtime.db.session() as session:
            publish(session, workspace_id, f"test.w{i}", {"i": i})
            session.flush()
            time.sleep(hold)

    watcher = threading.Thread(target=reader)
    watcher.start()
    writers = [threading.Thread(target=writer, args=(i, h)) for i, h in enumerate(holds)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=60)
    time.sleep(0.3)
    stop.set()
    watcher.join(timeout=10)
    got += [item["event"] for item in _fetch(runtime, workspace_id, start)]
    assert sorted(got) == sorted(f"test.w{i}" for i in range(12))
