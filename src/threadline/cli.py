"""The `threadline` command line (docs/design.md)."""

from __future__ import annotations

import gc
import importlib
import json
import logging
import signal
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from sqlalchemy.orm import Session

from threadline.config import get_settings
from threadline.db.migrate import upgrade
from threadline.handlers import install as install_pipeline
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.logs import configure as configure_logs

app = typer.Typer(help="Threadline: social customer care in one desktop.", no_args_is_help=True)
accounts_app = typer.Typer(help="Channel accounts.")
agents_app = typer.Typer(help="Agents.")
tokens_app = typer.Typer(help="API tokens.")
customers_app = typer.Typer(help="Data-subject requests: export or erase a customer.")
app.add_typer(accounts_app, name="accounts")
app.add_typer(customers_app, name="customers")
app.add_typer(agents_app, name="agents")
app.add_typer(tokens_app, name="tokens")
keys_app = typer.Typer(help="Encryption keys of the credentials at rest.")
app.add_typer(keys_app, name="keys")

BENCHES = {
    "ingest": "threadline.bench.ingest",
    "threading": "threadline.bench.thread_accuracy",
    "triage": "threadline.bench.triage",
    "desktop": "threadline.bench.desktop",
    "hostile": "threadline.bench.hostile",
    "guard": "threadline.bench.guard",
}


def _require_shared_secret() -> None:
    """Scaled mode (PostgreSQL or Redis) runs many processes on many hosts: a key file minted
    by each host would split sessions, CSRF and visitor tokens between them."""
    settings = get_settings()
    if settings.scaled and not settings.secret_key:
        typer.echo("error: THREADLINE_SECRET_KEY is not set. With a PostgreSQL database or a "
                   "Redis bus (scaled mode) every web and worker process must be given the same "
                   "secret key, e.g. THREADLINE_SECRET_KEY=$(python -c 'import secrets; "
                   "print(secrets.token_urlsafe(48))')", err=True)
        raise typer.Exit(2)


def _runtime(migrate: bool = True) -> Runtime:
    runtime = Runtime.create()
    if migrate:
        upgrade(runtime.db)
    return runtime


def _ensure_pollers(runtime: Runtime) -> None:
    """Every polling account (IMAP email, X mentions) has its poll job scheduled, and so has
    the purge of raw payloads past their retention."""
    from threadline.ingest.polling import ensure_pollers
    from threadline.jobs.retention import schedule_purge

    with runtime.db.session() as session:
        ensure_pollers(session)
        schedule_purge(session)


def _workspace_id(runtime: Runtime, slug: str | None) -> uuid.UUID:
    from sqlalchemy import select

    from threadline.workspace.models import Workspace
    from threadline.workspace.service import get_or_create_default_workspace

    with runtime.db.session() as session:
        if slug:
            ws = session.scalar(select(Workspace).where(Workspace.slug == slug))
            if ws is None:
                raise typer.BadParameter(f"no workspace {slug!r}")
            return ws.id
        return get_or_create_default_workspace(session).id


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@customers_app.command("export")
def customers_export(customer_id: uuid.UUID, out: Annotated[Path, typer.Option()],
                     workspace: str | None = None) -> None:
    """Write everything about a customer to a JSON file (readable by its owner only)."""
    from threadline.conversations.service import Actor
    from threadline.subjects.service import export_customer

    runtime = _runtime()
    with runtime.db.session() as session:
        archive = export_customer(session, _workspace_id(runtime, workspace), customer_id,
                                  Actor("system", "cli"))
    out.touch(mode=0o600, exist_ok=False)
    out.write_text(json.dumps(archive, indent=2, ensure_ascii=False))
    _print({"customer_id": str(customer_id), "file": str(out),
            "messages": len(archive["messages"])})
    runtime.close()


@customers_app.command("erase")
def customers_erase(customer_id: uuid.UUID, confirm: Annotated[str, typer.Option(
        help="the customer's name, or ERASE")], workspace: str | None = None) -> None:
    """Erase a customer across every table, then compact the database files."""
    from threadline.contacts.service import access_customer
    from threadline.conversations.service import Actor
    from threadline.jobs.registry import RetryLater
    from threadline.subjects.service import check_confirmation, erase_customer
    from threadline.subjects.storage import compact

    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    with runtime.db.session() as session:
        check_confirmation(access_customer(session, ws, customer_id), confirm)
        report = erase_customer(session, ws, customer_id, Actor("system", "cli"))
    try:
        compact(runtime.db.engine)
    except RetryLater:
        typer.echo("the database is busy: the worker's compaction job will finish", err=True)
    _print({"customer_id": str(customer_id), "customers": [str(c) for c in report.customers],
            "counts": report.counts})
    runtime.close()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    runtime = _runtime()
    typer.echo(f"database at head ({runtime.db.dialect})")
    runtime.close()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          web: Annotated[bool, typer.Option("--web", help="Web only: no workers.")] = False,
          workers: Annotated[int, typer.Option(help="In-process worker threads.")] = 1) -> None:
    """Web, API and (unless --web) workers in one process."""
    from threadline.web.app import create_app
    from threadline.web.proxies import run_server

    _require_shared_secret()
    runtime = _runtime()
    _ensure_pollers(runtime)
    application = create_app(runtime, workers=0 if web else workers)
    run_server(application, runtime.settings, host=host, port=port, log_level="info")


