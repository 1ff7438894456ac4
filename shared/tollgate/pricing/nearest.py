"""The nearest known model of a provider, for pricing a model nobody has priced.

Rule for "the nearest known model of the same provider", among the provider's currently priced,
non-free models (case-insensitive):
1. a model whose whole id starts the requested id at a separator (``gpt-4o`` for
   ``gpt-4o-2099-01-01``: a dated or suffixed variant) — the longest such id;
2. otherwise the model sharing the longest common prefix with the requested id;
ties go to the dearest (highest output, then input rate), so an estimate errs towards using up
budget, not towards under-billing. With nothing in common the provider's dearest model is used.
A provider with no priced model at all cannot be estimated.
"""

from __future__ import annotations

from tollgate.pricing.calculator import PriceRow


def common_prefix(a: str, b: str) -> int:
    size = 0
    for left, right in zip(a.lower(), b.lower(), strict=False):
        if left != right:
            break
        size += 1
    return size


_SEPARATORS = "-_.:@/"


def is_variant_of(requested: str, base: str) -> bool:
    requested, base = requested.lower(), base.lower()
    return requested.startswith(base) and (len(requested) == len(base) or requested[len(base)] in _SEPARATORS)


def pick_nearest(model: str, candidates: list[PriceRow]) -> PriceRow | None:
    paid = [c for c in candidates if c.input_per_1m > 0 or c.output_per_1m > 0]
    if not paid:
        return None
    return max(
        paid,
        key=lambda c: (
            len(c.model) if is_variant_of(model, c.model) else 0,
            common_prefix(model, c.model),
            c.output_per_1m,
            c.input_per_1m,
            c.model,
        ),
    )
