"""Gateway key format: tg_<public_id>_<secret>, only a hash stored, constant-time checks."""

from __future__ import annotations

import pytest

from tollgate.keys.gateway_keys import generate_key, hash_secret, parse_key, secret_matches


def test_generated_key_parses_back_and_matches_its_hash() -> None:
    new = generate_key()
    parsed = parse_key(new.plaintext)
    assert parsed is not None
    assert parsed.public_id == new.public_id
    assert secret_matches(parsed.secret, new.secret_hash)
    assert new.secret_hash == hash_secret(parsed.secret)
    assert parsed.secret not in new.secret_hash


def test_generated_keys_are_unique() -> None:
    assert len({generate_key().plaintext for _ in range(200)}) == 200


@pytest.mark.parametrize("value", ["", "sk-abc", "tg_", "tg_abc", "tg__secret", "tg_abc_", "tg_" + "a" * 40 + "_x"])
def test_malformed_keys_do_not_parse(value: str) -> None:
    assert parse_key(value) is None


def test_wrong_secret_does_not_match() -> None:
    new = generate_key()
    assert not secret_matches("not-the-secret", new.secret_hash)
