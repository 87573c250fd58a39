"""`threadline bench NAME`: the benchmarks."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from threadline.cli.common import print_json


class BenchName(StrEnum):
    ingest = "ingest"
    threading = "threading"
    triage = "triage"
    desktop = "desktop"
    hostile = "hostile"
    guard = "guard"
    routing = "routing"
    sla = "sla"
    kpis = "kpis"
    webhooks = "webhooks"
    selfservice = "selfservice"
    load = "load"
    incidents = "incidents"
    search = "search"


BENCHES: dict[BenchName, str] = {
    BenchName.ingest: "threadline.bench.ingest",
    BenchName.threading: "threadline.bench.thread_accuracy",
    BenchName.triage: "threadline.bench.triage",
    BenchName.desktop: "threadline.bench.desktop",
    BenchName.hostile: "threadline.bench.hostile",
    BenchName.guard: "threadline.bench.guard",
    BenchName.routing: "threadline.bench.routing",
    BenchName.sla: "threadline.bench.sla",
    BenchName.kpis: "threadline.bench.kpis",
    BenchName.webhooks: "threadline.bench.webhooks",
    BenchName.selfservice: "threadline.bench.selfservice",
    BenchName.load: "threadline.bench.load",
    BenchName.incidents: "threadline.bench.incidents",
    BenchName.search: "threadline.bench.search",
}


def bench(ctx: typer.Context,
          name: Annotated[BenchName, typer.Argument(
              metavar="NAME", help="Which benchmark to run.")],
          data: Annotated[Path, typer.Option(
              metavar="PATH", help="The shared data folder (twcs files and the like).")
          ] = Path("../shared/data"),
          as_json: Annotated[bool, typer.Option(
              "--json", help="Print exactly one JSON object on stdout.")] = False) -> None:
    """Run a benchmark; with --json prints exactly one JSON object on stdout. Options after
    `--` go to the benchmark itself (`threadline bench load --json -- --rate 600`)."""
    logging.disable(logging.WARNING)
    module = importlib.import_module(BENCHES[name])
    result = module.run(data, ctx.args) if ctx.args else module.run(data)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        print_json(result)
