"""Save screenshots of the agent desktop to docs/screenshots/: the inbox, a cross-channel
conversation, the customer panel and the supervisor view (and the operations pages, the KPI
dashboards' tabs and a customer's journey).

Runs everything locally: a fresh SQLite database, the provider sandbox, Threadline with one
worker, the demo's customers (signed webhooks over HTTP), a few agent actions, and Debian's
Chromium driven by Playwright.  Usage: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from threadline.config import Settings
from threadline.contacts.models import Customer, Evidence
from threadline.contacts.service import link_identity, record_consent
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor, assign, set_labels, set_status
from threadline.db.base import utcnow
from threadline.db.migrate import upgrade
from threadline.demo.run import ensure_accounts
from threadline.demo.seed_approval import seed_approval
from threadline.demo.seed_queue import seed_queue
from threadline.demo.seed_routing import seed_routing
from threadline.demo.traffic import Traffic
from threadline.events.models import InboundEvent, OutboxJob
from threadline.hops.records.callbacks import request_callback
from threadline.jobs.runtime import Runtime
from threadline.outbound.actions import request_action
from threadline.outbound.replies import Reply, post_reply
from threadline.sandbox.core import create_app as create_sandbox
from threadline.sandbox.providers import twilio as twilio_sandbox
from threadline.web.app import create_app
from threadline.workspace.models import Agent
from threadline.workspace.service import create_agent, create_team, get_or_create_default_workspace
from threadline.workspace.templates import create_template

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "screenshots-only-password"  # noqa: S105 - a throwaway local demo login


def serve(app: Any) -> tuple[uvicorn.Server, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def settle(runtime: Runtime, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.db.session(write=False) as s:
            busy = s.scalar(select(func.count()).select_from(InboundEvent).where(
                InboundEvent.status == "pending")) or 0
            busy += s.scalar(select(func.count()).select_from(OutboxJob).where(
                OutboxJob.status == "pending", OutboxJob.due_at <= utcnow())) or 0
        if not busy:
            return
        time.sleep(0.2)


def play_customers(runtime: Runtime, base_url: str, accounts: dict[str, Any]) -> None:
    traffic = Traffic(base_url, accounts, pause=0)
    with httpx.Client(base_url=base_url, timeout=15) as http:
        for scenario in traffic.script["scenarios"]:
            for step in scenario:
                hook = traffic.webhook(step)
                http.request(hook.method, hook.path, content=hook.body, headers=hook.headers)
                settle(runtime)


def agent_work(runtime: Runtime, workspace_id: uuid.UUID) -> dict[str, Any]:
    with runtime.db.session() as s:
        social, billing = create_team(s, workspace_id, "Social"), create_team(s, workspace_id,
                                                                               "Billing")
        dana, _ = create_agent(s, workspace_id, email="dana@acme.example", role="admin",
                               name="Dana Reyes", password=PASSWORD)
        omar, _ = create_agent(s, workspace_id, email="omar@acme.example", role="agent",
                               name="Omar Haddad")
        create_agent(s, workspace_id, email="kim@acme.example", role="supervisor",
                     name="Kim Novak")
        create_template(s, workspace_id, name="Move to DM",
                        body="Hi {first_name}, sorry about this! Please send us a DM with "
                             "your order number and we'll sort it out.",
                        visibilities=["public"], created_by=dana.id)
        convs = list(s.scalars(select(Conversation).where(
            Conversation.workspace_id == workspace_id).order_by(Conversation.created_at)))
        names = {c.id: c.name for c in s.scalars(select(Customer).where(
            Customer.workspace_id == workspace_id))}
        ids = {}
        for n, conv in enumerate(convs):
            who = (names.get(conv.customer_id) or "").split(" ")[0].lower()
            ids.setdefault(who, conv.id)
            conv.sla_due_at = utcnow() + timedelta(minutes=[-12, 25, 50, 140, 300, 600][n % 6])
            conv.team_id = (social if conv.origin_visibility == "public" else billing).id
            conv.priority = [2, 3, 4, 1, 4, 3][n % 6]  # P1 (most urgent) .. P4
        actor = Actor("agent", str(dana.id), agent_id=dana.id)
        maya = ids.get("maya")
        if maya:
            post_reply(s, workspace_id, maya, Reply(
                text="Hi Maya, sorry for the wait! Could you DM us the order number so we "
                     "can check the express shipment?", visibility="public"), actor)
            post_reply(s, workspace_id, maya, Reply(
                text="Express label printed Friday, carrier scan missing. Asked the depot.",
                kind="note"), actor)
            conv = s.get(Conversation, maya)
            assign(s, conv, dana.id, actor)
            set_labels(s, conv, ["shipping", "express"], actor)
        if ids.get("tom"):
            assign(s, s.get(Conversation, ids["tom"]), omar.id, actor)
        if ids.get("raj"):
            set_status(s, s.get(Conversation, ids["raj"]), "resolved", actor)
        if ids.get("lena"):
            set_labels(s, s.get(Conversation, ids["lena"]), ["refund"], actor)
    settle(runtime)
    with runtime.db.session() as s:  # the DM reply once the public one went out
        if ids.get("maya"):
            dm = s.scalar(select(Message).where(Message.conversation_id == ids["maya"],
                                                Message.visibility == "private",
                                                Message.direction == "inbound"))
            if dm is not None:
                post_reply(s, workspace_id, ids["maya"], Reply(
                    text="Thanks Maya! The parcel is at the Oslo depot and goes out "
                         "tomorrow morning. Shipping refunded.", visibility="private",
                    channel_account_id=dm.channel_account_id), actor)
    settle(runtime)
    with runtime.db.session() as s:  # an agent hides a public comment (moderation)
        comment = s.scalar(select(Message).where(
            Message.workspace_id == workspace_id, Message.channel == "facebook",
            Message.visibility == "public", Message.direction == "inbound",
            Message.kind == "comment").order_by(Message.created_at))
        hidden = comment.conversation_id if comment is not None else None
        if comment is not None:
            request_action(s, workspace_id, comment.conversation_id, comment.id, "hide", actor)
    settle(runtime)
    with runtime.db.session() as s:  # two customers asked to be called back (callbacks page)
        for n, conv in enumerate(convs[:2]):
            number = f"+44 20 7946 0{n + 1}23"
            if conv.customer_id is not None:
                record_consent(s, workspace_id, conv.customer_id, kind="phone", address=number,
                               purpose="callback", method="verbal",
                               wording="You may call me back on this number")
                request_callback(s, workspace_id, s.get(Conversation, conv.id), phone=number,
                                 window_start=utcnow() + timedelta(hours=1 + n),
                                 window_end=None, actor_type="agent", actor_id=str(dana.id))
    with runtime.db.session(write=False) as s:
        customer = s.get(Conversation, ids["maya"]).customer_id if ids.get("maya") else None
    return {"maya": ids.get("maya"), "tom": ids.get("tom"), "customer": customer,
            "hidden": hidden}


def signed_in(pw: Any, base_url: str, *, email: str = "dana@acme.example",
              height: int = 860) -> tuple[Any, Any]:
    """Debian's Chromium, and a page signed in to the desktop as `email`."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    page = browser.new_context(base_url=base_url,
                               viewport={"width": 1440, "height": height}).new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox")
    return browser, page


