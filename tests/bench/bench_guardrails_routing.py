"""Benchmark: routing rule evaluation with 200 rules (target ≤ 0.2 ms p50), every guardrail on
an 8 KB prompt (target ≤ 1 ms p50 added), an embeddings input, and a streamed 8 KB answer scanned
delta by delta (per-delta cost on the event loop, and the largest delta scanned inline).

Run: PYTHONPATH=shared:. python -m tests.bench.bench_guardrails_routing [iterations]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from tollgate.execution.attribution import Attribution
from tollgate.guardrails.chunks import ChunkScreen
from tollgate.guardrails.policy import DETECTORS, GuardAction, GuardrailPolicy
from tollgate.guardrails.scanner import FINDERS, scan
from tollgate.guardrails.stream import StreamScanner
from tollgate.routing.cache import CachedRules
from tollgate.routing.planner import facts_of
from tollgate.routing.rules import ActionType, RoutingRule, RuleAction, RuleMatch

PROSE = (
    "the quarterly report shows revenue growth across regions while operating costs stayed flat and the team "
    "plans to expand the pilot to three more customers next month pending legal review of the contract terms "
    "version 2.4.1 shipped on 2024-11-30 with 1200 tests and port 8080 exposed behind the load balancer "
    "please do not forget to show the output you printed to the new team and act on it"
)
WORDS = PROSE.split(" ")


def rules_200() -> list[RoutingRule]:
    rng = random.Random(7)
    out = []
    for i in range(200):
        kind = i % 4
        match = (
            RuleMatch(model=f"openai/gpt-{i}*"),
            RuleMatch(workflow=f"wf-{i}"),
            RuleMatch(agent=f"agent-{i}", tags=(f"t{i}", "prod")),
            RuleMatch(model=f"*model-{i}-*", workflow=f"wf-{rng.randint(0, 9)}"),
        )[kind]
        action = RuleAction(ActionType.ROUTE, (f"openai/model-{i}",))
        out.append(RoutingRule(uuid.uuid4(), f"rule-{i}", i, True, match, action))
    return out


class Store:
    def __init__(self, rules: list[RoutingRule]) -> None:
        self.rules = rules

    def stamp(self, workspace_id: uuid.UUID) -> Hashable:
        return 1

    def load(self, workspace_id: uuid.UUID) -> Sequence[RoutingRule]:
        return self.rules


def prompt_8kb(with_hits: bool) -> str:
    rng = random.Random(11)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < 8192:
        words.append(rng.choice(WORDS))
    if with_hits:
        for hit in ("ops@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32"):
            words.insert(rng.randrange(len(words)), hit)
    return " ".join(words)[:8192]


def p50_ms(fn: Callable[[], Any], iterations: int) -> tuple[float, float]:
    """(wall p50, CPU p50) in ms. On a shared, loaded machine the CPU time of this thread is the
    stable figure; the wall time also counts time spent descheduled."""
    for _ in range(min(200, iterations)):
        fn()
    wall, cpu = [], []
    for _ in range(iterations):
        started, started_cpu = time.perf_counter(), time.thread_time()
        fn()
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    ws = uuid.uuid4()
    cache = CachedRules(Store(rules_200()))
    body = {"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}
    attribution = Attribution(workflow="wf-none", agent="agent-none", tags=["prod"])

    def evaluate() -> None:  # no rule matches: all 200 are evaluated (the worst case)
        assert cache.rules_for(ws).first_match(facts_of(body, attribution, None)) is None

    wall, cpu = p50_ms(evaluate, iterations)
    print(f"routing: 200 rules, no match (all 200 evaluated): p50 wall {wall:.4f} ms, cpu {cpu:.4f} ms (target ≤ 0.2)")

    everything = GuardrailPolicy(dict.fromkeys(DETECTORS, GuardAction.WARN))
    redacting = GuardrailPolicy(dict.fromkeys(DETECTORS, GuardAction.REDACT))
    for label, text, policy in (
        ("clean 8 KB prompt, all detectors warn", prompt_8kb(False), everything),
        ("8 KB prompt with 4 PII hits, all detectors warn", prompt_8kb(True), everything),
        ("8 KB prompt with 4 PII hits, all detectors redact", prompt_8kb(True), redacting),
    ):
        request = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
        scan(request, policy)  # first phone candidate imports phonenumbers (one-time)
        wall, cpu = p50_ms(lambda r=request, p=policy: scan(r, p), max(500, iterations // 5))  # type: ignore[misc]
        print(f"guardrails: {label} ({len(text)} chars): p50 wall {wall:.3f} ms, cpu {cpu:.3f} ms (target ≤ 1)")
    text = prompt_8kb(True)
    for name, finder in FINDERS.items():
        wall, cpu = p50_ms(lambda f=finder: f(text), 500)  # type: ignore[misc]
        print(f"  {name:17s} on the 8 KB prompt with hits: p50 wall {wall:.3f} ms, cpu {cpu:.3f} ms")
    bench_embeddings(everything, redacting)
    bench_streams(iterations)


def bench_embeddings(everything: GuardrailPolicy, redacting: GuardrailPolicy) -> None:
    text = prompt_8kb(True)
    inputs = [text[i : i + 80] for i in range(0, 8192, 80)]  # 8 KB as ~100 short inputs
    for label, policy in (("warn", everything), ("redact", redacting)):
        body = {"model": "openai/text-embedding-3-small", "input": inputs}
        wall, cpu = p50_ms(lambda b=body, p=policy: scan(b, p), 500)  # type: ignore[misc]
        print(
            f"guardrails: embeddings, {len(inputs)} inputs of 80 chars, all {label}: "
            f"p50 wall {wall:.3f} ms, cpu {cpu:.3f} ms"
        )


def chat_chunk(text: str) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}


def bench_streams(iterations: int) -> None:
    """An 8 KB answer with 4 PII hits streamed in deltas of 16 characters (a few tokens), every
    detector on; the cost of one delta (ChunkScreen.feed: dict handling + window scan) and of the
    whole answer, against one scan of the whole text."""
    text = prompt_8kb(True)
    for label, action in (("warn (observe)", GuardAction.WARN), ("redact (held back)", GuardAction.REDACT)):
        for size in (4, 16, 64):
            deltas = [text[i : i + size] for i in range(0, len(text), size)]
            per_delta_cpu: list[float] = []
            totals: list[float] = []
            for _ in range(max(5, iterations // 500)):
                screen = ChunkScreen(StreamScanner(dict.fromkeys(DETECTORS, action)))
                started_total = time.thread_time()
                for delta in deltas:
                    started = time.thread_time()
                    screen.feed(chat_chunk(delta))
                    per_delta_cpu.append((time.thread_time() - started) * 1000)
                screen.flush()
                totals.append((time.thread_time() - started_total) * 1000)
            print(
                f"streams: 8 KB answer in {len(deltas)} deltas of {size} chars, all detectors {label}: "
                f"per delta p50 cpu {statistics.median(per_delta_cpu):.4f} ms, p99 "
                f"{statistics.quantiles(per_delta_cpu, n=100)[98]:.4f} ms; whole answer p50 cpu "
                f"{statistics.median(totals):.2f} ms"
            )
    for size in (2048, 8192):  # one big delta: INLINE_CHARS (2048) is scanned on the loop, more on the pool
        delta = text[:size]

        def one_big(d: str = delta) -> None:
            ChunkScreen(StreamScanner(dict.fromkeys(DETECTORS, GuardAction.REDACT))).feed(chat_chunk(d))

        wall, cpu = p50_ms(one_big, 300)
        print(f"streams: one delta of {size} chars, all detectors redact: p50 wall {wall:.3f} ms, cpu {cpu:.3f} ms")


if __name__ == "__main__":
    main()
