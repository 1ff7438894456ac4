"""Benchmark: CPU cost of the pure /v1/messages steps per request: translating a Claude Code-sized
request (system blocks, 20 turns, 10 tools) to the internal body, a completion back to a message,
and re-encoding a 200-chunk stream to Anthropic events.

Run: PYTHONPATH=shared:. python -m tests.bench.bench_anthropic_translation [iterations]
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from tollgate.anthropic_api.stream import AnthropicStreamEncoder
from tollgate.anthropic_api.translate import to_anthropic_message, to_openai
from tollgate.providers.base import Usage


def _request() -> dict[str, Any]:
    tool = {"name": "t", "description": "d" * 200, "input_schema": {"type": "object", "properties": {}}}
    turns: list[dict[str, Any]] = []
    for i in range(10):
        turns.append({"role": "user", "content": [{"type": "text", "text": "x" * 400}]})
        turns.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "y" * 400},
                    {"type": "tool_use", "id": f"t{i}", "name": "t", "input": {}},
                ],
            }
        )
        turns[-2]["content"].insert(0, {"type": "tool_result", "tool_use_id": f"t{i - 1}", "content": "ok"})
    system = [{"type": "text", "text": "s" * 4000, "cache_control": {"type": "ephemeral"}}]
    return {"model": "openai/gpt-4o", "max_tokens": 4096, "system": system, "messages": turns, "tools": [tool] * 10}


def _time(fn: Any, iterations: int) -> tuple[float, float]:
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    request = _request()
    completion = {"id": "c", "choices": [{"message": {"content": "z" * 800}, "finish_reason": "stop"}]}
    chunks = [{"id": "c", "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}]}] * 200

    def stream() -> None:
        encoder = AnthropicStreamEncoder("openai/gpt-4o")
        for chunk in chunks:
            encoder.feed(chunk)
        encoder.finish(Usage(input_tokens=10, output_tokens=200))

    for name, fn in (
        ("request → internal body", lambda: to_openai(request)),
        ("completion → message", lambda: to_anthropic_message(completion, "m", Usage(output_tokens=5))),
        ("200-chunk stream → events", stream),
    ):
        p50, p99 = _time(fn, iterations)
        print(f"{name:28s} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")


if __name__ == "__main__":
    main()
