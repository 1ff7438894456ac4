"""Money is Decimal end to end. USD amounts are quantized to 1e-12 when stored."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

MONEY_SCALE = 12
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
PRICE_SCALE = 9
PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_SCALE)
ONE_MILLION = Decimal(1_000_000)
ZERO = Decimal(0)

# One context for every money rounding: 40 significant digits, banker's rounding, the default traps
# (an amount whose quantized form needs more than 40 digits raises ``InvalidOperation``). Passed
# explicitly to ``quantize`` instead of entering ``localcontext()`` per call (the hot path rounds
# several amounts per request); the thread's own context is never read or changed.
_MONEY_CONTEXT = Context(prec=40, rounding=ROUND_HALF_EVEN)


def quantize_usd(amount: Decimal) -> Decimal:
    """``amount`` rounded half-even to ``MONEY_QUANTUM`` (1e-12) within 40 significant digits."""
    return amount.quantize(MONEY_QUANTUM, context=_MONEY_CONTEXT)


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
    ctx = _MONEY_CONTEXT
    return ctx.multiply(value, ONE_MILLION).quantize(PRICE_QUANTUM, context=ctx).normalize(ctx)
