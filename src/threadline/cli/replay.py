"""`threadline replay`: twcs CSV rows through the durable webhook path."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from threadline.cli.common import WorkspaceOption, print_json, runtime, workspace_id


def replay(path: Annotated[Path, typer.Argument(
               metavar="PATH", help="A twcs CSV file, or a folder of them.")],
           account_id: Annotated[uuid.UUID | None, typer.Option(
               metavar="ACCOUNT_ID",
               help="An api channel account to replay into (default: one made for "
                    "replays).")] = None,
           workspace: WorkspaceOption = None,
           batch: Annotated[int, typer.Option(
               metavar="N", help="Events stored per transaction.")] = 100,
           process: Annotated[bool, typer.Option(
               help="Process the events now (else running workers do).")] = True,
           ) -> None:
    """Replay twcs CSV rows as inbound events through the durable webhook path."""
    from threadline.handlers import install as install_pipeline
    from threadline.ingest.replay import (
        chunks,
        read_twcs,
        replay_account,
        store_events,
        twcs_files,
        tweet_event,
    )
    from threadline.jobs.worker import Worker
    from threadline.workspace.models import ChannelAccount

    install_pipeline()
    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            if account_id:
                account = session.get(ChannelAccount, account_id)
                if (account is None or account.workspace_id != ws or account.kind != "api"
                        or not account.active):
                    raise typer.BadParameter(
                        "not an enabled api channel account of this workspace",
                        param_hint="--account-id")
            else:
                account = replay_account(session, ws)
        tweets = [t for f in twcs_files(path) for t in read_twcs(f)]
        stored = 0
        with Progress() as progress:
            task = progress.add_task("storing events", total=len(tweets))
            for events in chunks((tweet_event(t) for t in tweets), batch):
                with rt.db.session() as session:
                    stored += store_events(session, account, events)
                progress.advance(task, len(events))
            if process:
                work = progress.add_task("processing", total=None)
                done = Worker(rt, name="replay").drain()
                progress.update(work, completed=done, total=done)
    finally:
        rt.close()
    print_json({"rows": len(tweets), "stored": stored, "account_id": str(account.id)})
