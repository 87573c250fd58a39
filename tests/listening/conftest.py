"""Listening tests: the end-to-end harness (Threadline and the provider sandbox over real HTTP)
and the desktop's signed-in clients."""

from tests.desktop.conftest import agent_desk, supervisor_desk  # noqa: F401
from tests.e2e.conftest import e2e  # noqa: F401
