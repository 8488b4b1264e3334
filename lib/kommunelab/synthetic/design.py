"""Shared by the stand-in generators: the seed, targets read from the published findings, stratified sampling,
blank answers (item non-response) and the truth each generator records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import FindingError

SEED = 20151001
ITEM_NONRESPONSE = 0.03  # invented: share of answers left blank, at random, in every answer column


def stream(name: str) -> np.random.Generator:
    # One independent stream per table, so changing one generator leaves the others' files unchanged.
    return np.random.default_rng([SEED, sum(map(ord, name))])


def target(finding_id: str) -> float:
    """The value a published claim stands for: the midpoint of the interval its wording allows (findings.csv)."""
    from ..data.published import spec

    row = spec(finding_id)
    low, high = row["target_low"], row["target_high"]
    if low is None or high is None:
        raise FindingError(f"finding {finding_id!r} has no bounded target interval to generate from")
    return (low + high) / 2


def blank(rng: np.random.Generator, values: np.ndarray, share: float = ITEM_NONRESPONSE) -> pd.array:
    """0/1 answers as a nullable column with ``share`` of them left blank at random (item non-response)."""
    col = pd.array(values.astype(int), dtype="Int64")
    col[rng.random(len(values)) < share] = pd.NA
    return col


def blank_text(rng: np.random.Generator, values: np.ndarray, share: float = ITEM_NONRESPONSE) -> pd.Series:
    out = pd.Series(values, dtype=object)
    out[rng.random(len(values)) < share] = None
    return out


def rank_of(counts: pd.Series, label: str, ascending: bool = False) -> float:
    return float(counts.rank(ascending=ascending, method="min")[label])


def stratified_sample(rng: np.random.Generator, strata: np.ndarray, rates: dict[str, float], n: int) -> tuple:
    """Draw ``n`` units, stratum h in proportion to N_h x rates[h]; returns (indices, weights N_h / n_h)."""
    labels, sizes = np.unique(strata, return_counts=True)
    want = np.array([sizes[i] * rates[label] for i, label in enumerate(labels)])
    alloc = np.floor(want / want.sum() * n).astype(int)
    for i in np.argsort(-(want / want.sum() * n - alloc))[: n - alloc.sum()]:
        alloc[i] += 1
    picked, weights = [], []
    for label, size, k in zip(labels, sizes, alloc, strict=True):
        members = np.flatnonzero(strata == label)
        chosen = np.sort(rng.choice(members, size=k, replace=False))
        picked.append(chosen)
        weights.append(np.full(k, size / k))
    order = np.argsort(np.concatenate(picked))
    return np.concatenate(picked)[order], np.concatenate(weights)[order]


def adder(truth: list[dict], scope: str):
    """``add(finding_id, value, what, basis)`` records a truth. Its basis says what kind: "population" (the value in
    the generated population a sample is drawn from), "census" (the stand-in holds the whole population, so the
    finding is a count of it), "model" (a property the generator builds in, such as no dependence)."""
    def add(finding_id: str, value: float, what: str, basis: str = "population") -> None:
        truth.append({"finding_id": finding_id, "scope": scope, "truth": round(float(value), 10), "basis": basis,
                      "what": what})
    return add