@app.command()
def worker(concurrency: int = 1) -> None:
    """Run workers only (scaled mode: any number of these on PostgreSQL)."""
    _require_shared_secret()
    install_pipeline()
    runtime = _runtime(migrate=False)
    _ensure_pollers(runtime)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=Worker(runtime, name=f"w{i}").run_forever, args=(stop,))
               for i in range(concurrency)]
    gc.freeze()  # as in the web process: startup objects leave the collector's full scans
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runtime.close()


@accounts_app.command("create")
def accounts_create(kind: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
                    config: Annotated[str, typer.Option(help="JSON object")] = "{}",
                    workspace: str | None = None) -> None:
    """Connect a channel account; prints its id and webhook path."""
    from threadline.adapters.config import config_check
    from threadline.channels.registry import kinds
    from threadline.ingest.polling import schedule_poll
    from threadline.workspace.service import create_channel_account, webhook_path

    try:
        cfg = json.loads(config)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--config is not JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise typer.BadParameter("--config must be a JSON object")
    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    with runtime.db.session() as session:
        account = create_channel_account(session, ws, kind=kind, name=name, config=cfg,
                                         known_kinds=kinds(),
                                         check_config=config_check(runtime.settings))
        schedule_poll(session, account)  # polling accounts start polling
        out = {"id": str(account.id), "kind": kind, "name": name,
               "webhook_path": webhook_path(account)}
    _print(out)
    runtime.close()


@agents_app.command("create")
def agents_create(email: Annotated[str, typer.Option()], role: Annotated[str, typer.Option()],
                  name: str | None = None, workspace: str | None = None) -> None:
    """Create an agent; prints a one-time password (to change at the first sign-in)."""
    from threadline.workspace.auth import AccountPolicy
    from threadline.workspace.service import create_agent

    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    with runtime.db.session() as session:
        agent, password = create_agent(
            session, ws, email=email, role=role, name=name,
            one_time_ttl=AccountPolicy.from_settings(runtime.settings).one_time_ttl)
        out = {"id": str(agent.id), "email": agent.email, "role": role, "password": password,
               "expires_at": agent.password_one_time_until}
    _print(out)
    runtime.close()


def _on_agent(email: str, workspace: str | None,
              act: Callable[[Runtime, Session, uuid.UUID, uuid.UUID], dict[str, Any]]) -> None:
    """Run `act(runtime, session, workspace_id, agent_id)` on the agent with this email and
    print what it returns."""
    from sqlalchemy import select

    from threadline.workspace.models import Agent

    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    with runtime.db.session() as session:
        agent_id = session.scalar(select(Agent.id).where(
            Agent.workspace_id == ws, Agent.email == email.strip().lower()))
        if agent_id is None:
            raise typer.BadParameter(f"no agent {email!r} in this workspace")
        out = act(runtime, session, ws, agent_id)
    _print(out)
    runtime.close()


@agents_app.command("reset-password")
def agents_reset_password(email: Annotated[str, typer.Option()],
                          workspace: str | None = None) -> None:
    """Give an agent a new one-time password (printed once); his sessions end."""
    from threadline.workspace.accounts import reset_password
    from threadline.workspace.auth import AccountPolicy

    def act(runtime: Runtime, session: Session, ws: uuid.UUID,
            agent_id: uuid.UUID) -> dict[str, Any]:
        agent, password = reset_password(session, ws, agent_id,
                                         policy=AccountPolicy.from_settings(runtime.settings),
                                         actor_type="system", actor_id="cli")
        return {"id": str(agent.id), "email": agent.email, "password": password,
                "expires_at": agent.password_one_time_until}

    _on_agent(email, workspace, act)


@agents_app.command("reset-totp")
def agents_reset_totp(email: Annotated[str, typer.Option()],
                      workspace: str | None = None) -> None:
    """Remove an agent's second factor (a lost phone); his sessions end."""
    from threadline.workspace.accounts import reset_totp

    def act(runtime: Runtime, session: Session, ws: uuid.UUID,
            agent_id: uuid.UUID) -> dict[str, Any]:
        agent = reset_totp(session, ws, agent_id, actor_type="system", actor_id="cli")
        return {"id": str(agent.id), "email": agent.email, "second_factor": False}

    _on_agent(email, workspace, act)


@tokens_app.command("create")
def tokens_create(role: Annotated[str, typer.Option()], name: str = "api",
                  workspace: str | None = None) -> None:
    """Create an API token (printed once; only its hash is stored)."""
    from threadline.workspace.service import create_token

    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    with runtime.db.session() as session:
        token, plain = create_token(session, ws, role=role, name=name)
        out = {"id": str(token.id), "role": role, "token": plain}
    _print(out)
    runtime.close()


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random key (put it first in THREADLINE_ENCRYPTION_KEYS)."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored credential with the first key of THREADLINE_ENCRYPTION_KEYS."""
    from threadline.db.crypto import rotate_keys
    from threadline.db.models import load_all

    runtime = _runtime()
    with runtime.db.session() as session:
        count = rotate_keys(session, load_all().metadata)
    runtime.close()
    _print({"rotated": count})


