"""Money formatting and the cost calculator's basic rules (Decimal, exact, never negative)."""

from __future__ import annotations

import decimal
from decimal import Decimal, InvalidOperation

import pytest

from tollgate.money import format_usd, per_token_to_per_1m, quantize_usd
from tollgate.pricing.calculator import PriceRow, cost_of, worst_case_cost
from tollgate.providers.base import Usage

PRICE = PriceRow(
    id=None, provider="p", model="m", source="manual", input_per_1m=Decimal("0.15"), output_per_1m=Decimal("0.60")
)


def test_format_usd_has_no_exponent_or_trailing_zeros() -> None:
    assert format_usd(Decimal("0.000004350000")) == "0.00000435"
    assert format_usd(Decimal("1E-10")) == "0.0000000001"
    assert format_usd(Decimal("0")) == "0"
    assert format_usd(Decimal("12.50")) == "12.5"


def test_quantize_keeps_twelve_decimals() -> None:
    assert quantize_usd(Decimal("0.1234567890125")) == Decimal("0.123456789012")


def test_rounding_uses_its_own_context_whatever_the_thread_has() -> None:
    """40 significant digits, half-even, whatever precision/rounding the calling thread has set; the
    thread's context (precision, flags) is left as it was."""
    with decimal.localcontext() as ctx:
        ctx.prec, ctx.rounding = 5, decimal.ROUND_UP
        ctx.clear_flags()
        assert quantize_usd(Decimal("123456789.0000000000005")) == Decimal("123456789.000000000000")
        assert quantize_usd(Decimal("0.0000000000025")) == Decimal("0.000000000002")  # half-even
        assert quantize_usd(Decimal("-0.0000000000035")) == Decimal("-0.000000000004")
        assert per_token_to_per_1m(Decimal("0.00000015000000049")) == Decimal("0.15")
        assert (ctx.prec, ctx.rounding, ctx.flags[decimal.Inexact], ctx.flags[decimal.Rounded]) == (
            5,
            decimal.ROUND_UP,
            False,
            False,
        )
    with pytest.raises(InvalidOperation):  # more than 40 digits once quantized: refused, never truncated
        quantize_usd(Decimal("1E30"))


def test_cost_of_plain_call() -> None:
    assert cost_of(Usage(input_tokens=16, output_tokens=5), PRICE) == Decimal("0.0000054")


def test_worst_case_covers_actual() -> None:
    usage = Usage(input_tokens=100, output_tokens=50)
    assert worst_case_cost(100, 50, PRICE) >= cost_of(usage, PRICE)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.01061365", "$0.01061365"),
        ("1", "$1.00"),
        ("0.1", "$0.10"),
        ("0.000013650000", "$0.00001365"),
        ("12.5", "$12.50"),
        ("0", "$0.00"),
        ("-0.5", "-$0.50"),
    ],
)
def test_usd_text_is_exact_with_at_least_two_decimals(amount: str, text: str) -> None:
    from tollgate.money import usd_text

    assert usd_text(Decimal(amount)) == text
