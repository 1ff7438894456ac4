"""Unit tests are pure: no network. Every test here runs as under ``--disable-socket
--allow-unix-socket`` (pytest-socket): an IP socket raises ``SocketBlockedError``; Unix sockets stay
allowed (asyncio's self-pipe uses one). A test that truly needs the network belongs in
tests/integration or tests/e2e (or, exceptionally, carries ``@pytest.mark.enable_socket``).
"""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before pytest-socket's own hook, so its enable_socket marker still wins; its teardown
    # hook lifts the block after every test.
    disable_socket(allow_unix_socket=True)
