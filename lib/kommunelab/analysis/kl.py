"""KL's mapping of municipal collaborations (2017-18) and the innovation-barometer figures it cites."""

from __future__ import annotations

import pandas as pd

from .. import data, stats


def collaborations_per_municipality(kl: pd.DataFrame) -> stats.Estimate:
    """Mean number of collaborations per municipality over all 98 (a municipality with none counts as 0)."""
    codes = data.municipalities()["municipality_code"]
    counts = kl.groupby("municipality_code").size().reindex(codes, fill_value=0)
    return stats.weighted_mean(counts.to_numpy())


def purpose_shares(kl: pd.DataFrame) -> pd.DataFrame:
    return stats.category_shares(kl["main_purpose"])


def purpose_by(kl: pd.DataFrame, breakdown: str, purpose: str = "innovation and development") -> pd.DataFrame:
    """Share of collaborations with ``purpose`` as main purpose, by region, size class or partner type."""
    frame = kl.copy()
    if breakdown in ("region", "size_class"):
        munis = data.municipalities().set_index("municipality_code")
        pop = data.population(year=2017, level="municipality").set_index("area_code")["population"]
        frame["region"] = frame["municipality_code"].map(munis["region_name"])
        frame["size_class"] = frame["municipality_code"].map(pop).map(data.size_class)
    frame = frame[frame["main_purpose"].notna()]  # a blank purpose is item non-response, not "another purpose"
    rows = []
    for group, part in frame.groupby(breakdown):
        e = stats.proportion(int((part["main_purpose"] == purpose).sum()), len(part)).percent()
        rows.append({breakdown: group, "collaborations": len(part), "share": e.value, "low": e.low, "high": e.high})
    return pd.DataFrame(rows)


def established_by_year(kl: pd.DataFrame) -> pd.DataFrame:
    return kl.groupby("established").size().rename("collaborations").reset_index()


def municipal_innovations(coi: pd.DataFrame) -> pd.DataFrame:
    """The municipal workplaces of COI's barometer that innovated."""
    return coi[(coi["sector"] == "municipal") & (coi["innovated"] == 1)]


def municipal_innovation_collaboration(coi: pd.DataFrame) -> dict[str, stats.Estimate]:
    """Weighted shares of municipal workplaces' latest innovations made with outside actors, another workplace
    in the same municipality, and at least one external party."""
    inn = municipal_innovations(coi)
    return {col: stats.weighted_proportion(stats.as_float(inn[col]),
                                           inn["weight"], inn["stratum"]).percent()
            for col in ("outside_actor", "same_municipality", "external_party")}
