"""KORA (2016): municipal collaboration with civil society, survey of department heads (October 2015).

Unit non-response (a head who did not answer at all: ``responded`` = 0) and item non-response (a respondent who
left a question blank) are kept apart: the response rate is over the invited heads; every other share is over
the respondents who answered that question, and says how many did.
"""

from __future__ import annotations

import pandas as pd

from .. import data, fmt, stats
from ..data import category
from ..i18n import N_, _


def respondents(heads: pd.DataFrame) -> pd.DataFrame:
    return heads[heads["responded"] == 1]


def with_region_names(heads: pd.DataFrame) -> pd.DataFrame:
    names = data.municipalities().drop_duplicates("region_code").set_index("region_code")["region_name"]
    return heads.assign(region=heads["region_code"].map(names))


def response_rate(heads: pd.DataFrame) -> stats.Estimate:
    return stats.proportion(int(heads["responded"].sum()), len(heads)).percent()


# KORA: "svarprocenten er jævnt fordelt på kommunetyper, geografi og fagområder": size class, region, policy area.
RESPONSE_BREAKDOWNS = {N_("size class"): "size_class", N_("region"): "region", N_("policy area"): "policy_area"}


def response_difference(heads: pd.DataFrame) -> stats.GroupDifference:
    """Is response evenly spread over municipality types, geography and policy areas, as KORA says? The group (of any
    of the three breakdowns) whose response rate differs most from the rest, with what is ruled out for all."""
    named = with_region_names(heads)
    return stats.largest_difference_across({_(label): (named["responded"], named[column].map(category))
                                            for label, column in RESPONSE_BREAKDOWNS.items()})


def share_by(heads: pd.DataFrame, column: str, breakdown: str) -> pd.DataFrame:
    """Share of answering respondents with ``column`` = 1 by policy area, size class or region (Wilson intervals)."""
    resp = with_region_names(respondents(heads))
    rows = []
    for group, part in resp.groupby(breakdown):
        e = stats.proportion_answered(part[column]).percent()
        rows.append({breakdown: group, "answered": e.n, "share": e.value, "low": e.low, "high": e.high})
    return pd.DataFrame(rows).sort_values("share", ascending=False, ignore_index=True)


def increased_focus(heads: pd.DataFrame) -> stats.Estimate:
    """Share of respondents' areas with increased focus, among those who answered the question."""
    return stats.proportion_answered(respondents(heads)["increased_focus"]).percent()


def dependence_on(heads: pd.DataFrame, by: str) -> stats.GroupDifference:
    """KORA: "Omfanget og karakteren af samarbejdet er hverken afhængigt af regional placering eller politisk
    flertal". Scope is the question on increased focus, character the overall value named (each value a yes/no of
    its own); the largest difference between a group of ``by`` and the rest over all of them, and what is ruled out."""
    resp = with_region_names(respondents(heads))
    value = resp["overall_value"]
    questions = {_("increased focus"): resp["increased_focus"]}
    for name in sorted(value.dropna().unique()):
        questions[_("overall value '{name}'").format(name=category(name))] = (
            (value == name).astype("Float64").mask(value.isna()))
    return stats.largest_difference_across({q: (answers, resp[by].map(category)) for q, answers in questions.items()})


def no_difference_note(d: stats.GroupDifference, what: str, locale: str | None = None) -> str:
    """What a claim of 'no difference' rests on: the largest difference found and the differences the data rule out
    (in the run's language; ``what`` already in it)."""
    def pp(x: float) -> str:
        return fmt.points(x, 1, locale)

    group = d.group  # named in the run's language by the breakdown that found it
    if d.groups == 2:
        found = _("{group} minus the other group: {estimate} (95% CI {low} to {high})").format(
            group=group, estimate=pp(d.estimate), low=pp(d.low), high=pp(d.high))
        scope = _("between the two groups")
    else:
        over = _("the {n} comparisons ({scope})") if d.scope else _("the {n} comparisons")
        found = _("the largest difference is {group} against the rest, {estimate} (95% CI {low} to {high}; intervals "
                  "Bonferroni-adjusted over {over})").format(
            group=group, estimate=pp(d.estimate), low=pp(d.low), high=pp(d.high),
            over=over.format(n=d.groups, scope=d.scope))
        scope = _("between any group and the rest in any of them") if d.scope else _("between any group and the rest")
    return _("{what}: {found}. The data rule out differences larger than {ruled_out} {scope}; smaller ones cannot be "
             "excluded, so 'no difference' means no difference of that size, not none at all.").format(
        what=what, found=found, ruled_out=pp(d.ruled_out), scope=scope)


def collaboration_shares(collabs: pd.DataFrame, heads: pd.DataFrame) -> dict[str, stats.Estimate]:
    """Shares of concrete collaborations across policy areas and with several civil partners (among answers).

    The collaborations are clustered: several come from one municipality (its heads describe them), and those are
    more alike than collaborations from different municipalities. The intervals are cluster-robust, with the
    municipality as the cluster (Taylor linearisation, residuals summed per municipality), not Wilson intervals
    that would treat every collaboration as independent.
    """
    municipality = collabs["head_id"].map(heads.set_index("head_id")["municipality_code"])
    if municipality.isna().any():
        from ..errors import DataError

        missing = collabs.loc[municipality.isna(), "head_id"].iloc[0]
        raise DataError("kora_collaborations", f"head_id {missing} is not a head in kora_heads", column="head_id")
    partners = collabs["civil_partners"].astype("Float64")

    def share(values) -> stats.Estimate:
        return stats.weighted_proportion(stats.as_float(values), clusters=municipality.to_numpy()).percent()

    return {"cross_area": share(collabs["cross_area"]), "several_partners": share((partners > 1).astype("Float64"))}


def overall_values(heads: pd.DataFrame) -> pd.DataFrame:
    return stats.category_shares(respondents(heads)["overall_value"])


def cost_effectiveness_by_pressure(heads: pd.DataFrame) -> stats.Comparison:
    """Ratio of the share naming cost-effectiveness: high spending pressure vs other (among those who answered)."""
    resp = respondents(heads)
    resp = resp[resp["overall_value"].notna()]
    cost = resp["overall_value"] == "cost-effectiveness"
    high = resp["spending_pressure"] == "high"
    return stats.ratio_of_proportions(int((cost & high).sum()), int(high.sum()), int((cost & ~high).sum()),
                                      int((~high).sum()))


def collaborations_by_area(collabs: pd.DataFrame) -> pd.DataFrame:
    out = collabs.groupby("policy_area").agg(collaborations=("collaboration_id", "size"),
                                             long_term_share=("long_term", "mean")).reset_index()
    out["long_term_share"] = out["long_term_share"].astype(float) * 100
    return out.sort_values("collaborations", ascending=False, ignore_index=True)


def initiators(collabs: pd.DataFrame) -> pd.DataFrame:
    return stats.category_shares(collabs["initiator"])
