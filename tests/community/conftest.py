"""The community tests reuse the end-to-end harness: Threadline and the provider sandbox under
uvicorn, over real HTTP."""

from __future__ import annotations

from tests.e2e.conftest import e2e  # noqa: F401  (the fixture)
