"""The one asyncio OpenAI-compatible upstream for load tests and benchmarks: fixed answers (JSON
and SSE), a configurable delay, and counters.

Unlike the threaded fakes it holds thousands of waiting requests cheaply, and it counts requests
that arrived and that were answered, so tests can assert on ordering ("/health answered while N
calls were waiting upstream") instead of on wall-clock thresholds. ``GET`` answers the model list
(the credential check). A stream sends its first chunk at once and the rest after ``delay_s``
(``stream_head_first=False``: everything after the delay).

In a thread for tests: ``with slow_upstream(delay_s) as (base_url, app)``. As its own process for
the benchmarks (``tests/bench/upstream_process.py``):
``python -m tests.fake_providers.slow_openai --port 9100 [--delay 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support import serve_in_thread

USAGE = {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}
COMPLETION = json.dumps(
    {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": USAGE,
    }
).encode()
MODELS = json.dumps({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "fake"}]}).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {
        "id": "chatcmpl-fake",
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
    """Raw ASGI app: waits ``delay_s`` before answering a completion (see the module docstring)."""

    def __init__(self, delay_s: float, *, stream_head_first: bool = True) -> None:
        self.delay_s = delay_s
        self.stream_head_first = stream_head_first
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
        if scope["method"] == "GET":
            await _send(send, "application/json", MODELS)
            return
        self.arrived += 1
        if b'"stream":true' in body.replace(b" ", b""):
            await self._stream(send)
            return
        await self._wait()
        await _send(send, "application/json", COMPLETION)

    async def _stream(self, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        if not self.stream_head_first:
            await self._wait()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": STREAM[0], "more_body": True})
        if self.stream_head_first:
            await self._wait()
        await send({"type": "http.response.body", "body": b"".join(STREAM[1:]), "more_body": False})

    async def _wait(self) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.answered += 1
        if self.first_answer_at is None:
            self.first_answer_at = time.monotonic()


async def _send(send: Any, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def slow_upstream(delay_s: float) -> Iterator[tuple[str, SlowUpstream]]:
    """Yields (OpenAI-style base URL ``http://127.0.0.1:<port>/v1``, the app) served in a thread."""
    app = SlowUpstream(delay_s)
    with serve_in_thread(app, "slow upstream", backlog=4096) as port:
        yield f"http://127.0.0.1:{port}/v1", app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each chat answer")
    args = parser.parse_args()
    app = SlowUpstream(args.delay, stream_head_first=False)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, backlog=4096)


if __name__ == "__main__":
    main()
