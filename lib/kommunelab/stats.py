"""Survey estimates with their uncertainty, each saying which method it used.

- ``proportion``: a simple-random-sample proportion with a Wilson interval (statsmodels).
- ``weighted_proportion`` / ``weighted_mean``: design-based estimates for stratified, weighted samples; the
  variance is the Taylor-linearised variance of a ratio estimator with strata, sampling with replacement within
  strata (the usual first-order approximation, as in R's survey package with ``svydesign(strata=, weights=)``).
- ``two_proportions``: difference of two independent proportions, Newcombe interval and a score test.
- ``ratio_of_proportions``: p1 / p2 with a log-scale interval (for claims like "three times as often").
- ``chi_square``: Pearson's test of independence on a contingency table (scipy).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def ci(self) -> tuple[float, float]:
        return (self.low, self.high)

    def percent(self) -> Estimate:
        return Estimate(100 * self.value, 100 * self.low, 100 * self.high, self.n, self.method)


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


def weighted_mean(y, weights=None, strata=None, alpha: float = 0.05) -> Estimate:
    """Design-based weighted mean with a linearisation (stratified, with-replacement) confidence interval."""
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
    var = 0.0
    for h in np.unique(groups):
        zh = z[groups == h]
        nh = len(zh)
        if nh < 2:
            raise ValueError("every stratum needs at least two observations for a variance estimate")
        var += nh / (nh - 1) * ((zh - zh.mean()) ** 2).sum()
    half = float(sps.norm.ppf(1 - alpha / 2)) * np.sqrt(var)
    method = "weighted, Taylor linearisation" + (" with strata" if strata is not None else "")
    return Estimate(mean, float(mean - half), float(mean + half), n, method)


def weighted_proportion(indicator, weights=None, strata=None, alpha: float = 0.05) -> Estimate:
    """Weighted share of a 0/1 indicator; interval clipped to [0, 1]."""
    values = np.asarray(indicator, dtype=float)
    ok = values[~np.isnan(values)]
    if not np.isin(ok, (0.0, 1.0)).all():
        raise ValueError("indicator must be 0/1")
    est = weighted_mean(values, weights, strata, alpha)
    return Estimate(est.value, max(0.0, est.low), min(1.0, est.high), est.n, est.method)


def _se(e: Estimate, alpha: float = 0.05) -> float:
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


def category_shares(values, weights=None) -> pd.DataFrame:
    """Share of each category (percent) with a 95% interval and its rank (1 = most frequent).

    Unweighted: Wilson intervals. Weighted: linearisation intervals (see weighted_proportion).
    """
    s = pd.Series(values).dropna().astype(str)
    rows = []
    for category in sorted(s.unique()):
        hit = (s == category).astype(int)
        if weights is None:
            e = proportion(int(hit.sum()), len(hit))
        else:
            e = weighted_proportion(hit.to_numpy(), pd.Series(weights).loc[s.index].to_numpy())
        rows.append({"category": category, "n": int(hit.sum()), "share": 100 * e.value, "low": 100 * e.low,
                     "high": 100 * e.high})
    out = pd.DataFrame(rows).sort_values("share", ascending=False, ignore_index=True)
    out["rank"] = out["share"].rank(ascending=False, method="min").astype(int)
    return out
