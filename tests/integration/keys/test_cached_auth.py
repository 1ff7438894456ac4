"""``Authenticator.cached``: the event loop's answer for a key held in memory, None whenever
``authenticate`` (database, root key, failures) must decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.keys.test_credential_store import FakeMonotonic
from tests.support import ROOT_KEY, make_services
from tollgate.errors import AuthenticationFailed
from tollgate.keys.auth import Authenticator


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 12, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


def test_only_a_fresh_cached_valid_key_is_answered_from_memory(db_url: str, tmp_path: Path) -> None:
    services = make_services(db_url, tmp_path)
    tick, clock = FakeMonotonic(), FakeClock()
    auth = Authenticator(
        services.sessions, clock, root_key=ROOT_KEY, cache_ttl_s=5, last_used_resolution_s=60, monotonic=tick
    )
    try:
        ws = services.workspaces.create("acme").id
        member = services.gateway_keys.create(ws, "ci", "member")
        expiring = services.gateway_keys.create(
            ws, "soon", "member", {"expires_at": clock.current + timedelta(seconds=30)}
        )
        # Given keys never seen by this instance (and the root key, and no key at all): no answer from memory
        assert auth.cached(member.plaintext) is None
        assert auth.cached(ROOT_KEY) is None
        assert auth.cached(None) is None and auth.cached("not-a-key") is None
        # When the database authenticated them (and wrote their last use)
        principal = auth.authenticate(member.plaintext)
        auth.authenticate(expiring.plaintext)
        # Then the same principal comes from memory, without the database
        assert auth.cached(member.plaintext) == principal
        # But not for a wrong secret, nor once the entry is stale, nor when a last-used write is due
        wrong = member.plaintext[:-4] + ("aaaa" if not member.plaintext.endswith("aaaa") else "bbbb")
        assert auth.cached(wrong) is None
        with pytest.raises(AuthenticationFailed):
            auth.authenticate(wrong)
        tick.now += 5.0
        assert auth.cached(member.plaintext) is None
        auth.authenticate(member.plaintext)  # refreshes the entry (last use not due yet)
        assert auth.cached(member.plaintext) == principal
        tick.now += 52.0
        auth.authenticate(member.plaintext)  # a fresh entry again; the last use was written 57 s ago
        assert auth.cached(member.plaintext) == principal
        tick.now += 4.0  # the entry is still fresh, but the last-used write (every 60 s) is due
        assert auth.cached(member.plaintext) is None
        # And an expired key is never answered from memory (authenticate raises its 401)
        clock.current += timedelta(seconds=31)
        assert auth.cached(expiring.plaintext) is None
        with pytest.raises(AuthenticationFailed) as caught:
            auth.authenticate(expiring.plaintext)
        assert caught.value.code == "expired_api_key"
    finally:
        services.close()
