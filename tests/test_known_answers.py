"""Each estimator of the analysis modules on a small dataset whose answer is known by hand.

The pipeline checks run the estimators on the stand-ins, where an error smaller than an interval passes; these
datasets are built so that the usual one-line bugs give a different number: a ratio turned upside down, a sort the
wrong way, blanks counted as "no" (or kept in a denominator), weights out of line with their answers after blanks
are dropped. bench/mutations.toml lists those bugs; tests/test_mutations.py checks that each one fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kommunelab import stats
from kommunelab.analysis import coi, di, kl, kora, ks

NA = np.nan


def heads(rows: list[tuple]) -> pd.DataFrame:
    """KORA heads from (responded, spending_pressure, overall_value, increased_focus, region_code, policy_area)."""
    frame = pd.DataFrame(rows, columns=["responded", "spending_pressure", "overall_value", "increased_focus",
                                        "region_code", "policy_area"])
    frame["increased_focus"] = frame["increased_focus"].astype("Float64")
    return frame.assign(head_id=range(len(frame)), municipality_code=101, size_class="large", mayor_party="A")


def test_kora_pressure_ratio_leaves_blank_values_out_and_keeps_high_pressure_on_top():
    """High pressure: 3 of 4 answers name cost-effectiveness; other: 2 of 8. Ratio (3/4) / (2/8) = 3. Two blank
    answers in each group would make it (3/6) / (2/10) = 2.5 if kept in the denominators; swapped, it is 1/3."""
    rows = ([(1, "high", "cost-effectiveness", 1, 84, "a")] * 3 + [(1, "high", "quality", 1, 84, "a")]
            + [(1, "high", None, 1, 84, "a")] * 2
            + [(1, "low", "cost-effectiveness", 1, 84, "a")] * 2 + [(1, "low", "quality", 1, 84, "a")] * 6
            + [(1, "low", None, 1, 84, "a")] * 2 + [(0, "high", "cost-effectiveness", NA, 84, "a")] * 5)
    c = kora.cost_effectiveness_by_pressure(heads(rows))
    assert c.estimate == pytest.approx(3.0)
    assert c.low < 3.0 < c.high


def test_kora_response_rate_counts_answers_over_everyone_invited():
    rows = [(1, "high", "quality", 1, 84, "a")] * 3 + [(0, "high", None, NA, 84, "a")]
    e = kora.response_rate(heads(rows))
    assert (e.value, e.n) == (75.0, 4)


def test_kora_increased_focus_leaves_blanks_out():
    """3 of the 4 answers say yes; 2 respondents left it blank (blanks as "no" would give 3 of 6)."""
    rows = ([(1, "high", "quality", 1, 84, "a")] * 3 + [(1, "high", "quality", 0, 84, "a")]
            + [(1, "high", "quality", NA, 84, "a")] * 2 + [(0, "high", None, NA, 84, "a")] * 4)
    e = kora.increased_focus(heads(rows))
    assert (e.value, e.n) == (75.0, 4)


def test_kora_areas_are_ordered_by_number_of_collaborations():
    collabs = pd.DataFrame({"collaboration_id": range(6), "policy_area": ["b", "a", "a", "c", "a", "c"],
                            "long_term": pd.array([1, 0, 1, 1, NA, 0], dtype="Int64")})
    out = kora.collaborations_by_area(collabs)
    assert out["policy_area"].tolist() == ["a", "c", "b"] and out["collaborations"].tolist() == [3, 2, 1]


def test_kora_collaboration_shares_leave_blanks_out():
    collabs = pd.DataFrame({"cross_area": pd.array([1, 0, 1, NA, NA], dtype="Int64"),
                            "civil_partners": pd.array([1, 3, 2, 2, NA], dtype="Int64"),
                            "head_id": [1, 1, 2, 2, 3]})
    in_municipalities = pd.DataFrame({"head_id": [1, 2, 3], "municipality_code": [101, 147, 151]})
    shares = kora.collaboration_shares(collabs, in_municipalities)
    assert (shares["cross_area"].value, shares["cross_area"].n) == (pytest.approx(200 / 3), 3)
    assert (shares["several_partners"].value, shares["several_partners"].n) == (75.0, 4)


def coi_frame(rows: list[tuple]) -> pd.DataFrame:
    """COI workplaces from (innovated, citizens_role, volunteers_role, democratic_value, weight)."""
    frame = pd.DataFrame(rows, columns=["innovated", "citizens_role", "volunteers_role", "democratic_value", "weight"])
    for col in ("innovated", "citizens_role", "volunteers_role", "democratic_value"):
        frame[col] = frame[col].astype("Float64")
    return frame.assign(sector="municipal", stratum="s", workplace_id=range(len(frame)))


def test_coi_democratic_value_ratio_is_with_citizens_over_without():
    """With citizens or associations: 3 of 4 report democratic value; without: 1 of 4. Ratio 3, not 1/3. Two
    innovations whose role is unknown belong to neither group."""
    rows = ([(1, 1, 0, 1, 1.0)] * 2 + [(1, 1, 1, 1, 1.0)] + [(1, 0, 1, 0, 1.0)]
            + [(1, 0, 0, 1, 1.0)] + [(1, 0, 0, 0, 1.0)] * 3 + [(1, NA, 0, 1, 1.0), (1, 0, NA, 0, 1.0)])
    ratio, with_active, without = coi.democratic_value_ratio(coi_frame(rows))
    assert (with_active.value, without.value) == (75.0, 25.0) and ratio.estimate == pytest.approx(3.0)
    assert (with_active.n, without.n) == (4, 4)


def test_coi_either_role_is_one_when_either_is_and_blank_unless_both_answered():
    a, b = np.array([1, 0, 0, 1, NA, NA]), np.array([0, 1, 0, 1, 0, 1])
    assert np.array_equal(coi.either(a, b), np.array([1, 1, 0, 1, NA, NA]), equal_nan=True)


def test_coi_weighted_shares_leave_blanks_out():
    """Weighted 1 + 3 of 1 + 3 + 4 answered (blank weight 10 left out): 50%; blanks as "no" would give 4/18."""
    rows = [(1, 1, 0, 0, 1.0), (1, 1, 0, 0, 3.0), (1, 0, 0, 0, 4.0), (1, NA, 0, 0, 10.0)]
    e = coi.innovation_roles(coi_frame(rows))["citizens"]
    assert (e.value, e.n) == (50.0, 3)
    innovated = coi.workplaces_innovated(coi_frame([(1, 0, 0, 0, 1.0), (0, 0, 0, 0, 3.0), (NA, 0, 0, 0, 9.0)]))
    assert (innovated.value, innovated.n) == (25.0, 2)


def ks_frame(rows: list[tuple]) -> pd.DataFrame:
    """KS units from (sector, innovated, value_quality, weight)."""
    frame = pd.DataFrame(rows, columns=["sector", "innovated", "value_quality", "weight"])
    frame["innovated"] = frame["innovated"].astype("Float64")
    frame["value_quality"] = frame["value_quality"].astype("Float64")
    return frame.assign(value_employee_satisfaction=frame["value_quality"], value_efficiency=frame["value_quality"],
                        value_citizen_influence=frame["value_quality"], unit_id=range(len(frame)))


def test_ks_sector_gap_is_education_minus_health():
    rows = ([("education & childhood", 1, 1, 1.0)] * 8 + [("education & childhood", 0, NA, 1.0)] * 2
            + [("health & care", 1, 1, 1.0)] * 6 + [("health & care", 0, NA, 1.0)] * 4)
    gap = ks.sector_gap(ks_frame(rows))
    assert gap.estimate == pytest.approx(20.0)


def test_ks_units_innovated_leaves_blanks_out():
    rows = ([("health & care", 1, 1, 1.0)] * 3 + [("health & care", 0, NA, 1.0)]
            + [("health & care", NA, NA, 1.0)] * 4)
    e = ks.units_innovated(ks_frame(rows))
    assert (e.value, e.n) == (75.0, 4)


def test_ks_value_forms_are_shares_of_the_units_that_innovated():
    """Of 4 innovating units 3 report better quality; units that did not innovate are not asked, whatever a file
    holds for them."""
    rows = ([("health & care", 1, 1, 1.0)] * 3 + [("health & care", 1, 0, 1.0)]
            + [("health & care", 0, 0, 1.0)] * 4)
    forms = ks.value_forms(ks_frame(rows)).set_index("value_form")
    assert forms.loc["better quality", "share"] == pytest.approx(75.0) and forms.loc["better quality", "answered"] == 4


def test_weighted_category_shares_keep_each_weight_with_its_answer_when_blanks_are_dropped():
    """a, (blank), b, a with weights 1, 100, 3, 1: a = 2 of 5 = 40%, b = 60%. Weights taken in order after the blank
    is dropped (1, 100, 3) would give a = 4 of 104."""
    shares = stats.category_shares(pd.Series(["a", None, "b", "a"]), pd.Series([1.0, 100.0, 3.0, 1.0]))
    by = shares.set_index("category")
    assert by.loc["a", "share"] == pytest.approx(40.0) and by.loc["b", "share"] == pytest.approx(60.0)
    assert by.loc["b", "rank"] == 1 and by.loc["a", "answered"] == 3


def test_weighted_estimators_leave_blanks_out():
    e = stats.weighted_proportion(np.array([1, NA, 0, 1]), np.array([1.0, 5.0, 1.0, 2.0]))
    assert (e.value, e.n) == (pytest.approx(0.75), 3)
    assert np.isnan(stats.as_float(pd.Series([1, None, 0], dtype="Int64"))[1])


def kl_frame(purposes: list, codes: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"collaboration_id": range(len(purposes)), "municipality_code": codes,
                         "main_purpose": purposes, "partner_type": "company"})


def test_kl_collaborations_per_municipality_counts_municipalities_with_none():
    """7 collaborations in 2 municipalities: 7/98 per municipality, not 3.5."""
    e = kl.collaborations_per_municipality(kl_frame(["x"] * 7, [101] * 4 + [147] * 3))
    assert e.value == pytest.approx(7 / 98) and e.n == 98


def test_kl_purpose_shares_leave_a_blank_purpose_out():
    purposes = ["innovation and development"] * 2 + ["other"] * 2 + [None] * 4
    out = kl.purpose_by(kl_frame(purposes, [101] * 8), "partner_type")
    assert out["share"].tolist() == [50.0] and out["collaborations"].tolist() == [4]
    shares = kl.purpose_shares(kl_frame(purposes, [101] * 8)).set_index("category")
    assert shares.loc["other", "share"] == 50.0 and shares.loc["other", "answered"] == 4


def test_di_target_level_lifts_each_account_to_its_top_mean():
    """Two accounts of three municipalities, the top two in each: account 1 targets 25%, account 2 targets 45%."""
    frame = pd.DataFrame({"municipality_code": [101, 147, 151] * 2, "main_account": ["1"] * 3 + ["2"] * 3,
                          "spending_dkk": [100.0, 100.0, 200.0, 50.0, 50.0, 100.0],
                          "iku_pct": [10.0, 20.0, 30.0, 40.0, 50.0, 0.0]})
    lifted = (100 * 25 + 100 * 25 + 200 * 30 + 50 * 45 + 50 * 50 + 100 * 45) / 600
    assert di.lifted_iku(frame, top_n=2) == pytest.approx(lifted)
    shares = di.potential_shares(frame, top_n=2)
    potentials = {101: 100 * 15 + 50 * 5, 147: 100 * 5, 151: 100 * 45}
    assert shares[101] == pytest.approx(100 * potentials[101] / sum(potentials.values()))


def test_a_difference_of_independent_estimates_adds_their_variances():
    """Standard errors 3 and 4 points give a difference with standard error 5 (not 7)."""
    a = stats.Estimate(0.80, 0.74, 0.86, 100, "test", se=0.03)
    b = stats.Estimate(0.70, 0.62, 0.78, 100, "test", se=0.04)
    d = stats.difference(a, b)
    assert d.estimate == pytest.approx(0.10) and (d.high - d.low) / 2 == pytest.approx(stats.Z95 * 0.05)


def test_response_is_checked_as_even_over_every_breakdown_kora_names():
    """KORA says response is even over municipality types, geography and policy areas: a difference in size class
    alone (here: large municipalities all answer, small ones a third) is found, though regions are balanced."""
    rows = []
    for region in (81, 82, 83, 84, 85):
        rows += [(1, "high", "quality", 1, region, "a")] * 6  # large: 6 of 6 answer
        rows += [(1, "high", "quality", 1, region, "b")] * 2 + [(0, "high", None, NA, region, "b")] * 4  # small: 2 of 6
    frame = heads(rows)
    frame["size_class"] = ["large" if area == "a" else "small" for area in frame["policy_area"]]
    d = kora.response_difference(frame)
    assert d.scope == "size class, region, policy area" and d.group.startswith(("size class: ", "policy area: "))
    assert abs(d.estimate) == pytest.approx(100 * (6 / 6 - 2 / 6)) and (d.low > 0 or d.high < 0)


def test_no_dependence_is_checked_on_scope_and_character():
    """KORA: neither the scope (increased focus) nor the character (overall value) depends on the mayor's party. A
    difference in the overall value alone is found."""
    rows = ([(1, "high", "democratic value", 1, 84, "a")] * 20 + [(1, "high", "quality", 1, 84, "a")] * 20
            + [(1, "high", "quality", 1, 84, "a")] * 40)
    frame = heads(rows)
    frame["mayor_party"] = ["blue"] * 40 + ["red"] * 40
    d = kora.dependence_on(frame, "mayor_party")
    assert d.group.startswith("overall value") and abs(d.estimate) == pytest.approx(50.0)
    assert d.scope == "increased focus, overall value 'democratic value', overall value 'quality'"


def test_a_cluster_robust_interval_is_the_plain_one_for_clusters_of_one():
    y = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 1.0])
    plain = stats.weighted_proportion(y)
    alone = stats.weighted_proportion(y, clusters=np.arange(len(y)))
    assert (alone.value, alone.se) == (pytest.approx(plain.value), pytest.approx(plain.se))


def test_a_cluster_robust_interval_widens_when_answers_are_alike_within_a_municipality():
    """20 municipalities of 10 collaborations each, 60% yes overall. Mixed within municipalities (6 of 10 yes in
    each), the answers vary only within clusters and the cluster-robust interval is narrower than the independent
    one; alike within municipalities (12 all yes, 8 all no), it is far wider: the independent interval would claim
    a precision 200 answers do not have, when they carry about as much as 20."""
    clusters = np.repeat(np.arange(20), 10)
    mixed = np.tile([1, 1, 1, 1, 1, 1, 0, 0, 0, 0.0], 20)
    alike = np.repeat([1.0] * 12 + [0.0] * 8, 10)
    independent = stats.weighted_proportion(alike)
    clustered_alike = stats.weighted_proportion(alike, clusters=clusters)
    clustered_mixed = stats.weighted_proportion(mixed, clusters=clusters)
    assert independent.value == clustered_alike.value == pytest.approx(0.6)
    assert clustered_alike.se > 3 * independent.se  # design effect about 10 -> se about 3.2 times as large
    assert clustered_alike.se == pytest.approx(np.sqrt(20 / 19 * 20 * (0.4 ** 2 * 12 + 0.6 ** 2 * 8) / 20 / 400))
    assert clustered_mixed.se < independent.se


def test_kora_collaboration_shares_are_clustered_by_municipality():
    """Two municipalities' heads describe 10 collaborations each: all cross areas in one, none in the other. As
    independent answers 10 of 20 would give 50% +- 22 points; clustered, two units cannot pin the share down."""
    collabs = pd.DataFrame({"cross_area": pd.array([1] * 10 + [0] * 10, dtype="Int64"),
                            "civil_partners": pd.array([2] * 20, dtype="Int64"), "head_id": [1] * 10 + [2] * 10})
    e = kora.collaboration_shares(collabs, pd.DataFrame({"head_id": [1, 2], "municipality_code": [101, 147]}))["cross_area"]
    wilson = stats.proportion(10, 20).percent()
    assert e.value == 50.0 and e.high - e.low > 1.5 * (wilson.high - wilson.low) and "cluster-robust" in e.method


def test_the_danish_norwegian_test_is_shown_for_a_range_of_danish_bases():
    """The Danish base is assumed; the p-value moves with it (the reviewer: p < 0.001 at 1,300, 0.032 at 300), so
    the table gives it from a quarter of the assumed base to twice it, and where the shares differ a smaller base
    gives a larger p."""
    assert ks.nordic_bases(1300) == (325, 1300, 2600)
    table = ks.nordic_sensitivity(1300, 400)
    assert list(table.columns) == ["indicator", 325, 1300, 2600]
    differing = table[table[2600] < 0.5]  # where the shares differ (equal shares give p near 1 at any base)
    assert len(differing) >= 3
    assert (differing[325] > differing[1300]).all() and (differing[1300] > differing[2600]).all()
