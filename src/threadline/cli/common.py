"""What every command shares: the runtime, the workspace option, JSON and table output.

Commands parse their arguments, call the domain's functions and print what they return;
mutating commands print one JSON object, listings a table (or JSON with --json)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from threadline.config import get_settings
from threadline.db.migrate import schema_revisions, upgrade
from threadline.jobs.runtime import Runtime


class RoleName(StrEnum):
    """Roles (threadline.workspace.models.Role.ALL) as choices the help lists."""

    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


WorkspaceOption = Annotated[str | None, typer.Option(
    "--workspace", metavar="SLUG",
    help="The workspace's slug (default: the default workspace).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


_TYPE_LABEL = re.compile(r" <[^|<>]*>$")  # "<str>", not the choices "<public|private>"


class PlainCommand(TyperCommand):
    """Help that names arguments by their metavar alone (`TEXT`, not `TEXT <str>`); choices
    are still listed. Options show their metavar (`--port PORT`) or nothing (flags)."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append((_TYPE_LABEL.sub("", record[0]), record[1]))
            else:
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def typer_app(help_text: str) -> typer.Typer:
    """A command group with plain help (no rich type labels)."""
    return typer.Typer(help=help_text, rich_markup_mode=None, no_args_is_help=True,
                       pretty_exceptions_show_locals=False)


def require_shared_secret() -> None:
    """Scaled mode (PostgreSQL or Redis) runs many processes on many hosts: a key file minted
    by each host would split sessions, CSRF and visitor tokens between them."""
    settings = get_settings()
    if settings.scaled and not settings.secret_key:
        typer.echo("error: THREADLINE_SECRET_KEY is not set. With a PostgreSQL database or a "
                   "Redis bus (scaled mode) every web and worker process must be given the same "
                   "secret key, e.g. THREADLINE_SECRET_KEY=$(python -c 'import secrets; "
                   "print(secrets.token_urlsafe(48))')", err=True)
        raise typer.Exit(2)


def runtime(migrate: bool = True) -> Runtime:
    """The process's runtime; its schema upgraded first, or (`migrate=False`, scaled mode's
    web processes) checked: a process never serves a database this release does not know."""
    rt = Runtime.create()
    if migrate:
        upgrade(rt.db)
        return rt
    current, needed = schema_revisions(rt.db)
    if current != needed:
        rt.close()
        at = ", ".join(sorted(current)) or "no schema at all"
        typer.echo(f"error: the database is at {at}; this release needs "
                   f"{', '.join(sorted(needed))}. Run `threadline migrate` once (the migrate "
                   "role of deploy/entrypoint.sh), then start the web and worker processes.",
                   err=True)
        raise typer.Exit(2)
    return rt


def ensure_pollers(rt: Runtime) -> None:
    """Every polling account (IMAP email, X mentions) has its poll job scheduled, and so has
    the purge of raw payloads past their retention."""
    from threadline.community.engine import schedule_scan as schedule_community_scan
    from threadline.ingest.polling import ensure_pollers as schedule_pollers
    from threadline.jobs.retention import schedule_purge
    from threadline.kpis.engine import schedule_settle
    from threadline.quality.sampling import schedule_sample
    from threadline.routing.presence import schedule_tick
    from threadline.sla.engine import schedule_scan

    with rt.db.session() as session:
        schedule_pollers(session)
        schedule_purge(session)
        schedule_tick(session)
        schedule_scan(session)  # service levels: warnings and breaches
        schedule_sample(session)  # quality reviews: the review queue
        schedule_settle(session)  # KPIs: first-contact resolutions whose window has passed
        schedule_community_scan(session)  # community topics past their deadline


def workspace_id(rt: Runtime, slug: str | None) -> uuid.UUID:
    from sqlalchemy import select

    from threadline.workspace.models import Workspace
    from threadline.workspace.service import get_or_create_default_workspace

    with rt.db.session() as session:
        if slug:
            ws = session.scalar(select(Workspace).where(Workspace.slug == slug))
            if ws is None:
                raise typer.BadParameter(f"no workspace {slug!r}", param_hint="--workspace")
            return ws.id
        return get_or_create_default_workspace(session).id


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
               as_json: bool) -> None:
    """A listing: JSON (a list of objects, every key) or an aligned plain-text table of
    `columns` that a terminal or a pipe shows alike."""
    if as_json:
        typer.echo(json.dumps(list(rows), indent=2, default=str))
        return
    if not rows:
        typer.echo("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    header = [c.upper().replace("_", " ") for c in columns]
    for line in [header, *cells]:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
