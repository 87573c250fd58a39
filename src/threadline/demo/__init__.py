"""`threadline demo`: the whole product on one SQLite file, the provider sandbox beside it,
and live traffic from conversations the project ships (or a twcs replay)."""

from __future__ import annotations

from threadline.demo.run import run_demo

__all__ = ["run_demo"]
