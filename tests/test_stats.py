"""Survey statistics against textbook formulas and published reference values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kommunelab import stats


def wilson(x, n, z=1.959963984540054):
    """Wilson (1927) score interval, written out as in the textbooks."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("x, n", [(81, 263), (0, 10), (444, 838), (1, 1786)])
def test_wilson_interval(x, n):
    e = stats.proportion(x, n)
    lo, hi = wilson(x, n)
    assert e.value == pytest.approx(x / n)
    assert (e.low, e.high) == pytest.approx((lo, hi), abs=1e-10)
    assert "Wilson" in e.method


def test_proportion_rejects_impossible_counts():
    with pytest.raises(ValueError, match="between 0 and n"):
        stats.proportion(5, 4)


def test_weighted_mean_equal_weights_matches_srs_formula():
    y = np.array([1] * 30 + [0] * 70, dtype=float)
    e = stats.weighted_proportion(y)
    # with-replacement linearisation: var = p(1-p)/(n-1)
    se = math.sqrt(0.3 * 0.7 / 99)
    assert e.value == pytest.approx(0.3)
    assert (e.low, e.high) == pytest.approx((0.3 - 1.959964 * se, 0.3 + 1.959964 * se), rel=1e-5)


def test_weighted_stratified_mean_by_hand():
    # Two strata; population totals 100 and 300 represented by 4 and 3 units (weights 25 and 100).
    y = np.array([1, 2, 3, 4, 10, 12, 14], dtype=float)
    w = np.array([25, 25, 25, 25, 100, 100, 100], dtype=float)
    h = np.array(["a"] * 4 + ["b"] * 3)
    e = stats.weighted_mean(y, w, h)
    mean = (25 * 10 + 100 * 36) / 400
    assert e.value == pytest.approx(mean)
    # Stratified variance of the ratio estimator, computed from the residuals z = w (y - mean) / W.
    var = 0.0
    for stratum in ("a", "b"):
        z = w[h == stratum] * (y[h == stratum] - mean) / 400
        var += len(z) / (len(z) - 1) * ((z - z.mean()) ** 2).sum()
    assert e.high - e.value == pytest.approx(1.959964 * math.sqrt(var), rel=1e-5)
    # Stratification here removes the between-strata variance: narrower than ignoring strata.
    assert e.high - e.low < stats.weighted_mean(y, w).high - stats.weighted_mean(y, w).low


def test_two_proportions_newcombe_reference():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339.
    c = stats.two_proportions(56, 70, 48, 80)
    assert c.estimate == pytest.approx(0.2)
    assert (c.low, c.high) == pytest.approx((0.0524, 0.3339), abs=5e-4)
    assert c.p_value < 0.05


def test_ratio_of_proportions_katz_formula():
    x1, n1, x2, n2 = 24, 100, 8, 100
    c = stats.ratio_of_proportions(x1, n1, x2, n2)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    assert c.estimate == pytest.approx(3.0)
    assert (c.low, c.high) == pytest.approx((3 * math.exp(-1.959964 * se), 3 * math.exp(1.959964 * se)), rel=1e-4)


def test_ratio_of_estimates_delta_method():
    a = stats.Estimate(0.24, 0.20, 0.28, 500, "")
    b = stats.Estimate(0.08, 0.06, 0.10, 500, "")
    r = stats.ratio(a, b)
    se_log = math.hypot(0.04 / 1.959964 / 0.24, 0.02 / 1.959964 / 0.08)
    assert r.estimate == pytest.approx(3.0)
    assert r.low == pytest.approx(3 * math.exp(-1.959964 * se_log), rel=1e-5)


def test_chi_square_by_hand():
    table = [[20, 30], [30, 20]]
    # expected 25 in every cell: sum (o-e)^2/e = 4 * 25/25 = 4
    result = stats.chi_square(table)
    assert result.statistic == pytest.approx(4.0) and result.dof == 1
    assert result.p_value == pytest.approx(0.0455, abs=1e-4)


def test_category_shares_ranks():
    shares = stats.category_shares(["a"] * 5 + ["b"] * 3 + ["c"] * 2)
    assert shares["category"].tolist() == ["a", "b", "c"] and shares["rank"].tolist() == [1, 2, 3]
    assert shares["share"].tolist() == pytest.approx([50, 30, 20])


def test_largest_group_difference_with_two_groups_is_the_newcombe_difference():
    y = [1] * 56 + [0] * 14 + [1] * 48 + [0] * 32
    g = ["a"] * 70 + ["b"] * 80
    d = stats.largest_group_difference(y, g)
    c = stats.two_proportions(56, 70, 48, 80)
    assert d.group == "a" and d.groups == 2 and d.n == 150
    assert (d.estimate, d.low, d.high) == pytest.approx((100 * c.estimate, 100 * c.low, 100 * c.high))
    assert d.ruled_out == pytest.approx(100 * c.high)


def test_largest_group_difference_adjusts_for_several_groups_and_skips_blanks():
    y = [1, 0] * 30 + [1] * 20 + [None] * 5
    g = ["a"] * 20 + ["b"] * 20 + ["c"] * 20 + ["d"] * 25
    d = stats.largest_group_difference(y, g)
    assert d.groups == 4 and d.n == 80 and d.group == "d"
    inside = stats.two_proportions(20, 20, 30, 60, alpha=0.05 / 4)
    assert (d.low, d.high) == pytest.approx((100 * inside.low, 100 * inside.high))


def test_proportion_answered_leaves_blanks_out():
    e = stats.proportion_answered(pd.Series([1, 0, None, 1, None], dtype="Int64"))
    assert e.n == 3 and e.value == pytest.approx(2 / 3)
