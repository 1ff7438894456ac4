"""Ids made on the event loop for every call come from buffered OS randomness (``tollgate.ids``):
the right shapes, never repeated, one ``os.urandom`` call per ~300 ids (each call releases the
GIL), and a forked child never hands out its parent's bytes."""

from __future__ import annotations

import os
import re
import uuid

import pytest

from tollgate import ids
from tollgate.ids import new_request_id, new_row_id


def test_shapes_and_uniqueness() -> None:
    request_ids = [new_request_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", value) for value in request_ids)
    assert len(set(request_ids)) == len(request_ids)
    row_ids = [new_row_id() for _ in range(20_000)]
    assert all(value.version == 4 and value.variant == uuid.RFC_4122 for value in row_ids)
    assert len(set(row_ids)) == len(row_ids)


def test_one_system_call_per_buffer_not_per_id(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.urandom

    def counted(size: int) -> bytes:
        calls.append(size)
        return real(size)

    monkeypatch.setattr(os, "urandom", counted)
    monkeypatch.setattr(ids, "_RANDOM", ids._RandomBuffer())
    for _ in range(1_000):
        new_request_id()
        new_row_id()
    assert 1 <= len(calls) <= 1_000 * 28 // 4096 + 1  # 12 + 16 bytes per call, 4 KiB per refill


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    new_request_id()  # the buffer holds unread bytes when the process forks
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.write(write_end, " ".join(new_request_id() for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    mine = {new_request_id() for _ in range(50)}
    with os.fdopen(read_end) as pipe:
        theirs = set(pipe.read().split())
    os.waitpid(child, 0)
    assert len(theirs) == 50 and not mine & theirs
