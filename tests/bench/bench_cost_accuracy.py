"""Cost accuracy: Tollgate's calculator vs `litellm.cost_per_token`, both fed the same price map
(``--litellm-map``, default: the packaged snapshot's models), for recorded usages across
providers. Prints every case and explains each difference.

    python -m tests.bench.bench_cost_accuracy [--litellm-map model_prices.json] [--json out.json]

LiteLLM runs in its own venv (tests.bench.litellm_proxy.ensure_litellm) and is given the same map
through `litellm.model_cost`, so differences come from the calculators, not from the prices.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.bench.harness import add_litellm_map_option, litellm_map_file, print_table, write_json
from tests.bench.litellm_proxy import ensure_litellm
from tollgate.pricing.calculator import cost_of
from tollgate.pricing.feeds.litellm import parse_litellm, to_price_row
from tollgate.providers.base import Usage


@dataclass(frozen=True)
class Case:
    name: str
    key: str  # the LiteLLM map key
    usage: Usage  # normalized, as Tollgate stores it
    why_it_may_differ: str = ""

    def litellm_args(self) -> dict[str, Any]:
        """The same call as LiteLLM's cost_per_token sees it (prompt_tokens includes cached ones)."""
        u = self.usage
        return {
            "model": self.key,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.output_tokens,
            "cache_read_input_tokens": u.cache_read_tokens,
            "cache_creation_input_tokens": u.cache_write_tokens,
            "reasoning_tokens": u.reasoning_tokens,
        }


CASES = [
    Case("OpenAI, plain", "gpt-4o-mini", Usage(input_tokens=1200, output_tokens=300)),
    Case("OpenAI, cached prompt", "gpt-4o", Usage(input_tokens=86, cache_read_tokens=1920, output_tokens=300)),
    Case("OpenAI o-series, reasoning", "o3-mini", Usage(input_tokens=500, output_tokens=2400, reasoning_tokens=2000)),
    Case(
        "Anthropic, cache write + read",
        "claude-sonnet-4-5",
        Usage(input_tokens=50, cache_read_tokens=10_000, cache_write_tokens=2_000, output_tokens=400),
    ),
    Case(
        "Anthropic, 1 h cache write",
        "claude-sonnet-4-5",
        Usage(input_tokens=50, cache_write_tokens=4_000, cache_write_1h_tokens=4_000, output_tokens=100),
        "LiteLLM's cost_per_token has no 1-hour cache-write class; it bills all writes at the 5-minute rate",
    ),
    Case("Anthropic, above 200k", "claude-sonnet-4-5", Usage(input_tokens=250_000, output_tokens=1_000)),
    Case("Gemini, below 200k", "gemini/gemini-2.5-pro", Usage(input_tokens=150_000, output_tokens=2_000)),
    Case("Gemini, above 200k", "gemini/gemini-2.5-pro", Usage(input_tokens=250_000, output_tokens=2_000)),
    Case(
        "Gemini, cached above 200k",
        "gemini/gemini-2.5-pro",
        Usage(input_tokens=50_000, cache_read_tokens=180_000, output_tokens=2_000),
    ),
    Case(
        "DeepSeek, cache hit/miss",
        "deepseek/deepseek-chat",
        Usage(input_tokens=800, cache_read_tokens=3_200, output_tokens=500),
    ),
    Case(
        "DeepSeek reasoner",
        "deepseek/deepseek-reasoner",
        Usage(input_tokens=400, output_tokens=3_000, reasoning_tokens=2_500),
    ),
]

LITELLM_SCRIPT = r"""
import json, sys, litellm
from litellm.types.utils import Usage, PromptTokensDetailsWrapper, CompletionTokensDetailsWrapper
litellm.model_cost = json.load(open(sys.argv[1]))
out = []
for args in json.load(sys.stdin):
    usage = Usage(prompt_tokens=args["prompt_tokens"], completion_tokens=args["completion_tokens"],
                  total_tokens=args["prompt_tokens"] + args["completion_tokens"],
                  prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=args["cache_read_input_tokens"]),
                  completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=args["reasoning_tokens"]),
                  cache_creation_input_tokens=args["cache_creation_input_tokens"],
                  cache_read_input_tokens=args["cache_read_input_tokens"])
    try:
        p, c = litellm.cost_per_token(model=args["model"], usage_object=usage)
        out.append({"cost": repr(p + c)})
    except Exception as exc:
        out.append({"error": type(exc).__name__})
print(json.dumps(out))
"""


def litellm_costs(cases: list[Case], price_map: Path) -> list[dict[str, str]]:
    python = ensure_litellm().parent / "python"
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(python), "-c", LITELLM_SCRIPT, str(price_map)],
        input=json.dumps([c.litellm_args() for c in cases]),
        capture_output=True,
        text=True,
        check=True,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"},
    )
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json")
    add_litellm_map_option(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        price_map = litellm_map_file(args.litellm_map, Path(tmp))
        document = json.loads(price_map.read_text(), parse_float=Decimal)
        parse_litellm(document, "bench")  # the same parser the refresh uses (validates the map)
        theirs = litellm_costs(CASES, price_map)
    rows = []
    for case, other in zip(CASES, theirs, strict=True):
        price = to_price_row(case.key, document[case.key])
        assert price is not None
        ours = cost_of(case.usage, price)
        if "error" in other:
            rows.append(
                {
                    "case": case.name,
                    "model": case.key,
                    "tollgate_usd": str(ours),
                    "litellm_usd": other["error"],
                    "diff_usd": "",
                    "note": "LiteLLM raised",
                }
            )
            continue
        their = Decimal(other["cost"])
        diff = ours - their
        same = abs(diff) < Decimal("1e-9")
        rows.append(
            {
                "case": case.name,
                "model": case.key,
                "tollgate_usd": str(ours),
                "litellm_usd": f"{their:.12f}".rstrip("0"),
                "diff_usd": "0" if same else f"{diff:+.9f}",
                "note": "" if same else (case.why_it_may_differ or "see docs/pricing.md"),
            }
        )
    print_table("cost per call, same price map (USD)", rows)
    print("LiteLLM's float results are shown to 12 decimals; 'same' means |diff| < 1e-9 USD.")
    write_json(args.json, {"rows": rows})


if __name__ == "__main__":
    main()
