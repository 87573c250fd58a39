"""Start everything for a demo: Threadline (web + API + worker, SQLite), the provider
sandbox, customers' live traffic, and optionally a replay of real twcs data."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select

from threadline.config import get_settings
from threadline.conversations.service import SYSTEM
from threadline.csat.settings import SETTING, CsatSettings, set_csat_settings
from threadline.db.migrate import upgrade
from threadline.demo.seed_approval import seed_approval
from threadline.demo.seed_channels import DEMO_WABA, seed_agent_phone, seed_whatsapp_templates
from threadline.demo.seed_community import seed_community
from threadline.demo.seed_incidents import seed_incidents
from threadline.demo.seed_integrations import seed_integrations
from threadline.demo.seed_knowledge import seed_knowledge
from threadline.demo.seed_listening import seed_listening
from threadline.demo.seed_queue import seed_queue
from threadline.demo.seed_routing import seed_routing
from threadline.demo.seed_search import seed_search
from threadline.demo.seed_selfservice import seed_selfservice
from threadline.demo.seed_sla import seed_service_levels
from threadline.demo.traffic import Traffic
from threadline.jobs.runtime import Runtime
from threadline.sandbox.core import create_app as create_sandbox
from threadline.sandbox.providers import jitsi as sandbox_jitsi
from threadline.web.app import create_app
from threadline.web.proxies import run_server
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import (
    create_agent,
    create_channel_account,
    create_token,
    get_or_create_default_workspace,
)


def demo_accounts(sandbox_url: str) -> dict[str, dict[str, Any]]:
    """Channel accounts of the demo company, every API pointed at the sandbox."""
    return {
        "x": {"consumer_key": "demo-key", "consumer_secret": secrets.token_hex(16),
              "access_token": "demo-token", "access_token_secret": secrets.token_hex(16),
              "user_id": "4400000001", "api_base_url": f"{sandbox_url}/x"},
        "facebook": {"app_secret": secrets.token_hex(16), "verify_token": "demo-verify",
                     "access_token": "demo-page-token", "page_id": "3300000001",
                     "api_base_url": f"{sandbox_url}/meta"},
        "whatsapp": {"app_secret": secrets.token_hex(16), "verify_token": "demo-verify",
                     "access_token": "demo-wa-token", "phone_number_id": "2200000001",
                     "waba_id": DEMO_WABA, "api_base_url": f"{sandbox_url}/meta"},
        "sms": {"account_sid": "AC" + "0" * 32, "auth_token": secrets.token_hex(16),
                "from_number": "+14155550000", "api_base_url": f"{sandbox_url}/twilio"},
        "voice": {"account_sid": "AC" + "1" * 32, "auth_token": secrets.token_hex(16),
                  "from_number": "+14155550001", "voicemail": True,
                  "api_base_url": f"{sandbox_url}/twilio"},
        "telegram": {"bot_token": "1000001:demo", "secret_token": secrets.token_hex(16),
                     "api_base_url": f"{sandbox_url}/telegram"},
        "api": {"secret": secrets.token_hex(16), "identity_kind": "x",
                "outbound_url": f"{sandbox_url}/api/outbound"},
        "webchat": {"title": "Acme support"},
    }


def ensure_accounts(runtime: Runtime, workspace_id: uuid.UUID,
                    sandbox_url: str) -> dict[str, tuple[str, dict[str, Any]]]:
    wanted = demo_accounts(sandbox_url)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    with runtime.db.session() as session:
        existing = {a.kind: a for a in session.scalars(select(ChannelAccount).where(
            ChannelAccount.workspace_id == workspace_id,
            ChannelAccount.name.like("Demo %")))}
        for kind, config in wanted.items():
            account = existing.get(kind)
            if account is None:
                account = create_channel_account(session, workspace_id, kind=kind,
                                                 name=f"Demo {kind}", config=config)
            else:  # the sandbox may run on another port this time
                account.config = {**account.config, "api_base_url": config.get(
                    "api_base_url", account.config.get("api_base_url")),
                    **({"outbound_url": config["outbound_url"]} if kind == "api" else {})}
            out[kind] = (str(account.id), dict(account.config))
    return out


def _serve_in_thread(app: Any, host: str, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True, name="sandbox").start()
    while not server.started:
        time.sleep(0.05)
    return server


def _replay(runtime: Runtime, workspace_id: uuid.UUID, path: Path) -> None:
    from threadline.ingest.replay import (
        chunks,
        read_twcs,
        replay_account,
        store_events,
        twcs_files,
        tweet_event,
    )

    with runtime.db.session() as session:
        account = replay_account(session, workspace_id, name="twcs replay (demo)")
    tweets = [t for f in twcs_files(path) for t in read_twcs(f)]
    for events in chunks((tweet_event(t) for t in tweets), 50):
        with runtime.db.session() as session:
            store_events(session, account, events)
        time.sleep(0.2)


def run_demo(*, host: str = "127.0.0.1", port: int = 8000,
             replay_path: Path | None = None) -> None:
    sandbox_port = port + 1
    sandbox_url = f"http://{host}:{sandbox_port}"
    # Every demo account calls the local sandbox, not the providers' official hosts; video
    # calls open rooms on the sandbox's token-checking Jitsi unless one is configured.
    settings = get_settings()
    update: dict[str, object] = {"allow_custom_provider_urls": True}
    if "video_base_url" not in settings.model_fields_set:
        update.update(video_base_url=f"{sandbox_url}{sandbox_jitsi.PREFIX}",
                      video_jwt_app_id=sandbox_jitsi.APP_ID,
                      video_jwt_secret=sandbox_jitsi.APP_SECRET,
                      video_jwt_audience=sandbox_jitsi.AUDIENCE)
    runtime = Runtime.create(settings.model_copy(update=update))
    upgrade(runtime.db)
    _serve_in_thread(create_sandbox(), host, sandbox_port)
    with runtime.db.session() as session:
        ws = get_or_create_default_workspace(session)
        workspace_id = ws.id
        _, token = create_token(session, workspace_id, role="admin", name="demo")
        email = f"demo-{secrets.token_hex(3)}@threadline.example"
        admin, password = create_agent(session, workspace_id, email=email, role="admin",
                                       name="Demo Admin")
        admin_id = admin.id
        seed_service_levels(session, workspace_id)  # business hours and two SLA policies
        if SETTING not in (ws.settings or {}):  # satisfaction surveys a minute after resolving
            set_csat_settings(session, workspace_id,
                              CsatSettings(enabled=True, delay_minutes=1), SYSTEM)
    accounts = ensure_accounts(runtime, workspace_id, sandbox_url)
    seed_queue(runtime, workspace_id, accounts)  # mentions, competitors, chatter: their views
    seed_routing(runtime, workspace_id)  # teams Care and Español, rules, agents online
    seed_integrations(runtime, workspace_id, sandbox_url)  # the shop's lookup, HubSpot
    seed_whatsapp_templates(runtime, workspace_id, accounts["whatsapp"][0])
    seed_agent_phone(runtime, admin_id)  # click-to-call rings the demo admin first
    seed_knowledge(runtime, workspace_id)  # help-centre articles in English and Spanish
    seed_selfservice(runtime, workspace_id)  # the bot answers the web chat from them
    seed_community(runtime, workspace_id, sandbox_url)  # forum topics: one escalated
    seed_listening(runtime, workspace_id, accounts)  # listened posts, an opportunity, noise
    seed_search(runtime, workspace_id)  # the search box finds the seeded conversations
    base_url = f"http://{host}:{port}"
    traffic = Traffic(base_url, accounts)
    app = create_app(runtime)
    # The first webhook goes out a few seconds from now, once the server listens.
    threading.Thread(target=traffic.run, daemon=True, name="demo-traffic").start()
    threading.Thread(target=seed_approval, args=(runtime, workspace_id), daemon=True).start()
    seed_incidents(runtime, workspace_id, base_url, accounts)  # an outage: one incident card
    if replay_path is not None:
        threading.Thread(target=_replay, args=(runtime, workspace_id, replay_path),
                         daemon=True, name="demo-replay").start()

    print(f"\nThreadline demo is running at {base_url}/", flush=True)
    print(f"  login:     {email} / {password}", flush=True)
    print(f"  API token: {token}", flush=True)
    print(f"  web chat:  {base_url}/webchat/{accounts['webchat'][0]}  (be the customer)",
          flush=True)
    print(f"  help:      {base_url}/help/{workspace_id}  (the public help centre)", flush=True)
    print(f"  API docs:  {base_url}/api/v1/docs   sandbox: {sandbox_url}/_sandbox/calls\n",
          flush=True)
    try:
        run_server(app, runtime.settings, host=host, port=port, log_level="warning")
    finally:
        traffic.stop.set()
