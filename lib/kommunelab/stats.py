"""Survey estimates with their uncertainty, each saying which method it used.

- ``proportion``: a simple-random-sample proportion with a Wilson interval (statsmodels).
- ``weighted_proportion`` / ``weighted_mean``: design-based estimates for stratified, weighted samples; the
  variance is the Taylor-linearised variance of a ratio estimator with strata, sampling with replacement within
  strata (the usual first-order approximation, as in R's survey package with ``svydesign(strata=, weights=)``);
  with ``clusters`` the residuals are summed per cluster first (``svydesign(ids=~cluster)``: cluster-robust).
- ``two_proportions``: difference of two independent proportions, Newcombe interval and a score test.
- ``ratio_of_proportions``: p1 / p2 with a log-scale interval (for claims like "three times as often").
- ``chi_square``: Pearson's test of independence on a contingency table (scipy).
- ``largest_group_difference``: for a claim of "no difference between groups", each group against the rest with
  Newcombe intervals (Bonferroni over the groups), and the size of difference the data rule out;
  ``largest_difference_across`` does it over several breakdowns or questions at once.

Blank answers (NaN) are item non-response: every estimator leaves them out of its denominator and reports the
number of answers it used as ``n``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

Z95 = float(sps.norm.ppf(0.975))


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int
    method: str
    se: float | None = None  # standard error where the interval is symmetric before clipping to [0, 1]

    @property
    def ci(self) -> tuple[float, float]:
        return (self.low, self.high)

    def percent(self) -> Estimate:
        return Estimate(100 * self.value, 100 * self.low, 100 * self.high, self.n, self.method,
                        None if self.se is None else 100 * self.se)


@dataclass(frozen=True)
class Comparison:
    estimate: float
    low: float
    high: float
    p_value: float
    method: str

    @property
    def ci(self) -> tuple[float, float]:
        return (self.low, self.high)


def proportion(successes: int, n: int, alpha: float = 0.05) -> Estimate:
    """Share of ``successes`` in ``n`` with a Wilson score interval (simple random sample)."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    lo, hi = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return Estimate(successes / n, float(lo), float(hi), int(n), "Wilson score interval")


def proportion_answered(indicator, alpha: float = 0.05) -> Estimate:
    """Share of 1s among the 0/1 answers given (blanks left out), Wilson interval; ``n`` = answers used."""
    values = answered(indicator).astype(float)
    if not values.isin((0.0, 1.0)).all():
        raise ValueError("indicator must be 0/1")
    return proportion(int(values.sum()), len(values), alpha)


def weighted_mean(y, weights=None, strata=None, alpha: float = 0.05, clusters=None) -> Estimate:
    """Design-based weighted mean with a linearisation (stratified, with-replacement) confidence interval.

    ``clusters`` names each observation's primary sampling unit (e.g. its municipality, when several answers come
    from one): the linearised residuals are summed within each cluster before the variance, so answers that are
    alike within a cluster widen the interval instead of counting as independent (cluster-robust).
    """
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    if y.shape != w.shape:
        raise ValueError("y and weights must have the same length")
    keep = ~np.isnan(y)
    y, w = y[keep], w[keep]
    n = len(y)
    if n < 2:
        raise ValueError("need at least two observations")
    if (w <= 0).any():
        raise ValueError("weights must be positive")
    total = w.sum()
    mean = float((w * y).sum() / total)
    z = w * (y - mean) / total  # linearised residuals of the ratio estimator
    groups = np.zeros(n, dtype=int) if strata is None else pd.factorize(np.asarray(strata)[keep])[0]
    units = np.arange(n) if clusters is None else pd.factorize(np.asarray(clusters)[keep])[0]
    psu = pd.Series(z).groupby([groups, units]).sum()  # one residual per primary sampling unit, within its stratum
    var = 0.0
    for _, zh in psu.groupby(level=0):
        nh = len(zh)
        if nh < 2:
            raise ValueError("every stratum needs at least two sampling units for a variance estimate")
        var += nh / (nh - 1) * ((zh - zh.mean()) ** 2).sum()
    se = float(np.sqrt(var))
    half = float(sps.norm.ppf(1 - alpha / 2)) * se
    method = ("weighted, Taylor linearisation" + (" with strata" if strata is not None else "")
              + (", cluster-robust" if clusters is not None else ""))
    return Estimate(mean, float(mean - half), float(mean + half), n, method, se)


