"""KS's Norwegian innovation barometer 2018 and the published Danish-Norwegian comparison."""

from __future__ import annotations

import pandas as pd

from .. import stats
from ..data import published_table, survey_base

VALUE_FORMS = {"value_quality": "better quality", "value_employee_satisfaction": "employee satisfaction",
               "value_efficiency": "efficiency", "value_citizen_influence": "citizen influence"}


def _weighted(frame: pd.DataFrame, column: str) -> stats.Estimate:
    """Weighted share among the answers given; the design strata are the two sectors (units were sampled by sector)."""
    return stats.weighted_proportion(stats.as_float(frame[column]), frame["weight"], frame["sector"]).percent()


def units_innovated(ks: pd.DataFrame, sector: str = "all") -> stats.Estimate:
    part = ks if sector == "all" else ks[ks["sector"] == sector]
    return _weighted(part, "innovated")


def sector_gap(ks: pd.DataFrame) -> stats.Comparison:
    """Innovation rate in education & childhood minus health & care (percentage points)."""
    return stats.difference(units_innovated(ks, "education & childhood"), units_innovated(ks, "health & care"))


def innovators(ks: pd.DataFrame, sector: str = "all") -> pd.DataFrame:
    """The units of ``sector`` that innovated: the base of the questions about the newest innovation."""
    inn = ks[ks["innovated"] == 1]
    return inn if sector == "all" else inn[inn["sector"] == sector]


def value_forms(ks: pd.DataFrame, sector: str = "all") -> pd.DataFrame:
    inn = innovators(ks, sector)
    rows = []
    for col, label in VALUE_FORMS.items():
        e = _weighted(inn, col)
        rows.append({"value_form": label, "share": e.value, "low": e.low, "high": e.high, "answered": e.n})
    out = pd.DataFrame(rows).sort_values("share", ascending=False, ignore_index=True)
    out["rank"] = range(1, len(out) + 1)
    return out


def drivers(ks: pd.DataFrame) -> pd.DataFrame:
    return stats.category_shares(ks["main_driver"], ks["weight"])


def nordic_table() -> pd.DataFrame:
    return published_table("nordic_municipal_innovation")


def nordic_comparison(dk_base: int, no_base: int) -> pd.DataFrame:
    """Each published DK and NO share with the difference, its Newcombe interval and a score test.

    The bases (municipal innovations in each survey) are not published: ``dk_base`` and ``no_base`` are
    assumptions the report states, and the tests are only as good as they are.
    """
    table = nordic_table()
    rows = []
    for r in table.itertuples():
        x1, x2 = round(r.dk_pct / 100 * dk_base), round(r.no_pct / 100 * no_base)
        c = stats.two_proportions(x1, dk_base, x2, no_base)
        rows.append({"indicator": r.indicator, "Denmark": r.dk_pct, "Norway": r.no_pct,
                     "difference_pp": 100 * c.estimate, "low": 100 * c.low, "high": 100 * c.high,
                     "p_value": c.p_value})
    return pd.DataFrame(rows)


# The Danish base is not published, and a test's p-value depends on it: it is shown from a quarter of the assumed
# base to twice it (with 1,300 assumed: 325 to 2,600), so no single assumption decides what reads as a difference.
BASE_FACTORS = (0.25, 1.0, 2.0)


def nordic_bases(dk_base: int) -> tuple[int, ...]:
    return tuple(round(f * dk_base) for f in BASE_FACTORS)


def nordic_sensitivity(dk_base: int, no_base: int) -> pd.DataFrame:
    """The score test's p-value for each published DK-NO difference at each Danish base in ``nordic_bases``: one
    column per base (named by the base), one row per indicator."""
    out = nordic_table()[["indicator"]].copy()
    for base in nordic_bases(dk_base):
        out[base] = nordic_comparison(base, no_base)["p_value"].to_numpy()
    return out


def published_sector_rates() -> dict[str, float]:
    """KS's published innovation rates by sector (8 of 10, 7 of 10), percent."""
    return published_table("ks_sector_rates").set_index("sector")["share_pct"].to_dict()


def derived_no_base() -> int:
    """Norwegian municipal innovations implied by KS's published sample and innovation rate (our arithmetic)."""
    from ..data.published import spec

    n = survey_base("KS innovation barometer 2018", "responding unit managers")
    return round(n * spec("ks.units_innovated")["published_value"] / 100)


def headline_bounds(sector_rates: tuple[float, float]) -> tuple[float, float]:
    """A headline share of two sectors lies between the two sector shares; each is published as "N of 10", which
    allows 5 points either side (the `tenths` rule), so the bounds are the widest those wordings allow: 8 and 7 of
    10 give [65, 85]."""
    from ..targets import interval

    return (min(interval("tenths", r)[0] for r in sector_rates), max(interval("tenths", r)[1] for r in sector_rates))


def implied_weight_range(headline: tuple[float, float], sector_rates: tuple[float, float]) -> tuple[float, float]:
    """The shares of the high-rate sector that the published headline and sector rates allow, each read as the
    interval its wording allows (``headline`` as its target interval, each sector rate by the `tenths` rule): every
    weight w with headline = w * high + (1 - w) * low for some values inside those intervals. "8 of 10" and "7 of 10"
    with a headline of 74% allow anything from 0 to 95%, so no single "implied" share can be printed."""
    import numpy as np

    from ..targets import interval

    (hi_low, hi_high), (lo_low, lo_high) = (interval("tenths", r) for r in sorted(sector_rates, reverse=True))
    weights = [(h - low) / (high - low)
               for h in np.linspace(headline[0], headline[1], 11)
               for high in np.linspace(hi_low, hi_high, 41) for low in np.linspace(lo_low, lo_high, 41)
               if high > low and low <= h <= high]
    return (float(min(weights)), float(max(weights)))
