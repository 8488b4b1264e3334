"""Number formatting in the house style, Danish or English, through Babel.

locale="da": 1.234,5 · 12,3 pct. · 256 mio. kr. · 3,8 mia. kr.
locale="en": 1,234.5 · 12.3% · DKK 256 million · DKK 3.8 billion
"""

from __future__ import annotations

from babel.numbers import format_decimal

LOCALES = {"da": "da_DK", "en": "en_GB", "nb": "nb_NO"}


def _babel(locale: str) -> str:
    try:
        return LOCALES[locale]
    except KeyError:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}, got {locale!r}") from None


def number(value: float, decimals: int = 0, locale: str = "en") -> str:
    """1234.5 -> '1,234.5' (en) / '1.234,5' (da). A value that rounds to zero prints without a sign (never "-0")."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(value, format=pattern, locale=_babel(locale), decimal_quantization=True)
    if not any(ch in "123456789" for ch in text):
        text = text.lstrip("-\u2212")
    return text


def p_value(p: float, locale: str = "en", bare: bool = False) -> str:
    """A p-value as a reader expects it: 'p < 0.001' below 0.001, else three decimals ('p = 0.042'); ``bare`` leaves
    out the 'p' for a table's p column ('< 0.001', '0.042')."""
    text = f"< {number(0.001, 3, locale)}" if p < 0.001 else number(p, 3, locale)
    if bare:
        return text
    return f"p {text}" if p < 0.001 else f"p = {text}"


def decimals_for(values, least: int = 0, most: int = 6) -> int:
    """The fewest decimals (at least ``least``) that print every value exactly: tick positions 1.0, 1.25, 1.5 need 2,
    100, 102.5, 105 need 1. Values that need more than ``most`` get ``most``."""
    for d in range(least, most + 1):
        if all(abs(v - round(v, d)) <= 1e-9 * max(1.0, abs(v)) for v in values):
            return d
    return most


def percent(value: float, decimals: int = 0, locale: str = "en") -> str:
    """A value already in percent: 56 -> '56%' (en) / '56 pct.' (da)."""
    text = number(value, decimals, locale)
    return f"{text} pct." if locale == "da" else f"{text}%"


def points(value: float, decimals: int = 1, locale: str = "en") -> str:
    """Percentage points: 0.5 -> '0.5 pp' (en) / '0,5 procentpoint' (da)."""
    text = number(value, decimals, locale)
    return f"{text} procentpoint" if locale == "da" else f"{text} pp"


def dkk(value: float, locale: str = "en", decimals: int | None = None) -> str:
    """An amount in DKK, scaled: 256e6 -> 'DKK 256 million' / '256 mio. kr.'; 3.8e9 -> 'DKK 3.8 billion'."""
    size = abs(value)
    if size >= 1e9:
        scaled, da_unit, en_unit, default = value / 1e9, "mia. kr.", "billion", 1
    elif size >= 1e6:
        scaled, da_unit, en_unit, default = value / 1e6, "mio. kr.", "million", 1
    else:
        scaled, da_unit, en_unit, default = value, "kr.", "", 0
    text = number(scaled, default if decimals is None else decimals, locale)
    if locale == "da":
        return f"{text} {da_unit}"
    return f"DKK {text} {en_unit}".rstrip()


def ordinal(n: int, locale: str = "en") -> str:
    """2 -> '2nd' (en) / '2.' (da)."""
    if locale == "da":
        return f"{n}."
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def value(value: float, unit: str, locale: str = "en", decimals: int = 0) -> str:
    """Format a finding's value by its unit (see data/published/findings.csv)."""
    if unit in ("pct", "percent", "%"):
        return percent(value, decimals, locale)
    if unit == "pp":
        return points(value, max(decimals, 1), locale)
    if unit == "dkk":
        return dkk(value, locale)
    if unit == "rank":
        return ordinal(int(value), locale)
    return number(value, decimals, locale)
