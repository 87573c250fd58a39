"""`threadline customers`: data-subject requests (export or erase a customer)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer

from threadline.cli.common import (
    PlainCommand,
    WorkspaceOption,
    print_json,
    runtime,
    typer_app,
    workspace_id,
)

app = typer_app("Data-subject requests: export or erase a customer.")

CustomerId = Annotated[uuid.UUID, typer.Argument(metavar="CUSTOMER_ID",
                                                 help="The customer's id.")]


@app.command("export", cls=PlainCommand)
def export(customer_id: CustomerId,
           out: Annotated[Path, typer.Option(
               metavar="FILE", help="Where to write the archive (must not exist yet).")],
           workspace: WorkspaceOption = None) -> None:
    """Write everything about a customer to a JSON file (readable by its owner only)."""
    from threadline.conversations.service import Actor
    from threadline.subjects.service import export_customer

    rt = runtime()
    try:
        with rt.db.session() as session:
            archive = export_customer(session, workspace_id(rt, workspace), customer_id,
                                      Actor("system", "cli"))
    finally:
        rt.close()
    out.touch(mode=0o600, exist_ok=False)
    out.write_text(json.dumps(archive, indent=2, ensure_ascii=False))
    print_json({"customer_id": str(customer_id), "file": str(out),
                "messages": len(archive["messages"])})


@app.command("erase", cls=PlainCommand)
def erase(customer_id: CustomerId,
          confirm: Annotated[str, typer.Option(
              metavar="NAME", help="The customer's name, or ERASE, to confirm.")],
          workspace: WorkspaceOption = None) -> None:
    """Erase a customer across every table, then compact the database files."""
    from threadline.contacts.service import access_customer
    from threadline.conversations.service import Actor
    from threadline.jobs.registry import RetryLater
    from threadline.subjects.service import check_confirmation, erase_customer
    from threadline.subjects.storage import compact

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            check_confirmation(access_customer(session, ws, customer_id), confirm)
            report = erase_customer(session, ws, customer_id, Actor("system", "cli"))
        try:
            compact(rt.db.engine)
        except RetryLater:
            typer.echo("the database is busy: the worker's compaction job will finish",
                       err=True)
    finally:
        rt.close()
    print_json({"customer_id": str(customer_id),
                "customers": [str(c) for c in report.customers], "counts": report.counts})
