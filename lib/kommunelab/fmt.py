"""Numbers in the house style of the report's language, through Babel (``locale`` is a language of kommunelab.i18n;
left out, the run's language).

da: 1.234,5 · 12,3 pct. · 0,5 procentpoint · 256 mio. kr. · 3,8 mia. kr. · 2. (Danmarks Statistik's style)
nb: 1 234,5 · 12,3 % · 0,5 prosentpoeng · 256 mill. kr. · 3,8 mrd. kr. · 2. (Statistisk sentralbyrå's style)
en: 1,234.5 · 12.3% · 0.5 pp · DKK 256 million · DKK 3.8 billion · 2nd
"""

from __future__ import annotations

from babel.numbers import format_decimal

from .i18n import LANGUAGES, language

LOCALES = {code: lang.babel for code, lang in LANGUAGES.items()}
NBSP = "\u00a0"
# (suffix after a percentage, percentage points, (billion, million, unit) of kroner, before or after the number)
STYLE = {
    "da": (" pct.", " procentpoint", ("mia. kr.", "mio. kr.", "kr."), "after"),
    "nb": (NBSP + "%", " prosentpoeng", ("mrd. kr.", "mill. kr.", "kr."), "after"),
    "en": ("%", " pp", ("billion", "million", ""), "before"),
}


def _babel(locale: str | None) -> str:
    locale = locale or language()
    try:
        return LOCALES[locale]
    except KeyError:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}, got {locale!r}") from None


def _code(locale: str | None) -> str:
    _babel(locale)
    return locale or language()


def number(value: float, decimals: int = 0, locale: str | None = None) -> str:
    """1234.5 -> '1,234.5' (en) / '1.234,5' (da). A value that rounds to zero prints without a sign (never "-0")."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(value, format=pattern, locale=_babel(locale), decimal_quantization=True)
    if not any(ch in "123456789" for ch in text):
        text = text.lstrip("-\u2212")
    return text


def p_value(p: float, locale: str | None = None, bare: bool = False) -> str:
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


def percent(value: float, decimals: int = 0, locale: str | None = None) -> str:
    """A value already in percent: 56 -> '56%' (en) / '56 pct.' (da) / '56 %' (nb, a no-break space)."""
    return number(value, decimals, locale) + STYLE[_code(locale)][0]


def points(value: float, decimals: int = 1, locale: str | None = None) -> str:
    """Percentage points: 0.5 -> '0.5 pp' (en) / '0,5 procentpoint' (da) / '0,5 prosentpoeng' (nb)."""
    return number(value, decimals, locale) + STYLE[_code(locale)][1]


def dkk(value: float, locale: str | None = None, decimals: int | None = None) -> str:
    """An amount in DKK, scaled: 256e6 -> 'DKK 256 million' / '256 mio. kr.' / '256 mill. kr.'; 3.8e9 -> 'DKK 3.8
    billion' / '3,8 mia. kr.' / '3,8 mrd. kr.'."""
    size = abs(value)
    billion, million, unit = STYLE[_code(locale)][2]
    if size >= 1e9:
        scaled, word, default = value / 1e9, billion, 1
    elif size >= 1e6:
        scaled, word, default = value / 1e6, million, 1
    else:
        scaled, word, default = value, unit, 0
    text = number(scaled, default if decimals is None else decimals, locale)
    if STYLE[_code(locale)][3] == "after":
        return f"{text} {word}"
    return f"DKK {text} {word}".rstrip()


def ordinal(n: int, locale: str | None = None) -> str:
    """2 -> '2nd' (en) / '2.' (da, nb)."""
    if _code(locale) != "en":
        return f"{n}."
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def number_range(low: float, high: float, decimals: int = 0, locale: str | None = None) -> str:
    """A range of numbers with an en dash: '20,000–39,999' / '20.000–39.999'."""
    return number(low, decimals, locale) + "\u2013" + number(high, decimals, locale)


def value(value: float, unit: str, locale: str | None = None, decimals: int = 0) -> str:
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
