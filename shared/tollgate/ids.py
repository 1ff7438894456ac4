"""Identifier helpers: UUIDs for rows, short random ids for requests and key prefixes.

Ids made on the event loop for every call (``new_request_id``, ``new_row_id``) take their bytes
from a buffer of the operating system's CSPRNG (``os.urandom``, the source ``secrets`` and
``uuid.uuid4`` use) filled 4 KiB at a time: the same randomness, one system call per ~300 ids
instead of one per id. That matters on the loop because ``os.urandom`` releases the GIL: each
call let a database thread take it, and the loop waited ~0.1–0.2 ms to get it back (measured with
cProfile under load, docs/providers.md "Event loop per call, issue 14"). The buffer is emptied in
a forked child, so parent and child never hand out the same bytes. Secrets (gateway keys, signing
keys) never come from it: they use ``secrets`` directly.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
import uuid

_ALNUM = string.ascii_lowercase + string.digits
_REFILL_BYTES = 4096


class _RandomBuffer:
    """Bytes of ``os.urandom`` handed out in order, each byte once (thread-safe)."""

    def __init__(self, size: int = _REFILL_BYTES) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._buffer = b""
        self._offset = 0

    def take(self, count: int) -> bytes:
        """``count`` fresh random bytes (``count`` ≤ the refill size)."""
        with self._lock:
            start = self._offset
            if start + count > len(self._buffer):
                self._buffer, start = os.urandom(self._size), 0
            self._offset = start + count
            return self._buffer[start : start + count]

    def forget(self) -> None:
        """Drop what is buffered (a forked child must not reuse its parent's bytes)."""
        self._lock = threading.Lock()
        self._buffer, self._offset = b"", 0


_RANDOM = _RandomBuffer()
os.register_at_fork(after_in_child=_RANDOM.forget)


def new_request_id() -> str:
    """``req_`` and 24 hex digits (96 random bits)."""
    return f"req_{_RANDOM.take(12).hex()}"


def new_row_id() -> uuid.UUID:
    """A random (version 4) UUID, as ``uuid.uuid4()`` makes it, from the buffered bytes."""
    return uuid.UUID(bytes=_RANDOM.take(16), version=4)


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
