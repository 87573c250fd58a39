"""`threadline kpis`: the KPI facts of every conversation (docs/kpis.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from threadline.cli.common import PlainCommand, WorkspaceOption, print_json, runtime, typer_app
from threadline.cli.common import workspace_id as workspace_of

app = typer_app("KPIs: the facts, episodes and segments of every conversation.")


@app.command("rebuild", cls=PlainCommand)
def rebuild(workspace: WorkspaceOption = None,
            every_workspace: Annotated[bool, typer.Option(
                "--all", help="Every workspace (default: the one --workspace names).")] = False,
            queue: Annotated[bool, typer.Option(
                "--queue", help="Leave it to a worker (the kpis.rebuild job) and return.")]
            = False) -> None:
    """Recompute every conversation's facts, episodes and segments from its stored messages
    and status changes (after changing THREADLINE_KPI_SILENCE_HOURS or _FCR_DAYS, or to
    repair). Prints the counts and the time it took."""
    from threadline.kpis.engine import rebuild as rebuild_all
    from threadline.kpis.engine import request_rebuild

    rt = runtime()
    try:
        target = None if every_workspace else workspace_of(rt, workspace)
        if queue:
            with rt.db.session() as session:
                job = request_rebuild(session, target)
                session.flush()
                job_id = job.id
            print_json({"queued": True, "job_id": job_id,
                        "workspace_id": str(target) if target else None})
            return
        print_json({**rebuild_all(rt, target), "workspace_id": str(target) if target else None})
    finally:
        rt.close()
