"""An outage end to end over real HTTP: the provider sandbox posts 300 similar X mentions and
50 similar Facebook comments (spread over ten minutes of post time) and 40 unrelated posts
to Threadline; a `threadline worker` process groups them into one incident with the right
350 members; one supervisor writes the answer, another approves it (the workspace holds
public replies for approval, so nobody approves his own); Threadline replies to every post
one by one at the pace set for each channel, honours an injected 429's Retry-After, is
SIGKILLed half-way and restarted without sending any reply twice; a late post is answered
automatically; closing sends one follow-up to all and resolves the held conversations."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import LiveServer
from tests.e2e.conftest import E2E, wait_for
from tests.incidents.helpers import supervisor_token
from threadline.conversations.models import Conversation
from threadline.incidents.models import IncidentPost
from threadline.incidents.samples import outage_posts, unrelated_posts
from threadline.sandbox.providers import meta as sandbox_meta
from threadline.sandbox.providers import x as sandbox_x
from threadline.web.app import create_app

OWN_ID = "4242424242"
PAGE_ID = "5151515151"
PACE = 1200  # replies a minute per account: 20 a second
X_POSTS, FB_POSTS, OTHERS = 300, 50, 40
WAIT = 600  # seconds: a loaded machine is slow, a quiet one takes a minute or two


def start_worker(runtime: Any) -> subprocess.Popen[bytes]:
    settings = runtime.settings
    env = dict(os.environ, THREADLINE_DATABASE_URL=settings.database_url,
               THREADLINE_SECRET_KEY=settings.secret_key,
               THREADLINE_ALLOW_CUSTOM_PROVIDER_URLS="true",
               THREADLINE_WORKER_POLL_SECONDS="0.1", THREADLINE_WORKER_BATCH_SIZE="50",
               # the killed worker's leased jobs are taken over after 10 s, not a minute
               THREADLINE_WORKER_LEASE_SECONDS="10",
               THREADLINE_DATA_DIR=str(settings.data_dir))
    env.pop("THREADLINE_REDIS_URL", None)
    if settings.redis_url:
        env["THREADLINE_REDIS_URL"] = settings.redis_url
    return subprocess.Popen([sys.executable, "-m", "threadline.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def max_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.slow
def test_an_outage_is_one_incident_answered_post_by_post_through_a_crash(
        runtime: Any, sandbox: Any, workspace_id: Any) -> None:
    server = LiveServer(create_app(runtime, workers=0)).start()  # the worker runs apart
    workers: list[subprocess.Popen[bytes]] = []
    admin_token, _ = supervisor_token(runtime, workspace_id, "admin")
    e2e = E2E(server, sandbox, admin_token)
    try:
        tag = e2e.tag
        x_config = {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
                    "access_token": f"{OWN_ID}-token", "access_token_secret": "ats",
                    "user_id": OWN_ID, "api_base_url": e2e.sandbox_url("/x")}
        fb_config = {"app_secret": "sandbox_app_secret", "verify_token": "vt",
                     "access_token": "EAAG-token", "api_base_url": e2e.sandbox_url("/meta"),
                     "page_id": PAGE_ID}
        x_account = e2e.account("x", x_config)
        fb_account = e2e.account("facebook", fb_config)
        assert e2e.api.put("/settings/incidents", json={
            "pace_per_minute": {"x": PACE, "facebook": PACE}}).status_code == 200
        assert e2e.api.put("/settings/approval-policy", json={"all": True}).status_code == 200

        workers.append(start_worker(runtime))
        # --- 390 posts over ten minutes of post time -----------------------------------------
        start = datetime.now(UTC) - timedelta(minutes=10)
        rng = random.Random(18)
        posts: list[tuple[str, str, str, bool]] = []  # (kind, id, text, outage)
        for n, text in enumerate(outage_posts(X_POSTS, seed=1, brand="@brand")):
            posts.append(("x", f"9{rng.randrange(10**17):017d}{n}", text, True))
        for n, text in enumerate(outage_posts(FB_POSTS, seed=2, brand="")):
            posts.append(("fb", f"{PAGE_ID}{n:05d}_{rng.randrange(10**9)}", text, True))
        for n, text in enumerate(unrelated_posts(OTHERS, seed=3, brand="@brand")):
            kind = "x" if n % 2 else "fb"
            pid = (f"8{rng.randrange(10**17):017d}{n}" if kind == "x"
                   else f"{PAGE_ID}{n:05d}_{rng.randrange(10**9)}")
            posts.append((kind, pid, text, False))
        rng.shuffle(posts)
        for n, (kind, pid, text, _outage) in enumerate(posts):
            at = start + timedelta(seconds=n * 600 / len(posts))
            if kind == "x":
                hook = sandbox_x.mention_webhook(x_account, x_config, pid, f"7{n:08d}",
                                                 f"cust{n}", f"{text} {tag}", created_at=at)
            else:
                hook = sandbox_meta.page_comment_webhook(
                    fb_account, fb_config, text=f"{text} {tag}", comment_id=pid,
                    post_id=f"{PAGE_ID}_1", from_id=f"6{n:08d}", from_name=f"Fan {n}",
                    created_time=int(at.timestamp()))
            assert e2e.post(hook).status_code == 200
        outage_ids = {pid for _k, pid, _t, outage in posts if outage}

        def seen() -> int:
            with runtime.db.session(write=False) as s:
                return int(s.scalar(select(func.count()).select_from(IncidentPost).where(
                    IncidentPost.workspace_id == workspace_id)) or 0)
        wait_for(lambda: seen() >= len(posts), timeout=WAIT, what="every post placed")

        # --- one incident, the right members -------------------------------------------------
        [incident] = e2e.api.get("/incidents").json()["incidents"]
        incident_id = uuid.UUID(incident["id"])
        detail = e2e.api.get(f"/incidents/{incident['id']}").json()
        with runtime.db.session(write=False) as s:
            from threadline.conversations.models import Message
            member_pids = set(s.scalars(select(Message.provider_id).join(
                IncidentPost, IncidentPost.message_id == Message.id).where(
                IncidentPost.incident_id == incident_id)))
        right = len(member_pids & outage_ids)
        precision, recall = right / len(member_pids), right / len(outage_ids)
        print(f"grouping: {len(member_pids)} members, precision {precision:.3f}, "
              f"recall {recall:.3f}")
        assert precision >= 0.95 and recall >= 0.95
        assert detail["members_by_channel"].keys() == {"x", "facebook"}

        # --- one answer, approved by another supervisor ----------------------------------------
        writer, _ = supervisor_token(runtime, workspace_id)
        approver, _ = supervisor_token(runtime, workspace_id)
        as_writer, as_approver = E2E(server, sandbox, writer), E2E(server, sandbox, approver)
        answer = f"We know the app login is failing and are fixing it now {tag}"
        put = as_writer.api.put(f"/incidents/{incident['id']}/answer", json={"text": answer})
        assert put.status_code == 200, put.text
        own = as_writer.api.post(f"/incidents/{incident['id']}/answer/approve")
        assert own.status_code == 403 and own.json()["error"]["code"] == "own_reply"
        assert as_approver.api.post(
            f"/incidents/{incident['id']}/answer/approve").status_code == 200
        e2e.fault("x", "/2/tweets", 429, retry_after=1)  # the first reply is refused once
        assert as_approver.api.post(f"/incidents/{incident['id']}/confirm").status_code == 200

        def replies(provider: str, path: str, text: str) -> list[dict[str, Any]]:
            return e2e.calls(provider, method="POST", path_contains=path, text=text)

        # --- the worker dies half-way and comes back ---------------------------------------------
        wait_for(lambda: len(replies("x", "/2/tweets", answer)) >= 80, timeout=WAIT,
                 what="the first replies")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        workers.append(start_worker(runtime))

        def unknown() -> set[str]:
            """Posts whose send the kill left unknown on a provider that cannot be asked
            (Meta): never sent again, marked for an agent to check (outbound/sender.py)."""
            with runtime.db.session(write=False) as s:
                from threadline.conversations.models import Message
                found = s.scalars(select(Message).where(
                    Message.workspace_id == workspace_id, Message.delivery == "failed"))
                return {m.reply_to_provider_id or "" for m in found
                        if (m.meta or {}).get("send", {}).get("last_code")
                        == "delivery_unknown"}

        def all_answered() -> bool:
            x_calls = replies("x", "/2/tweets", answer)
            fb_calls = replies("meta", "/comments", answer)
            return len({c["json"]["reply"]["in_reply_to_tweet_id"] for c in x_calls}
                       | {c["path"].split("/")[2] for c in fb_calls}
                       | unknown()) >= len(member_pids)
        wait_for(all_answered, timeout=WAIT, what="every member answered")
        time.sleep(1.0)  # anything sent twice would land now
        x_calls = replies("x", "/2/tweets", answer)
        fb_calls = replies("meta", "/comments", answer)
        per_post = Counter([c["json"]["reply"]["in_reply_to_tweet_id"] for c in x_calls]
                           + [c["path"].split("/")[2] for c in fb_calls])
        lost = unknown()
        assert len(lost) <= 1 and set(per_post) | lost == member_pids
        # a send the kill left unknown may have reached the provider once (recorded above);
        # it is marked for an agent and never made again: counted once at most, like the rest
        # Called twice: only the reply refused with the 429. An X send the kill left in
        # flight is looked up on X before anything is sent again (outbound reconciliation):
        # found, it is never made a second time.
        twice = [pid for pid, n in per_post.items() if n > 1]
        assert len(twice) == 1 and max(per_post.values()) == 2, per_post.most_common(3)
        refused = [c for c in x_calls if c["json"]["reply"]["in_reply_to_tweet_id"] in twice]
        gaps = [b["at"] - a["at"] for pid in twice
                for a, b in [[c for c in refused
                              if c["json"]["reply"]["in_reply_to_tweet_id"] == pid][:2]]]
        assert max(gaps) >= 0.9, "Retry-After honoured"
        for calls in (x_calls, fb_calls):
            assert max_in_a_second([c["at"] for c in calls]) <= PACE // 60 + 1

        # --- a late post gets the current answer automatically -----------------------------------
        late = "9" + "".join(rng.choice("0123456789") for _ in range(18))
        e2e.post(sandbox_x.mention_webhook(x_account, x_config, late, "7999999", "latecomer",
                                           f"@brand is the app down? login fails {tag}"))
        wait_for(lambda: any(c["json"]["reply"]["in_reply_to_tweet_id"] == late
                             for c in replies("x", "/2/tweets", answer)), timeout=WAIT,
                 what="the late post answered")

        # --- closing: one follow-up to all, the held conversations resolved --------------------
        followup = f"It is fixed: the app login works again. Thank you {tag}"
        closed = as_approver.api.post(f"/incidents/{incident['id']}/close",
                                      json={"text": followup})
        assert closed.status_code == 200, closed.text
        total = len(member_pids) + 1
        wait_for(lambda: len(replies("x", "/2/tweets", followup))
                 + len(replies("meta", "/comments", followup)) >= total, timeout=WAIT,
                 what="the follow-up to all")
        time.sleep(1.0)
        follow = Counter([c["json"]["reply"]["in_reply_to_tweet_id"]
                          for c in replies("x", "/2/tweets", followup)]
                         + [c["path"].split("/")[2] for c in replies("meta", "/comments",
                                                                     followup)])
        assert len(follow) == total and max(follow.values()) == 1
        with runtime.db.session(write=False) as s:
            statuses = Counter(s.scalars(select(Conversation.status).join(
                IncidentPost, IncidentPost.conversation_id == Conversation.id).where(
                IncidentPost.incident_id == incident_id)))
        assert set(statuses) == {"resolved"}, statuses
        final = e2e.api.get(f"/incidents/{incident['id']}").json()
        assert final["status"] == "closed" and final["member_count"] == total
    finally:
        for w in workers:
            stop(w)
        e2e.close()
        server.stop()
