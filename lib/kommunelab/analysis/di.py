"""DI's 2013 estimate of municipal savings from exposing more tasks to competition, rebuilt as a calculator.

DI's March 2013 note is not available. Its neighbouring editions (FACTS.md, DI methods) describe the model:
for each main account (hovedkonto) the target competition rate (IKU) is the average of the ten municipalities
with the highest rate; every municipality is lifted to that target; a gross savings rate is applied to the extra
spending so exposed. Nationally: savings = spending that can be exposed x (target - IKU) x savings rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import data
from ..data.schema import load_table, read_validated
from ..data.tables import TABLES
from ..paths import project_root

# A user-supplied file with municipality-level data (e.g. from noegletal.dk), one row per municipality and main
# account: the spending on tasks that private suppliers may legally perform, and the share exposed (IKU).
MUNICIPAL_INPUT = TABLES["di_municipal_input"]


def published_inputs() -> dict[str, float]:
    return data.published_table("di_published_inputs").set_index("name")["value"].to_dict()


def implied_exposable_times_rate(savings: float, iku_from: float, iku_to: float) -> float:
    """Exposable spending x savings rate implied by a published total (savings / (target - IKU)): DI's own
    arithmetic turned around, a restatement, not a result."""
    return savings / ((iku_to - iku_from) / 100)


def exposable_from_exposed(exposed: float, iku: float) -> float:
    """The spending that can be exposed to competition, from the amount exposed and the IKU (percent)."""
    return exposed / (iku / 100)


def implied_savings_rate(exposable_times_rate: float, exposable: float) -> float:
    """The gross savings rate a published total implies, given an independently published spending base."""
    return exposable_times_rate / exposable


def national_savings(exposable_spending: float, iku_from: float, iku_to: float, savings_rate: float) -> float:
    return exposable_spending * max(0.0, iku_to - iku_from) / 100 * savings_rate


def sensitivity(exposable_spending: float, iku_from: float, targets, rates) -> pd.DataFrame:
    """Annual savings (DKK) over a grid of target IKU levels and savings rates."""
    rows = [{"target_iku": t, "savings_rate": r, "savings_dkk": national_savings(exposable_spending, iku_from, t, r)}
            for t in targets for r in rates]
    return pd.DataFrame(rows)


def population_share_benchmark(total: float, codes: list[int], year: int) -> pd.DataFrame:
    """Each municipality's population share of ``total``: what an equal-per-inhabitant split would give."""
    pop = data.population(year=year, level="municipality").set_index("area_code")["population"]
    munis = data.municipalities().set_index("municipality_code")["name_da"]
    share = pop / pop.sum()
    return pd.DataFrame({"municipality_code": codes, "name": [munis[c] for c in codes],
                         "population": [int(pop[c]) for c in codes], "population_share_pct": [100 * share[c] for c in codes],
                         "benchmark_dkk": [total * share[c] for c in codes]})


INPUT_HINT = "give a CSV with columns municipality_code, main_account, spending_dkk, iku_pct (README, DI calculator)"


def _input_path(path: str | Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


def load_municipal_input(path: str | Path) -> pd.DataFrame:
    return load_table(_input_path(path), MUNICIPAL_INPUT, origin="user", hint=INPUT_HINT)


def check_municipal_input(value: str) -> str:
    """The manifest's validator for ``municipal_input``: the file is read and validated before a kernel starts."""
    if value:
        read_validated(_input_path(value), MUNICIPAL_INPUT, hint=INPUT_HINT)
    return value


def municipal_potentials(frame: pd.DataFrame, savings_rate: float, top_n: int = 10) -> pd.DataFrame:
    """DI's model per municipality: lift each main account to the mean IKU of its ``top_n`` highest municipalities.

    Returns per municipality: exposable spending, current IKU, potential savings (DKK per year), and savings
    already realised relative to the national average IKU of each main account (DI's method for Gribskov's
    10.1 million is not published; this is the project's reading of it, said so in the report).
    """
    out = []
    for account, part in frame.groupby("main_account"):
        target = part["iku_pct"].nlargest(min(top_n, len(part))).mean()
        average = np.average(part["iku_pct"], weights=part["spending_dkk"])
        lift = np.clip(target - part["iku_pct"], 0, None) / 100
        above = np.clip(part["iku_pct"] - average, 0, None) / 100
        out.append(pd.DataFrame({"municipality_code": part["municipality_code"], "main_account": account,
                                 "spending_dkk": part["spending_dkk"],
                                 "exposed_dkk": part["spending_dkk"] * part["iku_pct"] / 100,
                                 "potential_dkk": part["spending_dkk"] * lift * savings_rate,
                                 "realised_dkk": part["spending_dkk"] * above * savings_rate}))
    detail = pd.concat(out, ignore_index=True)
    per = detail.groupby("municipality_code")[["spending_dkk", "exposed_dkk", "potential_dkk", "realised_dkk"]].sum()
    per["iku_pct"] = 100 * per["exposed_dkk"] / per["spending_dkk"]
    return per.reset_index()


def iku_figure(iku: pd.DataFrame, iku_2012: float, target_iku: float, locale: str):
    """The national IKU as published, DI's 2012 figure, and the target of the calculation; returns (figure, axes)."""
    import matplotlib.pyplot as plt

    from .. import plots

    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    ax.plot(iku["year"], iku["iku_all_municipalities_pct"], marker="o", color=plots.HIGHLIGHT,
            label="national IKU (published)")
    ax.scatter([2012], [iku_2012], color=plots.PALETTE[1], zorder=3, label="DI kommunefakta, 2012")
    ax.axhline(target_iku, color=plots.CONTEXT, ls="--", lw=1, label="target in this calculation")
    ax.set(xlabel="", ylabel="IKU, percent", title="Share of municipal tasks exposed to competition")
    ax.legend(loc="upper left", fontsize=9)
    plots.number_axis(ax, "y", locale)
    return fig, ax
