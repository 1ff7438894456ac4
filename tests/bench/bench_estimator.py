"""Benchmark: what the one request estimator (``pricing.tokens.size_request``) costs on the execute
path, for small and hostile bodies. Prints the median of 20 runs per body (no pass/fail).

    python -m tests.bench.bench_estimator
"""

from __future__ import annotations

import base64
import statistics
import struct
import time
from typing import Any

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
        times = []
        for _ in range(20):
            started = time.perf_counter()
            size = size_request("openai", "gpt-4o", body, 16_384)
            times.append(time.perf_counter() - started)
        print(f"{name:>24}: {statistics.median(times) * 1000:8.3f} ms  ({size.prompt_tokens} prompt tokens)")  # noqa: T201


if __name__ == "__main__":
    main()