def weighted_proportion(indicator, weights=None, strata=None, alpha: float = 0.05, clusters=None) -> Estimate:
    """Weighted share of a 0/1 indicator; interval clipped to [0, 1]. ``clusters`` as in :func:`weighted_mean`."""
    values = np.asarray(indicator, dtype=float)
    ok = values[~np.isnan(values)]
    if not np.isin(ok, (0.0, 1.0)).all():
        raise ValueError("indicator must be 0/1")
    est = weighted_mean(values, weights, strata, alpha, clusters)
    return Estimate(est.value, max(0.0, est.low), min(1.0, est.high), est.n, est.method, est.se)


def _se(e: Estimate, alpha: float = 0.05) -> float:
    if e.se is not None:
        return e.se
    return (e.high - e.low) / (2 * float(sps.norm.ppf(1 - alpha / 2)))


def difference(a: Estimate, b: Estimate, alpha: float = 0.05) -> Comparison:
    """a - b for estimates from independent samples (normal approximation from their intervals)."""
    se = float(np.hypot(_se(a, alpha), _se(b, alpha)))
    d = a.value - b.value
    z = float(sps.norm.ppf(1 - alpha / 2))
    p = float(2 * sps.norm.sf(abs(d) / se)) if se > 0 else float("nan")
    return Comparison(d, d - z * se, d + z * se, p, "difference of independent estimates, normal approximation")


def ratio(a: Estimate, b: Estimate, alpha: float = 0.05) -> Comparison:
    """a / b for estimates from independent samples, delta method on the log scale."""
    if a.value <= 0 or b.value <= 0:
        raise ValueError("both estimates must be positive for a ratio")
    se_log = float(np.hypot(_se(a, alpha) / a.value, _se(b, alpha) / b.value))
    r = a.value / b.value
    z = float(sps.norm.ppf(1 - alpha / 2))
    p = float(2 * sps.norm.sf(abs(np.log(r)) / se_log))
    return Comparison(r, float(r * np.exp(-z * se_log)), float(r * np.exp(z * se_log)), p,
                      "ratio of independent estimates, delta method on the log scale")


def two_proportions(x1: int, n1: int, x2: int, n2: int, alpha: float = 0.05) -> Comparison:
    """p1 - p2 for independent samples: Newcombe hybrid score interval and a score test (statsmodels)."""
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=alpha)
    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels also reports an odds ratio, undefined at 0 or 1
        test = test_proportions_2indep(x1, n1, x2, n2, method="score", compare="diff")
    return Comparison(x1 / n1 - x2 / n2, float(lo), float(hi), float(test.pvalue), "Newcombe interval, score test")


def ratio_of_proportions(x1: int, n1: int, x2: int, n2: int, alpha: float = 0.05) -> Comparison:
    """p1 / p2 with a log-scale (Katz) interval and a score test of ratio = 1."""
    if x2 == 0:
        raise ValueError("the second proportion is zero; the ratio is undefined")
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio", alpha=alpha)
    test = test_proportions_2indep(x1, n1, x2, n2, method="score", compare="ratio")
    return Comparison((x1 / n1) / (x2 / n2), float(lo), float(hi), float(test.pvalue), "log (Katz) interval")


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float
    method: str = "Pearson chi-square test of independence"


def chi_square(table) -> ChiSquare:
    """Test of independence on a contingency table (rows x columns of counts)."""
    observed = np.asarray(table, dtype=float)
    stat, p, dof, _ = sps.chi2_contingency(observed, correction=False)
    return ChiSquare(float(stat), int(dof), float(p))


@dataclass(frozen=True)
class GroupDifference:
    """The group whose share differs most from the rest's, and what the data rule out for every group."""

    group: str
    estimate: float  # group minus the rest, percentage points
    low: float
    high: float
    ruled_out: float  # differences (any group vs the rest) larger than this, in points, are ruled out
    groups: int
    n: int
    method: str = "each group vs the rest: Newcombe intervals, Bonferroni-adjusted over the groups"
    scope: str = ""  # what was compared, when several breakdowns or questions were (largest_difference_across)

    @property
    def ci(self) -> tuple[float, float]:
        return (self.low, self.high)