def shoot(base_url: str, ids: dict[str, Any]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as pw:
        browser, page = signed_in(pw, base_url)
        for name, url in (("inbox", f"/conversations/{ids['tom']}"),
                          ("conversation", f"/conversations/{ids['maya']}"),
                          ("customer", f"/customers/{ids['customer']}"),
                          ("supervisor", "/supervisor"),
                          *((("moderation", f"/conversations/{ids['hidden']}"),)
                            if ids.get("hidden") else ()),
                          ("callbacks", "/callbacks")):
            page.goto(url)
            page.wait_for_load_state("networkidle") if name != "conversation" else None
            page.wait_for_timeout(600)
            path = OUT / f"{name}.png"
            page.screenshot(path=str(path))
            shots.append(path)
        shots += queue_shots(page)
        browser.close()
    return shots


def shoot_pages(base_url: str, pages: Sequence[tuple[str, ...]], *,
                email: str = "dana@acme.example", tallest: int = 3200,
                settle_ms: int = 800) -> list[Path]:
    """Full-page shots of `(name, url)` pages, signed in as `email` (the demo's admin by
    default): the operations settings, the supervisor's boards, the dashboards."""
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as pw:
        browser, page = signed_in(pw, base_url, email=email, height=1000)
        for name, url, *part in pages:
            page.set_viewport_size({"width": 1440, "height": 1000})
            page.goto(url)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(settle_ms)
            if part:  # one element of the page (a card in a sidebar that scrolls)
                element = page.locator(part[0])
                element.scroll_into_view_if_needed()
                path = OUT / f"{name}.png"
                element.screenshot(path=str(path))
                shots.append(path)
                continue
            # the desktop scrolls inside its main pane: grow the window to the page's height
            height = page.evaluate("Math.max(...[...document.querySelectorAll('main, .page,"
                                   " body')].map(e => e.scrollHeight))")
            page.set_viewport_size({"width": 1440,
                                    "height": max(1000, min(int(height), tallest))})
            page.wait_for_timeout(300)
            path = OUT / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
        browser.close()
    return shots


ROUTING_PAGES = (("routing-teams", "/settings/teams"),
                 ("routing-rules", "/settings/routing?edit=first"),
                 ("routing-supervisor", "/supervisor"))
APPROVAL_PAGES = (("approval-settings", "/settings/approval"), ("approval-queue", "/approvals"),
                  ("automation-rules", "/settings/automation"))
FEEDBACK_PAGES = (("csat-settings", "/settings/csat"), ("quality-settings", "/settings/quality"),
                  ("quality-queue", "/quality"))
SLA_PAGES = (("sla-business-hours", "/settings/business-hours"),
             ("sla-service-levels", "/settings/service-levels"),
             ("sla-supervisor", "/supervisor"))


def prepare_feedback(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    """Satisfaction surveys on (as in the demo) and the quality sampler's pick of the resolved
    conversations (docs/screenshots/csat-settings.png, quality-*.png)."""
    from threadline.conversations.service import SYSTEM
    from threadline.csat.settings import CsatSettings, set_csat_settings
    from threadline.quality.sampling import run_sample

    with runtime.db.session() as s:
        set_csat_settings(s, workspace_id, CsatSettings(enabled=True, delay_minutes=1), SYSTEM)
    run_sample(runtime)


def prepare_service_levels(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    """The demo's business hours and policies, then the scanner three days ahead so the
    supervisor's breaches and warnings have rows (docs/screenshots/sla-*.png)."""
    from threadline.demo.seed_sla import seed_service_levels
    from threadline.sla.engine import scan

    with runtime.db.session() as s:
        seed_service_levels(s, workspace_id)
    settle(runtime)  # the recomputation gives every open conversation its clocks
    scan(runtime, now=utcnow() + timedelta(days=3))
    settle(runtime)


def queue_shots(page: Any) -> list[Path]:
    """The agents' queue with its P-chips, and the Mentions view (docs/queues.md)."""
    shots = []
    for name, url in (("queue-inbox", "/inbox"), ("queue-mentions", "/inbox?view=mentions")):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(600)
        path = OUT / f"{name}.png"
        page.screenshot(path=str(path))
        shots.append(path)
    return shots


DASHBOARD_TABS = ("quantity", "quality", "feedback", "outcome", "economics", "journeys")


def prepare_dashboards(runtime: Runtime) -> dict[str, Any]:
    """A second workspace with 60 days of history (the KPI benchmark's generator: 6,000
    conversations, 60,000 messages) and its admin, for docs/screenshots/dashboards-*.png."""
    from threadline.bench.kpis import fill
    from threadline.workspace.service import create_workspace

    with runtime.db.session() as s:
        workspace_id = create_workspace(s, "Acme analytics", "acme-analytics").id
        create_agent(s, workspace_id, email="lee@acme.example", role="admin",
                     name="Lee Analyst", password=PASSWORD)
    data = fill(runtime, workspace_id, conversations=6000, messages=60_000,
                end=utcnow().date(), days=60)
    with runtime.db.session(write=False) as s:
        from threadline.kpis.models import ConversationFacts

        regular = s.execute(
            select(ConversationFacts.customer_id, func.count()).where(
                ConversationFacts.workspace_id == workspace_id)
            .group_by(ConversationFacts.customer_id).order_by(func.count().desc()).limit(1)
        ).first()
    return {"workspace_id": workspace_id, "customer": regular[0] if regular else None,
            **{k: data[k] for k in ("conversations", "messages")}}


def shoot_dashboards(base_url: str, customer: Any) -> list[Path]:
    """Every dashboard tab, a drill-down and a customer's journey, as the analytics admin."""
    pages = [(f"dashboards-{tab}", f"/dashboards/{tab}") for tab in DASHBOARD_TABS]
    pages += [("dashboards-drilldown", "/dashboards/conversations?flag=public_to_private"),
              ("customer-journey", f"/customers/{customer}/journey")]
    return shoot_pages(base_url, pages, email="lee@acme.example", tallest=3600, settle_ms=900)


def prepare_private_ways(runtime: Runtime, workspace_id: uuid.UUID, base_url: str,
                         sandbox_url: str, ids: dict[str, Any]) -> dict[str, Any]:
    """A video call running in Tom's conversation, a secure form Maya answered, a choice link
    offered, and the integrations on (docs/screenshots/video-call.png, secure-*.png,
    choice-link.png, customer-integrations.png, crm-settings.png, customer-data-settings.png).
    """
    from threadline.demo.seed_integrations import seed_integrations
    from threadline.hops.flow import details as details_flow
    from threadline.hops.flow import offers
    from threadline.hops.flow.video import start_video
    from threadline.hops.records.options import set_offered_channels
    from threadline.media.service import take_in
    from threadline.sandbox.providers import jitsi

    for name, value in {"video_base_url": f"{sandbox_url}{jitsi.PREFIX}",
                        "video_jwt_app_id": jitsi.APP_ID, "video_jwt_secret": jitsi.APP_SECRET,
                        "video_jwt_audience": jitsi.AUDIENCE}.items():
        setattr(runtime.settings, name, value)
    seed_integrations(runtime, workspace_id, sandbox_url)
    out: dict[str, Any] = {}
    with runtime.db.session() as s:
        dana = s.scalar(select(Agent.id).where(Agent.email == "dana@acme.example"))
        actor = Actor("agent", str(dana), agent_id=dana)
        set_offered_channels(s, workspace_id, [
            {"kind": "webchat", "label": "Chat with us on our website", "address": ""},
            {"kind": "whatsapp", "label": "WhatsApp", "address": "+44 7700 900123"},
            {"kind": "sms", "label": "Text us", "address": "+44 7700 900456"}],
            actor_type="agent", actor_id=str(dana))
        if ids.get("tom"):
            start_video(s, workspace_id, ids["tom"], actor, agent_name="Dana Reyes",
                        settings=runtime.settings)
        if ids.get("maya"):
            asked = details_flow.request_details(
                s, workspace_id, ids["maya"], ["delivery_address", "order_number"], actor,
                base_url=base_url, note="For the replacement parcel")
            out["details_url"] = asked.url
        public = s.scalar(select(Conversation.id).where(
            Conversation.workspace_id == workspace_id, Conversation.origin_visibility == "public",
            Conversation.status == "open").order_by(Conversation.created_at.desc()).limit(1))
        if public is not None:
            offered = offers.offer(s, workspace_id, public, method="choice_link",
                                   reason="customer_choice", actor=actor, base_url=base_url)
            out["choice_url"] = offered.url
        if ids.get("tom"):  # the returns label and a photo of how to pack it, sent on WhatsApp
            photo, label = _sample_files()
            files = [take_in(s, runtime.settings, workspace_id=workspace_id, data=data,
                             name=name, declared_type=mime, channel="whatsapp",
                             source="upload", conversation_id=ids["tom"],
                             created_by=str(dana)).id
                     for data, name, mime in ((photo, "how-to-pack.jpg", "image/jpeg"),
                                              (label, "returns-label.pdf", "application/pdf"))]
            whatsapp = s.scalar(select(Message.channel_account_id).where(
                Message.conversation_id == ids["tom"], Message.channel == "whatsapp"))
            for file_id, text in zip(files, ("This is how to pack it:", "Your returns label:"),
                                     strict=True):  # on WhatsApp, not on the call's line
                post_reply(s, workspace_id, ids["tom"], Reply(
                    text=text, visibility="private", attachment_ids=(file_id,),
                    channel_account_id=whatsapp), actor)
    settle(runtime)
    if out.get("details_url"):
        path = "/" + out["details_url"].split("/", 3)[3]
        out["details_path"] = path
        httpx.post(base_url + path, data={
            "delivery_address": "Flat 3, 22 Kongens gate\n0153 Oslo\nNorway",
            "order_number": "AC-20931", "consent": "yes"}, timeout=10)
    settle(runtime)
    return out


def _sample_files() -> tuple[bytes, bytes]:
    """A made-up photo (a parcel on a table) and a one-page PDF label."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 420), (214, 200, 176))
    draw = ImageDraw.Draw(image)
    draw.rectangle((170, 110, 470, 330), fill=(176, 132, 84), outline=(120, 86, 50), width=6)
    draw.line((170, 220, 470, 220), fill=(230, 220, 160), width=14)
    draw.rectangle((330, 240, 450, 310), fill=(250, 250, 250))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    pdf = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
           b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
           b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]>>endobj\n"
           b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return buf.getvalue(), pdf


def shoot_private_ways(base_url: str, ids: dict[str, Any], ways: dict[str, Any]) -> list[Path]:
    shots = shoot_pages(base_url, [
        ("video-call", f"/conversations/{ids['tom']}"),
        ("secure-details", f"/conversations/{ids['maya']}", "#secure-details"),
        ("customer-integrations", f"/customers/{ids['customer']}"),
        ("crm-settings", "/settings/crm"),
        ("webhooks-settings", "/settings/webhooks"),
        ("media-timeline", f"/conversations/{ids['tom']}", "#timeline"),
        ("customer-data-settings", "/settings/customer-data")], tallest=1400)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:  # the customer's side: not signed in, a phone's width
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_context(viewport={"width": 480, "height": 900}).new_page()
        for name, url in (("choice-link", ways.get("choice_url")),):
            if not url:
                continue
            page.goto(url)
            page.wait_for_load_state("networkidle")
            path = OUT / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
        browser.close()
    return shots


def shoot_phone(runtime: Runtime, workspace_id: uuid.UUID, base_url: str,
                accounts: dict[str, Any]) -> list[Path]:
    """Tom, who praised the app on X, calls: the inbox's call pop-up, then the call's
    conversation with his X posts, the kind one highlighted (docs/screenshots/call-*.png)."""
    from playwright.sync_api import sync_playwright

    number = "+14155550177"
    with runtime.db.session() as s:  # an agent noted Tom's mobile number on his profile
        tom = s.scalar(select(Message.conversation_id).where(
            Message.workspace_id == workspace_id, Message.channel == "x",
            Message.text.like("%love the new app%")))
        customer_id = s.get(Conversation, tom).customer_id if tom else None
        if customer_id is not None:
            link_identity(s, workspace_id, customer_id, kind="phone", address=number,
                          evidence=Evidence.AGENT, actor_type="agent")
    voice, config = accounts["voice"]
    hook = twilio_sandbox.call_webhook(voice, config, number, base_url=base_url)
    shots = []
    with sync_playwright() as pw:
        browser, page = signed_in(pw, base_url)
        page.wait_for_selector("body[data-live='1']", state="attached", timeout=15_000)
        httpx.post(f"{base_url}{hook.path}", content=hook.body, headers=hook.headers,
                   timeout=15)
        notice = page.locator(".call-notice", has_text="Incoming call")
        notice.wait_for(timeout=20_000)
        page.wait_for_timeout(400)
        for name, step in (("call-popup", None), ("call-history", notice.locator("a"))):
            if step is not None:
                step.click()
                page.wait_for_selector("#social-history", timeout=20_000)
                page.wait_for_timeout(600)
            path = OUT / f"{name}.png"
            page.screenshot(path=str(path))
            shots.append(path)
        browser.close()
    return shots


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="threadline-shots-"))
    try:
        url = f"sqlite:///{tmp / 'shots.db'}"
        settings = Settings(database_url=url, data_dir=tmp, worker_poll_seconds=0.2,
                            allow_custom_provider_urls=True)
        runtime = Runtime.create(settings, database_url=url, redis_url="")
        upgrade(runtime.db)
        _, sandbox_url = serve(create_sandbox())
        with runtime.db.session() as s:
            workspace_id = get_or_create_default_workspace(s).id
        accounts = ensure_accounts(runtime, workspace_id, sandbox_url)
        seed_queue(runtime, workspace_id, accounts)
        server, base_url = serve(create_app(runtime, workers=1))
        play_customers(runtime, base_url, accounts)
        ids = agent_work(runtime, workspace_id)
        seed_routing(runtime, workspace_id)  # teams, rules, agents online; waiting work routed
        settle(runtime)
        ways = prepare_private_ways(runtime, workspace_id, base_url, sandbox_url, ids)
        for path in shoot(base_url, ids) + shoot_pages(base_url, ROUTING_PAGES):
            print(path.relative_to(ROOT))
        for path in shoot_private_ways(base_url, ids, ways):
            print(path.relative_to(ROOT))
        seed_approval(runtime, workspace_id, wait_seconds=10)
        for path in shoot_pages(base_url, APPROVAL_PAGES):
            print(path.relative_to(ROOT))
        prepare_service_levels(runtime, workspace_id)
        for path in shoot_pages(base_url, SLA_PAGES):
            print(path.relative_to(ROOT))
        prepare_feedback(runtime, workspace_id)
        for path in shoot_pages(base_url, FEEDBACK_PAGES):
            print(path.relative_to(ROOT))
        for path in shoot_phone(runtime, workspace_id, base_url, accounts):
            print(path.relative_to(ROOT))
        analytics = prepare_dashboards(runtime)
        for path in shoot_dashboards(base_url, analytics["customer"]):
            print(path.relative_to(ROOT))
        server.should_exit = True
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
