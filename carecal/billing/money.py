"""Money is integer cents. Prices are computed once, with one documented rounding rule."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from carecal.errors import InputError


def visit_price(minutes: int, cents_per_hour: int) -> int:
    """minutes × hourly price, rounded half up to a whole cent (commercial rounding):
    95 min at 18.00 €/h = 28.50 €, 100 min at 17.50 €/h = 29.1666… → 29.17 €."""
    if minutes < 0 or cents_per_hour < 0:
        raise ValueError("minutes and price must not be negative")
    return (minutes * cents_per_hour * 2 + 60) // 120


def euros(cents: int, symbol: bool = True) -> str:
    """German notation: 1234567 → '12.345,67 €'."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    text = f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d}"
    return f"{text} €" if symbol else text


def parse_euros(text: str) -> int:
    """'131', '131,00', '131.5', '-12,50 €' → cents. More than two decimals is an error,
    not a silent rounding."""
    cleaned = text.strip().removesuffix("€").strip().replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InputError(f"{text!r} is not an amount in euros like 131,00") from None
    cents = value * 100
    if cents != cents.to_integral_value(ROUND_HALF_UP):
        raise InputError(f"{text!r} has more than two decimals")
    return int(cents)
