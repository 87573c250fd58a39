"""Security tests reuse the end-to-end harness (Threadline and the sandbox over real HTTP)."""

from tests.e2e.conftest import e2e  # noqa: F401