@app.command()
def replay(path: Path, account_id: Annotated[str | None, typer.Option()] = None,
           workspace: str | None = None, batch: int = 100,
           process: Annotated[bool, typer.Option(help="Process now (else workers do).")] = True,
           ) -> None:
    """Replay twcs CSV rows as inbound events through the durable webhook path."""
    from threadline.ingest.replay import (
        chunks,
        read_twcs,
        replay_account,
        store_events,
        twcs_files,
        tweet_event,
    )
    from threadline.workspace.models import ChannelAccount

    install_pipeline()
    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    with runtime.db.session() as session:
        if account_id:
            account = session.get(ChannelAccount, uuid.UUID(account_id))
            if account is None or account.kind != "api":
                raise typer.BadParameter("--account-id must be an api channel account")
        else:
            account = replay_account(session, ws)
    tweets = [t for f in twcs_files(path) for t in read_twcs(f)]
    stored = 0
    with Progress() as progress:
        task = progress.add_task("storing events", total=len(tweets))
        for events in chunks((tweet_event(t) for t in tweets), batch):
            with runtime.db.session() as session:
                stored += store_events(session, account, events)
            progress.advance(task, len(events))
        if process:
            work = progress.add_task("processing", total=None)
            done = Worker(runtime, name="replay").drain()
            progress.update(work, completed=done, total=done)
    _print({"rows": len(tweets), "stored": stored, "account_id": str(account.id)})
    runtime.close()


@app.command()
def train(workspace: str | None = None) -> None:
    """Retrain the workspace's triage model from its agents' corrections (one JSON object)."""
    from threadline.inbound.learning import NotEnoughExamples, train_workspace

    runtime = _runtime()
    ws = _workspace_id(runtime, workspace)
    try:
        with runtime.db.session() as session:
            out = train_workspace(session, ws, actor_type="system", actor_id="cli")
    except NotEnoughExamples as exc:
        sys.stdout.write(json.dumps({"error": {"code": "not_enough_examples",
                                               "message": str(exc)}}) + "\n")
        raise typer.Exit(1) from None
    finally:
        runtime.close()
    sys.stdout.write(json.dumps(out) + "\n")


@app.command()
def bench(name: str, data: Annotated[Path, typer.Option()] = Path("../shared/data"),
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Run a benchmark; with --json prints exactly one JSON object on stdout."""
    if name not in BENCHES:
        raise typer.BadParameter(f"unknown bench {name!r}; one of {', '.join(BENCHES)}")
    logging.disable(logging.WARNING)
    module = importlib.import_module(BENCHES[name])
    result = module.run(data)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        _print(result)


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000,
         replay_path: Annotated[Path | None, typer.Option("--replay")] = None) -> None:
    """Serve with live traffic from shipped conversations (and --replay PATH)."""
    from threadline.demo import run_demo

    run_demo(host=host, port=port, replay_path=replay_path)


@app.command()
def sandbox(host: str = "127.0.0.1", port: int = 8001,
            play: Annotated[str | None, typer.Option(
                help="Threadline's base URL: play the shipped customers into it.")] = None,
            replay_path: Annotated[Path | None, typer.Option(
                "--replay", help="With --play: also replay twcs CSV rows as X traffic.")] = None,
            workspace: str | None = None) -> None:
    """The provider sandbox: fake X/Meta/Twilio/Telegram APIs (recording every call, faults on
    demand at /_sandbox/faults) and, with --play, customers writing to Threadline (which
    must run with THREADLINE_ALLOW_CUSTOM_PROVIDER_URLS=true to answer through the sandbox)."""
    import uvicorn

    from threadline.sandbox.core import create_app as create_sandbox

    if play:
        from threadline.demo.replay_x import replay_twcs_as_x
        from threadline.demo.run import ensure_accounts
        from threadline.demo.traffic import Traffic

        runtime = _runtime()
        accounts = ensure_accounts(runtime, _workspace_id(runtime, workspace),
                                   f"http://{host}:{port}")
        traffic = Traffic(play, accounts)
        threading.Thread(target=traffic.run, daemon=True, name="sandbox-play").start()
        if replay_path is not None:
            account_id, config = accounts["x"]
            threading.Thread(target=replay_twcs_as_x, args=(play, account_id, config,
                                                            replay_path),
                             daemon=True, name="sandbox-replay").start()
    uvicorn.run(create_sandbox(), host=host, port=port, log_level="warning")


def _mount_optional() -> None:
    try:
        triage_cli = importlib.import_module("threadline.triage.cli")
    except ImportError:
        return
    if hasattr(triage_cli, "register"):
        triage_cli.register(app)
    elif hasattr(triage_cli, "app"):
        app.add_typer(triage_cli.app, name="triage")


def main() -> None:
    configure_logs(get_settings())
    _mount_optional()
    app()


if __name__ == "__main__":
    main()
