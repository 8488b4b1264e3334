"""KORA (2016): municipal collaboration with civil society, survey of department heads (October 2015)."""

from __future__ import annotations

import pandas as pd

from .. import data, stats

BREAKDOWNS = ("policy_area", "size_class", "region")


def respondents(heads: pd.DataFrame) -> pd.DataFrame:
    return heads[heads["responded"] == 1]


def with_region_names(heads: pd.DataFrame) -> pd.DataFrame:
    names = data.municipalities().drop_duplicates("region_code").set_index("region_code")["region_name"]
    return heads.assign(region=heads["region_code"].map(names))


def response_rate(heads: pd.DataFrame) -> stats.Estimate:
    return stats.proportion(int(heads["responded"].sum()), len(heads)).percent()


def response_by(heads: pd.DataFrame, breakdown: str) -> stats.ChiSquare:
    """Chi-square test of response against a breakdown (is response evenly spread?)."""
    table = pd.crosstab(with_region_names(heads)[breakdown], heads["responded"])
    return stats.chi_square(table.to_numpy())


def share_by(heads: pd.DataFrame, column: str, breakdown: str) -> pd.DataFrame:
    """Share of respondents with ``column`` = 1 by policy area, size class or region, with Wilson intervals."""
    if breakdown not in BREAKDOWNS:
        raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}, got {breakdown!r}")
    resp = with_region_names(respondents(heads))
    rows = []
    for group, part in resp.groupby(breakdown):
        e = stats.proportion(int(part[column].sum()), len(part)).percent()
        rows.append({breakdown: group, "respondents": len(part), "share": e.value, "low": e.low, "high": e.high})
    return pd.DataFrame(rows).sort_values("share", ascending=False, ignore_index=True)


def increased_focus(heads: pd.DataFrame) -> stats.Estimate:
    resp = respondents(heads)
    return stats.proportion(int(resp["increased_focus"].sum()), len(resp)).percent()


def independence(heads: pd.DataFrame, by: str) -> stats.ChiSquare:
    """Chi-square test of increased focus against region or the mayor's party."""
    resp = with_region_names(respondents(heads))
    return stats.chi_square(pd.crosstab(resp[by], resp["increased_focus"]).to_numpy())


def collaboration_shares(collabs: pd.DataFrame) -> dict[str, stats.Estimate]:
    """Shares of concrete collaborations across policy areas and with several civil partners.

    Wilson intervals treat collaborations as independent; collaborations described by the same head are not,
    so the intervals are somewhat too narrow.
    """
    n = len(collabs)
    return {"cross_area": stats.proportion(int(collabs["cross_area"].sum()), n).percent(),
            "several_partners": stats.proportion(int((collabs["civil_partners"] > 1).sum()), n).percent()}


def overall_values(heads: pd.DataFrame) -> pd.DataFrame:
    return stats.category_shares(respondents(heads)["overall_value"])


def cost_effectiveness_by_pressure(heads: pd.DataFrame) -> stats.Comparison:
    """Ratio of the share naming cost-effectiveness: high spending pressure vs other municipalities."""
    resp = respondents(heads)
    cost = resp["overall_value"] == "cost-effectiveness"
    high = resp["spending_pressure"] == "high"
    return stats.ratio_of_proportions(int((cost & high).sum()), int(high.sum()), int((cost & ~high).sum()),
                                      int((~high).sum()))


def collaborations_by_area(collabs: pd.DataFrame) -> pd.DataFrame:
    out = collabs.groupby("policy_area").agg(collaborations=("collaboration_id", "size"),
                                             long_term_share=("long_term", "mean")).reset_index()
    out["long_term_share"] *= 100
    return out.sort_values("collaborations", ascending=False, ignore_index=True)


def initiators(collabs: pd.DataFrame) -> pd.DataFrame:
    return stats.category_shares(collabs["initiator"])
