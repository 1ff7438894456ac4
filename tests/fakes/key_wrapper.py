"""A test double for the KeyWrapper port: AES-256-GCM with a random key, the context bound as AAD."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class FakeKeyWrapper:
    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.contexts: list[dict[str, str]] = []

    @staticmethod
    def _aad(context: Mapping[str, str]) -> bytes:
        return json.dumps(dict(sorted(context.items()))).encode()

    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        self.contexts.append(dict(context))
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, self._aad(context))

    def decrypt(self, ciphertext: bytes, context: Mapping[str, str]) -> bytes:
        return self._aead.decrypt(ciphertext[:12], ciphertext[12:], self._aad(context))
