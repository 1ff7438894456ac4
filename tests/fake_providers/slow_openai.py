"""An OpenAI-compatible upstream on asyncio that answers after a fixed delay, for load tests.

Unlike the threaded fakes it holds thousands of waiting requests cheaply, and it counts requests
that arrived and that were answered, so tests can assert on ordering ("/health answered while N
calls were waiting upstream") instead of on wall-clock thresholds.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.support import free_port

USAGE = {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-slow",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": USAGE,
    }
).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {
        "id": "chatcmpl-slow",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        payload["usage"] = usage
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


STREAM = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "ok"}),
    _chunk({}, finish="stop"),
    _chunk({}, usage=USAGE),
    b"data: [DONE]\n\n",
]


class SlowUpstream:
    """Raw ASGI app: waits ``delay_s`` before answering a completion; a stream sends its first
    chunk at once and the rest after ``delay_s``."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.arrived = 0
        self.answered = 0
        self.first_answer_at: float | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.arrived += 1
        streaming = b'"stream":true' in body.replace(b" ", b"")
        if streaming:
            headers = [(b"content-type", b"text/event-stream")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": STREAM[0], "more_body": True})
            await asyncio.sleep(self.delay_s)
            self._answered()
            await send({"type": "http.response.body", "body": b"".join(STREAM[1:]), "more_body": False})
            return
        await asyncio.sleep(self.delay_s)
        self._answered()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(COMPLETION)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": COMPLETION})

    def _answered(self) -> None:
        self.answered += 1
        if self.first_answer_at is None:
            self.first_answer_at = time.monotonic()


@contextmanager
def slow_upstream(delay_s: float) -> Iterator[tuple[str, SlowUpstream]]:
    """Yields (OpenAI-style base URL ``http://127.0.0.1:<port>/v1``, the app) served in a thread."""
    app = SlowUpstream(delay_s)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off", backlog=4096
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("slow upstream did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
