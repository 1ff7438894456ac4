"""Benchmark: what the one request estimator (``pricing.tokens.size_request``) costs on the execute
path, for small and hostile bodies: the first time a body's texts are seen, and again (long texts'
counts are remembered, ``metering.text``). Prints the median of 20 runs per body (no pass/fail).

    python -m tests.bench.bench_estimator
"""

from __future__ import annotations

import base64
import statistics
import struct
import time
from typing import Any

from tollgate.metering.text import forget_counts
from tollgate.pricing.tokens import size_request


def _png(width: int, height: int, payload: int) -> str:
    header = (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    )
    return "data:image/png;base64," + base64.b64encode(header + b"\x00" * payload).decode()


def _body(content: Any, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], **extra}


BODIES: dict[str, dict[str, Any]] = {
    "hi": _body("hi"),
    "2 KB English": _body("The quick brown fox jumps over the lazy dog. " * 45),
    "40 KB tool description": _body(
        "hi", tools=[{"type": "function", "function": {"name": "t", "description": "x" * 40_000}}]
    ),
    "13k CJK characters": _body("模型的价格和预算控制非常重要。" * 900),
    "220 KB image": _body([{"type": "image_url", "image_url": {"url": _png(1024, 1024, 220_000)}}]),
    "1 MB text": _body("lorem ipsum dolor sit amet " * 40_000),
}


def main() -> None:
    size_request("openai", "gpt-4o", BODIES["hi"], 16_384)  # load the encoding once
    for name, body in BODIES.items():
        first, again = [], []
        for _ in range(20):
            forget_counts()  # a body seen for the first time...
            started = time.perf_counter()
            size = size_request("openai", "gpt-4o", body, 16_384)
            first.append(time.perf_counter() - started)
            started = time.perf_counter()  # ...and the same texts again (a conversation's next turn)
            size_request("openai", "gpt-4o", body, 16_384)
            again.append(time.perf_counter() - started)
        print(  # noqa: T201
            f"{name:>24}: {statistics.median(first) * 1000:8.3f} ms first, "
            f"{statistics.median(again) * 1000:8.3f} ms again  ({size.prompt_tokens} prompt tokens)"
        )


if __name__ == "__main__":
    main()
