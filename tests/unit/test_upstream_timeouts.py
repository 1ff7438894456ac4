"""The aiohttp session always gets the configured timeouts: aiohttp reads ``timeout=None`` as no
timeout at all, so a call without a deadline must still carry connect/read limits."""

from __future__ import annotations

from tollgate.execution import deadline as deadlines
from tollgate.providers.http import UpstreamHttp


def test_a_call_without_a_deadline_has_the_configured_timeouts() -> None:
    timeout = UpstreamHttp(3.0, 40.0, 8, allow_local_network=True)._call_timeout()
    assert (timeout.total, timeout.sock_connect, timeout.connect, timeout.sock_read) == (None, 3.0, 6.0, 40.0)


def test_a_deadline_caps_every_timeout() -> None:
    http = UpstreamHttp(3.0, 40.0, 8, allow_local_network=True)
    with deadlines.bound(deadlines.Deadline.after(2.0)):
        timeout = http._call_timeout()
    assert timeout.sock_read is not None and timeout.sock_read <= 2.0
    assert timeout.connect is not None and timeout.connect <= 4.0
