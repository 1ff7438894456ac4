"""Money is Decimal end to end. USD amounts are quantized to 1e-12 when stored."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

MONEY_SCALE = 12
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
PRICE_SCALE = 9
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_SCALE)
ONE_MILLION = Decimal(1_000_000)
ZERO = Decimal(0)


def quantize_usd(amount: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def format_usd(amount: Decimal) -> str:
    """Render a USD amount as a plain decimal string without exponent or trailing zeros."""
    text = format(quantize_usd(amount).normalize(), "f")
    return text if text != "-0" else "0"


def usd_text(amount: Decimal) -> str:
    """The one money format people read (dashboard ``money.js`` ``usd()``, CLI): every digit of the
    stored amount, trailing zeros trimmed, at least 2 decimals — ``$0.01061365``, ``$1.00``, ``$0.10``.
    Exports carry the same digits without the ``$`` (``format_usd``)."""
    text = format_usd(amount)
    whole, _, fraction = text.partition(".")
    text = f"{whole}.{fraction.ljust(2, '0')}"
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def per_token_to_per_1m(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (value * ONE_MILLION).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN).normalize()
