"""COI (2017-18): citizens and voluntary associations in public innovation, innovation barometer 2015-16."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats


def in_sector(coi: pd.DataFrame, sector: str) -> pd.DataFrame:
    """The workplaces of one sector ("all" for every one); the manifest has validated ``sector``."""
    return coi if sector == "all" else coi[coi["sector"] == sector]


def _weighted(frame: pd.DataFrame, values) -> stats.Estimate:
    return stats.weighted_proportion(np.asarray(values, dtype=float), frame["weight"], frame["stratum"]).percent()


def workplaces_innovated(coi: pd.DataFrame, sector: str = "all") -> stats.Estimate:
    part = in_sector(coi, sector)
    return _weighted(part, _answers(part, "innovated"))


def _answers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return stats.as_float(frame[column])


def either(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where either answer is 1, 0 where both are 0; NaN unless both were answered. Keeping (1, blank) but not
    (0, blank) would leave out only the cases that might be 0, and bias the share upwards."""
    return np.where(np.isnan(a) | np.isnan(b), np.nan, np.maximum(a, b))


def innovations(coi: pd.DataFrame, sector: str = "all") -> pd.DataFrame:
    """The workplaces of ``sector`` that innovated: the base of every question about the latest innovation."""
    inn = in_sector(coi, sector)
    return inn[inn["innovated"] == 1]


def innovation_roles(coi: pd.DataFrame, sector: str = "all") -> dict[str, stats.Estimate]:
    """Weighted shares of latest innovations with citizens, with associations, and with either (among answers)."""
    inn = innovations(coi, sector)
    citizens, volunteers = _answers(inn, "citizens_role"), _answers(inn, "volunteers_role")
    return {"citizens": _weighted(inn, citizens), "volunteers": _weighted(inn, volunteers),
            "either": _weighted(inn, either(citizens, volunteers))}


def union_bounds(a: float, b: float) -> tuple[float, float]:
    """Bounds on the share with A or B from the shares with A and with B (percent)."""
    return (max(a, b), min(100.0, a + b))


def democratic_value_ratio(coi: pd.DataFrame, sector: str = "all") -> tuple[stats.Comparison, stats.Estimate,
                                                                               stats.Estimate]:
    """How many times as often democratic value is reported when citizens or associations take part."""
    inn = innovations(coi, sector)
    active = either(_answers(inn, "citizens_role"), _answers(inn, "volunteers_role"))
    democratic = _answers(inn, "democratic_value")
    # Innovations whose role is unknown (a blank) belong to neither group.
    with_active = _weighted(inn[active == 1], democratic[active == 1])
    without = _weighted(inn[active == 0], democratic[active == 0])
    return stats.ratio(with_active, without), with_active, without


def by_sector(coi: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for sector in sorted(coi["sector"].unique()):
        e = workplaces_innovated(coi, sector)
        roles = innovation_roles(coi, sector)
        rows.append({"sector": sector, "innovated": e.value, "innovated_low": e.low, "innovated_high": e.high,
                     "with_citizens_or_associations": roles["either"].value})
    return pd.DataFrame(rows)
