"""Processes: `migrate`, `serve`, `worker`, `demo`, `sandbox`."""

from __future__ import annotations

import gc
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from threadline.cli.common import (
    WorkspaceOption,
    ensure_pollers,
    require_shared_secret,
    runtime,
    workspace_id,
)

Host = Annotated[str, typer.Option(metavar="HOST", help="The address to listen on.")]
Port = Annotated[int, typer.Option(metavar="PORT", help="The port to listen on.")]


def migrate() -> None:
    """Create or upgrade the database schema."""
    rt = runtime()
    typer.echo(f"database at head ({rt.db.dialect})")
    rt.close()


def serve(host: Host = "127.0.0.1", port: Port = 8000,
          web: Annotated[bool, typer.Option("--web", help="Web only: no workers.")] = False,
          workers: Annotated[int, typer.Option(
              metavar="N", help="In-process worker threads.")] = 1,
          migrate_first: Annotated[bool, typer.Option(
              "--migrate/--no-migrate",
              help="Upgrade the schema before serving (scaled mode: run `threadline migrate` "
                   "once per upgrade and start every web process with --no-migrate).")] = True,
          ) -> None:
    """Web, API and (unless --web) workers in one process."""
    from threadline.web.app import create_app
    from threadline.web.proxies import run_server

    require_shared_secret()
    rt = runtime(migrate=migrate_first)
    ensure_pollers(rt)
    application = create_app(rt, workers=0 if web else workers)
    run_server(application, rt.settings, host=host, port=port, log_level="info")


def worker(concurrency: Annotated[int, typer.Option(
        metavar="N", help="Worker threads in this process.")] = 1) -> None:
    """Run workers only (scaled mode: any number of these on PostgreSQL)."""
    from threadline.handlers import install as install_pipeline
    from threadline.jobs.worker import Worker

    require_shared_secret()
    install_pipeline()
    rt = runtime(migrate=False)
    ensure_pollers(rt)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=Worker(rt, name=f"w{i}").run_forever, args=(stop,))
               for i in range(concurrency)]
    gc.freeze()  # as in the web process: startup objects leave the collector's full scans
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rt.close()


def demo(host: Host = "127.0.0.1", port: Port = 8000,
         replay_path: Annotated[Path | None, typer.Option(
             "--replay", metavar="PATH",
             help="Also replay twcs CSV rows (a file or a folder) as live traffic.")] = None,
         ) -> None:
    """Serve with live traffic from shipped conversations (and --replay PATH)."""
    from threadline.demo import run_demo

    run_demo(host=host, port=port, replay_path=replay_path)


def sandbox(host: Host = "127.0.0.1", port: Port = 8001,
            play: Annotated[str | None, typer.Option(
                metavar="URL",
                help="Threadline's base URL: play the shipped customers into it.")] = None,
            replay_path: Annotated[Path | None, typer.Option(
                "--replay", metavar="PATH",
                help="With --play: also replay twcs CSV rows as X traffic.")] = None,
            workspace: WorkspaceOption = None) -> None:
    """The provider sandbox: fake X/Meta/Twilio/Telegram APIs (recording every call, faults
    on demand at /_sandbox/faults) and, with --play, customers writing to Threadline (which
    must run with THREADLINE_ALLOW_CUSTOM_PROVIDER_URLS=true to answer through the
    sandbox)."""
    import uvicorn

    from threadline.sandbox.core import create_app as create_sandbox

    if play:
        from threadline.demo.replay_x import replay_twcs_as_x
        from threadline.demo.run import ensure_accounts
        from threadline.demo.traffic import Traffic

        rt = runtime()
        accounts = ensure_accounts(rt, workspace_id(rt, workspace), f"http://{host}:{port}")
        traffic = Traffic(play, accounts)
        threading.Thread(target=traffic.run, daemon=True, name="sandbox-play").start()
        if replay_path is not None:
            account_id, config = accounts["x"]
            threading.Thread(target=replay_twcs_as_x, args=(play, account_id, config,
                                                            replay_path),
                             daemon=True, name="sandbox-replay").start()
    uvicorn.run(create_sandbox(), host=host, port=port, log_level="warning")
