"""Where the local 256-bit master key lives: OS keyring, else a 0600 file, else TOLLGATE_MASTER_KEY.

Lookup order for an existing key: the OS keyring, then ``<home>/master.key``, then the
``TOLLGATE_MASTER_KEY`` setting. Only when none holds a key is one generated: into the OS keyring
if it accepts it, else into the 0600 file (with a warning, since the file sits next to the database).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tollgate.observability import logger

KEY_BYTES = 32
KEYRING_SERVICE = "tollgate"
KEYRING_USERNAME = "master-key"
FILE_NAME = "master.key"


class MasterKeyError(Exception):
    """The master key is missing or malformed (messages never include key material)."""


@dataclass(frozen=True)
class MasterKey:
    material: bytes
    source: str  # "keyring" | "file" | "env" | "generated:keyring" | "generated:file"

    @property
    def key_id(self) -> str:
        return key_id_of(self.material)

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r}, source={self.source!r})"


def key_id_of(material: bytes) -> str:
    """A non-secret fingerprint naming the key inside each ciphertext (so rewrap can tell keys apart)."""
    return "tollgate-master-" + hmac.new(material, b"tollgate master key id", hashlib.sha256).hexdigest()[:16]


def decode_key(encoded: str) -> bytes:
    """Base64 text → the 32-byte key. Raises ``MasterKeyError`` for bad base64 or a wrong length."""
    try:
        material = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError("master key is not valid base64") from None
    if len(material) != KEY_BYTES:
        raise MasterKeyError(f"master key must be {KEY_BYTES} bytes (base64 of 256 bits)")
    return material


def encode_key(material: bytes) -> str:
    return base64.b64encode(material).decode()


def generate_material() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class MasterKeyStore:
    """Loads (or creates once) the local master key. ``backend`` is a keyring backend; None means
    the process default (``keyring.get_keyring()``), which tests replace with an in-memory one."""

    def __init__(self, home: Path, env_value: str | None = None, backend: Any = None) -> None:
        self._home = home
        self._env_value = env_value
        self._backend = backend

    @property
    def file_path(self) -> Path:
        return self._home / FILE_NAME

    def load(self) -> MasterKey:
        found = self._from_keyring() or self._from_file() or self._from_env()
        if found is not None:
            if found.source != "env" and self._env_value and decode_key(self._env_value) != found.material:
                logger.warning(
                    "TOLLGATE_MASTER_KEY is set but a stored master key takes precedence", source=found.source
                )
            return found
        return self._generate()

    def save(self, material: bytes, like: MasterKey) -> str:
        """Store ``material`` where ``like`` came from (keyring or file); returns the place used.

        A key that came from TOLLGATE_MASTER_KEY cannot be replaced by us: it goes to the pending
        file and the operator moves it into the environment."""
        if like.source.endswith("keyring") and self._keyring_set(material):
            return "keyring"
        if like.source.endswith("file"):
            self._write_file(material, self.file_path)
            return "file"
        self.write_pending(material)
        return "pending"

    @property
    def pending_path(self) -> Path:
        return self._home / (FILE_NAME + ".new")

    def write_pending(self, material: bytes) -> Path:
        """Keep a new key safe on disk before any ciphertext depends on it (rewrap step 1)."""
        self._write_file(material, self.pending_path)
        return self.pending_path

    def drop_pending(self) -> None:
        self.pending_path.unlink(missing_ok=True)

    # --- lookups -------------------------------------------------------------------------

    def _from_keyring(self) -> MasterKey | None:
        value = self._keyring_get()
        return MasterKey(decode_key(value), "keyring") if value else None

    def _from_file(self) -> MasterKey | None:
        if not self.file_path.exists():
            return None
        mode = self.file_path.stat().st_mode & 0o777
        if mode & 0o077:
            logger.warning(
                "master key file is readable by others; fixing permissions to 0600", path=str(self.file_path)
            )
            self.file_path.chmod(0o600)
        return MasterKey(decode_key(self.file_path.read_text()), "file")

    def _from_env(self) -> MasterKey | None:
        return MasterKey(decode_key(self._env_value), "env") if self._env_value else None

    def _generate(self) -> MasterKey:
        material = generate_material()
        if self._keyring_set(material):
            logger.info("generated a new local master key in the OS keyring")
            return MasterKey(material, "generated:keyring")
        self._write_file(material, self.file_path)
        logger.warning(
            "no OS keyring available: the master key was written to a 0600 file next to the database; "
            "back it up separately or set TOLLGATE_MASTER_KEY",
            path=str(self.file_path),
        )
        return MasterKey(material, "generated:file")

    # --- backends ------------------------------------------------------------------------

    def _keyring(self) -> Any:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    def _keyring_get(self) -> str | None:
        try:
            value = self._keyring().get_password(KEYRING_SERVICE, self._username)
        except Exception as exc:  # no backend, locked, D-Bus missing...: fall through to the file
            logger.debug("OS keyring unavailable", error=type(exc).__name__)
            return None
        return str(value) if value else None

    def _keyring_set(self, material: bytes) -> bool:
        try:
            self._keyring().set_password(KEYRING_SERVICE, self._username, encode_key(material))
        except Exception as exc:
            logger.debug("OS keyring refused the master key", error=type(exc).__name__)
            return False
        return True

    @property
    def _username(self) -> str:
        # one entry per home directory, so two local installs never share (or clobber) a key
        digest = hashlib.sha256(str(self._home.expanduser().resolve()).encode()).hexdigest()[:12]
        return f"{KEYRING_USERNAME}-{digest}"

    def _write_file(self, material: bytes, path: Path) -> None:
        self._home.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(encode_key(material))
        os.replace(tmp, path)
        path.chmod(0o600)
