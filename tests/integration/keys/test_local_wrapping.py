"""The local backend: master key in the OS keyring, else a 0600 file (warned), else the environment."""

from __future__ import annotations

import base64
import logging
import stat
import uuid
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from tests.fakes.key_custody import MemoryKeyring
from tollgate.config import Settings
from tollgate.key_backend import build_key_wrapper
from tollgate.keys.envelope import KeyUnwrapError
from tollgate.keys.local_wrapping import build_local_wrapper
from tollgate.keys.master_key import MasterKeyError, MasterKeyStore, encode_key, generate_material
from tollgate.keys.wrapping import credential_context

CONTEXT = credential_context(uuid.uuid4(), uuid.uuid4())
SECRET = b"sk-ant-test-" + uuid.uuid4().hex.encode()


def test_generates_into_the_os_keyring_when_available(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    store = MasterKeyStore(tmp_path, backend=backend)
    first = store.load()
    assert first.source == "generated:keyring" and len(first.material) == 32
    assert not store.file_path.exists()
    assert len(backend.entries) == 1
    # the next load finds the same key in the keyring
    again = MasterKeyStore(tmp_path, backend=backend).load()
    assert again.source == "keyring" and again.material == first.material
    assert repr(again).count(encode_key(first.material)) == 0


def test_falls_back_to_a_0600_file_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = MasterKeyStore(tmp_path / "home", backend=NoKeyring())
    with caplog.at_level(logging.WARNING):
        key = store.load()
    assert key.source == "generated:file"
    assert stat.S_IMODE(store.file_path.stat().st_mode) == 0o600
    assert "0600 file" in caplog.text
    assert encode_key(key.material) not in caplog.text
    assert MasterKeyStore(tmp_path / "home", backend=NoKeyring()).load().material == key.material


def test_loose_file_permissions_are_tightened(tmp_path: Path) -> None:
    store = MasterKeyStore(tmp_path, backend=NoKeyring())
    store.file_path.write_text(encode_key(generate_material()))
    store.file_path.chmod(0o644)
    assert store.load().source == "file"
    assert stat.S_IMODE(store.file_path.stat().st_mode) == 0o600


def test_environment_key_is_the_last_resort(tmp_path: Path) -> None:
    env_key = encode_key(generate_material())
    # nothing stored: the environment key is used and nothing is generated
    store = MasterKeyStore(tmp_path, env_value=env_key, backend=NoKeyring())
    loaded = store.load()
    assert loaded.source == "env" and encode_key(loaded.material) == env_key
    assert not store.file_path.exists()
    # a key in the keyring wins over the environment
    backend = MemoryKeyring()
    stored = MasterKeyStore(tmp_path / "k", backend=backend).load()
    assert MasterKeyStore(tmp_path / "k", env_value=env_key, backend=backend).load().material == stored.material


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode()])
def test_malformed_master_keys_are_refused_without_echoing(tmp_path: Path, bad: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        MasterKeyStore(tmp_path, env_value=bad, backend=NoKeyring()).load()
    assert bad not in str(caught.value)


def test_round_trip_and_wrong_master_key(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, key_backend="local")
    wrapper = build_key_wrapper(settings)  # the conftest keyring is the failing one: file fallback
    ciphertext = wrapper.encrypt(SECRET, CONTEXT)
    assert SECRET not in ciphertext
    assert build_key_wrapper(settings).decrypt(ciphertext, CONTEXT) == SECRET
    with pytest.raises(KeyUnwrapError):
        build_local_wrapper(generate_material()).decrypt(ciphertext, CONTEXT)
    with pytest.raises(KeyUnwrapError):
        wrapper.decrypt(ciphertext, credential_context(uuid.uuid4(), uuid.uuid4()))
    with pytest.raises(KeyUnwrapError):
        wrapper.decrypt(ciphertext[:-10] + b"0" * 10, CONTEXT)