def largest_group_difference(indicator, groups, alpha: float = 0.05) -> GroupDifference:
    """Each group's share of a 0/1 indicator minus the other groups' share, with simultaneous intervals.

    With two groups the first (in sorted order) is compared with the second at level ``alpha``.
    """
    frame = pd.DataFrame({"y": as_float(indicator),
                          "g": np.asarray(groups)}).dropna()
    labels = sorted(frame["g"].unique(), key=str)
    if len(labels) < 2:
        raise ValueError("need at least two groups")
    compare = labels[:1] if len(labels) == 2 else labels
    level = alpha / len(compare)
    rows = []
    for label in compare:
        inside, rest = frame[frame["g"] == label]["y"], frame[frame["g"] != label]["y"]
        c = two_proportions(int(inside.sum()), len(inside), int(rest.sum()), len(rest), alpha=level)
        rows.append((label, 100 * c.estimate, 100 * c.low, 100 * c.high))
    label, est, low, high = max(rows, key=lambda r: abs(r[1]))
    ruled_out = max(max(abs(r[2]), abs(r[3])) for r in rows)
    return GroupDifference(str(label), est, low, high, ruled_out, len(labels), len(frame))


def largest_difference_across(comparisons: dict[str, tuple], alpha: float = 0.05) -> GroupDifference:
    """For a claim of "no difference" that covers several breakdowns or questions ({name: (indicator, groups)}):
    :func:`largest_group_difference` for each at ``alpha`` / their number (Bonferroni over them too, so every
    interval holds at once), the largest difference found, and the largest difference any of them rules out.
    ``groups`` counts every group compared; ``group`` names the comparison ("region: Hovedstaden")."""
    if not comparisons:
        raise ValueError("need at least one comparison")
    found = {name: largest_group_difference(y, g, alpha / len(comparisons)) for name, (y, g) in comparisons.items()}
    name, d = max(found.items(), key=lambda item: abs(item[1].estimate))
    return replace(d, group=f"{name}: {d.group}" if len(found) > 1 else d.group,
                   ruled_out=max(x.ruled_out for x in found.values()), groups=sum(x.groups for x in found.values()),
                   scope=", ".join(found))


def category(shares: pd.DataFrame, name: str, what: str) -> pd.Series:
    """The row of ``category_shares`` for ``name``; a survey table without any such answer is named, not a KeyError."""
    from .errors import DataError

    rows = shares.set_index("category")
    if name not in rows.index:
        found = ", ".join(map(str, rows.index)) or "no answers at all"
        raise DataError(what, f"no answer is {name!r}, which this report needs (found: {found})",
                        hint="check the category's spelling in the survey table (data/synthetic/README.md)")
    return rows.loc[name]


def as_float(values) -> np.ndarray:
    """Answers as floats for the estimators: 0/1 (or counts) as numbers, a blank (item non-response) as NaN."""
    return pd.Series(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def answered(values) -> pd.Series:
    """The answers given: blanks (item non-response) left out."""
    return pd.Series(values).dropna()


def category_shares(values, weights=None) -> pd.DataFrame:
    """Share of each category (percent) among the answers given, with a 95% interval and its rank (1 = most frequent).

    Unweighted: Wilson intervals. Weighted: linearisation intervals (see weighted_proportion). ``answered`` is
    the number of answers behind every share (blanks are item non-response and are left out).
    """
    s = answered(values).astype(str)
    rows = []
    for category in sorted(s.unique()):
        hit = (s == category).astype(int)
        if weights is None:
            e = proportion(int(hit.sum()), len(hit))
        else:
            e = weighted_proportion(hit.to_numpy(), pd.Series(weights).loc[s.index].to_numpy())
        rows.append({"category": category, "n": int(hit.sum()), "answered": len(hit), "share": 100 * e.value,
                     "low": 100 * e.low, "high": 100 * e.high})
    out = pd.DataFrame(rows).sort_values("share", ascending=False, ignore_index=True)
    out["rank"] = out["share"].rank(ascending=False, method="min").astype(int)
    return out
